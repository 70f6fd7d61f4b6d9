//! C ABI (contract §2). The header `include/zego_room.h` is generated from this file by cbindgen
//! 0.29.4 (`UPDATE_C_HEADER=1 cargo test --test c_header`); every item exported to C is declared
//! here, the helpers live in the submodules.
//!
//! No room logic lives here: arguments are checked (NULL, bounds, UTF-8, the §1.4 limits on the
//! caller's raw bytes), converted, and handed to [`crate::engine::RoomEngine`]. Every body runs
//! behind the panic guard ([`guard`]).

#![allow(non_camel_case_types)]
// The pointer rules of every `unsafe extern "C" fn` (valid or NULL, NUL-terminated, borrowed for
// the call) are stated once in the header preamble (cbindgen.toml) rather than per function.
#![allow(clippy::missing_safety_doc)]

mod callbacks;
mod cstr;
mod guard;
mod handles;
#[doc(hidden)]
pub use handles::inject_events_for_bench;
mod log;

use std::ffi::{c_char, c_void};
use std::ptr::addr_of;
use std::sync::Arc;

use crate::core::validate;
use crate::engine::{check_server_url, RoomEngine};
use crate::error_codes::*;
use crate::types::{EngineProfile, RoomConfig, RoomMode, User};
use callbacks::{CallbackTable, Slot};
use guard::{guard, guard_or};

/// A ZEGO error code: 0 is success, 1000xxx/1002xxx otherwise.
pub type zego_error = i32;

/// The sequence number of a `zego_engine_login_room` / `zego_engine_logout_room` call (> 0),
/// echoed by the matching login/logout result callback.
pub type zego_seq = i32;

/// An engine (opaque, thread-safe). The pointer is a handle, never dereferenced by the library:
/// after `zego_engine_destroy` every function given it returns 1000001 (or does nothing).
pub struct zego_engine {
    _private: [u8; 0],
}

/// Why a room's state changed (`zego_on_room_state_changed`).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum zego_room_state_changed_reason {
    /// `login_room` called, or `switch_room` entering the target room.
    ZEGO_ROOM_STATE_CHANGED_REASON_LOGINING = 0,
    /// Login (or switch) succeeded.
    ZEGO_ROOM_STATE_CHANGED_REASON_LOGINED = 1,
    /// Login failed: 1002033 (token), 1002034 (room full), 1002053 (server unreachable).
    ZEGO_ROOM_STATE_CHANGED_REASON_LOGIN_FAILED = 2,
    /// Connection lost after login (1002051); the engine is retrying.
    ZEGO_ROOM_STATE_CHANGED_REASON_RECONNECTING = 3,
    /// Reconnected within the retry window.
    ZEGO_ROOM_STATE_CHANGED_REASON_RECONNECTED = 4,
    /// The retry window ran out (1002053).
    ZEGO_ROOM_STATE_CHANGED_REASON_RECONNECT_FAILED = 5,
    /// Kicked: 1002050 (same user logged in elsewhere) or 1002055 (admin API).
    ZEGO_ROOM_STATE_CHANGED_REASON_KICK_OUT = 6,
    /// Logged out (`logout_room`, or `switch_room` leaving the source room).
    ZEGO_ROOM_STATE_CHANGED_REASON_LOGOUT = 7,
    /// `logout_room` / `switch_room` named a room this engine is not in (1002002).
    ZEGO_ROOM_STATE_CHANGED_REASON_LOGOUT_FAILED = 8,
}

/// Legacy room state (`zego_on_room_state_update`).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum zego_room_state {
    ZEGO_ROOM_STATE_DISCONNECTED = 0,
    ZEGO_ROOM_STATE_CONNECTING = 1,
    ZEGO_ROOM_STATE_CONNECTED = 2,
}

/// Whether users arrived or left (`zego_on_room_user_update`).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum zego_update_type {
    ZEGO_UPDATE_TYPE_ADD = 0,
    ZEGO_UPDATE_TYPE_DELETE = 1,
}

/// Single room (a second login returns 1002001) or up to 5 rooms at once.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum zego_room_mode {
    ZEGO_ROOM_MODE_SINGLE_ROOM = 0,
    ZEGO_ROOM_MODE_MULTI_ROOM = 1,
}

