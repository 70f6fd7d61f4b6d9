//! The Redis room store: room state shared by a cluster of nodes (contract §8). Built on redis-rs
//! (its async connection manager for commands, a dedicated pub/sub connection for events) and Lua
//! scripts (`redis/*.lua`), one per change, each atomic and run on Redis's clock, making exactly
//! the decisions of [`super::memory::MemoryStore`] and emitting the same events in the same order.
//!
//! - **Keys** live under `<prefix>:<app id>:` (two apps or two clusters share one Redis safely):
//!   per room a hash (`r:{ROOM}`: room session id, member limit, event sequence, message ids,
//!   extra info), its members, streams and replay buffer; per session a hash; app-wide a user
//!   index (one client per user_id, §1.6), a stream-owner index (unique stream ids), forbidden
//!   streams, kick tombstones (expiring keys) and one sorted set of every session's grace
//!   deadline, which every node's reaper reads. Operations span rooms (a duplicate login kicks
//!   the user everywhere), so the store needs a single Redis (or a primary with replicas), not
//!   Redis Cluster. docs/cluster.md has the full layout.
//! - **Events**: every script numbers its events with the room's next sequence number, PUBLISHes
//!   each on the room's channel and returns them. The store delivers a room's events to its sink
//!   in sequence order whichever way they arrive first (the script's answer or the channel), so a
//!   change made here reaches the node before the call returns, and events from other nodes are
//!   never reordered. A gap that does not fill within [`GAP_WAIT`] is passed on (the node sees it
//!   and re-reads the room).
//! - **Failures**: commands are retried for `op_budget` (3 s) while Redis cannot be reached, then
//!   fail ([`StoreError`]; logins are refused with 1002099 and engines retry). A lost pub/sub
//!   connection re-subscribes and tells the sink to re-read every room. Heartbeats that could not
//!   be written are kept and written first when Redis is back, and after a silence of every
//!   reaper (Redis was down or restarted) nothing is reaped for `reap_hold`, so an outage shorter
//!   than the grace removes nobody. Redis that comes back *without its data* is recognised by its
//!   epoch key: the node registers its sessions again ([`EventSink::local_sessions`]) and, once
//!   every node had time to do so, re-reads its rooms.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use parking_lot::Mutex;
use ::redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSubSink};
use ::redis::{RedisError, Script};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use tokio::sync::Notify;

use super::*;
use crate::error_codes as ec;
use crate::protocol::{MsgKind, WireMessage};
use crate::types::{RoomExtraInfo, Stream, User};
use std::future::Future;

/// How long a room's delivery waits for a missing event before passing on what follows it.
pub const GAP_WAIT: Duration = Duration::from_millis(300);
/// Health probe (epoch, connection) and pub/sub liveness period.
const HEALTH_EVERY: Duration = Duration::from_millis(250);
/// One Redis call that takes longer is abandoned (and retried within the budget).
const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause between retries of a call while Redis cannot be reached.
const RETRY_PAUSE: Duration = Duration::from_millis(100);
/// No reap by anyone for this long means every node was cut off from Redis (or Redis restarted).
const REAP_SILENCE: Duration = Duration::from_secs(2);
/// Sessions removed per reap call (the rest on the next one, 100 ms later).
const REAP_LIMIT: usize = 500;
/// After Redis lost its data: how long every node gets to register its sessions again before the
/// rooms are re-read.
const RESTORE_SETTLE: Duration = Duration::from_millis(1500);
/// What a kicked duplicate login is told (the memory store's text).
use super::memory::DUPLICATE_LOGIN_MESSAGE;

/// Where the store's rules read the time.
#[derive(Debug, Clone)]
pub enum Clock {
    /// Redis's `TIME`: every node agrees (production).
    Redis,
    /// `base_ms + (now - t0)` from the `now` callers pass: the rules run under a virtual clock
    /// (the shared store tests).
    Caller { t0: Instant, base_ms: u64 },
}

/// How to reach Redis and how this node behaves in the cluster.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]` (or `unix://`).
    pub url: String,
    /// Key and channel prefix (`--redis-prefix`); the app id is appended.
    pub prefix: String,
    pub app_id: u32,
    /// This node's name (`--node-id`), recorded with its sessions.
    pub node_id: String,
    /// How long a call keeps trying while Redis cannot be reached.
    pub op_budget: Duration,
    /// No reaping for this long after every reaper was silent (0 = never hold; tests).
    pub reap_hold: Duration,
    pub clock: Clock,
}

impl RedisConfig {
    pub fn new(url: impl Into<String>, prefix: impl Into<String>, app_id: u32, node_id: impl Into<String>) -> RedisConfig {
        RedisConfig {
            url: url.into(),
            prefix: prefix.into(),
            app_id,
            node_id: node_id.into(),
            op_budget: Duration::from_secs(3),
            reap_hold: Duration::from_secs(3),
            clock: Clock::Redis,
        }
    }
}

/// Counters for `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedisStats {
    /// Script calls that got an answer.
    pub ops: u64,
    /// Calls that failed (Redis unreachable, timeout).
    pub errors: u64,
    /// Sum of the answered calls' round trips, µs.
    pub latency_us: u64,
    /// Heartbeat batches written and sessions in them.
    pub refresh_batches: u64,
    pub refresh_sessions: u64,
}

struct Scripts {
    join: Script,
    resume: Script,
    detach: Script,
    refresh: Script,
    reap: Script,
    leave: Script,
    kick: Script,
    publish: Script,
    stop_publish: Script,
    stream_extra: Script,
    forbid: Script,
    room_extra: Script,
    send: Script,
    read: Script,
    health: Script,
    restore: Script,
}

