//! Room messaging and room extra info (contract §7) over real sockets: a real server, engines, the
//! fault proxy for a receiver's network, the admin API.

mod common;

use std::time::{Duration, Instant};

use common::harness::*;
use common::proxy::{Cut, FaultProxy};
use zego_room::error_codes::*;
use zego_room::*;

fn broadcasts(rec: &Recorder) -> Vec<(u64, String, String)> {
    rec.all()
        .into_iter()
        .flat_map(|e| match e {
            Event::ImRecvBroadcastMessage { messages, .. } => messages.into_iter().map(|m| (m.message_id, m.message, m.from_user.user_id)).collect(),
            _ => vec![],
        })
        .collect()
}

fn commands(rec: &Recorder) -> Vec<(String, String)> {
    rec.all()
        .into_iter()
        .filter_map(|e| match e {
            Event::ImRecvCustomCommand { command, from_user, .. } => Some((command, from_user.user_id)),
            _ => None,
        })
        .collect()
}

fn barrages(rec: &Recorder) -> Vec<String> {
    rec.all()
        .into_iter()
        .flat_map(|e| match e {
            Event::ImRecvBarrageMessage { messages, .. } => messages.into_iter().map(|m| m.message).collect(),
            _ => vec![],
        })
        .collect()
}

fn broadcast_result(rec: &Recorder, seq: Seq) -> Option<(i32, u64)> {
    rec.wait(SHORT, |e| matches!(e, Event::ImSendBroadcastMessageResult { seq: s, .. } if *s == seq)).map(|(_, e)| match e {
        Event::ImSendBroadcastMessageResult { error_code, message_id, .. } => (error_code, message_id),
        _ => unreachable!(),
    })
}

/// Sends `n` broadcasts numbered from `first`, at the allowed pace (2 per second per sender).
fn send_numbered(e: &RoomEngine, room: &str, first: u32, n: u32) -> Vec<Seq> {
    (first..first + n)
        .map(|i| {
            let seq = e.send_broadcast_message(room, &format!("m{i}")).unwrap();
            std::thread::sleep(Duration::from_millis(520));
            seq
        })
        .collect()
}

