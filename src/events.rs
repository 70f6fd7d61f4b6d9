//! What the engine tells the app. One enum so the core, the dispatcher and every facade share it.

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
}

impl Event {
    pub fn room_id(&self) -> &str {
        match self {
            Event::RoomStateChanged { room_id, .. }
            | Event::RoomStateUpdate { room_id, .. }
            | Event::RoomUserUpdate { room_id, .. }
            | Event::RoomOnlineUserCountUpdate { room_id, .. }
            | Event::RoomTokenWillExpire { room_id, .. }
            | Event::RoomLoginResult { room_id, .. }
            | Event::RoomLogoutResult { room_id, .. } => room_id,
        }
    }
}
