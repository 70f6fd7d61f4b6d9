//! ZEGO token04: generation (for tests, examples and app servers) and verification (room server).
//!
//! Layout (see `zego-reference.md` §6): `"04" + base64(body)`, body big-endian:
//! `i64 expire | u16 nonce_len | nonce | u16 cipher_len | cipher | [u8 mode]`.
//! AES-256-GCM tokens carry a 12-byte nonce and a trailing mode byte 1; legacy AES-256-CBC tokens
//! carry a 16-byte IV and no mode byte. The key is the 32 ASCII bytes of the server secret.
//!
//! Verification never panics: every length is bounds-checked before it is used, because the token
//! comes straight from a client.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use serde::{Deserialize, Serialize};

use crate::error_codes;

/// Mode byte of GCM tokens (`AesEncryptModeGCM`).
const MODE_GCM: u8 = 1;
const GCM_NONCE_LEN: usize = 12;
const CBC_IV_LEN: usize = 16;
/// Tokens longer than this are refused before any decoding (a client frame is at most 16 KiB anyway).
const MAX_TOKEN_CHARS: usize = 8 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// The secret is not exactly 32 bytes.
    InvalidSecret,
    /// Generation input rejected (app id 0, empty user id, validity <= 0).
    InvalidParam(&'static str),
    /// Not a token04 (prefix, base64, framing, lengths).
    Malformed(&'static str),
    /// Decryption or authentication failed (wrong secret, tampered token).
    Decrypt,
    /// Decrypted, but the plaintext is not the expected JSON or disagrees with the header.
    BadPayload,
    /// `now >= expire`.
    Expired { expire: i64 },
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::InvalidSecret => write!(f, "server secret must be 32 characters"),
            TokenError::InvalidParam(p) => write!(f, "invalid parameter: {p}"),
            TokenError::Malformed(why) => write!(f, "malformed token: {why}"),
            TokenError::Decrypt => write!(f, "token decryption failed"),
            TokenError::BadPayload => write!(f, "token content invalid"),
            TokenError::Expired { expire } => write!(f, "token expired at {expire}"),
        }
    }
}

impl std::error::Error for TokenError {}

/// The decrypted content of a token (`TokenInfo04`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub app_id: u32,
    pub user_id: String,
    pub ctime: i64,
    pub expire: i64,
    pub nonce: i32,
    #[serde(default)]
    pub payload: String,
}

#[derive(Deserialize)]
struct PrivilegePayload {
    #[serde(default)]
    room_id: Option<String>,
    #[serde(default)]
    privilege: Option<std::collections::HashMap<String, i64>>,
    /// `null`/absent: any stream id; a list: only those (zego-reference.md §6).
    #[serde(default)]
    stream_id_list: Option<Vec<String>>,
}

impl TokenInfo {
    /// `None` for a basic token (empty payload). Otherwise `(room_id, login_allowed)`:
    /// `room_id` is `None` when the payload does not restrict the room; login is allowed unless
    /// privilege `"1"` is present and not 1. A payload that is not valid JSON yields
    /// `Some((None, false))` so that a garbled privilege token never grants anything.
    pub fn privilege(&self) -> Option<(Option<String>, bool)> {
        if self.payload.trim().is_empty() {
            return None;
        }
        match serde_json::from_str::<PrivilegePayload>(&self.payload) {
            Ok(p) => {
                let room = p.room_id.filter(|r| !r.is_empty());
                let login = p.privilege.as_ref().and_then(|m| m.get("1")).is_none_or(|v| *v == 1);
                Some((room, login))
            }
            Err(_) => Some((None, false)),
        }
    }

