//! The in-memory room store: everything in one process behind one lock, events delivered to the
//! sink synchronously (under the lock, so they reach it in sequence order). The embedded default:
//! the quickstart and a single `zego-room-server` need nothing else.
//!
//! All rules run on the `now` the caller passes, so the unit tests below drive them with a
//! virtual clock.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::future::{ready, Future};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::*;
use crate::error_codes as ec;
use crate::protocol::MsgKind;

/// What a kicked duplicate login is told (contract §1.6).
pub const DUPLICATE_LOGIN_MESSAGE: &str = "same user_id logged in elsewhere";
/// Answers a client remembers for resends.
pub(crate) const RECENT_SENDS: usize = 32;

fn random_id() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

pub(crate) fn unix_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

struct Room {
    room_session_id: String,
    /// 0 = unlimited; set by the login that opened the room.
    max_members: u32,
    /// user_id → session id.
    members: HashMap<String, SessionId>,
    streams: BTreeMap<String, StreamRecord>,
    extra_info: Option<RoomExtraInfo>,
    seq: u64,
    last_msg_id: u64,
    /// Reliable messages for catch-up, oldest first, with the time they were sent.
    replay: VecDeque<(Instant, StoredMessage)>,
    /// Barrages sent in the current one-second window.
    barrage_window: (Instant, usize),
}

struct Session {
    room_id: String,
    user: User,
    /// Whose answers to resends this session shares (see `Inner::client_sends`).
    sends_key: String,
    /// Removed at this time unless refreshed.
    deadline: Instant,
    attached: bool,
    /// When this session's last broadcasts went out (rate limit).
    broadcast_times: VecDeque<Instant>,
}

/// One client per user_id across the app (contract §1.6).
struct UserEntry {
    client_id: String,
    sessions: Vec<SessionId>,
}

struct Inner {
    cfg: StoreConfig,
    started: Instant,
    rooms: HashMap<String, Room>,
    /// Boxed: the table keeps ~40 % of its slots empty, and a slot is as large as its value.
    sessions: HashMap<SessionId, Box<Session>>,
    users: HashMap<String, UserEntry>,
    /// stream_id → (room, session): ids are unique across the app.
    stream_owner: HashMap<String, (String, SessionId)>,
    forbidden: HashSet<String>,
    tombstones: HashMap<SessionId, (i32, String)>,
    tombstone_order: VecDeque<(Instant, SessionId)>,
    /// (client seq, code, message id) of each client's last sends and when the last was made.
    /// Per client, not per session: a message whose answer was lost is resent after the
    /// reconnect, and when that reconnect is a fresh login (the grace passed) the new session
    /// must still recognise it, or the room gets it twice (§7.1 "reliably", each once). Clients
    /// without an id are keyed by session. Forgotten after `tombstone_ttl` without a send.
    client_sends: HashMap<String, (VecDeque<(i32, i32, u64)>, Instant)>,
}

pub struct MemoryStore {
    inner: Mutex<Inner>,
    sink: OnceLock<Weak<dyn EventSink>>,
}

impl MemoryStore {
    pub fn new(cfg: StoreConfig, now: Instant) -> MemoryStore {
        MemoryStore {
            inner: Mutex::new(Inner {
                cfg,
                started: now,
                rooms: HashMap::new(),
                sessions: HashMap::new(),
                users: HashMap::new(),
                stream_owner: HashMap::new(),
                forbidden: HashSet::new(),
                tombstones: HashMap::new(),
                tombstone_order: VecDeque::new(),
                client_sends: HashMap::new(),
            }),
            sink: OnceLock::new(),
        }
    }

    fn sink(&self) -> Option<Arc<dyn EventSink>> {
        self.sink.get().and_then(Weak::upgrade)
    }

    /// Runs `f` under the lock with an emitter that numbers events per room and hands them to
    /// the sink at once (still under the lock: the sink sees every room's events in order).
    fn with<R>(&self, f: impl FnOnce(&mut Inner, &mut Emit) -> R) -> R {
        let mut inner = self.inner.lock();
        let mut emit = Emit { sink: self.sink() };
        f(&mut inner, &mut emit)
    }

