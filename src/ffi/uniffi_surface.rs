//! UniFFI surface (contract §3): Swift, Kotlin and Python are generated from it.
//!
//! No room logic lives here: values are converted to the crate's own types, and every call is
//! delegated to [`crate::engine::RoomEngine`]. The records and enums below are the foreign-facing
//! twins of the ones in [`crate::types`] (same names, fields and discriminants); keeping them
//! separate lets `types.rs` stay free of binding attributes.
//!
//! Threading: the host's [`RoomEventHandler`] is called on the engine's dispatcher thread
//! ("zego-room-callbacks"), one event at a time, in order. A host exception surfaces in Rust as a
//! panic on that thread ("Callback interface failure"), which the dispatcher catches and logs; later
//! events keep arriving.
//!
//! Lifetime: the handler is owned by the dispatcher thread only. `destroy()` stops that thread and
//! thereby releases the handler, so a handler that holds its engine forms no lasting cycle.

use std::sync::Arc;

use crate::engine;
use crate::error_codes::{self, ILLEGAL_PARAM};
use crate::types;

// ---------------------------------------------------------------------------------------------
// Enums (discriminants are the C values)
// ---------------------------------------------------------------------------------------------

/// Why a room's state changed (`on_room_state_changed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
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

/// Legacy room state (`on_room_state_update`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
#[repr(i32)]
pub enum RoomState {
    Disconnected = 0,
    Connecting = 1,
    Connected = 2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
#[repr(i32)]
pub enum UpdateType {
    Add = 0,
    Delete = 1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, uniffi::Enum)]
#[repr(i32)]
pub enum RoomMode {
    #[default]
    SingleRoom = 0,
    MultiRoom = 1,
}

/// Publisher state (`on_publisher_state_update`, contract §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
#[repr(i32)]
pub enum PublisherState {
    /// Not publishing: stopped (0) or ended with a code (1003021, 1003025, 1003028, 1003072, a kick's).
    NoPublish = 0,
    /// Asking the server (0), or retrying after the room connection was lost (1003020).
    PublishRequesting = 1,
    /// The server accepted the stream; others see it.
    Publishing = 2,
}

/// Player state (`on_player_state_update`, contract §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
#[repr(i32)]
pub enum PlayerState {
    /// Not playing: stopped (0) or ended with a code (1004020, 1004025, the room's).
    NoPlay = 0,
    /// Waiting for the stream to be published (0) or to come back (1004020).
    PlayRequesting = 1,
    /// The stream exists and its publisher is connected: SEI frames arrive.
    Playing = 2,
}

/// One of the four publish channels; each publishes at most one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
#[repr(i32)]
pub enum PublishChannel {
    Main = 0,
    Aux = 1,
    Third = 2,
    Fourth = 3,
}

/// Which streams `get_room_stream_list` returns: `Play` = other users', `All` = the local user's
/// published ones too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
#[repr(i32)]
pub enum RoomStreamListType {
    Play = 0,
    All = 1,
}

impl From<types::PublisherState> for PublisherState {
    fn from(s: types::PublisherState) -> Self {
        match s {
            types::PublisherState::NoPublish => Self::NoPublish,
            types::PublisherState::PublishRequesting => Self::PublishRequesting,
            types::PublisherState::Publishing => Self::Publishing,
        }
    }
}

impl From<types::PlayerState> for PlayerState {
    fn from(s: types::PlayerState) -> Self {
        match s {
            types::PlayerState::NoPlay => Self::NoPlay,
            types::PlayerState::PlayRequesting => Self::PlayRequesting,
            types::PlayerState::Playing => Self::Playing,
        }
    }
}

impl From<PublishChannel> for types::PublishChannel {
    fn from(c: PublishChannel) -> Self {
        match c {
            PublishChannel::Main => Self::Main,
            PublishChannel::Aux => Self::Aux,
            PublishChannel::Third => Self::Third,
            PublishChannel::Fourth => Self::Fourth,
        }
    }
}

