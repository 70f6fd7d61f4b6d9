//! What the engine tells the app. One enum so the core, the dispatcher and every facade share it.
//! Each variant is one handler method of contract §2/§3 (room), §6.2 (streams) and §7.2
//! (messaging), with the same fields in the same order.

use crate::types::*;

pub type Seq = i32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    RoomStateChanged { reason: RoomStateChangedReason, error_code: i32, extended_data: String, room_id: String },
    /// Legacy state; follows the `RoomStateChanged` it belongs to, only when the legacy state changes.
    RoomStateUpdate { state: RoomState, error_code: i32, extended_data: String, room_id: String },
    RoomUserUpdate { update_type: UpdateType, users: Vec<User>, room_id: String },
    RoomOnlineUserCountUpdate { count: i32, room_id: String },
    RoomTokenWillExpire { remain_time_in_second: i32, room_id: String },
    RoomLoginResult { error_code: i32, extended_data: String, room_id: String, seq: Seq },
    RoomLogoutResult { error_code: i32, extended_data: String, room_id: String, seq: Seq },

    // ---- streams (§6) ----
    /// Other users' streams came (Add, `extended_data` `{}`) or went (Delete, `extended_data`
    /// `{"stream_delete_reason":[{"stream_id":..,"code":N}]}`).
    RoomStreamUpdate { update_type: UpdateType, streams: Vec<Stream>, extended_data: String, room_id: String },
    RoomStreamExtraInfoUpdate { streams: Vec<Stream>, room_id: String },
    PublisherStateUpdate { state: PublisherState, error_code: i32, extended_data: String, stream_id: String },
    PlayerStateUpdate { state: PlayerState, error_code: i32, extended_data: String, stream_id: String },
    PublisherUpdateStreamExtraInfoResult { error_code: i32, seq: Seq },
    PlayerRecvSei { data: Vec<u8>, stream_id: String },

    // ---- messaging and room extra info (§7) ----
    ImSendBroadcastMessageResult { error_code: i32, message_id: u64, room_id: String, seq: Seq },
    ImSendBarrageMessageResult { error_code: i32, message_id: String, room_id: String, seq: Seq },
    ImSendCustomCommandResult { error_code: i32, room_id: String, seq: Seq },
    RoomSetRoomExtraInfoResult { error_code: i32, room_id: String, key: String, seq: Seq },
    ImRecvBroadcastMessage { messages: Vec<BroadcastMessageInfo>, room_id: String },
    ImRecvBarrageMessage { messages: Vec<BarrageMessageInfo>, room_id: String },
    ImRecvCustomCommand { command: String, from_user: User, room_id: String },
    RoomExtraInfoUpdate { infos: Vec<RoomExtraInfo>, room_id: String },
}
