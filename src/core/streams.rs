//! Publisher and player state machines (contract §6.1), one per publish channel and one per played
//! stream, beside the rooms' machines and driven by the same inputs and virtual clock.
//!
//! They follow their room: when its connection is lost they fall back to "requesting" and start
//! the `av_retry_time` window (independent of `room_retry_time`); when it is back they ask the
//! server again (publish is idempotent for the same session, so a resumed session changes nothing
//! for others); when the room ends they end with the room's code.

use std::collections::BTreeMap;
use std::time::Instant;

use super::{empty_json, ConnId, Ctx};
use crate::error_codes::*;
use crate::events::Event;
use crate::protocol::{encode_sei_up, ClientMsg, PlayStatus};
use crate::types::*;

/// At most this many streams are played at once (the 13th → 1004010).
pub const MAX_PLAYED_STREAMS: usize = 12;

pub(crate) struct Publisher {
    pub stream_id: String,
    pub room_id: String,
    pub state: PublisherState,
    /// The last code reported with `state` (so a state is never reported twice with one code).
    code: i32,
    /// When the room connection was lost; `av_retry_time` counts from here.
    lost_at: Option<Instant>,
}

pub(crate) struct Player {
    pub room_id: String,
    pub state: PlayerState,
    code: i32,
    /// When playing was interrupted; `av_retry_time` counts from here.
    interrupted_at: Option<Instant>,
}

#[derive(Default)]
pub(crate) struct Streams {
    publishers: [Option<Publisher>; 4],
    /// Extra info per channel, set before or during publishing.
    extra_info: [String; 4],
    /// Played streams by stream id.
    players: BTreeMap<String, Player>,
}

fn publisher_event(ctx: &mut Ctx, p: &mut Publisher, state: PublisherState, code: i32) {
    if p.state == state && p.code == code {
        return;
    }
    p.state = state;
    p.code = code;
    ctx.event(Event::PublisherStateUpdate { state, error_code: code, extended_data: empty_json(), stream_id: p.stream_id.clone() });
}

fn player_event(ctx: &mut Ctx, stream_id: &str, p: &mut Player, state: PlayerState, code: i32) {
    if p.state == state && p.code == code {
        return;
    }
    p.state = state;
    p.code = code;
    ctx.event(Event::PlayerStateUpdate { state, error_code: code, extended_data: empty_json(), stream_id: stream_id.to_owned() });
}

impl Streams {
    pub fn extra_info(&self, channel: PublishChannel) -> &str {
        &self.extra_info[channel as usize]
    }