impl From<RoomStreamListType> for types::RoomStreamListType {
    fn from(t: RoomStreamListType) -> Self {
        match t {
            RoomStreamListType::Play => Self::Play,
            RoomStreamListType::All => Self::All,
        }
    }
}

impl From<types::RoomStateChangedReason> for RoomStateChangedReason {
    fn from(r: types::RoomStateChangedReason) -> Self {
        use types::RoomStateChangedReason as R;
        match r {
            R::Logining => Self::Logining,
            R::Logined => Self::Logined,
            R::LoginFailed => Self::LoginFailed,
            R::Reconnecting => Self::Reconnecting,
            R::Reconnected => Self::Reconnected,
            R::ReconnectFailed => Self::ReconnectFailed,
            R::KickOut => Self::KickOut,
            R::Logout => Self::Logout,
            R::LogoutFailed => Self::LogoutFailed,
        }
    }
}

impl From<types::RoomState> for RoomState {
    fn from(s: types::RoomState) -> Self {
        match s {
            types::RoomState::Disconnected => Self::Disconnected,
            types::RoomState::Connecting => Self::Connecting,
            types::RoomState::Connected => Self::Connected,
        }
    }
}

impl From<types::UpdateType> for UpdateType {
    fn from(u: types::UpdateType) -> Self {
        match u {
            types::UpdateType::Add => Self::Add,
            types::UpdateType::Delete => Self::Delete,
        }
    }
}

impl From<RoomMode> for types::RoomMode {
    fn from(m: RoomMode) -> Self {
        match m {
            RoomMode::SingleRoom => Self::SingleRoom,
            RoomMode::MultiRoom => Self::MultiRoom,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Record)]
pub struct User {
    pub user_id: String,
    /// Empty means "same as user_id" on input; always filled in user lists.
    pub user_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct RoomConfig {
    /// 0 = unlimited. Applies when this login opens an empty room.
    pub max_member_count: u32,
    /// Receive `on_room_user_update` for this room.
    pub is_user_status_notify: bool,
    /// token04; empty = none.
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EngineProfile {
    pub app_id: u32,
    /// `ws://host:port` or `wss://host:port`.
    pub server: String,
    pub room_mode: RoomMode,
}

/// A stream in a room (contract §6).
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Record)]
pub struct Stream {
    /// The publisher.
    pub user: User,
    /// 1–255 bytes of `[0-9A-Za-z_-]`.
    pub stream_id: String,
    /// 0–1024 bytes of UTF-8.
    pub extra_info: String,
}

/// Options of `start_publishing_stream`: `room_id` "" = the only room (single-room mode).
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct PublisherConfig {
    pub room_id: String,
}

/// Options of `start_playing_stream`: `room_id` "" = the only room (single-room mode).
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct PlayerConfig {
    pub room_id: String,
}

/// A broadcast message as received (contract §7).
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Record)]
pub struct BroadcastMessageInfo {
    /// 1–1024 bytes of UTF-8.
    pub message: String,
    /// Increasing per room.
    pub message_id: u64,
    /// Server time, milliseconds since the Unix epoch.
    pub send_time: u64,
    pub from_user: User,
}

/// A barrage message as received (contract §7).
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Record)]
pub struct BarrageMessageInfo {
    /// 1–1024 bytes of UTF-8.
    pub message: String,
    pub message_id: String,
    /// Server time, milliseconds since the Unix epoch.
    pub send_time: u64,
    pub from_user: User,
}

/// The room's extra info (one key per room; contract §7).
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Record)]
pub struct RoomExtraInfo {
    /// 1–10 bytes.
    pub key: String,
    /// 0–128 bytes.
    pub value: String,
    /// Who set it.
    pub update_user: User,
    /// Server time, milliseconds since the Unix epoch.
    pub update_time: u64,
}

impl From<&types::Stream> for Stream {
    fn from(s: &types::Stream) -> Self {
        Stream { user: (&s.user).into(), stream_id: s.stream_id.clone(), extra_info: s.extra_info.clone() }
    }
}

impl From<&types::BroadcastMessageInfo> for BroadcastMessageInfo {
    fn from(m: &types::BroadcastMessageInfo) -> Self {
        BroadcastMessageInfo { message: m.message.clone(), message_id: m.message_id, send_time: m.send_time, from_user: (&m.from_user).into() }
    }
}

