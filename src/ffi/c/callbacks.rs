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

use std::ffi::c_void;

use parking_lot::Mutex;

use super::cstr::to_c;
use super::*;
use crate::engine::EventHandler;
use crate::events::Seq;
use crate::types::{RoomState, RoomStateChangedReason, UpdateType, User};

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
}
