//! One server process ("node"): its connections, its local sessions and what they were told.
//! Room state lives in the [`RoomStore`]; the node learns every change as a [`RoomEvent`] and turns
//! it into messages for the sessions it holds. It never assumes that it holds every session of a
//! room: a member, a publisher or a message sender may be on another node.
//!
//! Per room with local sessions the node keeps a view (members, streams, extra info, the last
//! event sequence number) built from a store snapshot plus the events after it. A session that
//! logs in gets the store's snapshot (`login_ok`) and then every later event; events the view
//! applied before the session registered are replayed from a short ring. A gap in the sequence (a
//! networked store lost a message) makes the node re-read the room and send its sessions the
//! difference.
//!
//! Locks: the node's state is behind one mutex that is never held across a store call (the
//! memory store delivers events while holding its own lock, so the order is store → node).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::metrics::Metrics;
use super::store::*;
use crate::core::validate;
use crate::error_codes as ec;
use crate::protocol::*;
use crate::token04::{self, TokenInfo};
use crate::types::{PublishChannel, RoomExtraInfo, Stream, User};

pub type ConnId = u64;

/// Signalling messages that may wait for one connection. A peer that stops reading fills it; it
/// is then disconnected and, when it comes back, resumes and gets the difference it missed.
pub(crate) const OUTGOING_QUEUE: usize = 4096;
/// SEI frames that may wait for one player; beyond it the oldest are dropped (a slow player
/// never slows the publisher or other players, contract §6.1).
pub(crate) const SEI_QUEUE_FRAMES: usize = 64;
/// A publisher may send at most this many SEI frames / bytes per second; more cuts it off.
const SEI_MAX_FRAMES_PER_SEC: u32 = 1000;
const SEI_MAX_BYTES_PER_SEC: u64 = 4 * 1024 * 1024;
/// Events a room view remembers for sessions that register with a snapshot older than the view
/// (a login whose store answer crossed newer events): at most this many, for at most `RECENT_AGE`.
const RECENT_EVENTS: usize = 256;
const RECENT_AGE: Duration = Duration::from_secs(10);

/// What a connection task is told to do.
pub(crate) enum Outgoing {
    Text(Utf8Bytes),
    /// Send a close frame with this code, finish the close handshake and end.
    Close(CloseCode),
}

/// What the connection task writes next.
pub(crate) enum Next {
    Control(Outgoing),
    Sei(Bytes),
    /// Nothing waiting: wait for `ConnQueue::ready`.
    Idle,
    /// The peer was cut off (it let too much pile up): end the connection.
    Closed,
}

/// Everything waiting to be written to one connection: signalling first, then SEI frames. Both
/// are bounded — a peer that lets `OUTGOING_QUEUE` messages pile up is cut off (it resumes later
/// and gets the difference), and a player's SEI backlog drops its oldest frames — and both give
/// their memory back once drained, so an idle connection holds almost nothing here.
#[derive(Default)]
pub(crate) struct ConnQueue {
    inner: Mutex<QueueInner>,
    pub(crate) ready: Notify,
}

#[derive(Default)]
struct QueueInner {
    control: VecDeque<Outgoing>,
    sei: VecDeque<Bytes>,
    closed: bool,
}

/// A drained deque keeps at most this capacity.
const IDLE_CAPACITY: usize = 4;

fn shrink_if_drained<T>(q: &mut VecDeque<T>) {
    if q.is_empty() && q.capacity() > IDLE_CAPACITY {
        *q = VecDeque::new();
    }
}

impl ConnQueue {
    /// Queues a control message. False only for the message that finds the queue full: the peer
    /// is not reading, the queue closes (reported once); later messages are dropped silently.
    fn push(&self, msg: Outgoing) -> bool {
        let ok = {
            let mut q = self.inner.lock();
            if q.closed {
                return true;
            }
            let full = q.control.len() >= OUTGOING_QUEUE && !matches!(msg, Outgoing::Close(_));
            if full {
                q.closed = true;
                q.control = VecDeque::new();
                q.sei = VecDeque::new();
            } else {
                q.control.push_back(msg);
            }
            !full
        };
        self.ready.notify_one();
        ok
    }

    /// True when the oldest frame was dropped to make room.
    fn push_sei(&self, frame: Bytes) -> bool {
        let dropped = {
            let mut q = self.inner.lock();
            if q.closed {
                return false;
            }
            let full = q.sei.len() >= SEI_QUEUE_FRAMES;
            if full {
                q.sei.pop_front();
            }
            q.sei.push_back(frame);
            full
        };
        self.ready.notify_one();
        dropped
    }

    pub(crate) fn next(&self) -> Next {
        let mut q = self.inner.lock();
        if q.closed {
            return Next::Closed;
        }
        if let Some(m) = q.control.pop_front() {
            shrink_if_drained(&mut q.control);
            return Next::Control(m);
        }
        match q.sei.pop_front() {
            Some(f) => {
                shrink_if_drained(&mut q.sei);
                Next::Sei(f)
            }
            None => Next::Idle,
        }
    }

    /// Control messages still waiting (tests).
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.inner.lock().control.len()
    }
}

/// What the connection task should do after a frame.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    /// Close the connection (after what was queued), with this code and reason.
    Close(CloseCode, &'static str),
}

#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub app_id: u32,
    /// 32-character secret; `None` = no token check.
    pub server_secret: Option<String>,
    /// Grace after the last received frame before a session is removed.
    pub heartbeat_timeout: Duration,
    /// Heartbeat interval announced to clients.
    pub ping_interval: Duration,
    /// Period of `user_count` updates.
    pub count_interval: Duration,
    /// Names this node in logs (and, in a cluster, in the store).
    pub node_id: String,
}

struct Conn {
    queue: Arc<ConnQueue>,
    session: Option<SessionId>,
    peer: SocketAddr,
}

struct LocalSession {
    room_id: String,
    user: User,
    /// The engine's client id (a networked store that lost its data gets it back, §1.6).
    client_id: String,
    notify: bool,
    conn: Option<ConnId>,
    last_rx: Instant,
    /// `last_rx` as last written to the store.
    stored_rx: Instant,
    token: Option<TokenInfo>,
    /// stream id per publish channel.
    publishes: [Option<String>; 4],
    plays: BTreeSet<String>,
    /// Events up to this sequence number are in the snapshot it got.
    from_seq: u64,
    last_count: u32,
    /// SEI budget of the current one-second window: (start, frames, bytes).
    sei_window: (Instant, u32, u64),
}

/// The node's view of a room that has local sessions.
#[derive(Default)]
struct LocalRoom {
    ready: bool,
    last_seq: u64,
    room_session_id: String,
    /// Events that arrived before the first snapshot (a networked store, right after subscribing),
    /// or while the room is being re-read.
    early: Vec<Arc<RoomEvent>>,
    recent: VecDeque<(Instant, Arc<RoomEvent>)>,
    sessions: BTreeSet<SessionId>,
    members: BTreeMap<String, User>,
    streams: BTreeMap<String, StreamRecord>,
    extra_info: Option<RoomExtraInfo>,
    last_msg_id: u64,
    /// stream id → local sessions playing it.
    players: HashMap<String, BTreeSet<SessionId>>,
    /// A resync is under way (a gap was seen).
    resyncing: bool,
    /// Logins of this room waiting for the store (the view must not be dropped under them).
    pending: u32,
    /// Set once the store listens to the room. Every login of the room waits for it, not only
    /// the first: a second login that joined while the first was still subscribing produced an
    /// event below the subscription's starting point, which nobody then delivered (a gap, and a
    /// re-read of the whole room, on nearly every burst of logins to a new room).
    listening: Arc<tokio::sync::OnceCell<()>>,
}