impl From<&types::BarrageMessageInfo> for BarrageMessageInfo {
    fn from(m: &types::BarrageMessageInfo) -> Self {
        BarrageMessageInfo { message: m.message.clone(), message_id: m.message_id.clone(), send_time: m.send_time, from_user: (&m.from_user).into() }
    }
}

impl From<&types::RoomExtraInfo> for RoomExtraInfo {
    fn from(i: &types::RoomExtraInfo) -> Self {
        RoomExtraInfo { key: i.key.clone(), value: i.value.clone(), update_user: (&i.update_user).into(), update_time: i.update_time }
    }
}

impl From<User> for types::User {
    fn from(u: User) -> Self {
        types::User { user_id: u.user_id, user_name: u.user_name }
    }
}

impl From<&types::User> for User {
    fn from(u: &types::User) -> Self {
        User { user_id: u.user_id.clone(), user_name: u.user_name.clone() }
    }
}

impl From<RoomConfig> for types::RoomConfig {
    fn from(c: RoomConfig) -> Self {
        types::RoomConfig { max_member_count: c.max_member_count, is_user_status_notify: c.is_user_status_notify, token: c.token }
    }
}

impl From<EngineProfile> for types::EngineProfile {
    fn from(p: EngineProfile) -> Self {
        types::EngineProfile { app_id: p.app_id, server: p.server, room_mode: p.room_mode.into() }
    }
}

// ---------------------------------------------------------------------------------------------
// Error
// ---------------------------------------------------------------------------------------------

/// Every failure of the surface: `code` is the ZEGO error code, `message` says it in words.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Error)]
pub enum RoomError {
    Failed { code: i32, message: String },
}

impl RoomError {
    pub fn from_code(code: i32) -> Self {
        RoomError::Failed { code, message: error_codes::describe(code).to_string() }
    }

    pub fn code(&self) -> i32 {
        match self {
            RoomError::Failed { code, .. } => *code,
        }
    }
}

impl std::fmt::Display for RoomError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RoomError::Failed { code, message } => write!(f, "{message} ({code})"),
        }
    }
}

impl std::error::Error for RoomError {}

/// A host exception escaping a foreign call that is declared to return `RoomError` becomes an
/// internal error instead of a Rust panic. (Handler methods return nothing: their exceptions
/// surface as a panic on the dispatcher thread, which catches and logs it.)
impl From<uniffi::UnexpectedUniFFICallbackError> for RoomError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        log::error!("a host callback threw: {}", e.reason);
        RoomError::Failed { code: error_codes::INNER_ERROR, message: format!("host callback failed: {}", e.reason) }
    }
}

fn check(r: Result<impl Sized, i32>) -> Result<(), RoomError> {
    r.map(|_| ()).map_err(RoomError::from_code)
}

// ---------------------------------------------------------------------------------------------
// Foreign handler
// ---------------------------------------------------------------------------------------------

/// Receives one engine's events. Implemented by the host (Swift protocol, Kotlin interface,
/// Python class). Calls come from the engine's own callback thread, one at a time, in order;
/// hop to your UI thread yourself. A method may call back into the engine, including `destroy()`.
#[uniffi::export(with_foreign)]
pub trait RoomEventHandler: Send + Sync {
    fn on_room_state_changed(&self, reason: RoomStateChangedReason, error_code: i32, extended_data: String, room_id: String);
    fn on_room_state_update(&self, state: RoomState, error_code: i32, extended_data: String, room_id: String);
    fn on_room_user_update(&self, update_type: UpdateType, user_list: Vec<User>, room_id: String);
    fn on_room_online_user_count_update(&self, count: i32, room_id: String);
    fn on_room_token_will_expire(&self, remain_time_in_second: i32, room_id: String);

