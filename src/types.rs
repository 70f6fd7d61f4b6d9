//! Public value types shared by every surface (contract §1, §3). Discriminants are the C values.

use serde::{Deserialize, Serialize};

/// Why a room's state changed (`onRoomStateChanged`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum RoomStateChangedReason {
    Logining = 0,
    Logined = 1,
    LoginFailed = 2,
    Reconnecting = 3,
    Reconnected = 4,
    ReconnectFailed = 5,
    KickOut = 6,
    Logout = 7,
    LogoutFailed = 8,
}

impl RoomStateChangedReason {
    /// The legacy `RoomState` this reason maps to; `None` for LogoutFailed, which has no legacy event.
    pub fn legacy_state(self) -> Option<RoomState> {
        use RoomStateChangedReason::*;
        match self {
            Logining | Reconnecting => Some(RoomState::Connecting),
            Logined | Reconnected => Some(RoomState::Connected),
            LoginFailed | ReconnectFailed | KickOut | Logout => Some(RoomState::Disconnected),
            LogoutFailed => None,
        }
    }
}

/// Legacy room state (`onRoomStateUpdate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum RoomState {
    Disconnected = 0,
    Connecting = 1,
    Connected = 2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum UpdateType {
    Add = 0,
    Delete = 1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(i32)]
pub enum RoomMode {
    #[default]
    SingleRoom = 0,
    MultiRoom = 1,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct User {
    pub user_id: String,
    /// Empty means "same as user_id" on input; always filled on output.
    pub user_name: String,
}

impl User {
    pub fn new(user_id: impl Into<String>, user_name: impl Into<String>) -> Self {
        User { user_id: user_id.into(), user_name: user_name.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoomConfig {
    /// 0 = unlimited. Applies when this login opens an empty room.
    pub max_member_count: u32,
    /// Receive `on_room_user_update` for this room.
    pub is_user_status_notify: bool,
    /// token04; empty = none.
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineProfile {
    pub app_id: u32,
    /// `ws://host:port` or `wss://host:port`.
    pub server: String,
    pub room_mode: RoomMode,
}