#[derive(Default)]
struct State {
    conns: HashMap<ConnId, Conn>,
    /// Boxed: the table keeps ~40 % of its slots empty, and a slot is as large as its value.
    sessions: HashMap<SessionId, Box<LocalSession>>,
    rooms: HashMap<String, LocalRoom>,
    /// Rooms to unsubscribe from / resync, collected under the lock, done after it.
    to_unsubscribe: Vec<String>,
    to_resync: Vec<String>,
    /// The node's counters (the same as `Node::metrics`).
    metrics: Arc<Metrics>,
}

pub struct Node<S: RoomStore> {
    pub(crate) store: Arc<S>,
    cfg: NodeConfig,
    state: Mutex<State>,
    next_conn: AtomicU64,
    /// Counters and gauges for `GET /metrics`.
    pub metrics: Arc<Metrics>,
}

fn random_id() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

fn unix_now() -> i64 {
    super::unix_now()
}

impl State {
    /// Queues without blocking (the lock is held); a full queue disconnects that peer.
    fn push(&mut self, c: ConnId, msg: Outgoing) {
        let Some(conn) = self.conns.get(&c) else { return };
        if !conn.queue.push(msg) {
            // The task ends and the connection closes; it detaches the session (conn_closed).
            log::warn!("{}: {OUTGOING_QUEUE} messages waiting, peer not reading; disconnecting it", conn.peer);
            self.metrics.queue_overflow();
        }
    }

    fn send(&mut self, c: ConnId, msg: &ServerMsg) {
        self.push(c, Outgoing::Text(msg.encode().into()));
    }

    fn send_many(&mut self, targets: &[ConnId], msg: &ServerMsg) {
        if targets.is_empty() {
            return;
        }
        let text: Utf8Bytes = msg.encode().into();
        for &c in targets {
            self.push(c, Outgoing::Text(text.clone()));
        }
    }

    /// Removes the connection so nothing more is queued after the close.
    fn close(&mut self, c: ConnId, code: CloseCode) {
        if let Some(conn) = self.conns.remove(&c) {
            conn.queue.push(Outgoing::Close(code));
        }
    }

    /// Attached local sessions of `room` that are past `seq`'s snapshot and pass `filter`.
    fn targets(&self, room: &LocalRoom, seq: u64, filter: impl Fn(&SessionId, &LocalSession) -> bool) -> Vec<ConnId> {
        room.sessions
            .iter()
            .filter_map(|sid| self.sessions.get(sid).map(|s| (sid, s)))
            .filter(|(sid, s)| s.from_seq < seq && filter(sid, s))
            .filter_map(|(_, s)| s.conn)
            .collect()
    }

    /// Drops a local session (it ended, or moved to another node) and everything about it.
    fn drop_session(&mut self, sid: &str) -> Option<LocalSession> {
        let s = self.sessions.remove(sid)?;
        if let Some(c) = s.conn {
            if let Some(conn) = self.conns.get_mut(&c) {
                conn.session = None;
            }
        }
        if let Some(room) = self.rooms.get_mut(&s.room_id) {
            room.sessions.remove(sid);
            for id in &s.plays {
                if let Some(set) = room.players.get_mut(id) {
                    set.remove(sid);
                    if set.is_empty() {
                        room.players.remove(id);
                    }
                }
            }
            if room.sessions.is_empty() {
                if room.pending == 0 {
                    self.rooms.remove(&s.room_id);
                    self.to_unsubscribe.push(s.room_id.clone());
                }
            }
        }
        Some(*s)
    }

    fn play_status(room: &LocalRoom, stream_id: &str) -> PlayStatus {
        match room.streams.get(stream_id) {
            Some(r) if r.live => PlayStatus::Live,
            _ => PlayStatus::Down,
        }
    }

    /// Tell the players of `stream_id` (past `seq`) where it stands.
    fn tell_players(&mut self, room_id: &str, stream_id: &str, seq: u64, status: PlayStatus) {
        let Some(room) = self.rooms.get(room_id) else { return };
        let Some(players) = room.players.get(stream_id) else { return };
        let targets: Vec<ConnId> = players
            .iter()
            .filter_map(|sid| self.sessions.get(sid))
            .filter(|s| s.from_seq < seq)
            .filter_map(|s| s.conn)
            .collect();
        self.send_many(&targets, &ServerMsg::PlayState { stream_id: stream_id.to_owned(), status });
    }

    /// Applies one event to the room's view and tells the local sessions what it means for them.
    fn apply(&mut self, ev: &Arc<RoomEvent>, node_id: &str) {
        let Some(room) = self.rooms.get_mut(&ev.room_id) else { return };
        if !room.ready || room.resyncing {
            // Applied after the snapshot being read (those it does not cover).
            room.early.push(ev.clone());
            return;
        }
        if ev.seq <= room.last_seq {
            return;
        }
        if ev.seq != room.last_seq + 1 {
            log::warn!("room {}: event {} after {}: re-reading the room", ev.room_id, ev.seq, room.last_seq);
            room.resyncing = true;
            room.early.push(ev.clone());
            self.to_resync.push(ev.room_id.clone());
            return;
        }
        room.last_seq = ev.seq;
        let now = Instant::now();
        room.recent.push_back((now, ev.clone()));
        while room.recent.len() > RECENT_EVENTS || room.recent.front().is_some_and(|(at, _)| now.duration_since(*at) > RECENT_AGE) {
            room.recent.pop_front();
        }
        self.deliver(ev, node_id, None);
    }