    // ---- streams (contract §6.2) ----
    /// Other users' streams were added (`extended_data` `{}`) or deleted (`extended_data`
    /// `{"stream_delete_reason":[{"stream_id":"…","code":N}]}`, N: 1 stopped or logged out,
    /// 2 heartbeat grace passed, 3 duplicate login, 4 kicked, 5 engine destroyed, 6 forbidden).
    fn on_room_stream_update(&self, update_type: UpdateType, stream_list: Vec<Stream>, extended_data: String, room_id: String);
    /// Other users changed their streams' extra info (each entry carries the new one).
    fn on_room_stream_extra_info_update(&self, stream_list: Vec<Stream>, room_id: String);
    /// A stream this engine publishes changed state (codes in contract §6.1).
    fn on_publisher_state_update(&self, state: PublisherState, error_code: i32, extended_data: String, stream_id: String);
    /// A stream this engine plays changed state (codes in contract §6.1).
    fn on_player_state_update(&self, state: PlayerState, error_code: i32, extended_data: String, stream_id: String);
    /// Result of `set_stream_extra_info`, with the seq it returned.
    fn on_publisher_update_stream_extra_info_result(&self, error_code: i32, seq: i32);
    /// One SEI frame (1–4096 bytes) of a played stream, byte for byte, in the publisher's order.
    fn on_player_recv_sei(&self, data: Vec<u8>, stream_id: String);

    // ---- messaging and room extra info (contract §7.2) ----
    /// Result of `send_broadcast_message`: 0 with the message id (increasing per room), or a code.
    fn on_im_send_broadcast_message_result(&self, error_code: i32, message_id: u64, room_id: String, seq: i32);
    /// Result of `send_barrage_message`: 0 with the message id, or a code.
    fn on_im_send_barrage_message_result(&self, error_code: i32, message_id: String, room_id: String, seq: i32);
    /// Result of `send_custom_command`.
    fn on_im_send_custom_command_result(&self, error_code: i32, room_id: String, seq: i32);
    /// Result of `set_room_extra_info`.
    fn on_room_set_room_extra_info_result(&self, error_code: i32, room_id: String, key: String, seq: i32);
    /// 1–50 broadcast messages from others, in send order.
    fn on_im_recv_broadcast_message(&self, message_list: Vec<BroadcastMessageInfo>, room_id: String);
    /// 1–50 barrage messages from others, in send order.
    fn on_im_recv_barrage_message(&self, message_list: Vec<BarrageMessageInfo>, room_id: String);
    /// A custom command sent to this user (or to everyone) by `from_user`.
    fn on_im_recv_custom_command(&self, command: String, from_user: User, room_id: String);
    /// The room's extra info changed (set by someone else), or its value right after Logined, or
    /// again after Reconnected if it changed during the gap.
    fn on_room_extra_info_update(&self, room_extra_info_list: Vec<RoomExtraInfo>, room_id: String);
}

/// Adapts the foreign handler to the engine's [`engine::EventHandler`]. Owned by the dispatcher
/// thread only, so it (and the foreign object) is released when that thread ends.
struct HandlerBridge(Arc<dyn RoomEventHandler>);

