//! Property-based fuzzing of the C ABI (`zego_room::ffi::c`): random sequences of login, logout,
//! switch, renew, set_engine_config, stream calls (publish, play, extra info, SEI, stream lists
//! and their free), messaging calls (broadcast, barrage, custom command, room extra info),
//! (un)register and destroy calls from 4 threads sharing 1-3 engines, against a real in-process room server, with NULL pointers, invalid UTF-8, over-long
//! strings, destroyed and never-issued handles, and callbacks that call back into the engine
//! (logout, destroy) while other threads keep calling.
//!
//! Properties (docs/c-api.md "Rules"):
//! * no panic escapes: every return is 0 or a known ZEGO code, never 1002099;
//! * out-parameters are written only on success; a stream list is consistent (NULL iff empty,
//!   valid strings) and freeing it (twice, or NULL) is harmless;
//! * no deadlock: each case finishes within a deadline (a watchdog aborts the process otherwise);
//! * callbacks of one engine never run concurrently, none starts after `zego_engine_destroy`
//!   returned (outside a callback) and none is still running when it returns; a callback that
//!   destroys its engine is the last one;
//! * after a register function returns, the previous (function, context) is never called again,
//!   and no call of it is still in flight;
//! * callback arguments are valid: UTF-8 strings, `extended_data` a JSON object.
//!
//! Default: 64 cases (a few seconds). `PROPTEST_CASES=N` for longer runs (docs/fuzzing.md).
#![cfg(feature = "server")]

use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use zego_room::error_codes as ec;
use zego_room::ffi::c::*;
use zego_room::server::{self, ServerConfig, ServerHandle};
use zego_room::token04;

const APP_ID: u32 = 1_234_567;
const SECRET: &str = "0123456789abcdef0123456789abcdef";
const ROOMS: [&str; 3] = ["fz0", "fz1", "fz2"];
const USERS: [&str; 3] = ["cu0", "cu1", "cu2"];
const CASE_DEADLINE: Duration = Duration::from_secs(30);


/// Every code a C function may return (src/error_codes.rs), INNER_ERROR (1002099) excluded.
const KNOWN: &[i32] = &[
    ec::SUCCESS,
    ec::ENGINE_NOT_CREATED,
    ec::ILLEGAL_PARAM,
    ec::ROOM_COUNT_EXCEED,
    ec::ROOM_ID_INCORRECT,
    ec::USER_ID_EMPTY,
    ec::USER_ID_ILLEGAL_CHAR,
    ec::USER_ID_TOO_LONG,
    ec::USER_NAME_ILLEGAL_CHAR,
    ec::USER_NAME_TOO_LONG,
    ec::ROOM_ID_EMPTY,
    ec::ROOM_ID_ILLEGAL_CHAR,
    ec::ROOM_ID_TOO_LONG,
    ec::MULTI_ROOM_DIFFERENT_USER,
    ec::SWITCH_ROOM_IN_MULTI_ROOM,
    ec::AUTHENTICATION_FAILED,
    ec::ROOM_FULL,
    ec::MULTI_ROOM_COUNT_EXCEED,
    ec::KICKED_OUT_DUPLICATE_LOGIN,
    ec::CONNECT_TEMPORARY_BROKEN,
    ec::DISCONNECT,
    ec::RETRY_TIMEOUT,
    ec::MANUAL_KICKED_OUT,
    ec::TOKEN_EXPIRED,
    // streams and messaging (§6, §7)
    ec::NOT_LOGIN_ROOM,
    ec::STREAM_ID_TOO_LONG,
    ec::STREAM_ID_EMPTY,
    ec::STREAM_ID_ILLEGAL_CHAR,
    ec::ROOM_EXTRA_INFO_KEY_EMPTY,
    ec::ROOM_EXTRA_INFO_KEY_TOO_LONG,
    ec::ROOM_EXTRA_INFO_VALUE_TOO_LONG,
    ec::ROOM_EXTRA_INFO_EXCEED_KEYS,
    ec::PUBLISHER_NOT_PUBLISHING,
    ec::PUBLISHER_CONNECTION_LOST,
    ec::PUBLISHER_RETRY_TIMEOUT,
    ec::PUBLISHER_CHANNEL_BUSY,
    ec::PUBLISHER_FORBIDDEN,
    ec::PUBLISHER_STREAM_ID_TAKEN,
    ec::PUBLISHER_ROOM_ID_REQUIRED,
    ec::PUBLISHER_NO_PRIVILEGE,
    ec::PLAYER_COUNT_EXCEED,
    ec::PLAYER_INTERRUPTED,
    ec::PLAYER_FORBIDDEN,
    ec::PLAYER_ROOM_ID_REQUIRED,
    ec::MESSAGE_EMPTY,
    ec::MESSAGE_TOO_LONG,
    ec::MESSAGE_ROOM_NOT_JOINED,
    ec::MESSAGE_SEND_FAILED,
    ec::MESSAGE_TARGET_EMPTY,
    ec::MESSAGE_TARGET_TOO_LONG,
    ec::MESSAGE_RATE_LIMITED,
];

/// Callback slots: the 7 room callbacks, then the 14 of streams and messaging.
const SLOTS: usize = 21;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn server() -> &'static ServerHandle {
    static S: OnceLock<ServerHandle> = OnceLock::new();
    S.get_or_init(|| {
        server::start(ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            admin_listen: "127.0.0.1:0".parse().unwrap(),
            app_id: APP_ID,
            server_secret: Some(SECRET.into()),
            heartbeat_timeout: Duration::from_secs(3),
            ping_interval: Duration::from_secs(1),
            count_interval: Duration::from_secs(1),
            ..ServerConfig::default()
        })
        .expect("server starts")
    })
}

/// Handles destroyed in earlier cases (ids are never reused, so they must stay dead).
fn graveyard() -> &'static Mutex<Vec<usize>> {
    static G: OnceLock<Mutex<Vec<usize>>> = OnceLock::new();
    G.get_or_init(|| Mutex::new(Vec::new()))
}

// ---------------------------------------------------------------------------------------------
// Callback bookkeeping
// ---------------------------------------------------------------------------------------------

/// Per engine.
struct Track {
    name: String,
    handle: AtomicUsize,
    in_cb: AtomicBool,
    /// Set once destroy returned outside a callback, or when the callback that destroyed returns.
    destroyed: AtomicBool,
    calls: AtomicU32,
    /// Set by a callback right after it called zego_engine_destroy (before it returns).
    destroying_in_cb: AtomicBool,
    /// 0: none; 1: the login result callback logs out of every room; 2: the LOGINED state
    /// callback destroys the engine (then lingers a little so concurrent destroys overlap).
    reenter: u8,
    violations: Arc<Mutex<Vec<String>>>,
}

/// Per registration (the `user_context` handed to C).
struct Ctx {
    track: Arc<Track>,
    slot: usize,
    retired: AtomicBool,
    active: AtomicU32,
}

impl Track {
    fn violation(&self, what: String) {
        self.violations.lock().unwrap().push(format!("{}: {what}", self.name));
    }
}