    /// Turns an (applied) event into messages: for every eligible local session, or only for
    /// `only` (a session catching up on events after its snapshot). Views are updated only when
    /// `only` is None.
    fn deliver(&mut self, ev: &RoomEvent, node_id: &str, only: Option<&str>) {
        let seq = ev.seq;
        let room_id = ev.room_id.as_str();
        let update = only.is_none();
        let Some(room) = self.rooms.get_mut(room_id) else { return };
        let pick = |sid: &SessionId| only.is_none_or(|o| o == sid);
        match &ev.kind {
            EventKind::MemberAdded { user, .. } => {
                if update {
                    room.members.insert(user.user_id.clone(), user.clone());
                }
                let room = &self.rooms[room_id];
                let t = self.targets(room, seq, |sid, s| pick(sid) && s.notify && s.user.user_id != user.user_id);
                self.send_many(&t, &ServerMsg::UserUpdate { update: UserUpdateKind::Add, users: vec![user.clone()] });
            }
            EventKind::MemberRemoved { user, session_id, reason } => {
                if update {
                    room.members.remove(&user.user_id);
                    if *reason == LeaveReason::GraceExpired && self.sessions.contains_key(session_id) {
                        log::info!("room {room_id}: user {} (session {session_id}) removed: heartbeat grace passed", user.user_id);
                        self.metrics.grace_expired();
                    }
                }
                let room = &self.rooms[room_id];
                let t = self.targets(room, seq, |sid, s| pick(sid) && s.notify && s.user.user_id != user.user_id);
                self.send_many(&t, &ServerMsg::UserUpdate { update: UserUpdateKind::Delete, users: vec![user.clone()] });
            }
            EventKind::MemberRenamed { old, new, .. } => {
                if update {
                    room.members.insert(new.user_id.clone(), new.clone());
                }
                let room = &self.rooms[room_id];
                let t = self.targets(room, seq, |sid, s| pick(sid) && s.notify && s.user.user_id != new.user_id);
                self.send_many(&t, &ServerMsg::UserUpdate { update: UserUpdateKind::Delete, users: vec![old.clone()] });
                self.send_many(&t, &ServerMsg::UserUpdate { update: UserUpdateKind::Add, users: vec![new.clone()] });
            }
            EventKind::SessionEnded { session_id, code, message } => {
                // Applied live, or caught up by the very session it ends.
                if !(update || only == Some(session_id.as_str())) || !self.sessions.contains_key(session_id) {
                    return;
                }
                if let Some(s) = self.drop_session(session_id) {
                    if *code != 0 {
                        log::info!("room {room_id}: user {} (session {session_id}) kicked ({code}): {message}", s.user.user_id);
                        self.metrics.kicked(*code);
                    }
                    if let Some(c) = s.conn {
                        if *code != 0 {
                            self.send(c, &ServerMsg::Kicked { code: *code, message: message.clone() });
                        }
                        self.close(c, CloseCode::Normal);
                    }
                }
            }
            EventKind::SessionResumed { session_id, node_id: on } => {
                // Attached on another node: the copy here is stale (its engine moved; a
                // connection still open here is a dead one this node has not noticed yet).
                if update && on != node_id {
                    if let Some(s) = self.drop_session(session_id) {
                        if let Some(c) = s.conn {
                            self.close(c, CloseCode::Normal);
                        }
                    }
                }
            }
            EventKind::StreamAdded { record } => {
                if update {
                    room.streams.insert(record.stream.stream_id.clone(), record.clone());
                }
                let room = &self.rooms[room_id];
                let publisher = &record.stream.user.user_id;
                let t = self.targets(room, seq, |sid, s| pick(sid) && &s.user.user_id != publisher);
                self.send_many(&t, &ServerMsg::StreamUpdate { update: UserUpdateKind::Add, streams: vec![record.stream.clone()], reasons: vec![] });
                if update {
                    let status = if record.live { PlayStatus::Live } else { PlayStatus::Down };
                    self.tell_players(room_id, &record.stream.stream_id, seq, status);
                }
            }
            EventKind::StreamRemoved { record, code } => {
                let id = record.stream.stream_id.clone();
                if update {
                    room.streams.remove(&id);
                }
                let room = &self.rooms[room_id];
                let publisher = &record.stream.user.user_id;
                let t = self.targets(room, seq, |sid, s| pick(sid) && &s.user.user_id != publisher);
                let reasons = vec![StreamDeleteReason { stream_id: id.clone(), code: *code }];
                self.send_many(&t, &ServerMsg::StreamUpdate { update: UserUpdateKind::Delete, streams: vec![record.stream.clone()], reasons });
                if !update {
                    return;
                }
                // The publisher, if it is here: its channel is free; a forbidden stream is told.
                if let Some(s) = self.sessions.get_mut(&record.session_id) {
                    if let Some(slot) = s.publishes.get_mut(record.channel as usize) {
                        if slot.as_deref() == Some(id.as_str()) {
                            *slot = None;
                        }
                    }
                    if let (Some(c), delete_reason::FORBIDDEN) = (s.conn, *code) {
                        let msg = ServerMsg::PublishStopped { channel: record.channel, stream_id: id.clone(), code: ec::PUBLISHER_FORBIDDEN };
                        self.send(c, &msg);
                    }
                }
                if *code == delete_reason::FORBIDDEN {
                    self.tell_players(room_id, &id, seq, PlayStatus::Forbidden);
                    // Forbidden ends the players (NoPlay 1004025): forget them.
                    if let Some(room) = self.rooms.get_mut(room_id) {
                        for sid in room.players.remove(&id).unwrap_or_default() {
                            if let Some(s) = self.sessions.get_mut(&sid) {
                                s.plays.remove(&id);
                            }
                        }
                    }
                } else {
                    self.tell_players(room_id, &id, seq, PlayStatus::Down);
                }
            }
            EventKind::StreamExtraInfo { stream } => {
                if update {
                    if let Some(r) = room.streams.get_mut(&stream.stream_id) {
                        r.stream.extra_info = stream.extra_info.clone();
                    }
                }
                let room = &self.rooms[room_id];
                let t = self.targets(room, seq, |sid, s| pick(sid) && s.user.user_id != stream.user.user_id);
                self.send_many(&t, &ServerMsg::StreamExtraInfo { streams: vec![stream.clone()] });
            }
            EventKind::StreamLive { stream_id, live } => {
                if update {
                    if let Some(r) = room.streams.get_mut(stream_id) {
                        r.live = *live;
                    }
                    let status = if *live { PlayStatus::Live } else { PlayStatus::Down };
                    self.tell_players(room_id, stream_id, seq, status);
                } else if let Some(s) = only.and_then(|o| self.sessions.get(o)) {
                    if let (Some(c), true) = (s.conn, s.plays.contains(stream_id)) {
                        let status = State::play_status(&self.rooms[room_id], stream_id);
                        self.send(c, &ServerMsg::PlayState { stream_id: stream_id.clone(), status });
                    }
                }
            }
            EventKind::RoomExtraInfo { info, session_id } => {
                if update {
                    room.extra_info = Some(info.clone());
                }
                let room = &self.rooms[room_id];
                let t = self.targets(room, seq, |sid, _| pick(sid) && sid != session_id);
                self.send_many(&t, &ServerMsg::RoomExtraInfoUpdate { infos: vec![info.clone()] });
            }
            EventKind::Message { message } => {
                if update {
                    room.last_msg_id = room.last_msg_id.max(message.wire.message_id);
                }
                let room = &self.rooms[room_id];
                let t = self.targets(room, seq, |sid, s| pick(sid) && message.is_for(sid, &s.user.user_id));
                self.send_many(&t, &ServerMsg::Messages { kind: message.kind, messages: vec![message.wire.clone()] });
            }
        }
    }
}

/// Sends `messages` (reliable ones of one room, in order) to `conn`, grouped by kind in runs
/// of at most 50 (contract §7.1).
fn send_messages(st: &mut State, conn: ConnId, messages: &[StoredMessage]) {
    let mut i = 0;
    while i < messages.len() {
        let kind = messages[i].kind;
        let run: Vec<WireMessage> = messages[i..].iter().take_while(|m| m.kind == kind).take(50).map(|m| m.wire.clone()).collect();
        i += run.len();
        st.send(conn, &ServerMsg::Messages { kind, messages: run });
    }
}

impl<S: RoomStore> Node<S> {
    pub fn new(store: Arc<S>, cfg: NodeConfig) -> Arc<Node<S>> {
        let metrics = Arc::new(Metrics::new(&cfg.node_id));
        let state = Mutex::new(State { metrics: metrics.clone(), ..State::default() });
        let node = Arc::new(Node { store: store.clone(), cfg, state, next_conn: AtomicU64::new(1), metrics });
        let sink: Weak<dyn EventSink> = Arc::downgrade(&node) as Weak<dyn EventSink>;
        store.set_sink(sink);
        node
    }

    pub fn config(&self) -> &NodeConfig {
        &self.cfg
    }

    // ---- connections --------------------------------------------------------------------------

    pub(crate) fn open_conn(&self, queue: Arc<ConnQueue>, peer: SocketAddr) -> ConnId {
        let id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        self.state.lock().conns.insert(id, Conn { queue, session: None, peer });
        id
    }

    /// The connection ended without a logout: its session stays present for the grace, detached.
    pub(crate) async fn conn_closed(&self, conn: ConnId) {
        let detach = {
            let mut st = self.state.lock();
            let sid = st.conns.remove(&conn).and_then(|c| c.session);
            // A session whose connection the node closed itself (silence) was detached already.
            sid.and_then(|sid| {
                let s = st.sessions.get_mut(&sid)?;
                if s.conn != Some(conn) {
                    return None;
                }
                s.conn = None;
                Some((s.room_id.clone(), sid))
            })
        };
        if let Some((room, sid)) = detach {
            let _ = self.store.detach(&room, &sid, Instant::now()).await;
        }
        self.after_events().await;
    }

