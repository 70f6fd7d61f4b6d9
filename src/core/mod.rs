//! Sans-I/O room core: per-room state machines driven by API calls, connection events, frames and
//! time, producing outputs (connections to open, frames to send, events for the app). No sockets,
//! threads or clock reads in here, so every rule is testable with a virtual clock.
//!
//! The driver's loop: feed inputs (`login_room`, `on_connected`, `on_frame`, `on_disconnected`,
//! `handle_timeout`), then drain `poll_output` and sleep until `poll_timeout`.

pub mod advanced_config;
pub mod backoff;
mod outbox;
mod room;
pub use room::Phase;
mod streams;
pub mod validate;
mod view;

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::error_codes::*;
use crate::events::{Event, Seq};
use crate::protocol::{decode_sei_down, ClientMsg, MsgKind, ServerMsg, MAX_SEI_BYTES};
use crate::types::*;
use backoff::Backoff;
use outbox::Request;
use room::Room;
use streams::Streams;

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
    /// Send a binary frame (SEI side data).
    SendBinary { conn: ConnId, data: Vec<u8> },
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
    /// `av_retry_time`: how long publishers and players wait for their stream to come back after
    /// an interruption before giving up (contract §6.1).
    pub av_retry_window: Duration,
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
            av_retry_window: Duration::from_secs(1200),
            default_ping_interval: Duration::from_secs(10),
            missed_pings: 3,
            token_warning: Duration::from_secs(30),
        }
    }
}

/// What a room tells the core about its connection, for the publishers and players that follow it.
#[derive(Debug)]
pub(crate) enum Signal {
    /// Logined or Reconnected on `conn`; `own_streams`: the local user's streams the server holds.
    Up { room_id: String, conn: ConnId, own_streams: Vec<String> },
    /// Reconnecting.
    Lost { room_id: String },
    /// LoginFailed, ReconnectFailed or KickOut.
    Ended { room_id: String, reason: RoomStateChangedReason, code: i32 },
    /// Logout (or left by switch_room).
    Left { room_id: String },
}

/// Everything a room needs from its surroundings: outputs, connection ids, randomness, settings.
pub(crate) struct Ctx {
    pub out: VecDeque<Output>,
    pub signals: Vec<Signal>,
    /// This engine's identity towards the server (one client per user_id, contract §1.6).
    pub client_id: String,
    pub conns: HashMap<ConnId, String>,
    next_conn: ConnId,
    pub rng: fastrand::Rng,
    /// The profile's server URLs (a comma-separated list, trimmed; contract §8).
    pub urls: Vec<String>,
    pub app_id: u32,
    pub timings: Timings,
}