unsafe fn check_str(ctx: &Ctx, what: &str, p: *const c_char) -> Option<String> {
    if p.is_null() {
        ctx.track.violation(format!("NULL {what}"));
        return None;
    }
    match CStr::from_ptr(p).to_str() {
        Ok(s) => Some(s.to_owned()),
        Err(_) => {
            ctx.track.violation(format!("{what} is not UTF-8"));
            None
        }
    }
}

unsafe fn check_ext(ctx: &Ctx, p: *const c_char) {
    if let Some(s) = check_str(ctx, "extended_data", p) {
        if !serde_json::from_str::<serde_json::Value>(&s).is_ok_and(|v| v.is_object()) {
            ctx.track.violation(format!("extended_data {s:?} is not a JSON object"));
        }
    }
}

/// Entry of every callback: concurrency, after-destroy and retired-context checks.
unsafe fn enter<'a>(p: *mut c_void, slot: usize) -> &'a Ctx {
    let ctx = &*(p as *const Ctx);
    let t = &ctx.track;
    t.calls.fetch_add(1, Ordering::SeqCst);
    if ctx.slot != slot {
        t.violation(format!("context of slot {} passed to slot {slot}", ctx.slot));
    }
    if t.destroyed.load(Ordering::SeqCst) {
        t.violation(format!("callback (slot {slot}) after destroy returned"));
    }
    if ctx.retired.load(Ordering::SeqCst) {
        t.violation(format!("callback (slot {slot}) with a context replaced by a register that returned"));
    }
    if t.in_cb.swap(true, Ordering::SeqCst) {
        t.violation(format!("two callbacks at once (slot {slot})"));
    }
    ctx.active.fetch_add(1, Ordering::SeqCst);
    // Widen the windows a little.
    std::thread::yield_now();
    ctx
}

fn leave(ctx: &Ctx, destroyed_here: bool) {
    ctx.active.fetch_sub(1, Ordering::SeqCst);
    if destroyed_here {
        // The deferred destroy takes effect when this returns: nothing may follow.
        ctx.track.destroyed.store(true, Ordering::SeqCst);
    }
    ctx.track.in_cb.store(false, Ordering::SeqCst);
}

fn code_ok(t: &Track, what: &str, code: i32) {
    if !KNOWN.contains(&code) {
        t.violation(format!("{what} returned unknown code {code}"));
    }
}

unsafe extern "C" fn cb_state_changed(p: *mut c_void, reason: zego_room_state_changed_reason, code: zego_error, ext: *const c_char, room: *const c_char) {
    let ctx = enter(p, 0);
    check_ext(ctx, ext);
    check_str(ctx, "room_id", room);
    code_ok(&ctx.track, "state_changed error_code", code);
    let mut destroyed_here = false;
    if ctx.track.reenter == 2 && reason == zego_room_state_changed_reason::ZEGO_ROOM_STATE_CHANGED_REASON_LOGINED {
        zego_engine_destroy(ctx.track.handle.load(Ordering::SeqCst) as *mut zego_engine);
        destroyed_here = true;
        ctx.track.destroying_in_cb.store(true, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(10));
    }
    leave(ctx, destroyed_here);
}

unsafe extern "C" fn cb_state_update(p: *mut c_void, _s: zego_room_state, code: zego_error, ext: *const c_char, room: *const c_char) {
    let ctx = enter(p, 1);
    check_ext(ctx, ext);
    check_str(ctx, "room_id", room);
    code_ok(&ctx.track, "state_update error_code", code);
    leave(ctx, false);
}

unsafe extern "C" fn cb_user_update(p: *mut c_void, _k: zego_update_type, users: *const zego_user, n: u32, room: *const c_char) {
    let ctx = enter(p, 2);
    check_str(ctx, "room_id", room);
    if n > 0 && users.is_null() {
        ctx.track.violation("NULL user_list".into());
    } else {
        for i in 0..n as usize {
            let u = &*users.add(i);
            check_str(ctx, "user_id", u.user_id);
            check_str(ctx, "user_name", u.user_name);
        }
    }
    leave(ctx, false);
}

unsafe extern "C" fn cb_count(p: *mut c_void, count: i32, room: *const c_char) {
    let ctx = enter(p, 3);
    check_str(ctx, "room_id", room);
    if count < 1 {
        ctx.track.violation(format!("online count {count}"));
    }
    leave(ctx, false);
}

unsafe extern "C" fn cb_token(p: *mut c_void, _remain: i32, room: *const c_char) {
    let ctx = enter(p, 4);
    check_str(ctx, "room_id", room);
    leave(ctx, false);
}

unsafe extern "C" fn cb_login_result(p: *mut c_void, code: zego_error, ext: *const c_char, room: *const c_char, seq: zego_seq) {
    let ctx = enter(p, 5);
    check_ext(ctx, ext);
    check_str(ctx, "room_id", room);
    code_ok(&ctx.track, "login_result error_code", code);
    if seq <= 0 {
        ctx.track.violation(format!("login result seq {seq}"));
    }
    if ctx.track.reenter == 1 {
        let mut seq = -7;
        let r = zego_engine_logout_room(ctx.track.handle.load(Ordering::SeqCst) as *mut zego_engine, std::ptr::null(), &mut seq);
        code_ok(&ctx.track, "logout from a callback", r);
        if (r == 0) != (seq > 0) {
            ctx.track.violation(format!("logout from a callback: code {r}, seq {seq}"));
        }
    }
    leave(ctx, false);
}

unsafe extern "C" fn cb_logout_result(p: *mut c_void, code: zego_error, ext: *const c_char, room: *const c_char, seq: zego_seq) {
    let ctx = enter(p, 6);
    check_ext(ctx, ext);
    check_str(ctx, "room_id", room);
    code_ok(&ctx.track, "logout_result error_code", code);
    if seq <= 0 {
        ctx.track.violation(format!("logout result seq {seq}"));
    }
    leave(ctx, false);
}

unsafe fn check_user(ctx: &Ctx, u: &zego_user) {
    check_str(ctx, "user_id", u.user_id);
    check_str(ctx, "user_name", u.user_name);
}

unsafe fn check_streams(ctx: &Ctx, list: *const zego_stream, n: u32) {
    if n > 0 && list.is_null() {
        ctx.track.violation("NULL stream_list".into());
        return;
    }
    for i in 0..n as usize {
        let s = &*list.add(i);
        check_user(ctx, &s.user);
        check_str(ctx, "stream_id", s.stream_id);
        check_str(ctx, "extra_info", s.extra_info);
    }
}

unsafe extern "C" fn cb_stream_update(p: *mut c_void, _k: zego_update_type, list: *const zego_stream, n: u32, ext: *const c_char, room: *const c_char) {
    let ctx = enter(p, 7);
    check_streams(ctx, list, n);
    check_ext(ctx, ext);
    check_str(ctx, "room_id", room);
    leave(ctx, false);
}

unsafe extern "C" fn cb_stream_extra(p: *mut c_void, list: *const zego_stream, n: u32, room: *const c_char) {
    let ctx = enter(p, 8);
    check_streams(ctx, list, n);
    check_str(ctx, "room_id", room);
    leave(ctx, false);
}

unsafe extern "C" fn cb_publisher_state(p: *mut c_void, _s: zego_publisher_state, code: zego_error, ext: *const c_char, id: *const c_char) {
    let ctx = enter(p, 9);
    check_ext(ctx, ext);
    check_str(ctx, "stream_id", id);
    code_ok(&ctx.track, "publisher_state error_code", code);
    leave(ctx, false);
}

