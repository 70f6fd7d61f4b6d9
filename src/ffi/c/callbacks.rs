//! The per-engine table of C callbacks. It is the engine's [`EventHandler`]: the engine calls it
//! on its dispatcher thread, one event at a time; it copies the strings to C, reads the slot and
//! calls the C function with no engine lock held.
//!
//! Registration guarantee: `call_lock` is held by the dispatcher thread while it reads a slot and
//! runs the C function. A registration from another thread replaces the slot, then takes and
//! releases `call_lock`, so it returns only after any in-flight call of the old function has
//! finished, and every later call reads the new slot. On the callback thread itself (a callback
//! re-registering) it must not wait for itself: the current call already read the old slot,
//! and the next one reads the new slot.

use std::ffi::{c_void, CString};

use parking_lot::Mutex;

use super::cstr::to_c;
use super::*;
use crate::engine::EventHandler;
use crate::events::Seq;
use crate::types::{
    BarrageMessageInfo, BroadcastMessageInfo, PlayerState, PublisherState, RoomExtraInfo, RoomState, RoomStateChangedReason, Stream, UpdateType, User,
};

/// A C function pointer and the user context registered with it.
#[derive(Clone, Copy)]
pub(crate) struct Slot<F: Copy> {
    f: Option<F>,
    /// The host's `void *`, kept as an address: the table must be `Send + Sync`, and the
    /// pointer is only handed back to the host's own function.
    ctx: usize,
}

impl<F: Copy> Default for Slot<F> {
    fn default() -> Self {
        Slot { f: None, ctx: 0 }
    }
}

impl<F: Copy> Slot<F> {
    pub(crate) fn new(f: Option<F>, ctx: *mut c_void) -> Self {
        Slot { f, ctx: if f.is_some() { ctx as usize } else { 0 } }
    }
}

#[derive(Default)]
pub(crate) struct Slots {
    pub state_changed: Slot<unsafe extern "C" fn(*mut c_void, zego_room_state_changed_reason, zego_error, *const c_char, *const c_char)>,
    pub state_update: Slot<unsafe extern "C" fn(*mut c_void, zego_room_state, zego_error, *const c_char, *const c_char)>,
    pub user_update: Slot<unsafe extern "C" fn(*mut c_void, zego_update_type, *const zego_user, u32, *const c_char)>,
    pub online_count: Slot<unsafe extern "C" fn(*mut c_void, i32, *const c_char)>,
    pub token_will_expire: Slot<unsafe extern "C" fn(*mut c_void, i32, *const c_char)>,
    pub login_result: Slot<unsafe extern "C" fn(*mut c_void, zego_error, *const c_char, *const c_char, zego_seq)>,
    pub logout_result: Slot<unsafe extern "C" fn(*mut c_void, zego_error, *const c_char, *const c_char, zego_seq)>,
    // streams (§6.2)
    pub stream_update: Slot<unsafe extern "C" fn(*mut c_void, zego_update_type, *const zego_stream, u32, *const c_char, *const c_char)>,
    pub stream_extra_info_update: Slot<unsafe extern "C" fn(*mut c_void, *const zego_stream, u32, *const c_char)>,
    pub publisher_state: Slot<unsafe extern "C" fn(*mut c_void, zego_publisher_state, zego_error, *const c_char, *const c_char)>,
    pub player_state: Slot<unsafe extern "C" fn(*mut c_void, zego_player_state, zego_error, *const c_char, *const c_char)>,
    pub stream_extra_info_result: Slot<unsafe extern "C" fn(*mut c_void, zego_error, zego_seq)>,
    pub recv_sei: Slot<unsafe extern "C" fn(*mut c_void, *const u8, u32, *const c_char)>,
    // messaging and room extra info (§7.2)
    pub broadcast_result: Slot<unsafe extern "C" fn(*mut c_void, zego_error, u64, *const c_char, zego_seq)>,
    pub barrage_result: Slot<unsafe extern "C" fn(*mut c_void, zego_error, *const c_char, *const c_char, zego_seq)>,
    pub custom_command_result: Slot<unsafe extern "C" fn(*mut c_void, zego_error, *const c_char, zego_seq)>,
    pub room_extra_info_result: Slot<unsafe extern "C" fn(*mut c_void, zego_error, *const c_char, *const c_char, zego_seq)>,
    pub recv_broadcast: Slot<unsafe extern "C" fn(*mut c_void, *const zego_broadcast_message_info, u32, *const c_char)>,
    pub recv_barrage: Slot<unsafe extern "C" fn(*mut c_void, *const zego_barrage_message_info, u32, *const c_char)>,
    pub recv_custom_command: Slot<unsafe extern "C" fn(*mut c_void, *const c_char, *const zego_user, *const c_char)>,
    pub room_extra_info_update: Slot<unsafe extern "C" fn(*mut c_void, *const zego_room_extra_info, u32, *const c_char)>,
}