impl Scripts {
    fn new(cfg: &StoreConfig) -> Scripts {
        use crate::protocol::delete_reason as dr;
        let prelude = include_str!("redis/prelude.lua");
        let subst: Vec<(&str, String)> = vec![
            ("@DR_STOPPED@", dr::STOPPED.to_string()),
            ("@DR_DESTROYED@", dr::ENGINE_DESTROYED.to_string()),
            ("@DR_GRACE@", dr::HEARTBEAT_TIMEOUT.to_string()),
            ("@DR_DUPLICATE@", dr::DUPLICATE_LOGIN.to_string()),
            ("@DR_KICKED@", dr::KICKED.to_string()),
            ("@DR_FORBIDDEN@", dr::FORBIDDEN.to_string()),
            ("@TOMB_TTL_MS@", cfg.tombstone_ttl.as_millis().max(1).to_string()),
            ("@DUP_CODE@", ec::KICKED_OUT_DUPLICATE_LOGIN.to_string()),
            ("@DUP_MSG@", DUPLICATE_LOGIN_MESSAGE.to_string()),
            ("@NOT_LOGIN_ROOM@", ec::NOT_LOGIN_ROOM.to_string()),
            ("@PUBLISHER_FORBIDDEN@", ec::PUBLISHER_FORBIDDEN.to_string()),
            ("@PUBLISHER_STREAM_ID_TAKEN@", ec::PUBLISHER_STREAM_ID_TAKEN.to_string()),
            ("@PUBLISHER_CHANNEL_BUSY@", ec::PUBLISHER_CHANNEL_BUSY.to_string()),
            ("@PUBLISHER_NOT_PUBLISHING@", ec::PUBLISHER_NOT_PUBLISHING.to_string()),
            ("@ROOM_ID_INCORRECT@", ec::ROOM_ID_INCORRECT.to_string()),
            ("@ROOM_EXTRA_INFO_EXCEED_KEYS@", ec::ROOM_EXTRA_INFO_EXCEED_KEYS.to_string()),
            ("@MESSAGE_ROOM_NOT_JOINED@", ec::MESSAGE_ROOM_NOT_JOINED.to_string()),
            ("@MESSAGE_RATE_LIMITED@", ec::MESSAGE_RATE_LIMITED.to_string()),
        ];
        let mk = |body: &str| {
            let mut text = format!("{prelude}\n{body}");
            for (k, v) in &subst {
                text = text.replace(k, v);
            }
            debug_assert!(!text.contains("@DR_") && !text.contains("@PUB"), "unreplaced placeholder");
            Script::new(&text)
        };
        Scripts {
            join: mk(include_str!("redis/join.lua")),
            resume: mk(include_str!("redis/resume.lua")),
            detach: mk(include_str!("redis/detach.lua")),
            refresh: mk(include_str!("redis/refresh.lua")),
            reap: mk(include_str!("redis/reap.lua")),
            leave: mk(include_str!("redis/leave.lua")),
            kick: mk(include_str!("redis/kick.lua")),
            publish: mk(include_str!("redis/publish.lua")),
            stop_publish: mk(include_str!("redis/stop_publish.lua")),
            stream_extra: mk(include_str!("redis/stream_extra.lua")),
            forbid: mk(include_str!("redis/forbid.lua")),
            room_extra: mk(include_str!("redis/room_extra.lua")),
            send: mk(include_str!("redis/send.lua")),
            read: mk(include_str!("redis/read.lua")),
            health: mk(include_str!("redis/health.lua")),
            restore: mk(include_str!("redis/restore.lua")),
        }
    }
}

// ---- what the scripts answer (JSON made by Redis's cjson) ----------------------------------------

/// cjson encodes an empty Lua table as `{}`: accept that (and null) as an empty list.
fn lenient_vec<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
    use serde::de::Error;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Array(a) => a.into_iter().map(|v| serde_json::from_value(v).map_err(D::Error::custom)).collect(),
        serde_json::Value::Object(o) if o.is_empty() => Ok(Vec::new()),
        serde_json::Value::Null => Ok(Vec::new()),
        other => Err(D::Error::custom(format!("expected a list, got {other}"))),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct JUser {
    i: String,
    n: String,
}

impl From<JUser> for User {
    fn from(u: JUser) -> User {
        User::new(u.i, u.n)
    }
}

impl From<&User> for JUser {
    fn from(u: &User) -> JUser {
        JUser { i: u.user_id.clone(), n: u.user_name.clone() }
    }
}

#[derive(Debug, Deserialize)]
struct JRec {
    id: String,
    u: JUser,
    x: String,
    sid: String,
    ch: u8,
    live: bool,
    ct: u64,
}

impl From<JRec> for StreamRecord {
    fn from(r: JRec) -> StreamRecord {
        StreamRecord {
            stream: Stream { user: r.u.into(), stream_id: r.id, extra_info: r.x },
            session_id: r.sid,
            channel: r.ch,
            live: r.live,
            create_time: r.ct,
        }
    }
}

#[derive(Debug, Deserialize)]
struct JStream {
    id: String,
    u: JUser,
    x: String,
}

#[derive(Debug, Deserialize)]
struct JInfo {
    key: String,
    value: String,
    u: JUser,
    t: u64,
}

impl From<JInfo> for RoomExtraInfo {
    fn from(i: JInfo) -> RoomExtraInfo {
        RoomExtraInfo { key: i.key, value: i.value, update_user: i.u.into(), update_time: i.t }
    }
}

#[derive(Debug, Deserialize)]
struct JMsg {
    kind: MsgKind,
    c: String,
    id: u64,
    t: u64,
    u: JUser,
    fs: String,
    #[serde(deserialize_with = "lenient_vec")]
    to: Vec<String>,
}