    /// May this token's holder publish `stream_id`? A basic token may; a privilege token may unless
    /// privilege `"2"` is present and not 1, or `stream_id_list` is a list without this id
    /// (contract §6.1). A garbled payload grants nothing.
    pub fn may_publish(&self, stream_id: &str) -> bool {
        if self.payload.trim().is_empty() {
            return true;
        }
        match serde_json::from_str::<PrivilegePayload>(&self.payload) {
            Ok(p) => {
                let allowed = p.privilege.as_ref().and_then(|m| m.get("2")).is_none_or(|v| *v == 1);
                allowed && p.stream_id_list.as_ref().is_none_or(|l| l.iter().any(|s| s == stream_id))
            }
            Err(_) => false,
        }
    }
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn key_of(secret: &str) -> Result<&[u8], TokenError> {
    let k = secret.as_bytes();
    if k.len() != 32 {
        return Err(TokenError::InvalidSecret);
    }
    Ok(k)
}

fn random_nonce_chars(n: usize) -> Vec<u8> {
    const CHARS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..n).map(|_| CHARS[fastrand::usize(..CHARS.len())]).collect()
}

fn plaintext<'s>(app_id: u32, user_id: &str, secret: &'s str, effective_secs: i64, payload: &str, now: i64)
    -> Result<(Vec<u8>, i64, &'s [u8]), TokenError>
{
    let key = key_of(secret)?;
    if app_id == 0 {
        return Err(TokenError::InvalidParam("app_id"));
    }
    if user_id.is_empty() {
        return Err(TokenError::InvalidParam("user_id"));
    }
    if effective_secs <= 0 {
        return Err(TokenError::InvalidParam("effective_secs"));
    }
    let expire = now.saturating_add(effective_secs);
    let info = TokenInfo {
        app_id,
        user_id: user_id.to_owned(),
        ctime: now,
        expire,
        nonce: fastrand::i32(..),
        payload: payload.to_owned(),
    };
    let json = serde_json::to_vec(&info).map_err(|_| TokenError::BadPayload)?;
    Ok((json, expire, key))
}

fn pack(expire: i64, nonce: &[u8], cipher: &[u8], mode: Option<u8>) -> Result<String, TokenError> {
    let clen = u16::try_from(cipher.len()).map_err(|_| TokenError::InvalidParam("payload too long"))?;
    let mut body = Vec::with_capacity(8 + 2 + nonce.len() + 2 + cipher.len() + 1);
    body.extend_from_slice(&expire.to_be_bytes());
    body.extend_from_slice(&(nonce.len() as u16).to_be_bytes());
    body.extend_from_slice(nonce);
    body.extend_from_slice(&clen.to_be_bytes());
    body.extend_from_slice(cipher);
    if let Some(m) = mode {
        body.push(m);
    }
    Ok(format!("04{}", B64.encode(body)))
}

/// Generates a GCM token valid for `effective_secs` from now (system clock).
pub fn generate(app_id: u32, user_id: &str, secret: &str, effective_secs: i64, payload: &str) -> Result<String, TokenError> {
    generate_at(app_id, user_id, secret, effective_secs, payload, unix_now())
}

/// Generates a GCM token as if the time were `now_unix` (tests: expired tokens, fixed clocks).
pub fn generate_at(app_id: u32, user_id: &str, secret: &str, effective_secs: i64, payload: &str, now_unix: i64)
    -> Result<String, TokenError>
{
    let (json, expire, key) = plaintext(app_id, user_id, secret, effective_secs, payload, now_unix)?;
    let nonce = random_nonce_chars(GCM_NONCE_LEN);
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| TokenError::InvalidSecret)?;
    let ct = cipher.encrypt(Nonce::from_slice(&nonce), json.as_slice()).map_err(|_| TokenError::Decrypt)?;
    pack(expire, &nonce, &ct, Some(MODE_GCM))
}

/// Generates a legacy AES-256-CBC token (16-byte IV, no mode byte), as old ZEGO generators do.
pub fn generate_legacy_cbc(app_id: u32, user_id: &str, secret: &str, effective_secs: i64, payload: &str)
    -> Result<String, TokenError>
{
    generate_legacy_cbc_at(app_id, user_id, secret, effective_secs, payload, unix_now())
}