unsafe extern "C" fn cb_player_state(p: *mut c_void, _s: zego_player_state, code: zego_error, ext: *const c_char, id: *const c_char) {
    let ctx = enter(p, 10);
    check_ext(ctx, ext);
    check_str(ctx, "stream_id", id);
    code_ok(&ctx.track, "player_state error_code", code);
    leave(ctx, false);
}

unsafe extern "C" fn cb_stream_extra_result(p: *mut c_void, code: zego_error, seq: zego_seq) {
    let ctx = enter(p, 11);
    code_ok(&ctx.track, "stream extra info result", code);
    if seq <= 0 {
        ctx.track.violation(format!("stream extra info result seq {seq}"));
    }
    leave(ctx, false);
}

unsafe extern "C" fn cb_sei(p: *mut c_void, data: *const u8, n: u32, id: *const c_char) {
    let ctx = enter(p, 12);
    if data.is_null() || n == 0 || n > 4096 {
        ctx.track.violation(format!("SEI frame of {n} bytes at {data:p}"));
    } else {
        let _ = std::slice::from_raw_parts(data, n as usize).iter().fold(0u8, |a, b| a ^ b);
    }
    check_str(ctx, "stream_id", id);
    leave(ctx, false);
}

unsafe fn result_common(ctx: &Ctx, what: &str, code: zego_error, room: *const c_char, seq: zego_seq) {
    code_ok(&ctx.track, what, code);
    check_str(ctx, "room_id", room);
    if seq <= 0 {
        ctx.track.violation(format!("{what} seq {seq}"));
    }
}

unsafe extern "C" fn cb_broadcast_result(p: *mut c_void, code: zego_error, _id: u64, room: *const c_char, seq: zego_seq) {
    let ctx = enter(p, 13);
    result_common(ctx, "broadcast result", code, room, seq);
    leave(ctx, false);
}

unsafe extern "C" fn cb_barrage_result(p: *mut c_void, code: zego_error, id: *const c_char, room: *const c_char, seq: zego_seq) {
    let ctx = enter(p, 14);
    check_str(ctx, "barrage message_id", id);
    result_common(ctx, "barrage result", code, room, seq);
    leave(ctx, false);
}

unsafe extern "C" fn cb_command_result(p: *mut c_void, code: zego_error, room: *const c_char, seq: zego_seq) {
    let ctx = enter(p, 15);
    result_common(ctx, "custom command result", code, room, seq);
    leave(ctx, false);
}

unsafe extern "C" fn cb_room_extra_result(p: *mut c_void, code: zego_error, room: *const c_char, key: *const c_char, seq: zego_seq) {
    let ctx = enter(p, 16);
    check_str(ctx, "key", key);
    result_common(ctx, "room extra info result", code, room, seq);
    leave(ctx, false);
}

unsafe extern "C" fn cb_recv_broadcast(p: *mut c_void, list: *const zego_broadcast_message_info, n: u32, room: *const c_char) {
    let ctx = enter(p, 17);
    if list.is_null() || !(1..=50).contains(&n) {
        ctx.track.violation(format!("{n} broadcast messages at {list:p}"));
    } else {
        for i in 0..n as usize {
            let m = &*list.add(i);
            check_str(ctx, "message", m.message);
            check_user(ctx, &m.from_user);
        }
    }
    check_str(ctx, "room_id", room);
    leave(ctx, false);
}

unsafe extern "C" fn cb_recv_barrage(p: *mut c_void, list: *const zego_barrage_message_info, n: u32, room: *const c_char) {
    let ctx = enter(p, 18);
    if list.is_null() || !(1..=50).contains(&n) {
        ctx.track.violation(format!("{n} barrage messages at {list:p}"));
    } else {
        for i in 0..n as usize {
            let m = &*list.add(i);
            check_str(ctx, "message", m.message);
            check_str(ctx, "message_id", m.message_id);
            check_user(ctx, &m.from_user);
        }
    }
    check_str(ctx, "room_id", room);
    leave(ctx, false);
}

unsafe extern "C" fn cb_recv_command(p: *mut c_void, command: *const c_char, from: *const zego_user, room: *const c_char) {
    let ctx = enter(p, 19);
    check_str(ctx, "command", command);
    if from.is_null() {
        ctx.track.violation("NULL from_user".into());
    } else {
        check_user(ctx, &*from);
    }
    check_str(ctx, "room_id", room);
    leave(ctx, false);
}

unsafe extern "C" fn cb_room_extra(p: *mut c_void, list: *const zego_room_extra_info, n: u32, room: *const c_char) {
    let ctx = enter(p, 20);
    if n > 0 && list.is_null() {
        ctx.track.violation("NULL room_extra_info_list".into());
    } else {
        for i in 0..n as usize {
            let x = &*list.add(i);
            check_str(ctx, "key", x.key);
            check_str(ctx, "value", x.value);
            check_user(ctx, &x.update_user);
        }
    }
    check_str(ctx, "room_id", room);
    leave(ctx, false);
}

/// Registers slot `slot` of `h` with `ctx` (or unregisters with None).
unsafe fn register(h: *mut zego_engine, slot: usize, ctx: Option<&Arc<Ctx>>) {
    let p = ctx.map_or(std::ptr::null_mut(), |c| Arc::as_ptr(c) as *mut c_void);
    let on = ctx.is_some();
    match slot {
        0 => zego_engine_register_room_state_changed_callback(h, if on { Some(cb_state_changed) } else { None }, p),
        1 => zego_engine_register_room_state_update_callback(h, if on { Some(cb_state_update) } else { None }, p),
        2 => zego_engine_register_room_user_update_callback(h, if on { Some(cb_user_update) } else { None }, p),
        3 => zego_engine_register_room_online_user_count_update_callback(h, if on { Some(cb_count) } else { None }, p),
        4 => zego_engine_register_room_token_will_expire_callback(h, if on { Some(cb_token) } else { None }, p),
        5 => zego_engine_register_room_login_result_callback(h, if on { Some(cb_login_result) } else { None }, p),
        6 => zego_engine_register_room_logout_result_callback(h, if on { Some(cb_logout_result) } else { None }, p),
        7 => zego_engine_register_room_stream_update_callback(h, if on { Some(cb_stream_update) } else { None }, p),
        8 => zego_engine_register_room_stream_extra_info_update_callback(h, if on { Some(cb_stream_extra) } else { None }, p),
        9 => zego_engine_register_publisher_state_update_callback(h, if on { Some(cb_publisher_state) } else { None }, p),
        10 => zego_engine_register_player_state_update_callback(h, if on { Some(cb_player_state) } else { None }, p),
        11 => zego_engine_register_publisher_update_stream_extra_info_result_callback(h, if on { Some(cb_stream_extra_result) } else { None }, p),
        12 => zego_engine_register_player_recv_sei_callback(h, if on { Some(cb_sei) } else { None }, p),
        13 => zego_engine_register_im_send_broadcast_message_result_callback(h, if on { Some(cb_broadcast_result) } else { None }, p),
        14 => zego_engine_register_im_send_barrage_message_result_callback(h, if on { Some(cb_barrage_result) } else { None }, p),
        15 => zego_engine_register_im_send_custom_command_result_callback(h, if on { Some(cb_command_result) } else { None }, p),
        16 => zego_engine_register_room_set_room_extra_info_result_callback(h, if on { Some(cb_room_extra_result) } else { None }, p),
        17 => zego_engine_register_im_recv_broadcast_message_callback(h, if on { Some(cb_recv_broadcast) } else { None }, p),
        18 => zego_engine_register_im_recv_barrage_message_callback(h, if on { Some(cb_recv_barrage) } else { None }, p),
        19 => zego_engine_register_im_recv_custom_command_callback(h, if on { Some(cb_recv_command) } else { None }, p),
        _ => zego_engine_register_room_extra_info_update_callback(h, if on { Some(cb_room_extra) } else { None }, p),
    }
}

