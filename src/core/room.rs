//! One room's state machine: login, heartbeats, loss detection, retries within the window,
//! resume, member diffs, token warnings, kicks and logout.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::{empty_json, ConnId, Ctx, Timings};
use crate::error_codes::*;
use crate::events::{Event, Seq};
use crate::protocol::{ClientMsg, ServerMsg, UserUpdateKind, PROTOCOL_VERSION};
use crate::types::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// First login under way (Logining), retrying if the server cannot be reached.
    Joining,
    /// Logined or Reconnected: the connection is up.
    Joined,
    /// Reconnecting after a loss.
    Rejoining,
    /// LoginFailed, ReconnectFailed or KickOut: no more attempts until a new login.
    Ended,
}

#[derive(Debug, Clone, Copy)]
enum Link {
    /// No connection; the next attempt starts at `retry_at`.
    Waiting { retry_at: Instant },
    /// Connecting and logging in; abandoned at `deadline`.
    Opening { conn: ConnId, deadline: Instant },
    Up { conn: ConnId, next_ping: Instant },
    None,
}

impl Link {
    fn conn(&self) -> Option<ConnId> {
        match *self {
            Link::Opening { conn, .. } | Link::Up { conn, .. } => Some(conn),
            _ => None,
        }
    }
}

pub(crate) struct Room {
    pub id: String,
    pub user: User,
    pub config: RoomConfig,
    pub phase: Phase,
    link: Link,
    /// Retrying stops here (login time or loss time + `room_retry_time`).
    window_end: Option<Instant>,
    attempt: u32,
    session_id: Option<String>,
    ping_interval: Duration,
    last_rx: Instant,
    /// Other users as last reported to the app, by user_id.
    members: BTreeMap<String, User>,
    last_count: Option<i32>,
    /// `login_room`'s seq until the login settles.
    login_seq: Option<Seq>,
    legacy: RoomState,
    token_expires: Option<Instant>,
    token_warned: bool,
    /// A connect failure worth a warning (TLS) was logged for this login already.
    connect_failure_logged: bool,
}

impl Room {
    pub fn new(id: String, user: User, config: RoomConfig, login_seq: Option<Seq>, now: Instant, timings: &Timings) -> Room {
        Room {
            id,
            user,
            config,
            phase: Phase::Joining,
            link: Link::None,
            window_end: None,
            attempt: 0,
            session_id: None,
            ping_interval: timings.default_ping_interval,
            last_rx: now,
            members: BTreeMap::new(),
            last_count: None,
            login_seq,
            legacy: RoomState::Disconnected,
            token_expires: None,
            token_warned: false,
            connect_failure_logged: false,
        }
    }

    pub fn is_active(&self) -> bool {
        self.phase != Phase::Ended
    }

    fn change(&mut self, ctx: &mut Ctx, reason: RoomStateChangedReason, error_code: i32, extended_data: String) {
        ctx.event(Event::RoomStateChanged { reason, error_code, extended_data: extended_data.clone(), room_id: self.id.clone() });
        if let Some(state) = reason.legacy_state() {
            if state != self.legacy {
                self.legacy = state;
                ctx.event(Event::RoomStateUpdate { state, error_code, extended_data, room_id: self.id.clone() });
            }
        }
    }

    fn settle_login(&mut self, ctx: &mut Ctx, error_code: i32, extended_data: String) {
        if let Some(seq) = self.login_seq.take() {
            ctx.event(Event::RoomLoginResult { error_code, extended_data, room_id: self.id.clone(), seq });
        }
    }

    /// Logs `reason` (a TLS failure) once per login of this room; later attempts fail silently.
    pub fn note_connect_failure(&mut self, reason: &str) {
        if !self.connect_failure_logged {
            self.connect_failure_logged = true;
            log::warn!("room {}: {reason}; retrying within room_retry_time (logged once per room)", self.id);
        }
    }

    /// `login_room` / switch target: Logining, then the first attempt at once.
    pub fn start(&mut self, ctx: &mut Ctx, now: Instant) {
        self.change(ctx, RoomStateChangedReason::Logining, 0, empty_json());
        self.window_end = Some(now + ctx.timings.retry_window);
        self.attempt(ctx, now);
    }

