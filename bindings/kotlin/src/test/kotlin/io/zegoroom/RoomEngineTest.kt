package io.zegoroom

import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import java.lang.ref.WeakReference
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit

private typealias R = RoomStateChangedReason
private typealias S = RoomState

/** The UniFFI Kotlin bindings against a real zego-room-server (contract §1, §3). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RoomEngineTest {
    private lateinit var server: Server
    private val engines = ArrayList<RoomEngine>()

    @BeforeAll
    fun startServer() {
        server = Server()
    }

    @AfterAll
    fun stopServer() = server.close()

    @AfterEach
    fun destroyEngines() {
        engines.forEach { it.destroy(); it.close() }
        engines.clear()
    }

    private fun engine(url: String = server.url, handler: Recorder = Recorder()): Pair<RoomEngine, Recorder> {
        val e = RoomEngine(profile(url), handler)
        engines.add(e)
        return Pair(e, handler)
    }

    private fun user(id: String, name: String = "") = User(id, name)

    private fun jsonHasKey(json: String, key: String) = Regex("\"${Regex.escape(key)}\"\\s*:").containsMatchIn(json)

    private fun jsonString(json: String, key: String): String? =
        Regex("\"${Regex.escape(key)}\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").find(json)?.groupValues?.get(1)

    private fun assertCode(code: Int, block: () -> Unit) {
        val e = assertThrows<RoomException.Failed>(block)
        assertEquals(code, e.code, e.message)
        assertTrue(e.message.isNotEmpty())
    }

    // -----------------------------------------------------------------------------------------
    // Generated surface

    @Test
    fun enumDiscriminantsAreTheCValues() {
        assertEquals((0..8).toList(), R.values().map { it.value })
        assertEquals(
            listOf("LOGINING", "LOGINED", "LOGIN_FAILED", "RECONNECTING", "RECONNECTED", "RECONNECT_FAILED", "KICK_OUT", "LOGOUT", "LOGOUT_FAILED"),
            R.values().map { it.name },
        )
        assertEquals(listOf(0, 1, 2), listOf(S.DISCONNECTED, S.CONNECTING, S.CONNECTED).map { it.value })
        assertEquals(listOf(0, 1), listOf(UpdateType.ADD, UpdateType.DELETE).map { it.value })
        assertEquals(listOf(0, 1), listOf(RoomMode.SINGLE_ROOM, RoomMode.MULTI_ROOM).map { it.value })
        val c = RoomConfig(maxMemberCount = 3u, isUserStatusNotify = true, token = "t")
        assertEquals(3u, c.maxMemberCount)
        val p = EngineProfile(appId = 7u, server = "ws://x:1", roomMode = RoomMode.MULTI_ROOM)
        assertEquals(RoomMode.MULTI_ROOM, p.roomMode)
        assertEquals("n", User(userId = "u", userName = "n").userName)
    }

    // -----------------------------------------------------------------------------------------
    // Login, legacy state, presence, logout

    @Test
    fun loginReportsLoginedWithSessionIdLegacyConnectedAndCount() {
        val (e, h) = engine()
        val room = uniqueRoom()
        e.loginRoom(room, user("alice", "Alice"), null)
        val (i0, logining) = h.waitReason(R.LOGINING, room)
        assertEquals(0, logining.errorCode)
        val (i1, logined) = h.waitReason(R.LOGINED, room, start = i0 + 1)
        assertEquals(0, logined.errorCode)
        assertTrue(jsonHasKey(logined.extendedData, "room_session_id"), logined.extendedData)

        val evs = h.snapshot()
        assertEquals(Ev.Update(S.CONNECTING, 0, logining.extendedData, room), evs[i0 + 1])
        h.waitFor(i1 + 1) { it is Ev.Update }
        assertEquals(Ev.Update(S.CONNECTED, 0, logined.extendedData, room), h.snapshot()[i1 + 1])

        val (_, count) = h.waitFor(i1, 3_000) { it is Ev.Count && it.roomId == room }
        assertEquals(1, (count as Ev.Count).count)
        assertTrue(count.at - logined.at <= 1_200_000_000L, "count within 1 s of Logined")

        e.logoutRoom(room)
        val (i2, out) = h.waitReason(R.LOGOUT, room, start = i1)
        assertEquals(0, out.errorCode)
        val (_, upd) = h.waitFor(i2 + 1) { it is Ev.Update }
        assertEquals(S.DISCONNECTED, (upd as Ev.Update).state)
    }

    @Test
    fun eventsArriveInOrderOnOneLibraryThread() {
        val (e, h) = engine()
        val room = uniqueRoom()
        e.loginRoom(room, user("threads"), null)
        val (i, _) = h.waitReason(R.LOGINED, room)
        e.logoutRoom(null)
        val (j, _) = h.waitReason(R.LOGOUT, room, start = i)
        h.waitFor(j) { it is Ev.Update && it.state == S.DISCONNECTED }
        val evs = h.snapshot()
        val threads = evs.map { it.thread }.toSet()
        assertEquals(1, threads.size, "$threads")
        assertNotEquals(nativeThreadId(), threads.first())
        assertEquals(listOf(R.LOGINING, R.LOGINED, R.LOGOUT), evs.filterIsInstance<Ev.Changed>().map { it.reason })
        assertEquals(listOf(S.CONNECTING, S.CONNECTED, S.DISCONNECTED), evs.filterIsInstance<Ev.Update>().map { it.state })
    }

    @Test
    fun userUpdatesAddAndDeleteBetweenTwoEngines() {
        val room = uniqueRoom()
        val (a, ha) = engine()
        val (b, hb) = engine()
        a.loginRoom(room, user("ua", "User A"), notifyConfig())
        val (ia, _) = ha.waitReason(R.LOGINED, room)
        b.loginRoom(room, user("ub", "User B"), notifyConfig())
        val (ib, _) = hb.waitReason(R.LOGINED, room)

        val addForB = hb.waitFor(ib) { it is Ev.Users }.second as Ev.Users
        assertEquals(Ev.Users(UpdateType.ADD, listOf(User("ua", "User A")), room), addForB)
        val addForA = ha.waitFor(ia) { it is Ev.Users }.second as Ev.Users
        assertEquals(Ev.Users(UpdateType.ADD, listOf(User("ub", "User B")), room), addForA)

        val start = ha.snapshot().size
        b.logoutRoom(room)
        val del = ha.waitFor(start) { it is Ev.Users }.second as Ev.Users
        assertEquals(UpdateType.DELETE, del.updateType)
        assertEquals(listOf("ub"), del.userList.map { it.userId })
        assertTrue(ha.snapshot().filterIsInstance<Ev.Users>().flatMap { it.userList }.none { it.userId == "ua" })
    }

    @Test
    fun logoutOfARoomNotJoinedReturnsNormallyAndReportsLogoutFailed() {
        val (e, h) = engine()
        e.logoutRoom("never-joined")
        val (_, ev) = h.waitReason(R.LOGOUT_FAILED, "never-joined")
        assertEquals(1002002, ev.errorCode)
    }

    // -----------------------------------------------------------------------------------------
    // Faults

    @Test
    fun reconnectsAfterAProxyCut() {
        Proxy(server.addr).use { proxy ->
            val (e, h) = engine(proxy.url)
            val room = uniqueRoom()
            e.loginRoom(room, user("reco"), null)
            val (i, _) = h.waitReason(R.LOGINED, room)
            proxy.cmd("close") // FIN on every connection; refuse new ones until restore
            val t0 = System.nanoTime()
            val (j, rec) = h.waitReason(R.RECONNECTING, room, start = i + 1, timeoutMs = 5_000)
            proxy.cmd("restore")
            assertEquals(1002051, rec.errorCode)
            assertTrue(rec.at - t0 <= 1_500_000_000L, "a closed connection is reported within 1 s")
            val upd = h.waitFor(j + 1) { it is Ev.Update }.second as Ev.Update
            assertEquals(Ev.Update(S.CONNECTING, 1002051, rec.extendedData, room), upd)
            val (k, back) = h.waitReason(R.RECONNECTED, room, start = j + 1)
            assertEquals(0, back.errorCode)
            assertTrue(jsonHasKey(back.extendedData, "room_session_id"), back.extendedData)
            val upd2 = h.waitFor(k + 1) { it is Ev.Update }.second as Ev.Update
            assertEquals(S.CONNECTED, upd2.state)
            assertEquals(
                listOf(R.LOGINING, R.LOGINED, R.RECONNECTING, R.RECONNECTED),
                h.snapshot().filterIsInstance<Ev.Changed>().map { it.reason },
            )
        }
    }

    @Test
    fun adminKickReportsKickOutWithCustomMessage() {
        val (e, h) = engine()
        val room = uniqueRoom()
        e.loginRoom(room, user("kickme"), null)
        val (i, _) = h.waitReason(R.LOGINED, room)
        val answer = server.admin("KickoutUser", "RoomId" to room, "UserId[]" to "kickme", "CustomReason" to "bye now")
        assertTrue(Regex("\"Code\"\\s*:\\s*0[,}]").containsMatchIn(answer), answer)
        val (j, kick) = h.waitReason(R.KICK_OUT, room, start = i + 1)
        assertEquals(1002055, kick.errorCode)
        assertEquals("bye now", jsonString(kick.extendedData, "custom_kickout_message"), kick.extendedData)
        val upd = h.waitFor(j + 1) { it is Ev.Update }.second as Ev.Update
        assertEquals(Ev.Update(S.DISCONNECTED, 1002055, kick.extendedData, room), upd)
        e.loginRoom(uniqueRoom(), user("kickme"), null) // no longer joined: allowed
    }

    // -----------------------------------------------------------------------------------------
    // Synchronous errors

    @Test
    fun badInputThrowsRoomExceptionWithZegoCodes() {
        val (e, h) = engine()
        val u = user("valid")
        assertCode(1002011) { e.loginRoom("", u, null) }
        assertCode(1002012) { e.loginRoom("bad room|id", u, null) }
        assertCode(1002013) { e.loginRoom("r".repeat(128), u, null) }
        assertCode(1002005) { e.loginRoom("room", user(""), null) }
        assertCode(1002006) { e.loginRoom("room", user("bad user"), null) }
        assertCode(1002007) { e.loginRoom("room", user("u".repeat(64)), null) }
        assertCode(1002010) { e.loginRoom("room", user("ok", "n".repeat(256)), null) }
        assertCode(1000017) { e.setEngineConfig("room_retry_time=soon") }
        assertCode(1002002) { e.renewToken("not-joined", "token") }
        Thread.sleep(200)
        assertEquals(emptyList<Ev>(), h.snapshot(), "refused calls emit no event")

        val room = uniqueRoom()
        e.loginRoom(room, u, null)
        h.waitReason(R.LOGINED, room)
        e.renewToken(room, "new-token")
        assertCode(1002001) { e.loginRoom(uniqueRoom("second"), u, null) }
        Thread.sleep(200)
        assertTrue(h.snapshot().all { it.roomId == room }, "a refused second login emits no event")
        e.setEngineConfig("room_retry_time=30;unknown_key=1")
    }

    @Test
    fun badServerUrlThrowsIllegalParam() {
        for (url in listOf("", "not a url", "http://127.0.0.1:1", "ws://")) {
            val ex = assertThrows<RoomException.Failed>(url) { RoomEngine(profile(url), Recorder()) }
            assertEquals(1000017, ex.code, url)
        }
    }

    @Test
    fun everyCallAfterDestroyThrowsEngineNotCreatedAndTheHandlerIsReleased() {
        class Holder : Recorder() {
            var engine: RoomEngine? = null // the handler holds its engine: only destroy() breaks the cycle
        }
        var h: Holder? = Holder()
        val e = RoomEngine(profile(server.url), h!!)
        h.engine = e
        val room = uniqueRoom()
        e.loginRoom(room, user("gone"), null)
        h.waitReason(R.LOGINED, room)
        e.destroy()
        e.destroy() // twice: harmless
        val n = h.snapshot().size
        assertCode(1000001) { e.setEngineConfig("room_retry_time=5") }
        assertCode(1000001) { e.loginRoom(room, user("gone"), null) }
        assertCode(1000001) { e.logoutRoom(null) }
        assertCode(1000001) { e.logoutRoom(room) }
        assertCode(1000001) { e.switchRoom(room, "other", null) }
        assertCode(1000001) { e.renewToken(room, "t") }
        Thread.sleep(300)
        assertEquals(n, h.snapshot().size, "no callback after destroy returned")

        val ref = WeakReference(h)
        h = null
        for (k in 0 until 50) {
            if (ref.get() == null) break
            System.gc()
            Thread.sleep(20)
        }
        assertNull(ref.get(), "destroy() released the handler")
        e.close()
        e.close() // AutoCloseable: idempotent
    }

    // -----------------------------------------------------------------------------------------
    // Host exceptions and re-entrancy

    @Test
    fun aThrowingHandlerDoesNotStopLaterEvents() {
        val thrower = object : Recorder() {
            override fun onRoomStateChanged(reason: RoomStateChangedReason, errorCode: Int, extendedData: String, roomId: String) {
                super.onRoomStateChanged(reason, errorCode, extendedData, roomId)
                throw IllegalStateException("host bug on $reason")
            }

            override fun onRoomStateUpdate(state: RoomState, errorCode: Int, extendedData: String, roomId: String) {
                super.onRoomStateUpdate(state, errorCode, extendedData, roomId)
                throw RuntimeException("legacy handler bug")
            }
        }
        val (e, h) = engine(handler = thrower)
        val room = uniqueRoom()
        e.loginRoom(room, user("thrower"), null)
        val (i, _) = h.waitReason(R.LOGINED, room)
        h.waitFor(i) { it is Ev.Count }
        e.logoutRoom(room)
        val (j, _) = h.waitReason(R.LOGOUT, room, start = i)
        h.waitFor(j) { it is Ev.Update && it.state == S.DISCONNECTED }
        val seq = h.snapshot().mapNotNull {
            when (it) {
                is Ev.Changed -> it.reason.name
                is Ev.Update -> it.state.name
                else -> null
            }
        }
        assertEquals(listOf("LOGINING", "CONNECTING", "LOGINED", "CONNECTED", "LOGOUT", "DISCONNECTED"), seq)
        e.loginRoom(uniqueRoom(), user("thrower"), null) // still works
    }

    @Test
    fun handlerMayCallBackIntoTheEngineAndDestroyIt() {
        val done = CountDownLatch(1)
        val h = object : Recorder() {
            var engine: RoomEngine? = null

            override fun onRoomStateChanged(reason: RoomStateChangedReason, errorCode: Int, extendedData: String, roomId: String) {
                super.onRoomStateChanged(reason, errorCode, extendedData, roomId)
                when (reason) {
                    R.LOGINED -> engine!!.logoutRoom(roomId) // no deadlock
                    R.LOGOUT -> {
                        engine!!.destroy() // takes effect when this callback returns
                        done.countDown()
                    }
                    else -> {}
                }
            }
        }
        val (e, _) = engine(handler = h)
        h.engine = e
        e.loginRoom(uniqueRoom(), user("reentrant"), null)
        assertTrue(done.await(10, TimeUnit.SECONDS))
        assertCode(1000001) { e.logoutRoom(null) }
        h.engine = null
    }

    @Test
    fun adapterMethodsAreEmptyDefaults() {
        // Only one method overridden: the rest come from the open adapter.
        val latch = CountDownLatch(1)
        val only = object : RoomEventHandlerAdapter() {
            override fun onRoomOnlineUserCountUpdate(count: Int, roomId: String) {
                if (count == 1) latch.countDown()
            }
        }
        val e2 = RoomEngine(profile(server.url), only)
        engines.add(e2)
        e2.loginRoom(uniqueRoom(), user("adapter"), null)
        assertTrue(latch.await(5, TimeUnit.SECONDS))
    }
}