    /// Streams the local user publishes in `room_id` that others can see (for `get_room_stream_list(All)`).
    pub fn published_in<'a>(&'a self, room_id: &'a str) -> impl Iterator<Item = (PublishChannel, &'a Publisher)> + 'a {
        PublishChannel::ALL.into_iter().filter_map(move |ch| {
            self.publishers[ch as usize].as_ref().filter(|p| p.room_id == room_id && p.state == PublisherState::Publishing).map(|p| (ch, p))
        })
    }

    /// Is `stream_id` published by this engine on any channel (other than `except`)?
    fn publishes(&self, stream_id: &str, except: PublishChannel) -> bool {
        PublishChannel::ALL.iter().any(|&ch| ch != except && self.publishers[ch as usize].as_ref().is_some_and(|p| p.stream_id == stream_id))
    }

    // ---- publishing ---------------------------------------------------------------------------

    /// `start_publishing_stream` after the facade-level checks; `conn` is the room's connection
    /// if it is up.
    pub fn start_publishing(&mut self, ctx: &mut Ctx, stream_id: &str, room_id: &str, channel: PublishChannel, conn: Option<ConnId>) -> Result<(), i32> {
        if let Some(p) = &self.publishers[channel as usize] {
            return if p.stream_id == stream_id { Ok(()) } else { Err(PUBLISHER_CHANNEL_BUSY) };
        }
        if self.publishes(stream_id, channel) {
            return Err(PUBLISHER_CHANNEL_BUSY);
        }
        let mut p = Publisher { stream_id: stream_id.to_owned(), room_id: room_id.to_owned(), state: PublisherState::NoPublish, code: 0, lost_at: None };
        publisher_event(ctx, &mut p, PublisherState::PublishRequesting, 0);
        if let Some(c) = conn {
            ctx.send(c, self.publish_msg(channel, &p));
        }
        self.publishers[channel as usize] = Some(p);
        Ok(())
    }

    fn publish_msg(&self, channel: PublishChannel, p: &Publisher) -> ClientMsg {
        ClientMsg::Publish { channel: channel.index(), stream_id: p.stream_id.clone(), extra_info: self.extra_info[channel as usize].clone() }
    }

    /// `stop_publishing_stream`: NoPublish (0); the server deletes the stream (reason 1).
    pub fn stop_publishing(&mut self, ctx: &mut Ctx, channel: PublishChannel, conn_of: impl Fn(&str) -> Option<ConnId>) {
        if let Some(mut p) = self.publishers[channel as usize].take() {
            if let Some(c) = conn_of(&p.room_id) {
                ctx.send(c, ClientMsg::StopPublish { stream_id: p.stream_id.clone() });
            }
            publisher_event(ctx, &mut p, PublisherState::NoPublish, 0);
        }
    }

    /// Stores the channel's extra info; true if a publisher exists (the server must be told).
    pub fn set_extra_info(&mut self, channel: PublishChannel, extra_info: &str) -> Option<String> {
        self.extra_info[channel as usize] = extra_info.to_owned();
        self.publishers[channel as usize].as_ref().map(|p| p.room_id.clone())
    }

    /// `send_sei`: the frame goes out only on a Publishing channel whose room is connected.
    pub fn send_sei(&self, ctx: &mut Ctx, channel: PublishChannel, data: &[u8], conn_of: impl Fn(&str) -> Option<ConnId>) -> Result<(), i32> {
        let p = self.publishers[channel as usize].as_ref().filter(|p| p.state == PublisherState::Publishing).ok_or(PUBLISHER_NOT_PUBLISHING)?;
        let conn = conn_of(&p.room_id).ok_or(PUBLISHER_NOT_PUBLISHING)?;
        ctx.send_binary(conn, encode_sei_up(channel.index(), data));
        Ok(())
    }

    pub fn on_publish_result(&mut self, ctx: &mut Ctx, room_id: &str, channel: u8, stream_id: &str, code: i32) {
        let Some(ch) = PublishChannel::from_index(channel as i64) else { return };
        let slot = &mut self.publishers[ch as usize];
        let Some(p) = slot.as_mut().filter(|p| p.room_id == room_id && p.stream_id == stream_id) else { return };
        if code == 0 {
            p.lost_at = None;
            publisher_event(ctx, p, PublisherState::Publishing, 0);
        } else {
            log::warn!("stream {stream_id}: publishing refused by the server ({code})");
            publisher_event(ctx, p, PublisherState::NoPublish, code);
            *slot = None;
        }
    }

    /// The server ended a published stream (forbidden by the admin API: 1003025).
    pub fn on_publish_stopped(&mut self, ctx: &mut Ctx, room_id: &str, stream_id: &str, code: i32) {
        for slot in &mut self.publishers {
            if let Some(p) = slot.as_mut().filter(|p| p.room_id == room_id && p.stream_id == stream_id) {
                publisher_event(ctx, p, PublisherState::NoPublish, code);
                *slot = None;
            }
        }
    }

    // ---- playing ------------------------------------------------------------------------------

    pub fn start_playing(&mut self, ctx: &mut Ctx, stream_id: &str, room_id: &str, conn: Option<ConnId>) -> Result<(), i32> {
        if self.players.contains_key(stream_id) {
            return Ok(());
        }
        if self.players.len() >= MAX_PLAYED_STREAMS {
            return Err(PLAYER_COUNT_EXCEED);
        }
        let mut p = Player { room_id: room_id.to_owned(), state: PlayerState::NoPlay, code: 0, interrupted_at: None };
        player_event(ctx, stream_id, &mut p, PlayerState::PlayRequesting, 0);
        if let Some(c) = conn {
            ctx.send(c, ClientMsg::Play { stream_id: stream_id.to_owned() });
        }
        self.players.insert(stream_id.to_owned(), p);
        Ok(())
    }

    pub fn stop_playing(&mut self, ctx: &mut Ctx, stream_id: &str, conn_of: impl Fn(&str) -> Option<ConnId>) {
        if let Some(mut p) = self.players.remove(stream_id) {
            if let Some(c) = conn_of(&p.room_id) {
                ctx.send(c, ClientMsg::StopPlay { stream_id: stream_id.to_owned() });
            }
            player_event(ctx, stream_id, &mut p, PlayerState::NoPlay, 0);
        }
    }

    pub fn on_play_state(&mut self, ctx: &mut Ctx, room_id: &str, stream_id: &str, status: PlayStatus, now: Instant) {
        let Some(p) = self.players.get_mut(stream_id).filter(|p| p.room_id == room_id) else { return };
        match status {
            PlayStatus::Live => {
                p.interrupted_at = None;
                player_event(ctx, stream_id, p, PlayerState::Playing, 0);
            }
            PlayStatus::Down => {
                if p.state == PlayerState::Playing {
                    p.interrupted_at = Some(now);
                    player_event(ctx, stream_id, p, PlayerState::PlayRequesting, PLAYER_INTERRUPTED);
                }
            }
            PlayStatus::Forbidden => {
                if let Some(mut p) = self.players.remove(stream_id) {
                    player_event(ctx, stream_id, &mut p, PlayerState::NoPlay, PLAYER_FORBIDDEN);
                }
            }
        }
    }

    /// An SEI frame for `stream_id` arrived on `room_id`'s connection: delivered while Playing.
    pub fn on_sei(&self, ctx: &mut Ctx, room_id: &str, stream_id: &str, data: &[u8]) {
        if self.players.get(stream_id).is_some_and(|p| p.room_id == room_id && p.state == PlayerState::Playing) {
            ctx.event(Event::PlayerRecvSei { data: data.to_vec(), stream_id: stream_id.to_owned() });
        }
    }

    // ---- following the room -------------------------------------------------------------------

    /// The room's connection is up (Logined or Reconnected): ask again for everything. `held` are
    /// the local user's streams the server still holds in that room: those this engine no longer
    /// publishes (given up while disconnected) are stopped.
    pub fn on_room_up(&mut self, ctx: &mut Ctx, room_id: &str, conn: ConnId, held: &[String]) {
        for id in held {
            let ours = self.publishers.iter().flatten().any(|p| p.room_id == room_id && &p.stream_id == id);
            if !ours {
                ctx.send(conn, ClientMsg::StopPublish { stream_id: id.clone() });
            }
        }
        for ch in PublishChannel::ALL {
            if let Some(p) = self.publishers[ch as usize].as_ref().filter(|p| p.room_id == room_id) {
                ctx.send(conn, self.publish_msg(ch, p));
            }
        }
        for (id, p) in &self.players {
            if p.room_id == room_id {
                ctx.send(conn, ClientMsg::Play { stream_id: id.clone() });
            }
        }
    }

    /// The room's connection was lost (Reconnecting): publishers fall back to PublishRequesting
    /// 1003020, players that were Playing to PlayRequesting 1004020; `av_retry_time` starts.
    pub fn on_room_lost(&mut self, ctx: &mut Ctx, room_id: &str, now: Instant) {
        for p in self.publishers.iter_mut().flatten().filter(|p| p.room_id == room_id) {
            p.lost_at.get_or_insert(now);
            publisher_event(ctx, p, PublisherState::PublishRequesting, PUBLISHER_CONNECTION_LOST);
        }
        for (id, p) in self.players.iter_mut().filter(|(_, p)| p.room_id == room_id) {
            if p.state == PlayerState::Playing {
                p.interrupted_at = Some(now);
                player_event(ctx, id, p, PlayerState::PlayRequesting, PLAYER_INTERRUPTED);
            }
        }
    }

    /// The room ended or was left: every publisher and player of it ends with these codes.
    pub fn on_room_ended(&mut self, ctx: &mut Ctx, room_id: &str, publish_code: i32, play_code: i32) {
        for slot in &mut self.publishers {
            if let Some(mut p) = slot.take_if(|p| p.room_id == room_id) {
                publisher_event(ctx, &mut p, PublisherState::NoPublish, publish_code);
            }
        }
        let ended: Vec<String> = self.players.iter().filter(|(_, p)| p.room_id == room_id).map(|(id, _)| id.clone()).collect();
        for id in ended {
            if let Some(mut p) = self.players.remove(&id) {
                player_event(ctx, &id, &mut p, PlayerState::NoPlay, play_code);
            }
        }
    }

    /// `av_retry_time` ran out: publishers NoPublish 1003021 (never published again), players
    /// NoPlay 1004020.
    pub fn on_timeout(&mut self, ctx: &mut Ctx, av_window: std::time::Duration, now: Instant, conn_of: impl Fn(&str) -> Option<ConnId>) {
        for slot in &mut self.publishers {
            if let Some(mut p) = slot.take_if(|p| p.lost_at.is_some_and(|t| now >= t + av_window)) {
                log::info!("stream {}: av_retry_time ran out; publishing stopped", p.stream_id);
                if let Some(c) = conn_of(&p.room_id) {
                    ctx.send(c, ClientMsg::StopPublish { stream_id: p.stream_id.clone() });
                }
                publisher_event(ctx, &mut p, PublisherState::NoPublish, PUBLISHER_RETRY_TIMEOUT);
            }
        }
        let expired: Vec<String> = self
            .players
            .iter()
            .filter(|(_, p)| p.interrupted_at.is_some_and(|t| now >= t + av_window))
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            if let Some(mut p) = self.players.remove(&id) {
                log::info!("stream {id}: not playing again within av_retry_time; player stopped");
                if let Some(c) = conn_of(&p.room_id) {
                    ctx.send(c, ClientMsg::StopPlay { stream_id: id.clone() });
                }
                player_event(ctx, &id, &mut p, PlayerState::NoPlay, PLAYER_INTERRUPTED);
            }
        }
    }

    pub fn next_deadline(&self, av_window: std::time::Duration) -> Option<Instant> {
        let pubs = self.publishers.iter().flatten().filter_map(|p| p.lost_at.map(|t| t + av_window));
        let plays = self.players.values().filter_map(|p| p.interrupted_at.map(|t| t + av_window));
        pubs.chain(plays).min()
    }

    /// Engine destroy: forget everything without events.
    pub fn clear(&mut self) {
        self.publishers = Default::default();
        self.players.clear();
    }
}