#[derive(Default)]
pub(crate) struct CallbackTable {
    slots: Mutex<Slots>,
    call_lock: Mutex<()>,
}

impl CallbackTable {
    /// Replaces a slot; see the module comment for the guarantee.
    pub(crate) fn register(&self, on_callback_thread: bool, set: impl FnOnce(&mut Slots)) {
        set(&mut self.slots.lock());
        if !on_callback_thread {
            drop(self.call_lock.lock());
        }
    }

    /// Runs `call` with the slot chosen by `pick`, if a function is registered, under `call_lock`.
    fn call<F: Copy>(&self, pick: impl FnOnce(&Slots) -> Slot<F>, call: impl FnOnce(F, *mut c_void)) {
        let _in_flight = self.call_lock.lock();
        let slot = pick(&self.slots.lock());
        if let Some(f) = slot.f {
            call(f, slot.ctx as *mut c_void);
        }
    }
}

fn reason_to_c(r: RoomStateChangedReason) -> zego_room_state_changed_reason {
    use zego_room_state_changed_reason::*;
    match r {
        RoomStateChangedReason::Logining => ZEGO_ROOM_STATE_CHANGED_REASON_LOGINING,
        RoomStateChangedReason::Logined => ZEGO_ROOM_STATE_CHANGED_REASON_LOGINED,
        RoomStateChangedReason::LoginFailed => ZEGO_ROOM_STATE_CHANGED_REASON_LOGIN_FAILED,
        RoomStateChangedReason::Reconnecting => ZEGO_ROOM_STATE_CHANGED_REASON_RECONNECTING,
        RoomStateChangedReason::Reconnected => ZEGO_ROOM_STATE_CHANGED_REASON_RECONNECTED,
        RoomStateChangedReason::ReconnectFailed => ZEGO_ROOM_STATE_CHANGED_REASON_RECONNECT_FAILED,
        RoomStateChangedReason::KickOut => ZEGO_ROOM_STATE_CHANGED_REASON_KICK_OUT,
        RoomStateChangedReason::Logout => ZEGO_ROOM_STATE_CHANGED_REASON_LOGOUT,
        RoomStateChangedReason::LogoutFailed => ZEGO_ROOM_STATE_CHANGED_REASON_LOGOUT_FAILED,
    }
}

fn update_type_to_c(u: UpdateType) -> zego_update_type {
    match u {
        UpdateType::Add => zego_update_type::ZEGO_UPDATE_TYPE_ADD,
        UpdateType::Delete => zego_update_type::ZEGO_UPDATE_TYPE_DELETE,
    }
}

fn publisher_state_to_c(s: PublisherState) -> zego_publisher_state {
    match s {
        PublisherState::NoPublish => zego_publisher_state::ZEGO_PUBLISHER_STATE_NO_PUBLISH,
        PublisherState::PublishRequesting => zego_publisher_state::ZEGO_PUBLISHER_STATE_PUBLISH_REQUESTING,
        PublisherState::Publishing => zego_publisher_state::ZEGO_PUBLISHER_STATE_PUBLISHING,
    }
}

fn player_state_to_c(s: PlayerState) -> zego_player_state {
    match s {
        PlayerState::NoPlay => zego_player_state::ZEGO_PLAYER_STATE_NO_PLAY,
        PlayerState::PlayRequesting => zego_player_state::ZEGO_PLAYER_STATE_PLAY_REQUESTING,
        PlayerState::Playing => zego_player_state::ZEGO_PLAYER_STATE_PLAYING,
    }
}

fn count_of<T>(v: &[T]) -> u32 {
    u32::try_from(v.len()).unwrap_or(u32::MAX)
}

/// C copies of strings for one callback: every pointer handed out stays valid until the holder
/// is dropped (after the call). CString data does not move when the Vec grows.
#[derive(Default)]
struct CStrings(Vec<CString>);

impl CStrings {
    fn keep(&mut self, s: &str) -> *const c_char {
        let c = to_c(s);
        let p = c.as_ptr();
        self.0.push(c);
        p
    }

    fn user(&mut self, u: &User) -> zego_user {
        zego_user { user_id: self.keep(&u.user_id), user_name: self.keep(&u.user_name) }
    }