impl engine::EventHandler for HandlerBridge {
    fn on_room_state_changed(&self, reason: types::RoomStateChangedReason, error_code: i32, extended_data: &str, room_id: &str) {
        self.0.on_room_state_changed(reason.into(), error_code, extended_data.to_owned(), room_id.to_owned())
    }
    fn on_room_state_update(&self, state: types::RoomState, error_code: i32, extended_data: &str, room_id: &str) {
        self.0.on_room_state_update(state.into(), error_code, extended_data.to_owned(), room_id.to_owned())
    }
    fn on_room_user_update(&self, update_type: types::UpdateType, user_list: &[types::User], room_id: &str) {
        self.0.on_room_user_update(update_type.into(), user_list.iter().map(User::from).collect(), room_id.to_owned())
    }
    fn on_room_online_user_count_update(&self, count: i32, room_id: &str) {
        self.0.on_room_online_user_count_update(count, room_id.to_owned())
    }
    fn on_room_token_will_expire(&self, remain_time_in_second: i32, room_id: &str) {
        self.0.on_room_token_will_expire(remain_time_in_second, room_id.to_owned())
    }
    fn on_room_stream_update(&self, update_type: types::UpdateType, stream_list: &[types::Stream], extended_data: &str, room_id: &str) {
        self.0.on_room_stream_update(update_type.into(), stream_list.iter().map(Stream::from).collect(), extended_data.to_owned(), room_id.to_owned())
    }
    fn on_room_stream_extra_info_update(&self, stream_list: &[types::Stream], room_id: &str) {
        self.0.on_room_stream_extra_info_update(stream_list.iter().map(Stream::from).collect(), room_id.to_owned())
    }
    fn on_publisher_state_update(&self, state: types::PublisherState, error_code: i32, extended_data: &str, stream_id: &str) {
        self.0.on_publisher_state_update(state.into(), error_code, extended_data.to_owned(), stream_id.to_owned())
    }
    fn on_player_state_update(&self, state: types::PlayerState, error_code: i32, extended_data: &str, stream_id: &str) {
        self.0.on_player_state_update(state.into(), error_code, extended_data.to_owned(), stream_id.to_owned())
    }
    fn on_publisher_update_stream_extra_info_result(&self, error_code: i32, seq: i32) {
        self.0.on_publisher_update_stream_extra_info_result(error_code, seq)
    }
    fn on_player_recv_sei(&self, data: &[u8], stream_id: &str) {
        self.0.on_player_recv_sei(data.to_vec(), stream_id.to_owned())
    }
    fn on_im_send_broadcast_message_result(&self, error_code: i32, message_id: u64, room_id: &str, seq: i32) {
        self.0.on_im_send_broadcast_message_result(error_code, message_id, room_id.to_owned(), seq)
    }
    fn on_im_send_barrage_message_result(&self, error_code: i32, message_id: &str, room_id: &str, seq: i32) {
        self.0.on_im_send_barrage_message_result(error_code, message_id.to_owned(), room_id.to_owned(), seq)
    }
    fn on_im_send_custom_command_result(&self, error_code: i32, room_id: &str, seq: i32) {
        self.0.on_im_send_custom_command_result(error_code, room_id.to_owned(), seq)
    }
    fn on_room_set_room_extra_info_result(&self, error_code: i32, room_id: &str, key: &str, seq: i32) {
        self.0.on_room_set_room_extra_info_result(error_code, room_id.to_owned(), key.to_owned(), seq)
    }
    fn on_im_recv_broadcast_message(&self, message_list: &[types::BroadcastMessageInfo], room_id: &str) {
        self.0.on_im_recv_broadcast_message(message_list.iter().map(BroadcastMessageInfo::from).collect(), room_id.to_owned())
    }
    fn on_im_recv_barrage_message(&self, message_list: &[types::BarrageMessageInfo], room_id: &str) {
        self.0.on_im_recv_barrage_message(message_list.iter().map(BarrageMessageInfo::from).collect(), room_id.to_owned())
    }
    fn on_im_recv_custom_command(&self, command: &str, from_user: &types::User, room_id: &str) {
        self.0.on_im_recv_custom_command(command.to_owned(), from_user.into(), room_id.to_owned())
    }
    fn on_room_extra_info_update(&self, room_extra_info_list: &[types::RoomExtraInfo], room_id: &str) {
        self.0.on_room_extra_info_update(room_extra_info_list.iter().map(RoomExtraInfo::from).collect(), room_id.to_owned())
    }
}

// ---------------------------------------------------------------------------------------------
// Engine object
// ---------------------------------------------------------------------------------------------

/// One engine: joins rooms on one server and reports through its [`RoomEventHandler`].
/// Call `destroy()` when done: it leaves every room, stops the engine's threads and releases the
/// handler. Afterwards every method throws `RoomError.Failed` with code 1000001.
#[derive(uniffi::Object)]
pub struct RoomEngine {
    inner: engine::RoomEngine,
}

