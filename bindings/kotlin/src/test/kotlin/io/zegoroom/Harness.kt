package io.zegoroom

import com.sun.jna.Library
import com.sun.jna.Native
import java.io.BufferedReader
import java.io.File
import java.io.InputStreamReader
import java.io.OutputStreamWriter
import java.net.InetSocketAddress
import java.net.ServerSocket
import java.net.Socket
import java.net.URI
import java.net.URLEncoder
import java.security.MessageDigest
import java.util.UUID
import java.util.concurrent.TimeUnit
import java.util.concurrent.locks.ReentrantLock
import kotlin.concurrent.withLock

const val APP_ID = 1234567

val profileDir: File = File(System.getProperty("zego.profileDir") ?: "../../target/release").absoluteFile

fun uniqueRoom(prefix: String = "room") = "$prefix-${UUID.randomUUID().toString().replace("-", "").take(10)}"

fun freePort(): Int = ServerSocket(0, 0, java.net.InetAddress.getLoopbackAddress()).use { it.localPort }

/** glibc's gettid(): JNA may attach a native thread anew for each callback, so the Java Thread
 *  object is no proof of "one thread"; the kernel thread id is. */
private interface CLib : Library {
    fun gettid(): Int
}

private val clib: CLib by lazy { Native.load("c", CLib::class.java) }

fun nativeThreadId(): Int = clib.gettid()

private fun waitPort(port: Int, proc: Process) {
    val deadline = System.nanoTime() + 10_000_000_000L
    while (System.nanoTime() < deadline) {
        check(proc.isAlive) { "process exited early: ${proc.exitValue()}" }
        try {
            Socket().use { it.connect(InetSocketAddress("127.0.0.1", port), 200) }
            return
        } catch (_: java.io.IOException) {
            Thread.sleep(50)
        }
    }
    error("port $port never opened")
}

/** A real zego-room-server on loopback, without a server secret (no authentication). */
class Server : AutoCloseable {
    val port = freePort()
    val adminPort = freePort()
    val addr = "127.0.0.1:$port"
    val url = "ws://$addr"
    private val proc: Process

    init {
        val exe = File(profileDir, "zego-room-server")
        check(exe.exists()) { "$exe missing: build with --features server,cli" }
        proc = ProcessBuilder(
            exe.path, "--listen", addr, "--admin-listen", "127.0.0.1:$adminPort", "--app-id", "$APP_ID",
            "--heartbeat-timeout", "3", "--ping-interval", "1",
        ).redirectErrorStream(true).redirectOutput(File("target/zego-room-server.log")).start()
        waitPort(port, proc)
        waitPort(adminPort, proc)
    }

    /** Admin API call; without a secret the signature is md5(AppId + nonce + "" + timestamp). */
    fun admin(action: String, vararg params: Pair<String, String>): String {
        val nonce = UUID.randomUUID().toString().take(16)
        val ts = (System.currentTimeMillis() / 1000).toString()
        val sig = MessageDigest.getInstance("MD5").digest("$APP_ID$nonce$ts".toByteArray())
            .joinToString("") { "%02x".format(it) }
        val q = listOf("Action" to action, "AppId" to "$APP_ID", "SignatureNonce" to nonce, "Timestamp" to ts,
            "Signature" to sig, "SignatureVersion" to "2.0") + params
        val query = q.joinToString("&") { (k, v) -> URLEncoder.encode(k, "UTF-8") + "=" + URLEncoder.encode(v, "UTF-8") }
        return URI("http://127.0.0.1:$adminPort/?$query").toURL().readText()
    }

    override fun close() {
        proc.destroy()
        if (!proc.waitFor(5, TimeUnit.SECONDS)) proc.destroyForcibly().waitFor()
    }
}

/** examples/fault_proxy: prints `LISTEN addr`, then answers each stdin command with OK. */
class Proxy(upstream: String) : AutoCloseable {
    private val proc = ProcessBuilder(File(profileDir, "examples/fault_proxy").path, upstream)
        .redirectError(ProcessBuilder.Redirect.INHERIT).start()
    private val out = OutputStreamWriter(proc.outputStream)
    private val input = BufferedReader(InputStreamReader(proc.inputStream))
    val addr: String
    val url: String

    init {
        val line = input.readLine() ?: error("fault_proxy printed nothing")
        check(line.startsWith("LISTEN ")) { line }
        addr = line.substringAfter("LISTEN ").trim()
        url = "ws://$addr"
    }