    /// Members present in a room (tests).
    pub fn user_count(&self, room_id: &str) -> u32 {
        self.inner.lock().rooms.get(room_id).map_or(0, |r| r.members.len() as u32)
    }

    pub fn session_count(&self) -> usize {
        self.inner.lock().sessions.len()
    }
}

struct Emit {
    sink: Option<Arc<dyn EventSink>>,
}

impl Emit {
    fn send(&mut self, room: &mut Room, room_id: &str, kind: EventKind) {
        room.seq += 1;
        if let Some(s) = &self.sink {
            s.on_event(Arc::new(RoomEvent { room_id: room_id.to_owned(), seq: room.seq, kind }));
        }
    }
}

impl Inner {
    fn snapshot(&self, room_id: &str, now: Instant) -> Option<Snapshot> {
        let room = self.rooms.get(room_id)?;
        let mut members: Vec<User> = room.members.values().filter_map(|sid| self.sessions.get(sid)).map(|s| s.user.clone()).collect();
        members.sort();
        Some(Snapshot {
            room_session_id: room.room_session_id.clone(),
            seq: room.seq,
            members,
            streams: room.streams.values().cloned().collect(),
            extra_info: room.extra_info.clone(),
            last_msg_id: room.last_msg_id,
            state_age: now.saturating_duration_since(self.started),
        })
    }

    /// Removes a session and everything it owns, emitting stream deletes (with `reason`'s code),
    /// the member's Delete (unless `replaced`: the same user is taking its place in this room,
    /// and the join announces what others see) and the session's end (`code` != 0: it is told it
    /// was kicked, and a resume is refused later). An emptied room is dropped unless `replaced`.
    #[allow(clippy::too_many_arguments)]
    fn remove_session(&mut self, emit: &mut Emit, sid: &str, reason: LeaveReason, code: i32, message: &str, replaced: bool, now: Instant) {
        let Some(s) = self.sessions.remove(sid) else { return };
        if let Some(entry) = self.users.get_mut(&s.user.user_id) {
            entry.sessions.retain(|x| x != sid);
            if entry.sessions.is_empty() {
                self.users.remove(&s.user.user_id);
            }
        }
        if code != 0 {
            self.tombstones.insert(sid.to_owned(), (code, message.to_owned()));
            self.tombstone_order.push_back((now, sid.to_owned()));
        }
        let Some(room) = self.rooms.get_mut(&s.room_id) else { return };
        let owned: Vec<String> = room.streams.values().filter(|r| r.session_id == sid).map(|r| r.stream.stream_id.clone()).collect();
        for id in owned {
            if let Some(record) = room.streams.remove(&id) {
                self.stream_owner.remove(&id);
                emit.send(room, &s.room_id, EventKind::StreamRemoved { record, code: reason.stream_code() });
            }
        }
        if room.members.get(&s.user.user_id).is_some_and(|x| x == sid) {
            room.members.remove(&s.user.user_id);
            if !replaced {
                emit.send(room, &s.room_id, EventKind::MemberRemoved { user: s.user.clone(), session_id: sid.to_owned(), reason });
            }
        }
        emit.send(room, &s.room_id, EventKind::SessionEnded { session_id: sid.to_owned(), code, message: message.to_owned() });
        if room.members.is_empty() && !replaced {
            self.rooms.remove(&s.room_id);
        }
    }

