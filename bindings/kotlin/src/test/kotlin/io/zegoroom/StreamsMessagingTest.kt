package io.zegoroom

import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

/**
 * Streams (contract §6) and messaging (§7) through the Kotlin bindings. The first group needs only
 * the facade (generated surface, adapter defaults, synchronous codes); the behaviour group needs
 * the server side of streams and messaging.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamsMessagingTest {
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

    private fun engine(mode: RoomMode = RoomMode.SINGLE_ROOM, handler: Recorder = Recorder()): Pair<RoomEngine, Recorder> {
        val e = RoomEngine(profile(server.url, mode), handler)
        engines.add(e)
        return Pair(e, handler)
    }

    private fun joined(room: String, userId: String, name: String = "", mode: RoomMode = RoomMode.SINGLE_ROOM): Pair<RoomEngine, Recorder> {
        val (e, h) = engine(mode)
        e.loginRoom(room, User(userId, name), notifyConfig())
        h.waitReason(RoomStateChangedReason.LOGINED, room)
        return Pair(e, h)
    }

    private fun code(block: () -> Unit): Int {
        val e = assertThrows<RoomException.Failed>(block)
        assertTrue(e.message.isNotEmpty())
        return e.code
    }

    private fun nowMs() = System.currentTimeMillis().toULong()

    private fun assertServerTime(t: ULong) {
        val now = nowMs()
        assertTrue(t + 60_000u >= now && t <= now + 5_000u, "server time in ms since the epoch: $t (now $now)")
    }

    // -----------------------------------------------------------------------------------------
    // Generated surface and adapter (facade only)

    @Test
    fun enumsHaveTheCDiscriminantsAndRecordsTheContractFields() {
        assertEquals(listOf(0, 1, 2), PublisherState.values().map { it.value })
        assertEquals(listOf("NO_PUBLISH", "PUBLISH_REQUESTING", "PUBLISHING"), PublisherState.values().map { it.name })
        assertEquals(listOf(0, 1, 2), PlayerState.values().map { it.value })
        assertEquals(listOf("MAIN", "AUX", "THIRD", "FOURTH"), PublishChannel.values().map { it.name })
        assertEquals(listOf(0, 1, 2, 3), PublishChannel.values().map { it.value })
        assertEquals(listOf(0, 1), RoomStreamListType.values().map { it.value })
        val u = User("u", "n")
        assertEquals("s1", Stream(user = u, streamId = "s1", extraInfo = "").streamId)
        assertEquals("r", PublisherConfig(roomId = "r").roomId)
        assertEquals("r", PlayerConfig(roomId = "r").roomId)
        val b = BroadcastMessageInfo(message = "m", messageId = ULong.MAX_VALUE, sendTime = 1u, fromUser = u)
        assertEquals(ULong.MAX_VALUE, b.messageId)
        assertEquals("id", BarrageMessageInfo(message = "m", messageId = "id", sendTime = 1u, fromUser = u).messageId)
        assertEquals(u, RoomExtraInfo(key = "k", value = "v", updateUser = u, updateTime = 2u).updateUser)
    }

    @Test
    fun adapterHasANoOpForEveryHandlerMethod() {
        val a = object : RoomEventHandlerAdapter() {}
        val handlerMethods = RoomEventHandler::class.java.methods.map { it.name }.toSet()
        assertEquals(5 + 6 + 8, handlerMethods.size, "$handlerMethods")
        for (m in RoomEventHandler::class.java.methods) {
            val own = RoomEventHandlerAdapter::class.java.getDeclaredMethod(m.name, *m.parameterTypes)
            assertEquals(RoomEventHandlerAdapter::class.java, own.declaringClass, m.name)
        }
        // Calling them does nothing (and throws nothing).
        val u = User("u", "u")
        a.onRoomStreamUpdate(UpdateType.ADD, listOf(Stream(u, "s", "")), "{}", "r")
        a.onPlayerRecvSei(byteArrayOf(0, 1), "s")
        a.onImRecvBroadcastMessage(listOf(BroadcastMessageInfo("m", 1u, 2u, u)), "r")
        a.onRoomExtraInfoUpdate(emptyList(), "r")
    }

    // -----------------------------------------------------------------------------------------
    // Synchronous codes (facade only)

    @Test
    fun streamAndMessageCallsThrowTheirCodesWhenRefused() {
        val (e, h) = engine()
        assertEquals(1000015, code { e.startPublishingStream("", null, PublishChannel.MAIN) })
        assertEquals(1000014, code { e.startPublishingStream("s".repeat(256), null, PublishChannel.MAIN) })
        assertEquals(1000016, code { e.startPublishingStream("a.b", null, PublishChannel.MAIN) })
        assertEquals(1000002, code { e.startPublishingStream("s".repeat(255), null, PublishChannel.FOURTH) })
        assertEquals(1000002, code { e.startPlayingStream("s1", PlayerConfig("r")) })
        assertEquals(1000016, code { e.stopPlayingStream("a b") })
        assertEquals(1000017, code { e.setStreamExtraInfo("x".repeat(1025), PublishChannel.MAIN) })
        assertEquals(1000017, code { e.sendSei(ByteArray(0), PublishChannel.MAIN) })
        assertEquals(1000017, code { e.sendSei(ByteArray(4097), PublishChannel.MAIN) })
        assertEquals(1003001, code { e.sendSei(ByteArray(4096), PublishChannel.MAIN) })
        assertEquals(1000002, code { e.getRoomStreamList("", RoomStreamListType.ALL) })
        assertEquals(1009001, code { e.sendBroadcastMessage("r", "") })
        assertEquals(1009002, code { e.sendBarrageMessage("r", "m".repeat(1025)) })
        assertEquals(1009005, code { e.sendBroadcastMessage("r", "hello") })
        assertEquals(1009011, code { e.sendCustomCommand("r", "c", listOf(User("", ""))) })
        assertEquals(1009012, code { e.sendCustomCommand("r", "c", listOf(User("u".repeat(64), ""))) })
        assertEquals(1000017, code { e.sendCustomCommand("r", "c", (0 until 6).map { User("u$it", "") }) })
        assertEquals(1009005, code { e.sendCustomCommand("r", "c", emptyList()) })
        assertEquals(1002014, code { e.setRoomExtraInfo("r", "", "v") })
        assertEquals(1002015, code { e.setRoomExtraInfo("r", "k".repeat(11), "v") })
        assertEquals(1002016, code { e.setRoomExtraInfo("r", "k", "v".repeat(129)) })
        assertEquals(1002002, code { e.setRoomExtraInfo("r", "k", "v") })
        Thread.sleep(200)
        assertEquals(emptyList<Ev>(), h.snapshot(), "refused calls emit no event")
        e.stopPublishingStream(PublishChannel.AUX)
        e.stopPlayingStream("never-played")
        // Extra info before publishing: the seq, then its result with that seq.
        val seq = e.setStreamExtraInfo("", PublishChannel.THIRD)
        assertTrue(seq > 0)
        assertEquals(0, h.waitOf<Ev.StreamExtraInfoResult> { it.seq == seq }.second.errorCode)
    }

    @Test
    fun synchronousStreamRulesInAJoinedRoom() {
        val room = uniqueRoom("sync")
        val (e, h) = joined(room, "kt-sync")
        val sid = "s-$room"
        e.startPublishingStream(sid, null, PublishChannel.MAIN)
        h.waitOf<Ev.PublisherStateEv> { it.streamId == sid && it.state == PublisherState.PUBLISH_REQUESTING }
        e.startPublishingStream(sid, null, PublishChannel.MAIN) // the same again: no-op
        assertEquals(1003023, code { e.startPublishingStream("$sid-2", null, PublishChannel.MAIN) })
        for (i in 0 until 12) e.startPlayingStream("p$i-$room", null)
        assertEquals(1004010, code { e.startPlayingStream("p12-$room", null) })
        assertEquals(emptyList<Stream>(), e.getRoomStreamList(room, RoomStreamListType.PLAY))
        e.stopPublishingStream(PublishChannel.MAIN)
        h.waitOf<Ev.PublisherStateEv> { it.streamId == sid && it.state == PublisherState.NO_PUBLISH && it.errorCode == 0 }

        val (multi, _) = joined(uniqueRoom("multi"), "kt-multi", mode = RoomMode.MULTI_ROOM)
        assertEquals(1003071, code { multi.startPublishingStream("m1", null, PublishChannel.MAIN) })
        assertEquals(1004071, code { multi.startPlayingStream("m1", PlayerConfig("")) })
    }

    @Test
    fun everyStreamAndMessageCallAfterDestroyThrows1000001() {
        val (e, _) = engine()
        e.destroy()
        val calls: List<() -> Unit> = listOf(
            { e.startPublishingStream("s", null, PublishChannel.MAIN) },
            { e.stopPublishingStream(PublishChannel.MAIN) },
            { e.setStreamExtraInfo("x", PublishChannel.MAIN) },
            { e.startPlayingStream("s", null) },
            { e.stopPlayingStream("s") },
            { e.sendSei(byteArrayOf(1), PublishChannel.MAIN) },
            { e.getRoomStreamList("", RoomStreamListType.ALL) },
            { e.sendBroadcastMessage("r", "m") },
            { e.sendBarrageMessage("r", "m") },
            { e.sendCustomCommand("r", "c", emptyList()) },
            { e.setRoomExtraInfo("r", "k", "v") },
        )
        calls.forEach { assertEquals(1000001, code(it)) }
    }

    // -----------------------------------------------------------------------------------------
    // Behaviour (needs the server side of streams and messaging)

    @Test
    fun publishPlayListsSeiAndExtraInfoBetweenEngines() {
        val room = uniqueRoom("streams")
        val (a, ha) = joined(room, "kt-pub", "Publisher")
        val (b, hb) = joined(room, "kt-player", "Player")
        val sid = "s-$room"
        val pubUser = User("kt-pub", "Publisher")
        val startB = hb.snapshot().size

        a.startPublishingStream(sid, PublisherConfig(room), PublishChannel.MAIN)
        val (i, req) = ha.waitOf<Ev.PublisherStateEv> { it.streamId == sid }
        assertEquals(Pair(PublisherState.PUBLISH_REQUESTING, 0), Pair(req.state, req.errorCode))
        val pub = ha.waitOf<Ev.PublisherStateEv>(i + 1) { it.streamId == sid }.second
        assertEquals(Pair(PublisherState.PUBLISHING, 0), Pair(pub.state, pub.errorCode))
        val add = hb.waitOf<Ev.StreamUpdate>(startB).second
        assertEquals(Ev.StreamUpdate(UpdateType.ADD, listOf(Stream(pubUser, sid, "")), "{}", room), add)
        assertEquals(emptyList<Ev.StreamUpdate>(), ha.all<Ev.StreamUpdate>(), "never the local user's own streams")

        b.startPlayingStream(sid, null)
        hb.waitOf<Ev.PlayerStateEv> { it.streamId == sid && it.state == PlayerState.PLAYING && it.errorCode == 0 }

        val frames = listOf(byteArrayOf(0), byteArrayOf(0, -1, 0), ByteArray(256) { it.toByte() }, ByteArray(4096) { (it * 7).toByte() })
        val k = hb.snapshot().size
        frames.forEach { a.sendSei(it, PublishChannel.MAIN) }
        hb.waitOf<Ev.Sei>(k) { it.data.contentEquals(frames.last()) }
        Thread.sleep(300)
        val got = hb.all<Ev.Sei>(k)
        assertEquals(frames.size, got.size, "each frame once")
        frames.zip(got).forEach { (f, g) -> assertArrayEquals(f, g.data); assertEquals(sid, g.streamId) }

        val theirs = Stream(pubUser, sid, "")
        assertEquals(listOf(theirs), b.getRoomStreamList(room, RoomStreamListType.PLAY))
        assertEquals(emptyList<Stream>(), a.getRoomStreamList(room, RoomStreamListType.PLAY))
        assertEquals(listOf(theirs), a.getRoomStreamList("", RoomStreamListType.ALL))

        val k2 = hb.snapshot().size
        val seq = a.setStreamExtraInfo("url=rtmp://example/1", PublishChannel.MAIN)
        assertEquals(0, ha.waitOf<Ev.StreamExtraInfoResult> { it.seq == seq }.second.errorCode)
        val upd = hb.waitOf<Ev.StreamExtraInfo>(k2).second
        assertEquals(listOf(Stream(pubUser, sid, "url=rtmp://example/1")), upd.streamList)

        val k3 = hb.snapshot().size
        a.stopPublishingStream(PublishChannel.MAIN)
        ha.waitOf<Ev.PublisherStateEv> { it.state == PublisherState.NO_PUBLISH && it.errorCode == 0 }
        val del = hb.waitOf<Ev.StreamUpdate>(k3).second
        assertEquals(UpdateType.DELETE, del.updateType)
        assertTrue(Regex("\"code\"\\s*:\\s*1\\b").containsMatchIn(del.extendedData) && del.extendedData.contains(sid), del.extendedData)
        hb.waitOf<Ev.PlayerStateEv>(k3) { it.state == PlayerState.PLAY_REQUESTING && it.errorCode == 1004020 }
        b.stopPlayingStream(sid)
        hb.waitOf<Ev.PlayerStateEv>(k3) { it.state == PlayerState.NO_PLAY && it.errorCode == 0 }
    }

    @Test
    fun messagesCommandsResultsLimitsAndRoomExtraInfo() {
        val room = uniqueRoom("im")
        val (a, ha) = joined(room, "kt-a", "A")
        val (b, hb) = joined(room, "kt-b", "B")
        val (c, hc) = joined(room, "kt-c", "C")

        val s1 = a.sendBroadcastMessage(room, "hello")
        val s2 = a.sendBroadcastMessage(room, "second")
        val r1 = ha.waitOf<Ev.BroadcastResult> { it.seq == s1 }.second
        val r2 = ha.waitOf<Ev.BroadcastResult> { it.seq == s2 }.second
        assertEquals(listOf(0, 0), listOf(r1.errorCode, r2.errorCode))
        assertTrue(r2.messageId > r1.messageId)
        for (h in listOf(hb, hc)) {
            h.waitOf<Ev.RecvBroadcast> { it.messageList.last().messageId == r2.messageId }
            val got = h.all<Ev.RecvBroadcast>().flatMap { it.messageList }
            assertEquals(listOf("hello", "second"), got.map { it.message })
            assertEquals(listOf(r1.messageId, r2.messageId), got.map { it.messageId })
            got.forEach { assertEquals(User("kt-a", "A"), it.fromUser); assertServerTime(it.sendTime) }
        }

        val s3 = a.sendBarrageMessage(room, "flying")
        val r3 = ha.waitOf<Ev.BarrageResult> { it.seq == s3 }.second
        assertEquals(0, r3.errorCode)
        assertTrue(r3.messageId.isNotEmpty())
        val barrage = hb.waitOf<Ev.RecvBarrage>().second.messageList.single()
        assertEquals(Triple("flying", r3.messageId, "kt-a"), Triple(barrage.message, barrage.messageId, barrage.fromUser.userId))

        val s4 = a.sendCustomCommand(room, "to b", listOf(User("kt-b", "")))
        assertEquals(0, ha.waitOf<Ev.CommandResult> { it.seq == s4 }.second.errorCode)
        assertEquals(Ev.RecvCommand("to b", User("kt-a", "A"), room), hb.waitOf<Ev.RecvCommand> { it.command == "to b" }.second)
        val s5 = b.sendCustomCommand(room, "to all", emptyList())
        assertEquals(0, hb.waitOf<Ev.CommandResult> { it.seq == s5 }.second.errorCode)
        ha.waitOf<Ev.RecvCommand> { it.command == "to all" }
        hc.waitOf<Ev.RecvCommand> { it.command == "to all" }
        Thread.sleep(300)
        assertTrue(hc.all<Ev.RecvCommand>().none { it.command == "to b" })
        assertTrue(ha.all<Ev.RecvBroadcast>().isEmpty() && ha.all<Ev.RecvBarrage>().isEmpty(), "the sender never receives its own")

        val s6 = a.setRoomExtraInfo(room, "topic", "music")
        assertEquals(Ev.RoomExtraInfoResult(0, room, "topic", s6), ha.waitOf<Ev.RoomExtraInfoResult> { it.seq == s6 }.second)
        val info = hb.waitOf<Ev.RoomExtraInfoUpdate>().second.infoList.single()
        assertEquals(Triple("topic", "music", "kt-a"), Triple(info.key, info.value, info.updateUser.userId))
        assertServerTime(info.updateTime)
        assertEquals(1002017, code { b.setRoomExtraInfo(room, "mood", "calm") })
        assertTrue(ha.all<Ev.RoomExtraInfoUpdate>().isEmpty(), "the setter gets no update")

        val (_, hd) = joined(room, "kt-d")
        val late = hd.waitOf<Ev.RoomExtraInfoUpdate>().second.infoList.single()
        assertEquals(Pair("topic", "music"), Pair(late.key, late.value))

        Thread.sleep(1100)
        val k = hb.snapshot().size
        val seqs = (0 until 6).map { c.sendBroadcastMessage(room, "burst $it") }
        val codes = seqs.map { s -> hc.waitOf<Ev.BroadcastResult> { it.seq == s }.second.errorCode }
        assertTrue(codes.all { it == 0 || it == 1009015 } && codes.count { it == 0 } in 2..4, "$codes")
        val sent = codes.indices.filter { codes[it] == 0 }.map { "burst $it" }
        hb.waitOf<Ev.RecvBroadcast>(k) { it.messageList.last().message == sent.last() }
        Thread.sleep(300)
        assertEquals(sent, hb.all<Ev.RecvBroadcast>(k).flatMap { it.messageList }.map { it.message })
    }
}
