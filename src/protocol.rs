//! Wire protocol shared by the engine and the room server: JSON text frames (signalling) and small
//! binary frames (SEI side data) over one WebSocket per room session. See `docs/protocol.md` for
//! the exchange; this module is the single definition.

use serde::{Deserialize, Serialize};

use crate::types::{RoomExtraInfo, Stream, User};

/// Version carried in every `login`. The server refuses other versions with a `login_failed`
/// (code 1002099 and a message naming both versions), so an old engine gets a clear answer.
pub const PROTOCOL_VERSION: u32 = 2;

/// Largest frame a client may send. Anything larger closes that session (server side).
/// An SEI frame (4096 bytes of data + 2 bytes of header) and the largest text frame (a 1024-byte
/// message with escapes, a 1024-byte extra info) fit well within it.
pub const MAX_CLIENT_FRAME_BYTES: usize = 16 * 1024;
/// Largest frame a server may send (a full user list of a big room fits comfortably).
pub const MAX_SERVER_FRAME_BYTES: usize = 16 * 1024 * 1024;

/// Client → server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum ClientMsg {
    /// First frame of every connection: a fresh login, or a resume of `resume_session_id`.
    Login {
        v: u32,
        app_id: u32,
        room_id: String,
        user_id: String,
        user_name: String,
        #[serde(default)]
        token: String,
        #[serde(default)]
        max_member_count: u32,
        #[serde(default)]
        user_status_notify: bool,
        /// Identifies the engine instance (random, fixed for the engine's life). A login of the
        /// same user_id from another `client_id` kicks the earlier client from every room (§1.6);
        /// the same `client_id` never kicks itself.
        #[serde(default)]
        client_id: String,
        /// Session id from an earlier `login_ok` on another connection; the server resumes it if it
        /// still holds it (within the heartbeat grace), otherwise it performs a fresh login.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume_session_id: Option<String>,
        /// On a resume: the last reliable message id the engine received in this room; the server
        /// replays later broadcasts and custom commands (bounded) right after `login_ok`.
        #[serde(default)]
        last_msg_id: u64,
    },
    /// Heartbeat, sent every `ping_interval_ms`. Any frame counts as a sign of life.
    Ping,
    /// Leave the room now (others see Delete at once, no grace). `destroyed`: the engine is being
    /// destroyed without a logout (its streams are deleted with reason 5 instead of 1).
    Logout {
        #[serde(default)]
        destroyed: bool,
    },
    /// Replace the token of this session; answered by `token_renewed`.
    RenewToken { token: String },
    /// Publish `stream_id` on `channel` (0–3); answered by `publish_result`. Publishing the same
    /// stream on the same channel again (after a reconnect) is idempotent.
    Publish { channel: u8, stream_id: String, #[serde(default)] extra_info: String },
    /// Stop publishing `stream_id` (no answer; others see Delete with reason 1). By id rather than
    /// channel so that a resumed engine can also stop a stream it gave up while disconnected.
    StopPublish { stream_id: String },
    /// Answered by `stream_extra_info_result` with the same `seq`.
    SetStreamExtraInfo { channel: u8, extra_info: String, seq: i32 },
    /// Start playing: answered by `play_state` now and whenever the stream's state changes.
    Play { stream_id: String },
    StopPlay { stream_id: String },
    /// A broadcast, barrage or custom command; answered by `send_result` with the same `seq`.
    /// `to` (custom commands only): 1–5 user ids, or empty for everyone but the sender.
    /// A `seq` already answered on this session is answered again without sending twice (a resend
    /// after a reconnect).
    Send { kind: MsgKind, content: String, #[serde(default)] to: Vec<String>, seq: i32 },
    /// Answered by `room_extra_info_result` with the same `seq`.
    SetRoomExtraInfo { key: String, value: String, seq: i32 },
}

/// What a `send` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MsgKind {
    /// Reliable, to everyone but the sender; replayed after a resume.
    Broadcast,
    /// Best effort, to everyone but the sender; never replayed.
    Barrage,
    /// Reliable, to the listed users (or everyone but the sender); replayed after a resume.
    Command,
}

/// A message as the server relays it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireMessage {
    pub content: String,
    /// Increasing per room (shared by all kinds, so ids of one kind may skip numbers).
    pub message_id: u64,
    /// Server time, ms since the Unix epoch.
    pub send_time: u64,
    pub from_user: User,
}

/// A stream deleted, and why (contract §6.1 `stream_delete_reason` codes 1–6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamDeleteReason {
    pub stream_id: String,
    pub code: i32,
}