    fn join(&mut self, emit: &mut Emit, req: JoinRequest, now: Instant) -> JoinOutcome {
        let user_id = req.user.user_id.clone();
        // The member limit first, so a refused login changes nothing (the same user's own slot
        // counts as free: it is replaced).
        if let Some(room) = self.rooms.get(&req.room_id) {
            if room.max_members > 0 && room.members.len() as u32 >= room.max_members && !room.members.contains_key(&user_id) {
                return JoinOutcome::RoomFull;
            }
        }
        // `Some(old name if different)` when the user is replaced in this very room.
        let mut replaced: Option<Option<User>> = None;
        if let Some(entry) = self.users.get(&user_id) {
            let other_client = entry.client_id != req.client_id;
            for sid in entry.sessions.clone() {
                let Some(s) = self.sessions.get(&sid) else { continue };
                let (code, message, reason) = if other_client {
                    // One client per user_id across the app: the other client's sessions end
                    // everywhere, and it is told so (contract §1.6).
                    (ec::KICKED_OUT_DUPLICATE_LOGIN, DUPLICATE_LOGIN_MESSAGE, LeaveReason::Replaced)
                } else {
                    // The same engine again (its logout still on the way): never a kick.
                    (0, "", LeaveReason::Logout)
                };
                if s.room_id == req.room_id {
                    let old = s.user.clone();
                    replaced = Some((old.user_name != req.user.user_name).then_some(old));
                    self.remove_session(emit, &sid, reason, code, message, true, now);
                } else if other_client {
                    self.remove_session(emit, &sid, reason, code, message, false, now);
                }
            }
        }
        let room = self.rooms.entry(req.room_id.clone()).or_insert_with(|| Room {
            room_session_id: random_id(),
            max_members: req.max_members,
            members: HashMap::new(),
            streams: BTreeMap::new(),
            extra_info: None,
            seq: 0,
            last_msg_id: 0,
            replay: VecDeque::new(),
            barrage_window: (now, 0),
        });
        room.members.insert(user_id.clone(), req.session_id.clone());
        let kind = match replaced {
            Some(Some(old)) => EventKind::MemberRenamed { old, new: req.user.clone(), session_id: req.session_id.clone() },
            // Replaced under the same name: nobody sees anything (an event only for ordering).
            Some(None) => EventKind::SessionResumed { session_id: req.session_id.clone(), node_id: req.node_id.clone() },
            None => EventKind::MemberAdded { user: req.user.clone(), session_id: req.session_id.clone() },
        };
        emit.send(room, &req.room_id, kind);
        self.sessions.insert(
            req.session_id.clone(),
            Box::new(Session {
                room_id: req.room_id.clone(),
                user: req.user.clone(),
                sends_key: if req.client_id.is_empty() { format!("session {}", req.session_id) } else { req.client_id.clone() },
                deadline: now + self.cfg.grace,
                attached: true,
                broadcast_times: VecDeque::new(),
            }),
        );
        let entry = self.users.entry(user_id).or_insert_with(|| UserEntry { client_id: req.client_id.clone(), sessions: Vec::new() });
        entry.client_id = req.client_id;
        entry.sessions.push(req.session_id);
        JoinOutcome::Joined(self.snapshot(&req.room_id, now).expect("room exists"))
    }

    fn resume(&mut self, emit: &mut Emit, room_id: &str, sid: &str, user_id: &str, last_msg_id: u64, node_id: &str, now: Instant) -> ResumeOutcome {
        if let Some((code, message)) = self.tombstones.get(sid) {
            return ResumeOutcome::Kicked { code: *code, message: message.clone() };
        }
        let Some(s) = self.sessions.get_mut(sid).filter(|s| s.room_id == room_id && s.user.user_id == user_id) else {
            return ResumeOutcome::Gone;
        };
        s.attached = true;
        s.deadline = now + self.cfg.grace;
        let room = self.rooms.get_mut(room_id).expect("a session's room exists");
        emit.send(room, room_id, EventKind::SessionResumed { session_id: sid.to_owned(), node_id: node_id.to_owned() });
        let ids: Vec<String> = room.streams.values().filter(|r| r.session_id == sid && !r.live).map(|r| r.stream.stream_id.clone()).collect();
        for id in ids {
            if let Some(r) = room.streams.get_mut(&id) {
                r.live = true;
            }
            emit.send(room, room_id, EventKind::StreamLive { stream_id: id, live: true });
        }
        let missed = room
            .replay
            .iter()
            .filter(|(at, m)| now.saturating_duration_since(*at) <= self.cfg.replay_age && m.wire.message_id > last_msg_id && m.is_for(sid, user_id))
            .map(|(_, m)| m.clone())
            .collect();
        ResumeOutcome::Resumed { snapshot: self.snapshot(room_id, now).expect("room exists"), missed }
    }