    /// A WebSocket-level sign of life (ping/pong control frame).
    pub(crate) fn touch(&self, conn: ConnId) {
        let mut st = self.state.lock();
        if let Some(sid) = st.conns.get(&conn).and_then(|c| c.session.clone()) {
            if let Some(s) = st.sessions.get_mut(&sid) {
                s.last_rx = Instant::now();
            }
        }
    }

    /// Work collected under the lock that needs the store: unsubscribe emptied rooms, re-read
    /// rooms where a gap was seen.
    async fn after_events(&self) {
        let unsub = std::mem::take(&mut self.state.lock().to_unsubscribe);
        for room in unsub {
            let still_here = self.state.lock().rooms.contains_key(&room);
            if !still_here {
                let _ = self.store.unsubscribe(&room).await;
            }
        }
    }

    /// Re-reads the rooms where a gap was seen (or that a networked store reset). Only from the
    /// periodic flush, so a store that is slow to answer never holds up a connection's frames.
    async fn resync_pending(&self) {
        let mut rooms = std::mem::take(&mut self.state.lock().to_resync);
        rooms.sort();
        rooms.dedup();
        for room in rooms {
            self.resync(&room).await;
        }
    }

    // ---- frames -------------------------------------------------------------------------------

    pub(crate) async fn on_text(&self, conn: ConnId, msg: ClientMsg) -> Flow {
        let flow = match msg {
            ClientMsg::Login { .. } => self.login(conn, msg).await,
            msg => self.in_session(conn, msg).await,
        };
        self.after_events().await;
        flow
    }

    async fn in_session(&self, conn: ConnId, msg: ClientMsg) -> Flow {
        let now = Instant::now();
        let (sid, room_id, user) = {
            let mut st = self.state.lock();
            let Some(sid) = st.conns.get(&conn).and_then(|c| c.session.clone()) else {
                st.send(conn, &ServerMsg::Error { code: ec::INNER_ERROR, message: "login required first".into() });
                return Flow::Close(CloseCode::Policy, "login required first");
            };
            let Some(s) = st.sessions.get_mut(&sid) else { return Flow::Close(CloseCode::Normal, "session ended") };
            s.last_rx = now;
            (sid, s.room_id.clone(), s.user.clone())
        };
        let reply = |msg: ServerMsg| {
            self.state.lock().send(conn, &msg);
            Flow::Continue
        };
        match msg {
            ClientMsg::Login { .. } => unreachable!("handled by on_text"),
            ClientMsg::Ping => reply(ServerMsg::Pong),
            ClientMsg::Logout { destroyed } => {
                let reason = if destroyed { LeaveReason::Destroyed } else { LeaveReason::Logout };
                log::info!("room {room_id}: user {} (session {sid}) logged out{}", user.user_id, if destroyed { " (engine destroyed)" } else { "" });
                let _ = self.store.leave(&room_id, &sid, reason, now).await;
                // The store's SessionEnded closed the connection; if the store failed, close anyway.
                Flow::Close(CloseCode::Normal, "")
            }
            ClientMsg::RenewToken { token } => {
                let reply_msg = match &self.cfg.server_secret {
                    None => ServerMsg::TokenRenewed { code: ec::SUCCESS, token_remaining_secs: None },
                    Some(secret) => match token04::check_login(&token, secret, self.cfg.app_id, &user.user_id, &room_id, unix_now()) {
                        Ok(info) => {
                            let remaining = info.expire - unix_now();
                            if let Some(s) = self.state.lock().sessions.get_mut(&sid) {
                                s.token = Some(info);
                            }
                            ServerMsg::TokenRenewed { code: ec::SUCCESS, token_remaining_secs: Some(remaining) }
                        }
                        Err(code) => ServerMsg::TokenRenewed { code, token_remaining_secs: None },
                    },
                };
                reply(reply_msg)
            }
            ClientMsg::Publish { channel, stream_id, extra_info } => {
                let code = self.publish(&room_id, &sid, channel, &stream_id, &extra_info, now).await;
                reply(ServerMsg::PublishResult { channel, stream_id, code })
            }
            ClientMsg::StopPublish { stream_id } => {
                let _ = self.store.stop_publish(&room_id, &sid, &stream_id).await;
                Flow::Continue
            }
            ClientMsg::SetStreamExtraInfo { channel, extra_info, seq } => {
                let code = if validate::check_stream_extra_info(extra_info.as_bytes()).is_err() || channel > 3 {
                    ec::ILLEGAL_PARAM
                } else {
                    match self.store.set_stream_extra_info(&room_id, &sid, channel, &extra_info).await {
                        Ok(Ok(())) => 0,
                        Ok(Err(code)) => code,
                        Err(e) => {
                            log::warn!("room {room_id}: {e}");
                            ec::INNER_ERROR
                        }
                    }
                };
                reply(ServerMsg::StreamExtraInfoResult { seq, code })
            }
            ClientMsg::Play { stream_id } => {
                if validate::check_stream_id(stream_id.as_bytes()).is_err() {
                    return Flow::Close(CloseCode::Policy, "bad stream id");
                }
                let mut st = self.state.lock();
                let Some(room) = st.rooms.get_mut(&room_id) else { return Flow::Continue };
                room.players.entry(stream_id.clone()).or_default().insert(sid.clone());
                let status = State::play_status(room, &stream_id);
                if let Some(s) = st.sessions.get_mut(&sid) {
                    s.plays.insert(stream_id.clone());
                }
                st.send(conn, &ServerMsg::PlayState { stream_id, status });
                Flow::Continue
            }
            ClientMsg::StopPlay { stream_id } => {
                let mut st = self.state.lock();
                if let Some(s) = st.sessions.get_mut(&sid) {
                    s.plays.remove(&stream_id);
                }
                if let Some(room) = st.rooms.get_mut(&room_id) {
                    if let Some(set) = room.players.get_mut(&stream_id) {
                        set.remove(&sid);
                        if set.is_empty() {
                            room.players.remove(&stream_id);
                        }
                    }
                }
                Flow::Continue
            }
            ClientMsg::Send { kind, content, to, seq } => {
                let checked = validate::check_message(content.as_bytes()).and_then(|()| {
                    let ids: Vec<&str> = to.iter().map(String::as_str).collect();
                    if kind == MsgKind::Command { validate::check_command_targets(&ids) } else { Ok(()) }
                });
                let (code, message_id) = match checked {
                    Err(code) => (code, 0),
                    Ok(()) => {
                        let to = if kind == MsgKind::Command { to } else { Vec::new() };
                        let req = SendRequest { room_id: room_id.clone(), from_session: Some(sid.clone()), from_user: user, kind, content, to, client_seq: Some(seq) };
                        match self.store.send_message(req, now).await {
                            Ok(Ok(id)) => {
                                self.metrics.message(kind);
                                (0, id)
                            }
                            Ok(Err(code)) => (code, 0),
                            Err(e) => {
                                log::warn!("room {room_id}: {e}");
                                (ec::INNER_ERROR, 0)
                            }
                        }
                    }
                };
                reply(ServerMsg::SendResult { kind, seq, code, message_id })
            }
            ClientMsg::SetRoomExtraInfo { key, value, seq } => {
                let (code, update_time) = match validate::check_room_extra_info(key.as_bytes(), value.as_bytes()) {
                    Err(code) => (code, 0),
                    Ok(()) => match self.store.set_room_extra_info(&room_id, &sid, &key, &value).await {
                        Ok(Ok(t)) => (0, t),
                        Ok(Err(code)) => (code, 0),
                        Err(e) => {
                            log::warn!("room {room_id}: {e}");
                            (ec::INNER_ERROR, 0)
                        }
                    },
                };
                reply(ServerMsg::RoomExtraInfoResult { seq, code, key, update_time })
            }
        }
    }

