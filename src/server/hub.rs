//! Pure presence logic of the room server: rooms, sessions, grace periods, kicks.
//!
//! No sockets, no tasks, no clock reads: the async shell feeds it events with the current time and
//! executes the returned [`Out`]s. That keeps every presence rule (contract §1.2, the reconnect
//! FAQ's three scenarios) testable with virtual time.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::error_codes as ec;
use crate::protocol::{ClientMsg, ServerMsg, UserUpdateKind, PROTOCOL_VERSION};
use crate::token04;
use crate::types::User;

/// Connection id, chosen by the shell (unique for the server's life).
pub type ConnId = u64;

/// Something the shell must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// Send one message to one connection.
    Send(ConnId, ServerMsg),
    /// Send the same message to many connections (serialize once).
    Broadcast(Vec<ConnId>, ServerMsg),
    /// Close the connection (WebSocket close frame) after what was queued before.
    Close(ConnId),
}

/// How long the ids of kicked sessions are remembered, so a resume after a kick is refused.
pub const TOMBSTONE_TTL: Duration = Duration::from_secs(30 * 60);

pub const DUPLICATE_LOGIN_MESSAGE: &str = "same user_id logged in elsewhere";

#[derive(Debug, Clone)]
pub struct HubConfig {
    pub app_id: u32,
    /// 32-character secret; `None` = no token check.
    pub server_secret: Option<String>,
    /// Grace after the last received frame before a session is removed.
    pub heartbeat_timeout: Duration,
    /// Heartbeat interval announced to clients.
    pub ping_interval: Duration,
    /// Period of `user_count` updates.
    pub count_interval: Duration,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            app_id: 1,
            server_secret: None,
            heartbeat_timeout: Duration::from_secs(90),
            ping_interval: Duration::from_secs(10),
            count_interval: Duration::from_secs(30),
        }
    }
}

struct Session {
    room_id: String,
    user: User,
    notify: bool,
    conn: Option<ConnId>,
    last_rx: Instant,
    /// Unix expiry of the verified token (None when the server checks no tokens).
    token_expire: Option<i64>,
    /// Last count this session was told (LoginOk or UserCount).
    last_count: u32,
}

struct Room {
    room_session_id: String,
    /// 0 = unlimited; set by the login that opened the room.
    max_members: u32,
    /// user_id → session_id.
    members: HashMap<String, String>,
}

struct Tombstone {
    code: i32,
    message: String,
}

pub struct Hub {
    cfg: HubConfig,
    rooms: HashMap<String, Room>,
    sessions: HashMap<String, Session>,
    /// Attached connections → session id.
    conns: HashMap<ConnId, String>,
    tombstones: HashMap<String, Tombstone>,
    tombstone_order: VecDeque<(Instant, String)>,
    next_count_at: Option<Instant>,
}

fn random_id() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

fn valid_id(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max
}

impl Hub {
    pub fn new(cfg: HubConfig) -> Self {
        Hub {
            cfg,
            rooms: HashMap::new(),
            sessions: HashMap::new(),
            conns: HashMap::new(),
            tombstones: HashMap::new(),
            tombstone_order: VecDeque::new(),
            next_count_at: None,
        }
    }

    pub fn config(&self) -> &HubConfig {
        &self.cfg
    }

    /// Any frame from `conn`: dispatches logins and in-session messages.
    pub fn frame(&mut self, conn: ConnId, msg: ClientMsg, now: Instant, now_unix: i64) -> Vec<Out> {
        if let ClientMsg::Login { .. } = msg {
            return self.login(conn, msg, now, now_unix);
        }
        let Some(sid) = self.conns.get(&conn).cloned() else {
            return vec![
                Out::Send(conn, ServerMsg::Error { code: ec::INNER_ERROR, message: "login required first".into() }),
                Out::Close(conn),
            ];
        };
        let mut out = Vec::new();
        let Some(s) = self.sessions.get_mut(&sid) else {
            self.conns.remove(&conn);
            out.push(Out::Close(conn));
            return out;
        };
        s.last_rx = now;
        match msg {
            ClientMsg::Ping => out.push(Out::Send(conn, ServerMsg::Pong)),
            ClientMsg::Logout { .. } => {
                self.remove_session(&sid, &mut out);
                out.push(Out::Close(conn));
            }
            ClientMsg::RenewToken { token } => {
                let reply = match &self.cfg.server_secret {
                    None => ServerMsg::TokenRenewed { code: ec::SUCCESS, token_remaining_secs: None },
                    Some(secret) => {
                        match token04::check_login(&token, secret, self.cfg.app_id, &s.user.user_id, &s.room_id, now_unix) {
                            Ok(info) => {
                                s.token_expire = Some(info.expire);
                                ServerMsg::TokenRenewed { code: ec::SUCCESS, token_remaining_secs: Some(info.expire - now_unix) }
                            }
                            Err(code) => ServerMsg::TokenRenewed { code, token_remaining_secs: None },
                        }
                    }
                };
                out.push(Out::Send(conn, reply));
            }
            ClientMsg::Login { .. } => unreachable!("handled above"),
            _ => {}
        }
        out
    }

