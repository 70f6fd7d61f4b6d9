//! The seeds' reconnection scenarios over real sockets: a real server on 127.0.0.1, a
//! fault-injecting proxy between one engine and the server, short server timings
//! (`--heartbeat-timeout 3 --ping-interval 1`).

mod common;

use std::time::{Duration, Instant};

use common::harness::*;
use common::proxy::{Cut, FaultProxy};
use zego_room::error_codes::*;
use zego_room::*;

/// Alice joins through the proxy, Bob directly; both see each other.
fn alice_via_proxy_and_bob(server_url: &str, proxy: &FaultProxy, room: &str) -> ((RoomEngine, std::sync::Arc<Recorder>), (RoomEngine, std::sync::Arc<Recorder>)) {
    let bob = joined(server_url, room, "bob");
    let alice = joined(&proxy.url(), room, "alice");
    assert!(bob.1.wait_user_update(0, UpdateType::Add, "alice", SHORT).is_some(), "bob sees alice arrive");
    assert!(alice.1.wait_user_update(0, UpdateType::Add, "bob", SHORT).is_some(), "alice's first Add lists bob");
    (alice, bob)
}

#[test]
fn scenario1_short_drop_is_invisible_to_others() {
    // An 8 s grace so that "short" holds whatever the random backoff draws: the cut lasts 0.5 s and
    // the next retry comes at most 5 s (the backoff cap) later; the grace ends ≥ 7 s after the cut.
    let server = start_server_with(Some(SECRET), |c| c.heartbeat_timeout = Duration::from_secs(8));
    let proxy = FaultProxy::start(server.ws_addr());
    let ((_alice, a), (_bob, b)) = alice_via_proxy_and_bob(&server.url(), &proxy, "s1");
    let bob_seen = b.len();
    let from = a.len();

    let cut_at = Instant::now();
    proxy.cut(Cut::Close);
    let (lost_at, code, _) = a.expect_reason(from, R::Reconnecting, SHORT);
    assert_eq!(code, CONNECT_TEMPORARY_BROKEN);
    std::thread::sleep(Duration::from_millis(500));
    proxy.restore();
    let (back_at, code, ext) = a.expect_reason(from, R::Reconnected, Duration::from_secs(7));
    assert_eq!(code, 0);
    assert!(ext.contains("room_session_id"));
    eprintln!("closed connection detected in {:?}; reconnected {:?} after restore", lost_at - cut_at, back_at - cut_at);
    assert!(lost_at - cut_at <= Duration::from_secs(1), "a closed connection is reported within 1 s");

    // Past the grace period Bob has still seen nothing about Alice.
    std::thread::sleep(Duration::from_secs(8));
    let bob_after: Vec<_> = b.all().into_iter().skip(bob_seen).filter(|e| matches!(e, Event::RoomUserUpdate { .. })).collect();
    assert!(bob_after.is_empty(), "others see nothing of a short drop: {bob_after:?}");
    // Alice was resumed: no duplicate Add of Bob.
    assert_eq!(a.user_updates(), vec![(UpdateType::Add, vec!["bob".into()])]);
    assert_eq!(a.reasons(), vec![(R::Logining, 0), (R::Logined, 0), (R::Reconnecting, CONNECT_TEMPORARY_BROKEN), (R::Reconnected, 0)]);
}