    async fn publish(&self, room_id: &str, sid: &str, channel: u8, stream_id: &str, extra_info: &str, now: Instant) -> i32 {
        if PublishChannel::from_index(channel as i64).is_none()
            || validate::check_stream_id(stream_id.as_bytes()).is_err()
            || validate::check_stream_extra_info(extra_info.as_bytes()).is_err()
        {
            return ec::ILLEGAL_PARAM;
        }
        let allowed = self.state.lock().sessions.get(sid).is_none_or(|s| s.token.as_ref().is_none_or(|t| t.may_publish(stream_id)));
        if !allowed {
            log::info!("room {room_id}: session {sid} may not publish {stream_id} (token privilege)");
            return ec::PUBLISHER_NO_PRIVILEGE;
        }
        match self.store.publish(room_id, sid, channel, stream_id, extra_info, now).await {
            Ok(Ok(())) => {
                if let Some(s) = self.state.lock().sessions.get_mut(sid) {
                    s.publishes[channel as usize] = Some(stream_id.to_owned());
                }
                0
            }
            Ok(Err(code)) => code,
            Err(e) => {
                log::warn!("room {room_id}: {e}");
                ec::INNER_ERROR
            }
        }
    }

    /// A binary frame: SEI from a publisher. `Err` = a violation that closes the connection.
    pub(crate) async fn on_binary(&self, conn: ConnId, data: &[u8]) -> Flow {
        let Some((channel, payload)) = decode_sei_up(data) else {
            return Flow::Close(CloseCode::Unsupported, "malformed binary frame");
        };
        let now = Instant::now();
        let (room_id, stream_id) = {
            let mut st = self.state.lock();
            let Some(sid) = st.conns.get(&conn).and_then(|c| c.session.clone()) else {
                return Flow::Close(CloseCode::Policy, "login required first");
            };
            let Some(s) = st.sessions.get_mut(&sid) else { return Flow::Continue };
            s.last_rx = now;
            if now.saturating_duration_since(s.sei_window.0) >= Duration::from_secs(1) {
                s.sei_window = (now, 0, 0);
            }
            s.sei_window.1 += 1;
            s.sei_window.2 += payload.len() as u64;
            if s.sei_window.1 > SEI_MAX_FRAMES_PER_SEC || s.sei_window.2 > SEI_MAX_BYTES_PER_SEC {
                log::warn!("room {}: user {} (session {sid}) cut off: SEI flood", s.room_id, s.user.user_id);
                return Flow::Close(CloseCode::Policy, "SEI flood");
            }
            // A frame for a channel that is not (or no longer) publishing is dropped.
            let Some(stream_id) = s.publishes.get(channel as usize).cloned().flatten() else { return Flow::Continue };
            (s.room_id.clone(), stream_id)
        };
        let frame = Bytes::from(encode_sei_down(&stream_id, payload));
        match self.store.relay_sei(&room_id, &stream_id, frame).await {
            Ok(()) => self.metrics.sei_relayed(),
            Err(e) => log::warn!("room {room_id}: {e}"),
        }
        Flow::Continue
    }

    // ---- login --------------------------------------------------------------------------------

    async fn login(&self, conn: ConnId, msg: ClientMsg) -> Flow {
        let ClientMsg::Login { v, app_id, room_id, user_id, user_name, token, max_member_count, user_status_notify, client_id, resume_session_id, last_msg_id } =
            msg
        else {
            unreachable!("login() takes a login");
        };
        let now = Instant::now();
        let fail = |code: i32, message: String| {
            let mut st = self.state.lock();
            let peer = st.conns.get(&conn).map(|c| c.peer.to_string()).unwrap_or_default();
            log::info!("{peer}: login of {user_id} to room {room_id} refused ({code}): {message}");
            self.metrics.login_failed(code);
            st.send(conn, &ServerMsg::LoginFailed { code, message });
            Flow::Close(CloseCode::Normal, "")
        };
        // The store could not be reached for a few seconds (contract §8): not a verdict, the
        // engine tries again.
        let busy = |e: StoreError| {
            let mut st = self.state.lock();
            let peer = st.conns.get(&conn).map(|c| c.peer.to_string()).unwrap_or_default();
            log::warn!("{peer}: login of {user_id} to room {room_id} refused for now: {e}");
            st.send(conn, &ServerMsg::LoginRetry { code: ec::INNER_ERROR, message: e.to_string() });
            Flow::Close(CloseCode::Again, "")
        };
        {
            let mut st = self.state.lock();
            if st.conns.get(&conn).is_some_and(|c| c.session.is_some()) {
                st.send(conn, &ServerMsg::Error { code: ec::INNER_ERROR, message: "already logged in".into() });
                return Flow::Close(CloseCode::Policy, "already logged in");
            }
        }
        if v != PROTOCOL_VERSION {
            return fail(ec::INNER_ERROR, format!("unsupported protocol version {v} (this server speaks {PROTOCOL_VERSION})"));
        }
        if app_id != self.cfg.app_id {
            return fail(ec::AUTHENTICATION_FAILED, "app_id mismatch".into());
        }
        if validate::check_room_id(room_id.as_bytes()).is_err()
            || validate::check_user_id(user_id.as_bytes()).is_err()
            || validate::check_user_name(user_name.as_bytes()).is_err()
        {
            return fail(ec::ILLEGAL_PARAM, "invalid room_id, user_id or user_name".into());
        }
        let user = User::new(user_id.clone(), if user_name.is_empty() { user_id.clone() } else { user_name });

        if let Some(rsid) = resume_session_id.filter(|s| !s.is_empty()) {
            self.prepare_room(&room_id).await;
            match self.store.resume(&room_id, &rsid, &user_id, last_msg_id, &self.cfg.node_id, now).await {
                Ok(ResumeOutcome::Resumed { snapshot, missed }) => {
                    log::info!("room {room_id}: user {user_id} (session {rsid}) resumed");
                    let token = self.state.lock().sessions.get(&rsid).and_then(|s| s.token.clone());
                    return self.register(conn, room_id, rsid, (user, client_id), user_status_notify, token, snapshot, true, missed, now).await;
                }
                Ok(ResumeOutcome::Kicked { code, message }) => {
                    self.release_room(&room_id).await;
                    log::info!("room {room_id}: resume of kicked session {rsid} ({user_id}) refused");
                    self.state.lock().send(conn, &ServerMsg::Kicked { code, message });
                    return Flow::Close(CloseCode::Normal, "");
                }
                Ok(ResumeOutcome::Gone) => self.release_room(&room_id).await,
                Err(e) => {
                    self.release_room(&room_id).await;
                    return busy(e);
                }
            }
        }

        let token = match &self.cfg.server_secret {
            None => None,
            Some(secret) => match token04::check_login(&token, secret, self.cfg.app_id, &user_id, &room_id, unix_now()) {
                Ok(info) => Some(info),
                Err(code) => return fail(code, "authentication failed".into()),
            },
        };
        self.prepare_room(&room_id).await;
        let sid = random_id();
        let req = JoinRequest {
            room_id: room_id.clone(),
            user: user.clone(),
            client_id: client_id.clone(),
            session_id: sid.clone(),
            max_members: max_member_count,
            node_id: self.cfg.node_id.clone(),
        };
        match self.store.join(req, now).await {
            Ok(JoinOutcome::Joined(snapshot)) => {
                log::info!("room {room_id}: user {user_id} (session {sid}) logged in");
                self.register(conn, room_id, sid, (user, client_id), user_status_notify, token, snapshot, false, Vec::new(), now).await
            }
            Ok(JoinOutcome::RoomFull) => {
                self.release_room(&room_id).await;
                fail(ec::ROOM_FULL, "room full".into())
            }
            Err(e) => {
                self.release_room(&room_id).await;
                busy(e)
            }
        }
    }