    fn attempt(&mut self, ctx: &mut Ctx, now: Instant) {
        let conn = ctx.open(&self.id);
        self.link = Link::Opening { conn, deadline: now + ctx.timings.attempt_timeout };
    }

    fn schedule_retry(&mut self, ctx: &mut Ctx, now: Instant) {
        let delay = ctx.timings.backoff.delay(self.attempt, ctx.rng.f64());
        self.attempt = self.attempt.saturating_add(1);
        self.link = Link::Waiting { retry_at: now + delay };
        log::debug!("room {}: retry #{} in {:?}", self.id, self.attempt, delay);
    }

    fn drop_link(&mut self, ctx: &mut Ctx) {
        if let Some(conn) = self.link.conn() {
            ctx.close(conn);
        }
        self.link = Link::None;
    }

    /// Terminal end (LoginFailed, ReconnectFailed or KickOut): no further attempt or event.
    fn end(&mut self, ctx: &mut Ctx, reason: RoomStateChangedReason, error_code: i32, extended_data: String) {
        self.drop_link(ctx);
        self.phase = Phase::Ended;
        self.window_end = None;
        self.token_expires = None;
        self.change(ctx, reason, error_code, extended_data);
        self.settle_login(ctx, error_code, empty_json());
    }

    fn fail(&mut self, ctx: &mut Ctx, error_code: i32) {
        let reason = if self.phase == Phase::Joining {
            RoomStateChangedReason::LoginFailed
        } else {
            RoomStateChangedReason::ReconnectFailed
        };
        log::info!("room {}: {:?} ({})", self.id, reason, error_code);
        self.end(ctx, reason, error_code, empty_json());
    }

    /// The connection that carried the session is gone: Reconnecting, then retries.
    fn lose(&mut self, ctx: &mut Ctx, now: Instant) {
        self.drop_link(ctx);
        match self.phase {
            Phase::Joined => {
                log::info!("room {}: connection lost, reconnecting", self.id);
                self.phase = Phase::Rejoining;
                self.window_end = Some(now + ctx.timings.retry_window);
                self.attempt = 0;
                self.change(ctx, RoomStateChangedReason::Reconnecting, CONNECT_TEMPORARY_BROKEN, empty_json());
                self.schedule_retry(ctx, now);
            }
            Phase::Joining | Phase::Rejoining => self.schedule_retry(ctx, now),
            Phase::Ended => {}
        }
    }

    /// Logout (or the source room of a switch): tell the server, emit Logout.
    pub fn leave(&mut self, ctx: &mut Ctx) {
        self.hang_up(ctx);
        self.settle_login(ctx, DISCONNECT, empty_json());
        self.change(ctx, RoomStateChangedReason::Logout, 0, empty_json());
    }

    /// Close the connection, saying goodbye if the session is up, without any event.
    pub fn hang_up(&mut self, ctx: &mut Ctx) {
        if let Link::Up { conn, .. } = self.link {
            ctx.send(conn, ClientMsg::Logout);
        }
        self.drop_link(ctx);
        self.phase = Phase::Ended;
    }

    pub fn renew_token(&mut self, ctx: &mut Ctx, token: &str, _now: Instant) {
        self.config.token = token.to_owned();
        self.token_warned = false;
        self.token_expires = None;
        if let Link::Up { conn, .. } = self.link {
            ctx.send(conn, ClientMsg::RenewToken { token: token.to_owned() });
        }
    }

    pub fn on_connected(&mut self, ctx: &mut Ctx, conn: ConnId, _now: Instant) {
        if !matches!(self.link, Link::Opening { conn: c, .. } if c == conn) {
            return;
        }
        let login = ClientMsg::Login {
            v: PROTOCOL_VERSION,
            app_id: ctx.app_id,
            room_id: self.id.clone(),
            user_id: self.user.user_id.clone(),
            user_name: self.user.user_name.clone(),
            token: self.config.token.clone(),
            max_member_count: self.config.max_member_count,
            user_status_notify: self.config.is_user_status_notify,
            resume_session_id: self.session_id.clone(),
        };
        ctx.send(conn, login);
    }