#[test]
fn broadcasts_reach_everyone_but_the_sender_in_order_exactly_once() {
    let server = start_server(Some(SECRET));
    let url = server.url();
    let (alice, a) = joined(&url, "m", "alice");
    let (_bob, b) = joined(&url, "m", "bob");
    let (_carol, c) = joined(&url, "m", "carol");
    let seqs = send_numbered(&alice, "m", 0, 4);
    let mut ids = Vec::new();
    for seq in seqs {
        let (code, id) = broadcast_result(&a, seq).expect("a result per send");
        assert_eq!(code, 0);
        ids.push(id);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase per room: {ids:?}");
    for r in [&b, &c] {
        assert!(eventually(SHORT, || broadcasts(r).len() == 4));
        let got: Vec<String> = broadcasts(r).into_iter().map(|(_, m, from)| format!("{m}/{from}")).collect();
        assert_eq!(got, vec!["m0/alice", "m1/alice", "m2/alice", "m3/alice"]);
    }
    assert!(broadcasts(&a).is_empty(), "the sender never gets its own");
    // send_time is server time in ms.
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let t = b.all().into_iter().find_map(|e| match e {
        Event::ImRecvBroadcastMessage { messages, .. } => Some(messages[0].send_time),
        _ => None,
    });
    assert!(now_ms - t.unwrap() < 10_000);
}

#[test]
fn rates_and_limits() {
    let server = start_server(Some(SECRET));
    let url = server.url();
    let (alice, a) = joined(&url, "rate", "alice");
    let (_bob, b) = joined(&url, "rate", "bob");
    // Over 2 broadcasts per second: 1009015 for the excess, nothing sent for it.
    let seqs: Vec<Seq> = (0..4).map(|i| alice.send_broadcast_message("rate", &format!("x{i}")).unwrap()).collect();
    let codes: Vec<i32> = seqs.iter().map(|s| broadcast_result(&a, *s).unwrap().0).collect();
    assert_eq!(codes, vec![0, 0, MESSAGE_RATE_LIMITED, MESSAGE_RATE_LIMITED]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(broadcasts(&b).len(), 2);
    // Barrage over 20 per second per room may be dropped: the excess is refused with 1009015.
    let seqs: Vec<Seq> = (0..30).map(|i| alice.send_barrage_message("rate", &format!("b{i}")).unwrap()).collect();
    let mut ok = 0;
    for seq in seqs {
        let (_, e) = a.wait(SHORT, |e| matches!(e, Event::ImSendBarrageMessageResult { seq: s, .. } if *s == seq)).expect("result");
        if let Event::ImSendBarrageMessageResult { error_code, message_id, .. } = e {
            if error_code == 0 {
                ok += 1;
                assert!(!message_id.is_empty());
            } else {
                assert_eq!(error_code, MESSAGE_RATE_LIMITED);
            }
        }
    }
    assert!((20..30).contains(&ok), "{ok}");
    assert!(eventually(SHORT, || barrages(&b).len() == ok));
    // Synchronous codes change nothing.
    assert_eq!(alice.send_broadcast_message("rate", ""), Err(MESSAGE_EMPTY));
    assert_eq!(alice.send_broadcast_message("rate", &"x".repeat(1025)), Err(MESSAGE_TOO_LONG));
    assert_eq!(alice.send_broadcast_message("other", "x"), Err(MESSAGE_ROOM_NOT_JOINED));
    assert_eq!(alice.send_custom_command("rate", "c", &[User::new("", "")]), Err(MESSAGE_TARGET_EMPTY));
    assert_eq!(alice.send_custom_command("rate", "c", &[User::new("u".repeat(64), "")]), Err(MESSAGE_TARGET_TOO_LONG));
    assert_eq!(alice.set_room_extra_info("rate", "", "v"), Err(ROOM_EXTRA_INFO_KEY_EMPTY));
    assert_eq!(alice.set_room_extra_info("rate", "12345678901", "v"), Err(ROOM_EXTRA_INFO_KEY_TOO_LONG));
    assert_eq!(alice.set_room_extra_info("rate", "k", &"v".repeat(129)), Err(ROOM_EXTRA_INFO_VALUE_TOO_LONG));
    assert_eq!(alice.set_room_extra_info("other", "k", "v"), Err(ROOM_ID_INCORRECT));
}

#[test]
fn custom_commands_reach_the_listed_users_only() {
    let server = start_server(Some(SECRET));
    let url = server.url();
    let (alice, a) = joined(&url, "cmd", "alice");
    let (_bob, b) = joined(&url, "cmd", "bob");
    let (_carol, c) = joined(&url, "cmd", "carol");
    let seq = alice.send_custom_command("cmd", "invite", &[User::new("bob", "")]).unwrap();
    assert!(a.wait(SHORT, |e| *e == Event::ImSendCustomCommandResult { error_code: 0, room_id: "cmd".into(), seq }).is_some());
    alice.send_custom_command("cmd", "all", &[]).unwrap();
    assert!(eventually(SHORT, || commands(&c).len() == 1 && commands(&b).len() == 2));
    assert_eq!(commands(&b), vec![("invite".into(), "alice".into()), ("all".into(), "alice".into())]);
    assert_eq!(commands(&c), vec![("all".into(), "alice".into())]);
    assert!(commands(&a).is_empty());
}

#[test]
fn catch_up_after_a_cut_within_the_grace_exactly_once_in_order() {
    let server = start_server_with(Some(SECRET), |c| c.heartbeat_timeout = Duration::from_secs(10));
    let proxy = FaultProxy::start(server.ws_addr());
    let (alice, _a) = joined(&server.url(), "cu", "alice");
    let (_bob, b) = joined(&proxy.url(), "cu", "bob");
    send_numbered(&alice, "cu", 0, 2);
    assert!(eventually(SHORT, || broadcasts(&b).len() == 2));
    let from = b.len();
    proxy.cut(Cut::Close);
    b.expect_reason(from, R::Reconnecting, SHORT);
    let t0 = Instant::now();
    // During a 2 s cut: broadcasts, a command for bob, and barrage (never replayed).
    send_numbered(&alice, "cu", 2, 3);
    alice.send_custom_command("cu", "for-bob", &[User::new("bob", "")]).unwrap();
    alice.send_barrage_message("cu", "lost").unwrap();
    std::thread::sleep(Duration::from_secs(2).saturating_sub(t0.elapsed()));
    proxy.restore();
    b.expect_reason(from, R::Reconnected, Duration::from_secs(8));
    send_numbered(&alice, "cu", 5, 1);
    assert!(eventually(SHORT, || broadcasts(&b).len() == 6));
    std::thread::sleep(Duration::from_millis(300));
    let got: Vec<String> = broadcasts(&b).into_iter().map(|(_, m, _)| m).collect();
    assert_eq!(got, vec!["m0", "m1", "m2", "m3", "m4", "m5"], "100 %, 0 duplicates, in order");
    assert_eq!(commands(&b), vec![("for-bob".into(), "alice".into())]);
    assert!(barrages(&b).is_empty(), "barrage is not replayed");
    // The missed ones arrived after Reconnected.
    let events = b.all();
    let reconnected = events.iter().rposition(|e| matches!(e, Event::RoomStateChanged { reason: R::Reconnected, .. })).unwrap();
    let m2 = events.iter().position(|e| matches!(e, Event::ImRecvBroadcastMessage { messages, .. } if messages.iter().any(|m| m.message == "m2"))).unwrap();
    assert!(reconnected < m2);
}

#[test]
fn sending_while_reconnecting_goes_out_after_reconnected_or_fails_with_1009010() {
    let server = start_server_with(Some(SECRET), |c| c.heartbeat_timeout = Duration::from_secs(10));
    let proxy = FaultProxy::start(server.ws_addr());
    let (_bob, b) = joined(&server.url(), "q", "bob");
    let (alice, a) = joined(&proxy.url(), "q", "alice");
    let from = a.len();
    proxy.cut(Cut::Close);
    a.expect_reason(from, R::Reconnecting, SHORT);
    let seq = alice.send_broadcast_message("q", "queued").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(broadcast_result(&a, seq).is_none() || a.all().iter().any(|e| matches!(e, Event::RoomStateChanged { reason: R::Reconnected, .. })));
    proxy.restore();
    a.expect_reason(from, R::Reconnected, Duration::from_secs(8));
    assert_eq!(broadcast_result(&a, seq).map(|r| r.0), Some(0));
    assert!(eventually(SHORT, || broadcasts(&b).iter().any(|(_, m, _)| m == "queued")));
    // The room ends first: 1009010.
    alice.set_engine_config("room_retry_time=2").unwrap();
    let from = a.len();
    proxy.cut(Cut::Close);
    a.expect_reason(from, R::Reconnecting, SHORT);
    let seq = alice.send_broadcast_message("q", "never").unwrap();
    a.expect_reason(from, R::ReconnectFailed, Duration::from_secs(6));
    assert_eq!(broadcast_result(&a, seq).map(|r| r.0), Some(MESSAGE_SEND_FAILED));
}

#[test]
fn room_extra_info_setter_others_late_joiners_and_reconnects() {
    let server = start_server_with(Some(SECRET), |c| c.heartbeat_timeout = Duration::from_secs(10));
    let proxy = FaultProxy::start(server.ws_addr());
    let url = server.url();
    let (alice, a) = joined(&url, "x", "alice");
    let (_bob, b) = joined(&proxy.url(), "x", "bob");
    let seq = alice.set_room_extra_info("x", "topic", "hello").unwrap();
    assert!(a.wait(SHORT, |e| *e == Event::RoomSetRoomExtraInfoResult { error_code: 0, room_id: "x".into(), key: "topic".into(), seq }).is_some());
    let (_, e) = b.wait(SHORT, |e| matches!(e, Event::RoomExtraInfoUpdate { .. })).expect("others get it");
    match e {
        Event::RoomExtraInfoUpdate { infos, .. } => {
            assert_eq!((infos[0].key.as_str(), infos[0].value.as_str(), infos[0].update_user.user_id.as_str()), ("topic", "hello", "alice"));
            assert!(infos[0].update_time > 1_700_000_000_000);
        }
        _ => unreachable!(),
    }
    assert!(!a.all().iter().any(|e| matches!(e, Event::RoomExtraInfoUpdate { .. })), "not the setter");
    // One key per room.
    assert_eq!(alice.set_room_extra_info("x", "other", "v"), Err(ROOM_EXTRA_INFO_EXCEED_KEYS));
    // A late joiner gets the current value right after Logined.
    let (_carol, c) = joined(&url, "x", "carol");
    assert!(c.wait(SHORT, |e| matches!(e, Event::RoomExtraInfoUpdate { infos, .. } if infos[0].value == "hello")).is_some());
    // Changed while bob is cut off: he gets it again after Reconnected.
    let from = b.len();
    proxy.cut(Cut::Close);
    b.expect_reason(from, R::Reconnecting, SHORT);
    alice.set_room_extra_info("x", "topic", "changed").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    proxy.restore();
    b.expect_reason(from, R::Reconnected, Duration::from_secs(8));
    assert!(b.wait_from(from, SHORT, |e| matches!(e, Event::RoomExtraInfoUpdate { infos, .. } if infos[0].value == "changed")).is_some());
}

#[test]
fn admin_signalling_broadcast_command_and_close_room() {
    let server = start_server(Some(SECRET));
    let url = server.url();
    let admin = admin(&server, Some(SECRET));
    let (_alice, a) = joined(&url, "adm", "alice");
    let (_bob, b) = joined(&url, "adm", "bob");
    let v = admin.send_broadcast_message("adm", "system", "System", "maintenance at 5").unwrap();
    assert_eq!(v["Code"], 0, "{v}");
    for r in [&a, &b] {
        assert!(eventually(SHORT, || broadcasts(r) == vec![(broadcasts(r).first().map_or(0, |x| x.0), "maintenance at 5".into(), "system".into())]));
    }
    let v = admin.send_custom_command("adm", "system", &["bob"], "mute").unwrap();
    assert_eq!(v["Code"], 0, "{v}");
    assert!(eventually(SHORT, || commands(&b) == vec![("mute".into(), "system".into())]));
    std::thread::sleep(Duration::from_millis(200));
    assert!(commands(&a).is_empty());
    // Bad parameters answer a non-zero Code and change nothing.
    assert_ne!(admin.send_custom_command("adm", "system", &[], "x").unwrap()["Code"], 0);
    assert_ne!(admin.send_broadcast_message("adm", "system", "S", "").unwrap()["Code"], 0);
    // CloseRoom: everyone KickOut 1002055 with the reason; the room is emptied.
    assert_eq!(admin.close_room("adm", Some("closing time")).unwrap()["Code"], 0);
    for r in [&a, &b] {
        let (_, code, ext) = r.expect_reason(0, R::KickOut, SHORT);
        assert_eq!(code, MANUAL_KICKED_OUT);
        assert!(ext.contains("closing time"), "{ext}");
    }
    let v = admin.describe_user_num(&["adm"]).unwrap();
    assert_eq!(v["Data"][0]["UserCount"], 0);
}

/// Chaos-soak finding: a broadcast that reached the server but whose answer was lost in a cut is
/// resent after the reconnect with the same seq. When the reconnect is a fresh login (the cut
/// outlasted the grace, so the server dropped the session and its memory of answered seqs), the
/// server relayed it a second time: receivers got the same message twice under two ids.
/// Contract §7.1: broadcasts are reliable and the receiver gets each "exactly once".
#[test]
fn a_resend_after_a_fresh_relogin_is_not_relayed_twice() {
    let server = start_server(Some(SECRET)); // grace 3 s, ping 1 s
    let proxy = FaultProxy::start(server.ws_addr());
    let (_bob, b) = joined(&server.url(), "dup", "bob");
    let (alice, a) = joined(&proxy.url(), "dup", "alice");
    assert!(b.wait_user_update(0, UpdateType::Add, "alice", SHORT).is_some());
    // The request takes 700 ms to reach the server and the answer 700 ms to come back.
    proxy.set_delay(Duration::from_millis(700));
    let seq = alice.send_broadcast_message("dup", "once").unwrap();
    assert!(eventually(SHORT, || broadcasts(&b).len() == 1), "the server relayed it");
    // The answer is still in the proxy: cut now, for longer than the grace.
    let from = a.len();
    let bfrom = b.len();
    proxy.cut(Cut::Close);
    proxy.set_delay(Duration::ZERO);
    a.expect_reason(from, R::Reconnecting, SHORT);
    assert!(
        b.wait_user_update(bfrom, UpdateType::Delete, "alice", Duration::from_secs(8)).is_some(),
        "the server dropped alice's session after the grace"
    );
    proxy.restore();
    a.expect_reason(from, R::Reconnected, Duration::from_secs(10));
    let (code, id) = broadcast_result(&a, seq).expect("a result for the resent message");
    assert_eq!(code, 0);
    assert!(b.wait_user_update(bfrom, UpdateType::Add, "alice", SHORT).is_some());
    // Give a second relay every chance to arrive.
    std::thread::sleep(Duration::from_millis(500));
    let got = broadcasts(&b);
    assert_eq!(got.len(), 1, "received once, not once per session: {got:?}");
    assert_eq!(got[0].0, id, "the id the sender was told is the id the receiver got");
}