    /// Before asking the store to join or resume: the room's view exists (collecting events,
    /// not dropped while this login is pending) and the node listens to the room, so nothing after
    /// the snapshot can be missed. Every call is matched by one `release_room`.
    async fn prepare_room(&self, room_id: &str) {
        let listening = {
            let mut st = self.state.lock();
            let room = st.rooms.entry(room_id.to_owned()).or_default();
            room.pending += 1;
            room.listening.clone()
        };
        listening
            .get_or_init(|| async {
                if let Err(e) = self.store.subscribe(room_id).await {
                    log::warn!("room {room_id}: {e}");
                }
            })
            .await;
    }

    /// A session is in (fresh or resumed): the local record, `login_ok`, the catch-up.
    #[allow(clippy::too_many_arguments)]
    async fn register(
        &self,
        conn: ConnId,
        room_id: String,
        sid: SessionId,
        who: (User, String),
        notify: bool,
        token: Option<TokenInfo>,
        snap: Snapshot,
        resumed: bool,
        missed: Vec<StoredMessage>,
        now: Instant,
    ) -> Flow {
        let flow = self.register_locked(conn, &room_id, &sid, who, notify, token, snap, resumed, missed, now);
        if flow.is_none() {
            // The connection died while the store was asked: the session stays, detached, for
            // the grace (a resume may still come).
            let _ = self.store.detach(&room_id, &sid, now).await;
            self.release_room(&room_id).await;
            return Flow::Close(CloseCode::Normal, "");
        }
        self.release_room(&room_id).await;
        flow.unwrap_or(Flow::Continue)
    }

    #[allow(clippy::too_many_arguments)]
    fn register_locked(
        &self,
        conn: ConnId,
        room_id: &str,
        sid: &str,
        (user, client_id): (User, String),
        notify: bool,
        token: Option<TokenInfo>,
        snap: Snapshot,
        resumed: bool,
        missed: Vec<StoredMessage>,
        now: Instant,
    ) -> Option<Flow> {
        let mut guard = self.state.lock();
        let st = &mut *guard;
        if !st.conns.get(&conn).is_some_and(|c| !c.queue.inner.lock().closed) {
            return None;
        }
        let room = st.rooms.entry(room_id.to_owned()).or_default();
        if !room.ready {
            room.ready = true;
            room.last_seq = snap.seq;
            room.room_session_id = snap.room_session_id.clone();
            room.members = snap.members.iter().map(|u| (u.user_id.clone(), u.clone())).collect();
            room.streams = snap.streams.iter().map(|r| (r.stream.stream_id.clone(), r.clone())).collect();
            room.extra_info = snap.extra_info.clone();
            room.last_msg_id = snap.last_msg_id;
            let mut early = std::mem::take(&mut room.early);
            early.sort_by_key(|e| e.seq);
            for ev in early.iter().filter(|e| e.seq > snap.seq) {
                st.apply(ev, &self.cfg.node_id);
            }
        }
        // A fresh login whose snapshot the view has already passed by more than `recent` holds
        // (many logins at once on a busy node: its store answer crossed hundreds of events, or a
        // re-read cleared `recent`): it starts from the view instead, which is as consistent as a
        // snapshot and newer. Closing it instead (as below for a resume, whose missed messages
        // only the store has) lost every session of a large simultaneous login that a client
        // does not resume. The view must still hold the user (else the session ended meanwhile).
        let snap = {
            let room = &st.rooms[room_id];
            let covered = room.recent.front().is_some_and(|(_, e)| e.seq <= snap.seq + 1);
            if !resumed && room.last_seq > snap.seq && !covered && room.members.contains_key(&user.user_id) {
                log::info!("room {room_id}: session {sid} registered behind the view ({} < {}); it starts from the view", snap.seq, room.last_seq);
                Snapshot {
                    room_session_id: room.room_session_id.clone(),
                    seq: room.last_seq,
                    members: room.members.values().cloned().collect(),
                    streams: room.streams.values().cloned().collect(),
                    extra_info: room.extra_info.clone(),
                    last_msg_id: room.last_msg_id.max(snap.last_msg_id),
                    state_age: snap.state_age,
                }
            } else {
                snap
            }
        };
        // A session owns one connection: an older one (a resume while still attached) is closed.
        let (old_conn, plays_before) = match st.sessions.get(sid) {
            Some(old) => (old.conn.filter(|c| *c != conn), old.plays.clone()),
            None => (None, BTreeSet::new()),
        };
        if let Some(c) = old_conn {
            if let Some(oc) = st.conns.get_mut(&c) {
                oc.session = None;
            }
            st.close(c, CloseCode::Normal);
        }
        // The engine asks for its streams again after the login; old subscriptions go.
        if let Some(room) = st.rooms.get_mut(room_id) {
            for id in &plays_before {
                if let Some(set) = room.players.get_mut(id) {
                    set.remove(sid);
                    if set.is_empty() {
                        room.players.remove(id);
                    }
                }
            }
        }
        let mut publishes: [Option<String>; 4] = Default::default();
        for r in snap.streams.iter().filter(|r| r.session_id == sid) {
            if let Some(slot) = publishes.get_mut(r.channel as usize) {
                *slot = Some(r.stream.stream_id.clone());
            }
        }
        let count = snap.members.len() as u32;
        st.sessions.insert(
            sid.to_owned(),
            Box::new(LocalSession {
                room_id: room_id.to_owned(),
                user,
                client_id,
                notify,
                conn: Some(conn),
                last_rx: now,
                stored_rx: now,
                token,
                publishes,
                plays: BTreeSet::new(),
                from_seq: snap.seq,
                last_count: count,
                sei_window: (now, 0, 0),
            }),
        );
        if let Some(c) = st.conns.get_mut(&conn) {
            c.session = Some(sid.to_owned());
        }
        let room = st.rooms.get_mut(room_id).expect("created above");
        room.sessions.insert(sid.to_owned());
        let token_remaining_secs = st.sessions[sid].token.as_ref().map(|t| t.expire - unix_now());
        let login_ok = ServerMsg::LoginOk {
            session_id: sid.to_owned(),
            room_session_id: snap.room_session_id.clone(),
            resumed,
            users: if notify { snap.members.clone() } else { Vec::new() },
            user_count: count,
            ping_interval_ms: self.cfg.ping_interval.as_millis() as u64,
            token_remaining_secs,
            grace_ms: self.cfg.heartbeat_timeout.as_millis() as u64,
            state_age_ms: snap.state_age.as_millis().min(u64::MAX as u128) as u64,
            streams: snap.streams.iter().map(|r| r.stream.clone()).collect(),
            extra_info: snap.extra_info.iter().cloned().collect(),
            last_msg_id: snap.last_msg_id,
        };
        st.send(conn, &login_ok);
        st.metrics.login_ok(resumed);
        if resumed {
            send_messages(st, conn, &missed);
        }
        // Events the view applied after this session's snapshot.
        let room = &st.rooms[room_id];
        if room.last_seq > snap.seq {
            let covered = room.recent.front().is_some_and(|(_, e)| e.seq <= snap.seq + 1);
            if !covered {
                log::warn!("room {room_id}: session {sid} registered too far behind the view; closing it (it will resume)");
                if let Some(s) = st.sessions.get_mut(sid) {
                    s.conn = None;
                }
                st.close(conn, CloseCode::Again);
                return Some(Flow::Close(CloseCode::Again, ""));
            }
            let behind: Vec<Arc<RoomEvent>> = room.recent.iter().filter(|(_, e)| e.seq > snap.seq).map(|(_, e)| e.clone()).collect();
            for ev in behind {
                st.deliver(&ev, &self.cfg.node_id, Some(sid));
            }
        }
        Some(Flow::Continue)
    }