#[uniffi::export]
impl RoomEngine {
    /// Throws 1000017 when `profile.server` is empty or not a `ws://`/`wss://` URL.
    #[uniffi::constructor]
    pub fn new(profile: EngineProfile, handler: Arc<dyn RoomEventHandler>) -> Result<Arc<Self>, RoomError> {
        if profile.server.trim().is_empty() {
            return Err(RoomError::from_code(ILLEGAL_PARAM));
        }
        let inner = engine::RoomEngine::new(profile.into(), Arc::new(HandlerBridge(handler))).map_err(RoomError::from_code)?;
        Ok(Arc::new(RoomEngine { inner }))
    }

    /// `"key=value;key=value"`; known keys: `room_retry_time` (seconds) and `tls_ca_file` (PEM file
    /// of CA certificates trusted for `wss://` besides the platform's roots; empty = platform roots
    /// only). Throws 1000017 for a value that cannot be used (unparsable, unreadable CA file, no CA
    /// certificate in it) and changes nothing (contract §1.3, §9).
    pub fn set_engine_config(&self, advanced_config: String) -> Result<(), RoomError> {
        check(self.inner.set_engine_config(&advanced_config))
    }

    /// Starts logging into `room_id`; the outcome arrives as `on_room_state_changed`.
    pub fn login_room(&self, room_id: String, user: User, config: Option<RoomConfig>) -> Result<(), RoomError> {
        let user: types::User = user.into();
        let config: Option<types::RoomConfig> = config.map(Into::into);
        check(self.inner.login_room(&room_id, &user, config.as_ref()))
    }

    /// `None` leaves every room. A room this engine is not in returns normally; the outcome is a
    /// LogoutFailed (1002002) event.
    pub fn logout_room(&self, room_id: Option<String>) -> Result<(), RoomError> {
        check(self.inner.logout_room(room_id.as_deref()))
    }

    /// Leaves `from_room_id` and logs into `to_room_id` (single-room mode). `None` config reuses
    /// the source room's config, token included.
    pub fn switch_room(&self, from_room_id: String, to_room_id: String, config: Option<RoomConfig>) -> Result<(), RoomError> {
        let config: Option<types::RoomConfig> = config.map(Into::into);
        check(self.inner.switch_room(&from_room_id, &to_room_id, config.as_ref()))
    }

    /// Replaces the token of a joined room; throws 1002002 for a room not joined.
    pub fn renew_token(&self, room_id: String, token: String) -> Result<(), RoomError> {
        check(self.inner.renew_token(&room_id, &token))
    }

    // ---- streams (contract §6) ----

    /// Publishes `stream_id` on `channel` in the room named by `config` (`None` or "" = the only
    /// room; multi-room mode requires it: 1003071). The outcome arrives as
    /// `on_publisher_state_update`. Throws 1000015 / 1000014 / 1000016 (stream id empty, longer
    /// than 255 bytes, a character outside `[0-9A-Za-z_-]`), 1000002 (room not joined), 1003023
    /// (the channel publishes another stream). Contract §6.1.
    pub fn start_publishing_stream(&self, stream_id: String, config: Option<PublisherConfig>, channel: PublishChannel) -> Result<(), RoomError> {
        let config = config.map(|c| types::PublisherConfig { room_id: c.room_id });
        check(self.inner.start_publishing_stream(&stream_id, config.as_ref(), channel.into()))
    }

    /// Stops the channel's stream: NoPublish (0); others see it deleted (reason 1).
    pub fn stop_publishing_stream(&self, channel: PublishChannel) -> Result<(), RoomError> {
        check(self.inner.stop_publishing_stream(channel.into()))
    }

    /// Sets the channel's stream extra info (0–1024 bytes, else 1000017), before or while
    /// publishing; returns the seq of `on_publisher_update_stream_extra_info_result`.
    pub fn set_stream_extra_info(&self, extra_info: String, channel: PublishChannel) -> Result<i32, RoomError> {
        self.inner.set_stream_extra_info(&extra_info, channel.into()).map_err(RoomError::from_code)
    }

    /// Plays `stream_id` from the room named by `config` (`None` or "" = the only room; multi-room
    /// mode requires it: 1004071). Throws the stream id codes, 1000002 (room not joined), 1004010
    /// (a 13th stream). Contract §6.1.
    pub fn start_playing_stream(&self, stream_id: String, config: Option<PlayerConfig>) -> Result<(), RoomError> {
        let config = config.map(|c| types::PlayerConfig { room_id: c.room_id });
        check(self.inner.start_playing_stream(&stream_id, config.as_ref()))
    }

