//! Kicks, tokens, room limits, modes, switching, token expiry, online counts, threading rules and
//! malformed input to the server — all over real sockets against a real server.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::harness::*;
use common::proxy::FaultProxy;
use parking_lot::Mutex;
use zego_room::error_codes::*;
use zego_room::*;

fn login_with_token(url: &str, room: &str, user: &str, token: String) -> (RoomEngine, Arc<Recorder>) {
    let (e, rec) = engine(url, RoomMode::SingleRoom);
    assert_eq!(e.login_room(room, &User::new(user, ""), Some(&cfg_notify(token))), Ok(1), "verdicts arrive as events");
    rec.wait(SHORT, |e| matches!(e, Event::RoomStateChanged { reason: R::LoginFailed | R::Logined, .. }));
    (e, rec)
}

fn last_reason(rec: &Recorder) -> (R, i32) {
    *rec.reasons().last().unwrap()
}

#[test]
fn tokens_are_verified_by_the_server() {
    let server = start_server(Some(SECRET));
    let url = server.url();
    let other_secret = "ffffffffffffffffffffffffffffffff";
    let privileged = |room: &str, login: u8| {
        let payload = format!(r#"{{"room_id":"{room}","privilege":{{"1":{login},"2":0}},"stream_id_list":null}}"#);
        zego_room::token04::generate(APP_ID, "u", SECRET, 3600, &payload).unwrap()
    };
    let cases: Vec<(&str, String)> = vec![
        ("forged", zego_room::token04::generate(APP_ID, "u", other_secret, 3600, "").unwrap()),
        ("expired", zego_room::token04::generate_at(APP_ID, "u", SECRET, 60, "", 1_000_000).unwrap()),
        ("other user", token("someone-else", 3600)),
        ("other app", zego_room::token04::generate(APP_ID + 1, "u", SECRET, 3600, "").unwrap()),
        ("other room", privileged("another-room", 1)),
        ("no login privilege", privileged("tok", 0)),
        ("garbage", "04AAAA".into()),
        ("none", String::new()),
    ];
    for (what, tok) in cases {
        let (_engine, rec) = login_with_token(&url, "tok", "u", tok);
        let (reason, code) = last_reason(&rec);
        assert_eq!(reason, R::LoginFailed, "{what}");
        assert!(code == AUTHENTICATION_FAILED || (what == "expired" && code == TOKEN_EXPIRED), "{what}: {code}");
        assert!(rec.wait(SHORT, |e| matches!(e, Event::RoomStateUpdate { state: RoomState::Disconnected, error_code, .. } if *error_code == code)).is_some());
    }
    for (what, tok) in [
        ("basic", token("u", 3600)),
        ("privileged", privileged("tok", 1)),
        ("legacy CBC", zego_room::token04::generate_legacy_cbc(APP_ID, "u", SECRET, 3600, "").unwrap()),
    ] {
        let (engine, rec) = login_with_token(&url, "tok", "u", tok);
        assert_eq!(last_reason(&rec), (R::Logined, 0), "{what}");
        engine.logout_room(None).unwrap(); // the next case logs in as the same user
    }
}

#[test]
fn room_full_uses_the_openers_limit() {
    let server = start_server(None);
    let url = server.url();
    let cfg = |max| RoomConfig { max_member_count: max, is_user_status_notify: true, token: String::new() };
    let (a, ra) = engine(&url, RoomMode::SingleRoom);
    a.login_room("full", &User::new("a", ""), Some(&cfg(2))).unwrap();
    ra.expect_reason(0, R::Logined, SHORT);
    let (b, rb) = engine(&url, RoomMode::SingleRoom);
    b.login_room("full", &User::new("b", ""), Some(&cfg(0))).unwrap();
    rb.expect_reason(0, R::Logined, SHORT);
    let (c, rc) = engine(&url, RoomMode::SingleRoom);
    let seq = c.login_room("full", &User::new("c", ""), Some(&cfg(100))).unwrap();
    let (_, code, _) = rc.expect_reason(0, R::LoginFailed, SHORT);
    assert_eq!(code, ROOM_FULL);
    assert!(rc.wait(SHORT, |e| matches!(e, Event::RoomLoginResult { error_code: ROOM_FULL, seq: s, .. } if *s == seq)).is_some());
    // Once someone leaves, there is room again.
    b.logout_room(None).unwrap();
    rb.expect_reason(0, R::Logout, SHORT);
    c.login_room("full", &User::new("c", ""), Some(&cfg(100))).unwrap();
    rc.expect_reason(2, R::Logined, SHORT);
}

#[test]
fn duplicate_user_kicks_the_older_engine_which_stops_trying() {
    let server = start_server(Some(SECRET));
    let proxy = FaultProxy::start(server.ws_addr());
    let (_old, old) = joined(&proxy.url(), "dup", "alice");
    let (_bob, bob) = joined(&server.url(), "dup", "bob");
    let bob_from = bob.len();
    let attempts = proxy.connection_attempts();
    let (_new, new) = joined(&server.url(), "dup", "alice");
    let (_, code, ext) = old.expect_reason(0, R::KickOut, SHORT);
    assert_eq!(code, KICKED_OUT_DUPLICATE_LOGIN);
    assert!(serde_json::from_str::<serde_json::Value>(&ext).unwrap().is_object());
    assert!(old.wait(SHORT, |e| matches!(e, Event::RoomStateUpdate { state: RoomState::Disconnected, error_code: KICKED_OUT_DUPLICATE_LOGIN, .. })).is_some());
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(proxy.connection_attempts(), attempts, "the kicked engine makes no further attempt");
    assert_eq!(last_reason(&old), (R::KickOut, KICKED_OUT_DUPLICATE_LOGIN));
    assert_eq!(last_reason(&new), (R::Logined, 0));
    let bob_saw: Vec<_> = bob.user_updates().into_iter().skip(bob_from).collect();
    assert!(
        !bob_saw.iter().any(|(kind, ids)| *kind == UpdateType::Delete && ids.contains(&"alice".to_string())),
        "alice stayed present for the others: {bob_saw:?}"
    );
}

#[test]
fn admin_kick_with_custom_message_others_see_delete() {
    let server = start_server(Some(SECRET));
    let proxy = FaultProxy::start(server.ws_addr());
    let (_alice, a) = joined(&proxy.url(), "kick", "alice");
    let (_bob, b) = joined(&server.url(), "kick", "bob");
    assert!(b.wait_user_update(0, UpdateType::Add, "alice", SHORT).is_some());
    let attempts = proxy.connection_attempts();
    let b_from = b.len();
    let answer = admin(&server, Some(SECRET)).kickout_user("kick", &["alice"], Some("moderator: be nice")).unwrap();
    assert_eq!(answer["Code"], 0, "{answer}");
    let (_, code, ext) = a.expect_reason(0, R::KickOut, SHORT);
    assert_eq!(code, MANUAL_KICKED_OUT);
    let ext: serde_json::Value = serde_json::from_str(&ext).unwrap();
    assert_eq!(ext["custom_kickout_message"], "moderator: be nice");
    assert!(b.wait_user_update(b_from, UpdateType::Delete, "alice", SHORT).is_some());
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(proxy.connection_attempts(), attempts, "the kicked engine makes no further attempt");
    // A badly signed request changes nothing.
    let bad = zego_room::server::admin::AdminClient::new(server.admin_addr(), APP_ID, Some("ffffffffffffffffffffffffffffffff"));
    let refused = bad.kickout_user("kick", &["bob"], None).unwrap();
    assert_ne!(refused["Code"], 0);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(last_reason(&b), (R::Logined, 0));
    let num = admin(&server, Some(SECRET)).describe_user_num(&["kick"]).unwrap();
    assert_eq!(num["Data"][0]["UserCount"], 1, "{num}");
}

#[test]
fn multi_room_engine_is_in_several_rooms_at_once() {
    let server = start_server(None);
    let url = server.url();
    let (e, rec) = engine(&url, RoomMode::MultiRoom);
    let me = User::new("multi", "");
    for room in ["m1", "m2", "m3"] {
        e.login_room(room, &me, Some(&cfg_notify(String::new()))).unwrap();
    }
    for room in ["m1", "m2", "m3"] {
        assert!(rec.wait(SHORT, |ev| matches!(ev, Event::RoomStateChanged { reason: R::Logined, room_id, .. } if room_id == room)).is_some());
    }
    assert_eq!(e.switch_room("m1", "m4", None), Err(SWITCH_ROOM_IN_MULTI_ROOM));
    assert_eq!(e.login_room("m4", &User::new("other", ""), None), Err(MULTI_ROOM_DIFFERENT_USER));
    let (_peer, _p) = joined(&url, "m2", "peer");
    assert!(rec.wait(SHORT, |ev| matches!(ev, Event::RoomUserUpdate { room_id, users, .. } if room_id == "m2" && users[0].user_id == "peer")).is_some());
    let from = rec.len();
    let seq = e.logout_room(None).unwrap();
    for room in ["m1", "m2", "m3"] {
        assert!(rec
            .wait_from(from, SHORT, |ev| matches!(ev, Event::RoomLogoutResult { room_id, seq: s, error_code: 0, .. } if room_id == room && *s == seq))
            .is_some());
    }
    // The server hears the logout frames right after the local Logout events.
    let counts = || {
        let users = admin(&server, None).describe_user_num(&["m1", "m2", "m3"]).unwrap();
        users["Data"].as_array().unwrap().iter().map(|d| d["UserCount"].as_u64().unwrap()).collect::<Vec<_>>()
    };
    assert!(eventually(SHORT, || counts() == vec![0, 1, 0]), "{:?}", counts());
}

#[test]
fn switch_room_moves_between_rooms_in_order() {
    let server = start_server(Some(SECRET));
    let url = server.url();
    let (_bob, b) = joined(&url, "from", "bob");
    let (alice, a) = joined(&url, "from", "alice");
    assert!(b.wait_user_update(0, UpdateType::Add, "alice", SHORT).is_some());
    let from = a.len();
    alice.switch_room("from", "to", None).unwrap(); // reuses the source config, token included
    a.expect_reason(from, R::Logined, SHORT);
    let order: Vec<(R, String)> = a.all()[from..]
        .iter()
        .filter_map(|e| match e {
            Event::RoomStateChanged { reason, room_id, .. } => Some((*reason, room_id.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(order, vec![(R::Logout, "from".into()), (R::Logining, "to".into()), (R::Logined, "to".into())]);
    assert!(b.wait_user_update(0, UpdateType::Delete, "alice", SHORT).is_some(), "leaving the source room is immediate");
}

#[test]
fn token_will_expire_fires_once_and_renew_rearms() {
    let server = start_server(Some(SECRET));
    let (alice, a) = engine(&server.url(), RoomMode::SingleRoom);
    alice.login_room("exp", &User::new("alice", ""), Some(&cfg_notify(token("alice", 32)))).unwrap();
    a.expect_reason(0, R::Logined, SHORT);
    let (_, warn) = a.wait(Duration::from_secs(5), |e| matches!(e, Event::RoomTokenWillExpire { .. })).expect("warned within 2 s");
    match warn {
        Event::RoomTokenWillExpire { remain_time_in_second, room_id } => {
            assert!((28..=30).contains(&remain_time_in_second), "{remain_time_in_second}");
            assert_eq!(room_id, "exp");
        }
        _ => unreachable!(),
    }
    assert_eq!(alice.renew_token("elsewhere", &token("alice", 3600)), Err(ROOM_ID_INCORRECT));
    let from = a.len();
    alice.renew_token("exp", &token("alice", 20)).unwrap();
    assert!(a.wait_from(from, SHORT, |e| matches!(e, Event::RoomTokenWillExpire { remain_time_in_second: 19..=20, .. })).is_some(), "re-armed by renew");
    let from = a.len();
    alice.renew_token("exp", &token("alice", 3600)).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(a.all()[from..].iter().all(|e| !matches!(e, Event::RoomTokenWillExpire { .. })));
}

#[test]
fn online_count_arrives_after_logined_and_follows_changes() {
    let server = start_server(None);
    let url = server.url();
    let (_a, ra) = joined(&url, "count", "a");
    let (logined_at, _, _) = ra.expect_reason(0, R::Logined, SHORT);
    let (at, _) = ra.wait(SHORT, |e| matches!(e, Event::RoomOnlineUserCountUpdate { count: 1, .. })).unwrap();
    assert!(at - logined_at < Duration::from_secs(1));
    let (_b, _rb) = joined(&url, "count", "b");
    // The server's count period is 1 s in tests (30 s by default).
    assert!(ra.wait(Duration::from_secs(3), |e| matches!(e, Event::RoomOnlineUserCountUpdate { count: 2, .. })).is_some());
}

#[test]
fn logout_failed_for_a_room_not_joined() {
    let server = start_server(None);
    let (e, rec) = engine(&server.url(), RoomMode::SingleRoom);
    let seq = e.logout_room(Some("never")).unwrap();
    assert!(rec.wait(SHORT, |ev| matches!(ev, Event::RoomLogoutResult { error_code: ROOM_ID_INCORRECT, seq: s, .. } if *s == seq)).is_some());
    assert_eq!(rec.reasons(), vec![(R::LogoutFailed, ROOM_ID_INCORRECT)]);
    assert!(rec.all().iter().all(|ev| !matches!(ev, Event::RoomStateUpdate { .. })));
}

// ---- threads and callbacks (contract §1.5) -------------------------------------------------

/// Calls back into the engine from inside its callbacks.
struct Reentrant {
    engine: Mutex<Option<Arc<RoomEngine>>>,
    threads: Mutex<Vec<std::thread::ThreadId>>,
    in_callback: AtomicUsize,
    overlaps: AtomicUsize,
    events: Recorder,
    destroy_on_logout: bool,
}

impl EventHandler for Reentrant {
    fn on_room_state_changed(&self, reason: RoomStateChangedReason, code: i32, ext: &str, room_id: &str) {
        if self.in_callback.fetch_add(1, Ordering::SeqCst) != 0 {
            self.overlaps.fetch_add(1, Ordering::SeqCst);
        }
        self.threads.lock().push(std::thread::current().id());
        self.events.on_room_state_changed(reason, code, ext, room_id);
        let engine = self.engine.lock().clone();
        if let Some(engine) = engine {
            match reason {
                R::Logined => {
                    engine.logout_room(Some(room_id)).unwrap();
                }
                R::Logout if self.destroy_on_logout => engine.destroy(),
                _ => {}
            }
        }
        self.in_callback.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn callbacks_may_call_logout_and_destroy_and_run_on_one_thread() {
    let server = start_server(None);
    let handler = Arc::new(Reentrant {
        engine: Mutex::new(None),
        threads: Mutex::new(vec![]),
        in_callback: AtomicUsize::new(0),
        overlaps: AtomicUsize::new(0),
        events: Recorder::default(),
        destroy_on_logout: true,
    });
    let profile = EngineProfile { app_id: APP_ID, server: server.url(), room_mode: RoomMode::SingleRoom };
    let engine = Arc::new(RoomEngine::new(profile, handler.clone()).unwrap());
    *handler.engine.lock() = Some(engine.clone());
    engine.login_room("re", &User::new("u", ""), None).unwrap();
    handler.events.expect_reason(0, R::Logout, SHORT);
    let deadline = Instant::now() + SHORT;
    while !engine.is_destroyed() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(engine.is_destroyed(), "destroy from inside a callback works");
    assert_eq!(engine.login_room("re", &User::new("u", ""), None), Err(ENGINE_NOT_CREATED));
    assert_eq!(handler.events.reasons(), vec![(R::Logining, 0), (R::Logined, 0), (R::Logout, 0)]);
    let threads = handler.threads.lock().clone();
    assert!(threads.iter().all(|t| *t == threads[0]) && threads[0] != std::thread::current().id(), "one engine-owned thread");
    assert_eq!(handler.overlaps.load(Ordering::SeqCst), 0);
    *handler.engine.lock() = None; // break the cycle
}

/// Counts events and sleeps a little in each, so destroy races a busy callback thread.
#[derive(Default)]
struct Slow {
    after_destroy: AtomicUsize,
    destroyed: std::sync::atomic::AtomicBool,
    count: AtomicUsize,
}

impl EventHandler for Slow {
    fn on_room_state_changed(&self, _: RoomStateChangedReason, _: i32, _: &str, _: &str) {
        if self.destroyed.load(Ordering::SeqCst) {
            self.after_destroy.fetch_add(1, Ordering::SeqCst);
        }
        self.count.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn no_callback_after_destroy_returns_even_under_concurrent_calls() {
    let server = start_server(None);
    for round in 0..5 {
        let handler = Arc::new(Slow::default());
        let profile = EngineProfile { app_id: APP_ID, server: server.url(), room_mode: RoomMode::MultiRoom };
        let engine = Arc::new(RoomEngine::new(profile, handler.clone()).unwrap());
        let workers: Vec<_> = (0..4)
            .map(|t| {
                let engine = engine.clone();
                std::thread::spawn(move || {
                    for i in 0..200 {
                        let room = format!("d{round}-{t}-{}", i % 3);
                        let _ = engine.login_room(&room, &User::new("same", ""), None);
                        let _ = engine.logout_room(Some(&room));
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(30));
        engine.destroy();
        handler.destroyed.store(true, Ordering::SeqCst);
        for w in workers {
            w.join().unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(handler.after_destroy.load(Ordering::SeqCst), 0, "round {round}");
        assert!(handler.count.load(Ordering::SeqCst) > 0);
        engine.destroy(); // twice is harmless
    }
}

// ---- the shared callback threads (contract §1.5: several engines may share one) -----------

/// Notes, per engine, each count it is given, the thread it ran on, and overlaps; a callback can
/// be held at a gate, and can destroy another engine.
#[derive(Default)]
struct Pinned {
    counts: Mutex<Vec<i32>>,
    threads: Mutex<Vec<std::thread::ThreadId>>,
    in_callback: AtomicUsize,
    overlaps: AtomicUsize,
    /// While set, a callback with count -1 waits until it is cleared.
    gate: Mutex<bool>,
    entered_gate: std::sync::atomic::AtomicBool,
    /// Destroyed by the callback with count -2.
    victim: Mutex<Option<Arc<RoomEngine>>>,
}

impl EventHandler for Pinned {
    fn on_room_online_user_count_update(&self, count: i32, _room_id: &str) {
        if self.in_callback.fetch_add(1, Ordering::SeqCst) != 0 {
            self.overlaps.fetch_add(1, Ordering::SeqCst);
        }
        self.threads.lock().push(std::thread::current().id());
        self.counts.lock().push(count);
        if count == -1 {
            self.entered_gate.store(true, Ordering::SeqCst);
            while *self.gate.lock() {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        if count == -2 {
            let victim = self.victim.lock().take();
            if let Some(v) = victim {
                v.destroy();
            }
        }
        self.in_callback.fetch_sub(1, Ordering::SeqCst);
    }
}

fn count_event(count: i32) -> zego_room::events::Event {
    zego_room::events::Event::RoomOnlineUserCountUpdate { count, room_id: "r".into() }
}

fn pinned_engine(url: &str) -> (Arc<RoomEngine>, Arc<Pinned>) {
    let handler = Arc::new(Pinned::default());
    let profile = EngineProfile { app_id: APP_ID, server: url.into(), room_mode: RoomMode::SingleRoom };
    (Arc::new(RoomEngine::new(profile, handler.clone()).unwrap()), handler)
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + SHORT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The thread an engine's callbacks run on (delivers one event and waits for it).
fn thread_of(e: &RoomEngine, h: &Pinned) -> std::thread::ThreadId {
    let n = h.counts.lock().len();
    e.inject_events_for_bench([count_event(0)]);
    wait_until("the probe event arrived", || h.counts.lock().len() > n);
    h.threads.lock()[n]
}

#[test]
fn many_engines_share_a_few_callback_threads_each_engine_keeps_its_own_in_order() {
    let engines: Vec<_> = (0..24).map(|_| pinned_engine("ws://127.0.0.1:9")).collect();
    // Four producers push into every engine at once, interleaved.
    let producers: Vec<_> = (0..4)
        .map(|p| {
            let engines: Vec<_> = engines.iter().map(|(e, _)| e.clone()).collect();
            std::thread::spawn(move || {
                for i in 0..250 {
                    for e in &engines {
                        e.inject_events_for_bench([count_event(p * 1000 + i)]);
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    for (_, h) in &engines {
        wait_until("every event arrived", || h.counts.lock().len() == 1000);
    }
    let mut all_threads = std::collections::HashSet::new();
    for (i, (e, h)) in engines.iter().enumerate() {
        let threads = h.threads.lock().clone();
        assert!(threads.iter().all(|t| *t == threads[0]), "engine {i}: one thread for all its callbacks");
        assert_ne!(threads[0], std::thread::current().id());
        assert_eq!(h.overlaps.load(Ordering::SeqCst), 0, "engine {i}: never concurrent");
        let counts = h.counts.lock().clone();
        for p in 0..4 {
            let mine: Vec<i32> = counts.iter().copied().filter(|c| c / 1000 == p).collect();
            assert_eq!(mine, (0..250).map(|i| p * 1000 + i).collect::<Vec<_>>(), "engine {i}: producer {p}'s events in order");
        }
        assert_eq!(thread_of(e, h), threads[0], "engine {i}: still the same thread later");
        all_threads.insert(threads[0]);
    }
    assert!(all_threads.len() <= 4, "24 engines use {} callback threads", all_threads.len());
    assert!(all_threads.len() >= 2, "the pool has at least 2 threads");
}

/// Two engines whose callbacks share a thread, plus that thread.
fn two_on_one_thread() -> ((Arc<RoomEngine>, Arc<Pinned>), (Arc<RoomEngine>, Arc<Pinned>)) {
    let mut seen: Vec<(std::thread::ThreadId, (Arc<RoomEngine>, Arc<Pinned>))> = Vec::new();
    for _ in 0..16 {
        let (e, h) = pinned_engine("ws://127.0.0.1:9");
        let t = thread_of(&e, &h);
        if let Some(i) = seen.iter().position(|(s, _)| *s == t) {
            return (seen.swap_remove(i).1, (e, h));
        }
        seen.push((t, (e, h)));
    }
    panic!("16 engines on 16 different callback threads: the pool is not small");
}

#[test]
fn destroy_waits_for_its_own_running_callback_only_and_releases_the_handler() {
    let ((a, ha), (b, hb)) = two_on_one_thread();
    let weak_a = Arc::downgrade(&ha);
    // A's callback blocks its (shared) thread.
    *ha.gate.lock() = true;
    a.inject_events_for_bench([count_event(-1), count_event(7)]);
    wait_until("A's callback is running", || ha.entered_gate.load(Ordering::SeqCst));
    // B shares the thread: its events wait behind A's callback (what a blocking callback delays)…
    b.inject_events_for_bench([count_event(5)]);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(hb.counts.lock().len(), 1, "B's event waits while A's callback blocks their thread");
    // …but destroying B does not wait for A's callback.
    let t = Instant::now();
    b.destroy();
    assert!(t.elapsed() < Duration::from_millis(500), "destroy of B waited {:?} for another engine's callback", t.elapsed());
    assert_eq!(Arc::strong_count(&hb), 1, "B's handler released when destroy returned");
    // Destroying A from outside waits until A's running callback returns.
    let a2 = a.clone();
    let destroyer = std::thread::spawn(move || {
        a2.destroy();
        Instant::now()
    });
    std::thread::sleep(Duration::from_millis(150));
    assert!(!destroyer.is_finished(), "destroy returned while the engine's callback still ran");
    let released = Instant::now();
    *ha.gate.lock() = false;
    let returned = destroyer.join().unwrap();
    assert!(returned >= released);
    assert_eq!(ha.counts.lock().clone(), vec![0, -1], "the event queued behind the running callback is dropped by destroy");
    drop(ha);
    assert!(weak_a.upgrade().is_none(), "A's handler released when destroy returned");
    assert_eq!(hb.counts.lock().clone(), vec![0], "B: nothing after its destroy");
    // The shared thread goes on serving the others.
    let (c, hc) = pinned_engine("ws://127.0.0.1:9");
    thread_of(&c, &hc);
}

#[test]
fn a_callback_may_destroy_an_engine_that_shares_its_thread_or_itself() {
    let ((a, ha), (b, hb)) = two_on_one_thread();
    // A's callback destroys B (same thread, B idle): returns at once, B gets nothing more.
    *ha.victim.lock() = Some(b.clone());
    b.inject_events_for_bench((1..=50).map(count_event));
    a.inject_events_for_bench([count_event(-2)]);
    wait_until("A's callback destroyed B", || ha.counts.lock().len() == 2 && b.is_destroyed());
    let delivered = hb.counts.lock().len();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(hb.counts.lock().len(), delivered, "no callback of B after its destroy");
    assert!(b.is_quiescent());
    wait_until("B's handler released", || Arc::strong_count(&hb) == 1);
    // A destroys itself from inside: takes effect when that callback returns; the handler is
    // released then (the engine is held by its own handler here: the cycle ends with the callback).
    let weak = Arc::downgrade(&ha);
    *ha.victim.lock() = Some(a.clone());
    drop(a);
    drop(ha);
    let a_probe = weak.upgrade().unwrap();
    let engine_weak = Arc::downgrade(a_probe.victim.lock().as_ref().unwrap());
    drop(a_probe);
    engine_weak.upgrade().unwrap().inject_events_for_bench([count_event(-2), count_event(9)]);
    wait_until("the handler and the engine are released", || weak.upgrade().is_none() && engine_weak.upgrade().is_none());
}

#[test]
fn a_panicking_handler_does_not_stop_later_events() {
    struct Panicky(Recorder);
    impl EventHandler for Panicky {
        fn on_room_state_changed(&self, reason: RoomStateChangedReason, code: i32, ext: &str, room: &str) {
            self.0.on_room_state_changed(reason, code, ext, room);
            if reason == R::Logining {
                panic!("host handler threw");
            }
        }
    }
    let server = start_server(None);
    let handler = Arc::new(Panicky(Recorder::default()));
    let profile = EngineProfile { app_id: APP_ID, server: server.url(), room_mode: RoomMode::SingleRoom };
    let engine = RoomEngine::new(profile, handler.clone()).unwrap();
    engine.login_room("p", &User::new("u", ""), None).unwrap();
    handler.0.expect_reason(0, R::Logined, SHORT);
}

#[test]
fn an_unusable_server_url_is_refused() {
    for bad in ["", "not a url", "http://127.0.0.1:1", "ws://"] {
        let profile = EngineProfile { app_id: 1, server: bad.into(), room_mode: RoomMode::SingleRoom };
        assert_eq!(RoomEngine::new(profile, Arc::new(Recorder::default())).err(), Some(ILLEGAL_PARAM), "{bad:?}");
    }
}

// ---- the server keeps serving when one client misbehaves ------------------------------------

#[test]
fn malformed_and_oversized_frames_close_only_that_session() {
    use std::io::{Read, Write};
    let server = start_server(None);
    let (_alice, a) = joined(&server.url(), "bad", "alice");
    let from = a.len();
    let raw_ws = |payload: &[u8]| {
        let mut s = std::net::TcpStream::connect(server.ws_addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let req = format!(
            "GET / HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            server.ws_addr()
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut buf = [0u8; 1024];
        let n = s.read(&mut buf).unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 101"));
        // One masked text frame.
        let mut frame = vec![0x81u8];
        let len = payload.len();
        if len < 126 {
            frame.push(0x80 | len as u8);
        } else if len < 65536 {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
        frame.extend_from_slice(&[0, 0, 0, 0]);
        frame.extend_from_slice(payload);
        let _ = s.write_all(&frame);
        // The server closes this session: read until EOF or error.
        let start = Instant::now();
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            assert!(start.elapsed() < Duration::from_secs(3), "server kept a misbehaving session open");
        }
    };
    raw_ws(b"this is not json");
    raw_ws(br#"{"t":"ping"}"#); // a first frame that is not a login
    raw_ws(&vec![b'x'; 100_000]); // oversized
    std::thread::sleep(Duration::from_millis(1500));
    assert!(a.all()[from..].iter().all(|e| !matches!(e, Event::RoomStateChanged { .. })), "alice was not disturbed");
    let (_bob, _b) = joined(&server.url(), "bad", "bob");
    assert!(a.wait_user_update(from, UpdateType::Add, "bob", SHORT).is_some(), "server still serving");
}