    /// A WebSocket-level sign of life (ping/pong control frame) on an attached connection.
    pub fn touch(&mut self, conn: ConnId, now: Instant) {
        if let Some(s) = self.conns.get(&conn).and_then(|sid| self.sessions.get_mut(sid)) {
            s.last_rx = now;
        }
    }

    /// The first frame of a connection. See the module docs and contract §1.2.
    pub fn login(&mut self, conn: ConnId, msg: ClientMsg, now: Instant, now_unix: i64) -> Vec<Out> {
        let ClientMsg::Login { v, app_id, room_id, user_id, user_name, token, max_member_count, user_status_notify, resume_session_id, .. } = msg
        else {
            return self.frame(conn, msg, now, now_unix);
        };
        let fail = |code: i32, message: &str| {
            vec![Out::Send(conn, ServerMsg::LoginFailed { code, message: message.into() }), Out::Close(conn)]
        };
        if self.conns.contains_key(&conn) {
            // A second login on an attached connection is a protocol violation: detach, close.
            self.closed(conn, now);
            return vec![
                Out::Send(conn, ServerMsg::Error { code: ec::INNER_ERROR, message: "already logged in".into() }),
                Out::Close(conn),
            ];
        }
        if v != PROTOCOL_VERSION {
            return fail(ec::INNER_ERROR, &format!("unsupported protocol version {v} (server speaks {PROTOCOL_VERSION})"));
        }
        if app_id != self.cfg.app_id {
            return fail(ec::AUTHENTICATION_FAILED, "app_id mismatch");
        }
        if !valid_id(&room_id, 127) || !valid_id(&user_id, 63) || user_name.len() > 255 {
            return fail(ec::ILLEGAL_PARAM, "invalid room_id, user_id or user_name");
        }
        let mut out = Vec::new();

        if let Some(rsid) = resume_session_id.as_deref() {
            if let Some(t) = self.tombstones.get(rsid) {
                return vec![Out::Send(conn, ServerMsg::Kicked { code: t.code, message: t.message.clone() }), Out::Close(conn)];
            }
            let matches = self.sessions.get(rsid).is_some_and(|s| s.room_id == room_id && s.user.user_id == user_id);
            if matches {
                let sid = rsid.to_owned();
                let s = self.sessions.get_mut(&sid).expect("checked above");
                if let Some(old) = s.conn.replace(conn) {
                    self.conns.remove(&old);
                    out.push(Out::Close(old));
                }
                s.last_rx = now;
                self.conns.insert(conn, sid.clone());
                out.push(Out::Send(conn, self.login_ok(&sid, true, now_unix)));
                return out;
            }
        }

        // Fresh login.
        let token_expire = match &self.cfg.server_secret {
            None => None,
            Some(secret) => match token04::check_login(&token, secret, self.cfg.app_id, &user_id, &room_id, now_unix) {
                Ok(info) => Some(info.expire),
                Err(code) => return fail(code, "authentication failed"),
            },
        };
        let user = User::new(user_id.clone(), if user_name.is_empty() { user_id.clone() } else { user_name });
        let previous = self.rooms.get(&room_id).and_then(|r| r.members.get(&user_id).cloned());
        if previous.is_none() {
            if let Some(r) = self.rooms.get(&room_id) {
                if r.max_members > 0 && r.members.len() as u32 >= r.max_members {
                    return fail(ec::ROOM_FULL, "room full");
                }
            }
        }
        let sid = random_id();
        if let Some(old_sid) = previous {
            // Same user from another engine: the old session is kicked, the user stays present.
            if let Some(old) = self.sessions.remove(&old_sid) {
                if let Some(c) = old.conn {
                    self.conns.remove(&c);
                    out.push(Out::Send(c, ServerMsg::Kicked { code: ec::KICKED_OUT_DUPLICATE_LOGIN, message: DUPLICATE_LOGIN_MESSAGE.into() }));
                    out.push(Out::Close(c));
                }
            }
            self.tombstone(old_sid, ec::KICKED_OUT_DUPLICATE_LOGIN, DUPLICATE_LOGIN_MESSAGE.into(), now);
        } else {
            let targets = self.notify_targets(&room_id, &user_id);
            if !targets.is_empty() {
                out.push(Out::Broadcast(targets, ServerMsg::UserUpdate { update: UserUpdateKind::Add, users: vec![user.clone()] }));
            }
        }
        let room = self.rooms.entry(room_id.clone()).or_insert_with(|| Room {
            room_session_id: random_id(),
            max_members: max_member_count,
            members: HashMap::new(),
        });
        room.members.insert(user_id, sid.clone());
        self.sessions.insert(
            sid.clone(),
            Session { room_id, user, notify: user_status_notify, conn: Some(conn), last_rx: now, token_expire, last_count: 0 },
        );
        self.conns.insert(conn, sid.clone());
        if self.next_count_at.is_none() {
            self.next_count_at = Some(now + self.cfg.count_interval);
        }
        out.push(Out::Send(conn, self.login_ok(&sid, false, now_unix)));
        out
    }