impl From<JMsg> for StoredMessage {
    fn from(m: JMsg) -> StoredMessage {
        StoredMessage {
            kind: m.kind,
            wire: WireMessage { content: m.c, message_id: m.id, send_time: m.t, from_user: m.u.into() },
            from_session: (!m.fs.is_empty()).then_some(m.fs),
            to: m.to,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "k")]
enum JKind {
    #[serde(rename = "add")]
    Add { u: JUser, sid: String },
    #[serde(rename = "rm")]
    Rm { u: JUser, sid: String, why: String },
    #[serde(rename = "ren")]
    Ren { old: JUser, new: JUser, sid: String },
    #[serde(rename = "end")]
    End { sid: String, code: i32, msg: String },
    #[serde(rename = "res")]
    Res { sid: String, node: String },
    #[serde(rename = "sadd")]
    SAdd { rec: JRec },
    #[serde(rename = "srm")]
    SRm { rec: JRec, code: i32 },
    #[serde(rename = "sx")]
    Sx { st: JStream },
    #[serde(rename = "live")]
    Live { id: String, live: bool },
    #[serde(rename = "rx")]
    Rx { info: JInfo, sid: String },
    #[serde(rename = "msg")]
    Msg { m: JMsg },
}

#[derive(Debug, Deserialize)]
struct JEvent {
    room: String,
    seq: u64,
    #[serde(flatten)]
    kind: JKind,
}

fn leave_reason(why: &str) -> LeaveReason {
    match why {
        "destroyed" => LeaveReason::Destroyed,
        "grace" => LeaveReason::GraceExpired,
        "replaced" => LeaveReason::Replaced,
        "kicked" => LeaveReason::Kicked,
        _ => LeaveReason::Logout,
    }
}

fn parse_event(text: &str) -> Result<RoomEvent, String> {
    let e: JEvent = serde_json::from_str(text).map_err(|e| format!("bad event {text}: {e}"))?;
    let kind = match e.kind {
        JKind::Add { u, sid } => EventKind::MemberAdded { user: u.into(), session_id: sid },
        JKind::Rm { u, sid, why } => EventKind::MemberRemoved { user: u.into(), session_id: sid, reason: leave_reason(&why) },
        JKind::Ren { old, new, sid } => EventKind::MemberRenamed { old: old.into(), new: new.into(), session_id: sid },
        JKind::End { sid, code, msg } => EventKind::SessionEnded { session_id: sid, code, message: msg },
        JKind::Res { sid, node } => EventKind::SessionResumed { session_id: sid, node_id: node },
        JKind::SAdd { rec } => EventKind::StreamAdded { record: rec.into() },
        JKind::SRm { rec, code } => EventKind::StreamRemoved { record: rec.into(), code },
        JKind::Sx { st } => EventKind::StreamExtraInfo { stream: Stream { user: st.u.into(), stream_id: st.id, extra_info: st.x } },
        JKind::Live { id, live } => EventKind::StreamLive { stream_id: id, live },
        JKind::Rx { info, sid } => EventKind::RoomExtraInfo { info: info.into(), session_id: sid },
        JKind::Msg { m } => EventKind::Message { message: m.into() },
    };
    Ok(RoomEvent { room_id: e.room, seq: e.seq, kind })
}

#[derive(Debug, Deserialize)]
struct JSnap {
    rsid: String,
    seq: u64,
    mid: u64,
    age: i64,
    /// Flat: user id, "session id\nuser name", ...
    #[serde(deserialize_with = "lenient_vec")]
    m: Vec<String>,
    /// Stream records as JSON texts.
    #[serde(deserialize_with = "lenient_vec")]
    s: Vec<String>,
    x: Option<JInfo>,
}

impl JSnap {
    fn into_snapshot(self) -> Result<Snapshot, String> {
        let mut members: Vec<User> = self
            .m
            .chunks(2)
            .filter_map(|p| match p {
                [uid, v] => v.split_once('\n').map(|(_, name)| User::new(uid.clone(), name)),
                _ => None,
            })
            .collect();
        members.sort();
        let mut streams = self
            .s
            .iter()
            .map(|t| serde_json::from_str::<JRec>(t).map(StreamRecord::from).map_err(|e| format!("bad stream record {t}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        streams.sort_by(|a, b| a.stream.stream_id.cmp(&b.stream.stream_id));
        Ok(Snapshot {
            room_session_id: self.rsid,
            seq: self.seq,
            members,
            streams,
            extra_info: self.x.map(Into::into),
            last_msg_id: self.mid,
            state_age: Duration::from_millis(self.age.max(0) as u64),
        })
    }
}

fn parse_messages(list: Vec<String>) -> StoreResult<Vec<StoredMessage>> {
    list.iter()
        .map(|t| serde_json::from_str::<JMsg>(t).map(StoredMessage::from).map_err(|e| StoreError(format!("bad message {t}: {e}"))))
        .collect()
}

/// A session as a node registers it again after Redis lost its data.
#[derive(Serialize)]
struct JRestore {
    r: String,
    rsid: String,
    sid: String,
    u: JUser,
    c: String,
    a: bool,
    node: String,
    age: u64,
    seq: u64,
    mid: u64,
    max: u32,
    st: Vec<JRestoreStream>,
}

#[derive(Serialize)]
struct JRestoreStream {
    id: String,
    ch: u8,
    x: String,
    ct: u64,
}

// ---- ordered delivery ----------------------------------------------------------------------------

#[derive(Default)]
struct RoomOrder {
    /// Last sequence number delivered to the sink (`None` until known after subscribing).
    last: Option<u64>,
    /// Events that arrived ahead of a missing one.
    pending: BTreeMap<u64, Arc<RoomEvent>>,
    /// Since when the oldest pending event waits.
    since: Option<Instant>,
}

/// One script's answer: its result (JSON) and the events it emitted (JSON texts).
struct Answer {
    result: String,
    events: Vec<String>,
}

struct Inner {
    cfg: StoreConfig,
    rc: RedisConfig,
    /// `<prefix>:<app id>`.
    keys: String,
    client: ::redis::Client,
    conn: ConnectionManager,
    s: Scripts,
    sink: OnceLock<Weak<dyn EventSink>>,
    /// Subscribed rooms and their delivery state.
    order: Mutex<HashMap<String, RoomOrder>>,
    delivered: Notify,
    /// The epoch this node works in (`None` before the first contact).
    epoch: Mutex<Option<String>>,
    /// Sessions are being registered again after a data loss: calls wait.
    restoring: AtomicBool,
    restored: Notify,
    /// When sessions were last registered again (the rooms are re-read RESTORE_SETTLE later).
    restored_at: Mutex<Option<Instant>>,
    pubsub: tokio::sync::Mutex<Option<PubSubSink>>,
    pubsub_up: AtomicBool,
    /// Wakes the pub/sub task to drop its connection (it failed a liveness ping).
    pubsub_kill: Arc<Notify>,
    shutdown: Arc<Notify>,
    /// Redis answered the last call or probe.
    reachable: AtomicBool,
    stats: Mutex<RedisStats>,
    /// Heartbeats not written yet (Redis unreachable): session → latest frame time.
    pending_refresh: Mutex<HashMap<SessionId, Instant>>,
}

/// The Redis store. Cheap to share (`Arc` inside); background tasks (health probe, pub/sub)
/// stop when it is dropped.
pub struct RedisStore {
    inner: Arc<Inner>,
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        self.inner.shutdown.notify_waiters();
        self.inner.pubsub_kill.notify_waiters();
    }
}

fn is_retryable(e: &RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout() || e.is_unrecoverable_error()
}

fn random_id() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

impl RedisStore {
    /// Checks the URL and starts the background tasks (inside a tokio runtime). Redis need not
    /// be reachable yet: the store is unhealthy until it is.
    pub fn connect(cfg: StoreConfig, rc: RedisConfig) -> StoreResult<RedisStore> {
        let client = ::redis::Client::open(rc.url.as_str()).map_err(|e| StoreError(format!("bad Redis URL {:?}: {e}", rc.url)))?;
        let cm = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(CALL_TIMEOUT))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), cm).map_err(|e| StoreError(format!("Redis: {e}")))?;
        let keys = format!("{}:{}", rc.prefix, rc.app_id);
        let inner = Arc::new(Inner {
            s: Scripts::new(&cfg),
            cfg,
            rc,
            keys,
            client,
            conn,
            sink: OnceLock::new(),
            order: Mutex::new(HashMap::new()),
            delivered: Notify::new(),
            epoch: Mutex::new(None),
            restoring: AtomicBool::new(false),
            restored: Notify::new(),
            restored_at: Mutex::new(None),
            pubsub: tokio::sync::Mutex::new(None),
            pubsub_up: AtomicBool::new(false),
            pubsub_kill: Arc::new(Notify::new()),
            shutdown: Arc::new(Notify::new()),
            reachable: AtomicBool::new(false),
            stats: Mutex::new(RedisStats::default()),
            pending_refresh: Mutex::new(HashMap::new()),
        });
        tokio::spawn(health_loop(Arc::downgrade(&inner), inner.shutdown.clone()));
        tokio::spawn(pubsub_loop(Arc::downgrade(&inner), inner.shutdown.clone(), inner.pubsub_kill.clone()));
        Ok(RedisStore { inner })
    }

    /// Counters for metrics.
    pub fn stats(&self) -> RedisStats {
        self.inner.stats.lock().clone()
    }

    /// Waits (bounded) until the store is healthy; for tests and startup logs.
    pub async fn wait_healthy(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.healthy() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.healthy()
    }
}

impl Inner {
    fn sink(&self) -> Option<Arc<dyn EventSink>> {
        self.sink.get().and_then(Weak::upgrade)
    }

    fn now_arg(&self, now: Instant) -> String {
        match &self.rc.clock {
            Clock::Redis => String::new(),
            Clock::Caller { t0, base_ms } => {
                let ms = if now >= *t0 { base_ms + now.duration_since(*t0).as_millis() as u64 } else { base_ms - t0.duration_since(now).as_millis() as u64 };
                ms.to_string()
            }
        }
    }

    /// "Now" for ages computed here (heartbeats): the caller's clock under a virtual clock.
    fn local_now(&self, now: Instant) -> Instant {
        match self.rc.clock {
            Clock::Redis => Instant::now(),
            Clock::Caller { .. } => now,
        }
    }