    fn detach(&mut self, emit: &mut Emit, room_id: &str, sid: &str) {
        let Some(s) = self.sessions.get_mut(sid).filter(|s| s.room_id == room_id && s.attached) else { return };
        s.attached = false;
        let Some(room) = self.rooms.get_mut(room_id) else { return };
        let ids: Vec<String> = room.streams.values().filter(|r| r.session_id == sid && r.live).map(|r| r.stream.stream_id.clone()).collect();
        for id in ids {
            if let Some(r) = room.streams.get_mut(&id) {
                r.live = false;
            }
            emit.send(room, room_id, EventKind::StreamLive { stream_id: id, live: false });
        }
    }

    fn reap(&mut self, emit: &mut Emit, now: Instant) {
        let expired: Vec<SessionId> = self.sessions.iter().filter(|(_, s)| now >= s.deadline).map(|(id, _)| id.clone()).collect();
        for sid in expired {
            if let Some(s) = self.sessions.get(&sid) {
                // The node holding the session logs it (info) and counts it.
                log::debug!("room {}: user {} (session {sid}) removed: heartbeat grace passed", s.room_id, s.user.user_id);
            }
            self.remove_session(emit, &sid, LeaveReason::GraceExpired, 0, "", false, now);
        }
        let ttl = self.cfg.tombstone_ttl;
        while self.tombstone_order.front().is_some_and(|(at, _)| now.saturating_duration_since(*at) >= ttl) {
            if let Some((_, id)) = self.tombstone_order.pop_front() {
                self.tombstones.remove(&id);
            }
        }
        self.client_sends.retain(|_, (_, last)| now.saturating_duration_since(*last) < ttl);
    }

    fn kick(&mut self, emit: &mut Emit, room_id: &str, user_ids: &[String], code: i32, message: &str, now: Instant) {
        for uid in user_ids {
            let Some(sid) = self.rooms.get(room_id).and_then(|r| r.members.get(uid)).cloned() else { continue };
            log::debug!("room {room_id}: user {uid} (session {sid}) kicked ({code}): {message}");
            self.remove_session(emit, &sid, LeaveReason::Kicked, code, message, false, now);
        }
    }

    fn publish(&mut self, emit: &mut Emit, room_id: &str, sid: &str, channel: u8, stream_id: &str, extra_info: &str) -> Result<(), i32> {
        let Some(s) = self.sessions.get(sid).filter(|s| s.room_id == room_id) else { return Err(ec::NOT_LOGIN_ROOM) };
        let (user, attached) = (s.user.clone(), s.attached);
        if self.forbidden.contains(stream_id) {
            return Err(ec::PUBLISHER_FORBIDDEN);
        }
        let room = self.rooms.get_mut(room_id).expect("a session's room exists");
        if let Some((owner_room, owner)) = self.stream_owner.get(stream_id) {
            if owner != sid || owner_room != room_id {
                return Err(ec::PUBLISHER_STREAM_ID_TAKEN);
            }
            let record = room.streams.get_mut(stream_id).expect("owned streams are in their room");
            if record.channel != channel {
                return Err(ec::PUBLISHER_CHANNEL_BUSY);
            }
            // Published again by its owner (after a reconnect): nothing changes for others
            // unless the extra info did.
            if record.stream.extra_info != extra_info {
                record.stream.extra_info = extra_info.to_owned();
                let stream = record.stream.clone();
                emit.send(room, room_id, EventKind::StreamExtraInfo { stream });
            }
            return Ok(());
        }
        if room.streams.values().any(|r| r.session_id == sid && r.channel == channel) {
            return Err(ec::PUBLISHER_CHANNEL_BUSY);
        }
        let record = StreamRecord {
            stream: Stream { user, stream_id: stream_id.to_owned(), extra_info: extra_info.to_owned() },
            session_id: sid.to_owned(),
            channel,
            live: attached,
            create_time: unix_ms(),
        };
        room.streams.insert(stream_id.to_owned(), record.clone());
        self.stream_owner.insert(stream_id.to_owned(), (room_id.to_owned(), sid.to_owned()));
        emit.send(room, room_id, EventKind::StreamAdded { record });
        Ok(())
    }