#[test]
fn scenario2_long_silent_drop_delete_at_grace_then_add_and_diffs() {
    let server = start_server(Some(SECRET));
    let proxy = FaultProxy::start(server.ws_addr());
    let ((_alice, a), (_bob, b)) = alice_via_proxy_and_bob(&server.url(), &proxy, "s2");
    let (dave, _d) = joined(&server.url(), "s2", "dave");
    assert!(a.wait_user_update(0, UpdateType::Add, "dave", SHORT).is_some());
    let (a_from, b_from) = (a.len(), b.len());

    let cut_at = Instant::now();
    proxy.cut(Cut::Blackhole);
    // Silent drop: detected within 3 ping intervals + 1 s.
    let (lost_at, code, _) = a.expect_reason(a_from, R::Reconnecting, Duration::from_secs(6));
    assert_eq!(code, CONNECT_TEMPORARY_BROKEN);
    assert!(lost_at - cut_at <= Duration::from_secs(4), "silent drop detected in {:?}", lost_at - cut_at);
    // Others see Delete once the grace (3 s from the last frame) is over.
    let deleted_at = b.wait_user_update(b_from, UpdateType::Delete, "alice", Duration::from_secs(6)).expect("bob sees alice leave");
    let after = deleted_at - cut_at;
    assert!(after >= Duration::from_secs(2) && after <= Duration::from_millis(4500), "Delete at loss + grace: {after:?}");
    // While Alice is away, Dave leaves and Carol arrives.
    dave.logout_room(None).unwrap();
    let (_carol, _c) = joined(&server.url(), "s2", "carol");
    std::thread::sleep(Duration::from_millis(300));

    let restored_at = Instant::now();
    proxy.restore();
    let (back_at, _, _) = a.expect_reason(a_from, R::Reconnected, Duration::from_secs(8));
    eprintln!("silent drop detected in {:?}; Delete after {:?}; reconnected {:?} after restore", lost_at - cut_at, after, back_at - restored_at);
    assert!(b.wait_user_update(b_from, UpdateType::Add, "alice", SHORT).is_some(), "others see alice again");
    // Alice gets exactly what she missed, after Reconnected.
    std::thread::sleep(Duration::from_millis(300));
    let updates_after: Vec<_> = {
        let all = a.all();
        let reconnected = all.iter().position(|e| matches!(e, Event::RoomStateChanged { reason: R::Reconnected, .. })).unwrap();
        assert!(all[a_from..reconnected].iter().all(|e| !matches!(e, Event::RoomUserUpdate { .. })), "no diffs before Reconnected");
        all[reconnected..]
            .iter()
            .filter_map(|e| match e {
                Event::RoomUserUpdate { update_type, users, .. } => Some((*update_type, users.iter().map(|u| u.user_id.clone()).collect::<Vec<_>>())),
                _ => None,
            })
            .collect()
    };
    assert_eq!(updates_after, vec![(UpdateType::Delete, vec!["dave".to_string()]), (UpdateType::Add, vec!["carol".to_string()])]);
}

#[test]
fn scenario3_drop_past_retry_window_fails_and_stops_trying() {
    let server = start_server(Some(SECRET));
    let proxy = FaultProxy::start(server.ws_addr());
    let (alice, a) = engine(&proxy.url(), RoomMode::SingleRoom);
    alice.set_engine_config("room_retry_time=3").unwrap();
    alice.login_room("s3", &User::new("alice", ""), Some(&cfg_notify(token("alice", 3600)))).unwrap();
    a.expect_reason(0, R::Logined, SHORT);
    let (_bob, b) = joined(&server.url(), "s3", "bob");
    let from = a.len();

    let cut_at = Instant::now();
    proxy.cut(Cut::Reset);
    a.expect_reason(from, R::Reconnecting, SHORT);
    let (failed_at, code, _) = a.expect_reason(from, R::ReconnectFailed, Duration::from_secs(8));
    assert_eq!(code, RETRY_TIMEOUT);
    let took = failed_at - cut_at;
    assert!(took >= Duration::from_secs(3) && took < Duration::from_millis(4500), "gave up after the window: {took:?}");
    assert!(proxy.connection_attempts() > 2, "it did retry");
    let attempts = proxy.connection_attempts();
    // The legacy state update follows the reason change on the callback thread: let it land.
    assert!(a.wait_from(from, SHORT, |e| matches!(e, Event::RoomStateUpdate { state: RoomState::Disconnected, .. })).is_some());
    let events = a.len();
    proxy.restore();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(proxy.connection_attempts(), attempts, "no further connection attempts after ReconnectFailed");
    assert_eq!(a.len(), events, "no further events");
    assert!(b.wait_user_update(0, UpdateType::Delete, "alice", SHORT).is_some(), "others see alice leave after the grace");
    // The room no longer counts: a new login works, and logging out of the failed room emits Logout.
    let from = a.len();
    alice.logout_room(Some("s3")).unwrap();
    a.expect_reason(from, R::Logout, SHORT);
    alice.login_room("s3", &User::new("alice", ""), Some(&cfg_notify(token("alice", 3600)))).unwrap();
    a.expect_reason(from, R::Logined, SHORT);
}