    fun cmd(c: String): String {
        out.write(c + "\n")
        out.flush()
        val reply = input.readLine() ?: error("fault_proxy closed")
        check(reply == "OK" || reply.startsWith("ATTEMPTS")) { "$c: $reply" }
        return reply
    }

    override fun close() {
        runCatching { out.write("quit\n"); out.flush() }
        if (!proc.waitFor(5, TimeUnit.SECONDS)) proc.destroyForcibly().waitFor()
    }
}

sealed class Ev {
    abstract val roomId: String
    val thread: Int = nativeThreadId()
    val at: Long = System.nanoTime()

    data class Changed(val reason: RoomStateChangedReason, val errorCode: Int, val extendedData: String, override val roomId: String) : Ev()
    data class Update(val state: RoomState, val errorCode: Int, val extendedData: String, override val roomId: String) : Ev()
    data class Users(val updateType: UpdateType, val userList: List<User>, override val roomId: String) : Ev()
    data class Count(val count: Int, override val roomId: String) : Ev()
    data class Expire(val remain: Int, override val roomId: String) : Ev()

    // streams (§6.2); events without a room carry roomId ""
    data class StreamUpdate(val updateType: UpdateType, val streamList: List<Stream>, val extendedData: String, override val roomId: String) : Ev()
    data class StreamExtraInfo(val streamList: List<Stream>, override val roomId: String) : Ev()
    data class PublisherStateEv(val state: PublisherState, val errorCode: Int, val extendedData: String, val streamId: String) : Ev() {
        override val roomId = ""
    }
    data class PlayerStateEv(val state: PlayerState, val errorCode: Int, val extendedData: String, val streamId: String) : Ev() {
        override val roomId = ""
    }
    data class StreamExtraInfoResult(val errorCode: Int, val seq: Int) : Ev() {
        override val roomId = ""
    }
    class Sei(val data: ByteArray, val streamId: String) : Ev() {
        override val roomId = ""
        override fun toString() = "Sei(${data.size} bytes, $streamId)"
    }

    // messaging and room extra info (§7.2)
    data class BroadcastResult(val errorCode: Int, val messageId: ULong, override val roomId: String, val seq: Int) : Ev()
    data class BarrageResult(val errorCode: Int, val messageId: String, override val roomId: String, val seq: Int) : Ev()
    data class CommandResult(val errorCode: Int, override val roomId: String, val seq: Int) : Ev()
    data class RoomExtraInfoResult(val errorCode: Int, override val roomId: String, val key: String, val seq: Int) : Ev()
    data class RecvBroadcast(val messageList: List<BroadcastMessageInfo>, override val roomId: String) : Ev()
    data class RecvBarrage(val messageList: List<BarrageMessageInfo>, override val roomId: String) : Ev()
    data class RecvCommand(val command: String, val fromUser: User, override val roomId: String) : Ev()
    data class RoomExtraInfoUpdate(val infoList: List<RoomExtraInfo>, override val roomId: String) : Ev()
}

/** Records every event (built on the open adapter, overriding everything). */
open class Recorder : RoomEventHandlerAdapter() {
    private val lock = ReentrantLock()
    private val changed = lock.newCondition()
    private val events = ArrayList<Ev>()

    protected fun push(e: Ev) = lock.withLock {
        events.add(e)
        changed.signalAll()
    }

    override fun onRoomStateChanged(reason: RoomStateChangedReason, errorCode: Int, extendedData: String, roomId: String) =
        push(Ev.Changed(reason, errorCode, extendedData, roomId))

    override fun onRoomStateUpdate(state: RoomState, errorCode: Int, extendedData: String, roomId: String) =
        push(Ev.Update(state, errorCode, extendedData, roomId))

    override fun onRoomUserUpdate(updateType: UpdateType, userList: List<User>, roomId: String) =
        push(Ev.Users(updateType, userList, roomId))

    override fun onRoomOnlineUserCountUpdate(count: Int, roomId: String) = push(Ev.Count(count, roomId))

    override fun onRoomTokenWillExpire(remainTimeInSecond: Int, roomId: String) = push(Ev.Expire(remainTimeInSecond, roomId))

    override fun onRoomStreamUpdate(updateType: UpdateType, streamList: List<Stream>, extendedData: String, roomId: String) =
        push(Ev.StreamUpdate(updateType, streamList, extendedData, roomId))