    fn channel(&self, room: &str) -> String {
        format!("{}:c:{{{room}}}", self.keys)
    }

    fn room_of_channel<'a>(&self, channel: &'a str) -> Option<&'a str> {
        channel.strip_prefix(self.keys.as_str())?.strip_prefix(":c:{")?.strip_suffix('}')
    }

    fn note(&self, ok: bool, took: Duration) {
        let mut s = self.stats.lock();
        if ok {
            s.ops += 1;
            s.latency_us += took.as_micros() as u64;
        } else {
            s.errors += 1;
        }
        drop(s);
        self.reachable.store(ok, Ordering::Relaxed);
    }

    /// One script call: `args` after the prefix, epoch and clock. Retries while Redis cannot be
    /// reached, up to `budget`; recognises a Redis that lost its data (and registers this node's
    /// sessions again before going on).
    async fn call(self: &Arc<Self>, script: &Script, args: &[String], now: Instant, budget: Duration) -> StoreResult<Answer> {
        let deadline = Instant::now() + budget;
        let mut last_err = String::from("Redis unreachable");
        loop {
            if !self.wait_restored(deadline).await {
                return Err(StoreError("Redis lost its data; sessions are being registered again".into()));
            }
            let epoch = self.epoch.lock().clone();
            let epoch = match epoch {
                Some(e) => e,
                None => match self.probe().await {
                    Ok(()) => continue,
                    Err(e) => {
                        last_err = e.0;
                        if Instant::now() + RETRY_PAUSE >= deadline {
                            break;
                        }
                        tokio::time::sleep(RETRY_PAUSE).await;
                        continue;
                    }
                },
            };
            match self.invoke(script, &epoch, args, now).await {
                Ok(v) if v.first().map(String::as_str) == Some("EPOCH") => {
                    // Redis lost its data (restarted empty): register again, then retry.
                    let _ = self.probe().await;
                    if Instant::now() >= deadline {
                        break;
                    }
                }
                Ok(mut v) if v.len() >= 2 && v[0] == "OK" => {
                    let events = v.split_off(2);
                    let result = v.pop().unwrap_or_default();
                    return Ok(Answer { result, events });
                }
                Ok(v) => return Err(StoreError(format!("unexpected script answer {v:?}"))),
                Err(e) if is_retryable(&e) => {
                    last_err = e.to_string();
                    if Instant::now() + RETRY_PAUSE >= deadline {
                        break;
                    }
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
                Err(e) => return Err(StoreError(format!("Redis: {e}"))),
            }
        }
        Err(StoreError(format!("Redis: {last_err}")))
    }

    async fn invoke(&self, script: &Script, epoch: &str, args: &[String], now: Instant) -> Result<Vec<String>, RedisError> {
        let mut inv = script.prepare_invoke();
        inv.arg(&self.keys).arg(epoch).arg(self.now_arg(now));
        for a in args {
            inv.arg(a);
        }
        let mut conn = self.conn.clone();
        let started = Instant::now();
        let res = match tokio::time::timeout(CALL_TIMEOUT, inv.invoke_async::<Vec<String>>(&mut conn)).await {
            Ok(r) => r,
            Err(_) => Err(RedisError::from(std::io::Error::new(std::io::ErrorKind::TimedOut, "Redis call timed out"))),
        };
        match &res {
            Ok(_) => self.note(true, started.elapsed()),
            Err(e) if is_retryable(e) => self.note(false, started.elapsed()),
            Err(_) => {}
        }
        res
    }

    /// Returns false if the wait for a restore outlasted `deadline`.
    async fn wait_restored(&self, deadline: Instant) -> bool {
        loop {
            let notified = self.restored.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if !self.restoring.load(Ordering::Acquire) {
                return true;
            }
            if tokio::time::timeout_at(deadline.into(), notified).await.is_err() {
                return !self.restoring.load(Ordering::Acquire);
            }
        }
    }

    /// Reads Redis's epoch (creating it in an empty Redis). A different one than this node's
    /// means Redis lost its data: this node's sessions are registered again.
    async fn probe(self: &Arc<Self>) -> StoreResult<()> {
        let candidate = random_id();
        // Under a virtual clock the state starts at t0 (state_age counts from there).
        let at = match self.rc.clock {
            Clock::Caller { t0, .. } => t0,
            Clock::Redis => Instant::now(),
        };
        let v = self.invoke(&self.s.health, "*", &[candidate], at).await.map_err(|e| StoreError(format!("Redis: {e}")))?;
        #[derive(Deserialize)]
        struct H {
            epoch: String,
        }
        let h: H = v.get(1).and_then(|t| serde_json::from_str(t).ok()).ok_or_else(|| StoreError(format!("bad health answer {v:?}")))?;
        let known = self.epoch.lock().clone();
        match known {
            None => {
                log::info!("room store: Redis {} reached (epoch {})", self.rc.url, h.epoch);
                *self.epoch.lock() = Some(h.epoch);
            }
            Some(k) if k != h.epoch => self.data_lost(k, h.epoch).await,
            Some(_) => {}
        }
        Ok(())
    }

    /// Redis came back without this cluster's data: register this node's sessions again (same
    /// ids, deadlines from their last frames), then, once every node had time to do the same,
    /// re-read every room.
    async fn data_lost(self: &Arc<Self>, old: String, new: String) {
        if self.restoring.swap(true, Ordering::AcqRel) {
            // Another call is already at it.
            return;
        }
        log::warn!("room store: Redis lost its data (epoch {old} → {new}); registering this node's sessions again");
        *self.epoch.lock() = Some(new.clone());
        let held = self.sink().map(|s| s.local_sessions()).unwrap_or_default();
        let now = Instant::now();
        let list: Vec<JRestore> = held
            .into_iter()
            .map(|h| JRestore {
                r: h.room_id,
                rsid: h.room_session_id,
                sid: h.session_id,
                u: (&h.user).into(),
                c: h.client_id,
                a: h.attached,
                node: self.rc.node_id.clone(),
                age: now.saturating_duration_since(h.last_rx).as_millis() as u64,
                seq: h.room_seq,
                mid: h.last_msg_id,
                max: h.max_members,
                st: h.streams.into_iter().map(|s| JRestoreStream { id: s.stream.stream_id, ch: s.channel, x: s.stream.extra_info, ct: s.create_time }).collect(),
            })
            .collect();
        let count = list.len();
        let text = serde_json::to_string(&list).unwrap_or_else(|_| "[]".into());
        let args = [self.cfg.grace.as_millis().to_string(), text];
        let deadline = Instant::now() + self.rc.op_budget;
        loop {
            match self.invoke(&self.s.restore, &new, &args, now).await {
                Ok(v) if v.first().map(String::as_str) == Some("OK") => {
                    log::info!("room store: {count} sessions registered again ({})", v.get(1).map(String::as_str).unwrap_or(""));
                    break;
                }
                Ok(v) => {
                    log::warn!("room store: restore answered {v:?}");
                    break;
                }
                Err(e) if is_retryable(&e) && Instant::now() < deadline => tokio::time::sleep(RETRY_PAUSE).await,
                Err(e) => {
                    log::warn!("room store: could not register sessions again: {e}");
                    break;
                }
            }
        }
        *self.restored_at.lock() = Some(Instant::now());
        self.restoring.store(false, Ordering::Release);
        self.restored.notify_waiters();
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            tokio::time::sleep(RESTORE_SETTLE).await;
            if let Some(inner) = weak.upgrade() {
                inner.reset_rooms().await;
            }
        });
    }

    /// Every subscribed room is re-read by the sink from its current sequence on.
    /// (Boxed: it is part of a cycle of async calls, probe → restore → reset → read → probe.)
    fn reset_rooms(self: &Arc<Self>) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        let this = self.clone();
        Box::pin(async move {
            let rooms: Vec<String> = this.order.lock().keys().cloned().collect();
            for room in rooms {
                let seq = this.room_seq(&room).await.unwrap_or(0);
                this.set_last(&room, seq, true);
                if let Some(sink) = this.sink() {
                    sink.on_room_reset(&room);
                }
            }
        })
    }

    async fn room_seq(self: &Arc<Self>, room: &str) -> StoreResult<u64> {
        #[derive(Deserialize)]
        struct S {
            seq: u64,
        }
        let a = self.call(&self.s.read, &["seq".into(), room.into()], Instant::now(), self.rc.op_budget).await?;
        serde_json::from_str::<S>(&a.result).map(|s| s.seq).map_err(|e| StoreError(format!("bad seq answer: {e}")))
    }

    // ---- delivery ------------------------------------------------------------------------------

    /// Delivers what can be delivered of `room`'s pending events, in order.
    fn drain(&self, room: &str, o: &mut RoomOrder, sink: &Option<Arc<dyn EventSink>>) -> bool {
        let Some(mut last) = o.last else { return false };
        let mut any = false;
        while let Some(ev) = o.pending.remove(&(last + 1)) {
            last += 1;
            any = true;
            if let Some(s) = sink {
                s.on_event(ev);
            }
        }
        // Stale duplicates.
        o.pending.retain(|seq, _| *seq > last);
        o.last = Some(last);
        o.since = if o.pending.is_empty() { None } else { o.since.or(Some(Instant::now())) };
        let _ = room;
        any
    }

    fn offer(&self, ev: Arc<RoomEvent>) {
        let sink = self.sink();
        let mut order = self.order.lock();
        let Some(o) = order.get_mut(&ev.room_id) else { return };
        if o.last.is_some_and(|l| ev.seq <= l) {
            return;
        }
        let room = ev.room_id.clone();
        o.pending.insert(ev.seq, ev);
        if o.last.is_none() {
            o.since = o.since.or(Some(Instant::now()));
            return;
        }
        if self.drain(&room, o, &sink) {
            drop(order);
            self.delivered.notify_waiters();
        }
    }

    /// The room's delivery continues after `seq` (`force`: even if that goes back).
    fn set_last(&self, room: &str, seq: u64, force: bool) {
        let sink = self.sink();
        let mut order = self.order.lock();
        let Some(o) = order.get_mut(room) else { return };
        if force || o.last.is_none_or(|l| seq > l) {
            o.last = Some(seq);
        }
        self.drain(room, o, &sink);
        drop(order);
        self.delivered.notify_waiters();
    }

    /// Passes on events that waited too long for a missing one (`room` = only that room, at once).
    fn flush_waiting(&self, room: Option<&str>) {
        let sink = self.sink();
        let mut order = self.order.lock();
        let mut any = false;
        for (r, o) in order.iter_mut() {
            if room.is_some_and(|x| x != r) || o.pending.is_empty() {
                continue;
            }
            if room.is_none() && o.since.is_none_or(|t| t.elapsed() < GAP_WAIT) {
                continue;
            }
            let first = *o.pending.keys().next().expect("not empty");
            log::warn!("room {r}: events before {first} did not arrive; passing on what follows");
            o.last = Some(first - 1);
            self.drain(r, o, &sink);
            any = true;
        }
        drop(order);
        if any {
            self.delivered.notify_waiters();
        }
    }

    /// Delivers a script's events and waits (bounded) until each room's delivery passed them.
    async fn deliver(&self, events: &[String]) {
        let mut upto: HashMap<String, u64> = HashMap::new();
        for text in events {
            match parse_event(text) {
                Ok(ev) => {
                    let e = upto.entry(ev.room_id.clone()).or_default();
                    *e = (*e).max(ev.seq);
                    self.offer(Arc::new(ev));
                }
                Err(e) => log::warn!("room store: {e}"),
            }
        }
        for (room, seq) in upto {
            let deadline = tokio::time::Instant::now() + GAP_WAIT;
            loop {
                let notified = self.delivered.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                let done = match self.order.lock().get(&room) {
                    None => true,
                    Some(o) => o.last.is_some_and(|l| l >= seq),
                };
                if done {
                    break;
                }
                if tokio::time::timeout_at(deadline, notified).await.is_err() {
                    self.flush_waiting(Some(&room));
                    break;
                }
            }
        }
    }

    fn on_pubsub(&self, msg: ::redis::Msg) {
        let Some(room) = self.room_of_channel(msg.get_channel_name()) else { return };
        let payload = msg.get_payload_bytes();
        match payload.first() {
            Some(b'{') => match std::str::from_utf8(payload).map_err(|e| e.to_string()).and_then(parse_event) {
                Ok(ev) if ev.room_id == room => self.offer(Arc::new(ev)),
                Ok(ev) => log::warn!("room store: event of room {} on the channel of {room}", ev.room_id),
                Err(e) => log::warn!("room store: {e}"),
            },
            Some(1) => {
                if let Some((origin, stream_id, frame)) = decode_sei(payload) {
                    if origin != self.rc.node_id {
                        if let Some(s) = self.sink() {
                            s.on_sei(room, stream_id, bytes::Bytes::copy_from_slice(frame));
                        }
                    }
                }
            }
            _ => log::warn!("room store: unknown message on the channel of {room}"),
        }
    }

    // ---- operations ----------------------------------------------------------------------------

    async fn op(self: &Arc<Self>, script: &Script, args: Vec<String>, now: Instant) -> StoreResult<String> {
        let a = self.call(script, &args, now, self.rc.op_budget).await?;
        self.deliver(&a.events).await;
        Ok(a.result)
    }

    async fn join(self: &Arc<Self>, req: JoinRequest, now: Instant) -> StoreResult<JoinOutcome> {
        #[derive(Deserialize)]
        struct R {
            joined: Option<JSnap>,
            full: Option<bool>,
        }
        let args = vec![
            req.room_id,
            req.user.user_id,
            req.user.user_name,
            req.client_id,
            req.session_id,
            req.max_members.to_string(),
            req.node_id,
            self.cfg.grace.as_millis().to_string(),
            random_id(),
        ];
        let r: R = parse(&self.op(&self.s.join, args, now).await?)?;
        match (r.joined, r.full) {
            (Some(s), _) => Ok(JoinOutcome::Joined(s.into_snapshot().map_err(StoreError)?)),
            (None, Some(true)) => Ok(JoinOutcome::RoomFull),
            _ => Err(StoreError("join: no snapshot".into())),
        }
    }

    async fn resume(self: &Arc<Self>, room: String, sid: String, uid: String, last: u64, node: String, now: Instant) -> StoreResult<ResumeOutcome> {
        #[derive(Deserialize)]
        struct Kicked {
            code: i32,
            msg: String,
        }
        #[derive(Deserialize)]
        struct Resumed {
            snap: Option<JSnap>,
            #[serde(deserialize_with = "lenient_vec")]
            missed: Vec<String>,
        }
        #[derive(Deserialize)]
        struct R {
            kicked: Option<Kicked>,
            resumed: Option<Resumed>,
        }
        let args = vec![
            room,
            sid,
            uid,
            last.to_string(),
            node,
            self.cfg.grace.as_millis().to_string(),
            self.cfg.replay_age.as_millis().to_string(),
        ];
        let r: R = parse(&self.op(&self.s.resume, args, now).await?)?;
        if let Some(k) = r.kicked {
            return Ok(ResumeOutcome::Kicked { code: k.code, message: k.msg });
        }
        match r.resumed {
            Some(Resumed { snap: Some(s), missed }) => {
                Ok(ResumeOutcome::Resumed { snapshot: s.into_snapshot().map_err(StoreError)?, missed: parse_messages(missed)? })
            }
            _ => Ok(ResumeOutcome::Gone),
        }
    }

    async fn refresh(self: &Arc<Self>, batch: Vec<Refresh>, now: Instant) -> StoreResult<()> {
        let all: Vec<(SessionId, Instant)> = {
            let mut p = self.pending_refresh.lock();
            for r in batch {
                let e = p.entry(r.session_id).or_insert(r.last_rx);
                *e = (*e).max(r.last_rx);
            }
            p.drain().collect()
        };
        if all.is_empty() {
            return Ok(());
        }
        let at = self.local_now(now);
        let mut args = Vec::with_capacity(1 + all.len() * 2);
        args.push(self.cfg.grace.as_millis().to_string());
        for (sid, rx) in &all {
            args.push(sid.clone());
            args.push(at.saturating_duration_since(*rx).as_millis().to_string());
        }
        match self.call(&self.s.refresh, &args, now, Duration::ZERO).await {
            Ok(_) => {
                let mut s = self.stats.lock();
                s.refresh_batches += 1;
                s.refresh_sessions += all.len() as u64;
                Ok(())
            }
            Err(e) => {
                let mut p = self.pending_refresh.lock();
                for (sid, rx) in all {
                    let e = p.entry(sid).or_insert(rx);
                    *e = (*e).max(rx);
                }
                Err(e)
            }
        }
    }

    async fn reap(self: &Arc<Self>, now: Instant) -> StoreResult<()> {
        // Heartbeats that could not be written go first: never reap on stale deadlines.
        if !self.pending_refresh.lock().is_empty() {
            self.refresh(Vec::new(), now).await?;
        }
        let args = vec![REAP_SILENCE.as_millis().to_string(), self.rc.reap_hold.as_millis().to_string(), REAP_LIMIT.to_string()];
        let a = self.call(&self.s.reap, &args, now, Duration::ZERO).await?;
        if !a.events.is_empty() {
            log::info!("room store: reaped: {}", a.result);
        }
        self.deliver(&a.events).await;
        Ok(())
    }

    async fn snapshot(self: &Arc<Self>, room: &str, now: Instant) -> StoreResult<Option<Snapshot>> {
        #[derive(Deserialize)]
        struct R {
            snap: Option<JSnap>,
        }
        let a = self.call(&self.s.read, &["snapshot".into(), room.into()], now, self.rc.op_budget).await?;
        let r: R = parse(&a.result)?;
        r.snap.map(|s| s.into_snapshot().map_err(StoreError)).transpose()
    }

    async fn messages_after(self: &Arc<Self>, room: &str, after: u64, now: Instant) -> StoreResult<Vec<StoredMessage>> {
        #[derive(Deserialize)]
        struct R {
            #[serde(deserialize_with = "lenient_vec")]
            list: Vec<String>,
        }
        let args = vec!["messages".into(), room.into(), after.to_string(), self.cfg.replay_age.as_millis().to_string()];
        let a = self.call(&self.s.read, &args, now, self.rc.op_budget).await?;
        parse_messages(parse::<R>(&a.result)?.list)
    }

    async fn rooms(self: &Arc<Self>, now: Instant) -> StoreResult<Vec<RoomSummary>> {
        #[derive(Deserialize)]
        struct R {
            #[serde(deserialize_with = "lenient_vec")]
            list: Vec<(String, u32, u32)>,
        }
        let a = self.call(&self.s.read, &["rooms".into()], now, self.rc.op_budget).await?;
        let mut list: Vec<RoomSummary> = parse::<R>(&a.result)?
            .list
            .into_iter()
            .filter(|(_, users, _)| *users > 0)
            .map(|(room_id, user_count, stream_count)| RoomSummary { room_id, user_count, stream_count })
            .collect();
        list.sort_by(|a, b| a.room_id.cmp(&b.room_id));
        Ok(list)
    }

    async fn subscribe(self: &Arc<Self>, room: &str) -> StoreResult<()> {
        {
            let mut order = self.order.lock();
            if order.contains_key(room) {
                return Ok(());
            }
            order.insert(room.to_owned(), RoomOrder::default());
        }
        let channel = self.channel(room);
        {
            let mut guard = self.pubsub.lock().await;
            if let Some(sink) = guard.as_mut() {
                match tokio::time::timeout(CALL_TIMEOUT, sink.subscribe(&channel)).await {
                    Ok(Ok(())) => {}
                    _ => {
                        // The pub/sub task reconnects and subscribes every room again.
                        log::warn!("room {room}: subscribing failed; the pub/sub connection is restarted");
                        *guard = None;
                        self.pubsub_up.store(false, Ordering::Relaxed);
                        self.pubsub_kill.notify_one();
                    }
                }
            }
        }
        // Events at or below the current sequence are in any snapshot read from now on.
        match self.room_seq(room).await {
            Ok(seq) => {
                self.set_last(room, seq, false);
                Ok(())
            }
            Err(e) => {
                // Deliver from the start: a gap makes the node re-read the room.
                self.set_last(room, 0, false);
                Err(e)
            }
        }
    }

    async fn unsubscribe(self: &Arc<Self>, room: &str) -> StoreResult<()> {
        if self.order.lock().remove(room).is_none() {
            return Ok(());
        }
        let channel = self.channel(room);
        let mut guard = self.pubsub.lock().await;
        if self.order.lock().contains_key(room) {
            // Subscribed again meanwhile.
            return Ok(());
        }
        if let Some(sink) = guard.as_mut() {
            let _ = tokio::time::timeout(CALL_TIMEOUT, sink.unsubscribe(&channel)).await;
        }
        Ok(())
    }

    async fn relay_sei(self: &Arc<Self>, room: &str, stream_id: &str, frame: bytes::Bytes) -> StoreResult<()> {
        if let Some(s) = self.sink() {
            s.on_sei(room, stream_id, frame.clone());
        }
        let payload = encode_sei(&self.rc.node_id, stream_id, &frame);
        let mut conn = self.conn.clone();
        let res: Result<::redis::RedisResult<i64>, _> =
            tokio::time::timeout(CALL_TIMEOUT, ::redis::cmd("PUBLISH").arg(self.channel(room)).arg(payload).query_async(&mut conn)).await;
        match res {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(StoreError(format!("Redis: {e}"))),
            Err(_) => Err(StoreError("Redis: SEI relay timed out".into())),
        }
    }

    fn healthy(&self) -> bool {
        self.reachable.load(Ordering::Relaxed)
            && self.pubsub_up.load(Ordering::Relaxed)
            && self.epoch.lock().is_some()
            && !self.restoring.load(Ordering::Relaxed)
    }
}

