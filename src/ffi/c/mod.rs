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
mod stream_list;

use std::ffi::{c_char, c_void};
use std::ptr::addr_of;
use std::sync::Arc;

use crate::core::validate;
use crate::engine::{check_server_url, RoomEngine};
use crate::error_codes::*;
use crate::types::{EngineProfile, PlayerConfig, PublishChannel, PublisherConfig, RoomConfig, RoomMode, RoomStreamListType, User};
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

// ---- streams (contract §6.2) -----------------------------------------------------------------

/// A publisher's state (`zego_on_publisher_state_update`, contract §6.1).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum zego_publisher_state {
    /// Not publishing: stopped (0), or failed/ended with 1003021, 1003025, 1003028, 1003072 or a
    /// kick's code.
    ZEGO_PUBLISHER_STATE_NO_PUBLISH = 0,
    /// Asking the server (0), or retrying after the room connection was lost (1003020).
    ZEGO_PUBLISHER_STATE_PUBLISH_REQUESTING = 1,
    /// The server accepted the stream; others see it.
    ZEGO_PUBLISHER_STATE_PUBLISHING = 2,
}

/// A player's state (`zego_on_player_state_update`, contract §6.1).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum zego_player_state {
    /// Not playing: stopped (0), or ended with 1004020, 1004025 or the room's code.
    ZEGO_PLAYER_STATE_NO_PLAY = 0,
    /// Waiting for the stream to be published (0) or to come back (1004020).
    ZEGO_PLAYER_STATE_PLAY_REQUESTING = 1,
    /// The stream exists and its publisher is connected: SEI frames arrive.
    ZEGO_PLAYER_STATE_PLAYING = 2,
}

/// One of the four publish channels; each publishes at most one stream. A parameter of this
/// type outside 0–3 returns 1000017.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum zego_publish_channel {
    ZEGO_PUBLISH_CHANNEL_MAIN = 0,
    ZEGO_PUBLISH_CHANNEL_AUX = 1,
    ZEGO_PUBLISH_CHANNEL_THIRD = 2,
    ZEGO_PUBLISH_CHANNEL_FOURTH = 3,
}

/// Which streams `zego_engine_get_room_stream_list` returns: PLAY = other users' streams, ALL =
/// the local user's published ones too. Another value returns 1000017.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum zego_room_stream_list_type {
    ZEGO_ROOM_STREAM_LIST_TYPE_PLAY = 0,
    ZEGO_ROOM_STREAM_LIST_TYPE_ALL = 1,
}

/// An enum value as C passes it: any `int32_t`, checked before it becomes a Rust enum (an
/// out-of-range value in a Rust enum would be undefined behaviour). The header names it after
/// the enum (cbindgen.toml `[export.rename]`).
/// cbindgen:ignore
type PublishChannelArg = i32;
/// As [`PublishChannelArg`], for `zego_room_stream_list_type` parameters.
/// cbindgen:ignore
type StreamListTypeArg = i32;

/// A stream: who publishes it, its id and its extra info. In callbacks: owned by the library,
/// valid until the callback returns. From `zego_engine_get_room_stream_list`: owned by the
/// caller until `zego_stream_list_free`.
#[repr(C)]
pub struct zego_stream {
    /// The publisher (user_name filled: user_id when none was given).
    pub user: zego_user,
    /// 1–255 bytes of `[0-9A-Za-z_-]`.
    pub stream_id: *const c_char,
    /// 0–1024 bytes of UTF-8 (never NULL; "" when none).
    pub extra_info: *const c_char,
}

/// Options of `zego_engine_start_publishing_stream`. Borrowed for the call only.
#[repr(C)]
pub struct zego_publisher_config {
    /// The room to publish in: NULL or "" = the only room (single-room mode); required in
    /// multi-room mode (1003071 otherwise).
    pub room_id: *const c_char,
}

/// Options of `zego_engine_start_playing_stream`. Borrowed for the call only.
#[repr(C)]
pub struct zego_player_config {
    /// The room to play from: NULL or "" = the only room (single-room mode); required in
    /// multi-room mode (1004071 otherwise).
    pub room_id: *const c_char,
}

/// Other users' streams were added (`extended_data` `{}`) or deleted (`extended_data`
/// `{"stream_delete_reason":[{"stream_id":"…","code":N}]}`, N: 1 stopped or logged out, 2
/// heartbeat grace passed, 3 duplicate login, 4 kicked, 5 engine destroyed, 6 forbidden by the
/// admin API). Never the local user's streams. `stream_list` has `stream_count` (>= 1) entries.
/// Contract §6.1.
pub type zego_on_room_stream_update = Option<
    unsafe extern "C" fn(
        user_context: *mut c_void,
        update_type: zego_update_type,
        stream_list: *const zego_stream,
        stream_count: u32,
        extended_data: *const c_char,
        room_id: *const c_char,
    ),