/// An engine of the case with its registrations.
struct Eng {
    handle: usize,
    track: Arc<Track>,
    /// Current context per slot; the mutex serialises (register + retire) per engine.
    current: Mutex<Vec<Option<Arc<Ctx>>>>,
    /// Every context ever registered, kept alive until the engine is destroyed.
    all: Mutex<Vec<Arc<Ctx>>>,
}

impl Eng {
    fn register(&self, slot: usize, on: bool) {
        let mut cur = self.current.lock().unwrap();
        let new = on.then(|| Arc::new(Ctx { track: self.track.clone(), slot, retired: AtomicBool::new(false), active: AtomicU32::new(0) }));
        unsafe { register(self.handle as *mut zego_engine, slot, new.as_ref()) };
        // A register on a dead handle is a no-op and promises nothing.
        let live = unsafe { zego_engine_set_engine_config(self.handle as *mut zego_engine, std::ptr::null()) } == ec::ILLEGAL_PARAM;
        if let Some(n) = &new {
            self.all.lock().unwrap().push(n.clone());
        }
        if !live {
            return;
        }
        // The register returned: the previous context is never called again, and not running.
        if let Some(old) = cur[slot].take() {
            old.retired.store(true, Ordering::SeqCst);
            if old.active.load(Ordering::SeqCst) != 0 && !self.track.destroyed.load(Ordering::SeqCst) {
                self.track.violation(format!("register of slot {slot} returned while the old callback still runs"));
            }
        }
        cur[slot] = new;
    }

    fn destroy(&self) {
        zego_engine_destroy(self.handle as *mut zego_engine);
        if self.track.in_cb.load(Ordering::SeqCst) {
            self.track.violation("zego_engine_destroy returned while a callback of the engine runs".into());
        }
        self.track.destroyed.store(true, Ordering::SeqCst);
    }
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Str {
    Pick(usize),
    Null,
    Empty,
    InvalidUtf8,
    TooLong,
    Illegal,
}

#[derive(Debug, Clone)]
enum Tok {
    Null,
    Empty,
    Valid,
    Expired,
    /// Valid but expiring within the warning window (token_will_expire fires).
    Short,
    OtherUser,
    Garbage,
    InvalidUtf8,
    TooLong,
}

#[derive(Debug, Clone)]
enum UserArg {
    Valid(usize, u8),
    Null,
    NullId,
    InvalidId,
    LongId,
    InvalidName,
    LongName,
}

#[derive(Debug, Clone)]
struct Cfg {
    null: bool,
    max: u32,
    notify: bool,
    tok: Tok,
}

#[derive(Debug, Clone)]
enum Handle {
    Engine(usize),
    Null,
    /// A handle destroyed in an earlier case (or a never-issued value when there is none yet).
    Stale(usize),
    Garbage(usize),
}

#[derive(Debug, Clone)]
enum Op {
    Login { h: Handle, room: Str, user: UserArg, cfg: Cfg, out_seq: bool },
    Logout { h: Handle, room: Option<Str>, out_seq: bool },
    Switch { h: Handle, from: Str, to: Str, cfg: Cfg },
    Renew { h: Handle, room: Str, user: usize, tok: Tok },
    SetConfig { h: Handle, text: u8 },
    Register { e: usize, slot: usize, on: bool },
    Destroy(Handle),
    Sleep(u64),
    /// A stream call: 0 publish, 1 stop publishing, 2 set extra info, 3 play, 4 stop playing,
    /// 5 send SEI (`size` picks 0/1/4096/4097 bytes or NULL data), 6 get the stream list (`room`,
    /// `size` picks the type) and free it (twice when `twice`).
    Stream { h: Handle, kind: u8, id: Str, room: Option<Str>, channel: i32, size: u8, twice: bool },
    /// A messaging call: 0 broadcast, 1 barrage, 2 custom command (`targets`), 3 room extra info.
    Message { h: Handle, kind: u8, room: Str, text: u8, targets: u8, out_seq: bool },
    /// Waits (at most 300 ms) until a callback of engine `e` is running.
    WaitCallback(usize),
    /// Waits (at most 2 s) until a callback of engine `e` has called destroy and still runs.
    WaitDestroyInCallback(usize),
}

fn s_arg() -> impl Strategy<Value = Str> {
    prop_oneof![
        12 => (0..ROOMS.len()).prop_map(Str::Pick),
        1 => Just(Str::Null),
        1 => Just(Str::Empty),
        1 => Just(Str::InvalidUtf8),
        1 => Just(Str::TooLong),
        1 => Just(Str::Illegal),
    ]
}

fn tok() -> impl Strategy<Value = Tok> {
    prop_oneof![
        8 => Just(Tok::Valid),
        1 => Just(Tok::Null),
        1 => Just(Tok::Empty),
        1 => Just(Tok::Expired),
        1 => Just(Tok::Short),
        1 => Just(Tok::OtherUser),
        1 => Just(Tok::Garbage),
        1 => Just(Tok::InvalidUtf8),
        1 => Just(Tok::TooLong),
    ]
}

fn cfg() -> impl Strategy<Value = Cfg> {
    (prop_oneof![1 => Just(true), 5 => Just(false)], prop_oneof![4 => Just(0u32), 1 => 1u32..3], any::<bool>(), tok())
        .prop_map(|(null, max, notify, tok)| Cfg { null, max, notify, tok })
}

fn user_arg() -> impl Strategy<Value = UserArg> {
    prop_oneof![
        12 => (0..USERS.len(), 0u8..3).prop_map(|(u, n)| UserArg::Valid(u, n)),
        1 => Just(UserArg::Null),
        1 => Just(UserArg::NullId),
        1 => Just(UserArg::InvalidId),
        1 => Just(UserArg::LongId),
        1 => Just(UserArg::InvalidName),
        1 => Just(UserArg::LongName),
    ]
}

fn handle(n: usize) -> impl Strategy<Value = Handle> {
    prop_oneof![
        20 => (0..n).prop_map(Handle::Engine),
        1 => Just(Handle::Null),
        1 => any::<usize>().prop_map(Handle::Stale),
        1 => prop_oneof![Just(1usize), Just(0x11), Just(usize::MAX), Just(usize::MAX & !0xf)].prop_map(Handle::Garbage),
    ]
}

fn channel() -> impl Strategy<Value = i32> {
    prop_oneof![8 => 0i32..4, 1 => Just(-1), 1 => Just(4), 1 => Just(i32::MAX)]
}

/// A stream id for `s` (the room picks map to valid ids).
fn stream_id_arg(s: &Str) -> Option<CString> {
    match s {
        Str::Pick(i) => Some(c(&format!("fzs{i}"))),
        Str::Null => None,
        Str::Empty => Some(c("")),
        Str::InvalidUtf8 => Some(CString::new(b"s\xff".to_vec()).unwrap()),
        Str::TooLong => Some(c(&"s".repeat(256))),
        Str::Illegal => Some(c("a.b")),
    }
}

fn op(n: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (handle(n), s_arg(), user_arg(), cfg(), any::<bool>()).prop_map(|(h, room, user, cfg, out_seq)| Op::Login { h, room, user, cfg, out_seq }),
        4 => (handle(n), proptest::option::of(s_arg()), any::<bool>()).prop_map(|(h, room, out_seq)| Op::Logout { h, room, out_seq }),
        3 => (handle(n), s_arg(), s_arg(), cfg()).prop_map(|(h, from, to, cfg)| Op::Switch { h, from, to, cfg }),
        2 => (handle(n), s_arg(), 0..USERS.len(), tok()).prop_map(|(h, room, user, tok)| Op::Renew { h, room, user, tok }),
        2 => (handle(n), 0u8..6).prop_map(|(h, text)| Op::SetConfig { h, text }),
        3 => (0..n, 0usize..SLOTS, prop_oneof![3 => Just(true), 1 => Just(false)]).prop_map(|(e, slot, on)| Op::Register { e, slot, on }),
        6 => (handle(n), 0u8..7, s_arg(), proptest::option::of(s_arg()), channel(), 0u8..5, any::<bool>())
            .prop_map(|(h, kind, id, room, channel, size, twice)| Op::Stream { h, kind, id, room, channel, size, twice }),
        5 => (handle(n), 0u8..4, s_arg(), 0u8..6, 0u8..5, any::<bool>())
            .prop_map(|(h, kind, room, text, targets, out_seq)| Op::Message { h, kind, room, text, targets, out_seq }),
        1 => handle(n).prop_map(Op::Destroy),
        3 => prop_oneof![0u64..3, 5u64..40].prop_map(Op::Sleep),
        1 => (0..n).prop_map(Op::WaitCallback),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    /// Per engine: multi-room mode, reentrancy mode.
    engines: Vec<(bool, u8)>,
    threads: Vec<Vec<Op>>,
    /// Sleep before the final destroys (lets logins settle and callbacks flow).
    settle_ms: u64,
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..=3).prop_flat_map(|n| {
        (
            proptest::collection::vec((any::<bool>(), prop_oneof![4 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)]), n),
            proptest::collection::vec(proptest::collection::vec(op(n), 0..12), 4),
            prop_oneof![Just(0u64), 0u64..100],
        )
            .prop_map(|(engines, threads, settle_ms)| Case { engines, threads, settle_ms })
    })
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// Owned C string for an argument (None = NULL).
fn str_arg(s: &Str) -> Option<CString> {
    match s {
        Str::Pick(i) => Some(c(ROOMS[*i])),
        Str::Null => None,
        Str::Empty => Some(c("")),
        Str::InvalidUtf8 => Some(CString::new(b"fz\xff\xfe".to_vec()).unwrap()),
        Str::TooLong => Some(c(&"r".repeat(128))),
        Str::Illegal => Some(c("room with spaces")),
    }
}

