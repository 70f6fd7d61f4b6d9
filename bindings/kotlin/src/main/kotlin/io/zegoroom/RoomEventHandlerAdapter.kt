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
}