>;

/// Other users changed their streams' extra info (also right after LOGINED for streams already
/// there with extra info). Each entry carries the new `extra_info`.
pub type zego_on_room_stream_extra_info_update =
    Option<unsafe extern "C" fn(user_context: *mut c_void, stream_list: *const zego_stream, stream_count: u32, room_id: *const c_char)>;

/// A stream this engine publishes changed state. `extended_data` is a JSON object text (`{}` at
/// least). Codes: 1003020 (connection lost, retrying), 1003021 (retry window ran out), 1003025
/// (forbidden), 1003028 (stream id taken), 1003072 (no privilege), a kick's code. Contract §6.1.
pub type zego_on_publisher_state_update = Option<
    unsafe extern "C" fn(
        user_context: *mut c_void,
        state: zego_publisher_state,
        error_code: zego_error,
        extended_data: *const c_char,
        stream_id: *const c_char,
    ),
>;

/// A stream this engine plays changed state. Codes: 1004020 (interrupted; on NO_PLAY: not back
/// within `av_retry_time`), 1004025 (forbidden), the room's code on a kick. Contract §6.1.
pub type zego_on_player_state_update = Option<
    unsafe extern "C" fn(
        user_context: *mut c_void,
        state: zego_player_state,
        error_code: zego_error,
        extended_data: *const c_char,
        stream_id: *const c_char,
    ),
>;

/// Result of `zego_engine_set_stream_extra_info`: 0 or a code, with the seq the call returned.
pub type zego_on_publisher_update_stream_extra_info_result =
    Option<unsafe extern "C" fn(user_context: *mut c_void, error_code: zego_error, seq: zego_seq)>;

/// One SEI frame of a played stream: `data_length` (1–4096) bytes, byte for byte as sent (they
/// may contain NUL bytes), in the publisher's order, each frame once.
pub type zego_on_player_recv_sei =
    Option<unsafe extern "C" fn(user_context: *mut c_void, data: *const u8, data_length: u32, stream_id: *const c_char)>;

// ---- messaging and room extra info (contract §7.2) ---------------------------------------------

/// A broadcast message as received. Owned by the library, valid until the callback returns.
#[repr(C)]
pub struct zego_broadcast_message_info {
    /// 1–1024 bytes of UTF-8.
    pub message: *const c_char,
    /// Increasing per room.
    pub message_id: u64,
    /// Server time, milliseconds since the Unix epoch.
    pub send_time: u64,
    pub from_user: zego_user,
}

/// A barrage message as received. Owned by the library, valid until the callback returns.
#[repr(C)]
pub struct zego_barrage_message_info {
    /// 1–1024 bytes of UTF-8.
    pub message: *const c_char,
    pub message_id: *const c_char,
    /// Server time, milliseconds since the Unix epoch.
    pub send_time: u64,
    pub from_user: zego_user,
}

/// The room's extra info (one key per room). Owned by the library, valid until the callback
/// returns.
#[repr(C)]
pub struct zego_room_extra_info {
    /// 1–10 bytes.
    pub key: *const c_char,
    /// 0–128 bytes.
    pub value: *const c_char,
    /// Who set it.
    pub update_user: zego_user,
    /// Server time, milliseconds since the Unix epoch.
    pub update_time: u64,
}

/// Result of `zego_engine_send_broadcast_message`: 0 with the message id (increasing per room),
/// or a code (1009015 sending too fast, 1009010 the room ended before it could be sent).
pub type zego_on_im_send_broadcast_message_result =
    Option<unsafe extern "C" fn(user_context: *mut c_void, error_code: zego_error, message_id: u64, room_id: *const c_char, seq: zego_seq)>;

/// Result of `zego_engine_send_barrage_message`: 0 with the message id, or a code.
pub type zego_on_im_send_barrage_message_result = Option<
    unsafe extern "C" fn(user_context: *mut c_void, error_code: zego_error, message_id: *const c_char, room_id: *const c_char, seq: zego_seq),
>;

/// Result of `zego_engine_send_custom_command`: 0 or a code.
pub type zego_on_im_send_custom_command_result =
    Option<unsafe extern "C" fn(user_context: *mut c_void, error_code: zego_error, room_id: *const c_char, seq: zego_seq)>;

