//! Requests of one room that wait for the server's answer: broadcasts, barrages, custom commands,
//! room and stream extra info (contract §6.1, §7.1).
//!
//! A request made while the room is not connected (Logining, Reconnecting) waits and goes out once
//! it is; one sent just before a loss goes out again after the reconnect with the same seq (the
//! server answers a seq it already handled without sending twice). When the room ends first, each
//! waiting request gets its result with a failure code: 1009010 for messages.

use std::collections::{BTreeMap, VecDeque};

use super::{ConnId, Ctx};
use crate::error_codes::*;
use crate::events::{Event, Seq};
use crate::protocol::{ClientMsg, MsgKind};

#[derive(Debug, Clone)]
pub(crate) enum Request {
    Message(MsgKind),
    RoomExtraInfo { key: String, value: String },
    StreamExtraInfo,
}

struct Pending {
    request: Request,
    msg: ClientMsg,
}

#[derive(Default)]
pub(crate) struct Outbox {
    /// Not sent yet (no connection).
    queued: VecDeque<(Seq, Pending)>,
    /// Sent on the current (or a lost) connection, waiting for the answer.
    inflight: BTreeMap<Seq, Pending>,
}

impl Outbox {
    /// Sends now if `conn` is up, or keeps the request for the next connection.
    pub fn push(&mut self, ctx: &mut Ctx, conn: Option<ConnId>, seq: Seq, request: Request, msg: ClientMsg) {
        let p = Pending { request, msg };
        match conn {
            Some(c) => {
                ctx.send(c, p.msg.clone());
                self.inflight.insert(seq, p);
            }
            None => self.queued.push_back((seq, p)),
        }
    }

    /// A connection is up again: unanswered requests first (in seq order), then the queued ones.
    pub fn on_up(&mut self, ctx: &mut Ctx, conn: ConnId) {
        for p in self.inflight.values() {
            ctx.send(conn, p.msg.clone());
        }
        while let Some((seq, p)) = self.queued.pop_front() {
            ctx.send(conn, p.msg.clone());
            self.inflight.insert(seq, p);
        }
    }

    /// The server answered `seq`; returns what was asked (None for an unknown or repeated answer).
    pub fn complete(&mut self, seq: Seq) -> Option<Request> {
        self.inflight.remove(&seq).map(|p| p.request)
    }

    /// The room ended: every waiting request gets its result with a failure code, in seq order.
    pub fn fail_all(&mut self, ctx: &mut Ctx, room_id: &str) {
        let mut all: Vec<(Seq, Pending)> = std::mem::take(&mut self.inflight).into_iter().collect();
        all.extend(self.queued.drain(..));
        all.sort_by_key(|(seq, _)| *seq);
        for (seq, p) in all {
            result_event(ctx, room_id, seq, &p.request, None);
        }
    }
}

/// The result event of `request`: `outcome` is `(code, message_id)` from the server, or `None`
/// when the room ended before it was answered.
pub(crate) fn result_event(ctx: &mut Ctx, room_id: &str, seq: Seq, request: &Request, outcome: Option<(i32, u64)>) {
    let room_id = room_id.to_owned();
    let e = match request {
        Request::Message(kind) => {
            let (error_code, message_id) = outcome.unwrap_or((MESSAGE_SEND_FAILED, 0));
            match kind {
                MsgKind::Broadcast => Event::ImSendBroadcastMessageResult { error_code, message_id, room_id, seq },
                MsgKind::Barrage => Event::ImSendBarrageMessageResult {
                    error_code,
                    message_id: if error_code == 0 { message_id.to_string() } else { String::new() },
                    room_id,
                    seq,
                },
                MsgKind::Command => Event::ImSendCustomCommandResult { error_code, room_id, seq },
            }
        }
        Request::RoomExtraInfo { key, .. } => {
            let error_code = outcome.map_or(ROOM_ID_INCORRECT, |(c, _)| c);
            Event::RoomSetRoomExtraInfoResult { error_code, room_id, key: key.clone(), seq }
        }
        Request::StreamExtraInfo => {
            let error_code = outcome.map_or(PUBLISHER_NOT_PUBLISHING, |(c, _)| c);
            Event::PublisherUpdateStreamExtraInfoResult { error_code, seq }
        }
    };
    ctx.event(e);
}
