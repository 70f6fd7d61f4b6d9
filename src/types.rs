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
    /// `ws://host:port` or `wss://host:port`, or a comma-separated list of them (a cluster,
    /// contract §8: the first attempt uses the first URL, each new attempt the next).
    pub server: String,
    pub room_mode: RoomMode,
}

// ---- Streams (contract §6) -------------------------------------------------------------------

/// Publisher state (`on_publisher_state_update`, contract §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(i32)]
pub enum PublisherState {
    #[default]
    NoPublish = 0,
    /// Asking the server to publish, or retrying after the room connection was lost (1003020).
    PublishRequesting = 1,
    /// The server accepted the stream; others see it in their stream list.
    Publishing = 2,
}

/// Player state (`on_player_state_update`, contract §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(i32)]
pub enum PlayerState {
    #[default]
    NoPlay = 0,
    /// Waiting for the stream (not published yet: 0) or for its return (interrupted: 1004020).
    PlayRequesting = 1,
    /// The stream exists and its publisher is connected: SEI frames arrive.
    Playing = 2,
}

/// One of the four publish channels (`Main` .. `Fourth`, 0–3). Each publishes at most one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
#[repr(i32)]
pub enum PublishChannel {
    #[default]
    Main = 0,
    Aux = 1,
    Third = 2,
    Fourth = 3,
}

impl PublishChannel {
    pub const ALL: [PublishChannel; 4] = [PublishChannel::Main, PublishChannel::Aux, PublishChannel::Third, PublishChannel::Fourth];

    /// 0–3 → the channel; anything else `None` (facades map that to 1000017).
    pub fn from_index(i: i64) -> Option<PublishChannel> {
        usize::try_from(i).ok().and_then(|i| Self::ALL.get(i).copied())
    }

    pub fn index(self) -> u8 {
        self as i32 as u8
    }
}

/// Which streams `get_room_stream_list` returns: `Play` = other users' streams, `All` = the local
/// user's too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(i32)]
pub enum RoomStreamListType {
    #[default]
    Play = 0,
    All = 1,
}

/// A stream in a room: who publishes it, its id and its extra info (contract §6).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Stream {
    pub user: User,
    /// 1–255 bytes of `[0-9A-Za-z_-]`, unique across the app while published.
    pub stream_id: String,
    /// Up to 1024 bytes of UTF-8 (may be empty).
    pub extra_info: String,
}

/// Options of `start_publishing_stream`. `room_id` "" = the only room (single-room mode).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PublisherConfig {
    pub room_id: String,
}

/// Options of `start_playing_stream`. `room_id` "" = the only room (single-room mode).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlayerConfig {
    pub room_id: String,
}

// ---- Messaging and room extra info (contract §7) --------------------------------------------

/// A broadcast message as received (`on_im_recv_broadcast_message`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BroadcastMessageInfo {
    /// 1–1024 bytes of UTF-8.
    pub message: String,
    /// Increasing per room.
    pub message_id: u64,
    /// Server time, milliseconds since the Unix epoch.
    pub send_time: u64,
    pub from_user: User,
}

/// A barrage message as received (`on_im_recv_barrage_message`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BarrageMessageInfo {
    pub message: String,
    pub message_id: String,
    /// Server time, milliseconds since the Unix epoch.
    pub send_time: u64,
    pub from_user: User,
}

/// The room's extra info (one key per room; contract §7.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoomExtraInfo {
    /// 1–10 bytes.
    pub key: String,
    /// 0–128 bytes.
    pub value: String,
    pub update_user: User,
    /// Server time, milliseconds since the Unix epoch.
    pub update_time: u64,
}