    fn login_ok(&mut self, sid: &str, resumed: bool, now_unix: i64) -> ServerMsg {
        let s = &self.sessions[sid];
        let room = &self.rooms[&s.room_id];
        let users = if s.notify { self.room_users(&s.room_id, Some(&s.user.user_id)) } else { Vec::new() };
        let count = room.members.len() as u32;
        let msg = ServerMsg::LoginOk {
            session_id: sid.to_owned(),
            room_session_id: room.room_session_id.clone(),
            resumed,
            users,
            user_count: count,
            ping_interval_ms: self.cfg.ping_interval.as_millis() as u64,
            token_remaining_secs: s.token_expire.map(|e| e - now_unix),
            grace_ms: self.cfg.heartbeat_timeout.as_millis() as u64,
            state_age_ms: u64::MAX,
            streams: Vec::new(),
            extra_info: Vec::new(),
            last_msg_id: 0,
        };
        if let Some(s) = self.sessions.get_mut(sid) {
            s.last_count = count;
        }
        msg
    }

    /// The connection dropped without a logout: the session stays present (grace), detached.
    pub fn closed(&mut self, conn: ConnId, _now: Instant) {
        if let Some(sid) = self.conns.remove(&conn) {
            if let Some(s) = self.sessions.get_mut(&sid) {
                if s.conn == Some(conn) {
                    s.conn = None;
                }
            }
        }
    }

    /// Heartbeat timeouts, periodic counts, tombstone expiry. Cheap enough to call every 100 ms.
    pub fn tick(&mut self, now: Instant) -> Vec<Out> {
        let mut out = Vec::new();
        let grace = self.cfg.heartbeat_timeout;
        let expired: Vec<String> =
            self.sessions.iter().filter(|(_, s)| now >= s.last_rx + grace).map(|(id, _)| id.clone()).collect();
        for sid in expired {
            let conn = self.sessions.get(&sid).and_then(|s| s.conn);
            self.remove_session(&sid, &mut out);
            if let Some(c) = conn {
                out.push(Out::Close(c));
            }
        }
        if self.next_count_at.is_some_and(|t| now >= t) {
            self.next_count_at = if self.sessions.is_empty() { None } else { Some(now + self.cfg.count_interval) };
            for room in self.rooms.values() {
                let count = room.members.len() as u32;
                let mut targets = Vec::new();
                for sid in room.members.values() {
                    if let Some(s) = self.sessions.get_mut(sid) {
                        if let (Some(c), true) = (s.conn, s.last_count != count) {
                            s.last_count = count;
                            targets.push(c);
                        }
                    }
                }
                if !targets.is_empty() {
                    out.push(Out::Broadcast(targets, ServerMsg::UserCount { count }));
                }
            }
        }
        while let Some((at, _)) = self.tombstone_order.front() {
            if now.saturating_duration_since(*at) < TOMBSTONE_TTL {
                break;
            }
            if let Some((_, id)) = self.tombstone_order.pop_front() {
                self.tombstones.remove(&id);
            }
        }
        out
    }