/// Stream delete reasons (contract §6.1).
pub mod delete_reason {
    /// Stopped, or the publisher logged out.
    pub const STOPPED: i32 = 1;
    /// The publisher's connection was lost and the heartbeat grace passed.
    pub const HEARTBEAT_TIMEOUT: i32 = 2;
    /// The publisher was replaced by a duplicate login (§1.6).
    pub const DUPLICATE_LOGIN: i32 = 3;
    /// The publisher was kicked by the admin API.
    pub const KICKED: i32 = 4;
    /// The publisher's engine was destroyed without logging out.
    pub const ENGINE_DESTROYED: i32 = 5;
    /// Removed by the admin API (`ForbidRTCStream`).
    pub const FORBIDDEN: i32 = 6;
}

/// Where a played stream stands, as the server sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlayStatus {
    /// The stream exists and its publisher is connected: SEI frames flow.
    Live,
    /// The stream does not exist (yet, or any more), or its publisher's connection is down.
    Down,
    /// Forbidden by the admin API: the player ends (NoPlay 1004025).
    Forbidden,
}

/// Server → client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum ServerMsg {
    LoginOk {
        /// Identifies this membership for resumes. Secret to the client.
        session_id: String,
        /// Identifies the room's current life (changes when the room empties and is re-opened).
        room_session_id: String,
        /// true: the old session was still held and nobody saw anything.
        resumed: bool,
        /// Everyone else present (only when `user_status_notify`; empty otherwise).
        users: Vec<User>,
        /// Members online, the local user included.
        user_count: u32,
        ping_interval_ms: u64,
        /// Seconds until the token expires; absent when the server does not check tokens.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token_remaining_secs: Option<i64>,
        /// The server's heartbeat grace (`--heartbeat-timeout`), ms.
        grace_ms: u64,
        /// How long the server's room state has existed (ms). Less than `grace_ms` after a restart
        /// that lost it: users and streams missing from this snapshot may still come back within
        /// `grace_ms - state_age_ms`, so the engine waits that long before reporting them gone
        /// (contract §1.7).
        state_age_ms: u64,
        /// Every stream in the room, the receiver's own included (it tells a resumed engine which of
        /// its streams the server still holds).
        streams: Vec<Stream>,
        /// The room's extra info (at most one key).
        extra_info: Vec<RoomExtraInfo>,
        /// The room's newest message id: later ones are new to the receiver.
        last_msg_id: u64,
    },
    /// The login was refused (token, room full, version). The server closes the connection.
    LoginFailed { code: i32, message: String },
    /// This server cannot take the login now (`code` 1002099: its room store, Redis in a
    /// cluster, is unreachable, contract §8). Not a verdict: the engine retries within its
    /// window (on the next URL of its list). The server closes the connection.
    LoginRetry { code: i32, message: String },
    Pong,
    /// Another user came or left (only sent to sessions with `user_status_notify`).
    UserUpdate { update: UserUpdateKind, users: Vec<User> },
    /// Online member count of the room (local user included).
    UserCount { count: u32 },
    /// Removed from the room; terminal. The server closes the connection after it.
    Kicked { code: i32, message: String },
    /// Answer to `renew_token`: code 0 and the new remaining time, or an authentication error.
    TokenRenewed {
        code: i32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token_remaining_secs: Option<i64>,
    },
    /// Other users' streams came or went (never the receiver's own). `reasons` (Delete only) gives
    /// the contract §6.1 code per stream.
    StreamUpdate {
        update: UserUpdateKind,
        streams: Vec<Stream>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        reasons: Vec<StreamDeleteReason>,
    },
    /// Other users' streams changed extra info.
    StreamExtraInfo { streams: Vec<Stream> },
    /// Answer to `publish`: 0 (published; others see it), 1003028 (id taken), 1003072 (no
    /// privilege), 1003025 (forbidden), 1003023 (channel busy on the server).
    PublishResult { channel: u8, stream_id: String, code: i32 },
    /// The server ended a published stream (1003025: forbidden by the admin API).
    PublishStopped { channel: u8, stream_id: String, code: i32 },
    StreamExtraInfoResult { seq: i32, code: i32 },
    /// A played stream's state: now (answer to `play`) and at every change.
    PlayState { stream_id: String, status: PlayStatus },
    /// Answer to `send`: code 0 with the message id, or 1009015 (rate) and friends.
    SendResult { kind: MsgKind, seq: i32, code: i32, message_id: u64 },
    /// Messages from others, in send order (also the catch-up after a resume).
    Messages { kind: MsgKind, messages: Vec<WireMessage> },
    RoomExtraInfoUpdate { infos: Vec<RoomExtraInfo> },
    /// Answer to `set_room_extra_info`; `update_time` is the server time (ms) it was stored at.
    RoomExtraInfoResult { seq: i32, code: i32, key: String, #[serde(default)] update_time: u64 },
    /// A protocol violation; the server closes the connection after it.
    Error { code: i32, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserUpdateKind {
    Add,
    Delete,
}

impl ClientMsg {
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("client message serializes")
    }
    pub fn decode(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

impl ServerMsg {
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("server message serializes")
    }
    pub fn decode(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

// ---- binary frames: SEI -------------------------------------------------------------------------
//
// SEI side data travels in binary WebSocket frames, not base64 inside JSON: a 1 KiB frame costs
// 2 bytes of header instead of ~1.4 KiB of text, and neither side encodes or decodes anything.

/// First byte of a client → server SEI frame: `[0x01, channel, data…]`.
pub const SEI_UP: u8 = 0x01;
/// First byte of a server → client SEI frame: `[0x02, len(stream_id), stream_id…, data…]`.
pub const SEI_DOWN: u8 = 0x02;
/// SEI payload limits (contract §6.1).
pub const MAX_SEI_BYTES: usize = 4096;

pub fn encode_sei_up(channel: u8, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(2 + data.len());
    v.push(SEI_UP);
    v.push(channel);
    v.extend_from_slice(data);
    v
}

/// `(channel, data)` of a client SEI frame; `None` if malformed or the payload is out of limits.
pub fn decode_sei_up(frame: &[u8]) -> Option<(u8, &[u8])> {
    match frame {
        [SEI_UP, channel, data @ ..] if (1..=MAX_SEI_BYTES).contains(&data.len()) => Some((*channel, data)),
        _ => None,
    }
}

/// `stream_id` is at most 255 bytes (contract §6.1), so its length fits the one-byte header.
pub fn encode_sei_down(stream_id: &str, data: &[u8]) -> Vec<u8> {
    let id = stream_id.as_bytes();
    debug_assert!(id.len() <= 255);
    let mut v = Vec::with_capacity(2 + id.len() + data.len());
    v.push(SEI_DOWN);
    v.push(id.len() as u8);
    v.extend_from_slice(id);
    v.extend_from_slice(data);
    v
}

/// `(stream_id, data)` of a server SEI frame; `None` if malformed.
pub fn decode_sei_down(frame: &[u8]) -> Option<(&str, &[u8])> {
    let [SEI_DOWN, len, rest @ ..] = frame else { return None };
    let len = *len as usize;
    if rest.len() <= len {
        return None;
    }
    let (id, data) = rest.split_at(len);
    Some((std::str::from_utf8(id).ok()?, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_round_trips_and_is_tagged() {
        let m = ClientMsg::Login {
            v: PROTOCOL_VERSION,
            app_id: 1,
            room_id: "r".into(),
            user_id: "u".into(),
            user_name: "U".into(),
            token: String::new(),
            max_member_count: 0,
            user_status_notify: true,
            client_id: "c1".into(),
            resume_session_id: None,
            last_msg_id: 0,
        };
        let text = m.encode();
        assert!(text.starts_with(r#"{"t":"login""#), "{text}");
        assert_eq!(ClientMsg::decode(&text).unwrap(), m);
    }

    #[test]
    fn unknown_or_malformed_frames_are_errors() {
        assert!(ClientMsg::decode(r#"{"t":"nope"}"#).is_err());
        assert!(ClientMsg::decode("not json").is_err());
        assert!(ServerMsg::decode(r#"{"t":"kicked"}"#).is_err());
        assert_eq!(ServerMsg::decode(r#"{"t":"pong"}"#).unwrap(), ServerMsg::Pong);
        // A plain logout (version 1 shape) still decodes.
        assert_eq!(ClientMsg::decode(r#"{"t":"logout"}"#).unwrap(), ClientMsg::Logout { destroyed: false });
    }

    #[test]
    fn sei_frames_round_trip_and_reject_bad_input() {
        let up = encode_sei_up(3, b"abc");
        assert_eq!(up, vec![SEI_UP, 3, b'a', b'b', b'c']);
        assert_eq!(decode_sei_up(&up), Some((3, &b"abc"[..])));
        assert_eq!(decode_sei_up(&[SEI_UP, 0]), None, "empty payload");
        assert_eq!(decode_sei_up(&[SEI_DOWN, 0, 1]), None);
        let mut big = vec![SEI_UP, 0];
        big.extend(std::iter::repeat_n(7u8, MAX_SEI_BYTES + 1));
        assert_eq!(decode_sei_up(&big), None, "over 4096 bytes");
        let down = encode_sei_down("s-1", &[0, 255, 0]);
        assert_eq!(decode_sei_down(&down), Some(("s-1", &[0u8, 255, 0][..])));
        assert_eq!(decode_sei_down(&[SEI_DOWN, 5, b'a']), None, "length past the end");
        assert_eq!(decode_sei_down(&[SEI_DOWN, 1, b'a']), None, "no payload");
        assert_eq!(decode_sei_down(&[]), None);
    }
}
