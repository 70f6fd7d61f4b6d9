package io.zegoroom

/**
 * A [RoomEventHandler] whose methods do nothing: extend it and override only what you need.
 *
 * ```kotlin
 * val engine = RoomEngine(profile, object : RoomEventHandlerAdapter() {
 *     override fun onRoomStateChanged(reason: RoomStateChangedReason, errorCode: Int, extendedData: String, roomId: String) {
 *         mainHandler.post { render(reason, errorCode) }   // calls come from the engine's callback thread
 *     }
 * })
 * ```
 *
 * Every method is called on the engine's own callback thread ("zego-room-callbacks"), one at a
 * time, in order. An exception thrown here is caught and logged by the library; later events
 * keep arriving.
 */
open class RoomEventHandlerAdapter : RoomEventHandler {
    override fun onRoomStateChanged(reason: RoomStateChangedReason, errorCode: Int, extendedData: String, roomId: String) {}

    override fun onRoomStateUpdate(state: RoomState, errorCode: Int, extendedData: String, roomId: String) {}

    override fun onRoomUserUpdate(updateType: UpdateType, userList: List<User>, roomId: String) {}

    override fun onRoomOnlineUserCountUpdate(count: Int, roomId: String) {}

    override fun onRoomTokenWillExpire(remainTimeInSecond: Int, roomId: String) {}

    // ---- streams (contract §6.2) ----

    override fun onRoomStreamUpdate(updateType: UpdateType, streamList: List<Stream>, extendedData: String, roomId: String) {}

    override fun onRoomStreamExtraInfoUpdate(streamList: List<Stream>, roomId: String) {}

    override fun onPublisherStateUpdate(state: PublisherState, errorCode: Int, extendedData: String, streamId: String) {}

    override fun onPlayerStateUpdate(state: PlayerState, errorCode: Int, extendedData: String, streamId: String) {}

    override fun onPublisherUpdateStreamExtraInfoResult(errorCode: Int, seq: Int) {}

    override fun onPlayerRecvSei(data: ByteArray, streamId: String) {}

    // ---- messaging and room extra info (contract §7.2) ----

    override fun onImSendBroadcastMessageResult(errorCode: Int, messageId: ULong, roomId: String, seq: Int) {}

    override fun onImSendBarrageMessageResult(errorCode: Int, messageId: String, roomId: String, seq: Int) {}

    override fun onImSendCustomCommandResult(errorCode: Int, roomId: String, seq: Int) {}

    override fun onRoomSetRoomExtraInfoResult(errorCode: Int, roomId: String, key: String, seq: Int) {}

    override fun onImRecvBroadcastMessage(messageList: List<BroadcastMessageInfo>, roomId: String) {}

    override fun onImRecvBarrageMessage(messageList: List<BarrageMessageInfo>, roomId: String) {}

    override fun onImRecvCustomCommand(command: String, fromUser: User, roomId: String) {}

    override fun onRoomExtraInfoUpdate(roomExtraInfoList: List<RoomExtraInfo>, roomId: String) {}
}