    /// Admin kick: each listed present user is told `Kicked{code, reason}`, closed, removed and
    /// tombstoned; others with notify see Delete.
    pub fn kickout(&mut self, room_id: &str, user_ids: &[&str], code: i32, reason: &str, now: Instant) -> Vec<Out> {
        let mut out = Vec::new();
        for uid in user_ids {
            let Some(sid) = self.rooms.get(room_id).and_then(|r| r.members.get(*uid)).cloned() else { continue };
            if let Some(c) = self.sessions.get(&sid).and_then(|s| s.conn) {
                out.push(Out::Send(c, ServerMsg::Kicked { code, message: reason.to_owned() }));
                out.push(Out::Close(c));
            }
            self.remove_session(&sid, &mut out);
            self.tombstone(sid, code, reason.to_owned(), now);
        }
        out
    }

    /// Members present in the room (attached or within grace).
    pub fn user_count(&self, room_id: &str) -> u32 {
        self.rooms.get(room_id).map_or(0, |r| r.members.len() as u32)
    }

    /// Members present in the room, sorted by user id.
    pub fn users(&self, room_id: &str) -> Vec<User> {
        self.room_users(room_id, None)
    }

    /// Connections currently attached (for graceful shutdown and tests).
    pub fn attached_conns(&self) -> Vec<ConnId> {
        self.conns.keys().copied().collect()
    }

    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Drop every session and return a Close for each attached connection (graceful shutdown).
    pub fn close_all(&mut self) -> Vec<Out> {
        let out = self.conns.keys().map(|c| Out::Close(*c)).collect();
        self.conns.clear();
        self.sessions.clear();
        self.rooms.clear();
        out
    }

    fn room_users(&self, room_id: &str, except: Option<&str>) -> Vec<User> {
        let Some(room) = self.rooms.get(room_id) else { return Vec::new() };
        let mut v: Vec<User> = room
            .members
            .iter()
            .filter(|(uid, _)| Some(uid.as_str()) != except)
            .filter_map(|(_, sid)| self.sessions.get(sid).map(|s| s.user.clone()))
            .collect();
        v.sort();
        v
    }

    /// Attached sessions with notify in the room, except `except_user`.
    fn notify_targets(&self, room_id: &str, except_user: &str) -> Vec<ConnId> {
        let Some(room) = self.rooms.get(room_id) else { return Vec::new() };
        room.members
            .iter()
            .filter(|(uid, _)| uid.as_str() != except_user)
            .filter_map(|(_, sid)| self.sessions.get(sid))
            .filter(|s| s.notify)
            .filter_map(|s| s.conn)
            .collect()
    }

    /// Removes a session (not its connection: callers decide about Close) and tells the others.
    fn remove_session(&mut self, sid: &str, out: &mut Vec<Out>) {
        let Some(s) = self.sessions.remove(sid) else { return };
        if let Some(c) = s.conn {
            self.conns.remove(&c);
        }
        let mut empty = false;
        if let Some(room) = self.rooms.get_mut(&s.room_id) {
            if room.members.get(&s.user.user_id).map(String::as_str) == Some(sid) {
                room.members.remove(&s.user.user_id);
            }
            empty = room.members.is_empty();
        }
        if empty {
            self.rooms.remove(&s.room_id);
        } else {
            let targets = self.notify_targets(&s.room_id, &s.user.user_id);
            if !targets.is_empty() {
                out.push(Out::Broadcast(targets, ServerMsg::UserUpdate { update: UserUpdateKind::Delete, users: vec![s.user] }));
            }
        }
    }