    /// Stops playing `stream_id`: NoPlay (0). Throws the stream id codes.
    pub fn stop_playing_stream(&self, stream_id: String) -> Result<(), RoomError> {
        check(self.inner.stop_playing_stream(&stream_id))
    }

    /// Sends 1–4096 bytes (else 1000017) as one SEI frame to every player of the channel's stream;
    /// throws 1003001 when the channel is not Publishing (nothing is sent).
    pub fn send_sei(&self, data: Vec<u8>, channel: PublishChannel) -> Result<(), RoomError> {
        check(self.inner.send_sei(&data, channel.into()))
    }

    /// The engine's view of a room's streams (no server call), sorted by stream id. `room_id` ""
    /// = the only room. Throws 1000002 when the room is not joined.
    pub fn get_room_stream_list(&self, room_id: String, stream_list_type: RoomStreamListType) -> Result<Vec<Stream>, RoomError> {
        let list = self.inner.get_room_stream_list(&room_id, stream_list_type.into()).map_err(RoomError::from_code)?;
        Ok(list.iter().map(Stream::from).collect())
    }

    // ---- messaging and room extra info (contract §7) ----

    /// Sends `message` (1–1024 bytes: 1009001 / 1009002) to everyone in the room but the sender,
    /// reliably; returns the seq of `on_im_send_broadcast_message_result`. Throws 1009005 when the
    /// room is not joined.
    pub fn send_broadcast_message(&self, room_id: String, message: String) -> Result<i32, RoomError> {
        self.inner.send_broadcast_message(&room_id, &message).map_err(RoomError::from_code)
    }

    /// As `send_broadcast_message`, best effort; result: `on_im_send_barrage_message_result`.
    pub fn send_barrage_message(&self, room_id: String, message: String) -> Result<i32, RoomError> {
        self.inner.send_barrage_message(&room_id, &message).map_err(RoomError::from_code)
    }

    /// Sends `command` reliably to the users of `to_user_list` (1–5; only `user_id` is used; an
    /// empty list = everyone but the sender). Throws 1009001 / 1009002 (command), 1009011 /
    /// 1009012 (a user id empty / longer than 63 bytes), 1000017 (more than 5), 1009005.
    pub fn send_custom_command(&self, room_id: String, command: String, to_user_list: Vec<User>) -> Result<i32, RoomError> {
        let users: Vec<types::User> = to_user_list.into_iter().map(Into::into).collect();
        self.inner.send_custom_command(&room_id, &command, &users).map_err(RoomError::from_code)
    }

    /// Sets the room's extra info; returns the seq of `on_room_set_room_extra_info_result`. Throws
    /// 1002014 / 1002015 (key empty / longer than 10 bytes), 1002016 (value longer than 128
    /// bytes), 1002017 (the room already has another key), 1002002 (room not joined).
    pub fn set_room_extra_info(&self, room_id: String, key: String, value: String) -> Result<i32, RoomError> {
        self.inner.set_room_extra_info(&room_id, &key, &value).map_err(RoomError::from_code)
    }

