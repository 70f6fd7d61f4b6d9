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
    }

    struct Nop;
    impl RoomEventHandler for Nop {
        fn on_room_state_changed(&self, _: RoomStateChangedReason, _: i32, _: String, _: String) {}
        fn on_room_state_update(&self, _: RoomState, _: i32, _: String, _: String) {}
        fn on_room_user_update(&self, _: UpdateType, _: Vec<User>, _: String) {}
        fn on_room_online_user_count_update(&self, _: i32, _: String) {}
        fn on_room_token_will_expire(&self, _: i32, _: String) {}
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
    }
}