/// Result of `zego_engine_set_room_extra_info`: 0 or a code.
pub type zego_on_room_set_room_extra_info_result = Option<
    unsafe extern "C" fn(user_context: *mut c_void, error_code: zego_error, room_id: *const c_char, key: *const c_char, seq: zego_seq),
>;

/// 1–50 broadcast messages from others, in send order (never the local user's own).
pub type zego_on_im_recv_broadcast_message = Option<
    unsafe extern "C" fn(user_context: *mut c_void, message_list: *const zego_broadcast_message_info, message_count: u32, room_id: *const c_char),
>;

/// 1–50 barrage messages from others, in send order.
pub type zego_on_im_recv_barrage_message = Option<
    unsafe extern "C" fn(user_context: *mut c_void, message_list: *const zego_barrage_message_info, message_count: u32, room_id: *const c_char),
>;

/// A custom command sent to the local user (or to everyone) by `from_user`.
pub type zego_on_im_recv_custom_command =
    Option<unsafe extern "C" fn(user_context: *mut c_void, command: *const c_char, from_user: *const zego_user, room_id: *const c_char)>;

/// The room's extra info changed (set by someone else), or its current value right after
/// LOGINED, or again after RECONNECTED if it changed during the gap.
pub type zego_on_room_extra_info_update = Option<
    unsafe extern "C" fn(
        user_context: *mut c_void,
        room_extra_info_list: *const zego_room_extra_info,
        room_extra_info_count: u32,
        room_id: *const c_char,
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

/// Advanced configuration, `"key=value;key=value"` (contract §1.3, §9). Known keys:
/// `room_retry_time` (whole seconds) and `tls_ca_file` (path of a PEM file of CA certificates
/// trusted for `wss://` besides the platform's roots; read during this call; empty = platform
/// roots only). Unknown keys are ignored (logged); a value that cannot be used (unparsable, an
/// unreadable CA file, no CA certificate in it) returns 1000017 and changes nothing.
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

// ---- streams and messaging: argument readers ---------------------------------------------------

/// A channel parameter: 0–3, anything else 1000017.
fn channel_arg(raw: PublishChannelArg) -> Result<PublishChannel, i32> {
    PublishChannel::from_index(i64::from(raw)).ok_or(ILLEGAL_PARAM)
}

/// Reads a stream id (NULL → 1000017) with the §6.1 checks on its raw bytes (1000015 empty,
/// 1000014 longer than 255 bytes, without scanning further; 1000016 another character, invalid
/// UTF-8 included).
unsafe fn stream_id_arg<'a>(p: *const c_char) -> Result<&'a str, i32> {
    if p.is_null() {
        return Err(ILLEGAL_PARAM);
    }
    let raw = cstr::bounded(p, validate::MAX_STREAM_ID_BYTES).map_err(|_| STREAM_ID_TOO_LONG)?;
    validate::check_stream_id(raw)?;
    Ok(std::str::from_utf8(raw).expect("checked: ASCII"))
}

/// A room id that only *names* a room (stream configs and lists, messaging, room extra info).
/// Unlike `login_room`, these calls do not check the §1.4 limits: the core answers "not joined"
/// for any name that is not a joined room. So bytes that can never name a joined room (longer
/// than 127 bytes, which are not scanned further, or not UTF-8) become `Unjoinable`, which the
/// caller turns into its own "not joined" code after its other checks, as the core would.
enum RoomName<'a> {
    Name(&'a str),
    Unjoinable,
}

/// Reads a room name; NULL → `null` (an error code, or `Ok(Name(""))` where NULL is allowed).
unsafe fn room_name_arg<'a>(p: *const c_char, null: Result<RoomName<'a>, i32>) -> Result<RoomName<'a>, i32> {
    if p.is_null() {
        return null;
    }
    Ok(match cstr::bounded(p, validate::MAX_ROOM_ID_BYTES).ok().and_then(|raw| std::str::from_utf8(raw).ok()) {
        Some(name) => RoomName::Name(name),
        None => RoomName::Unjoinable,
    })
}

/// The room of a publisher/player config (NULL config, NULL or "" room id = the only room).
unsafe fn stream_config_room<'a>(room_id_field: Option<*const c_char>) -> Result<RoomName<'a>, i32> {
    match room_id_field {
        None => Ok(RoomName::Name("")),
        Some(p) => room_name_arg(p, Ok(RoomName::Name(""))),
    }
}