fn tok_arg(t: &Tok, user: &str) -> Option<CString> {
    match t {
        Tok::Null => None,
        Tok::Empty => Some(c("")),
        Tok::Valid => Some(c(&token04::generate(APP_ID, user, SECRET, 3600, "").unwrap())),
        Tok::Expired => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
            Some(c(&token04::generate_at(APP_ID, user, SECRET, 10, "", now - 100).unwrap()))
        }
        Tok::Short => Some(c(&token04::generate(APP_ID, user, SECRET, 20, "").unwrap())),
        Tok::OtherUser => Some(c(&token04::generate(APP_ID, "someone-else", SECRET, 3600, "").unwrap())),
        Tok::Garbage => Some(c("04garbage")),
        Tok::InvalidUtf8 => Some(CString::new(b"04\xc3\x28".to_vec()).unwrap()),
        Tok::TooLong => Some(c(&"A".repeat(8 * 1024 + 1))),
    }
}

struct World {
    engines: Vec<Eng>,
    violations: Arc<Mutex<Vec<String>>>,
}

impl World {
    fn handle(&self, h: &Handle) -> *mut zego_engine {
        match h {
            Handle::Engine(i) => self.engines[*i].handle as *mut zego_engine,
            Handle::Null => std::ptr::null_mut(),
            Handle::Stale(i) => {
                let g = graveyard().lock().unwrap();
                if g.is_empty() { 0x31usize as *mut zego_engine } else { g[i % g.len()] as *mut zego_engine }
            }
            Handle::Garbage(v) => *v as *mut zego_engine,
        }
    }

    /// The track to charge a returned code to (the engine's, or the first one for foreign handles).
    fn track(&self, h: &Handle) -> &Track {
        match h {
            Handle::Engine(i) => &self.engines[*i].track,
            _ => &self.engines[0].track,
        }
    }

    fn expect_dead(&self, h: &Handle, what: &str, code: i32) {
        if !matches!(h, Handle::Engine(_)) && code != ec::ENGINE_NOT_CREATED {
            self.violations.lock().unwrap().push(format!("{what} on a NULL/stale/garbage handle returned {code}"));
        }
    }

