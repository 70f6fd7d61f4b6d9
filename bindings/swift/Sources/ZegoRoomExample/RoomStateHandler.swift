// The Objective-C sample of "Room connection status" (onRoomStateChanged), in Swift on top of the
// UniFFI bindings. Handler methods are called on the engine's own callback thread, one at a
// time and in order; hop to the main queue yourself before touching UI.
//
//     let handler = RoomStateHandler { text in statusLabel.text = text }   // called on main
//     let engine = try RoomEngine(
//         profile: EngineProfile(appId: 1234567, server: "wss://rooms.example.com", roomMode: .singleRoom),
//         handler: handler)
//     try engine.loginRoom(roomId: "room-1", user: User(userId: "alice", userName: "Alice"), config: nil)
//     ...
//     engine.destroy()   // leaves every room, stops callbacks, releases the handler

import Foundation
import ZegoRoom

public final class RoomStateHandler: RoomEventHandler {
    /// Receives a one-line description of each change, on the main queue.
    private let onStatus: @Sendable (String) -> Void

    public init(onStatus: @escaping @Sendable (String) -> Void) {
        self.onStatus = onStatus
    }

    private func show(_ text: String) {
        let onStatus = self.onStatus
        DispatchQueue.main.async { onStatus(text) }
    }

    // Only this method is implemented; the other callbacks use the empty defaults of the
    // `RoomEventHandler` extension.
    public func onRoomStateChanged(reason: RoomStateChangedReason, errorCode: Int32, extendedData: String, roomId: String) {
        switch reason {
        case .logining:
            // logging in: triggered by loginRoom (or switchRoom entering the target room)
            show("[\(roomId)] logging in")
        case .logined:
            // login successful: the first successful login of loginRoom. Pull the room's basic
            // information here (chat room, live room...). extendedData carries "room_session_id".
            show("[\(roomId)] logged in")
        case .loginFailed:
            // login failed
            if errorCode == 1002033 {
                // the token passed to loginRoom is wrong (login authentication)
                show("[\(roomId)] login failed: bad token")
            } else {
                show("[\(roomId)] login failed: \(errorCode)")
            }
        case .reconnecting:
            // reconnecting: the SDK lost the connection and retries by itself (1002051).
            // Show some reconnection UI here.
            show("[\(roomId)] reconnecting…")
        case .reconnected:
            // reconnected successfully
            show("[\(roomId)] reconnected")
        case .reconnectFailed:
            // reconnect failed (1002053): the SDK will not retry. Leave the room in the app, or
            // call loginRoom again yourself.
            show("[\(roomId)] reconnect failed")
        case .kickOut:
            // kicked out of the room
            if errorCode == 1002050 {
                // the same userID logged in elsewhere
                show("[\(roomId)] kicked out: logged in elsewhere")
            } else if errorCode == 1002055 {
                // kicked by the server API (KickoutUser); its CustomReason is in extendedData
                let reason = Self.string(in: extendedData, key: "custom_kickout_message") ?? ""
                show("[\(roomId)] kicked out by the server \(reason)")
            }
        case .logout:
            // logged out successfully: logoutRoom (or switchRoom leaving this room)
            show("[\(roomId)] logged out")
        case .logoutFailed:
            // logout failed: the room ID is not one this engine is in (1002002)
            show("[\(roomId)] logout failed: \(errorCode)")
        }
    }

    /// `extendedData` is a JSON object text (`{}` at least).
    private static func string(in json: String, key: String) -> String? {
        guard let data = json.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object[key] as? String
    }
}

/// The flow of the sample: create, log in, and report synchronous errors with their ZEGO code.
public func startRoom(server: String, roomId: String, userId: String, handler: RoomStateHandler) -> RoomEngine? {
    do {
        let engine = try RoomEngine(
            profile: EngineProfile(appId: 1234567, server: server, roomMode: .singleRoom),
            handler: handler)
        try engine.loginRoom(roomId: roomId,
                             user: User(userId: userId, userName: userId),
                             config: RoomConfig(maxMemberCount: 0, isUserStatusNotify: true, token: ""))
        return engine
    } catch let RoomError.Failed(code, message) {
        print("zego-room: \(message) (\(code))")   // e.g. 1002011 empty room id, 1000017 bad server
        return nil
    } catch {
        print("zego-room: \(error)")
        return nil
    }
}