impl Ctx {
    /// Opens a connection for `room_id`'s attempt number `attempt` (0 = the first): the first
    /// uses the first URL of the list, each later one the next (wrapping around).
    pub fn open(&mut self, room_id: &str, attempt: usize) -> ConnId {
        self.next_conn += 1;
        let conn = self.next_conn;
        self.conns.insert(conn, room_id.to_owned());
        let url = self.urls.get(attempt % self.urls.len().max(1)).cloned().unwrap_or_default();
        self.out.push_back(Output::Connect { conn, url });
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
    pub fn send_binary(&mut self, conn: ConnId, data: Vec<u8>) {
        self.out.push_back(Output::SendBinary { conn, data });
    }
    pub fn event(&mut self, e: Event) {
        self.out.push_back(Output::Event(e));
    }
}

/// The entries of a comma-separated server list, trimmed (the engine refuses a profile with an
/// entry that is not a ws:// or wss:// URL before a core exists).
pub fn server_urls(server: &str) -> Vec<String> {
    server.split(',').map(|u| u.trim().to_owned()).collect()
}

pub(crate) fn empty_json() -> String {
    "{}".to_owned()
}

pub struct Core {
    mode: RoomMode,
    rooms: Vec<Room>,
    streams: Streams,
    ctx: Ctx,
    next_seq: Seq,
}

impl Core {
    pub fn new(profile: &EngineProfile, timings: Timings, seed: u64) -> Core {
        let mut rng = fastrand::Rng::with_seed(seed);
        let client_id = format!("{:016x}{:016x}", rng.u64(..), rng.u64(..));
        Core {
            mode: profile.room_mode,
            rooms: Vec::new(),
            streams: Streams::default(),
            ctx: Ctx {
                out: VecDeque::new(),
                signals: Vec::new(),
                client_id,
                conns: HashMap::new(),
                next_conn: 0,
                rng,
                urls: server_urls(&profile.server),
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

    /// This engine's client id (sent with every login; contract §1.6).
    pub fn client_id(&self) -> &str {
        &self.ctx.client_id
    }

    pub fn set_engine_config(&mut self, text: &str) -> Result<(), i32> {
        let parsed = advanced_config::parse(text)?;
        if let Some(window) = parsed.room_retry_time {
            self.ctx.timings.retry_window = window;
        }
        if let Some(window) = parsed.av_retry_time {
            self.ctx.timings.av_retry_window = window;
        }
        Ok(())
    }

    pub fn login_room(&mut self, room_id: &str, user: &User, config: Option<&RoomConfig>, now: Instant) -> Result<Seq, i32> {
        let r = self.login_room_inner(room_id, user, config, now);
        self.process_signals(now);
        r
    }

    fn login_room_inner(&mut self, room_id: &str, user: &User, config: Option<&RoomConfig>, now: Instant) -> Result<Seq, i32> {
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
        let r = self.logout_room_inner(room_id, now);
        self.process_signals(now);
        r
    }

    fn logout_room_inner(&mut self, room_id: Option<&str>, now: Instant) -> Result<Seq, i32> {
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
        let r = self.switch_room_inner(from, to, config, now);
        self.process_signals(now);
        r
    }

    fn switch_room_inner(&mut self, from: &str, to: &str, config: Option<&RoomConfig>, now: Instant) -> Result<(), i32> {
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
        // The source room's publishers and players end before the target room starts.
        self.process_signals(now);
        self.begin_login(to, user, config, None, now);
        Ok(())
    }

    pub fn renew_token(&mut self, room_id: &str, token: &str, now: Instant) -> Result<(), i32> {
        let r = self.renew_token_inner(room_id, token, now);
        self.process_signals(now);
        r
    }

    fn renew_token_inner(&mut self, room_id: &str, token: &str, now: Instant) -> Result<(), i32> {
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

    /// Leave every room quietly (engine destroy): logout frames (marked `destroyed`, so the
    /// server deletes this engine's streams with reason 5) go out, no events.
    pub fn shutdown(&mut self) {
        for mut room in self.rooms.drain(..) {
            room.hang_up(&mut self.ctx, true);
        }
        self.streams.clear();
        self.ctx.signals.clear();
        self.ctx.out.retain(|o| !matches!(o, Output::Event(_)));
    }

    // ---- streams (contract §6) --------------------------------------------------------------

    /// The joined room a stream call addresses: `config_room` in multi-room mode (empty →
    /// `missing`), the only room in single-room mode. Not joined → 1000002.
    fn stream_room(&self, config_room: Option<&str>, missing: i32) -> Result<usize, i32> {
        let named = config_room.filter(|r| !r.is_empty());
        let i = match (self.mode, named) {
            (RoomMode::MultiRoom, None) => return Err(missing),
            (_, Some(id)) => self.index(id),
            (RoomMode::SingleRoom, None) => self.rooms.iter().position(|r| r.is_active()),
        };
        i.filter(|&i| self.rooms[i].is_active()).ok_or(NOT_LOGIN_ROOM)
    }

    fn room_conn(rooms: &[Room], room_id: &str) -> Option<ConnId> {
        rooms.iter().find(|r| r.id == room_id).and_then(|r| r.up_conn())
    }

    pub fn start_publishing_stream(&mut self, stream_id: &str, config: Option<&PublisherConfig>, channel: PublishChannel, now: Instant) -> Result<(), i32> {
        validate::check_stream_id(stream_id.as_bytes())?;
        let i = self.stream_room(config.map(|c| c.room_id.as_str()), PUBLISHER_ROOM_ID_REQUIRED)?;
        let (room_id, conn) = (self.rooms[i].id.clone(), self.rooms[i].up_conn());
        let r = self.streams.start_publishing(&mut self.ctx, stream_id, &room_id, channel, conn);
        self.process_signals(now);
        r
    }

    pub fn stop_publishing_stream(&mut self, channel: PublishChannel, _now: Instant) -> Result<(), i32> {
        let rooms = &self.rooms;
        self.streams.stop_publishing(&mut self.ctx, channel, |id| Self::room_conn(rooms, id));
        Ok(())
    }

    /// Stores the extra info of `channel` (carried by the next publish) and, while a stream is
    /// published or requested on it, tells the server; the result event carries the returned seq.
    pub fn set_stream_extra_info(&mut self, extra_info: &str, channel: PublishChannel, _now: Instant) -> Result<Seq, i32> {
        validate::check_stream_extra_info(extra_info.as_bytes())?;
        let seq = self.seq();
        match self.streams.set_extra_info(channel, extra_info).and_then(|room_id| self.index(&room_id)) {
            Some(i) => {
                let msg = ClientMsg::SetStreamExtraInfo { channel: channel.index(), extra_info: extra_info.to_owned(), seq };
                self.rooms[i].request(&mut self.ctx, seq, Request::StreamExtraInfo, msg);
            }
            None => self.ctx.event(Event::PublisherUpdateStreamExtraInfoResult { error_code: 0, seq }),
        }
        Ok(seq)
    }

    pub fn start_playing_stream(&mut self, stream_id: &str, config: Option<&PlayerConfig>, now: Instant) -> Result<(), i32> {
        validate::check_stream_id(stream_id.as_bytes())?;
        let i = self.stream_room(config.map(|c| c.room_id.as_str()), PLAYER_ROOM_ID_REQUIRED)?;
        let (room_id, conn) = (self.rooms[i].id.clone(), self.rooms[i].up_conn());
        let r = self.streams.start_playing(&mut self.ctx, stream_id, &room_id, conn);
        self.process_signals(now);
        r
    }

    pub fn stop_playing_stream(&mut self, stream_id: &str, _now: Instant) -> Result<(), i32> {
        validate::check_stream_id(stream_id.as_bytes())?;
        let rooms = &self.rooms;
        self.streams.stop_playing(&mut self.ctx, stream_id, |id| Self::room_conn(rooms, id));
        Ok(())
    }

    /// 1–4096 bytes on a Publishing channel (1000017 for the size, 1003001 when not Publishing).
    pub fn send_sei(&mut self, data: &[u8], channel: PublishChannel) -> Result<(), i32> {
        if data.is_empty() || data.len() > MAX_SEI_BYTES {
            return Err(ILLEGAL_PARAM);
        }
        let rooms = &self.rooms;
        self.streams.send_sei(&mut self.ctx, channel, data, |id| Self::room_conn(rooms, id))
    }

    /// The engine's view of a room's streams: others' (`Play`), plus the local user's published
    /// ones (`All`). Not joined → 1000002. `""` names the only room in single-room mode.
    pub fn get_room_stream_list(&self, room_id: &str, list_type: RoomStreamListType) -> Result<Vec<Stream>, i32> {
        let i = self.stream_room(Some(room_id), NOT_LOGIN_ROOM)?;
        let room = &self.rooms[i];
        let mut list: Vec<Stream> = room.view.streams().cloned().collect();
        if list_type == RoomStreamListType::All {
            for (ch, p) in self.streams.published_in(&room.id) {
                list.push(Stream { user: room.user.clone(), stream_id: p.stream_id.clone(), extra_info: self.streams.extra_info(ch).to_owned() });
            }
        }
        list.sort_by(|a, b| a.stream_id.cmp(&b.stream_id));
        Ok(list)
    }

    // ---- messaging (contract §7) ------------------------------------------------------------

    /// The joined room a messaging call names (1009005 if none).
    fn message_room(&self, room_id: &str) -> Result<usize, i32> {
        self.index(room_id).filter(|&i| self.rooms[i].is_active()).ok_or(MESSAGE_ROOM_NOT_JOINED)
    }

    fn send_message(&mut self, room_id: &str, kind: MsgKind, content: &str, to: Vec<String>) -> Result<Seq, i32> {
        validate::check_message(content.as_bytes())?;
        let i = self.message_room(room_id)?;
        let seq = self.seq();
        let msg = ClientMsg::Send { kind, content: content.to_owned(), to, seq };
        self.rooms[i].request(&mut self.ctx, seq, Request::Message(kind), msg);
        Ok(seq)
    }

    pub fn send_broadcast_message(&mut self, room_id: &str, message: &str, _now: Instant) -> Result<Seq, i32> {
        self.send_message(room_id, MsgKind::Broadcast, message, Vec::new())
    }

    pub fn send_barrage_message(&mut self, room_id: &str, message: &str, _now: Instant) -> Result<Seq, i32> {
        self.send_message(room_id, MsgKind::Barrage, message, Vec::new())
    }

    /// `to_user_ids`: 1–5 ids, or empty for everyone but the sender.
    pub fn send_custom_command(&mut self, room_id: &str, command: &str, to_user_ids: &[&str], _now: Instant) -> Result<Seq, i32> {
        validate::check_message(command.as_bytes())?;
        validate::check_command_targets(to_user_ids)?;
        self.send_message(room_id, MsgKind::Command, command, to_user_ids.iter().map(|s| (*s).to_owned()).collect())
    }

    pub fn set_room_extra_info(&mut self, room_id: &str, key: &str, value: &str, _now: Instant) -> Result<Seq, i32> {
        validate::check_room_extra_info(key.as_bytes(), value.as_bytes())?;
        let i = self.index(room_id).filter(|&i| self.rooms[i].is_active()).ok_or(ROOM_ID_INCORRECT)?;
        if self.rooms[i].view.extra_info_key().is_some_and(|k| k != key) {
            return Err(ROOM_EXTRA_INFO_EXCEED_KEYS);
        }
        let seq = self.seq();
        let msg = ClientMsg::SetRoomExtraInfo { key: key.to_owned(), value: value.to_owned(), seq };
        let request = Request::RoomExtraInfo { key: key.to_owned(), value: value.to_owned() };
        self.rooms[i].request(&mut self.ctx, seq, request, msg);
        Ok(seq)
    }

    /// Publishers and players follow what their rooms just did.
    fn process_signals(&mut self, now: Instant) {
        while !self.ctx.signals.is_empty() {
            for signal in std::mem::take(&mut self.ctx.signals) {
                match signal {
                    Signal::Up { room_id, conn, own_streams } => {
                        self.streams.on_room_up(&mut self.ctx, &room_id, conn, &own_streams);
                        if let Some(i) = self.index(&room_id) {
                            self.rooms[i].outbox.on_up(&mut self.ctx, conn);
                        }
                    }
                    Signal::Lost { room_id } => self.streams.on_room_lost(&mut self.ctx, &room_id, now),
                    Signal::Ended { room_id, reason, code } => {
                        let publish_code = if reason == RoomStateChangedReason::ReconnectFailed { PUBLISHER_RETRY_TIMEOUT } else { code };
                        self.streams.on_room_ended(&mut self.ctx, &room_id, publish_code, code);
                    }
                    Signal::Left { room_id } => self.streams.on_room_ended(&mut self.ctx, &room_id, 0, 0),
                }
            }
        }
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
        let Some(i) = self.index(&id) else { return };
        let up = self.rooms[i].up_conn() == Some(conn);
        match msg {
            ServerMsg::PublishResult { channel, stream_id, code } if up => {
                self.streams.on_publish_result(&mut self.ctx, &id, channel, &stream_id, code)
            }
            ServerMsg::PublishStopped { stream_id, code, .. } if up => self.streams.on_publish_stopped(&mut self.ctx, &id, &stream_id, code),
            ServerMsg::PlayState { stream_id, status } if up => self.streams.on_play_state(&mut self.ctx, &id, &stream_id, status, now),
            ServerMsg::PublishResult { .. } | ServerMsg::PublishStopped { .. } | ServerMsg::PlayState { .. } => {}
            msg => self.rooms[i].on_frame(&mut self.ctx, conn, msg, now),
        }
        self.process_signals(now);
    }

    /// A binary frame (SEI side data of a played stream).
    pub fn on_binary(&mut self, conn: ConnId, data: &[u8], _now: Instant) {
        let Some(id) = self.ctx.conns.get(&conn) else { return };
        let Some(room) = self.rooms.iter().find(|r| &r.id == id && r.up_conn() == Some(conn)) else { return };
        match decode_sei_down(data) {
            Some((stream_id, payload)) => self.streams.on_sei(&mut self.ctx, &room.id, stream_id, payload),
            None => log::warn!("room {}: malformed binary frame from the server ignored", room.id),
        }
    }

    /// The connection ended or could not be opened (closed, reset, refused, timed out).
    pub fn on_disconnected(&mut self, conn: ConnId, now: Instant) {
        let Some(id) = self.ctx.conns.remove(&conn) else { return };
        if let Some(i) = self.index(&id) {
            self.rooms[i].on_disconnected(&mut self.ctx, conn, now);
        }
        self.process_signals(now);
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
        self.process_signals(now);
        let rooms = &self.rooms;
        let av = self.ctx.timings.av_retry_window;
        self.streams.on_timeout(&mut self.ctx, av, now, |id| Self::room_conn(rooms, id));
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let rooms = self.rooms.iter().filter_map(|r| r.next_deadline(&self.ctx.timings)).min();
        let streams = self.streams.next_deadline(self.ctx.timings.av_retry_window);
        rooms.into_iter().chain(streams).min()
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
#[cfg(test)]
mod stream_tests;