fn parse<T: DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError(format!("bad script answer {text}: {e}")))
}

/// SEI on a room channel: 0x01, origin node (len + bytes), stream id (len + bytes), the frame.
fn encode_sei(node: &str, stream_id: &str, frame: &[u8]) -> Vec<u8> {
    let node = &node.as_bytes()[..node.len().min(255)];
    let mut out = Vec::with_capacity(3 + node.len() + stream_id.len() + frame.len());
    out.push(1);
    out.push(node.len() as u8);
    out.extend_from_slice(node);
    out.push(stream_id.len().min(255) as u8);
    out.extend_from_slice(&stream_id.as_bytes()[..stream_id.len().min(255)]);
    out.extend_from_slice(frame);
    out
}

fn decode_sei(p: &[u8]) -> Option<(&str, &str, &[u8])> {
    let (&1, rest) = p.split_first()? else { return None };
    let (&nl, rest) = rest.split_first()?;
    let node = std::str::from_utf8(rest.get(..nl as usize)?).ok()?;
    let rest = &rest[nl as usize..];
    let (&sl, rest) = rest.split_first()?;
    let stream = std::str::from_utf8(rest.get(..sl as usize)?).ok()?;
    Some((node, stream, &rest[sl as usize..]))
}

async fn health_loop(weak: Weak<Inner>, shutdown: Arc<Notify>) {
    let mut iv = tokio::time::interval(HEALTH_EVERY);
    iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut was_reachable = true;
    loop {
        tokio::select! {
            _ = iv.tick() => {}
            _ = shutdown.notified() => return,
        }
        let Some(inner) = weak.upgrade() else { return };
        match inner.probe().await {
            Ok(()) => {
                if !was_reachable {
                    log::info!("room store: Redis reachable again");
                }
                was_reachable = true;
            }
            Err(e) => {
                if was_reachable {
                    log::warn!("room store: {e}");
                }
                was_reachable = false;
            }
        }
        inner.flush_waiting(None);
        // A pub/sub connection that no longer answers is restarted.
        let sink = inner.pubsub.lock().await.clone();
        if let Some(mut sink) = sink {
            let alive = matches!(tokio::time::timeout(CALL_TIMEOUT, sink.ping::<::redis::Value>()).await, Ok(Ok(_)));
            if !alive {
                log::warn!("room store: pub/sub connection not answering; reconnecting");
                *inner.pubsub.lock().await = None;
                inner.pubsub_up.store(false, Ordering::Relaxed);
                inner.pubsub_kill.notify_one();
            }
        }
    }
}