/// Reads a message or command (NULL → 1000017): 1009001 empty, 1009002 longer than 1024 bytes
/// (not scanned further), 1000017 not UTF-8 (contract §7.1).
unsafe fn message_arg<'a>(p: *const c_char) -> Result<&'a str, i32> {
    if p.is_null() {
        return Err(ILLEGAL_PARAM);
    }
    let raw = cstr::bounded(p, validate::MAX_MESSAGE_BYTES).map_err(|_| MESSAGE_TOO_LONG)?;
    validate::check_message(raw)?;
    Ok(std::str::from_utf8(raw).expect("checked: UTF-8"))
}

fn write_seq(out_seq: *mut zego_seq, seq: zego_seq) {
    if !out_seq.is_null() {
        // SAFETY: a non-NULL out-parameter points to a writable zego_seq (header preamble).
        unsafe { out_seq.write(seq) };
    }
}

// ---- streams (contract §6) ----------------------------------------------------------------------

/// Publishes `stream_id` on `channel` in the room named by `config` (NULL config or room id =
/// the only room; multi-room mode requires it: 1003071). Returns 0 when the publish started: the
/// outcome arrives as `zego_on_publisher_state_update` (PUBLISH_REQUESTING, then PUBLISHING or
/// NO_PUBLISH with 1003028 / 1003072 / 1003025). Publishing the same stream on the same channel
/// again returns 0 and changes nothing. Errors, with nothing else happening: 1000001, 1000017
/// (NULL `stream_id`, `channel` outside 0–3), 1000015 / 1000014 / 1000016 (stream id empty,
/// longer than 255 bytes, a character outside `[0-9A-Za-z_-]`), 1000002 (the room is not
/// joined), 1003023 (the channel publishes another stream). Contract §6.1.
#[no_mangle]
pub unsafe extern "C" fn zego_engine_start_publishing_stream(
    engine: *mut zego_engine,
    stream_id: *const c_char,
    config: *const zego_publisher_config,
    channel: PublishChannelArg,
) -> zego_error {
    guard(|| {
        let e = handles::get(engine)?;
        let stream_id = stream_id_arg(stream_id)?;
        let channel = channel_arg(channel)?;
        let room = stream_config_room((!config.is_null()).then(|| addr_of!((*config).room_id).read()))?;
        let RoomName::Name(room_id) = room else { return Err(NOT_LOGIN_ROOM) };
        let config = (!room_id.is_empty()).then(|| PublisherConfig { room_id: room_id.to_owned() });
        e.engine.start_publishing_stream(stream_id, config.as_ref(), channel)
    })
}

/// Stops the stream of `channel`: NO_PUBLISH (0) for it, and others see it deleted (reason 1).
/// A channel that publishes nothing returns 0. Errors: 1000001, 1000017 (`channel` outside 0–3).
#[no_mangle]
pub extern "C" fn zego_engine_stop_publishing_stream(engine: *mut zego_engine, channel: PublishChannelArg) -> zego_error {
    guard(|| {
        let e = handles::get(engine)?;
        let channel = channel_arg(channel)?;
        e.engine.stop_publishing_stream(channel)
    })
}

/// Sets the extra info (0–1024 bytes of UTF-8) of `channel`'s stream, before or while
/// publishing. The result arrives as `zego_on_publisher_update_stream_extra_info_result` with
/// the seq written to `*out_seq` (nullable; written only on success); others get
/// `zego_on_room_stream_extra_info_update`. Errors: 1000001, 1000017 (NULL `extra_info`, longer
/// than 1024 bytes, not UTF-8, `channel` outside 0–3). Contract §6.1.
#[no_mangle]
pub unsafe extern "C" fn zego_engine_set_stream_extra_info(
    engine: *mut zego_engine,
    extra_info: *const c_char,
    channel: PublishChannelArg,
    out_seq: *mut zego_seq,
) -> zego_error {
    guard(|| {
        let e = handles::get(engine)?;
        if extra_info.is_null() {
            return Err(ILLEGAL_PARAM);
        }
        let raw = cstr::bounded(extra_info, validate::MAX_STREAM_EXTRA_INFO_BYTES).map_err(|_| ILLEGAL_PARAM)?;
        validate::check_stream_extra_info(raw)?;
        let channel = channel_arg(channel)?;
        let seq = e.engine.set_stream_extra_info(std::str::from_utf8(raw).expect("checked: UTF-8"), channel)?;
        write_seq(out_seq, seq);
        Ok(())
    })
}