    override fun onRoomStreamExtraInfoUpdate(streamList: List<Stream>, roomId: String) = push(Ev.StreamExtraInfo(streamList, roomId))

    override fun onPublisherStateUpdate(state: PublisherState, errorCode: Int, extendedData: String, streamId: String) =
        push(Ev.PublisherStateEv(state, errorCode, extendedData, streamId))

    override fun onPlayerStateUpdate(state: PlayerState, errorCode: Int, extendedData: String, streamId: String) =
        push(Ev.PlayerStateEv(state, errorCode, extendedData, streamId))

    override fun onPublisherUpdateStreamExtraInfoResult(errorCode: Int, seq: Int) = push(Ev.StreamExtraInfoResult(errorCode, seq))

    override fun onPlayerRecvSei(data: ByteArray, streamId: String) = push(Ev.Sei(data, streamId))

    override fun onImSendBroadcastMessageResult(errorCode: Int, messageId: ULong, roomId: String, seq: Int) =
        push(Ev.BroadcastResult(errorCode, messageId, roomId, seq))

    override fun onImSendBarrageMessageResult(errorCode: Int, messageId: String, roomId: String, seq: Int) =
        push(Ev.BarrageResult(errorCode, messageId, roomId, seq))

    override fun onImSendCustomCommandResult(errorCode: Int, roomId: String, seq: Int) = push(Ev.CommandResult(errorCode, roomId, seq))

    override fun onRoomSetRoomExtraInfoResult(errorCode: Int, roomId: String, key: String, seq: Int) =
        push(Ev.RoomExtraInfoResult(errorCode, roomId, key, seq))

    override fun onImRecvBroadcastMessage(messageList: List<BroadcastMessageInfo>, roomId: String) = push(Ev.RecvBroadcast(messageList, roomId))

    override fun onImRecvBarrageMessage(messageList: List<BarrageMessageInfo>, roomId: String) = push(Ev.RecvBarrage(messageList, roomId))

    override fun onImRecvCustomCommand(command: String, fromUser: User, roomId: String) = push(Ev.RecvCommand(command, fromUser, roomId))

    override fun onRoomExtraInfoUpdate(roomExtraInfoList: List<RoomExtraInfo>, roomId: String) =
        push(Ev.RoomExtraInfoUpdate(roomExtraInfoList, roomId))

    fun snapshot(): List<Ev> = lock.withLock { ArrayList(events) }

    /** Index and event of the first event at index >= [start] matching [pred], waiting up to [timeoutMs]. */
    fun waitFor(start: Int = 0, timeoutMs: Long = 10_000, pred: (Ev) -> Boolean): Pair<Int, Ev> = lock.withLock {
        val deadline = System.nanoTime() + timeoutMs * 1_000_000
        while (true) {
            for (i in start until events.size) if (pred(events[i])) return Pair(i, events[i])
            val left = deadline - System.nanoTime()
            if (left <= 0) throw AssertionError("no matching event within ${timeoutMs}ms; got ${events.drop(start)}")
            changed.awaitNanos(left)
        }
        @Suppress("UNREACHABLE_CODE")
        error("unreachable")
    }

    /** The first event of type [T] at index >= [start] matching [pred]. */
    inline fun <reified T : Ev> waitOf(start: Int = 0, timeoutMs: Long = 10_000, crossinline pred: (T) -> Boolean = { true }): Pair<Int, T> {
        val (i, e) = waitFor(start, timeoutMs) { it is T && pred(it) }
        return Pair(i, e as T)
    }

    inline fun <reified T : Ev> all(start: Int = 0): List<T> = snapshot().drop(start).filterIsInstance<T>()

    fun waitReason(reason: RoomStateChangedReason, roomId: String? = null, start: Int = 0, timeoutMs: Long = 10_000): Pair<Int, Ev.Changed> {
        val (i, e) = waitFor(start, timeoutMs) { it is Ev.Changed && it.reason == reason && (roomId == null || it.roomId == roomId) }
        return Pair(i, e as Ev.Changed)
    }
}

fun profile(url: String, mode: RoomMode = RoomMode.SINGLE_ROOM) = EngineProfile(APP_ID.toUInt(), url, mode)

fun notifyConfig(token: String = "") = RoomConfig(0u, true, token)