    fn tombstone(&mut self, sid: String, code: i32, message: String, now: Instant) {
        self.tombstones.insert(sid.clone(), Tombstone { code, message });
        self.tombstone_order.push_back((now, sid));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const UNIX: i64 = 1_700_000_000;

    fn hub() -> (Hub, Instant) {
        let cfg = HubConfig { count_interval: Duration::from_secs(30), ..HubConfig::default() };
        (Hub::new(cfg), Instant::now())
    }

    fn login_msg(room: &str, user: &str, notify: bool, resume: Option<&str>) -> ClientMsg {
        ClientMsg::Login {
            v: PROTOCOL_VERSION,
            app_id: 1,
            room_id: room.into(),
            user_id: user.into(),
            user_name: String::new(),
            token: String::new(),
            max_member_count: 0,
            user_status_notify: notify,
            client_id: format!("client-{user}"),
            resume_session_id: resume.map(Into::into),
            last_msg_id: 0,
        }
    }

    /// Messages sent to `conn` (direct or broadcast), in order.
    fn to(outs: &[Out], conn: ConnId) -> Vec<ServerMsg> {
        outs.iter()
            .filter_map(|o| match o {
                Out::Send(c, m) if *c == conn => Some(m.clone()),
                Out::Broadcast(cs, m) if cs.contains(&conn) => Some(m.clone()),
                _ => None,
            })
            .collect()
    }

    fn closed(outs: &[Out], conn: ConnId) -> bool {
        outs.contains(&Out::Close(conn))
    }

    fn session_id(outs: &[Out], conn: ConnId) -> String {
        match to(outs, conn).into_iter().find(|m| matches!(m, ServerMsg::LoginOk { .. })) {
            Some(ServerMsg::LoginOk { session_id, .. }) => session_id,
            other => panic!("no login_ok for {conn}: {other:?}"),
        }
    }

    fn add(u: &str) -> ServerMsg {
        ServerMsg::UserUpdate { update: UserUpdateKind::Add, users: vec![User::new(u, u)] }
    }
    fn del(u: &str) -> ServerMsg {
        ServerMsg::UserUpdate { update: UserUpdateKind::Delete, users: vec![User::new(u, u)] }
    }
    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn login_add_and_user_list() {
        let (mut h, t0) = hub();
        let o = h.login(1, login_msg("r", "a", true, None), t0, UNIX);
        match &to(&o, 1)[0] {
            ServerMsg::LoginOk { resumed, users, user_count, ping_interval_ms, token_remaining_secs, session_id, room_session_id, .. } => {
                assert!(!resumed);
                assert!(users.is_empty());
                assert_eq!((*user_count, *ping_interval_ms, *token_remaining_secs), (1, 10_000, None));
                assert_eq!(session_id.len(), 32);
                assert_eq!(room_session_id.len(), 32);
            }
            m => panic!("{m:?}"),
        }
        let o = h.login(2, login_msg("r", "b", true, None), t0, UNIX);
        assert_eq!(to(&o, 1), vec![add("b")]);
        match &to(&o, 2)[0] {
            ServerMsg::LoginOk { users, user_count, .. } => {
                assert_eq!(users, &vec![User::new("a", "a")]);
                assert_eq!(*user_count, 2);
            }
            m => panic!("{m:?}"),
        }
        // No notify: no updates, empty list.
        let o = h.login(3, login_msg("r", "c", false, None), t0, UNIX);
        assert_eq!(to(&o, 1), vec![add("c")]);
        assert!(matches!(&to(&o, 3)[0], ServerMsg::LoginOk { users, user_count: 3, .. } if users.is_empty()));
        let o = h.login(4, login_msg("r", "d", true, None), t0, UNIX);
        assert!(to(&o, 3).is_empty());
        assert_eq!(h.user_count("r"), 4);
        assert_eq!(h.users("r").len(), 4);
        assert_eq!(h.frame(1, ClientMsg::Ping, t0, UNIX), vec![Out::Send(1, ServerMsg::Pong)]);
    }

    #[test]
    fn resume_within_grace_is_invisible() {
        let (mut h, t0) = hub();
        h.login(1, login_msg("r", "a", true, None), t0, UNIX);
        let o = h.login(2, login_msg("r", "b", true, None), t0, UNIX);
        let sid = session_id(&o, 2);
        let rsid = match &to(&o, 2)[0] { ServerMsg::LoginOk { room_session_id, .. } => room_session_id.clone(), _ => unreachable!() };
        h.closed(2, t0 + secs(1));
        assert!(!to(&h.tick(t0 + secs(80)), 1).contains(&del("b")));
        // a keeps pinging
        h.frame(1, ClientMsg::Ping, t0 + secs(60), UNIX);
        let o = h.login(3, login_msg("r", "b", true, Some(&sid)), t0 + secs(85), UNIX);
        assert!(to(&o, 1).is_empty());
        match &to(&o, 3)[0] {
            ServerMsg::LoginOk { resumed: true, session_id, room_session_id, users, .. } => {
                assert_eq!(session_id, &sid);
                assert_eq!(room_session_id, &rsid);
                assert_eq!(users, &vec![User::new("a", "a")]);
            }
            m => panic!("{m:?}"),
        }
        // Grace counted from the resume now: nothing happens at t0+95.
        let o = h.tick(t0 + secs(95));
        assert!(to(&o, 1).is_empty(), "{o:?}");
        // Resume while the old conn is still attached: the old one is closed silently.
        let o = h.login(4, login_msg("r", "b", true, Some(&sid)), t0 + secs(96), UNIX);
        assert!(closed(&o, 3));
        assert!(to(&o, 3).is_empty());
        assert!(matches!(&to(&o, 4)[0], ServerMsg::LoginOk { resumed: true, .. }));
        assert_eq!(h.frame(3, ClientMsg::Ping, t0 + secs(97), UNIX)[1], Out::Close(3));
    }

    #[test]
    fn detached_past_grace_then_fresh_login() {
        let (mut h, t0) = hub();
        h.login(1, login_msg("r", "a", true, None), t0, UNIX);
        let o = h.login(2, login_msg("r", "b", true, None), t0, UNIX);
        let sid = session_id(&o, 2);
        h.frame(1, ClientMsg::Ping, t0 + secs(50), UNIX);
        h.frame(2, ClientMsg::Ping, t0 + secs(10), UNIX);
        h.closed(2, t0 + secs(11));
        assert!(!to(&h.tick(t0 + secs(99)), 1).contains(&del("b")));
        let o = h.tick(t0 + secs(100));
        assert_eq!(to(&o, 1), vec![del("b")]);
        assert_eq!(h.user_count("r"), 1);
        let o = h.login(3, login_msg("r", "b", true, Some(&sid)), t0 + secs(120), UNIX);
        assert_eq!(to(&o, 1), vec![add("b")]);
        assert!(matches!(&to(&o, 3)[0], ServerMsg::LoginOk { resumed: false, user_count: 2, .. }));
    }

    #[test]
    fn silent_attached_session_removed_at_grace() {
        let (mut h, t0) = hub();
        h.login(1, login_msg("r", "a", true, None), t0, UNIX);
        h.login(2, login_msg("r", "b", true, None), t0, UNIX);
        h.frame(1, ClientMsg::Ping, t0 + secs(85), UNIX);
        h.frame(2, ClientMsg::Ping, t0 + secs(5), UNIX);
        assert!(h.tick(t0 + secs(94)).iter().all(|o| !matches!(o, Out::Close(_))));
        let o = h.tick(t0 + secs(95));
        assert!(closed(&o, 2));
        assert_eq!(to(&o, 1), vec![del("b")]);
        // Last one leaves: room dropped, a new opening gets a new room_session_id.
        let o = h.tick(t0 + secs(200));
        assert!(closed(&o, 1));
        assert_eq!(h.user_count("r"), 0);
        assert!(h.rooms.is_empty());
    }

    #[test]
    fn duplicate_user_kicks_old_session() {
        let (mut h, t0) = hub();
        h.login(1, login_msg("r", "a", true, None), t0, UNIX);
        let o = h.login(2, login_msg("r", "b", true, None), t0, UNIX);
        let old = session_id(&o, 2);
        let o = h.login(3, login_msg("r", "b", true, None), t0 + secs(1), UNIX);
        assert_eq!(to(&o, 2), vec![ServerMsg::Kicked { code: 1_002_050, message: DUPLICATE_LOGIN_MESSAGE.into() }]);
        assert!(closed(&o, 2));
        assert!(to(&o, 1).is_empty(), "others see nothing");
        assert!(matches!(&to(&o, 3)[0], ServerMsg::LoginOk { user_count: 2, resumed: false, .. }));
        // The kicked session cannot be resumed.
        let o = h.login(4, login_msg("r", "b", true, Some(&old)), t0 + secs(2), UNIX);
        assert_eq!(to(&o, 4), vec![ServerMsg::Kicked { code: 1_002_050, message: DUPLICATE_LOGIN_MESSAGE.into() }]);
        assert!(closed(&o, 4));
        assert_eq!(h.user_count("r"), 2);
        // Tombstones expire after 30 minutes.
        h.tick(t0 + TOMBSTONE_TTL + secs(5));
        assert!(h.tombstones.is_empty());
    }

    #[test]
    fn room_full_uses_openers_limit() {
        let (mut h, t0) = hub();
        let mut m = login_msg("r", "a", true, None);
        if let ClientMsg::Login { max_member_count, .. } = &mut m {
            *max_member_count = 2;
        }
        h.login(1, m, t0, UNIX);
        h.login(2, login_msg("r", "b", true, None), t0, UNIX);
        h.closed(2, t0); // detached but within grace: still counts
        let o = h.login(3, login_msg("r", "c", true, None), t0, UNIX);
        assert_eq!(to(&o, 3), vec![ServerMsg::LoginFailed { code: 1_002_034, message: "room full".into() }]);
        assert!(closed(&o, 3));
        assert!(to(&o, 1).is_empty());
        // Same user replacing itself is not a new member.
        let o = h.login(4, login_msg("r", "b", true, None), t0, UNIX);
        assert!(matches!(&to(&o, 4)[0], ServerMsg::LoginOk { .. }));
        // A later login with a larger limit does not change the room's limit.
        let o = h.login(5, login_msg("r", "d", true, None), t0, UNIX);
        assert!(matches!(&to(&o, 5)[0], ServerMsg::LoginFailed { code: 1_002_034, .. }));
    }

    #[test]
    fn token_checks() {
        let cfg = HubConfig { server_secret: Some(SECRET.into()), ..HubConfig::default() };
        let mut h = Hub::new(cfg);
        let t0 = Instant::now();
        let fail = |o: &[Out], c| to(o, c) == vec![ServerMsg::LoginFailed { code: 1_002_033, message: "authentication failed".into() }] && closed(o, c);
        let o = h.login(1, login_msg("r", "a", true, None), t0, UNIX);
        assert!(fail(&o, 1), "empty token");
        let with_token = |tok: String| {
            let mut m = login_msg("r", "a", true, None);
            if let ClientMsg::Login { token, .. } = &mut m {
                *token = tok;
            }
            m
        };
        let other_user = token04::generate_at(1, "b", SECRET, 3600, "", UNIX).unwrap();
        assert!(fail(&h.login(2, with_token(other_user), t0, UNIX), 2));
        let other_app = token04::generate_at(2, "a", SECRET, 3600, "", UNIX).unwrap();
        assert!(fail(&h.login(3, with_token(other_app), t0, UNIX), 3));
        let expired = token04::generate_at(1, "a", SECRET, 10, "", UNIX - 20).unwrap();
        assert!(fail(&h.login(4, with_token(expired), t0, UNIX), 4));
        let forged = token04::generate_at(1, "a", "ffffffffffffffffffffffffffffffff", 3600, "", UNIX).unwrap();
        assert!(fail(&h.login(5, with_token(forged), t0, UNIX), 5));
        let other_room = token04::generate_at(1, "a", SECRET, 3600, r#"{"room_id":"x","privilege":{"1":1,"2":1}}"#, UNIX).unwrap();
        assert!(fail(&h.login(6, with_token(other_room), t0, UNIX), 6));
        let good = token04::generate_at(1, "a", SECRET, 3600, "", UNIX).unwrap();
        let o = h.login(7, with_token(good), t0, UNIX + 100);
        assert!(matches!(&to(&o, 7)[0], ServerMsg::LoginOk { token_remaining_secs: Some(3500), .. }));
        // Renew: good and bad.
        let renewed = token04::generate_at(1, "a", SECRET, 7200, "", UNIX + 100).unwrap();
        let o = h.frame(7, ClientMsg::RenewToken { token: renewed }, t0, UNIX + 100);
        assert_eq!(to(&o, 7), vec![ServerMsg::TokenRenewed { code: 0, token_remaining_secs: Some(7200) }]);
        let o = h.frame(7, ClientMsg::RenewToken { token: "04garbage".into() }, t0, UNIX + 100);
        assert_eq!(to(&o, 7), vec![ServerMsg::TokenRenewed { code: 1_002_033, token_remaining_secs: None }]);
        assert_eq!(h.user_count("r"), 1);
        // No secret: renew always succeeds without a remaining time.
        let (mut h2, t0) = hub();
        h2.login(1, login_msg("r", "a", true, None), t0, UNIX);
        let o = h2.frame(1, ClientMsg::RenewToken { token: String::new() }, t0, UNIX);
        assert_eq!(to(&o, 1), vec![ServerMsg::TokenRenewed { code: 0, token_remaining_secs: None }]);
        // Wrong app id without a secret still fails.
        let mut m = login_msg("r", "z", true, None);
        if let ClientMsg::Login { app_id, .. } = &mut m {
            *app_id = 9;
        }
        assert!(matches!(&to(&h2.login(2, m, t0, UNIX), 2)[0], ServerMsg::LoginFailed { code: 1_002_033, .. }));
    }

    #[test]
    fn admin_kick_and_tombstone() {
        let (mut h, t0) = hub();
        h.login(1, login_msg("r", "a", true, None), t0, UNIX);
        let o = h.login(2, login_msg("r", "b", true, None), t0, UNIX);
        let sid = session_id(&o, 2);
        h.login(3, login_msg("r", "c", true, None), t0, UNIX);
        h.closed(3, t0);
        let o = h.kickout("r", &["b", "c", "nobody"], 1_002_055, "bye", t0);
        assert_eq!(to(&o, 2), vec![ServerMsg::Kicked { code: 1_002_055, message: "bye".into() }]);
        assert!(closed(&o, 2));
        assert_eq!(to(&o, 1), vec![del("b"), del("c")]);
        assert_eq!(h.user_count("r"), 1);
        let o = h.login(4, login_msg("r", "b", true, Some(&sid)), t0, UNIX);
        assert_eq!(to(&o, 4), vec![ServerMsg::Kicked { code: 1_002_055, message: "bye".into() }]);
        // A fresh login (no resume id) is allowed again.
        let o = h.login(5, login_msg("r", "b", true, None), t0, UNIX);
        assert_eq!(to(&o, 1), vec![add("b")]);
        assert!(h.kickout("nope", &["a"], 1_002_055, "", t0).is_empty());
    }

    #[test]
    fn logout_is_immediate() {
        let (mut h, t0) = hub();
        h.login(1, login_msg("r", "a", true, None), t0, UNIX);
        h.login(2, login_msg("r", "b", true, None), t0, UNIX);
        let o = h.frame(2, ClientMsg::Logout { destroyed: false }, t0, UNIX);
        assert_eq!(to(&o, 1), vec![del("b")]);
        assert!(closed(&o, 2));
        assert_eq!(h.user_count("r"), 1);
        h.closed(2, t0);
        assert!(h.tick(t0 + secs(1)).is_empty());
    }

    #[test]
    fn counts_only_when_changed() {
        let (mut h, t0) = hub();
        h.login(1, login_msg("r", "a", false, None), t0, UNIX);
        h.login(2, login_msg("r", "b", false, None), t0 + secs(1), UNIX);
        let ping_all = |h: &mut Hub, t| {
            h.frame(1, ClientMsg::Ping, t, UNIX);
            h.frame(2, ClientMsg::Ping, t, UNIX);
        };
        ping_all(&mut h, t0 + secs(29));
        // a learned 1 at login, b learned 2: only a is told at the first count tick.
        let o = h.tick(t0 + secs(30));
        assert_eq!(to(&o, 1), vec![ServerMsg::UserCount { count: 2 }]);
        assert!(to(&o, 2).is_empty());
        ping_all(&mut h, t0 + secs(59));
        assert!(h.tick(t0 + secs(60)).is_empty());
        h.frame(2, ClientMsg::Logout { destroyed: false }, t0 + secs(61), UNIX);
        assert!(h.tick(t0 + secs(62)).is_empty(), "not before the interval");
        h.frame(1, ClientMsg::Ping, t0 + secs(89), UNIX);
        assert_eq!(to(&h.tick(t0 + secs(90)), 1), vec![ServerMsg::UserCount { count: 1 }]);
    }

    #[test]
    fn protocol_violations() {
        let (mut h, t0) = hub();
        let mut m = login_msg("r", "a", true, None);
        if let ClientMsg::Login { v, .. } = &mut m {
            *v = 99;
        }
        let o = h.login(1, m, t0, UNIX);
        assert!(matches!(&to(&o, 1)[0], ServerMsg::LoginFailed { code: 1_002_099, .. }));
        assert!(closed(&o, 1));
        let o = h.frame(2, ClientMsg::Ping, t0, UNIX);
        assert!(matches!(&to(&o, 2)[0], ServerMsg::Error { code: 1_002_099, .. }) && closed(&o, 2));
        h.login(3, login_msg("r", "a", true, None), t0, UNIX);
        let o = h.login(3, login_msg("r", "a", true, None), t0, UNIX);
        assert!(matches!(&to(&o, 3)[0], ServerMsg::Error { code: 1_002_099, .. }) && closed(&o, 3));
        assert_eq!(h.user_count("r"), 1, "session stays within grace");
        let o = h.login(4, login_msg("", "a", true, None), t0, UNIX);
        assert!(matches!(&to(&o, 4)[0], ServerMsg::LoginFailed { code: 1_000_017, .. }));
    }

    #[test]
    fn many_sessions_tick_is_cheap() {
        let (mut h, t0) = hub();
        for i in 0..20_000u64 {
            h.login(i, login_msg(&format!("r{}", i % 100), &format!("u{i}"), false, None), t0, UNIX);
        }
        let start = Instant::now();
        for k in 0..10 {
            h.tick(t0 + Duration::from_millis(100 * k));
        }
        assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
        assert_eq!(h.session_count(), 20_000);
    }
}
