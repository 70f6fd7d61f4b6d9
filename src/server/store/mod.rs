//! What the server keeps about rooms, behind one interface ([`RoomStore`]) with two
//! implementations: [`memory::MemoryStore`] (one process, the embedded default) and, for a cluster
//! of nodes, a Redis store. This is the split Centrifugo makes between its engine (broker +
//! presence) and its nodes: the store holds room state and orders every change; a node holds
//! sockets, its local sessions and timers, and learns about changes only through [`RoomEvent`]s.
//!
//! Nothing outside this module may assume that one process holds all rooms: every rule that spans
//! users (the member limit, one client per user_id across the app, unique stream ids, message ids,
//! rates, grace deadlines, kicks) is decided inside the store, atomically, and announced as events
//! with a per-room sequence number (so a node can tell a gap and re-read the room).
//!
//! Time: the memory store uses the `now: Instant` its callers pass (so its rules run under a
//! virtual clock in tests); a networked store uses its own clock and ignores it.

pub mod memory;
pub mod redis;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::protocol::{delete_reason, MsgKind, WireMessage};
use crate::types::{RoomExtraInfo, Stream, User};

pub type SessionId = String;

/// Why a member left; it decides the `stream_delete_reason` of its streams (contract §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveReason {
    Logout,
    /// Logout sent by an engine being destroyed.
    Destroyed,
    /// Silent for the whole heartbeat grace.
    GraceExpired,
    /// The same user_id logged in from another client (contract §1.6).
    Replaced,
    /// Admin `KickoutUser` or `CloseRoom`.
    Kicked,
}

impl LeaveReason {
    pub fn stream_code(self) -> i32 {
        match self {
            LeaveReason::Logout => delete_reason::STOPPED,
            LeaveReason::Destroyed => delete_reason::ENGINE_DESTROYED,
            LeaveReason::GraceExpired => delete_reason::HEARTBEAT_TIMEOUT,
            LeaveReason::Replaced => delete_reason::DUPLICATE_LOGIN,
            LeaveReason::Kicked => delete_reason::KICKED,
        }
    }
}

/// A published stream as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRecord {
    pub stream: Stream,
    pub session_id: SessionId,
    pub channel: u8,
    /// The publisher's session is attached to a connection (its side data can flow).
    pub live: bool,
    /// Server time, ms since the Unix epoch.
    pub create_time: u64,
}

/// A reliable or best-effort message as relayed (and, if reliable, kept for catch-up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub kind: MsgKind,
    pub wire: WireMessage,
    /// The sending session (`None` for the admin API): it never receives its own message.
    pub from_session: Option<SessionId>,
    /// Custom commands: the target user ids (empty = everyone but the sender).
    pub to: Vec<String>,
}

impl StoredMessage {
    /// Is `session_id` (user `user_id`) a recipient?
    pub fn is_for(&self, session_id: &str, user_id: &str) -> bool {
        self.from_session.as_deref() != Some(session_id) && (self.to.is_empty() || self.to.iter().any(|u| u == user_id))
    }
}

/// A room at one point of its event sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub room_session_id: String,
    /// The room's last event sequence number included in this snapshot.
    pub seq: u64,
    /// Every member (sorted by user id).
    pub members: Vec<User>,
    pub streams: Vec<StreamRecord>,
    pub extra_info: Option<RoomExtraInfo>,
    /// Newest message id of the room.
    pub last_msg_id: u64,
    /// How long the store's state has existed (it restarts from nothing after a crash of the
    /// single-node server; see contract §1.7).
    pub state_age: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JoinOutcome {
    Joined(Snapshot),
    /// `max_member_count` reached (1002034).
    RoomFull,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ResumeOutcome {
    /// The session was still held: attached again; `missed` are the reliable messages for it with
    /// ids above the client's `last_msg_id` (bounded by the replay buffer).
    Resumed { snapshot: Snapshot, missed: Vec<StoredMessage> },
    /// Not held (grace passed, or the store lost it): the caller performs a fresh login.
    Gone,
    /// The session was kicked: the same verdict again.
    Kicked { code: i32, message: String },
}

/// What changed in a room. Every event of a room has the next sequence number.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    MemberAdded { user: User, session_id: SessionId },
    MemberRemoved { user: User, session_id: SessionId, reason: LeaveReason },
    /// The same user_id logged in again in this room under another name: others see Delete (old)
    /// then Add (new) (contract §1.6). Same name: no event at all.
    MemberRenamed { old: User, new: User, session_id: SessionId },
    /// A session ends. `code` != 0: it was kicked (1002050 duplicate login, 1002055 admin) and is
    /// told so; 0: it just goes (logout, grace, replaced by its own client).
    SessionEnded { session_id: SessionId, code: i32, message: String },
    /// A held session was attached again on `node_id` (another node may drop its stale copy).
    SessionResumed { session_id: SessionId, node_id: String },
    StreamAdded { record: StreamRecord },
    StreamRemoved { record: StreamRecord, code: i32 },
    StreamExtraInfo { stream: Stream },
    /// The publisher's connection went away (live = false) or came back (true).
    StreamLive { stream_id: String, live: bool },
    RoomExtraInfo { info: RoomExtraInfo, session_id: SessionId },
    Message { message: StoredMessage },
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoomEvent {
    pub room_id: String,
    pub seq: u64,
    pub kind: EventKind,
}

/// Where a store delivers events: the node. Called in sequence order per room, possibly while
/// the store holds its own lock, so an implementation must never call back into the store.
pub trait EventSink: Send + Sync + 'static {
    fn on_event(&self, event: Arc<RoomEvent>);
    /// A side-data frame (already encoded for players) of `stream_id` in `room_id`.
    fn on_sei(&self, room_id: &str, stream_id: &str, frame: bytes::Bytes);
    /// A networked store may have lost events of `room_id` (its event connection dropped, or
    /// the store lost its data): the node re-reads the room and tells its sessions the difference.
    fn on_room_reset(&self, _room_id: &str) {}
    /// The sessions this node holds, for a networked store that lost its data and registers
    /// them again (contract §8). Called without any store lock held.
    fn local_sessions(&self) -> Vec<HeldSession> {
        Vec::new()
    }
}