    fn remove_stream(&mut self, emit: &mut Emit, room_id: &str, stream_id: &str, code: i32) {
        let Some(room) = self.rooms.get_mut(room_id) else { return };
        if let Some(record) = room.streams.remove(stream_id) {
            self.stream_owner.remove(stream_id);
            emit.send(room, room_id, EventKind::StreamRemoved { record, code });
        }
    }

    fn send_message(&mut self, emit: &mut Emit, req: SendRequest, now: Instant) -> Result<u64, i32> {
        let cfg = &self.cfg;
        let Some(room) = self.rooms.get_mut(&req.room_id) else { return Err(ec::MESSAGE_ROOM_NOT_JOINED) };
        let session = match &req.from_session {
            Some(sid) => match self.sessions.get_mut(sid).filter(|s| s.room_id == req.room_id) {
                Some(s) => Some(s),
                None => return Err(ec::MESSAGE_ROOM_NOT_JOINED),
            },
            None => None,
        };
        let mut session = session;
        let sends_key = session.as_deref().map(|s| s.sends_key.clone());
        if let (Some(key), Some(seq)) = (&sends_key, req.client_seq) {
            if let Some(&(_, code, id)) = self.client_sends.get(key).and_then(|(recent, _)| recent.iter().find(|(q, _, _)| *q == seq)) {
                return if code == 0 { Ok(id) } else { Err(code) };
            }
        }
        let verdict = match req.kind {
            MsgKind::Broadcast => match session.as_deref_mut() {
                Some(s) => {
                    while s.broadcast_times.front().is_some_and(|t| now.saturating_duration_since(*t) >= Duration::from_secs(1)) {
                        s.broadcast_times.pop_front();
                    }
                    if s.broadcast_times.len() >= cfg.broadcasts_per_sec {
                        Err(ec::MESSAGE_RATE_LIMITED)
                    } else {
                        s.broadcast_times.push_back(now);
                        Ok(())
                    }
                }
                None => Ok(()),
            },
            MsgKind::Barrage => {
                if now.saturating_duration_since(room.barrage_window.0) >= Duration::from_secs(1) {
                    room.barrage_window = (now, 0);
                }
                if room.barrage_window.1 >= cfg.barrages_per_sec {
                    Err(ec::MESSAGE_RATE_LIMITED)
                } else {
                    room.barrage_window.1 += 1;
                    Ok(())
                }
            }
            MsgKind::Command => Ok(()),
        };
        let result = verdict.map(|()| {
            room.last_msg_id += 1;
            let message = StoredMessage {
                kind: req.kind,
                wire: WireMessage { content: req.content, message_id: room.last_msg_id, send_time: unix_ms(), from_user: req.from_user },
                from_session: req.from_session.clone(),
                to: req.to,
            };
            if message.kind != MsgKind::Barrage {
                room.replay.push_back((now, message.clone()));
                while room.replay.len() > cfg.replay_max
                    || room.replay.front().is_some_and(|(at, _)| now.saturating_duration_since(*at) > cfg.replay_age)
                {
                    room.replay.pop_front();
                }
            }
            let id = room.last_msg_id;
            emit.send(room, &req.room_id, EventKind::Message { message });
            id
        });
        if let (Some(key), Some(seq)) = (sends_key, req.client_seq) {
            let (code, id) = match result {
                Ok(id) => (0, id),
                Err(c) => (c, 0),
            };
            let (recent, last) = self.client_sends.entry(key).or_insert_with(|| (VecDeque::new(), now));
            recent.push_back((seq, code, id));
            *last = now;
            if recent.len() > RECENT_SENDS {
                recent.pop_front();
            }
        }
        result
    }
}

impl RoomStore for MemoryStore {
    fn set_sink(&self, sink: Weak<dyn EventSink>) {
        let _ = self.sink.set(sink);
    }

