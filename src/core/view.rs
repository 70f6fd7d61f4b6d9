//! What the app has been told about one room: other users, other users' streams and the room's
//! extra info. Every report goes through here, so the app never sees a duplicate Add, a Delete of
//! someone it was not told about, or a stale name (contract §1.2, §1.6, §1.7, §6.1, §7.1).
//!
//! After a re-login the engine compares the server's snapshot with this view and reports the
//! difference. When the server says its state is younger than the heartbeat grace (it restarted
//! and lost its memory), users and streams missing from the snapshot are *held* instead: they may
//! still come back within the grace; those that do produce nothing, the others are deleted once
//! the grace has passed since the restart (contract §1.7).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use super::Ctx;
use crate::events::Event;
use crate::protocol::{delete_reason, StreamDeleteReason, UserUpdateKind};
use crate::types::*;

#[derive(Default)]
pub(crate) struct RoomView {
    /// Other users, by user_id (only tracked with `is_user_status_notify`).
    members: BTreeMap<String, User>,
    /// Other users' streams, by stream_id.
    streams: BTreeMap<String, Stream>,
    /// The room's extra info, by key.
    extra_info: BTreeMap<String, RoomExtraInfo>,
    /// Restart recovery: until when missing users/streams are held rather than deleted.
    held_until: Option<Instant>,
    held_members: BTreeSet<String>,
    held_streams: BTreeSet<String>,
}

/// A server snapshot (from `login_ok`), already stripped of the local user.
pub(crate) struct Snapshot {
    /// `None` when the room is joined without user notifications.
    pub users: Option<Vec<User>>,
    pub streams: Vec<Stream>,
    pub extra_info: Vec<RoomExtraInfo>,
    /// Hold what is missing until then (restart recovery), instead of deleting it now.
    pub hold_until: Option<Instant>,
}

/// `{"stream_delete_reason":[{"stream_id":"…","code":N}]}` (contract §6.1), fields in that order.
fn stream_delete_json(reasons: &[StreamDeleteReason]) -> String {
    #[derive(serde::Serialize)]
    struct Extended<'a> {
        stream_delete_reason: &'a [StreamDeleteReason],
    }
    serde_json::to_string(&Extended { stream_delete_reason: reasons }).unwrap_or_else(|_| "{}".to_owned())
}

impl RoomView {
    pub fn streams(&self) -> impl Iterator<Item = &Stream> {
        self.streams.values()
    }

    /// The one key the room has, if any.
    pub fn extra_info_key(&self) -> Option<&str> {
        self.extra_info.keys().next().map(String::as_str)
    }

    pub fn hold_deadline(&self) -> Option<Instant> {
        self.held_until
    }