/// Plays `stream_id` from the room named by `config` (NULL config or room id = the only room;
/// multi-room mode requires it: 1004071): PLAY_REQUESTING, then PLAYING once the stream is
/// published and its publisher connected (`zego_on_player_state_update`). Errors: 1000001,
/// 1000017 (NULL `stream_id`), the stream id codes (1000014 / 1000015 / 1000016), 1000002 (the
/// room is not joined), 1004010 (a 13th stream played at once). Contract §6.1.
#[no_mangle]
pub unsafe extern "C" fn zego_engine_start_playing_stream(engine: *mut zego_engine, stream_id: *const c_char, config: *const zego_player_config) -> zego_error {
    guard(|| {
        let e = handles::get(engine)?;
        let stream_id = stream_id_arg(stream_id)?;
        let room = stream_config_room((!config.is_null()).then(|| addr_of!((*config).room_id).read()))?;
        let RoomName::Name(room_id) = room else { return Err(NOT_LOGIN_ROOM) };
        let config = (!room_id.is_empty()).then(|| PlayerConfig { room_id: room_id.to_owned() });
        e.engine.start_playing_stream(stream_id, config.as_ref())
    })
}

/// Stops playing `stream_id`: NO_PLAY (0). A stream not played returns 0. Errors: 1000001,
/// 1000017 (NULL), the stream id codes (1000014 / 1000015 / 1000016).
#[no_mangle]
pub unsafe extern "C" fn zego_engine_stop_playing_stream(engine: *mut zego_engine, stream_id: *const c_char) -> zego_error {
    guard(|| {
        let e = handles::get(engine)?;
        let stream_id = stream_id_arg(stream_id)?;
        e.engine.stop_playing_stream(stream_id)
    })
}

/// Sends `data_length` bytes at `data` as one SEI frame to every player of `channel`'s stream
/// (`zego_on_player_recv_sei`: in order, each frame once, byte for byte). The bytes are binary:
/// NUL bytes are data, nothing is read beyond `data_length`. Errors, with nothing sent: 1000001,
/// 1000017 (`data_length` 0 or over 4096, `data` NULL, `channel` outside 0–3), 1003001 (the
/// channel is not PUBLISHING). Contract §6.1.
#[no_mangle]
pub unsafe extern "C" fn zego_engine_send_sei(engine: *mut zego_engine, data: *const u8, data_length: u32, channel: PublishChannelArg) -> zego_error {
    guard(|| {
        let e = handles::get(engine)?;
        let len = usize::try_from(data_length).map_err(|_| ILLEGAL_PARAM)?;
        if data.is_null() || len == 0 || len > crate::protocol::MAX_SEI_BYTES {
            return Err(ILLEGAL_PARAM);
        }
        let channel = channel_arg(channel)?;
        // SAFETY: the caller passes `data_length` readable bytes at `data` (checked non-NULL).
        let bytes = std::slice::from_raw_parts(data, len);
        e.engine.send_sei(bytes, channel)
    })
}

/// Copies the engine's view of a room's streams (no server call) into a new array owned by the
/// caller: `*out_list` (NULL when `*out_count` is 0) and `*out_count`, both written only on
/// success. Free it with `zego_stream_list_free(list, count)`. `type` PLAY = other users'
/// streams, ALL = the local user's published ones too; sorted by stream id. `room_id` "" = the
/// only room (single-room mode). Errors: 1000001, 1000017 (NULL `room_id` / `out_list` /
/// `out_count`, `type` not 0 or 1), 1000002 (the room is not joined). Contract §6.1.
#[no_mangle]
pub unsafe extern "C" fn zego_engine_get_room_stream_list(
    engine: *mut zego_engine,
    room_id: *const c_char,
    r#type: StreamListTypeArg,
    out_list: *mut *mut zego_stream,
    out_count: *mut u32,
) -> zego_error {
    guard(|| {
        let e = handles::get(engine)?;
        if out_list.is_null() || out_count.is_null() {
            return Err(ILLEGAL_PARAM);
        }
        let room = room_name_arg(room_id, Err(ILLEGAL_PARAM))?;
        let list_type = match r#type {
            0 => RoomStreamListType::Play,
            1 => RoomStreamListType::All,
            _ => return Err(ILLEGAL_PARAM),
        };
        let RoomName::Name(room_id) = room else { return Err(NOT_LOGIN_ROOM) };
        let streams = e.engine.get_room_stream_list(room_id, list_type)?;
        let (list, count) = stream_list::allocate(&streams)?;
        out_list.write(list);
        out_count.write(count);
        Ok(())
    })
}