    /// Ends one pending login or registration of `room_id`: a room view that nobody ended up in
    /// is dropped, and the node stops listening to the room.
    async fn release_room(&self, room_id: &str) {
        let unused = {
            let mut st = self.state.lock();
            match st.rooms.get_mut(room_id) {
                Some(room) => {
                    room.pending = room.pending.saturating_sub(1);
                    let unused = room.sessions.is_empty() && room.pending == 0;
                    if unused {
                        st.rooms.remove(room_id);
                    }
                    unused
                }
                None => false,
            }
        };
        if unused {
            let _ = self.store.unsubscribe(room_id).await;
        }
    }

    // ---- periodic work ------------------------------------------------------------------------

    /// Heartbeats to the store (sessions that received a frame since the last flush), then the
    /// reaper. Called every 100 ms.
    pub(crate) async fn flush(&self, now: Instant) {
        let batch: Vec<Refresh> = {
            let mut st = self.state.lock();
            st.sessions
                .iter_mut()
                .filter(|(_, s)| s.last_rx > s.stored_rx)
                .map(|(sid, s)| {
                    s.stored_rx = s.last_rx;
                    Refresh { room_id: s.room_id.clone(), session_id: sid.clone(), last_rx: s.last_rx }
                })
                .collect()
        };
        // While the store is known to be down (it says so itself), failures are not news.
        let healthy = self.store.healthy();
        if !batch.is_empty() {
            if let Err(e) = self.store.refresh(batch, now).await {
                if healthy {
                    log::warn!("{e}");
                }
            }
        }
        if let Err(e) = self.store.reap(now).await {
            if healthy {
                log::warn!("{e}");
            }
        }
        self.after_events().await;
        self.resync_pending().await;
    }

    /// Attached sessions silent for 3 ping intervals + 1 s: the connection is closed and the
    /// session detached (its streams stop being live; it stays present for the grace).
    pub(crate) async fn check_silence(&self, now: Instant) {
        let limit = self.cfg.ping_interval * 3 + Duration::from_secs(1);
        let silent: Vec<(String, SessionId)> = {
            let mut guard = self.state.lock();
            let st = &mut *guard;
            let mut out = Vec::new();
            let mut close = Vec::new();
            // Events older than RECENT_AGE are of no use to a login any more; in a quiet room
            // no new event would push them out (they held ~200 bytes per member of a room whose
            // members all arrived within a few seconds).
            for room in st.rooms.values_mut() {
                while room.recent.front().is_some_and(|(at, _)| now.saturating_duration_since(*at) > RECENT_AGE) {
                    room.recent.pop_front();
                }
                if room.recent.is_empty() && room.recent.capacity() > 0 {
                    room.recent = VecDeque::new();
                }
            }
            for (sid, s) in st.sessions.iter_mut() {
                if let Some(c) = s.conn.filter(|_| now.saturating_duration_since(s.last_rx) > limit) {
                    log::info!("room {}: user {} (session {sid}) silent for {limit:?}: connection closed", s.room_id, s.user.user_id);
                    s.conn = None;
                    close.push(c);
                    out.push((s.room_id.clone(), sid.clone()));
                }
            }
            for c in close {
                if let Some(conn) = st.conns.get_mut(&c) {
                    conn.session = None;
                }
                st.close(c, CloseCode::Away);
            }
            out
        };
        for (room, sid) in silent {
            let _ = self.store.detach(&room, &sid, now).await;
        }
    }

    /// Online counts (contract §1.2): every `count_interval`, to sessions whose count changed.
    pub(crate) fn send_counts(&self) {
        let mut guard = self.state.lock();
        let st = &mut *guard;
        let mut sends: Vec<(u32, Vec<ConnId>)> = Vec::new();
        for room in st.rooms.values().filter(|r| r.ready) {
            let count = room.members.len() as u32;
            let mut targets = Vec::new();
            for sid in &room.sessions {
                if let Some(s) = st.sessions.get_mut(sid) {
                    if let (Some(c), true) = (s.conn, s.last_count != count) {
                        s.last_count = count;
                        targets.push(c);
                    }
                }
            }
            sends.push((count, targets));
        }
        for (count, targets) in sends {
            st.send_many(&targets, &ServerMsg::UserCount { count });
        }
    }

    /// Re-reads a room after a gap in its events and sends local sessions the difference.
    async fn resync(&self, room_id: &str) {
        let now = Instant::now();
        // Sessions registered while the room is being read started from their own snapshot,
        // which may be newer than the one read here: only the ones present now are judged by it.
        let before = self.state.lock().rooms.get(room_id).map(|r| (r.last_msg_id, r.sessions.clone()));
        let Some((after, present)) = before else { return };
        self.metrics.room_reread();
        let snap = match self.store.snapshot(room_id, now).await {
            Ok(s) => s,
            Err(e) => {
                // Still resyncing (events keep being held): tried again on the next round.
                log::warn!("room {room_id}: resync failed: {e}");
                let mut st = self.state.lock();
                if st.rooms.contains_key(room_id) {
                    st.to_resync.push(room_id.to_owned());
                }
                return;
            }
        };
        let missed = self.store.messages_after(room_id, after, now).await.unwrap_or_default();
        let mut guard = self.state.lock();
        let st = &mut *guard;
        let Some(room) = st.rooms.get_mut(room_id) else { return };
        room.resyncing = false;
        let held = std::mem::take(&mut room.early);
        let Some(snap) = snap else {
            // The room is gone: every local session of it that the read could see ended.
            let sids: Vec<SessionId> = room.sessions.iter().filter(|sid| present.contains(*sid)).cloned().collect();
            for sid in sids {
                if let Some(s) = st.drop_session(&sid) {
                    if let Some(c) = s.conn {
                        st.close(c, CloseCode::Normal);
                    }
                }
            }
            return;
        };
        let members: BTreeMap<String, User> = snap.members.iter().map(|u| (u.user_id.clone(), u.clone())).collect();
        let streams: BTreeMap<String, StreamRecord> = snap.streams.iter().map(|r| (r.stream.stream_id.clone(), r.clone())).collect();
        let old_members = std::mem::replace(&mut room.members, members.clone());
        let old_streams = std::mem::replace(&mut room.streams, streams.clone());
        let extra_changed = room.extra_info != snap.extra_info;
        room.extra_info = snap.extra_info.clone();
        room.last_seq = snap.seq;
        room.recent.clear();
        room.last_msg_id = room.last_msg_id.max(snap.last_msg_id);
        let gone: Vec<User> = old_members.values().filter(|u| members.get(&u.user_id) != Some(*u)).cloned().collect();
        let came: Vec<User> = members.values().filter(|u| old_members.get(&u.user_id) != Some(*u)).cloned().collect();
        let s_gone: Vec<StreamRecord> = old_streams.values().filter(|r| !streams.contains_key(&r.stream.stream_id)).cloned().collect();
        let s_came: Vec<StreamRecord> = streams.values().filter(|r| !old_streams.contains_key(&r.stream.stream_id)).cloned().collect();
        // A session registered from a snapshot newer than this one (a login that raced the read)
        // already has everything up to its own `from_seq`: it gets neither the difference nor a
        // verdict from this older read, only the held events past its snapshot (below).
        let judged = |s: &LocalSession| s.from_seq <= snap.seq;
        let sessions: Vec<(SessionId, ConnId, String, bool)> = room
            .sessions
            .iter()
            .filter_map(|sid| st.sessions.get(sid).filter(|s| judged(s)).and_then(|s| s.conn.map(|c| (sid.clone(), c, s.user.user_id.clone(), s.notify))))
            .collect();
        for (sid, c, me, notify) in &sessions {
            if *notify {
                let g: Vec<User> = gone.iter().filter(|u| &u.user_id != me).cloned().collect();
                let a: Vec<User> = came.iter().filter(|u| &u.user_id != me).cloned().collect();
                if !g.is_empty() {
                    st.send(*c, &ServerMsg::UserUpdate { update: UserUpdateKind::Delete, users: g });
                }
                if !a.is_empty() {
                    st.send(*c, &ServerMsg::UserUpdate { update: UserUpdateKind::Add, users: a });
                }
            }
            let g: Vec<Stream> = s_gone.iter().filter(|r| &r.stream.user.user_id != me).map(|r| r.stream.clone()).collect();
            if !g.is_empty() {
                let reasons = g.iter().map(|s| StreamDeleteReason { stream_id: s.stream_id.clone(), code: delete_reason::STOPPED }).collect();
                st.send(*c, &ServerMsg::StreamUpdate { update: UserUpdateKind::Delete, streams: g, reasons });
            }
            let a: Vec<Stream> = s_came.iter().filter(|r| &r.stream.user.user_id != me).map(|r| r.stream.clone()).collect();
            if !a.is_empty() {
                st.send(*c, &ServerMsg::StreamUpdate { update: UserUpdateKind::Add, streams: a, reasons: vec![] });
            }
            if extra_changed {
                if let Some(info) = &snap.extra_info {
                    st.send(*c, &ServerMsg::RoomExtraInfoUpdate { infos: vec![info.clone()] });
                }
            }
            let mine: Vec<StoredMessage> = missed.iter().filter(|m| m.wire.message_id > after && m.is_for(sid, me)).cloned().collect();
            send_messages(st, *c, &mine);
        }
        // Players: where each played stream stands now.
        let room = &st.rooms[room_id];
        let plays: Vec<(String, PlayStatus)> = room.players.keys().map(|id| (id.clone(), State::play_status(room, id))).collect();
        for (id, status) in plays {
            st.tell_players(room_id, &id, 0, status);
        }
        // Local sessions the store no longer has ended during the gap.
        let lost: Vec<SessionId> =
            st.rooms[room_id].sessions.iter().filter(|sid| st.sessions.get(*sid).is_some_and(|s| judged(s) && members.get(&s.user.user_id).is_none())).cloned().collect();
        for sid in lost {
            if let Some(s) = st.drop_session(&sid) {
                if let Some(c) = s.conn {
                    st.close(c, CloseCode::Normal);
                }
            }
        }
        // Events that arrived while the room was being read and that the snapshot does not cover.
        let mut held: Vec<Arc<RoomEvent>> = held.into_iter().filter(|e| e.seq > snap.seq).collect();
        held.sort_by_key(|e| e.seq);
        held.dedup_by_key(|e| e.seq);
        for ev in held {
            st.apply(&ev, &self.cfg.node_id);
        }
    }