    pub fn on_disconnected(&mut self, ctx: &mut Ctx, conn: ConnId, now: Instant) {
        if self.link.conn() != Some(conn) {
            return;
        }
        self.link = Link::None; // already closed: nothing to close
        self.lose(ctx, now);
    }

    pub fn on_frame(&mut self, ctx: &mut Ctx, conn: ConnId, msg: ServerMsg, now: Instant) {
        if self.link.conn() != Some(conn) {
            return;
        }
        self.last_rx = now;
        match msg {
            ServerMsg::LoginOk { session_id, room_session_id, users, user_count, ping_interval_ms, token_remaining_secs, resumed } => {
                if !matches!(self.link, Link::Opening { .. }) {
                    return self.protocol_error(ctx, now, "login_ok on a logged-in connection");
                }
                log::info!("room {}: logged in (resumed session: {resumed})", self.id);
                self.ping_interval = Duration::from_millis(ping_interval_ms.clamp(100, 3_600_000));
                self.link = Link::Up { conn, next_ping: now + self.ping_interval };
                self.session_id = Some(session_id);
                self.attempt = 0;
                self.window_end = None;
                if let Some(secs) = token_remaining_secs {
                    self.token_expires = Some(now + Duration::from_secs(secs.max(0) as u64));
                }
                let extended = serde_json::json!({ "room_session_id": room_session_id }).to_string();
                let first = self.phase == Phase::Joining;
                self.phase = Phase::Joined;
                if first {
                    self.change(ctx, RoomStateChangedReason::Logined, 0, extended.clone());
                    self.settle_login(ctx, 0, extended);
                } else {
                    self.change(ctx, RoomStateChangedReason::Reconnected, 0, extended);
                }
                self.apply_member_snapshot(ctx, users);
                let count = user_count.min(i32::MAX as u32) as i32;
                if first || self.last_count != Some(count) {
                    self.report_count(ctx, count);
                }
                self.check_token(ctx, now);
            }
            ServerMsg::LoginFailed { code, message } => {
                log::warn!("room {}: login refused: {code} {message}", self.id);
                self.fail(ctx, code);
            }
            ServerMsg::Kicked { code, message } => {
                log::info!("room {}: kicked out: {code} {message}", self.id);
                let extended = serde_json::json!({ "custom_kickout_message": message }).to_string();
                self.end(ctx, RoomStateChangedReason::KickOut, code, extended);
            }
            ServerMsg::Pong => {}
            ServerMsg::UserUpdate { update, users } => {
                if matches!(self.link, Link::Up { .. }) && self.config.is_user_status_notify {
                    self.apply_member_update(ctx, update, users);
                }
            }
            ServerMsg::UserCount { count } => {
                let count = count.min(i32::MAX as u32) as i32;
                if self.last_count != Some(count) {
                    self.report_count(ctx, count);
                }
            }
            ServerMsg::TokenRenewed { code, token_remaining_secs } => {
                if code == 0 {
                    self.token_warned = false;
                    self.token_expires = token_remaining_secs.map(|s| now + Duration::from_secs(s.max(0) as u64));
                    self.check_token(ctx, now);
                } else {
                    log::warn!("room {}: renewed token refused by the server ({code})", self.id);
                }
            }
            ServerMsg::Error { code, message } => self.protocol_error(ctx, now, &format!("server error {code}: {message}")),
        }
    }

    fn protocol_error(&mut self, ctx: &mut Ctx, now: Instant, what: &str) {
        log::warn!("room {}: {what}; dropping the connection", self.id);
        self.lose(ctx, now);
    }

    fn report_count(&mut self, ctx: &mut Ctx, count: i32) {
        self.last_count = Some(count);
        ctx.event(Event::RoomOnlineUserCountUpdate { count, room_id: self.id.clone() });
    }

