//! Sans-I/O room core: per-room state machines driven by API calls, connection events, frames and
//! time, producing outputs (connections to open, frames to send, events for the app). No sockets,
//! threads or clock reads in here, so every rule is testable with a virtual clock.
//!
//! The driver's loop: feed inputs (`login_room`, `on_connected`, `on_frame`, `on_disconnected`,
//! `handle_timeout`), then drain `poll_output` and sleep until `poll_timeout`.

pub mod advanced_config;
pub mod backoff;
mod room;
pub use room::Phase;
pub mod validate;

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::error_codes::*;
use crate::events::{Event, Seq};
use crate::protocol::{ClientMsg, ServerMsg};
use crate::types::*;
use backoff::Backoff;
use room::Room;

/// Identifies one connection attempt. A new attempt gets a new id, so late news from an old
/// connection can never be mistaken for the current one.
pub type ConnId = u64;

/// Most rooms at once in multi-room mode.
pub const MAX_ROOMS: usize = 5;

#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Open a WebSocket to `url`; report `on_connected` / `on_frame` / `on_disconnected` with `conn`.
    Connect { conn: ConnId, url: String },
    Send { conn: ConnId, msg: ClientMsg },
    /// Close after sending what was queued before it. No `on_disconnected` is expected.
    Close { conn: ConnId },
    Event(Event),
}

/// Timings, defaulting to the native ZEGO SDKs' (contract §1.1).
#[derive(Debug, Clone)]
pub struct Timings {
    pub backoff: Backoff,
    /// One attempt (TCP + WebSocket + login) that takes longer is abandoned and retried.
    pub attempt_timeout: Duration,
    /// `room_retry_time`: how long to keep retrying after a loss, or from `login_room`.
    pub retry_window: Duration,
    /// Until the server tells its own interval.
    pub default_ping_interval: Duration,
    /// A connection with no frame received for this many ping intervals is considered lost.
    pub missed_pings: u32,
    /// `on_room_token_will_expire` fires this long before expiry.
    pub token_warning: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            backoff: Backoff::default(),
            attempt_timeout: Duration::from_secs(5),
            retry_window: Duration::from_secs(1200),
            default_ping_interval: Duration::from_secs(10),
            missed_pings: 3,
            token_warning: Duration::from_secs(30),
        }
    }
}

/// Everything a room needs from its surroundings: outputs, connection ids, randomness, settings.
pub(crate) struct Ctx {
    pub out: VecDeque<Output>,
    pub conns: HashMap<ConnId, String>,
    next_conn: ConnId,
    pub rng: fastrand::Rng,
    pub url: String,
    pub app_id: u32,
    pub timings: Timings,
}

impl Ctx {
    pub fn open(&mut self, room_id: &str) -> ConnId {
        self.next_conn += 1;
        let conn = self.next_conn;
        self.conns.insert(conn, room_id.to_owned());
        self.out.push_back(Output::Connect { conn, url: self.url.clone() });
        conn
    }
    pub fn close(&mut self, conn: ConnId) {
        if self.conns.remove(&conn).is_some() {
            self.out.push_back(Output::Close { conn });
        }
    }
    pub fn send(&mut self, conn: ConnId, msg: ClientMsg) {
        self.out.push_back(Output::Send { conn, msg });
    }
    pub fn event(&mut self, e: Event) {
        self.out.push_back(Output::Event(e));
    }
}

pub(crate) fn empty_json() -> String {
    "{}".to_owned()
}

pub struct Core {
    mode: RoomMode,
    rooms: Vec<Room>,
    ctx: Ctx,
    next_seq: Seq,
}

impl Core {
    pub fn new(profile: &EngineProfile, timings: Timings, seed: u64) -> Core {
        Core {
            mode: profile.room_mode,
            rooms: Vec::new(),
            ctx: Ctx {
                out: VecDeque::new(),
                conns: HashMap::new(),
                next_conn: 0,
                rng: fastrand::Rng::with_seed(seed),
                url: profile.server.clone(),
                app_id: profile.app_id,
                timings,
            },
            next_seq: 0,
        }
    }

    fn seq(&mut self) -> Seq {
        self.next_seq = self.next_seq.checked_add(1).unwrap_or(1);
        self.next_seq
    }