#[test]
fn closed_and_silent_connections_are_told_apart_by_detection_time() {
    let server = start_server(Some(SECRET));
    for (cut, limit) in [(Cut::Reset, Duration::from_secs(1)), (Cut::Close, Duration::from_secs(1)), (Cut::Blackhole, Duration::from_secs(4))] {
        let proxy = FaultProxy::start(server.ws_addr());
        let (_alice, a) = joined(&proxy.url(), "detect", "alice");
        std::thread::sleep(Duration::from_millis(200));
        let from = a.len();
        let cut_at = Instant::now();
        proxy.cut(cut);
        let (at, _, _) = a.expect_reason(from, R::Reconnecting, Duration::from_secs(6));
        let took = at - cut_at;
        eprintln!("{cut:?}: detected in {took:?}");
        assert!(took <= limit, "{cut:?} detected in {took:?}, limit {limit:?}");
        proxy.restore();
        a.expect_reason(from, R::Reconnected, Duration::from_secs(8));
    }
}

#[test]
fn server_killed_and_restarted_engines_log_in_again_as_reconnected() {
    let mut config = fast_config(Some(SECRET));
    let server = zego_room::server::start(config.clone()).unwrap();
    let url = server.url();
    let (_alice, a) = joined(&url, "restart", "alice");
    let (_bob, b) = joined(&url, "restart", "bob");
    let (a_from, b_from) = (a.len(), b.len());
    config.listen = server.ws_addr();
    config.admin_listen = server.admin_addr();
    server.kill();
    a.expect_reason(a_from, R::Reconnecting, SHORT);
    std::thread::sleep(Duration::from_millis(500));
    let server = zego_room::server::start(config).expect("restart on the same ports");
    let (_, code, _) = a.expect_reason(a_from, R::Reconnected, Duration::from_secs(8));
    assert_eq!(code, 0);
    b.expect_reason(b_from, R::Reconnected, Duration::from_secs(8));
    for rec in [&a, &b] {
        let after: Vec<R> = rec.reasons().into_iter().skip(2).map(|(r, _)| r).collect();
        assert_eq!(after, vec![R::Reconnecting, R::Reconnected], "one Reconnecting → Reconnected pair, never Logined");
    }
    let users = admin(&server, Some(SECRET)).describe_users("restart").unwrap();
    let mut ids: Vec<String> = users["Data"]["UserList"].as_array().unwrap().iter().map(|u| u["UserId"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    assert_eq!(ids, vec!["alice", "bob"]);
}

#[test]
fn first_login_to_an_unreachable_server_stays_logining_then_fails() {
    let server = start_server(Some(SECRET));
    let proxy = FaultProxy::start(server.ws_addr());
    proxy.set_refuse(true);
    let (alice, a) = engine(&proxy.url(), RoomMode::SingleRoom);
    alice.set_engine_config("room_retry_time=2").unwrap();
    let seq = alice.login_room("nowhere", &User::new("alice", ""), Some(&cfg_notify(token("alice", 3600)))).unwrap();
    let (_, code, _) = a.expect_reason(0, R::LoginFailed, Duration::from_secs(5));
    assert_eq!(code, RETRY_TIMEOUT);
    assert_eq!(a.reasons(), vec![(R::Logining, 0), (R::LoginFailed, RETRY_TIMEOUT)], "no Reconnecting during a first login");
    let result = Event::RoomLoginResult { error_code: RETRY_TIMEOUT, extended_data: "{}".into(), room_id: "nowhere".into(), seq };
    assert!(a.wait(SHORT, |e| *e == result).is_some(), "{:?}", a.all());
    assert!(proxy.connection_attempts() >= 2);
}

#[test]
fn first_login_succeeds_once_the_server_comes_up_within_the_window() {
    let server = start_server(Some(SECRET));
    let proxy = FaultProxy::start(server.ws_addr());
    proxy.set_refuse(true);
    let (alice, a) = engine(&proxy.url(), RoomMode::SingleRoom);
    alice.login_room("later", &User::new("alice", ""), Some(&cfg_notify(token("alice", 3600)))).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    proxy.restore();
    a.expect_reason(0, R::Logined, Duration::from_secs(8));
    assert_eq!(a.reasons(), vec![(R::Logining, 0), (R::Logined, 0)]);
}
