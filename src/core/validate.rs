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
    fn token_limits() {
        assert_eq!(check_token(b""), Ok(()));
        assert_eq!(check_token(&vec![b'a'; MAX_TOKEN_BYTES + 1]), Err(ILLEGAL_PARAM));
        assert_eq!(check_token(b"04\xff"), Err(ILLEGAL_PARAM));
    }
}