    fn run(&self, op: &Op) {
        unsafe {
            match op {
                Op::Login { h, room, user, cfg, out_seq } => {
                    let room_c = str_arg(room);
                    let (uid, uname): (Option<CString>, Option<CString>) = match user {
                        UserArg::Valid(i, n) => (Some(c(USERS[*i])), match n {
                            0 => None,
                            1 => Some(c("")),
                            _ => Some(c("名前 ✓")),
                        }),
                        UserArg::Null | UserArg::NullId => (None, None),
                        UserArg::InvalidId => (Some(CString::new(b"u\xff".to_vec()).unwrap()), None),
                        UserArg::LongId => (Some(c(&"u".repeat(64))), None),
                        UserArg::InvalidName => (Some(c(USERS[0])), Some(CString::new(b"n\xc3".to_vec()).unwrap())),
                        UserArg::LongName => (Some(c(USERS[0])), Some(c(&"n".repeat(256)))),
                    };
                    let zu = zego_user {
                        user_id: uid.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
                        user_name: uname.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
                    };
                    let user_for_token = match user {
                        UserArg::Valid(i, _) => USERS[*i],
                        _ => USERS[0],
                    };
                    let tok_c = tok_arg(&cfg.tok, user_for_token);
                    let zc = zego_room_config {
                        max_member_count: cfg.max,
                        is_user_status_notify: cfg.notify,
                        token: tok_c.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
                    };
                    let mut seq: zego_seq = -7;
                    let r = zego_engine_login_room(
                        self.handle(h),
                        room_c.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
                        if matches!(user, UserArg::Null) { std::ptr::null() } else { &zu },
                        if cfg.null { std::ptr::null() } else { &zc },
                        if *out_seq { &mut seq } else { std::ptr::null_mut() },
                    );
                    code_ok(self.track(h), "login_room", r);
                    self.expect_dead(h, "login_room", r);
                    if *out_seq && ((r == 0) != (seq > 0) || (r != 0 && seq != -7)) {
                        self.track(h).violation(format!("login_room returned {r} with out_seq {seq}"));
                    }
                }
                Op::Logout { h, room, out_seq } => {
                    let room_c = room.as_ref().and_then(str_arg);
                    let mut seq: zego_seq = -7;
                    let r = zego_engine_logout_room(
                        self.handle(h),
                        room_c.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
                        if *out_seq { &mut seq } else { std::ptr::null_mut() },
                    );
                    code_ok(self.track(h), "logout_room", r);
                    self.expect_dead(h, "logout_room", r);
                    if *out_seq && ((r == 0) != (seq > 0) || (r != 0 && seq != -7)) {
                        self.track(h).violation(format!("logout_room returned {r} with out_seq {seq}"));
                    }
                }
                Op::Switch { h, from, to, cfg } => {
                    let (f, t) = (str_arg(from), str_arg(to));
                    let tok_c = tok_arg(&cfg.tok, USERS[0]);
                    let zc = zego_room_config {
                        max_member_count: cfg.max,
                        is_user_status_notify: cfg.notify,
                        token: tok_c.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
                    };
                    let r = zego_engine_switch_room(
                        self.handle(h),
                        f.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
                        t.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
                        if cfg.null { std::ptr::null() } else { &zc },
                    );
                    code_ok(self.track(h), "switch_room", r);
                    self.expect_dead(h, "switch_room", r);
                }
                Op::Renew { h, room, user, tok } => {
                    let room_c = str_arg(room);
                    let tok_c = tok_arg(tok, USERS[*user]);
                    let r = zego_engine_renew_token(
                        self.handle(h),
                        room_c.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
                        tok_c.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
                    );
                    code_ok(self.track(h), "renew_token", r);
                    self.expect_dead(h, "renew_token", r);
                }
                Op::SetConfig { h, text } => {
                    let t: Option<CString> = match text {
                        0 => None,
                        1 => Some(CString::new(b"room_retry_time=\xff".to_vec()).unwrap()),
                        2 => Some(c("room_retry_time=abc")),
                        3 => Some(c("room_retry_time=2")),
                        4 => Some(c("room_retry_time=0;x=y")),
                        _ => Some(c(" ; unknown=1 ;")),
                    };
                    let r = zego_engine_set_engine_config(self.handle(h), t.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()));
                    code_ok(self.track(h), "set_engine_config", r);
                    self.expect_dead(h, "set_engine_config", r);
                    let expected = match text {
                        0..=2 => ec::ILLEGAL_PARAM,
                        _ => 0,
                    };
                    if r != expected && r != ec::ENGINE_NOT_CREATED {
                        self.track(h).violation(format!("set_engine_config({text}) returned {r}"));
                    }
                }
                Op::Stream { h, kind, id, room, channel, size, twice } => self.run_stream(h, *kind, id, room.as_ref(), *channel, *size, *twice),
                Op::Message { h, kind, room, text, targets, out_seq } => self.run_message(h, *kind, room, *text, *targets, *out_seq),
                Op::Register { e, slot, on } => self.engines[*e].register(*slot, *on),
                Op::Destroy(h) => match h {
                    Handle::Engine(i) => self.engines[*i].destroy(),
                    other => zego_engine_destroy(self.handle(other)),
                },
                Op::Sleep(ms) => std::thread::sleep(Duration::from_millis(*ms)),
                Op::WaitDestroyInCallback(e) => {
                    let t = &self.engines[*e].track;
                    let until = std::time::Instant::now() + Duration::from_secs(2);
                    while !t.destroying_in_cb.load(Ordering::SeqCst) && std::time::Instant::now() < until {
                        std::thread::yield_now();
                    }
                }
                Op::WaitCallback(e) => {
                    let t = &self.engines[*e].track;
                    let until = std::time::Instant::now() + Duration::from_millis(300);
                    while !t.in_cb.load(Ordering::SeqCst) && !t.destroyed.load(Ordering::SeqCst) && std::time::Instant::now() < until {
                        std::hint::spin_loop();
                    }
                }
            }
        }
    }
}

impl World {
    /// Checks the out_seq rule: written (> 0) exactly on success, untouched (-7) otherwise.
    fn check_seq(&self, h: &Handle, what: &str, r: i32, out_seq: bool, seq: zego_seq) {
        if out_seq && ((r == 0) != (seq > 0) || (r != 0 && seq != -7)) {
            self.track(h).violation(format!("{what} returned {r} with out_seq {seq}"));
        }
    }

