//! One room's state machine: login, heartbeats, loss detection, retries within the window,
//! resume, what the app was told about the room ([`RoomView`]), requests waiting for answers
//! ([`Outbox`]), received messages, token warnings, kicks and logout. Publishers and players follow
//! the room through [`Signal`]s (see `streams.rs`).

use std::time::{Duration, Instant};

use super::outbox::{result_event, Outbox, Request};
use super::view::{RoomView, Snapshot};
use super::{empty_json, ConnId, Ctx, Signal, Timings};
use crate::error_codes::*;
use crate::events::{Event, Seq};
use crate::protocol::{ClientMsg, MsgKind, ServerMsg, WireMessage, PROTOCOL_VERSION};
use crate::types::*;

/// Messages per receive callback (contract §7.1: 1–50).
const MAX_MESSAGES_PER_EVENT: usize = 50;

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
    /// Connection attempts made for this room: the next one uses the server URL at this index
    /// (modulo the list's length), so each attempt moves to the next server (contract §8).
    attempts_made: usize,
    session_id: Option<String>,
    ping_interval: Duration,
    last_rx: Instant,
    /// Users, streams and extra info as last reported to the app.
    pub view: RoomView,
    /// Requests waiting for the server's answer.
    pub outbox: Outbox,
    /// The newest message id received (or the room's newest at a fresh login): later ones are new.
    last_msg_id: u64,
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
            attempts_made: 0,
            session_id: None,
            ping_interval: timings.default_ping_interval,
            last_rx: now,
            view: RoomView::default(),
            outbox: Outbox::default(),
            last_msg_id: 0,
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

    /// The connection, if the session is up on it (Logined/Reconnected).
    pub fn up_conn(&self) -> Option<ConnId> {
        match self.link {
            Link::Up { conn, .. } => Some(conn),
            _ => None,
        }
    }

    /// Queue a request for the server (sent now if connected, else after the next login).
    pub fn request(&mut self, ctx: &mut Ctx, seq: Seq, request: Request, msg: ClientMsg) {
        let conn = self.up_conn();
        self.outbox.push(ctx, conn, seq, request, msg);
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
        let conn = ctx.open(&self.id, self.attempts_made);
        self.attempts_made = self.attempts_made.wrapping_add(1);
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
        ctx.signals.push(Signal::Ended { room_id: self.id.clone(), reason, code: error_code });
        self.outbox.fail_all(ctx, &self.id);
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
                ctx.signals.push(Signal::Lost { room_id: self.id.clone() });
                self.schedule_retry(ctx, now);
            }
            Phase::Joining | Phase::Rejoining => self.schedule_retry(ctx, now),
            Phase::Ended => {}
        }
    }

    /// Logout (or the source room of a switch): tell the server, emit Logout.
    pub fn leave(&mut self, ctx: &mut Ctx) {
        self.hang_up(ctx, false);
        self.settle_login(ctx, DISCONNECT, empty_json());
        self.change(ctx, RoomStateChangedReason::Logout, 0, empty_json());
        ctx.signals.push(Signal::Left { room_id: self.id.clone() });
        self.outbox.fail_all(ctx, &self.id);
    }

    /// Close the connection, saying goodbye if the session is up, without any event.
    /// `destroyed`: the engine is going away without a logout (streams end with reason 5).
    pub fn hang_up(&mut self, ctx: &mut Ctx, destroyed: bool) {
        if let Link::Up { conn, .. } = self.link {
            ctx.send(conn, ClientMsg::Logout { destroyed });
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
            client_id: ctx.client_id.clone(),
            resume_session_id: self.session_id.clone(),
            last_msg_id: self.last_msg_id,
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
            ServerMsg::LoginOk {
                session_id,
                room_session_id,
                users,
                user_count,
                ping_interval_ms,
                token_remaining_secs,
                resumed,
                grace_ms,
                state_age_ms,
                streams,
                extra_info,
                last_msg_id,
            } => {
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
                if !resumed {
                    // A new session: only messages after this point are ours.
                    self.last_msg_id = last_msg_id;
                }
                // The server lost its state (restarted) less than a grace ago: whoever is missing
                // from its snapshot may still be on the way back (contract §1.7).
                let hold_until = (!first && !resumed && state_age_ms < grace_ms)
                    .then(|| now + Duration::from_millis(grace_ms - state_age_ms));
                let me = self.user.user_id.clone();
                let (own, others): (Vec<Stream>, Vec<Stream>) = streams.into_iter().partition(|s| s.user.user_id == me);
                self.phase = Phase::Joined;
                if first {
                    self.change(ctx, RoomStateChangedReason::Logined, 0, extended.clone());
                    self.settle_login(ctx, 0, extended);
                } else {
                    self.change(ctx, RoomStateChangedReason::Reconnected, 0, extended);
                }
                let snapshot = Snapshot {
                    users: self.config.is_user_status_notify.then(|| users.into_iter().filter(|u| u.user_id != me).collect()),
                    streams: others,
                    extra_info,
                    hold_until,
                };
                self.view.apply_snapshot(ctx, &self.id, snapshot, now);
                let count = user_count.min(i32::MAX as u32) as i32;
                if first || self.last_count != Some(count) {
                    self.report_count(ctx, count);
                }
                self.check_token(ctx, now);
                let own_streams = own.into_iter().map(|s| s.stream_id).collect();
                ctx.signals.push(Signal::Up { room_id: self.id.clone(), conn, own_streams });
            }
            ServerMsg::LoginFailed { code, message } => {
                log::warn!("room {}: login refused: {code} {message}", self.id);
                self.fail(ctx, code);
            }
            ServerMsg::LoginRetry { code, message } => {
                // The server could not decide (its room store is down): another attempt, maybe on
                // another server of the list, within the window.
                if !matches!(self.link, Link::Opening { .. }) {
                    return self.protocol_error(ctx, now, "login_retry on a logged-in connection");
                }
                log::info!("room {}: server busy ({code} {message}); retrying", self.id);
                self.drop_link(ctx);
                self.schedule_retry(ctx, now);
            }
            ServerMsg::Kicked { code, message } => {
                log::info!("room {}: kicked out: {code} {message}", self.id);
                let extended = serde_json::json!({ "custom_kickout_message": message }).to_string();
                self.end(ctx, RoomStateChangedReason::KickOut, code, extended);
            }
            ServerMsg::Pong => {}
            ServerMsg::UserUpdate { update, users } => {
                if matches!(self.link, Link::Up { .. }) && self.config.is_user_status_notify {
                    let me = &self.user.user_id;
                    let users = users.into_iter().filter(|u| &u.user_id != me).collect();
                    self.view.apply_user_update(ctx, &self.id, update, users);
                }
            }
            ServerMsg::StreamUpdate { update, streams, reasons } => {
                if matches!(self.link, Link::Up { .. }) {
                    let me = &self.user.user_id;
                    let streams = streams.into_iter().filter(|s| &s.user.user_id != me).collect();
                    self.view.apply_stream_update(ctx, &self.id, update, streams, reasons);
                }
            }
            ServerMsg::StreamExtraInfo { streams } => {
                if matches!(self.link, Link::Up { .. }) {
                    self.view.apply_stream_extra_info(ctx, &self.id, streams);
                }
            }
            ServerMsg::RoomExtraInfoUpdate { infos } => {
                if matches!(self.link, Link::Up { .. }) {
                    self.view.apply_extra_info(ctx, &self.id, infos);
                }
            }
            ServerMsg::Messages { kind, messages } => {
                if matches!(self.link, Link::Up { .. }) {
                    self.receive_messages(ctx, kind, messages);
                }
            }
            ServerMsg::SendResult { seq, code, message_id, .. } => {
                if let Some(req) = self.outbox.complete(seq) {
                    result_event(ctx, &self.id, seq, &req, Some((code, message_id)));
                }
            }
            ServerMsg::StreamExtraInfoResult { seq, code } => {
                if let Some(req) = self.outbox.complete(seq) {
                    result_event(ctx, &self.id, seq, &req, Some((code, 0)));
                }
            }
            ServerMsg::RoomExtraInfoResult { seq, code, key: _, update_time } => {
                if let Some(req) = self.outbox.complete(seq) {
                    if let (0, Request::RoomExtraInfo { key, value }) = (code, &req) {
                        let info = RoomExtraInfo { key: key.clone(), value: value.clone(), update_user: self.user.clone(), update_time };
                        self.view.set_own_extra_info(info);
                    }
                    result_event(ctx, &self.id, seq, &req, Some((code, 0)));
                }
            }
            // Routed to the publishers and players by the core before reaching a room.
            ServerMsg::PublishResult { .. } | ServerMsg::PublishStopped { .. } | ServerMsg::PlayState { .. } => {}
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

    /// Messages from others, each once: ids at or below the newest already received are dropped
    /// (a replay after a resume may overlap what arrived before the loss).
    fn receive_messages(&mut self, ctx: &mut Ctx, kind: MsgKind, messages: Vec<WireMessage>) {
        let mut fresh = Vec::with_capacity(messages.len());
        for m in messages {
            if m.message_id > self.last_msg_id {
                self.last_msg_id = m.message_id;
                fresh.push(m);
            }
        }
        let room_id = &self.id;
        match kind {
            MsgKind::Broadcast => {
                for chunk in fresh.chunks(MAX_MESSAGES_PER_EVENT) {
                    let messages = chunk
                        .iter()
                        .map(|m| BroadcastMessageInfo { message: m.content.clone(), message_id: m.message_id, send_time: m.send_time, from_user: m.from_user.clone() })
                        .collect();
                    ctx.event(Event::ImRecvBroadcastMessage { messages, room_id: room_id.clone() });
                }
            }
            MsgKind::Barrage => {
                for chunk in fresh.chunks(MAX_MESSAGES_PER_EVENT) {
                    let messages = chunk
                        .iter()
                        .map(|m| BarrageMessageInfo {
                            message: m.content.clone(),
                            message_id: m.message_id.to_string(),
                            send_time: m.send_time,
                            from_user: m.from_user.clone(),
                        })
                        .collect();
                    ctx.event(Event::ImRecvBarrageMessage { messages, room_id: room_id.clone() });
                }
            }
            MsgKind::Command => {
                for m in fresh {
                    ctx.event(Event::ImRecvCustomCommand { command: m.content, from_user: m.from_user, room_id: room_id.clone() });
                }
            }
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
        // A restart hold ends only while connected: while Reconnecting nothing is reported, and
        // the snapshot after Reconnected decides who is gone (contract §1.2).
        if self.phase == Phase::Joined {
            self.view.on_timeout(ctx, &self.id, now);
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
        let hold = self.view.hold_deadline().filter(|_| self.phase == Phase::Joined);
        [link, token, self.window_end, hold].into_iter().flatten().min()
    }
}
