//! ZEGO-compatible error codes (contract §1, `zego-reference.md` §4). 0 means success.

pub const SUCCESS: i32 = 0;

/// The engine handle is NULL or already destroyed.
pub const ENGINE_NOT_CREATED: i32 = 1_000_001;
/// A required argument is missing or cannot be parsed.
pub const ILLEGAL_PARAM: i32 = 1_000_017;

/// Single-room mode: already in a room.
pub const ROOM_COUNT_EXCEED: i32 = 1_002_001;
/// logout/switch/renew naming a room this engine is not in.
pub const ROOM_ID_INCORRECT: i32 = 1_002_002;
pub const USER_ID_EMPTY: i32 = 1_002_005;
pub const USER_ID_ILLEGAL_CHAR: i32 = 1_002_006;
pub const USER_ID_TOO_LONG: i32 = 1_002_007;
pub const USER_NAME_ILLEGAL_CHAR: i32 = 1_002_009;
pub const USER_NAME_TOO_LONG: i32 = 1_002_010;
pub const ROOM_ID_EMPTY: i32 = 1_002_011;
pub const ROOM_ID_ILLEGAL_CHAR: i32 = 1_002_012;
pub const ROOM_ID_TOO_LONG: i32 = 1_002_013;
/// Multi-room mode: every room must be joined as the same user.
pub const MULTI_ROOM_DIFFERENT_USER: i32 = 1_002_018;
/// switch_room is not available in multi-room mode.
pub const SWITCH_ROOM_IN_MULTI_ROOM: i32 = 1_002_019;

/// Token wrong, forged, expired, or for another app/user/room.
pub const AUTHENTICATION_FAILED: i32 = 1_002_033;
/// `max_member_count` reached.
pub const ROOM_FULL: i32 = 1_002_034;
/// Multi-room mode: more than 5 rooms.
pub const MULTI_ROOM_COUNT_EXCEED: i32 = 1_002_037;

/// Kicked: the same user_id logged into the same room elsewhere.
pub const KICKED_OUT_DUPLICATE_LOGIN: i32 = 1_002_050;
/// Connection temporarily broken; the engine is retrying.
pub const CONNECT_TEMPORARY_BROKEN: i32 = 1_002_051;
/// The room was left before the login settled.
pub const DISCONNECT: i32 = 1_002_052;
/// The retry window ran out.
pub const RETRY_TIMEOUT: i32 = 1_002_053;
/// Kicked through the admin API (`KickoutUser`).
pub const MANUAL_KICKED_OUT: i32 = 1_002_055;
/// The token has expired (servers may report this instead of 1002033).
pub const TOKEN_EXPIRED: i32 = 1_002_078;
/// Internal error: a panic was caught, or a protocol violation.
pub const INNER_ERROR: i32 = 1_002_099;

/// Human-readable text for a ZEGO error code.
pub fn describe(code: i32) -> &'static str {
    match code {
        SUCCESS => "success",
        ENGINE_NOT_CREATED => "engine not created or already destroyed",
        ILLEGAL_PARAM => "illegal parameter",
        ROOM_COUNT_EXCEED => "already logged into a room (single-room mode)",
        ROOM_ID_INCORRECT => "not logged into this room",
        USER_ID_EMPTY => "user id is empty",
        USER_ID_ILLEGAL_CHAR => "user id contains an illegal character",
        USER_ID_TOO_LONG => "user id is too long (max 63 bytes)",
        USER_NAME_ILLEGAL_CHAR => "user name is not valid UTF-8",
        USER_NAME_TOO_LONG => "user name is too long (max 255 bytes)",
        ROOM_ID_EMPTY => "room id is empty",
        ROOM_ID_ILLEGAL_CHAR => "room id contains an illegal character",
        ROOM_ID_TOO_LONG => "room id is too long (max 127 bytes)",
        MULTI_ROOM_DIFFERENT_USER => "every room must be joined as the same user (multi-room mode)",
        SWITCH_ROOM_IN_MULTI_ROOM => "switch_room is not available in multi-room mode",
        AUTHENTICATION_FAILED => "authentication failed (token)",
        ROOM_FULL => "room is full",
        MULTI_ROOM_COUNT_EXCEED => "too many rooms (multi-room mode allows 5)",
        KICKED_OUT_DUPLICATE_LOGIN => "kicked out: the same user logged in elsewhere",
        CONNECT_TEMPORARY_BROKEN => "connection temporarily broken",
        DISCONNECT => "disconnected",
        RETRY_TIMEOUT => "retry window ran out",
        MANUAL_KICKED_OUT => "kicked out by the server",
        TOKEN_EXPIRED => "token expired",
        INNER_ERROR => "internal error",
        _ => "error",
    }
}