    /// After (re)login: report the difference between what the app was told and `snap`.
    /// Order: users (Delete, then Add), streams (Delete, then Add, then extra info of the added or
    /// changed ones), then the room extra info if it changed.
    pub fn apply_snapshot(&mut self, ctx: &mut Ctx, room_id: &str, snap: Snapshot, now: Instant) {
        let hold = snap.hold_until.filter(|t| *t > now);
        if hold.is_some() {
            self.held_until = hold.max(self.held_until);
        }
        // A hold from an earlier restart still runs (this login resumed a session made on the
        // restarted server): who is still held stays held rather than flapping.
        let holding = self.held_until.is_some_and(|t| t > now);

        if let Some(users) = snap.users {
            let fresh: BTreeMap<String, User> = users.into_iter().map(|u| (u.user_id.clone(), u)).collect();
            let mut gone = Vec::new();
            let mut came = Vec::new();
            for (id, old) in &self.members {
                match fresh.get(id) {
                    None if hold.is_some() => {
                        self.held_members.insert(id.clone());
                    }
                    None if holding && self.held_members.contains(id) => {}
                    None => gone.push(old.clone()),
                    Some(new) if new.user_name != old.user_name => {
                        gone.push(old.clone());
                        came.push(new.clone());
                    }
                    Some(_) => {}
                }
            }
            for (id, u) in &fresh {
                self.held_members.remove(id);
                if !self.members.contains_key(id) {
                    came.push(u.clone());
                }
            }
            for u in &gone {
                self.members.remove(&u.user_id);
                self.held_members.remove(&u.user_id);
            }
            for u in &came {
                self.members.insert(u.user_id.clone(), u.clone());
            }
            report_users(ctx, room_id, UpdateType::Delete, gone);
            report_users(ctx, room_id, UpdateType::Add, came);
        }

        let fresh: BTreeMap<String, Stream> = snap.streams.into_iter().map(|s| (s.stream_id.clone(), s)).collect();
        let mut gone = Vec::new();
        let mut came = Vec::new();
        let mut changed_info = Vec::new();
        for (id, old) in &self.streams {
            match fresh.get(id) {
                None if hold.is_some() => {
                    self.held_streams.insert(id.clone());
                }
                None if holding && self.held_streams.contains(id) => {}
                // Missed during a gap: why it went is not known here; 1 (stopped) is reported.
                None => gone.push(old.clone()),
                Some(new) if new.user != old.user => {
                    gone.push(old.clone());
                    came.push(new.clone());
                }
                Some(new) if new.extra_info != old.extra_info => changed_info.push(new.clone()),
                Some(_) => {}
            }
        }
        for (id, s) in &fresh {
            self.held_streams.remove(id);
            if !self.streams.contains_key(id) {
                came.push(s.clone());
            }
        }
        for s in &gone {
            self.streams.remove(&s.stream_id);
            self.held_streams.remove(&s.stream_id);
        }
        for s in came.iter().chain(&changed_info) {
            self.streams.insert(s.stream_id.clone(), s.clone());
        }
        let reasons: Vec<StreamDeleteReason> =
            gone.iter().map(|s| StreamDeleteReason { stream_id: s.stream_id.clone(), code: delete_reason::STOPPED }).collect();
        report_streams(ctx, room_id, UpdateType::Delete, gone, stream_delete_json(&reasons));
        changed_info.extend(came.iter().filter(|s| !s.extra_info.is_empty()).cloned());
        report_streams(ctx, room_id, UpdateType::Add, came, "{}".to_owned());
        if !changed_info.is_empty() {
            changed_info.sort();
            ctx.event(Event::RoomStreamExtraInfoUpdate { streams: changed_info, room_id: room_id.to_owned() });
        }

        let fresh: BTreeMap<String, RoomExtraInfo> = snap.extra_info.into_iter().map(|i| (i.key.clone(), i)).collect();
        if fresh != self.extra_info {
            let changed: Vec<RoomExtraInfo> = fresh.values().filter(|i| self.extra_info.get(&i.key) != Some(*i)).cloned().collect();
            self.extra_info = fresh;
            if !changed.is_empty() {
                ctx.event(Event::RoomExtraInfoUpdate { infos: changed, room_id: room_id.to_owned() });
            }
        }
        if self.held_members.is_empty() && self.held_streams.is_empty() {
            self.held_until = None;
        }
    }

    /// A live user update. Never reports the same Add twice or a Delete of someone unknown; an Add
    /// of a known user under a new name is reported as Delete (old) then Add (new).
    pub fn apply_user_update(&mut self, ctx: &mut Ctx, room_id: &str, kind: UserUpdateKind, users: Vec<User>) {
        let mut deleted = Vec::new();
        let mut added = Vec::new();
        for u in users {
            match kind {
                UserUpdateKind::Add => {
                    self.held_members.remove(&u.user_id);
                    match self.members.insert(u.user_id.clone(), u.clone()) {
                        None => added.push(u),
                        Some(old) if old.user_name != u.user_name => {
                            deleted.push(old);
                            added.push(u);
                        }
                        Some(_) => {}
                    }
                }
                UserUpdateKind::Delete => {
                    self.held_members.remove(&u.user_id);
                    if let Some(old) = self.members.remove(&u.user_id) {
                        deleted.push(old);
                    }
                }
            }
        }
        report_users(ctx, room_id, UpdateType::Delete, deleted);
        report_users(ctx, room_id, UpdateType::Add, added);
    }

