//! Input limits of contract §1.4, checked before anything else happens.

use crate::error_codes::*;

pub const MAX_ROOM_ID_BYTES: usize = 127;
pub const MAX_USER_ID_BYTES: usize = 63;
pub const MAX_USER_NAME_BYTES: usize = 255;
/// Tokens are opaque here; the server verifies them. This only keeps absurd input out.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

fn is_id_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"~!@#$%^&*()_+=-`;',.<>/\\".contains(&c)
}

/// `raw` is the caller's bytes, so invalid UTF-8 can be reported as an illegal character.
fn check_id(raw: &[u8], max: usize, empty: i32, illegal: i32, too_long: i32) -> Result<(), i32> {
    if raw.is_empty() {
        return Err(empty);
    }
    if raw.len() > max {
        return Err(too_long);
    }
    if !raw.iter().all(|&c| is_id_char(c)) {
        return Err(illegal);
    }
    Ok(())
}

pub fn check_room_id(raw: &[u8]) -> Result<(), i32> {
    check_id(raw, MAX_ROOM_ID_BYTES, ROOM_ID_EMPTY, ROOM_ID_ILLEGAL_CHAR, ROOM_ID_TOO_LONG)
}

pub fn check_user_id(raw: &[u8]) -> Result<(), i32> {
    check_id(raw, MAX_USER_ID_BYTES, USER_ID_EMPTY, USER_ID_ILLEGAL_CHAR, USER_ID_TOO_LONG)
}

/// Empty is allowed (it means "same as user_id").
pub fn check_user_name(raw: &[u8]) -> Result<(), i32> {
    if raw.len() > MAX_USER_NAME_BYTES {
        return Err(USER_NAME_TOO_LONG);
    }
    if std::str::from_utf8(raw).is_err() || raw.contains(&0) {
        return Err(USER_NAME_ILLEGAL_CHAR);
    }
    Ok(())
}

pub fn check_token(raw: &[u8]) -> Result<(), i32> {
    if raw.len() > MAX_TOKEN_BYTES || std::str::from_utf8(raw).is_err() {
        return Err(ILLEGAL_PARAM);
    }
    Ok(())
}

// ---- streams (§6.1) ---------------------------------------------------------------------------

pub const MAX_STREAM_ID_BYTES: usize = 255;
pub const MAX_STREAM_EXTRA_INFO_BYTES: usize = 1024;

/// 1–255 bytes of `[0-9A-Za-z_-]`: empty → 1000015, too long → 1000014, other → 1000016.
pub fn check_stream_id(raw: &[u8]) -> Result<(), i32> {
    if raw.is_empty() {
        return Err(STREAM_ID_EMPTY);
    }
    if raw.len() > MAX_STREAM_ID_BYTES {
        return Err(STREAM_ID_TOO_LONG);
    }
    if !raw.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-') {
        return Err(STREAM_ID_ILLEGAL_CHAR);
    }
    Ok(())
}

/// Up to 1024 bytes of UTF-8 (1000017 otherwise).
pub fn check_stream_extra_info(raw: &[u8]) -> Result<(), i32> {
    if raw.len() > MAX_STREAM_EXTRA_INFO_BYTES || std::str::from_utf8(raw).is_err() {
        return Err(ILLEGAL_PARAM);
    }
    Ok(())
}

// ---- messaging and room extra info (§7.1) -----------------------------------------------------

pub const MAX_MESSAGE_BYTES: usize = 1024;
pub const MAX_COMMAND_TARGETS: usize = 5;
pub const MAX_ROOM_EXTRA_INFO_KEY_BYTES: usize = 10;
pub const MAX_ROOM_EXTRA_INFO_VALUE_BYTES: usize = 128;

/// 1–1024 bytes of UTF-8: empty → 1009001, longer → 1009002 (invalid UTF-8 → 1000017).
pub fn check_message(raw: &[u8]) -> Result<(), i32> {
    if raw.is_empty() {
        return Err(MESSAGE_EMPTY);
    }
    if raw.len() > MAX_MESSAGE_BYTES {
        return Err(MESSAGE_TOO_LONG);
    }
    if std::str::from_utf8(raw).is_err() {
        return Err(ILLEGAL_PARAM);
    }
    Ok(())
}

/// Custom command targets: 0 (everyone) to 5 user ids; an id empty → 1009011, longer than 63
/// bytes → 1009012; more than 5 → 1000017.
pub fn check_command_targets(ids: &[&str]) -> Result<(), i32> {
    if ids.len() > MAX_COMMAND_TARGETS {
        return Err(ILLEGAL_PARAM);
    }
    for id in ids {
        if id.is_empty() {
            return Err(MESSAGE_TARGET_EMPTY);
        }
        if id.len() > MAX_USER_ID_BYTES {
            return Err(MESSAGE_TARGET_TOO_LONG);
        }
    }
    Ok(())
}