    fn index(&self, room_id: &str) -> Option<usize> {
        self.rooms.iter().position(|r| r.id == room_id)
    }

    pub fn timings(&self) -> &Timings {
        &self.ctx.timings
    }

    /// Rooms currently joined or being joined (not the ones that ended in a terminal failure).
    pub fn active_rooms(&self) -> Vec<String> {
        self.rooms.iter().filter(|r| r.is_active()).map(|r| r.id.clone()).collect()
    }

    // ---- API inputs -------------------------------------------------------------------------

    pub fn set_engine_config(&mut self, text: &str) -> Result<(), i32> {
        let parsed = advanced_config::parse(text)?;
        if let Some(window) = parsed.room_retry_time {
            self.ctx.timings.retry_window = window;
        }
        Ok(())
    }

    pub fn login_room(&mut self, room_id: &str, user: &User, config: Option<&RoomConfig>, now: Instant) -> Result<Seq, i32> {
        let config = config.cloned().unwrap_or_default();
        check_login_input(room_id, user, &config)?;
        let user = filled_user(user);
        let active: Vec<&Room> = self.rooms.iter().filter(|r| r.is_active()).collect();
        match self.mode {
            RoomMode::SingleRoom => {
                if !active.is_empty() {
                    return Err(ROOM_COUNT_EXCEED);
                }
            }
            RoomMode::MultiRoom => {
                if active.iter().any(|r| r.id == room_id) {
                    return Err(ROOM_COUNT_EXCEED);
                }
                if active.iter().any(|r| r.user.user_id != user.user_id) {
                    return Err(MULTI_ROOM_DIFFERENT_USER);
                }
                if active.len() >= MAX_ROOMS {
                    return Err(MULTI_ROOM_COUNT_EXCEED);
                }
            }
        }
        let seq = self.seq();
        self.begin_login(room_id, user, config, Some(seq), now);
        Ok(seq)
    }

    fn begin_login(&mut self, room_id: &str, user: User, config: RoomConfig, seq: Option<Seq>, now: Instant) {
        // A room that ended in a terminal failure is replaced by the new login; in single-room mode
        // every ended room goes, so "the room" is always the one being joined.
        let single = self.mode == RoomMode::SingleRoom;
        self.rooms.retain(|r| r.is_active() || !(single || r.id == room_id));
        let mut room = Room::new(room_id.to_owned(), user, config, seq, now, &self.ctx.timings);
        room.start(&mut self.ctx, now);
        self.rooms.push(room);
    }

    pub fn logout_room(&mut self, room_id: Option<&str>, now: Instant) -> Result<Seq, i32> {
        if let Some(id) = room_id {
            validate::check_room_id(id.as_bytes())?;
        }
        let seq = self.seq();
        match room_id {
            Some(id) => match self.index(id) {
                Some(i) => self.leave(i, Some(seq), now),
                None => self.logout_failed(id, Some(seq)),
            },
            None => {
                while !self.rooms.is_empty() {
                    self.leave(0, Some(seq), now);
                }
            }
        }
        Ok(seq)
    }

    fn logout_failed(&mut self, room_id: &str, seq: Option<Seq>) {
        self.ctx.event(Event::RoomStateChanged {
            reason: RoomStateChangedReason::LogoutFailed,
            error_code: ROOM_ID_INCORRECT,
            extended_data: empty_json(),
            room_id: room_id.to_owned(),
        });
        if let Some(seq) = seq {
            self.ctx.event(Event::RoomLogoutResult {
                error_code: ROOM_ID_INCORRECT,
                extended_data: empty_json(),
                room_id: room_id.to_owned(),
                seq,
            });
        }
    }

    fn leave(&mut self, index: usize, seq: Option<Seq>, _now: Instant) {
        let mut room = self.rooms.remove(index);
        room.leave(&mut self.ctx);
        if let Some(seq) = seq {
            self.ctx.event(Event::RoomLogoutResult { error_code: 0, extended_data: empty_json(), room_id: room.id.clone(), seq });
        }
    }