/// Frees a list returned by `zego_engine_get_room_stream_list` (the array and every string in
/// it). NULL is harmless (any count). A pointer that is not a live list (freed already, or never
/// returned by the library) is ignored with a log line instead of corrupting memory; `count`
/// should be the count returned with the list (a different one is logged, and the list is freed
/// whole anyway).
#[no_mangle]
pub extern "C" fn zego_stream_list_free(list: *mut zego_stream, count: u32) {
    guard_or((), || stream_list::free(list, count))
}

// ---- messaging and room extra info (contract §7) -------------------------------------------------

/// Sends `message` (1–1024 bytes of UTF-8) to everyone in `room_id` but the sender, reliably.
/// The result arrives as `zego_on_im_send_broadcast_message_result` with the seq written to
/// `*out_seq` (nullable; written only on success). Errors, with nothing sent: 1000001, 1000017
/// (NULL `room_id` / `message`, message not UTF-8), 1009001 (empty), 1009002 (longer than 1024
/// bytes), 1009005 (room not joined). Contract §7.1.
#[no_mangle]
pub unsafe extern "C" fn zego_engine_send_broadcast_message(
    engine: *mut zego_engine,
    room_id: *const c_char,
    message: *const c_char,
    out_seq: *mut zego_seq,
) -> zego_error {
    guard(|| {
        let e = handles::get(engine)?;
        let room = room_name_arg(room_id, Err(ILLEGAL_PARAM))?;
        let message = message_arg(message)?;
        let RoomName::Name(room_id) = room else { return Err(MESSAGE_ROOM_NOT_JOINED) };
        write_seq(out_seq, e.engine.send_broadcast_message(room_id, message)?);
        Ok(())
    })
}

/// As `zego_engine_send_broadcast_message`, best effort (may be dropped under load); the result
/// arrives as `zego_on_im_send_barrage_message_result`. Contract §7.1.
#[no_mangle]
pub unsafe extern "C" fn zego_engine_send_barrage_message(
    engine: *mut zego_engine,
    room_id: *const c_char,
    message: *const c_char,
    out_seq: *mut zego_seq,
) -> zego_error {
    guard(|| {
        let e = handles::get(engine)?;
        let room = room_name_arg(room_id, Err(ILLEGAL_PARAM))?;
        let message = message_arg(message)?;
        let RoomName::Name(room_id) = room else { return Err(MESSAGE_ROOM_NOT_JOINED) };
        write_seq(out_seq, e.engine.send_barrage_message(room_id, message)?);
        Ok(())
    })
}

/// Sends `command` (1–1024 bytes of UTF-8) reliably to the `to_user_count` (1–5) users of
/// `to_user_list` (only their `user_id` is read), or to everyone in the room but the sender when
/// `to_user_list` is NULL or `to_user_count` 0. The result arrives as
/// `zego_on_im_send_custom_command_result` with the seq written to `*out_seq` (nullable; written
/// only on success). Errors: 1000001, 1000017 (NULL `room_id` / `command` / a `user_id`,
/// `to_user_list` NULL with a count, more than 5 users, not UTF-8), 1009001 / 1009002 (command
/// empty / too long), 1009011 (a user_id empty), 1009012 (a user_id longer than 63 bytes),
/// 1009005 (room not joined). Contract §7.1.
#[no_mangle]
pub unsafe extern "C" fn zego_engine_send_custom_command(
    engine: *mut zego_engine,
    room_id: *const c_char,
    command: *const c_char,
    to_user_list: *const zego_user,
    to_user_count: u32,
    out_seq: *mut zego_seq,
) -> zego_error {
    guard(|| {
        let e = handles::get(engine)?;
        let room = room_name_arg(room_id, Err(ILLEGAL_PARAM))?;
        let command = message_arg(command)?;
        let count = usize::try_from(to_user_count).map_err(|_| ILLEGAL_PARAM)?;
        if to_user_list.is_null() && count > 0 {
            return Err(ILLEGAL_PARAM);
        }
        // The count is checked before any element is read (the core's rule: more than 5 → 1000017).
        if count > validate::MAX_COMMAND_TARGETS {
            return Err(ILLEGAL_PARAM);
        }
        let mut targets: Vec<User> = Vec::with_capacity(count);
        for i in 0..count {
            let id_ptr = addr_of!((*to_user_list.add(i)).user_id).read();
            if id_ptr.is_null() {
                return Err(ILLEGAL_PARAM);
            }
            let raw = cstr::bounded(id_ptr, validate::MAX_USER_ID_BYTES).map_err(|_| MESSAGE_TARGET_TOO_LONG)?;
            let id = std::str::from_utf8(raw).map_err(|_| ILLEGAL_PARAM)?;
            targets.push(User { user_id: id.to_owned(), user_name: String::new() });
        }
        let ids: Vec<&str> = targets.iter().map(|u| u.user_id.as_str()).collect();
        validate::check_command_targets(&ids)?;
        let RoomName::Name(room_id) = room else { return Err(MESSAGE_ROOM_NOT_JOINED) };
        write_seq(out_seq, e.engine.send_custom_command(room_id, command, &targets)?);
        Ok(())
    })
}