/// What `zego_engine_create` needs. Borrowed for the call only.
#[repr(C)]
pub struct zego_engine_profile {
    pub app_id: u32,
    /// `"ws://host:port"` or `"wss://host:port"`, or a comma-separated list of them (a cluster,
    /// contract §8: the first attempt uses the first, each new attempt the next).
    pub server: *const c_char,
    /// A value other than the constants returns 1000017.
    pub room_mode: zego_room_mode,
}

/// A user. As input: borrowed for the call only. In `zego_on_room_user_update`: owned by the
/// library, valid until the callback returns.
#[repr(C)]
pub struct zego_user {
    /// 1-63 bytes of digits, ASCII letters and ``~!@#$%^&*()_+=-`;',.<>/\``.
    pub user_id: *const c_char,
    /// Up to 255 bytes of UTF-8; NULL or "" means user_id.
    pub user_name: *const c_char,
}

/// Per-login options. Borrowed for the call only.
#[repr(C)]
pub struct zego_room_config {
    /// 0 = unlimited; applies when this login opens an empty room.
    pub max_member_count: u32,
    /// Receive `zego_on_room_user_update` for this room.
    pub is_user_status_notify: bool,
    /// token04; NULL or "" = none.
    pub token: *const c_char,
}

/// Room state changed. `extended_data` is a JSON object text (at least `{}`); it carries
/// `"room_session_id"` on LOGINED/RECONNECTED and `"custom_kickout_message"` on an admin kick.
pub type zego_on_room_state_changed = Option<
    unsafe extern "C" fn(
        user_context: *mut c_void,
        reason: zego_room_state_changed_reason,
        error_code: zego_error,
        extended_data: *const c_char,
        room_id: *const c_char,
    ),
>;

/// Legacy room state; follows the reason change it belongs to, only when the state changes.
pub type zego_on_room_state_update = Option<
    unsafe extern "C" fn(
        user_context: *mut c_void,
        state: zego_room_state,
        error_code: zego_error,
        extended_data: *const c_char,
        room_id: *const c_char,
    ),
>;

/// Other users arrived or left (never the local user). `user_list` has `user_count` entries.
pub type zego_on_room_user_update = Option<
    unsafe extern "C" fn(
        user_context: *mut c_void,
        update_type: zego_update_type,
        user_list: *const zego_user,
        user_count: u32,
        room_id: *const c_char,
    ),
>;

/// Users online in the room, the local user included.
pub type zego_on_room_online_user_count_update =
    Option<unsafe extern "C" fn(user_context: *mut c_void, count: i32, room_id: *const c_char)>;

/// The room's token expires in `remain_time_in_second` (<= 30); call `zego_engine_renew_token`.
pub type zego_on_room_token_will_expire =
    Option<unsafe extern "C" fn(user_context: *mut c_void, remain_time_in_second: i32, room_id: *const c_char)>;

/// A `zego_engine_login_room` settled: 0 (with the LOGINED extended data) or the LOGIN_FAILED
/// code; `seq` is the one the call returned.
pub type zego_on_room_login_result = Option<
    unsafe extern "C" fn(
        user_context: *mut c_void,
        error_code: zego_error,
        extended_data: *const c_char,
        room_id: *const c_char,
        seq: zego_seq,
    ),
>;

/// A `zego_engine_logout_room` settled, once per room left (1002002 for a room not joined).
pub type zego_on_room_logout_result = Option<
    unsafe extern "C" fn(
        user_context: *mut c_void,
        error_code: zego_error,
        extended_data: *const c_char,
        room_id: *const c_char,
        seq: zego_seq,
    ),
>;

/// A log record: `level` 1 error, 2 warn, 3 info, 4 debug, 5 trace. Called on any library
/// thread, possibly concurrently; `target` and `message` are valid for the call only.
pub type zego_on_log = Option<unsafe extern "C" fn(user_context: *mut c_void, level: i32, target: *const c_char, message: *const c_char)>;

/// Limits for strings that §1.4 does not bound.
const MAX_SERVER_URL_BYTES: usize = 4096;
const MAX_ADVANCED_CONFIG_BYTES: usize = 64 * 1024;