async fn pubsub_loop(weak: Weak<Inner>, shutdown: Arc<Notify>, kill: Arc<Notify>) {
    let mut reconnect = false;
    loop {
        let Some(inner) = weak.upgrade() else { return };
        let connected = tokio::time::timeout(CALL_TIMEOUT, inner.client.get_async_pubsub()).await;
        let ps = match connected {
            Ok(Ok(ps)) => ps,
            _ => {
                drop(inner);
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(200)) => continue,
                    _ = shutdown.notified() => return,
                }
            }
        };
        let (sink, mut stream) = ps.split();
        let ok = {
            let mut guard = inner.pubsub.lock().await;
            let mut sink = sink;
            let channels: Vec<String> = inner.order.lock().keys().map(|r| inner.channel(r)).collect();
            let mut ok = true;
            for chunk in channels.chunks(256) {
                if !matches!(tokio::time::timeout(CALL_TIMEOUT, sink.subscribe(chunk)).await, Ok(Ok(()))) {
                    ok = false;
                    break;
                }
            }
            if ok {
                *guard = Some(sink);
                inner.pubsub_up.store(true, Ordering::Relaxed);
            }
            ok
        };
        if !ok {
            drop(inner);
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        if reconnect {
            // First make sure Redis still has our data (else this node registers its sessions
            // again, and the rooms are re-read once every node had time to do the same).
            let _ = inner.probe().await;
            let settling = inner.restoring.load(Ordering::Acquire) || inner.restored_at.lock().is_some_and(|t| t.elapsed() < RESTORE_SETTLE);
            if !settling {
                log::info!("room store: pub/sub connection back; re-reading every room");
                inner.reset_rooms().await;
            }
        }
        reconnect = true;
        drop(inner);
        loop {
            tokio::select! {
                m = stream.next() => match m {
                    Some(msg) => match weak.upgrade() {
                        Some(inner) => inner.on_pubsub(msg),
                        None => return,
                    },
                    None => break,
                },
                _ = kill.notified() => break,
                _ = shutdown.notified() => return,
            }
        }
        let Some(inner) = weak.upgrade() else { return };
        log::warn!("room store: pub/sub connection lost");
        *inner.pubsub.lock().await = None;
        inner.pubsub_up.store(false, Ordering::Relaxed);
    }
}