/// Sets the room's extra info `key` (1–10 bytes) to `value` (0–128 bytes), UTF-8. The result
/// arrives as `zego_on_room_set_room_extra_info_result` with the seq written to `*out_seq`
/// (nullable; written only on success); everyone else in the room gets
/// `zego_on_room_extra_info_update`. Errors: 1000001, 1000017 (NULL `room_id` / `key` / `value`,
/// not UTF-8), 1002014 (key empty), 1002015 (key longer than 10 bytes), 1002016 (value longer
/// than 128 bytes), 1002017 (the room already has another key), 1002002 (room not joined).
/// Contract §7.1.
#[no_mangle]
pub unsafe extern "C" fn zego_engine_set_room_extra_info(
    engine: *mut zego_engine,
    room_id: *const c_char,
    key: *const c_char,
    value: *const c_char,
    out_seq: *mut zego_seq,
) -> zego_error {
    guard(|| {
        let e = handles::get(engine)?;
        let room = room_name_arg(room_id, Err(ILLEGAL_PARAM))?;
        if key.is_null() || value.is_null() {
            return Err(ILLEGAL_PARAM);
        }
        // Key before value, as the core checks them.
        let key = cstr::bounded(key, validate::MAX_ROOM_EXTRA_INFO_KEY_BYTES).map_err(|_| ROOM_EXTRA_INFO_KEY_TOO_LONG)?;
        if key.is_empty() {
            return Err(ROOM_EXTRA_INFO_KEY_EMPTY);
        }
        let value = cstr::bounded(value, validate::MAX_ROOM_EXTRA_INFO_VALUE_BYTES).map_err(|_| ROOM_EXTRA_INFO_VALUE_TOO_LONG)?;
        validate::check_room_extra_info(key, value)?;
        let (key, value) = (std::str::from_utf8(key).expect("checked"), std::str::from_utf8(value).expect("checked"));
        let RoomName::Name(room_id) = room else { return Err(ROOM_ID_INCORRECT) };
        write_seq(out_seq, e.engine.set_room_extra_info(room_id, key, value)?);
        Ok(())
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

/// Registers the stream list callback (NULL unregisters); as
/// `zego_engine_register_room_state_changed_callback`.
#[no_mangle]
pub extern "C" fn zego_engine_register_room_stream_update_callback(engine: *mut zego_engine, cb: zego_on_room_stream_update, user_context: *mut c_void) {
    register(engine, |s| s.stream_update = Slot::new(cb, user_context))
}

/// Registers the stream extra info callback (NULL unregisters); as
/// `zego_engine_register_room_state_changed_callback`.
#[no_mangle]
pub extern "C" fn zego_engine_register_room_stream_extra_info_update_callback(engine: *mut zego_engine, cb: zego_on_room_stream_extra_info_update, user_context: *mut c_void) {
    register(engine, |s| s.stream_extra_info_update = Slot::new(cb, user_context))
}

/// Registers the publisher state callback (NULL unregisters); as
/// `zego_engine_register_room_state_changed_callback`.
#[no_mangle]
pub extern "C" fn zego_engine_register_publisher_state_update_callback(engine: *mut zego_engine, cb: zego_on_publisher_state_update, user_context: *mut c_void) {
    register(engine, |s| s.publisher_state = Slot::new(cb, user_context))
}

/// Registers the player state callback (NULL unregisters); as
/// `zego_engine_register_room_state_changed_callback`.
#[no_mangle]
pub extern "C" fn zego_engine_register_player_state_update_callback(engine: *mut zego_engine, cb: zego_on_player_state_update, user_context: *mut c_void) {
    register(engine, |s| s.player_state = Slot::new(cb, user_context))
}

/// Registers the stream extra info result callback (NULL unregisters); as
/// `zego_engine_register_room_state_changed_callback`.
#[no_mangle]
pub extern "C" fn zego_engine_register_publisher_update_stream_extra_info_result_callback(engine: *mut zego_engine, cb: zego_on_publisher_update_stream_extra_info_result, user_context: *mut c_void) {
    register(engine, |s| s.stream_extra_info_result = Slot::new(cb, user_context))
}

/// Registers the SEI callback (NULL unregisters); as
/// `zego_engine_register_room_state_changed_callback`.
#[no_mangle]
pub extern "C" fn zego_engine_register_player_recv_sei_callback(engine: *mut zego_engine, cb: zego_on_player_recv_sei, user_context: *mut c_void) {
    register(engine, |s| s.recv_sei = Slot::new(cb, user_context))
}

/// Registers the broadcast result callback (NULL unregisters); as
/// `zego_engine_register_room_state_changed_callback`.
#[no_mangle]
pub extern "C" fn zego_engine_register_im_send_broadcast_message_result_callback(engine: *mut zego_engine, cb: zego_on_im_send_broadcast_message_result, user_context: *mut c_void) {
    register(engine, |s| s.broadcast_result = Slot::new(cb, user_context))
}

/// Registers the barrage result callback (NULL unregisters); as
/// `zego_engine_register_room_state_changed_callback`.
#[no_mangle]
pub extern "C" fn zego_engine_register_im_send_barrage_message_result_callback(engine: *mut zego_engine, cb: zego_on_im_send_barrage_message_result, user_context: *mut c_void) {
    register(engine, |s| s.barrage_result = Slot::new(cb, user_context))
}

/// Registers the custom command result callback (NULL unregisters); as
/// `zego_engine_register_room_state_changed_callback`.
#[no_mangle]
pub extern "C" fn zego_engine_register_im_send_custom_command_result_callback(engine: *mut zego_engine, cb: zego_on_im_send_custom_command_result, user_context: *mut c_void) {
    register(engine, |s| s.custom_command_result = Slot::new(cb, user_context))
}

/// Registers the room extra info result callback (NULL unregisters); as
/// `zego_engine_register_room_state_changed_callback`.
#[no_mangle]
pub extern "C" fn zego_engine_register_room_set_room_extra_info_result_callback(engine: *mut zego_engine, cb: zego_on_room_set_room_extra_info_result, user_context: *mut c_void) {
    register(engine, |s| s.room_extra_info_result = Slot::new(cb, user_context))
}

/// Registers the broadcast receipt callback (NULL unregisters); as
/// `zego_engine_register_room_state_changed_callback`.
#[no_mangle]
pub extern "C" fn zego_engine_register_im_recv_broadcast_message_callback(engine: *mut zego_engine, cb: zego_on_im_recv_broadcast_message, user_context: *mut c_void) {
    register(engine, |s| s.recv_broadcast = Slot::new(cb, user_context))
}

/// Registers the barrage receipt callback (NULL unregisters); as
/// `zego_engine_register_room_state_changed_callback`.
#[no_mangle]
pub extern "C" fn zego_engine_register_im_recv_barrage_message_callback(engine: *mut zego_engine, cb: zego_on_im_recv_barrage_message, user_context: *mut c_void) {
    register(engine, |s| s.recv_barrage = Slot::new(cb, user_context))
}

/// Registers the custom command receipt callback (NULL unregisters); as
/// `zego_engine_register_room_state_changed_callback`.
#[no_mangle]
pub extern "C" fn zego_engine_register_im_recv_custom_command_callback(engine: *mut zego_engine, cb: zego_on_im_recv_custom_command, user_context: *mut c_void) {
    register(engine, |s| s.recv_custom_command = Slot::new(cb, user_context))
}

/// Registers the room extra info callback (NULL unregisters); as
/// `zego_engine_register_room_state_changed_callback`.
#[no_mangle]
pub extern "C" fn zego_engine_register_room_extra_info_update_callback(engine: *mut zego_engine, cb: zego_on_room_extra_info_update, user_context: *mut c_void) {
    register(engine, |s| s.room_extra_info_update = Slot::new(cb, user_context))
}

/// Forwards the library's log records up to `max_level` (1 error .. 5 trace; <= 0 = none) to
/// `cb`, process-wide; NULL `cb` stops forwarding. When it returns (outside a log callback) the
/// previous function is not called again with the previous context. Records the library
/// produces while `cb` runs on the same thread are dropped (no recursion).
#[no_mangle]
pub extern "C" fn zego_set_log_callback(cb: zego_on_log, user_context: *mut c_void, max_level: i32) {
    guard_or((), || log::set(cb, user_context, max_level))
}