/// Reads `room_id` (NULL → 1000017) with the §1.4 checks on its raw bytes.
unsafe fn room_id_arg<'a>(p: *const c_char) -> Result<&'a str, i32> {
    if p.is_null() {
        return Err(ILLEGAL_PARAM);
    }
    let raw = cstr::bounded(p, validate::MAX_ROOM_ID_BYTES).map_err(|_| ROOM_ID_TOO_LONG)?;
    validate::check_room_id(raw)?;
    Ok(std::str::from_utf8(raw).expect("checked: ASCII"))
}

/// Reads a token (NULL → `""` when `null_ok`, else 1000017).
unsafe fn token_arg<'a>(p: *const c_char, null_ok: bool) -> Result<&'a str, i32> {
    if p.is_null() {
        return if null_ok { Ok("") } else { Err(ILLEGAL_PARAM) };
    }
    let raw = cstr::bounded(p, validate::MAX_TOKEN_BYTES).map_err(|_| ILLEGAL_PARAM)?;
    validate::check_token(raw)?;
    Ok(std::str::from_utf8(raw).expect("checked: UTF-8"))
}

unsafe fn user_arg(p: *const zego_user) -> Result<User, i32> {
    if p.is_null() {
        return Err(ILLEGAL_PARAM);
    }
    let id_ptr = addr_of!((*p).user_id).read();
    let name_ptr = addr_of!((*p).user_name).read();
    if id_ptr.is_null() {
        return Err(ILLEGAL_PARAM);
    }
    let id = cstr::bounded(id_ptr, validate::MAX_USER_ID_BYTES).map_err(|_| USER_ID_TOO_LONG)?;
    validate::check_user_id(id)?;
    let name: &[u8] = if name_ptr.is_null() {
        b""
    } else {
        cstr::bounded(name_ptr, validate::MAX_USER_NAME_BYTES).map_err(|_| USER_NAME_TOO_LONG)?
    };
    validate::check_user_name(name)?;
    Ok(User {
        user_id: String::from_utf8(id.to_vec()).expect("checked: ASCII"),
        user_name: String::from_utf8(name.to_vec()).expect("checked: UTF-8"),
    })
}

unsafe fn config_arg(p: *const zego_room_config) -> Result<Option<RoomConfig>, i32> {
    if p.is_null() {
        return Ok(None);
    }
    let max_member_count = addr_of!((*p).max_member_count).read();
    // Read as a byte: a C `bool` holding anything but 0/1 must not become an invalid Rust bool.
    let notify = addr_of!((*p).is_user_status_notify).cast::<u8>().read() != 0;
    let token = token_arg(addr_of!((*p).token).read(), true)?;
    Ok(Some(RoomConfig { max_member_count, is_user_status_notify: notify, token: token.to_owned() }))
}

/// Returns the version of the library, e.g. `"0.1.0"`: a static string, never freed.
#[no_mangle]
pub extern "C" fn zego_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

/// Creates an engine. On success writes the handle to `*out_engine` and returns 0; otherwise
/// returns 1000017 (NULL `profile`/`out_engine`, unusable `server` URL, unknown `room_mode`) and
/// leaves `*out_engine` untouched. No connection is made until a login. The engine starts two
/// threads (I/O and callbacks); release it with `zego_engine_destroy`.
#[no_mangle]
pub unsafe extern "C" fn zego_engine_create(profile: *const zego_engine_profile, out_engine: *mut *mut zego_engine) -> zego_error {
    guard(|| {
        if profile.is_null() || out_engine.is_null() {
            return Err(ILLEGAL_PARAM);
        }
        let app_id = addr_of!((*profile).app_id).read();
        let server = cstr::utf8(addr_of!((*profile).server).read(), MAX_SERVER_URL_BYTES, ILLEGAL_PARAM, ILLEGAL_PARAM, ILLEGAL_PARAM)?;
        let room_mode = match addr_of!((*profile).room_mode).cast::<i32>().read() {
            0 => RoomMode::SingleRoom,
            1 => RoomMode::MultiRoom,
            _ => return Err(ILLEGAL_PARAM),
        };
        check_server_url(server)?;
        let callbacks = Arc::new(CallbackTable::default());
        let engine = RoomEngine::new(EngineProfile { app_id, server: server.to_owned(), room_mode }, callbacks.clone())?;
        out_engine.write(handles::insert(engine, callbacks));
        Ok(())
    })
}