    fn streams(&mut self, list: &[Stream]) -> Vec<zego_stream> {
        list.iter()
            .map(|s| zego_stream { user: self.user(&s.user), stream_id: self.keep(&s.stream_id), extra_info: self.keep(&s.extra_info) })
            .collect()
    }
}

fn state_to_c(s: RoomState) -> zego_room_state {
    match s {
        RoomState::Disconnected => zego_room_state::ZEGO_ROOM_STATE_DISCONNECTED,
        RoomState::Connecting => zego_room_state::ZEGO_ROOM_STATE_CONNECTING,
        RoomState::Connected => zego_room_state::ZEGO_ROOM_STATE_CONNECTED,
    }
}

impl EventHandler for CallbackTable {
    fn on_room_state_changed(&self, reason: RoomStateChangedReason, error_code: i32, extended_data: &str, room_id: &str) {
        let (ext, room) = (to_c(extended_data), to_c(room_id));
        self.call(|s| s.state_changed, |f, ctx| unsafe { f(ctx, reason_to_c(reason), error_code, ext.as_ptr(), room.as_ptr()) });
    }

    fn on_room_state_update(&self, state: RoomState, error_code: i32, extended_data: &str, room_id: &str) {
        let (ext, room) = (to_c(extended_data), to_c(room_id));
        self.call(|s| s.state_update, |f, ctx| unsafe { f(ctx, state_to_c(state), error_code, ext.as_ptr(), room.as_ptr()) });
    }

    fn on_room_user_update(&self, update_type: UpdateType, user_list: &[User], room_id: &str) {
        let room = to_c(room_id);
        let strings: Vec<_> = user_list.iter().map(|u| (to_c(&u.user_id), to_c(&u.user_name))).collect();
        let users: Vec<zego_user> = strings.iter().map(|(id, name)| zego_user { user_id: id.as_ptr(), user_name: name.as_ptr() }).collect();
        let kind = match update_type {
            UpdateType::Add => zego_update_type::ZEGO_UPDATE_TYPE_ADD,
            UpdateType::Delete => zego_update_type::ZEGO_UPDATE_TYPE_DELETE,
        };
        let count = u32::try_from(users.len()).unwrap_or(u32::MAX);
        self.call(|s| s.user_update, |f, ctx| unsafe { f(ctx, kind, users.as_ptr(), count, room.as_ptr()) });
    }

    fn on_room_online_user_count_update(&self, count: i32, room_id: &str) {
        let room = to_c(room_id);
        self.call(|s| s.online_count, |f, ctx| unsafe { f(ctx, count, room.as_ptr()) });
    }

    fn on_room_token_will_expire(&self, remain_time_in_second: i32, room_id: &str) {
        let room = to_c(room_id);
        self.call(|s| s.token_will_expire, |f, ctx| unsafe { f(ctx, remain_time_in_second, room.as_ptr()) });
    }

    fn on_room_login_result(&self, error_code: i32, extended_data: &str, room_id: &str, seq: Seq) {
        let (ext, room) = (to_c(extended_data), to_c(room_id));
        self.call(|s| s.login_result, |f, ctx| unsafe { f(ctx, error_code, ext.as_ptr(), room.as_ptr(), seq) });
    }

    fn on_room_logout_result(&self, error_code: i32, extended_data: &str, room_id: &str, seq: Seq) {
        let (ext, room) = (to_c(extended_data), to_c(room_id));
        self.call(|s| s.logout_result, |f, ctx| unsafe { f(ctx, error_code, ext.as_ptr(), room.as_ptr(), seq) });
    }

    // ---- streams (§6.2) ----

    fn on_room_stream_update(&self, update_type: UpdateType, stream_list: &[Stream], extended_data: &str, room_id: &str) {
        let mut c = CStrings::default();
        let list = c.streams(stream_list);
        let (ext, room) = (c.keep(extended_data), c.keep(room_id));
        let kind = update_type_to_c(update_type);
        self.call(|s| s.stream_update, |f, ctx| unsafe { f(ctx, kind, list.as_ptr(), count_of(&list), ext, room) });
    }

    fn on_room_stream_extra_info_update(&self, stream_list: &[Stream], room_id: &str) {
        let mut c = CStrings::default();
        let list = c.streams(stream_list);
        let room = c.keep(room_id);
        self.call(|s| s.stream_extra_info_update, |f, ctx| unsafe { f(ctx, list.as_ptr(), count_of(&list), room) });
    }

    fn on_publisher_state_update(&self, state: PublisherState, error_code: i32, extended_data: &str, stream_id: &str) {
        let (ext, id) = (to_c(extended_data), to_c(stream_id));
        self.call(|s| s.publisher_state, |f, ctx| unsafe { f(ctx, publisher_state_to_c(state), error_code, ext.as_ptr(), id.as_ptr()) });
    }