    #[allow(clippy::too_many_arguments)]
    unsafe fn run_stream(&self, h: &Handle, kind: u8, id: &Str, room: Option<&Str>, channel: i32, size: u8, twice: bool) {
        let e = self.handle(h);
        let id_c = stream_id_arg(id);
        let id_p = id_c.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
        let room_c = room.and_then(str_arg);
        let config_room = room_c.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
        let (what, r) = match kind {
            0 => {
                let cfg = zego_publisher_config { room_id: config_room };
                ("start_publishing_stream", zego_engine_start_publishing_stream(e, id_p, if room.is_some() { &cfg } else { std::ptr::null() }, channel))
            }
            1 => ("stop_publishing_stream", zego_engine_stop_publishing_stream(e, channel)),
            2 => {
                let text: Option<CString> = match size {
                    0 => None,
                    1 => Some(c("")),
                    2 => Some(c(&"x".repeat(1025))),
                    3 => Some(CString::new(b"x\xff".to_vec()).unwrap()),
                    _ => Some(c("{\"url\":\"rtmp://fz\"}")),
                };
                let mut seq: zego_seq = -7;
                let r = zego_engine_set_stream_extra_info(e, text.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()), channel, if twice { &mut seq } else { std::ptr::null_mut() });
                self.check_seq(h, "set_stream_extra_info", r, twice, seq);
                let expect_illegal = (size <= 3 && size != 1) || !(0..4).contains(&channel);
                if expect_illegal && r != ec::ILLEGAL_PARAM && r != ec::ENGINE_NOT_CREATED {
                    self.track(h).violation(format!("set_stream_extra_info(size {size}, channel {channel}) returned {r}"));
                }
                ("set_stream_extra_info", r)
            }
            3 => {
                let cfg = zego_player_config { room_id: config_room };
                ("start_playing_stream", zego_engine_start_playing_stream(e, id_p, if room.is_some() { &cfg } else { std::ptr::null() }))
            }
            4 => ("stop_playing_stream", zego_engine_stop_playing_stream(e, id_p)),
            5 => {
                let buf = vec![0u8; 4097];
                let (data, len): (*const u8, u32) = match size {
                    0 => (buf.as_ptr(), 0),
                    1 => (buf.as_ptr(), 1),
                    2 => (buf.as_ptr(), 4096),
                    3 => (buf.as_ptr(), 4097),
                    _ => (std::ptr::null(), 1),
                };
                let r = zego_engine_send_sei(e, data, len, channel);
                if (len == 0 || len > 4096 || data.is_null() || !(0..4).contains(&channel)) && r != ec::ILLEGAL_PARAM && r != ec::ENGINE_NOT_CREATED {
                    self.track(h).violation(format!("send_sei({len} bytes, channel {channel}) returned {r}"));
                }
                ("send_sei", r)
            }
            _ => {
                let sentinel = 0x5e0usize as *mut zego_stream;
                let mut list = sentinel;
                let mut count: u32 = 77;
                // No room given: "" (the only room); otherwise the generated room argument.
                let list_room: Option<CString> = if room.is_none() { Some(c("")) } else { room_c.clone() };
                let room_p = list_room.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
                let list_type = [0, 1, 2, -1][size as usize % 4];
                let r = zego_engine_get_room_stream_list(e, room_p, list_type, &mut list, &mut count);
                if r == 0 {
                    if (count == 0) != list.is_null() {
                        self.track(h).violation(format!("stream list of {count} at {list:p}"));
                    }
                    for i in 0..count as usize {
                        let s = &*list.add(i);
                        for (what, p) in [("user_id", s.user.user_id), ("user_name", s.user.user_name), ("stream_id", s.stream_id), ("extra_info", s.extra_info)] {
                            if p.is_null() || CStr::from_ptr(p).to_str().is_err() {
                                self.track(h).violation(format!("stream list {what} not a UTF-8 string"));
                            }
                        }
                    }
                    zego_stream_list_free(list, count);
                    if twice {
                        zego_stream_list_free(list, count); // a double free is ignored
                    }
                } else if list != sentinel || count != 77 {
                    self.track(h).violation(format!("get_room_stream_list returned {r} but wrote its out-parameters"));
                }
                if !(0..2).contains(&list_type) && r != ec::ILLEGAL_PARAM && r != ec::ENGINE_NOT_CREATED {
                    self.track(h).violation(format!("get_room_stream_list(type {list_type}) returned {r}"));
                }
                zego_stream_list_free(std::ptr::null_mut(), count);
                ("get_room_stream_list", r)
            }
        };
        code_ok(self.track(h), what, r);
        self.expect_dead(h, what, r);
        if r == ec::ENGINE_NOT_CREATED {
            return; // a dead handle (checked above), or destroyed meanwhile
        }
        // A channel outside 0-3 is refused; only a bad stream id (checked first) may answer before it.
        let id_codes = [ec::STREAM_ID_EMPTY, ec::STREAM_ID_TOO_LONG, ec::STREAM_ID_ILLEGAL_CHAR];
        if matches!(kind, 0 | 1 | 2 | 5) && !(0..4).contains(&channel) && r != ec::ILLEGAL_PARAM && !(kind == 0 && id_codes.contains(&r)) {
            self.track(h).violation(format!("stream call {kind} with channel {channel} returned {r}"));
        }
    }

    unsafe fn run_message(&self, h: &Handle, kind: u8, room: &Str, text: u8, targets: u8, out_seq: bool) {
        let e = self.handle(h);
        let room_c = str_arg(room);
        let room_p = room_c.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
        let text_c: Option<CString> = match text {
            0 => None,
            1 => Some(c("")),
            2 => Some(c(&"m".repeat(1025))),
            3 => Some(CString::new(b"m\xc3".to_vec()).unwrap()),
            _ => Some(c("fuzz message ✓")),
        };
        let text_p = text_c.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
        let mut seq: zego_seq = -7;
        let seq_p: *mut zego_seq = if out_seq { &mut seq } else { std::ptr::null_mut() };
        let ids: Vec<CString> = USERS.iter().map(|u| c(u)).chain([c(""), c(&"u".repeat(64))]).collect();
        let users: Vec<zego_user> = ids.iter().map(|s| zego_user { user_id: s.as_ptr(), user_name: std::ptr::null() }).collect();
        let (what, r) = match kind {
            0 => ("send_broadcast_message", zego_engine_send_broadcast_message(e, room_p, text_p, seq_p)),
            1 => ("send_barrage_message", zego_engine_send_barrage_message(e, room_p, text_p, seq_p)),
            2 => {
                let (list, n): (*const zego_user, u32) = match targets {
                    0 => (std::ptr::null(), 0),
                    1 => (users.as_ptr(), 2),
                    2 => (users.as_ptr().add(3), 1), // empty id
                    3 => (users.as_ptr().add(4), 1), // 64 bytes
                    _ => (std::ptr::null(), 3),      // NULL with a count
                };
                ("send_custom_command", zego_engine_send_custom_command(e, room_p, text_p, list, n, seq_p))
            }
            _ => {
                let (key, value) = match targets {
                    0 => (c("k"), c("v")),
                    1 => (c(""), c("v")),
                    2 => (c("kkkkkkkkkkk"), c("v")),
                    3 => (c("k"), c(&"v".repeat(129))),
                    _ => (c("k2"), c("")),
                };
                ("set_room_extra_info", zego_engine_set_room_extra_info(e, room_p, key.as_ptr(), value.as_ptr(), seq_p))
            }
        };
        code_ok(self.track(h), what, r);
        self.expect_dead(h, what, r);
        self.check_seq(h, what, r, out_seq, seq);
        if r == 0 && (room_c.is_none() || (text_c.is_none() && kind < 3)) {
            self.track(h).violation(format!("{what} with a NULL argument returned 0"));
        }
    }
}