/// Destroys the engine: leaves every room (no events) and stops its threads. NULL, an already
/// destroyed handle, or a second call are harmless. Once it returns (called outside a callback)
/// no callback of this engine runs again; called from inside one of its callbacks it takes
/// effect when that callback returns.
#[no_mangle]
pub extern "C" fn zego_engine_destroy(engine: *mut zego_engine) {
    guard_or((), || handles::destroy(engine))
}

/// Advanced configuration, `"key=value;key=value"`. Known key: `room_retry_time` (seconds).
/// Unknown keys are ignored (logged); an unparsable value returns 1000017 and changes nothing.
#[no_mangle]
pub unsafe extern "C" fn zego_engine_set_engine_config(engine: *mut zego_engine, advanced_config: *const c_char) -> zego_error {
    guard(|| {
        let e = handles::get(engine)?;
        let text = cstr::utf8(advanced_config, MAX_ADVANCED_CONFIG_BYTES, ILLEGAL_PARAM, ILLEGAL_PARAM, ILLEGAL_PARAM)?;
        e.engine.set_engine_config(text)
    })
}

/// Logs into a room. Returns 0 when the login started (the outcome arrives as LOGINED or
/// LOGIN_FAILED and as the login result with the same seq), or an error with nothing else
/// happening: 1000001, 1000017 (NULL `room_id`/`user`/`user->user_id`, bad token), the room and
/// user limits (1002005-1002013), 1002001/1002018/1002037 (room mode limits). `config` NULL =
/// defaults. `*out_seq` (nullable) is written only on success.
#[no_mangle]
pub unsafe extern "C" fn zego_engine_login_room(
    engine: *mut zego_engine,
    room_id: *const c_char,
    user: *const zego_user,
    config: *const zego_room_config,
    out_seq: *mut zego_seq,
) -> zego_error {
    guard(|| {
        let e = handles::get(engine)?;
        let room_id = room_id_arg(room_id)?;
        let user = user_arg(user)?;
        let config = config_arg(config)?;
        let seq = e.engine.login_room(room_id, &user, config.as_ref())?;
        if !out_seq.is_null() {
            out_seq.write(seq);
        }
        Ok(())
    })
}

/// Logs out of `room_id`, or of every room when it is NULL (a LOGOUT event and a logout result
/// per room). A room this engine is not in returns 0 and reports LOGOUT_FAILED (1002002).
/// `*out_seq` (nullable) is written only on success.
#[no_mangle]
pub unsafe extern "C" fn zego_engine_logout_room(engine: *mut zego_engine, room_id: *const c_char, out_seq: *mut zego_seq) -> zego_error {
    guard(|| {
        let e = handles::get(engine)?;
        let room_id = if room_id.is_null() { None } else { Some(room_id_arg(room_id)?) };
        let seq = e.engine.logout_room(room_id)?;
        if !out_seq.is_null() {
            out_seq.write(seq);
        }
        Ok(())
    })
}

/// Single-room mode: LOGOUT from `from_room_id`, then LOGINING and LOGINED in `to_room_id`.
/// `config` NULL reuses the source room's config (token included). Multi-room mode: 1002019.
#[no_mangle]
pub unsafe extern "C" fn zego_engine_switch_room(
    engine: *mut zego_engine,
    from_room_id: *const c_char,
    to_room_id: *const c_char,
    config: *const zego_room_config,
) -> zego_error {
    guard(|| {
        let e = handles::get(engine)?;
        let from = room_id_arg(from_room_id)?;
        let to = room_id_arg(to_room_id)?;
        let config = config_arg(config)?;
        e.engine.switch_room(from, to, config.as_ref())
    })
}

