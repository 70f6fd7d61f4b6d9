//! Wire protocol shared by the engine and the room server: JSON text frames over one WebSocket per
//! room session. See `docs/protocol.md` for the exchange; this module is the single definition.

use serde::{Deserialize, Serialize};

use crate::types::User;

/// Version carried in every `login`. The server refuses other versions with a `login_failed`.
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest frame a client may send. Anything larger closes that session (server side).
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
        /// Session id from an earlier `login_ok` on another connection; the server resumes it if it
        /// still holds it (within the heartbeat grace), otherwise it performs a fresh login.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume_session_id: Option<String>,
    },
    /// Heartbeat, sent every `ping_interval_ms`. Any frame counts as a sign of life.
    Ping,
    /// Leave the room now (others see Delete at once, no grace).
    Logout,
    /// Replace the token of this session; answered by `token_renewed`.
    RenewToken { token: String },
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
    },
    /// The login was refused (token, room full, version). The server closes the connection.
    LoginFailed { code: i32, message: String },
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
            resume_session_id: None,
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
    }
}