/// Key 1–10 bytes (1002014 / 1002015), value 0–128 bytes (1002016); both UTF-8 (1000017).
pub fn check_room_extra_info(key: &[u8], value: &[u8]) -> Result<(), i32> {
    if key.is_empty() {
        return Err(ROOM_EXTRA_INFO_KEY_EMPTY);
    }
    if key.len() > MAX_ROOM_EXTRA_INFO_KEY_BYTES {
        return Err(ROOM_EXTRA_INFO_KEY_TOO_LONG);
    }
    if value.len() > MAX_ROOM_EXTRA_INFO_VALUE_BYTES {
        return Err(ROOM_EXTRA_INFO_VALUE_TOO_LONG);
    }
    if std::str::from_utf8(key).is_err() || std::str::from_utf8(value).is_err() {
        return Err(ILLEGAL_PARAM);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_id_limits() {
        assert_eq!(check_room_id(b""), Err(ROOM_ID_EMPTY));
        assert_eq!(check_room_id(b"room 1"), Err(ROOM_ID_ILLEGAL_CHAR));
        assert_eq!(check_room_id("r\u{e9}".as_bytes()), Err(ROOM_ID_ILLEGAL_CHAR));
        assert_eq!(check_room_id(b"r\xff"), Err(ROOM_ID_ILLEGAL_CHAR));
        assert_eq!(check_room_id(&[b'a'; 128]), Err(ROOM_ID_TOO_LONG));
        assert_eq!(check_room_id(&[b'a'; 127]), Ok(()));
        assert_eq!(check_room_id(b"~!@#$%^&*()_+=-`;',.<>/\\AZaz09"), Ok(()));
    }

    #[test]
    fn user_id_limits() {
        assert_eq!(check_user_id(b""), Err(USER_ID_EMPTY));
        assert_eq!(check_user_id(b"a:b"), Err(USER_ID_ILLEGAL_CHAR));
        assert_eq!(check_user_id(b"a\"b"), Err(USER_ID_ILLEGAL_CHAR));
        assert_eq!(check_user_id(&[b'u'; 64]), Err(USER_ID_TOO_LONG));
        assert_eq!(check_user_id(&[b'u'; 63]), Ok(()));
    }

    #[test]
    fn user_name_limits() {
        assert_eq!(check_user_name(b""), Ok(()));
        assert_eq!(check_user_name("Zoë 张".as_bytes()), Ok(()));
        assert_eq!(check_user_name(b"bad\xc3"), Err(USER_NAME_ILLEGAL_CHAR));
        assert_eq!(check_user_name(&[b'n'; 256]), Err(USER_NAME_TOO_LONG));
        assert_eq!(check_user_name(&[b'n'; 255]), Ok(()));
    }

    #[test]
    fn stream_limits() {
        assert_eq!(check_stream_id(b""), Err(STREAM_ID_EMPTY));
        assert_eq!(check_stream_id(&[b's'; 256]), Err(STREAM_ID_TOO_LONG));
        assert_eq!(check_stream_id(&[b's'; 255]), Ok(()));
        assert_eq!(check_stream_id(b"Az09_-"), Ok(()));
        assert_eq!(check_stream_id(b"a.b"), Err(STREAM_ID_ILLEGAL_CHAR));
        assert_eq!(check_stream_id(b"a\xffb"), Err(STREAM_ID_ILLEGAL_CHAR));
        assert_eq!(check_stream_extra_info(&[b'x'; 1024]), Ok(()));
        assert_eq!(check_stream_extra_info(&[b'x'; 1025]), Err(ILLEGAL_PARAM));
        assert_eq!(check_stream_extra_info(b""), Ok(()));
    }

    #[test]
    fn message_limits() {
        assert_eq!(check_message(b""), Err(MESSAGE_EMPTY));
        assert_eq!(check_message(&[b'm'; 1024]), Ok(()));
        assert_eq!(check_message(&[b'm'; 1025]), Err(MESSAGE_TOO_LONG));
        assert_eq!(check_message(b"\xff"), Err(ILLEGAL_PARAM));
        assert_eq!(check_command_targets(&[]), Ok(()));
        assert_eq!(check_command_targets(&["a", ""]), Err(MESSAGE_TARGET_EMPTY));
        let long = "u".repeat(64);
        assert_eq!(check_command_targets(&[&long]), Err(MESSAGE_TARGET_TOO_LONG));
        assert_eq!(check_command_targets(&["a"; 6]), Err(ILLEGAL_PARAM));
        assert_eq!(check_room_extra_info(b"", b"v"), Err(ROOM_EXTRA_INFO_KEY_EMPTY));
        assert_eq!(check_room_extra_info(&[b'k'; 11], b"v"), Err(ROOM_EXTRA_INFO_KEY_TOO_LONG));
        assert_eq!(check_room_extra_info(&[b'k'; 10], &[b'v'; 129]), Err(ROOM_EXTRA_INFO_VALUE_TOO_LONG));
        assert_eq!(check_room_extra_info(&[b'k'; 10], &[b'v'; 128]), Ok(()));
        assert_eq!(check_room_extra_info(b"k", b""), Ok(()));
    }

    #[test]
    fn token_limits() {
        assert_eq!(check_token(b""), Ok(()));
        assert_eq!(check_token(&vec![b'a'; MAX_TOKEN_BYTES + 1]), Err(ILLEGAL_PARAM));
        assert_eq!(check_token(b"04\xff"), Err(ILLEGAL_PARAM));
    }
}