impl RoomStore for RedisStore {
    fn set_sink(&self, sink: Weak<dyn EventSink>) {
        let _ = self.inner.sink.set(sink);
    }

    fn join(&self, req: JoinRequest, now: Instant) -> impl Future<Output = StoreResult<JoinOutcome>> + Send {
        let i = self.inner.clone();
        async move { i.join(req, now).await }
    }

    fn resume(&self, room_id: &str, session_id: &str, user_id: &str, last_msg_id: u64, node_id: &str, now: Instant)
        -> impl Future<Output = StoreResult<ResumeOutcome>> + Send
    {
        let i = self.inner.clone();
        let (r, s, u, n) = (room_id.to_owned(), session_id.to_owned(), user_id.to_owned(), node_id.to_owned());
        async move { i.resume(r, s, u, last_msg_id, n, now).await }
    }

    fn detach(&self, room_id: &str, session_id: &str, now: Instant) -> impl Future<Output = StoreResult<()>> + Send {
        let i = self.inner.clone();
        let args = vec![room_id.to_owned(), session_id.to_owned(), i.rc.node_id.clone()];
        async move { i.op(&i.s.detach, args, now).await.map(drop) }
    }

    fn refresh(&self, batch: Vec<Refresh>, now: Instant) -> impl Future<Output = StoreResult<()>> + Send {
        let i = self.inner.clone();
        async move { i.refresh(batch, now).await }
    }

    fn reap(&self, now: Instant) -> impl Future<Output = StoreResult<()>> + Send {
        let i = self.inner.clone();
        async move { i.reap(now).await }
    }