    fn on_player_state_update(&self, state: PlayerState, error_code: i32, extended_data: &str, stream_id: &str) {
        let (ext, id) = (to_c(extended_data), to_c(stream_id));
        self.call(|s| s.player_state, |f, ctx| unsafe { f(ctx, player_state_to_c(state), error_code, ext.as_ptr(), id.as_ptr()) });
    }

    fn on_publisher_update_stream_extra_info_result(&self, error_code: i32, seq: Seq) {
        self.call(|s| s.stream_extra_info_result, |f, ctx| unsafe { f(ctx, error_code, seq) });
    }

    fn on_player_recv_sei(&self, data: &[u8], stream_id: &str) {
        let id = to_c(stream_id);
        // Binary: pointer and length, NUL bytes included; never a C string.
        self.call(|s| s.recv_sei, |f, ctx| unsafe { f(ctx, data.as_ptr(), count_of(data), id.as_ptr()) });
    }

    // ---- messaging and room extra info (§7.2) ----

    fn on_im_send_broadcast_message_result(&self, error_code: i32, message_id: u64, room_id: &str, seq: Seq) {
        let room = to_c(room_id);
        self.call(|s| s.broadcast_result, |f, ctx| unsafe { f(ctx, error_code, message_id, room.as_ptr(), seq) });
    }

    fn on_im_send_barrage_message_result(&self, error_code: i32, message_id: &str, room_id: &str, seq: Seq) {
        let (id, room) = (to_c(message_id), to_c(room_id));
        self.call(|s| s.barrage_result, |f, ctx| unsafe { f(ctx, error_code, id.as_ptr(), room.as_ptr(), seq) });
    }

    fn on_im_send_custom_command_result(&self, error_code: i32, room_id: &str, seq: Seq) {
        let room = to_c(room_id);
        self.call(|s| s.custom_command_result, |f, ctx| unsafe { f(ctx, error_code, room.as_ptr(), seq) });
    }

    fn on_room_set_room_extra_info_result(&self, error_code: i32, room_id: &str, key: &str, seq: Seq) {
        let (room, key) = (to_c(room_id), to_c(key));
        self.call(|s| s.room_extra_info_result, |f, ctx| unsafe { f(ctx, error_code, room.as_ptr(), key.as_ptr(), seq) });
    }

    fn on_im_recv_broadcast_message(&self, message_list: &[BroadcastMessageInfo], room_id: &str) {
        let mut c = CStrings::default();
        let list: Vec<zego_broadcast_message_info> = message_list
            .iter()
            .map(|m| zego_broadcast_message_info {
                message: c.keep(&m.message),
                message_id: m.message_id,
                send_time: m.send_time,
                from_user: c.user(&m.from_user),
            })
            .collect();
        let room = c.keep(room_id);
        self.call(|s| s.recv_broadcast, |f, ctx| unsafe { f(ctx, list.as_ptr(), count_of(&list), room) });
    }

    fn on_im_recv_barrage_message(&self, message_list: &[BarrageMessageInfo], room_id: &str) {
        let mut c = CStrings::default();
        let list: Vec<zego_barrage_message_info> = message_list
            .iter()
            .map(|m| zego_barrage_message_info {
                message: c.keep(&m.message),
                message_id: c.keep(&m.message_id),
                send_time: m.send_time,
                from_user: c.user(&m.from_user),
            })
            .collect();
        let room = c.keep(room_id);
        self.call(|s| s.recv_barrage, |f, ctx| unsafe { f(ctx, list.as_ptr(), count_of(&list), room) });
    }

    fn on_im_recv_custom_command(&self, command: &str, from_user: &User, room_id: &str) {
        let mut c = CStrings::default();
        let user = c.user(from_user);
        let (command, room) = (c.keep(command), c.keep(room_id));
        self.call(|s| s.recv_custom_command, |f, ctx| unsafe { f(ctx, command, &user, room) });
    }

    fn on_room_extra_info_update(&self, room_extra_info_list: &[RoomExtraInfo], room_id: &str) {
        let mut c = CStrings::default();
        let list: Vec<zego_room_extra_info> = room_extra_info_list
            .iter()
            .map(|i| zego_room_extra_info {
                key: c.keep(&i.key),
                value: c.keep(&i.value),
                update_user: c.user(&i.update_user),
                update_time: i.update_time,
            })
            .collect();
        let room = c.keep(room_id);
        self.call(|s| s.room_extra_info_update, |f, ctx| unsafe { f(ctx, list.as_ptr(), count_of(&list), room) });
    }
}