    pub fn switch_room(&mut self, from: &str, to: &str, config: Option<&RoomConfig>, now: Instant) -> Result<(), i32> {
        if self.mode == RoomMode::MultiRoom {
            return Err(SWITCH_ROOM_IN_MULTI_ROOM);
        }
        validate::check_room_id(from.as_bytes())?;
        validate::check_room_id(to.as_bytes())?;
        if let Some(c) = config {
            validate::check_token(c.token.as_bytes())?;
        }
        let Some(i) = self.index(from) else {
            self.logout_failed(from, None);
            return Ok(());
        };
        let source = &self.rooms[i];
        let user = source.user.clone();
        let config = config.cloned().unwrap_or_else(|| source.config.clone());
        self.leave(i, None, now);
        self.begin_login(to, user, config, None, now);
        Ok(())
    }

    pub fn renew_token(&mut self, room_id: &str, token: &str, now: Instant) -> Result<(), i32> {
        validate::check_room_id(room_id.as_bytes())?;
        validate::check_token(token.as_bytes())?;
        match self.index(room_id) {
            Some(i) if self.rooms[i].is_active() => {
                self.rooms[i].renew_token(&mut self.ctx, token, now);
                Ok(())
            }
            _ => Err(ROOM_ID_INCORRECT),
        }
    }

    /// Leave every room quietly (engine destroy): logout frames go out, no events.
    pub fn shutdown(&mut self) {
        for mut room in self.rooms.drain(..) {
            room.hang_up(&mut self.ctx);
        }
        self.ctx.out.retain(|o| !matches!(o, Output::Event(_)));
    }

    // ---- driver inputs ----------------------------------------------------------------------

    pub fn on_connected(&mut self, conn: ConnId, now: Instant) {
        let Some(id) = self.ctx.conns.get(&conn).cloned() else { return };
        if let Some(i) = self.index(&id) {
            self.rooms[i].on_connected(&mut self.ctx, conn, now);
        }
    }

    pub fn on_frame(&mut self, conn: ConnId, msg: ServerMsg, now: Instant) {
        let Some(id) = self.ctx.conns.get(&conn).cloned() else { return };
        if let Some(i) = self.index(&id) {
            self.rooms[i].on_frame(&mut self.ctx, conn, msg, now);
        }
    }

    /// The connection ended or could not be opened (closed, reset, refused, timed out).
    pub fn on_disconnected(&mut self, conn: ConnId, now: Instant) {
        let Some(id) = self.ctx.conns.remove(&conn) else { return };
        if let Some(i) = self.index(&id) {
            self.rooms[i].on_disconnected(&mut self.ctx, conn, now);
        }
    }

    /// The attempt on `conn` failed for a reason the app developer must see (TLS: certificate not
    /// trusted, expired, for another host). Logged as a warning once per room login (not on every
    /// retry); otherwise handled as [`Core::on_disconnected`]: retries go on within
    /// `room_retry_time`, then LoginFailed/ReconnectFailed 1002053 (contract §9).
    pub fn on_connect_failed(&mut self, conn: ConnId, reason: &str, now: Instant) {
        if let Some(i) = self.ctx.conns.get(&conn).and_then(|id| self.index(id)) {
            self.rooms[i].note_connect_failure(reason);
        }
        self.on_disconnected(conn, now);
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        for room in &mut self.rooms {
            room.on_timeout(&mut self.ctx, now);
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.rooms.iter().filter_map(|r| r.next_deadline(&self.ctx.timings)).min()
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.ctx.out.pop_front()
    }

    /// Phase of a room, for tests and diagnostics.
    pub fn phase(&self, room_id: &str) -> Option<Phase> {
        self.index(room_id).map(|i| self.rooms[i].phase)
    }
}

fn check_login_input(room_id: &str, user: &User, config: &RoomConfig) -> Result<(), i32> {
    validate::check_room_id(room_id.as_bytes())?;
    validate::check_user_id(user.user_id.as_bytes())?;
    validate::check_user_name(user.user_name.as_bytes())?;
    validate::check_token(config.token.as_bytes())?;
    Ok(())
}

fn filled_user(user: &User) -> User {
    let name = if user.user_name.is_empty() { user.user_id.clone() } else { user.user_name.clone() };
    User { user_id: user.user_id.clone(), user_name: name }
}

#[cfg(test)]
mod tests;