    fn join(&self, req: JoinRequest, now: Instant) -> impl Future<Output = StoreResult<JoinOutcome>> + Send {
        ready(Ok(self.with(|i, e| i.join(e, req, now))))
    }

    fn resume(&self, room_id: &str, session_id: &str, user_id: &str, last_msg_id: u64, node_id: &str, now: Instant)
        -> impl Future<Output = StoreResult<ResumeOutcome>> + Send
    {
        ready(Ok(self.with(|i, e| i.resume(e, room_id, session_id, user_id, last_msg_id, node_id, now))))
    }

    fn detach(&self, room_id: &str, session_id: &str, _now: Instant) -> impl Future<Output = StoreResult<()>> + Send {
        self.with(|i, e| i.detach(e, room_id, session_id));
        ready(Ok(()))
    }

    fn refresh(&self, batch: Vec<Refresh>, _now: Instant) -> impl Future<Output = StoreResult<()>> + Send {
        let mut inner = self.inner.lock();
        let grace = inner.cfg.grace;
        for r in batch {
            if let Some(s) = inner.sessions.get_mut(&r.session_id).filter(|s| s.room_id == r.room_id) {
                s.deadline = s.deadline.max(r.last_rx + grace);
            }
        }
        ready(Ok(()))
    }

    fn reap(&self, now: Instant) -> impl Future<Output = StoreResult<()>> + Send {
        self.with(|i, e| i.reap(e, now));
        ready(Ok(()))
    }

    fn leave(&self, room_id: &str, session_id: &str, reason: LeaveReason, now: Instant) -> impl Future<Output = StoreResult<()>> + Send {
        self.with(|i, e| {
            if i.sessions.get(session_id).is_some_and(|s| s.room_id == room_id) {
                i.remove_session(e, session_id, reason, 0, "", false, now);
            }
        });
        ready(Ok(()))
    }

    fn kick(&self, room_id: &str, user_ids: &[String], code: i32, message: &str, now: Instant) -> impl Future<Output = StoreResult<()>> + Send {
        self.with(|i, e| i.kick(e, room_id, user_ids, code, message, now));
        ready(Ok(()))
    }

    fn close_room(&self, room_id: &str, message: &str, now: Instant) -> impl Future<Output = StoreResult<()>> + Send {
        self.with(|i, e| {
            let users: Vec<String> = i.rooms.get(room_id).map(|r| r.members.keys().cloned().collect()).unwrap_or_default();
            i.kick(e, room_id, &users, ec::MANUAL_KICKED_OUT, message, now);
        });
        ready(Ok(()))
    }

    fn publish(&self, room_id: &str, session_id: &str, channel: u8, stream_id: &str, extra_info: &str, _now: Instant)
        -> impl Future<Output = StoreResult<Result<(), i32>>> + Send
    {
        ready(Ok(self.with(|i, e| i.publish(e, room_id, session_id, channel, stream_id, extra_info))))
    }

    fn stop_publish(&self, room_id: &str, session_id: &str, stream_id: &str) -> impl Future<Output = StoreResult<()>> + Send {
        self.with(|i, e| {
            if i.stream_owner.get(stream_id).is_some_and(|(r, s)| r == room_id && s == session_id) {
                i.remove_stream(e, room_id, stream_id, delete_reason::STOPPED);
            }
        });
        ready(Ok(()))
    }

    fn set_stream_extra_info(&self, room_id: &str, session_id: &str, channel: u8, extra_info: &str)
        -> impl Future<Output = StoreResult<Result<(), i32>>> + Send
    {
        ready(Ok(self.with(|i, e| {
            let room = i.rooms.get_mut(room_id).ok_or(ec::PUBLISHER_NOT_PUBLISHING)?;
            let record =
                room.streams.values_mut().find(|r| r.session_id == session_id && r.channel == channel).ok_or(ec::PUBLISHER_NOT_PUBLISHING)?;
            if record.stream.extra_info != extra_info {
                record.stream.extra_info = extra_info.to_owned();
                let stream = record.stream.clone();
                e.send(room, room_id, EventKind::StreamExtraInfo { stream });
            }
            Ok(())
        })))
    }