    /// A live stream update (others' streams only).
    pub fn apply_stream_update(&mut self, ctx: &mut Ctx, room_id: &str, kind: UserUpdateKind, streams: Vec<Stream>, reasons: Vec<StreamDeleteReason>) {
        match kind {
            UserUpdateKind::Add => {
                let mut added = Vec::new();
                let mut info = Vec::new();
                for s in streams {
                    self.held_streams.remove(&s.stream_id);
                    match self.streams.insert(s.stream_id.clone(), s.clone()) {
                        None => {
                            if !s.extra_info.is_empty() {
                                info.push(s.clone());
                            }
                            added.push(s);
                        }
                        Some(old) if old.extra_info != s.extra_info => info.push(s),
                        Some(_) => {}
                    }
                }
                report_streams(ctx, room_id, UpdateType::Add, added, "{}".to_owned());
                if !info.is_empty() {
                    ctx.event(Event::RoomStreamExtraInfoUpdate { streams: info, room_id: room_id.to_owned() });
                }
            }
            UserUpdateKind::Delete => {
                let mut deleted = Vec::new();
                let mut codes = Vec::new();
                for s in streams {
                    self.held_streams.remove(&s.stream_id);
                    if let Some(old) = self.streams.remove(&s.stream_id) {
                        let code = reasons.iter().find(|r| r.stream_id == s.stream_id).map_or(delete_reason::STOPPED, |r| r.code);
                        codes.push(StreamDeleteReason { stream_id: s.stream_id.clone(), code });
                        deleted.push(old);
                    }
                }
                report_streams(ctx, room_id, UpdateType::Delete, deleted, stream_delete_json(&codes));
            }
        }
    }

    /// Other users changed their streams' extra info. Unknown streams are ignored.
    pub fn apply_stream_extra_info(&mut self, ctx: &mut Ctx, room_id: &str, streams: Vec<Stream>) {
        let mut changed = Vec::new();
        for s in streams {
            if let Some(known) = self.streams.get_mut(&s.stream_id) {
                if known.extra_info != s.extra_info {
                    known.extra_info = s.extra_info.clone();
                    changed.push(known.clone());
                }
            }
        }
        if !changed.is_empty() {
            ctx.event(Event::RoomStreamExtraInfoUpdate { streams: changed, room_id: room_id.to_owned() });
        }
    }

    /// The room's extra info changed (set by someone else).
    pub fn apply_extra_info(&mut self, ctx: &mut Ctx, room_id: &str, infos: Vec<RoomExtraInfo>) {
        let mut changed = Vec::new();
        for i in infos {
            if self.extra_info.get(&i.key) != Some(&i) {
                self.extra_info.clear(); // one key per room
                self.extra_info.insert(i.key.clone(), i.clone());
                changed.push(i);
            }
        }
        if !changed.is_empty() {
            ctx.event(Event::RoomExtraInfoUpdate { infos: changed, room_id: room_id.to_owned() });
        }
    }

    /// Records the local user's own successful `set_room_extra_info` (the setter gets no update).
    pub fn set_own_extra_info(&mut self, info: RoomExtraInfo) {
        self.extra_info.clear();
        self.extra_info.insert(info.key.clone(), info);
    }

    /// Restart recovery is over: whoever is still held is gone (users Delete, streams Delete 2).
    pub fn on_timeout(&mut self, ctx: &mut Ctx, room_id: &str, now: Instant) {
        if !self.held_until.is_some_and(|t| now >= t) {
            return;
        }
        self.held_until = None;
        let users: Vec<User> =
            std::mem::take(&mut self.held_members).into_iter().filter_map(|id| self.members.remove(&id)).collect();
        report_users(ctx, room_id, UpdateType::Delete, users);
        let streams: Vec<Stream> =
            std::mem::take(&mut self.held_streams).into_iter().filter_map(|id| self.streams.remove(&id)).collect();
        let reasons: Vec<StreamDeleteReason> = streams
            .iter()
            .map(|s| StreamDeleteReason { stream_id: s.stream_id.clone(), code: delete_reason::HEARTBEAT_TIMEOUT })
            .collect();
        report_streams(ctx, room_id, UpdateType::Delete, streams, stream_delete_json(&reasons));
    }
}

fn report_users(ctx: &mut Ctx, room_id: &str, update_type: UpdateType, users: Vec<User>) {
    if !users.is_empty() {
        ctx.event(Event::RoomUserUpdate { update_type, users, room_id: room_id.to_owned() });
    }
}

fn report_streams(ctx: &mut Ctx, room_id: &str, update_type: UpdateType, streams: Vec<Stream>, extended_data: String) {
    if !streams.is_empty() {
        ctx.event(Event::RoomStreamUpdate { update_type, streams, extended_data, room_id: room_id.to_owned() });
    }
}