/// [`generate_legacy_cbc`] with an explicit clock.
pub fn generate_legacy_cbc_at(app_id: u32, user_id: &str, secret: &str, effective_secs: i64, payload: &str, now_unix: i64)
    -> Result<String, TokenError>
{
    let (json, expire, key) = plaintext(app_id, user_id, secret, effective_secs, payload, now_unix)?;
    let iv = random_nonce_chars(CBC_IV_LEN);
    let enc = cbc::Encryptor::<aes::Aes256>::new_from_slices(key, &iv).map_err(|_| TokenError::InvalidSecret)?;
    let ct = enc.encrypt_padded_vec_mut::<Pkcs7>(&json);
    pack(expire, &iv, &ct, None)
}

/// Bounds-checked big-endian reader over the token body.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TokenError> {
        if self.buf.len() < n {
            return Err(TokenError::Malformed("truncated"));
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }
    fn u16(&mut self) -> Result<usize, TokenError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]) as usize)
    }
    fn i64(&mut self) -> Result<i64, TokenError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }
}

/// Decrypts and checks a token (either mode) against `secret`; fails when expired at `now_unix`.
/// Does not check app id, user or room: see [`check_login`].
pub fn verify(token: &str, secret: &str, now_unix: i64) -> Result<TokenInfo, TokenError> {
    let key = key_of(secret)?;
    if token.len() > MAX_TOKEN_CHARS {
        return Err(TokenError::Malformed("too long"));
    }
    let b64 = token.strip_prefix("04").ok_or(TokenError::Malformed("not a token04"))?;
    let body = B64.decode(b64.trim()).map_err(|_| TokenError::Malformed("base64"))?;
    let mut r = Reader { buf: &body };
    let expire = r.i64()?;
    let nlen = r.u16()?;
    let nonce = r.take(nlen)?;
    let clen = r.u16()?;
    let ct = r.take(clen)?;
    let rest = r.buf;
    let plain = if nlen == GCM_NONCE_LEN && rest == [MODE_GCM] {
        let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| TokenError::InvalidSecret)?;
        cipher.decrypt(Nonce::from_slice(nonce), ct).map_err(|_| TokenError::Decrypt)?
    } else if nlen == CBC_IV_LEN && rest.is_empty() {
        if ct.is_empty() || ct.len() % 16 != 0 {
            return Err(TokenError::Malformed("cipher length"));
        }
        let dec = cbc::Decryptor::<aes::Aes256>::new_from_slices(key, nonce).map_err(|_| TokenError::InvalidSecret)?;
        dec.decrypt_padded_vec_mut::<Pkcs7>(ct).map_err(|_| TokenError::Decrypt)?
    } else {
        return Err(TokenError::Malformed("unknown mode"));
    };
    let info: TokenInfo = serde_json::from_slice(&plain).map_err(|_| TokenError::BadPayload)?;
    // The header's expire is not authenticated by GCM: it must agree with the encrypted one.
    if info.expire != expire {
        return Err(TokenError::BadPayload);
    }
    if now_unix >= info.expire {
        return Err(TokenError::Expired { expire: info.expire });
    }
    Ok(info)
}

