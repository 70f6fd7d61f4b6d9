//! ZEGO-compatible error codes (contract §1, `zego-reference.md` §4). 0 means success.

pub const SUCCESS: i32 = 0;

/// The engine handle is NULL or already destroyed.
pub const ENGINE_NOT_CREATED: i32 = 1_000_001;
/// Publishing, playing or listing streams in a room this engine has not joined (§6.1).
pub const NOT_LOGIN_ROOM: i32 = 1_000_002;
/// Stream id of 256 bytes or more (§6.1).
pub const STREAM_ID_TOO_LONG: i32 = 1_000_014;
/// Empty stream id (§6.1).
pub const STREAM_ID_EMPTY: i32 = 1_000_015;
/// Stream id with a character outside `[0-9A-Za-z_-]` (§6.1).
pub const STREAM_ID_ILLEGAL_CHAR: i32 = 1_000_016;
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
/// Room extra info key empty (§7.1).
pub const ROOM_EXTRA_INFO_KEY_EMPTY: i32 = 1_002_014;
/// Room extra info key longer than 10 bytes (§7.1).
pub const ROOM_EXTRA_INFO_KEY_TOO_LONG: i32 = 1_002_015;
/// Room extra info value longer than 128 bytes (§7.1).
pub const ROOM_EXTRA_INFO_VALUE_TOO_LONG: i32 = 1_002_016;
/// The room already has another extra-info key (one key per room, §7.1).
pub const ROOM_EXTRA_INFO_EXCEED_KEYS: i32 = 1_002_017;
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

/// `send_sei` or `set_stream_extra_info` on a channel that is not Publishing (our choice of
/// 1003xxx code; §6.1 asks for "a non-zero 1003xxx code").
pub const PUBLISHER_NOT_PUBLISHING: i32 = 1_003_001;
/// Publishing interrupted: the room connection was lost; retrying (§6.1).
pub const PUBLISHER_CONNECTION_LOST: i32 = 1_003_020;
/// Publishing gave up: `av_retry_time` ran out, or the room ended with ReconnectFailed (§6.1).
pub const PUBLISHER_RETRY_TIMEOUT: i32 = 1_003_021;
/// The channel already publishes another stream (§6.1).
pub const PUBLISHER_CHANNEL_BUSY: i32 = 1_003_023;
/// The stream id is forbidden by the admin API (`ForbidRTCStream`, §6.1, §7.3).
pub const PUBLISHER_FORBIDDEN: i32 = 1_003_025;
/// Another user publishes this stream id (ids are unique across the app, §6.1).
pub const PUBLISHER_STREAM_ID_TAKEN: i32 = 1_003_028;
/// Multi-room mode: `config.room_id` missing (§6.1).
pub const PUBLISHER_ROOM_ID_REQUIRED: i32 = 1_003_071;
/// The token's privilege forbids publishing this stream (token04 `privilege` "2", §6.1).
pub const PUBLISHER_NO_PRIVILEGE: i32 = 1_003_072;

/// A 13th stream played at once (§6.1).
pub const PLAYER_COUNT_EXCEED: i32 = 1_004_010;
/// Playing interrupted (publisher gone, stream deleted, or own connection lost), or given up after
/// `av_retry_time` (§6.1).
pub const PLAYER_INTERRUPTED: i32 = 1_004_020;
/// The stream is forbidden by the admin API (§6.1).
pub const PLAYER_FORBIDDEN: i32 = 1_004_025;
/// Multi-room mode: `config.room_id` missing (§6.1).
pub const PLAYER_ROOM_ID_REQUIRED: i32 = 1_004_071;

/// Message or command empty (§7.1).
pub const MESSAGE_EMPTY: i32 = 1_009_001;
/// Message or command longer than 1024 bytes (§7.1).
pub const MESSAGE_TOO_LONG: i32 = 1_009_002;
/// Messaging in a room this engine has not joined (§7.1).
pub const MESSAGE_ROOM_NOT_JOINED: i32 = 1_009_005;
/// The message could not be sent: the room ended before it could go out (§7.1).
pub const MESSAGE_SEND_FAILED: i32 = 1_009_010;
/// A custom command's target user id is empty (§7.1).
pub const MESSAGE_TARGET_EMPTY: i32 = 1_009_011;
/// A custom command's target user id is longer than 63 bytes (§7.1).
pub const MESSAGE_TARGET_TOO_LONG: i32 = 1_009_012;
/// Sending too fast: over 2 broadcasts per second per sender, or over 20 barrages per second per
/// room (§7.1).
pub const MESSAGE_RATE_LIMITED: i32 = 1_009_015;

/// Human-readable text for a ZEGO error code.
pub fn describe(code: i32) -> &'static str {
    match code {
        SUCCESS => "success",
        ENGINE_NOT_CREATED => "engine not created or already destroyed",
        NOT_LOGIN_ROOM => "not logged into the room",
        STREAM_ID_TOO_LONG => "stream id is too long (max 255 bytes)",
        STREAM_ID_EMPTY => "stream id is empty",
        STREAM_ID_ILLEGAL_CHAR => "stream id contains a character other than 0-9 A-Z a-z _ -",
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
        ROOM_EXTRA_INFO_KEY_EMPTY => "room extra info key is empty",
        ROOM_EXTRA_INFO_KEY_TOO_LONG => "room extra info key is too long (max 10 bytes)",
        ROOM_EXTRA_INFO_VALUE_TOO_LONG => "room extra info value is too long (max 128 bytes)",
        ROOM_EXTRA_INFO_EXCEED_KEYS => "the room already has another extra info key (one key per room)",
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
        PUBLISHER_NOT_PUBLISHING => "no stream is being published on this channel",
        PUBLISHER_CONNECTION_LOST => "publishing interrupted: room connection lost, retrying",
        PUBLISHER_RETRY_TIMEOUT => "publishing stopped: retry window (av_retry_time) ran out",
        PUBLISHER_CHANNEL_BUSY => "this channel already publishes another stream",
        PUBLISHER_FORBIDDEN => "stream forbidden by the server",
        PUBLISHER_STREAM_ID_TAKEN => "stream id already published by another user",
        PUBLISHER_ROOM_ID_REQUIRED => "multi-room mode: the publisher config must name the room",
        PUBLISHER_NO_PRIVILEGE => "the token does not allow publishing this stream",
        PLAYER_COUNT_EXCEED => "too many streams played at once (max 12)",
        PLAYER_INTERRUPTED => "playing interrupted",
        PLAYER_FORBIDDEN => "stream forbidden by the server",
        PLAYER_ROOM_ID_REQUIRED => "multi-room mode: the player config must name the room",
        MESSAGE_EMPTY => "message is empty",
        MESSAGE_TOO_LONG => "message is too long (max 1024 bytes)",
        MESSAGE_ROOM_NOT_JOINED => "not logged into the room",
        MESSAGE_SEND_FAILED => "message could not be sent: the room ended",
        MESSAGE_TARGET_EMPTY => "target user id is empty",
        MESSAGE_TARGET_TOO_LONG => "target user id is too long (max 63 bytes)",
        MESSAGE_RATE_LIMITED => "sending too fast",
        _ => "error",
    }
}
