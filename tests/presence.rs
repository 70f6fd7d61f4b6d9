//! One client per user_id across the app (contract §1.6), rooms in flight (§1.5a) and presence that
//! converges (§1.7), over real sockets: a real server on 127.0.0.1, the fault proxy between the
//! engine under test and the server.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::harness::*;
use common::proxy::{Cut, FaultProxy};
use zego_room::error_codes::*;
use zego_room::*;

fn login_named(url: &str, mode: RoomMode, room: &str, user: &str, name: &str) -> (RoomEngine, Arc<Recorder>) {
    let (e, rec) = engine(url, mode);
    e.login_room(room, &User::new(user, name), Some(&cfg_notify(token(user, 3600)))).unwrap();
    rec.expect_reason(0, R::Logined, SHORT);
    (e, rec)
}

fn user_ids(server: &zego_room::server::ServerHandle, room: &str) -> Vec<(String, String)> {
    let v = admin(server, Some(SECRET)).describe_users(room).unwrap();
    let mut list: Vec<(String, String)> = v["Data"]["UserList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["UserId"].as_str().unwrap().to_owned(), u["UserName"].as_str().unwrap().to_owned()))
        .collect();
    list.sort();
    list
}

/// User updates as (type, [(id, name)]), in order.
fn updates(rec: &Recorder) -> Vec<(UpdateType, Vec<(String, String)>)> {
    rec.all()
        .into_iter()
        .filter_map(|e| match e {
            Event::RoomUserUpdate { update_type, users, .. } => {
                Some((update_type, users.into_iter().map(|u| (u.user_id, u.user_name)).collect()))
            }
            _ => None,
        })
        .collect()
}

fn pair(id: &str, name: &str) -> (String, String) {
    (id.to_owned(), name.to_owned())
}

#[test]
fn duplicate_user_in_another_room_kicks_the_earlier_engine_everywhere() {
    let server = start_server(Some(SECRET));
    let proxy = FaultProxy::start(server.ws_addr());
    // A holds u_a in r1 and r9 (multi-room) through the proxy; B is in r1.
    let (a, ra) = engine(&proxy.url(), RoomMode::MultiRoom);
    for room in ["r1", "r9"] {
        let from = ra.len();
        a.login_room(room, &User::new("u_a", "A"), Some(&cfg_notify(token("u_a", 3600)))).unwrap();
        ra.expect_reason(from, R::Logined, SHORT);
    }
    let (_b, rb) = login_named(&server.url(), RoomMode::SingleRoom, "r1", "u_b", "B");
    assert!(rb.wait_user_update(0, UpdateType::Add, "u_a", SHORT).is_some());
    // Holding one user_id in two rooms never kicked A itself.
    assert!(ra.reasons().iter().all(|(r, _)| *r != R::KickOut));
    let attempts = proxy.connection_attempts();
    let b_from = rb.len();

    // C logs u_a into r2.
    let t0 = Instant::now();
    let (_c, rc) = login_named(&server.url(), RoomMode::SingleRoom, "r2", "u_a", "C");
    let kicks: Vec<(String, i32)> = {
        assert!(eventually(SHORT, || ra.reasons().iter().filter(|(r, _)| *r == R::KickOut).count() == 2));
        ra.all()
            .into_iter()
            .filter_map(|e| match e {
                Event::RoomStateChanged { reason: R::KickOut, error_code, room_id, .. } => Some((room_id, error_code)),
                _ => None,
            })
            .collect()
    };
    let mut kicks = kicks;
    kicks.sort();
    assert_eq!(kicks, vec![("r1".into(), KICKED_OUT_DUPLICATE_LOGIN), ("r9".into(), KICKED_OUT_DUPLICATE_LOGIN)]);
    let deleted = rb.wait_user_update(b_from, UpdateType::Delete, "u_a", SHORT).expect("B sees u_a leave r1");
    assert!(deleted - t0 < Duration::from_secs(2), "at once, not after the 3 s grace: {:?}", deleted - t0);
    // C is untouched, the admin API agrees, A makes no further attempt.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(rc.reasons(), vec![(R::Logining, 0), (R::Logined, 0)]);
    assert_eq!(user_ids(&server, "r1"), vec![pair("u_b", "B")]);
    assert_eq!(user_ids(&server, "r2"), vec![pair("u_a", "C")]);
    assert_eq!(proxy.connection_attempts(), attempts, "no attempt after KickOut");
    assert_eq!(*ra.reasons().last().unwrap(), (R::KickOut, KICKED_OUT_DUPLICATE_LOGIN));
}

#[test]
fn the_same_engine_logging_out_and_in_again_quickly_never_kicks_itself() {
    let server = start_server(Some(SECRET));
    let (e, rec) = login_named(&server.url(), RoomMode::SingleRoom, "q", "u", "U");
    let (_b, rb) = login_named(&server.url(), RoomMode::SingleRoom, "q", "b", "B");
    for _ in 0..5 {
        let from = rec.len();
        e.logout_room(Some("q")).unwrap();
        e.login_room("q", &User::new("u", "U"), Some(&cfg_notify(token("u", 3600)))).unwrap();
        rec.expect_reason(from, R::Logined, SHORT);
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(rec.reasons().iter().all(|(r, _)| *r != R::KickOut), "{:?}", rec.reasons());
    assert_eq!(user_ids(&server, "q"), vec![pair("b", "B"), pair("u", "U")]);
    // B's list converges to u present (each logout was a real Delete, each login an Add).
    let last = updates(&rb).into_iter().rev().find(|(_, l)| l.iter().any(|(id, _)| id == "u")).unwrap();
    assert_eq!(last.0, UpdateType::Add);
}

#[test]
fn same_user_again_during_the_grace_with_a_new_name() {
    let server = start_server(Some(SECRET));
    let proxy = FaultProxy::start(server.ws_addr());
    let (_b, rb) = login_named(&server.url(), RoomMode::SingleRoom, "g", "u_b", "B");
    let (_a, ra) = login_named(&proxy.url(), RoomMode::SingleRoom, "g", "u_a", "a-old");
    assert!(rb.wait_user_update(0, UpdateType::Add, "u_a", SHORT).is_some());
    let b_from = rb.len();
    proxy.cut(Cut::Blackhole);
    std::thread::sleep(Duration::from_secs(1));
    let (_a2, ra2) = login_named(&server.url(), RoomMode::SingleRoom, "g", "u_a", "a-new");
    assert!(eventually(SHORT, || rb.all().len() >= b_from + 2));
    // The old session's grace (3 s from its last frame) ends while we wait: it removes nothing.
    std::thread::sleep(Duration::from_secs(5));
    let seen: Vec<_> = updates(&rb).into_iter().skip(1).collect();
    assert_eq!(
        seen,
        vec![(UpdateType::Delete, vec![pair("u_a", "a-old")]), (UpdateType::Add, vec![pair("u_a", "a-new")])],
        "Delete (old name) then Add (new name), nothing more"
    );
    assert_eq!(user_ids(&server, "g"), vec![pair("u_a", "a-new"), pair("u_b", "B")]);
    // A's network comes back: KickOut 1002050, never Reconnected.
    let a_from = ra.len();
    proxy.restore();
    let (_, code, _) = ra.expect_reason(a_from, R::KickOut, Duration::from_secs(10));
    assert_eq!(code, KICKED_OUT_DUPLICATE_LOGIN);
    assert!(ra.reasons().iter().all(|(r, _)| *r != R::Reconnected));
    assert_eq!(ra2.reasons(), vec![(R::Logining, 0), (R::Logined, 0)]);
}

#[test]
fn same_user_again_under_the_same_name_is_invisible() {
    let server = start_server(Some(SECRET));
    let proxy = FaultProxy::start(server.ws_addr());
    let (_b, rb) = login_named(&server.url(), RoomMode::SingleRoom, "h", "u_b", "B");
    let (_a, _ra) = login_named(&proxy.url(), RoomMode::SingleRoom, "h", "u_a", "same");
    assert!(rb.wait_user_update(0, UpdateType::Add, "u_a", SHORT).is_some());
    let b_from = rb.len();
    proxy.cut(Cut::Blackhole);
    std::thread::sleep(Duration::from_secs(1));
    let (_a2, _ra2) = login_named(&server.url(), RoomMode::SingleRoom, "h", "u_a", "same");
    std::thread::sleep(Duration::from_secs(5));
    let after: Vec<Event> = rb.all().into_iter().skip(b_from).filter(|e| matches!(e, Event::RoomUserUpdate { .. })).collect();
    assert!(after.is_empty(), "{after:?}");
    assert_eq!(user_ids(&server, "h"), vec![pair("u_a", "same"), pair("u_b", "B")]);
}

#[test]
fn server_restart_within_the_grace_causes_no_flap() {
    // Grace 6 s; the server is down for about 1 s.
    let mut config = fast_config(Some(SECRET));
    config.heartbeat_timeout = Duration::from_secs(6);
    let server = zego_room::server::start(config.clone()).unwrap();
    let url = server.url();
    let (_a, ra) = login_named(&url, RoomMode::SingleRoom, "z", "a", "A");
    let (_b, rb) = login_named(&url, RoomMode::SingleRoom, "z", "b", "B");
    let (c, rc) = login_named(&url, RoomMode::SingleRoom, "z", "c", "C");
    for r in [&ra, &rb] {
        assert!(eventually(SHORT, || updates(r).iter().flat_map(|(_, l)| l.clone()).filter(|(id, _)| id != "a" && id != "b").count() >= 1));
        assert!(eventually(SHORT, || updates(r).len() >= 1));
    }
    assert!(eventually(SHORT, || updates(&ra).iter().any(|(_, l)| l.iter().any(|(id, _)| id == "c"))));
    assert!(eventually(SHORT, || updates(&rb).iter().any(|(_, l)| l.iter().any(|(id, _)| id == "c"))));
    let (a_from, b_from) = (ra.len(), rb.len());
    let a_updates = updates(&ra).len();
    let b_updates = updates(&rb).len();
    // c will not come back: its engine goes away with the server (no logout reaches it).
    config.listen = server.ws_addr();
    config.admin_listen = server.admin_addr();
    server.kill();
    drop(c);
    drop(rc);
    std::thread::sleep(Duration::from_millis(800));
    let restarted = Instant::now();
    let server = zego_room::server::start(config).expect("restart on the same ports");
    ra.expect_reason(a_from, R::Reconnected, Duration::from_secs(8));
    rb.expect_reason(b_from, R::Reconnected, Duration::from_secs(8));
    // Until the grace has passed since the restart: no Delete/Add of anyone who is back.
    std::thread::sleep(Duration::from_secs(4));
    for (r, n) in [(&ra, a_updates), (&rb, b_updates)] {
        let after: Vec<_> = updates(r).into_iter().skip(n).collect();
        assert!(after.is_empty(), "no flap: {after:?}");
    }
    // c gets exactly one Delete, once the grace has passed since the restart.
    for (r, n) in [(&ra, a_updates), (&rb, b_updates)] {
        let at = r.wait_user_update(0, UpdateType::Delete, "c", Duration::from_secs(6)).expect("c deleted");
        assert!(at - restarted >= Duration::from_millis(5500), "not before the grace: {:?}", at - restarted);
        std::thread::sleep(Duration::from_millis(300));
        let after: Vec<_> = updates(r).into_iter().skip(n).collect();
        assert_eq!(after, vec![(UpdateType::Delete, vec![pair("c", "C")])]);
    }
    for r in [&ra, &rb] {
        let after: Vec<R> = r.reasons().into_iter().skip(2).map(|(r, _)| r).collect();
        assert_eq!(after, vec![R::Reconnecting, R::Reconnected]);
    }
    assert_eq!(user_ids(&server, "z"), vec![pair("a", "A"), pair("b", "B")]);
}

// ---- §1.5a: rooms in flight count as joined -----------------------------------------------------

#[test]
fn logout_during_logining_with_a_held_handshake_appears_to_nobody() {
    let server = start_server(Some(SECRET));
    let proxy = FaultProxy::start(server.ws_addr());
    let (_b, rb) = login_named(&server.url(), RoomMode::SingleRoom, "l", "b", "B");
    proxy.set_delay(Duration::from_millis(1500));
    let (e, rec) = engine(&proxy.url(), RoomMode::SingleRoom);
    e.login_room("l", &User::new("u", "U"), Some(&cfg_notify(token("u", 3600)))).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    e.logout_room(Some("l")).unwrap();
    assert!(eventually(SHORT, || rec.reasons().contains(&(R::Logout, 0))));
    assert_eq!(rec.reasons(), vec![(R::Logining, 0), (R::Logout, 0)]);
    // The held bytes reach the server later; nobody ever sees u.
    std::thread::sleep(Duration::from_secs(4));
    assert!(updates(&rb).iter().all(|(_, l)| l.iter().all(|(id, _)| id != "u")), "{:?}", updates(&rb));
    // A later login of the same engine is never kicked.
    proxy.set_delay(Duration::ZERO);
    let from = rec.len();
    e.login_room("l", &User::new("u", "U"), Some(&cfg_notify(token("u", 3600)))).unwrap();
    rec.expect_reason(from, R::Logined, SHORT);
    std::thread::sleep(Duration::from_secs(2));
    assert!(rec.reasons().iter().all(|(r, _)| *r != R::KickOut), "{:?}", rec.reasons());
}

#[test]
fn logout_or_switch_during_reconnecting() {
    let server = start_server(Some(SECRET));
    let proxy = FaultProxy::start(server.ws_addr());
    // Logout during Reconnecting: Logout, no more attempts.
    let (e, rec) = login_named(&proxy.url(), RoomMode::SingleRoom, "x", "u", "U");
    proxy.cut(Cut::Close);
    rec.expect_reason(0, R::Reconnecting, SHORT);
    e.logout_room(Some("x")).unwrap();
    assert!(eventually(SHORT, || rec.reasons().last() == Some(&(R::Logout, 0))), "{:?}", rec.reasons());
    let attempts = proxy.connection_attempts();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(proxy.connection_attempts(), attempts, "no attempt after Logout");
    proxy.restore();

    // Switch during Reconnecting: Logout(from), then the target room logs in.
    let (e, rec) = login_named(&proxy.url(), RoomMode::SingleRoom, "from", "v", "V");
    proxy.cut(Cut::Close);
    rec.expect_reason(0, R::Reconnecting, SHORT);
    let from = rec.len();
    e.switch_room("from", "to", None).unwrap();
    proxy.restore();
    rec.expect_reason(from, R::Logined, Duration::from_secs(8));
    let tail: Vec<(R, String)> = rec
        .all()
        .into_iter()
        .skip(from)
        .filter_map(|e| match e {
            Event::RoomStateChanged { reason, room_id, .. } => Some((reason, room_id)),
            _ => None,
        })
        .collect();
    assert_eq!(tail, vec![(R::Logout, "from".into()), (R::Logining, "to".into()), (R::Logined, "to".into())]);
    assert_eq!(user_ids(&server, "to"), vec![pair("v", "V")]);
    assert!(user_ids(&server, "from").is_empty() || eventually(Duration::from_secs(5), || user_ids(&server, "from").is_empty()));
}

#[test]
fn renew_token_during_reconnecting_is_used_by_the_next_attempt() {
    // Grace 2 s so that the session is gone and the next attempt is a fresh login (token checked).
    let server = start_server_with(Some(SECRET), |c| c.heartbeat_timeout = Duration::from_secs(2));
    let proxy = FaultProxy::start(server.ws_addr());
    let (e, rec) = engine(&proxy.url(), RoomMode::SingleRoom);
    // A token that expires in 8 s.
    e.login_room("t", &User::new("u", "U"), Some(&cfg_notify(token("u", 8)))).unwrap();
    rec.expect_reason(0, R::Logined, SHORT);
    proxy.cut(Cut::Close);
    rec.expect_reason(0, R::Reconnecting, SHORT);
    assert_eq!(e.renew_token("t", &token("u", 3600)), Ok(()));
    // Stay away past the grace and past the old token's expiry.
    std::thread::sleep(Duration::from_secs(9));
    proxy.restore();
    let (_, code, _) = rec.expect_reason(0, R::Reconnected, Duration::from_secs(8));
    assert_eq!(code, 0, "the renewed token was used");
}

#[test]
fn reconnect_refused_because_the_token_expired_meanwhile_fails_at_once() {
    let server = start_server_with(Some(SECRET), |c| c.heartbeat_timeout = Duration::from_secs(2));
    let proxy = FaultProxy::start(server.ws_addr());
    let (e, rec) = engine(&proxy.url(), RoomMode::SingleRoom);
    e.login_room("t2", &User::new("u", "U"), Some(&cfg_notify(token("u", 4)))).unwrap();
    rec.expect_reason(0, R::Logined, SHORT);
    proxy.cut(Cut::Close);
    rec.expect_reason(0, R::Reconnecting, SHORT);
    std::thread::sleep(Duration::from_secs(5));
    proxy.restore();
    let (_, code, _) = rec.expect_reason(0, R::ReconnectFailed, Duration::from_secs(8));
    assert_eq!(code, AUTHENTICATION_FAILED);
    let attempts = proxy.connection_attempts();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(proxy.connection_attempts(), attempts, "one terminal event, no silent retries");
    assert_eq!(rec.reasons().iter().filter(|(r, _)| *r == R::ReconnectFailed).count(), 1);
}

#[test]
fn kicks_that_land_while_the_target_is_cut_off_stick() {
    for duplicate in [false, true] {
        let server = start_server(Some(SECRET));
        let proxy = FaultProxy::start(server.ws_addr());
        let (_a, ra) = login_named(&proxy.url(), RoomMode::SingleRoom, "k", "u", "U");
        proxy.cut(Cut::Blackhole);
        std::thread::sleep(Duration::from_millis(300));
        let expected = if duplicate {
            let _other = login_named(&server.url(), RoomMode::SingleRoom, "k", "u", "U");
            std::mem::forget(_other);
            KICKED_OUT_DUPLICATE_LOGIN
        } else {
            assert_eq!(admin(&server, Some(SECRET)).kickout_user("k", &["u"], Some("bye")).unwrap()["Code"], 0);
            MANUAL_KICKED_OUT
        };
        proxy.restore();
        let (_, code, _) = ra.expect_reason(0, R::KickOut, Duration::from_secs(10));
        assert_eq!(code, expected);
        let attempts = proxy.connection_attempts();
        std::thread::sleep(Duration::from_secs(2));
        assert!(ra.reasons().iter().all(|(r, _)| *r != R::Reconnected), "{:?}", ra.reasons());
        assert_eq!(proxy.connection_attempts(), attempts, "no retries after the kick");
    }
}

#[test]
fn destroy_without_logout_others_see_delete_at_once_and_racing_calls_are_safe() {
    let server = start_server(Some(SECRET));
    let (_b, rb) = login_named(&server.url(), RoomMode::SingleRoom, "d", "b", "B");
    let (a, _ra) = login_named(&server.url(), RoomMode::SingleRoom, "d", "a", "A");
    assert!(rb.wait_user_update(0, UpdateType::Add, "a", SHORT).is_some());
    let a = Arc::new(a);
    let racers: Vec<_> = (0..4)
        .map(|i| {
            let a = a.clone();
            std::thread::spawn(move || {
                let mut codes = Vec::new();
                for _ in 0..200 {
                    codes.push(match i % 2 {
                        0 => a.login_room("d2", &User::new("a", "A"), None).err().unwrap_or(0),
                        _ => a.renew_token("d", "x").err().unwrap_or(0),
                    });
                }
                codes
            })
        })
        .collect();
    let t0 = Instant::now();
    a.destroy();
    for r in racers {
        for code in r.join().unwrap() {
            assert!([0, ENGINE_NOT_CREATED, ROOM_COUNT_EXCEED, ROOM_ID_INCORRECT].contains(&code), "unexpected {code}");
        }
    }
    let at = rb.wait_user_update(0, UpdateType::Delete, "a", SHORT).expect("b sees a leave");
    assert!(at - t0 < Duration::from_secs(1), "at once (not after the grace): {:?}", at - t0);
    assert_eq!(a.login_room("d", &User::new("a", "A"), None), Err(ENGINE_NOT_CREATED));
}