    /// Leaves every room (no events), stops the engine and releases the handler. Once it returns
    /// (called outside a handler) no handler method runs again; called from inside a handler it
    /// takes effect when that handler method returns. Calling it twice is harmless.
    pub fn destroy(&self) {
        self.inner.destroy();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_codes::ENGINE_NOT_CREATED;

    #[test]
    fn discriminants_are_the_c_values() {
        assert_eq!(RoomStateChangedReason::LogoutFailed as i32, types::RoomStateChangedReason::LogoutFailed as i32);
        assert_eq!(RoomState::Connected as i32, 2);
        assert_eq!(UpdateType::Delete as i32, 1);
        assert_eq!(RoomMode::MultiRoom as i32, 1);
        assert_eq!(PublisherState::Publishing as i32, types::PublisherState::Publishing as i32);
        assert_eq!(PlayerState::Playing as i32, types::PlayerState::Playing as i32);
        assert_eq!(PublishChannel::Fourth as i32, types::PublishChannel::Fourth as i32);
        assert_eq!(RoomStreamListType::All as i32, types::RoomStreamListType::All as i32);
    }

    struct Nop;
    impl RoomEventHandler for Nop {
        fn on_room_state_changed(&self, _: RoomStateChangedReason, _: i32, _: String, _: String) {}
        fn on_room_state_update(&self, _: RoomState, _: i32, _: String, _: String) {}
        fn on_room_user_update(&self, _: UpdateType, _: Vec<User>, _: String) {}
        fn on_room_online_user_count_update(&self, _: i32, _: String) {}
        fn on_room_token_will_expire(&self, _: i32, _: String) {}
        fn on_room_stream_update(&self, _: UpdateType, _: Vec<Stream>, _: String, _: String) {}
        fn on_room_stream_extra_info_update(&self, _: Vec<Stream>, _: String) {}
        fn on_publisher_state_update(&self, _: PublisherState, _: i32, _: String, _: String) {}
        fn on_player_state_update(&self, _: PlayerState, _: i32, _: String, _: String) {}
        fn on_publisher_update_stream_extra_info_result(&self, _: i32, _: i32) {}
        fn on_player_recv_sei(&self, _: Vec<u8>, _: String) {}
        fn on_im_send_broadcast_message_result(&self, _: i32, _: u64, _: String, _: i32) {}
        fn on_im_send_barrage_message_result(&self, _: i32, _: String, _: String, _: i32) {}
        fn on_im_send_custom_command_result(&self, _: i32, _: String, _: i32) {}
        fn on_room_set_room_extra_info_result(&self, _: i32, _: String, _: String, _: i32) {}
        fn on_im_recv_broadcast_message(&self, _: Vec<BroadcastMessageInfo>, _: String) {}
        fn on_im_recv_barrage_message(&self, _: Vec<BarrageMessageInfo>, _: String) {}
        fn on_im_recv_custom_command(&self, _: String, _: User, _: String) {}
        fn on_room_extra_info_update(&self, _: Vec<RoomExtraInfo>, _: String) {}
    }

    #[test]
    fn bad_profile_and_destroyed_engine_throw_codes() {
        let bad = |server: &str| {
            RoomEngine::new(EngineProfile { app_id: 1, server: server.into(), room_mode: RoomMode::SingleRoom }, Arc::new(Nop))
                .err()
                .map(|e| e.code())
        };
        assert_eq!(bad(""), Some(ILLEGAL_PARAM));
        assert_eq!(bad("not a url"), Some(ILLEGAL_PARAM));
        let handler: Arc<dyn RoomEventHandler> = Arc::new(Nop);
        let e = RoomEngine::new(
            EngineProfile { app_id: 1, server: "ws://127.0.0.1:9".into(), room_mode: RoomMode::SingleRoom },
            handler.clone(),
        )
        .unwrap();
        assert_eq!(Arc::strong_count(&handler), 2);
        e.destroy();
        e.destroy();
        assert_eq!(Arc::strong_count(&handler), 1, "destroy releases the handler");
        assert_eq!(e.set_engine_config("room_retry_time=5".into()).unwrap_err().code(), ENGINE_NOT_CREATED);
        assert_eq!(e.logout_room(None).unwrap_err().code(), ENGINE_NOT_CREATED);
        assert_eq!(e.start_publishing_stream("s".into(), None, PublishChannel::Main).unwrap_err().code(), ENGINE_NOT_CREATED);
        assert_eq!(e.send_sei(vec![1], PublishChannel::Main).unwrap_err().code(), ENGINE_NOT_CREATED);
        assert_eq!(e.send_broadcast_message("r".into(), "m".into()).unwrap_err().code(), ENGINE_NOT_CREATED);
        assert_eq!(e.get_room_stream_list("".into(), RoomStreamListType::All).unwrap_err().code(), ENGINE_NOT_CREATED);
    }
}