    /// After (re)login: the difference between what the app was told and who is there now.
    fn apply_member_snapshot(&mut self, ctx: &mut Ctx, users: Vec<User>) {
        if !self.config.is_user_status_notify {
            return;
        }
        let now: BTreeMap<String, User> =
            users.into_iter().filter(|u| u.user_id != self.user.user_id).map(|u| (u.user_id.clone(), u)).collect();
        let gone: Vec<User> = self.members.iter().filter(|(id, _)| !now.contains_key(*id)).map(|(_, u)| u.clone()).collect();
        let came: Vec<User> = now.iter().filter(|(id, _)| !self.members.contains_key(*id)).map(|(_, u)| u.clone()).collect();
        self.members = now;
        self.report_users(ctx, UpdateType::Delete, gone);
        self.report_users(ctx, UpdateType::Add, came);
    }

    fn apply_member_update(&mut self, ctx: &mut Ctx, kind: UserUpdateKind, users: Vec<User>) {
        let mut changed = Vec::new();
        for u in users.into_iter().filter(|u| u.user_id != self.user.user_id) {
            let fresh = match kind {
                UserUpdateKind::Add => self.members.insert(u.user_id.clone(), u.clone()).is_none(),
                UserUpdateKind::Delete => self.members.remove(&u.user_id).is_some(),
            };
            if fresh {
                changed.push(u);
            }
        }
        let kind = match kind {
            UserUpdateKind::Add => UpdateType::Add,
            UserUpdateKind::Delete => UpdateType::Delete,
        };
        self.report_users(ctx, kind, changed);
    }

    fn report_users(&self, ctx: &mut Ctx, update_type: UpdateType, users: Vec<User>) {
        if !users.is_empty() {
            ctx.event(Event::RoomUserUpdate { update_type, users, room_id: self.id.clone() });
        }
    }

    fn check_token(&mut self, ctx: &mut Ctx, now: Instant) {
        let Some(expires) = self.token_expires else { return };
        if self.token_warned || now + ctx.timings.token_warning < expires {
            return;
        }
        self.token_warned = true;
        let remain = expires.saturating_duration_since(now).as_secs_f64().round() as i32;
        ctx.event(Event::RoomTokenWillExpire { remain_time_in_second: remain, room_id: self.id.clone() });
    }

    pub fn on_timeout(&mut self, ctx: &mut Ctx, now: Instant) {
        if self.phase == Phase::Ended {
            return;
        }
        if matches!(self.window_end, Some(end) if now >= end) {
            return self.fail(ctx, RETRY_TIMEOUT);
        }
        match self.link {
            Link::Waiting { retry_at } if now >= retry_at => self.attempt(ctx, now),
            Link::Opening { deadline, .. } if now >= deadline => {
                log::debug!("room {}: attempt timed out", self.id);
                self.drop_link(ctx);
                self.schedule_retry(ctx, now);
            }
            Link::Up { conn, next_ping } => {
                if now >= self.silence_deadline(&ctx.timings) {
                    log::info!("room {}: no frame from the server for {:?}", self.id, now - self.last_rx);
                    self.lose(ctx, now);
                } else if now >= next_ping {
                    ctx.send(conn, ClientMsg::Ping);
                    self.link = Link::Up { conn, next_ping: now + self.ping_interval };
                }
            }
            _ => {}
        }
        self.check_token(ctx, now);
    }

    fn silence_deadline(&self, timings: &Timings) -> Instant {
        self.last_rx + self.ping_interval * timings.missed_pings
    }

    pub fn next_deadline(&self, timings: &Timings) -> Option<Instant> {
        if self.phase == Phase::Ended {
            return None;
        }
        let link = match self.link {
            Link::Waiting { retry_at } => Some(retry_at),
            Link::Opening { deadline, .. } => Some(deadline),
            Link::Up { next_ping, .. } => Some(next_ping.min(self.silence_deadline(timings))),
            Link::None => None,
        };
        let token = match self.token_expires {
            Some(e) if !self.token_warned => Some(e.checked_sub(timings.token_warning).unwrap_or(e)),
            _ => None,
        };
        [link, token, self.window_end].into_iter().flatten().min()
    }
}