/// A session as its node holds it (see [`EventSink::local_sessions`]).
#[derive(Debug, Clone)]
pub struct HeldSession {
    pub room_id: String,
    pub room_session_id: String,
    pub session_id: SessionId,
    pub user: User,
    pub client_id: String,
    /// A connection carries it now.
    pub attached: bool,
    /// The last frame received from it.
    pub last_rx: Instant,
    /// Its streams as the node's view of the room has them.
    pub streams: Vec<StreamRecord>,
    /// The node's view of the room: last event sequence number and message id.
    pub room_seq: u64,
    pub last_msg_id: u64,
    /// 0 = unknown/unlimited.
    pub max_members: u32,
}

/// Store counters for `/metrics` (a networked store; the memory store reports zeros).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Calls answered by the store.
    pub ops: u64,
    /// Calls that failed (store unreachable, timeout).
    pub errors: u64,
    /// Sum of the answered calls' round trips, microseconds.
    pub latency_us: u64,
}

/// The store could not be reached or answered nonsense (a networked store). The node refuses
/// new logins with 1002099 meanwhile (contract §8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "room store: {}", self.0)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Limits and timings the store enforces.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Heartbeat grace: a session not refreshed for this long is removed.
    pub grace: Duration,
    /// How long kicked sessions are remembered, so a resume after a kick is refused.
    pub tombstone_ttl: Duration,
    /// Catch-up bounds: the last this many reliable messages per room ...
    pub replay_max: usize,
    /// ... within this age (contract §7.1: 500 within 120 s).
    pub replay_age: Duration,
    /// Broadcasts per sender per second (contract §7.1: 2).
    pub broadcasts_per_sec: usize,
    /// Barrages per room per second (contract §7.1: 20).
    pub barrages_per_sec: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            grace: Duration::from_secs(90),
            tombstone_ttl: Duration::from_secs(30 * 60),
            replay_max: 500,
            replay_age: Duration::from_secs(120),
            broadcasts_per_sec: 2,
            barrages_per_sec: 20,
        }
    }
}

/// A fresh login (contract §1.1, §1.6).
#[derive(Debug, Clone)]
pub struct JoinRequest {
    pub room_id: String,
    pub user: User,
    pub client_id: String,
    pub session_id: SessionId,
    /// 0 = unlimited; applies when this login opens the room.
    pub max_members: u32,
    pub node_id: String,
}

/// A heartbeat refresh: `session_id` received a frame at `last_rx`.
#[derive(Debug, Clone)]
pub struct Refresh {
    pub room_id: String,
    pub session_id: SessionId,
    pub last_rx: Instant,
}

/// A message to relay (contract §7.1, §7.3).
#[derive(Debug, Clone)]
pub struct SendRequest {
    pub room_id: String,
    /// `None` for the admin API.
    pub from_session: Option<SessionId>,
    pub from_user: User,
    pub kind: MsgKind,
    pub content: String,
    pub to: Vec<String>,
    /// The client's seq: a seq this session already sent is answered with the first answer and
    /// not sent again (a resend after a reconnect).
    pub client_seq: Option<i32>,
}

/// A room as listed for operators (the admin console).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSummary {
    pub room_id: String,
    pub user_count: u32,
    pub stream_count: u32,
}