/// Replaces the token of a joined room and re-arms the expiry warning; 1002002 for a room not
/// joined, 1000017 for a NULL or unusable token.
#[no_mangle]
pub unsafe extern "C" fn zego_engine_renew_token(engine: *mut zego_engine, room_id: *const c_char, token: *const c_char) -> zego_error {
    guard(|| {
        let e = handles::get(engine)?;
        let room_id = room_id_arg(room_id)?;
        let token = token_arg(token, false)?;
        e.engine.renew_token(room_id, token)
    })
}

/// Registers (or, with NULL `cb`, unregisters) one callback; NULL engine: no-op.
fn register(engine: *mut zego_engine, set: impl FnOnce(&mut callbacks::Slots)) {
    guard_or((), || {
        if let Ok(e) = handles::get(engine) {
            e.callbacks.register(e.engine.is_callback_thread(), set);
        }
    })
}

/// Registers the room state callback (NULL unregisters). Callbacks of an engine run on its one
/// callback thread, in order, never concurrently, with no engine lock held. When this returns
/// (called outside a callback) the previous function is never called again with the previous
/// context: it waits for a call in progress to finish.
#[no_mangle]
pub extern "C" fn zego_engine_register_room_state_changed_callback(engine: *mut zego_engine, cb: zego_on_room_state_changed, user_context: *mut c_void) {
    register(engine, |s| s.state_changed = Slot::new(cb, user_context))
}

/// Registers the legacy room state callback (NULL unregisters); as
/// `zego_engine_register_room_state_changed_callback`.
#[no_mangle]
pub extern "C" fn zego_engine_register_room_state_update_callback(engine: *mut zego_engine, cb: zego_on_room_state_update, user_context: *mut c_void) {
    register(engine, |s| s.state_update = Slot::new(cb, user_context))
}

/// Registers the user update callback (NULL unregisters); as
/// `zego_engine_register_room_state_changed_callback`.
#[no_mangle]
pub extern "C" fn zego_engine_register_room_user_update_callback(engine: *mut zego_engine, cb: zego_on_room_user_update, user_context: *mut c_void) {
    register(engine, |s| s.user_update = Slot::new(cb, user_context))
}

/// Registers the online user count callback (NULL unregisters); as
/// `zego_engine_register_room_state_changed_callback`.
#[no_mangle]
pub extern "C" fn zego_engine_register_room_online_user_count_update_callback(
    engine: *mut zego_engine,
    cb: zego_on_room_online_user_count_update,
    user_context: *mut c_void,
) {
    register(engine, |s| s.online_count = Slot::new(cb, user_context))
}

/// Registers the token expiry callback (NULL unregisters); as
/// `zego_engine_register_room_state_changed_callback`.
#[no_mangle]
pub extern "C" fn zego_engine_register_room_token_will_expire_callback(
    engine: *mut zego_engine,
    cb: zego_on_room_token_will_expire,
    user_context: *mut c_void,
) {
    register(engine, |s| s.token_will_expire = Slot::new(cb, user_context))
}

/// Registers the login result callback (NULL unregisters); as
/// `zego_engine_register_room_state_changed_callback`.
#[no_mangle]
pub extern "C" fn zego_engine_register_room_login_result_callback(engine: *mut zego_engine, cb: zego_on_room_login_result, user_context: *mut c_void) {
    register(engine, |s| s.login_result = Slot::new(cb, user_context))
}

/// Registers the logout result callback (NULL unregisters); as
/// `zego_engine_register_room_state_changed_callback`.
#[no_mangle]
pub extern "C" fn zego_engine_register_room_logout_result_callback(engine: *mut zego_engine, cb: zego_on_room_logout_result, user_context: *mut c_void) {
    register(engine, |s| s.logout_result = Slot::new(cb, user_context))
}

/// Forwards the library's log records up to `max_level` (1 error .. 5 trace; <= 0 = none) to
/// `cb`, process-wide; NULL `cb` stops forwarding. When it returns (outside a log callback) the
/// previous function is not called again with the previous context. Records the library
/// produces while `cb` runs on the same thread are dropped (no recursion).
#[no_mangle]
pub extern "C" fn zego_set_log_callback(cb: zego_on_log, user_context: *mut c_void, max_level: i32) {
    guard_or((), || log::set(cb, user_context, max_level))
}