/// The room server's login check: valid token for this app, user and room, with login privilege.
/// Every failure (expired included, per the contract table) is `AUTHENTICATION_FAILED` (1002033).
pub fn check_login(token: &str, secret: &str, app_id: u32, user_id: &str, room_id: &str, now_unix: i64)
    -> Result<TokenInfo, i32>
{
    const FAIL: i32 = error_codes::AUTHENTICATION_FAILED;
    if token.is_empty() {
        return Err(FAIL);
    }
    let info = verify(token, secret, now_unix).map_err(|_| FAIL)?;
    if info.app_id != app_id || info.user_id != user_id {
        return Err(FAIL);
    }
    if let Some((room, login)) = info.privilege() {
        if !login {
            return Err(FAIL);
        }
        if let Some(r) = room {
            if r != room_id {
                return Err(FAIL);
            }
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const OTHER: &str = "fedcba9876543210fedcba9876543210";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn gcm_round_trip() {
        let t = generate_at(7, "u1", SECRET, 3600, "", NOW).unwrap();
        assert!(t.starts_with("04"));
        let body = B64.decode(&t[2..]).unwrap();
        assert_eq!(*body.last().unwrap(), 1);
        assert_eq!(u16::from_be_bytes([body[8], body[9]]), 12);
        let i = verify(&t, SECRET, NOW + 10).unwrap();
        assert_eq!((i.app_id, i.user_id.as_str(), i.ctime, i.expire), (7, "u1", NOW, NOW + 3600));
        assert_eq!(i.privilege(), None);
        assert!(check_login(&t, SECRET, 7, "u1", "any", NOW).is_ok());
        assert!(generate(7, "u1", SECRET, 60, "").map(|t| verify(&t, SECRET, unix_now()).is_ok()).unwrap());
    }

    #[test]
    fn publish_privilege() {
        let info = |payload: &str| verify(&generate_at(7, "u1", SECRET, 3600, payload, NOW).unwrap(), SECRET, NOW).unwrap();
        assert!(info("").may_publish("s1"), "basic token");
        assert!(info(r#"{"room_id":"r","privilege":{"1":1,"2":1},"stream_id_list":null}"#).may_publish("s1"));
        assert!(!info(r#"{"room_id":"r","privilege":{"1":1,"2":0},"stream_id_list":null}"#).may_publish("s1"));
        let listed = info(r#"{"room_id":"r","privilege":{"1":1,"2":1},"stream_id_list":["s1","s2"]}"#);
        assert!(listed.may_publish("s2") && !listed.may_publish("s3"));
        assert!(info(r#"{"room_id":"r"}"#).may_publish("s9"), "no privilege map: not restricted");
        assert!(!info("not json").may_publish("s1"), "a garbled payload grants nothing");
    }

    #[test]
    fn cbc_round_trip() {
        let t = generate_legacy_cbc_at(7, "u1", SECRET, 3600, "", NOW).unwrap();
        let body = B64.decode(&t[2..]).unwrap();
        assert_eq!(u16::from_be_bytes([body[8], body[9]]), 16);
        let i = verify(&t, SECRET, NOW).unwrap();
        assert_eq!(i.user_id, "u1");
        assert!(check_login(&t, SECRET, 7, "u1", "r", NOW).is_ok());
        assert_eq!(check_login(&t, OTHER, 7, "u1", "r", NOW).unwrap_err(), 1_002_033);
    }

    #[test]
    fn wrong_secret_tampered_expired() {
        let t = generate_at(7, "u1", SECRET, 100, "", NOW).unwrap();
        assert_eq!(verify(&t, OTHER, NOW), Err(TokenError::Decrypt));
        assert_eq!(verify(&t, "short", NOW), Err(TokenError::InvalidSecret));
        // Flip every byte of the body in turn: nothing may verify.
        let body = B64.decode(&t[2..]).unwrap();
        for i in 0..body.len() {
            let mut b = body.clone();
            b[i] ^= 0x01;
            let tt = format!("04{}", B64.encode(&b));
            assert!(verify(&tt, SECRET, NOW).is_err(), "byte {i} tamper accepted");
        }
        assert_eq!(verify(&t, SECRET, NOW + 100), Err(TokenError::Expired { expire: NOW + 100 }));
        assert_eq!(check_login(&t, SECRET, 7, "u1", "r", NOW + 1000).unwrap_err(), error_codes::AUTHENTICATION_FAILED);
    }

    #[test]
    fn other_app_user_room_and_privilege() {
        let fail = Err(error_codes::AUTHENTICATION_FAILED);
        let t = generate_at(7, "u1", SECRET, 100, "", NOW).unwrap();
        assert_eq!(check_login(&t, SECRET, 8, "u1", "r", NOW).map(|_| ()), fail);
        assert_eq!(check_login(&t, SECRET, 7, "u2", "r", NOW).map(|_| ()), fail);
        assert_eq!(check_login("", SECRET, 7, "u1", "r", NOW).map(|_| ()), fail);
        let p = r#"{"room_id":"r1","privilege":{"1":1,"2":0},"stream_id_list":null}"#;
        let t = generate_at(7, "u1", SECRET, 100, p, NOW).unwrap();
        let i = check_login(&t, SECRET, 7, "u1", "r1", NOW).unwrap();
        assert_eq!(i.privilege(), Some((Some("r1".into()), true)));
        assert_eq!(check_login(&t, SECRET, 7, "u1", "r2", NOW).map(|_| ()), fail);
        let denied = r#"{"room_id":"r1","privilege":{"1":0,"2":1},"stream_id_list":null}"#;
        let t = generate_at(7, "u1", SECRET, 100, denied, NOW).unwrap();
        assert_eq!(check_login(&t, SECRET, 7, "u1", "r1", NOW).map(|_| ()), fail);
        let garbled = generate_at(7, "u1", SECRET, 100, "{not json", NOW).unwrap();
        assert_eq!(check_login(&garbled, SECRET, 7, "u1", "r1", NOW).map(|_| ()), fail);
        let any_room = generate_at(7, "u1", SECRET, 100, r#"{"room_id":"","privilege":{"1":1}}"#, NOW).unwrap();
        assert!(check_login(&any_room, SECRET, 7, "u1", "zz", NOW).is_ok());
    }

    #[test]
    fn generation_rejects_bad_input() {
        assert_eq!(generate_at(0, "u", SECRET, 1, "", NOW), Err(TokenError::InvalidParam("app_id")));
        assert!(generate_at(1, "", SECRET, 1, "", NOW).is_err());
        assert!(generate_at(1, "u", SECRET, 0, "", NOW).is_err());
        assert_eq!(generate_at(1, "u", "x", 1, "", NOW), Err(TokenError::InvalidSecret));
    }

    #[test]
    fn garbage_never_panics() {
        let mut inputs: Vec<String> = vec![
            "".into(), "04".into(), "04!!!".into(), "03abc".into(), "04====".into(),
            "04AAAA".into(), "x".repeat(100_000), format!("04{}", "A".repeat(20_000)),
        ];
        // Huge length fields, truncated bodies, wrong mode bytes.
        let mut huge = Vec::new();
        huge.extend_from_slice(&i64::MAX.to_be_bytes());
        huge.extend_from_slice(&u16::MAX.to_be_bytes());
        huge.extend_from_slice(b"abc");
        inputs.push(format!("04{}", B64.encode(&huge)));
        let mut huge2 = Vec::new();
        huge2.extend_from_slice(&0i64.to_be_bytes());
        huge2.extend_from_slice(&12u16.to_be_bytes());
        huge2.extend_from_slice(&[b'a'; 12]);
        huge2.extend_from_slice(&u16::MAX.to_be_bytes());
        huge2.extend_from_slice(&[0u8; 40]);
        huge2.push(1);
        inputs.push(format!("04{}", B64.encode(&huge2)));
        let good = generate_at(7, "u1", SECRET, 100, "", NOW).unwrap();
        let body = B64.decode(&good[2..]).unwrap();
        for cut in 0..body.len() {
            inputs.push(format!("04{}", B64.encode(&body[..cut])));
        }
        let mut extra = body.clone();
        extra.push(1);
        inputs.push(format!("04{}", B64.encode(&extra)));
        let mut cbc_mode = body.clone();
        *cbc_mode.last_mut().unwrap() = 0;
        inputs.push(format!("04{}", B64.encode(&cbc_mode)));
        for s in &inputs {
            assert!(verify(s, SECRET, NOW).is_err());
            assert!(check_login(s, SECRET, 7, "u1", "r", NOW).is_err());
        }
    }
}
