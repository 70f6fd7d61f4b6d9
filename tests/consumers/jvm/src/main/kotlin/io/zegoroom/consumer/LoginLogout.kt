package io.zegoroom.consumer

import io.zegoroom.EngineProfile
import io.zegoroom.RoomConfig
import io.zegoroom.RoomEngine
import io.zegoroom.RoomEventHandlerAdapter
import io.zegoroom.RoomException
import io.zegoroom.RoomMode
import io.zegoroom.RoomStateChangedReason
import io.zegoroom.User
import java.util.UUID
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/** One state change as the handler saw it. */
data class Change(val reason: RoomStateChangedReason, val errorCode: Int, val extendedData: String, val roomId: String)

fun ok(msg: String) = println("  ok: $msg")

/**
 * A newcomer's program against the installed jar: an adapter overriding one method, login,
 * logout, destroy. Usage: LoginLogoutKt ws://127.0.0.1:PORT APP_ID. Exits non-zero on failure.
 */
fun main(args: Array<String>) {
    val url = args[0]
    val appId = args[1].toUInt()
    val changes = LinkedBlockingQueue<Change>()

    // Only onRoomStateChanged: the legacy state, user list and count events the engine also
    // delivers go to the adapter's no-op defaults.
    val handler = object : RoomEventHandlerAdapter() {
        override fun onRoomStateChanged(reason: RoomStateChangedReason, errorCode: Int, extendedData: String, roomId: String) {
            println("  event: $roomId: $reason (error $errorCode) $extendedData")
            changes.put(Change(reason, errorCode, extendedData, roomId))
        }
    }

    fun await(vararg wanted: RoomStateChangedReason): Change {
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10)
        while (true) {
            val left = deadline - System.nanoTime()
            check(left > 0) { "no ${wanted.joinToString()} within 10 s" }
            val c = changes.poll(left, TimeUnit.NANOSECONDS) ?: continue
            if (c.reason in wanted) return c
        }
    }

    val room = "jvm-consumer-" + UUID.randomUUID().toString().take(8)
    val engine = RoomEngine(EngineProfile(appId, url, RoomMode.SINGLE_ROOM), handler)
    try {
        engine.loginRoom(room, User("kotlin-user", "Kotlin"), RoomConfig(0u, true, ""))
        val logined = await(RoomStateChangedReason.LOGINED, RoomStateChangedReason.LOGIN_FAILED)
        check(logined.reason == RoomStateChangedReason.LOGINED && logined.errorCode == 0) { "login ended as $logined" }
        check(logined.extendedData.contains("\"room_session_id\"")) { "no room_session_id in ${logined.extendedData}" }
        println("Logined room=$room extended_data=${logined.extendedData}")
        ok("Logining -> Logined with a room_session_id")

        engine.logoutRoom(room)
        val logout = await(RoomStateChangedReason.LOGOUT)
        check(logout.errorCode == 0 && logout.roomId == room) { "logout ended as $logout" }
        println("Logout room=$room")
        ok("Logout (0)")

        try {
            engine.renewToken("no-such-room", "token")
            error("renewToken of a room not joined did not throw")
        } catch (e: RoomException.Failed) {
            check(e.code == 1002002) { "renewToken threw ${e.code}" }
        }
        ok("RoomException.Failed carries the ZEGO code (1002002 for renewToken of a room not joined)")
    } finally {
        engine.destroy()
    }
    try {
        engine.logoutRoom(null)
        error("logoutRoom after destroy() did not throw")
    } catch (e: RoomException.Failed) {
        check(e.code == 1000001) { "after destroy(): ${e.code}" }
    }
    engine.close()
    ok("after destroy(): RoomException.Failed 1000001; close() frees the native object")
}