fn run_case(case: &Case) -> Result<(), String> {
    let url = c(&server().url());
    let violations = Arc::new(Mutex::new(Vec::new()));
    let mut engines = Vec::new();
    for (i, (multi, reenter)) in case.engines.iter().enumerate() {
        let profile = zego_engine_profile {
            app_id: APP_ID,
            server: url.as_ptr(),
            room_mode: if *multi { zego_room_mode::ZEGO_ROOM_MODE_MULTI_ROOM } else { zego_room_mode::ZEGO_ROOM_MODE_SINGLE_ROOM },
        };
        let mut h: *mut zego_engine = std::ptr::null_mut();
        let r = unsafe { zego_engine_create(&profile, &mut h) };
        if r != 0 || h.is_null() {
            return Err(format!("create returned {r}"));
        }
        let track = Arc::new(Track {
            name: format!("engine {i}"),
            handle: AtomicUsize::new(h as usize),
            in_cb: AtomicBool::new(false),
            destroyed: AtomicBool::new(false),
            calls: AtomicU32::new(0),
            destroying_in_cb: AtomicBool::new(false),
            reenter: *reenter,
            violations: violations.clone(),
        });
        let eng = Eng { handle: h as usize, track, current: Mutex::new(vec![None; SLOTS]), all: Mutex::new(Vec::new()) };
        // Short retry window: nothing outlives a case for long.
        let cfg = c("room_retry_time=3");
        assert_eq!(unsafe { zego_engine_set_engine_config(h, cfg.as_ptr()) }, 0);
        for slot in 0..SLOTS {
            eng.register(slot, true);
        }
        engines.push(eng);
    }
    let world = Arc::new(World { engines, violations: violations.clone() });

    let (tx, rx) = mpsc::channel::<()>();
    let w = world.clone();
    let ops = case.threads.clone();
    let settle = case.settle_ms;
    std::thread::spawn(move || {
        let handles: Vec<_> = ops
            .into_iter()
            .map(|ops| {
                let w = w.clone();
                std::thread::spawn(move || {
                    for op in &ops {
                        w.run(op);
                    }
                })
            })
            .collect();
        let mut panicked = false;
        for h in handles {
            panicked |= h.join().is_err();
        }
        if panicked {
            w.violations.lock().unwrap().push("a caller thread panicked".into());
        }
        std::thread::sleep(Duration::from_millis(settle));
        for e in &w.engines {
            e.destroy();
        }
        // Anything still arriving now is a violation (checked at callback entry).
        std::thread::sleep(Duration::from_millis(5));
        let _ = tx.send(());
    });
    if rx.recv_timeout(CASE_DEADLINE).is_err() {
        // A deadlock: threads cannot be killed, so report and stop the process.
        eprintln!("DEADLOCK: case did not finish within {CASE_DEADLINE:?}:\n{case:#?}");
        std::process::abort();
    }
    // Every handle of the case is dead now and must stay dead.
    for e in &world.engines {
        let mut seq = 0;
        let r = unsafe { zego_engine_logout_room(e.handle as *mut zego_engine, std::ptr::null(), &mut seq) };
        if r != ec::ENGINE_NOT_CREATED {
            violations.lock().unwrap().push(format!("destroyed handle returned {r}"));
        }
        graveyard().lock().unwrap().push(e.handle);
    }
    let v = violations.lock().unwrap().clone();
    if v.is_empty() { Ok(()) } else { Err(v.join("\n")) }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(64), max_shrink_iters: 256, ..ProptestConfig::default() })]

    #[test]
    fn c_abi_random_call_sequences(case in case()) {
        if let Err(e) = run_case(&case) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// Fixed cases: the corners the random sequences reach only by luck.
#[test]
fn c_abi_fixed_sequences() {
    use Op::*;
    let login = |e, room, user| Login {
        h: Handle::Engine(e),
        room: Str::Pick(room),
        user: UserArg::Valid(user, 0),
        cfg: Cfg { null: false, max: 0, notify: true, tok: Tok::Valid },
        out_seq: true,
    };
    let cases = vec![
        f1_case(),
        // Destroy from a LOGINED callback while other threads log in and (un)register.
        Case {
            engines: vec![(false, 2), (true, 1)],
            threads: vec![
                vec![login(0, 0, 0), Sleep(30)],
                vec![WaitDestroyInCallback(0), Destroy(Handle::Engine(0)), Destroy(Handle::Engine(0))],
                vec![login(1, 1, 1), login(1, 2, 1), Logout { h: Handle::Engine(1), room: None, out_seq: true }],
                vec![Register { e: 1, slot: 0, on: false }, Register { e: 1, slot: 5, on: true }, Register { e: 1, slot: 5, on: false }],
            ],
            settle_ms: 50,
        },
        // Same user in two engines (duplicate-login kicks), switch, renew, bad arguments.
        Case {
            engines: vec![(false, 0), (false, 0)],
            threads: vec![
                vec![login(0, 0, 0), Sleep(30), Switch { h: Handle::Engine(0), from: Str::Pick(0), to: Str::Pick(1), cfg: Cfg { null: true, max: 0, notify: true, tok: Tok::Valid } }],
                vec![login(1, 0, 0), Sleep(30), Renew { h: Handle::Engine(1), room: Str::Pick(0), user: 0, tok: Tok::Short }],
                vec![
                    Login { h: Handle::Engine(0), room: Str::InvalidUtf8, user: UserArg::InvalidId, cfg: Cfg { null: false, max: 0, notify: false, tok: Tok::InvalidUtf8 }, out_seq: true },
                    Login { h: Handle::Null, room: Str::Null, user: UserArg::Null, cfg: Cfg { null: true, max: 0, notify: false, tok: Tok::Null }, out_seq: true },
                    Renew { h: Handle::Engine(1), room: Str::Null, user: 0, tok: Tok::Null },
                    SetConfig { h: Handle::Garbage(usize::MAX), text: 3 },
                ],
                vec![SetConfig { h: Handle::Engine(0), text: 1 }, SetConfig { h: Handle::Engine(1), text: 0 }, Destroy(Handle::Stale(0))],
            ],
            settle_ms: 80,
        },
    ];
    for case in &cases {
        run_case(case).unwrap_or_else(|e| panic!("{e}\n{case:#?}"));
    }
}

/// F1: engine 0 destroys itself in its LOGINED callback and lingers 10 ms; meanwhile another
/// thread calls `zego_engine_destroy` on it, which must not return before that callback returned.
fn f1_case() -> Case {
    use Op::*;
    Case {
        engines: vec![(false, 2)],
        threads: vec![
            vec![Login {
                h: Handle::Engine(0),
                room: Str::Pick(0),
                user: UserArg::Valid(0, 0),
                cfg: Cfg { null: false, max: 0, notify: true, tok: Tok::Valid },
                out_seq: true,
            }],
            vec![WaitDestroyInCallback(0), Destroy(Handle::Engine(0))],
            vec![],
            vec![],
        ],
        settle_ms: 0,
    }
}

/// Regression test of finding F1 (docs/fuzzing.md): a destroy from outside waits for a callback
/// that destroyed its own engine.
#[test]
fn destroy_outside_waits_for_a_callback_that_destroyed() {
    for _ in 0..5 {
        let case = f1_case();
        run_case(&case).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// zego_engine_create with bad arguments (the enum is read as an int: an out-of-range mode must
/// be refused, so the profile is passed through a layout-identical struct with an `i32`).
#[test]
fn c_abi_create_bad_arguments() {
    #[repr(C)]
    struct RawProfile {
        app_id: u32,
        server: *const c_char,
        room_mode: i32,
    }
    let url = c(&server().url());
    let mut h: *mut zego_engine = 0x40 as *mut zego_engine;
    unsafe {
        assert_eq!(zego_engine_create(std::ptr::null(), &mut h), ec::ILLEGAL_PARAM);
        for mode in [2, -1, i32::MAX] {
            let p = RawProfile { app_id: APP_ID, server: url.as_ptr(), room_mode: mode };
            assert_eq!(zego_engine_create(&p as *const RawProfile as *const zego_engine_profile, &mut h), ec::ILLEGAL_PARAM);
        }
        for server in [CString::new(b"ws://\xff".to_vec()).unwrap(), c(""), c("http://x"), c("ws://"), c(&format!("ws://{}", "h".repeat(5000)))] {
            let p = RawProfile { app_id: APP_ID, server: server.as_ptr(), room_mode: 0 };
            let r = zego_engine_create(&p as *const RawProfile as *const zego_engine_profile, &mut h);
            assert_eq!(r, ec::ILLEGAL_PARAM, "server {server:?}");
        }
        let p = RawProfile { app_id: APP_ID, server: std::ptr::null(), room_mode: 0 };
        assert_eq!(zego_engine_create(&p as *const RawProfile as *const zego_engine_profile, &mut h), ec::ILLEGAL_PARAM);
        let p = RawProfile { app_id: APP_ID, server: url.as_ptr(), room_mode: 0 };
        assert_eq!(zego_engine_create(&p as *const RawProfile as *const zego_engine_profile, std::ptr::null_mut()), ec::ILLEGAL_PARAM);
        assert_eq!(h as usize, 0x40, "out_engine written on failure");
        assert!(!zego_version().is_null());
    }
}