/// The room state interface. Every method that changes something emits the resulting events to
/// the sink (in order, with the room's next sequence numbers) before its future completes.
/// Results that are contract codes (publish refused, rate limited, …) are `Ok(Err(code))`;
/// `Err(StoreError)` means the store itself failed.
pub trait RoomStore: Send + Sync + 'static {
    fn set_sink(&self, sink: std::sync::Weak<dyn EventSink>);

    /// Fresh login: member limit, one client per user_id across the app (kicking the other
    /// client's sessions everywhere), same-room replacement.
    fn join(&self, req: JoinRequest, now: Instant) -> impl Future<Output = StoreResult<JoinOutcome>> + Send;
    /// Attach a held session again (contract §1.2 scenario 1).
    fn resume(&self, room_id: &str, session_id: &str, user_id: &str, last_msg_id: u64, node_id: &str, now: Instant)
        -> impl Future<Output = StoreResult<ResumeOutcome>> + Send;
    /// The session's connection is gone; it stays present for the grace, its streams not live.
    fn detach(&self, room_id: &str, session_id: &str, now: Instant) -> impl Future<Output = StoreResult<()>> + Send;
    /// Heartbeats, batched: each session's grace now counts from its `last_rx`.
    fn refresh(&self, batch: Vec<Refresh>, now: Instant) -> impl Future<Output = StoreResult<()>> + Send;
    /// Remove sessions whose grace has passed (others see Delete; streams Delete 2).
    fn reap(&self, now: Instant) -> impl Future<Output = StoreResult<()>> + Send;
    fn leave(&self, room_id: &str, session_id: &str, reason: LeaveReason, now: Instant) -> impl Future<Output = StoreResult<()>> + Send;
    /// Admin kick of users in a room (1002055 with `message`).
    fn kick(&self, room_id: &str, user_ids: &[String], code: i32, message: &str, now: Instant) -> impl Future<Output = StoreResult<()>> + Send;
    /// Admin `CloseRoom`: every member kicked with 1002055; the room is emptied.
    fn close_room(&self, room_id: &str, message: &str, now: Instant) -> impl Future<Output = StoreResult<()>> + Send;

    fn publish(&self, room_id: &str, session_id: &str, channel: u8, stream_id: &str, extra_info: &str, now: Instant)
        -> impl Future<Output = StoreResult<Result<(), i32>>> + Send;
    fn stop_publish(&self, room_id: &str, session_id: &str, stream_id: &str) -> impl Future<Output = StoreResult<()>> + Send;
    fn set_stream_extra_info(&self, room_id: &str, session_id: &str, channel: u8, extra_info: &str)
        -> impl Future<Output = StoreResult<Result<(), i32>>> + Send;
    /// Admin `ForbidRTCStream` (and `ResumeRTCStream` with `forbidden = false`).
    fn forbid_stream(&self, stream_id: &str, forbidden: bool) -> impl Future<Output = StoreResult<()>> + Send;

    /// Returns the stored update time (ms since the epoch) or 1002017.
    fn set_room_extra_info(&self, room_id: &str, session_id: &str, key: &str, value: &str)
        -> impl Future<Output = StoreResult<Result<u64, i32>>> + Send;
    /// Returns the message id or a code (1009015 over the rate, 1009005 unknown room).
    fn send_message(&self, req: SendRequest, now: Instant) -> impl Future<Output = StoreResult<Result<u64, i32>>> + Send;
    /// Relay side data to every node with players of the stream (not stored).
    fn relay_sei(&self, room_id: &str, stream_id: &str, frame: bytes::Bytes) -> impl Future<Output = StoreResult<()>> + Send;

    fn snapshot(&self, room_id: &str, now: Instant) -> impl Future<Output = StoreResult<Option<Snapshot>>> + Send;
    /// Reliable messages with ids above `after_id` (for a node that saw a gap).
    fn messages_after(&self, room_id: &str, after_id: u64, now: Instant) -> impl Future<Output = StoreResult<Vec<StoredMessage>>> + Send;
    /// Start/stop receiving the events of a room (a networked store subscribes to its channel).
    fn subscribe(&self, room_id: &str) -> impl Future<Output = StoreResult<()>> + Send;
    fn unsubscribe(&self, room_id: &str) -> impl Future<Output = StoreResult<()>> + Send;

    /// Rooms with at least one member (operators' view).
    fn rooms(&self, now: Instant) -> impl Future<Output = StoreResult<Vec<RoomSummary>>> + Send;
    /// Is the store reachable and working (`/healthz`)?
    fn healthy(&self) -> bool;
    /// Counters for `/metrics`.
    fn stats(&self) -> StoreStats {
        StoreStats::default()
    }
}