    fn leave(&self, room_id: &str, session_id: &str, reason: LeaveReason, now: Instant) -> impl Future<Output = StoreResult<()>> + Send {
        let i = self.inner.clone();
        let why = match reason {
            LeaveReason::Logout => "logout",
            LeaveReason::Destroyed => "destroyed",
            LeaveReason::GraceExpired => "grace",
            LeaveReason::Replaced => "replaced",
            LeaveReason::Kicked => "kicked",
        };
        let args = vec![room_id.to_owned(), session_id.to_owned(), why.to_owned()];
        async move { i.op(&i.s.leave, args, now).await.map(drop) }
    }

    fn kick(&self, room_id: &str, user_ids: &[String], code: i32, message: &str, now: Instant) -> impl Future<Output = StoreResult<()>> + Send {
        let i = self.inner.clone();
        let mut args = vec![room_id.to_owned(), code.to_string(), message.to_owned(), "0".to_owned()];
        args.extend(user_ids.iter().cloned());
        async move { i.op(&i.s.kick, args, now).await.map(drop) }
    }

    fn close_room(&self, room_id: &str, message: &str, now: Instant) -> impl Future<Output = StoreResult<()>> + Send {
        let i = self.inner.clone();
        let args = vec![room_id.to_owned(), ec::MANUAL_KICKED_OUT.to_string(), message.to_owned(), "1".to_owned()];
        async move { i.op(&i.s.kick, args, now).await.map(drop) }
    }

    fn publish(&self, room_id: &str, session_id: &str, channel: u8, stream_id: &str, extra_info: &str, now: Instant)
        -> impl Future<Output = StoreResult<Result<(), i32>>> + Send
    {
        let i = self.inner.clone();
        let args = vec![room_id.to_owned(), session_id.to_owned(), channel.to_string(), stream_id.to_owned(), extra_info.to_owned()];
        async move { code_result(&i.op(&i.s.publish, args, now).await?).map(|r| r.map(drop)) }
    }

    fn stop_publish(&self, room_id: &str, session_id: &str, stream_id: &str) -> impl Future<Output = StoreResult<()>> + Send {
        let i = self.inner.clone();
        let args = vec![room_id.to_owned(), session_id.to_owned(), stream_id.to_owned()];
        async move { i.op(&i.s.stop_publish, args, Instant::now()).await.map(drop) }
    }

    fn set_stream_extra_info(&self, room_id: &str, session_id: &str, channel: u8, extra_info: &str)
        -> impl Future<Output = StoreResult<Result<(), i32>>> + Send
    {
        let i = self.inner.clone();
        let args = vec![room_id.to_owned(), session_id.to_owned(), channel.to_string(), extra_info.to_owned()];
        async move { code_result(&i.op(&i.s.stream_extra, args, Instant::now()).await?).map(|r| r.map(drop)) }
    }

    fn forbid_stream(&self, stream_id: &str, forbidden: bool) -> impl Future<Output = StoreResult<()>> + Send {
        let i = self.inner.clone();
        let args = vec![stream_id.to_owned(), if forbidden { "1" } else { "0" }.to_owned()];
        async move { i.op(&i.s.forbid, args, Instant::now()).await.map(drop) }
    }

    fn set_room_extra_info(&self, room_id: &str, session_id: &str, key: &str, value: &str)
        -> impl Future<Output = StoreResult<Result<u64, i32>>> + Send
    {
        let i = self.inner.clone();
        let args = vec![room_id.to_owned(), session_id.to_owned(), key.to_owned(), value.to_owned()];
        async move {
            #[derive(Deserialize)]
            struct R {
                t: Option<u64>,
                err: Option<i32>,
            }
            let r: R = parse(&i.op(&i.s.room_extra, args, Instant::now()).await?)?;
            Ok(match (r.t, r.err) {
                (_, Some(code)) => Err(code),
                (Some(t), None) => Ok(t),
                (None, None) => Err(ec::INNER_ERROR),
            })
        }
    }

    fn send_message(&self, req: SendRequest, now: Instant) -> impl Future<Output = StoreResult<Result<u64, i32>>> + Send {
        let i = self.inner.clone();
        let kind = match req.kind {
            MsgKind::Broadcast => "broadcast",
            MsgKind::Barrage => "barrage",
            MsgKind::Command => "command",
        };
        let args = vec![
            req.room_id,
            req.from_session.unwrap_or_default(),
            req.from_user.user_id,
            req.from_user.user_name,
            kind.to_owned(),
            req.content,
            req.client_seq.map(|s| s.to_string()).unwrap_or_default(),
            serde_json::to_string(&req.to).unwrap_or_else(|_| "[]".into()),
            i.cfg.replay_max.to_string(),
            i.cfg.replay_age.as_millis().to_string(),
            i.cfg.broadcasts_per_sec.to_string(),
            i.cfg.barrages_per_sec.to_string(),
            super::memory::RECENT_SENDS.to_string(),
        ];
        async move {
            #[derive(Deserialize)]
            struct R {
                id: Option<u64>,
                err: Option<i32>,
            }
            let r: R = parse(&i.op(&i.s.send, args, now).await?)?;
            Ok(match (r.id, r.err) {
                (_, Some(code)) => Err(code),
                (Some(id), None) => Ok(id),
                (None, None) => Err(ec::INNER_ERROR),
            })
        }
    }

    fn relay_sei(&self, room_id: &str, stream_id: &str, frame: bytes::Bytes) -> impl Future<Output = StoreResult<()>> + Send {
        let i = self.inner.clone();
        let (r, s) = (room_id.to_owned(), stream_id.to_owned());
        async move { i.relay_sei(&r, &s, frame).await }
    }

    fn snapshot(&self, room_id: &str, now: Instant) -> impl Future<Output = StoreResult<Option<Snapshot>>> + Send {
        let i = self.inner.clone();
        let r = room_id.to_owned();
        async move { i.snapshot(&r, now).await }
    }

    fn messages_after(&self, room_id: &str, after_id: u64, now: Instant) -> impl Future<Output = StoreResult<Vec<StoredMessage>>> + Send {
        let i = self.inner.clone();
        let r = room_id.to_owned();
        async move { i.messages_after(&r, after_id, now).await }
    }

    fn subscribe(&self, room_id: &str) -> impl Future<Output = StoreResult<()>> + Send {
        let i = self.inner.clone();
        let r = room_id.to_owned();
        async move { i.subscribe(&r).await }
    }

    fn unsubscribe(&self, room_id: &str) -> impl Future<Output = StoreResult<()>> + Send {
        let i = self.inner.clone();
        let r = room_id.to_owned();
        async move { i.unsubscribe(&r).await }
    }

    fn rooms(&self, now: Instant) -> impl Future<Output = StoreResult<Vec<RoomSummary>>> + Send {
        let i = self.inner.clone();
        async move { i.rooms(now).await }
    }

    fn healthy(&self) -> bool {
        self.inner.healthy()
    }

    fn stats(&self) -> StoreStats {
        let s = self.inner.stats.lock().clone();
        StoreStats { ops: s.ops, errors: s.errors, latency_us: s.latency_us }
    }
}

/// `{"ok":true}` or `{"err":code}`.
fn code_result(text: &str) -> StoreResult<Result<(), i32>> {
    #[derive(Deserialize)]
    struct R {
        err: Option<i32>,
    }
    Ok(match parse::<R>(text)?.err {
        Some(code) => Err(code),
        None => Ok(()),
    })
}