    /// Graceful stop: every connection gets a close frame; sessions stay in the store.
    pub(crate) fn close_all(&self, code: CloseCode) {
        let mut st = self.state.lock();
        let conns: Vec<ConnId> = st.conns.keys().copied().collect();
        for c in conns {
            st.close(c, code);
        }
    }

    /// Sessions held locally (attached or within their grace), for tests and metrics.
    pub fn session_count(&self) -> usize {
        self.state.lock().sessions.len()
    }

    pub fn connection_count(&self) -> usize {
        self.state.lock().conns.len()
    }

    /// Rooms with at least one session held here (or a login on its way), for metrics.
    pub fn room_count(&self) -> usize {
        self.state.lock().rooms.len()
    }
}

impl<S: RoomStore> EventSink for Node<S> {
    fn on_event(&self, event: Arc<RoomEvent>) {
        self.state.lock().apply(&event, &self.cfg.node_id);
    }

    fn on_room_reset(&self, room_id: &str) {
        let mut st = self.state.lock();
        if let Some(room) = st.rooms.get_mut(room_id) {
            // Even if a re-read is under way: it may have read before what was lost.
            if room.ready {
                room.resyncing = true;
                st.to_resync.push(room_id.to_owned());
            }
        }
    }

    fn local_sessions(&self) -> Vec<HeldSession> {
        let st = self.state.lock();
        st.sessions
            .iter()
            .filter_map(|(sid, s)| {
                let room = st.rooms.get(&s.room_id).filter(|r| r.ready)?;
                Some(HeldSession {
                    room_id: s.room_id.clone(),
                    room_session_id: room.room_session_id.clone(),
                    session_id: sid.clone(),
                    user: s.user.clone(),
                    client_id: s.client_id.clone(),
                    attached: s.conn.is_some(),
                    last_rx: s.last_rx,
                    streams: room.streams.values().filter(|r| &r.session_id == sid).cloned().collect(),
                    room_seq: room.last_seq,
                    last_msg_id: room.last_msg_id,
                    max_members: 0,
                })
            })
            .collect()
    }

    fn on_sei(&self, room_id: &str, stream_id: &str, frame: Bytes) {
        let st = self.state.lock();
        let Some(players) = st.rooms.get(room_id).and_then(|r| r.players.get(stream_id)) else { return };
        let mut dropped = 0;
        for sid in players {
            if let Some(conn) = st.sessions.get(sid).and_then(|s| s.conn).and_then(|c| st.conns.get(&c)) {
                dropped += u64::from(conn.queue.push_sei(frame.clone()));
            }
        }
        st.metrics.sei_dropped(dropped);
    }
}

#[cfg(test)]
mod queue_tests {
    use super::*;

    fn text(s: &str) -> Outgoing {
        Outgoing::Text(s.to_owned().into())
    }

    #[test]
    fn a_peer_that_stops_reading_is_cut_off_not_buffered_without_bound() {
        let q = ConnQueue::default();
        for _ in 0..OUTGOING_QUEUE {
            assert!(q.push(text("x")));
        }
        assert_eq!(q.waiting(), OUTGOING_QUEUE, "a full queue is still fine");
        assert!(!q.push(text("one more")), "one more message cuts the peer off");
        assert!(matches!(q.next(), Next::Closed), "the connection task ends");
        assert!(q.push(text("later")), "the cut-off is reported once");
        q.push_sei(Bytes::from_static(b"s"));
        assert!(matches!(q.next(), Next::Closed));
    }

    #[test]
    fn signalling_before_sei_oldest_sei_dropped_memory_given_back() {
        let q = ConnQueue::default();
        for i in 0..(SEI_QUEUE_FRAMES + 10) {
            q.push_sei(Bytes::from(vec![i as u8]));
        }
        q.push(text("signal"));
        assert!(matches!(q.next(), Next::Control(Outgoing::Text(t)) if t.as_str() == "signal"));
        let mut got = Vec::new();
        while let Next::Sei(f) = q.next() {
            got.push(f[0] as usize);
        }
        assert_eq!(got, (10..SEI_QUEUE_FRAMES + 10).collect::<Vec<_>>(), "the oldest 10 frames were dropped");
        assert!(matches!(q.next(), Next::Idle));
        let inner = q.inner.lock();
        assert!(inner.control.capacity() <= IDLE_CAPACITY && inner.sei.capacity() <= IDLE_CAPACITY, "drained queues give their memory back");
    }

    #[test]
    fn a_close_is_accepted_even_when_full() {
        let q = ConnQueue::default();
        for _ in 0..OUTGOING_QUEUE {
            q.push(text("x"));
        }
        assert!(q.push(Outgoing::Close(CloseCode::Normal)));
    }
}