    fn forbid_stream(&self, stream_id: &str, forbidden: bool) -> impl Future<Output = StoreResult<()>> + Send {
        self.with(|i, e| {
            if !forbidden {
                i.forbidden.remove(stream_id);
                return;
            }
            i.forbidden.insert(stream_id.to_owned());
            if let Some((room_id, _)) = i.stream_owner.get(stream_id).cloned() {
                log::info!("room {room_id}: stream {stream_id} forbidden by the admin API");
                i.remove_stream(e, &room_id, stream_id, delete_reason::FORBIDDEN);
            }
        });
        ready(Ok(()))
    }

    fn set_room_extra_info(&self, room_id: &str, session_id: &str, key: &str, value: &str)
        -> impl Future<Output = StoreResult<Result<u64, i32>>> + Send
    {
        ready(Ok(self.with(|i, e| {
            let user = i.sessions.get(session_id).filter(|s| s.room_id == room_id).map(|s| s.user.clone()).ok_or(ec::ROOM_ID_INCORRECT)?;
            let room = i.rooms.get_mut(room_id).ok_or(ec::ROOM_ID_INCORRECT)?;
            if room.extra_info.as_ref().is_some_and(|x| x.key != key) {
                return Err(ec::ROOM_EXTRA_INFO_EXCEED_KEYS);
            }
            let info = RoomExtraInfo { key: key.to_owned(), value: value.to_owned(), update_user: user, update_time: unix_ms() };
            room.extra_info = Some(info.clone());
            let time = info.update_time;
            e.send(room, room_id, EventKind::RoomExtraInfo { info, session_id: session_id.to_owned() });
            Ok(time)
        })))
    }

    fn send_message(&self, req: SendRequest, now: Instant) -> impl Future<Output = StoreResult<Result<u64, i32>>> + Send {
        ready(Ok(self.with(|i, e| i.send_message(e, req, now))))
    }

    fn relay_sei(&self, room_id: &str, stream_id: &str, frame: bytes::Bytes) -> impl Future<Output = StoreResult<()>> + Send {
        if let Some(s) = self.sink() {
            s.on_sei(room_id, stream_id, frame);
        }
        ready(Ok(()))
    }

    fn snapshot(&self, room_id: &str, now: Instant) -> impl Future<Output = StoreResult<Option<Snapshot>>> + Send {
        ready(Ok(self.inner.lock().snapshot(room_id, now)))
    }

    fn messages_after(&self, room_id: &str, after_id: u64, now: Instant) -> impl Future<Output = StoreResult<Vec<StoredMessage>>> + Send {
        let inner = self.inner.lock();
        let age = inner.cfg.replay_age;
        let list = inner
            .rooms
            .get(room_id)
            .map(|r| {
                r.replay
                    .iter()
                    .filter(|(at, m)| m.wire.message_id > after_id && now.saturating_duration_since(*at) <= age)
                    .map(|(_, m)| m.clone())
                    .collect()
            })
            .unwrap_or_default();
        ready(Ok(list))
    }

    fn subscribe(&self, _room_id: &str) -> impl Future<Output = StoreResult<()>> + Send {
        ready(Ok(()))
    }

    fn unsubscribe(&self, _room_id: &str) -> impl Future<Output = StoreResult<()>> + Send {
        ready(Ok(()))
    }

    fn rooms(&self, _now: Instant) -> impl Future<Output = StoreResult<Vec<RoomSummary>>> + Send {
        let inner = self.inner.lock();
        let mut list: Vec<RoomSummary> = inner
            .rooms
            .iter()
            .map(|(id, r)| RoomSummary { room_id: id.clone(), user_count: r.members.len() as u32, stream_count: r.streams.len() as u32 })
            .collect();
        list.sort_by(|a, b| a.room_id.cmp(&b.room_id));
        ready(Ok(list))
    }

    fn healthy(&self) -> bool {
        true
    }
}

