//! Streams (contract §6) over real sockets: a real server on 127.0.0.1, engines, the fault proxy
//! for the publisher's or a player's network, the admin API.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::harness::*;
use common::proxy::{Cut, FaultProxy};
use zego_room::error_codes::*;
use zego_room::*;

const CH: PublishChannel = PublishChannel::Main;

fn publish(e: &RoomEngine, rec: &Recorder, stream: &str) {
    let from = rec.len();
    e.start_publishing_stream(stream, None, CH).unwrap();
    assert!(
        rec.wait_from(from, SHORT, |e| matches!(e, Event::PublisherStateUpdate { state: PublisherState::Publishing, .. })).is_some(),
        "{stream} published: {:?}",
        rec.publisher_states()
    );
}

fn play(e: &RoomEngine, rec: &Recorder, stream: &str) {
    e.start_playing_stream(stream, None).unwrap();
    let s = stream.to_owned();
    assert!(
        rec.wait(SHORT, |e| matches!(e, Event::PlayerStateUpdate { state: PlayerState::Playing, stream_id, .. } if *stream_id == s)).is_some(),
        "{stream} playing: {:?}",
        rec.player_states(stream)
    );
}

fn wait_player(rec: &Recorder, from: usize, stream: &str, state: PlayerState, code: i32, timeout: Duration) -> Instant {
    let s = stream.to_owned();
    match rec.wait_from(from, timeout, |e| {
        matches!(e, Event::PlayerStateUpdate { state: st, error_code, stream_id, .. } if *st == state && *error_code == code && *stream_id == s)
    }) {
        Some((at, _)) => at,
        None => panic!("no {state:?} {code} for {stream}: {:?}", rec.player_states(stream)),
    }
}

fn wait_stream_update(rec: &Recorder, from: usize, kind: UpdateType, stream: &str, timeout: Duration) -> Option<(Instant, String)> {
    let s = stream.to_owned();
    rec.wait_from(from, timeout, |e| {
        matches!(e, Event::RoomStreamUpdate { update_type, streams, .. } if *update_type == kind && streams.iter().any(|x| x.stream_id == s))
    })
    .map(|(at, e)| match e {
        Event::RoomStreamUpdate { extended_data, .. } => (at, extended_data),
        _ => unreachable!(),
    })
}

fn delete_code(extended: &str, stream: &str) -> i64 {
    let v: serde_json::Value = serde_json::from_str(extended).unwrap();
    v["stream_delete_reason"].as_array().unwrap().iter().find(|r| r["stream_id"] == stream).unwrap()["code"].as_i64().unwrap()
}

fn server_streams(server: &zego_room::server::ServerHandle, room: &str) -> Vec<(String, String, String)> {
    let v = admin(server, Some(SECRET)).describe_streams(room).unwrap();
    assert_eq!(v["Code"], 0, "{v}");
    let mut list: Vec<(String, String, String)> = v["Data"]["StreamList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["StreamId"].as_str().unwrap().into(), s["UserId"].as_str().unwrap().into(), s["ExtraInfo"].as_str().unwrap().into()))
        .collect();
    list.sort();
    list
}

/// A payload of `len` bytes that encodes its index (so order and content are checkable).
fn frame(i: u32, len: usize) -> Vec<u8> {
    let mut v: Vec<u8> = (0..len).map(|k| (k as u32).wrapping_mul(31).wrapping_add(i) as u8).collect();
    v[..4.min(len)].copy_from_slice(&i.to_be_bytes()[..4.min(len)]);
    v
}

#[test]
fn publish_play_and_sei_byte_for_byte_in_order() {
    let server = start_server(Some(SECRET));
    let url = server.url();
    let (alice, a) = joined(&url, "p", "alice");
    let players: Vec<(RoomEngine, Arc<Recorder>)> = (0..3).map(|i| joined(&url, "p", &format!("p{i}"))).collect();
    alice.set_stream_extra_info("codec=none", CH).unwrap();
    publish(&alice, &a, "cam-1");
    assert_eq!(a.publisher_states(), vec![(PublisherState::PublishRequesting, 0), (PublisherState::Publishing, 0)]);
    for (e, r) in &players {
        assert!(wait_stream_update(r, 0, UpdateType::Add, "cam-1", SHORT).is_some());
        assert_eq!(e.get_room_stream_list("p", RoomStreamListType::Play).unwrap(), vec![Stream {
            user: User::new("alice", "alice name"),
            stream_id: "cam-1".into(),
            extra_info: "codec=none".into()
        }]);
        play(e, r, "cam-1");
    }
    assert!(a.stream_updates().is_empty(), "never the local user's own stream");
    assert_eq!(alice.get_room_stream_list("p", RoomStreamListType::All).unwrap().len(), 1);
    assert_eq!(server_streams(&server, "p"), vec![("cam-1".into(), "alice".into(), "codec=none".into())]);

    // 300 frames of 1 to 4096 bytes (zeros included).
    let sizes: Vec<usize> = (0..300u32).map(|i| [1, 5, 1024, 4096, 17, 2048][i as usize % 6]).collect();
    let sent: Vec<Vec<u8>> = sizes.iter().enumerate().map(|(i, &n)| frame(i as u32, n)).collect();
    for f in &sent {
        alice.send_sei(f, CH).unwrap();
        std::thread::sleep(Duration::from_micros(300)); // a realistic pace; nobody is slow
    }
    for (_, r) in &players {
        assert!(eventually(SHORT, || r.sei("cam-1").len() == sent.len()), "got {} of {}", r.sei("cam-1").len(), sent.len());
        assert_eq!(r.sei("cam-1"), sent, "in order, each once, byte for byte");
    }
    // Stop: publisher NoPublish (0), others Delete with reason 1, players PlayRequesting 1004020.
    let from: Vec<usize> = players.iter().map(|(_, r)| r.len()).collect();
    alice.stop_publishing_stream(CH).unwrap();
    assert!(eventually(SHORT, || a.publisher_states().last() == Some(&(PublisherState::NoPublish, 0))));
    for ((_, r), f) in players.iter().zip(from) {
        let (_, ext) = wait_stream_update(r, f, UpdateType::Delete, "cam-1", SHORT).expect("Delete");
        assert_eq!(delete_code(&ext, "cam-1"), 1);
        wait_player(r, f, "cam-1", PlayerState::PlayRequesting, PLAYER_INTERRUPTED, SHORT);
    }
    assert_eq!(alice.send_sei(b"late", CH), Err(PUBLISHER_NOT_PUBLISHING));
    assert!(server_streams(&server, "p").is_empty());
}

#[test]
fn late_joiner_gets_the_stream_list_and_extra_info_and_updates() {
    let server = start_server(Some(SECRET));
    let url = server.url();
    let (alice, a) = joined(&url, "late", "alice");
    alice.set_stream_extra_info("v1", CH).unwrap();
    publish(&alice, &a, "s-a");
    let (_bob, b) = joined(&url, "late", "bob");
    // After Logined: user Add, then one stream Add, then the extra info of the streams that have some.
    assert!(eventually(SHORT, || b.all().iter().any(|e| matches!(e, Event::RoomStreamExtraInfoUpdate { .. }))));
    let order: Vec<&str> = b
        .all()
        .iter()
        .filter_map(|e| match e {
            Event::RoomStateChanged { reason: R::Logined, .. } => Some("logined"),
            Event::RoomUserUpdate { .. } => Some("users"),
            Event::RoomStreamUpdate { .. } => Some("streams"),
            Event::RoomStreamExtraInfoUpdate { .. } => Some("extra"),
            _ => None,
        })
        .collect();
    assert_eq!(order, vec!["logined", "users", "streams", "extra"]);
    // Extra info during publishing: the result to the setter, the update to others.
    let from = b.len();
    let seq = alice.set_stream_extra_info("v2", CH).unwrap();
    assert!(a.wait(SHORT, |e| *e == Event::PublisherUpdateStreamExtraInfoResult { error_code: 0, seq }).is_some());
    let (_, e) = b.wait_from(from, SHORT, |e| matches!(e, Event::RoomStreamExtraInfoUpdate { .. })).expect("update");
    assert!(matches!(e, Event::RoomStreamExtraInfoUpdate { streams, .. } if streams[0].extra_info == "v2"));
    assert!(!a.all().iter().any(|e| matches!(e, Event::RoomStreamExtraInfoUpdate { .. })), "the setter gets no update");
    assert_eq!(server_streams(&server, "late")[0].2, "v2");
}

#[test]
fn stream_ids_are_unique_across_the_app_and_tokens_decide_who_publishes() {
    let server = start_server(Some(SECRET));
    let url = server.url();
    let (x, rx) = joined(&url, "r1", "x");
    publish(&x, &rx, "shared");
    let (y, ry) = joined(&url, "r2", "y");
    y.start_playing_stream("shared", None).unwrap(); // another room: never appears there
    y.start_publishing_stream("shared", None, CH).unwrap();
    assert!(eventually(SHORT, || ry.publisher_states().last() == Some(&(PublisherState::NoPublish, PUBLISHER_STREAM_ID_TAKEN))));
    // Privilege tokens: "2": 0 forbids publishing; stream_id_list restricts it.
    let no_publish = zego_room::token04::generate(APP_ID, "z", SECRET, 3600, r#"{"room_id":"r3","privilege":{"1":1,"2":0},"stream_id_list":null}"#).unwrap();
    let (z, rz) = engine(&url, RoomMode::SingleRoom);
    z.login_room("r3", &User::new("z", "z"), Some(&cfg_notify(no_publish))).unwrap();
    rz.expect_reason(0, R::Logined, SHORT);
    z.start_publishing_stream("any", None, CH).unwrap();
    assert!(eventually(SHORT, || rz.publisher_states().last() == Some(&(PublisherState::NoPublish, PUBLISHER_NO_PRIVILEGE))));
    let listed = zego_room::token04::generate(APP_ID, "w", SECRET, 3600, r#"{"room_id":"r3","privilege":{"1":1,"2":1},"stream_id_list":["ok-1"]}"#).unwrap();
    let (w, rw) = engine(&url, RoomMode::SingleRoom);
    w.login_room("r3", &User::new("w", "w"), Some(&cfg_notify(listed))).unwrap();
    rw.expect_reason(0, R::Logined, SHORT);
    w.start_publishing_stream("other", None, CH).unwrap();
    assert!(eventually(SHORT, || rw.publisher_states().last() == Some(&(PublisherState::NoPublish, PUBLISHER_NO_PRIVILEGE))));
    publish(&w, &rw, "ok-1");
    // A renewed token decides the next publish.
    let renewed = zego_room::token04::generate(APP_ID, "z", SECRET, 3600, "").unwrap();
    z.renew_token("r3", &renewed).unwrap();
    assert!(rz.wait(SHORT, |_| true).is_some());
    std::thread::sleep(Duration::from_millis(300));
    publish(&z, &rz, "any");
}

#[test]
fn host_offline_past_the_grace_then_back_and_short_cuts_invisible() {
    let server = start_server(Some(SECRET));
    let proxy = FaultProxy::start(server.ws_addr());
    let (host, h) = joined(&proxy.url(), "live", "host");
    let (viewer, v) = joined(&server.url(), "live", "viewer");
    let (_other, o) = joined(&server.url(), "live", "other");
    publish(&host, &h, "host-cam");
    play(&viewer, &v, "host-cam");
    assert!(wait_stream_update(&o, 0, UpdateType::Add, "host-cam", SHORT).is_some());

    // Short cut (closed, back in 0.5 s): players are interrupted and resume; nobody sees a Delete.
    let (vf, of) = (v.len(), o.len());
    proxy.cut(Cut::Close);
    wait_player(&v, vf, "host-cam", PlayerState::PlayRequesting, PLAYER_INTERRUPTED, SHORT);
    std::thread::sleep(Duration::from_millis(500));
    proxy.restore();
    wait_player(&v, vf, "host-cam", PlayerState::Playing, 0, Duration::from_secs(8));
    assert!(eventually(SHORT, || h.publisher_states().last() == Some(&(PublisherState::Publishing, 0))));
    let tail: Vec<(PublisherState, i32)> = h.publisher_states().into_iter().skip(2).collect();
    assert_eq!(tail, vec![(PublisherState::PublishRequesting, PUBLISHER_CONNECTION_LOST), (PublisherState::Publishing, 0)]);
    assert!(o.stream_updates().iter().skip(1).all(|(k, _, _)| *k != UpdateType::Delete), "{:?}", o.stream_updates());
    assert_eq!(o.len() - of, o.all().iter().skip(of).filter(|e| matches!(e, Event::RoomOnlineUserCountUpdate { .. })).count(), "others see nothing");

    // Silent past the grace (3 s): others see Delete (2) at the grace; back: Add, Playing.
    let (vf, of) = (v.len(), o.len());
    let cut_at = Instant::now();
    proxy.cut(Cut::Blackhole);
    wait_player(&v, vf, "host-cam", PlayerState::PlayRequesting, PLAYER_INTERRUPTED, Duration::from_secs(6));
    let (deleted_at, ext) = wait_stream_update(&o, of, UpdateType::Delete, "host-cam", Duration::from_secs(10)).expect("Delete at the grace");
    assert_eq!(delete_code(&ext, "host-cam"), 2);
    let after = deleted_at - cut_at;
    assert!(after >= Duration::from_millis(2000) && after < Duration::from_secs(7), "at loss + grace: {after:?}");
    proxy.restore();
    assert!(wait_stream_update(&o, of, UpdateType::Add, "host-cam", Duration::from_secs(10)).is_some(), "republished after it came back");
    wait_player(&v, vf, "host-cam", PlayerState::Playing, 0, Duration::from_secs(10));
    assert!(eventually(SHORT, || h.publisher_states().last() == Some(&(PublisherState::Publishing, 0))));
    // The host sees its own stream in neither list event, and the server agrees with everyone.
    assert_eq!(server_streams(&server, "live").len(), 1);
    assert_eq!(viewer.get_room_stream_list("live", RoomStreamListType::Play).unwrap().len(), 1);
}

#[test]
fn delete_reasons_logout_kick_duplicate_destroy_and_forbid() {
    let server = start_server(Some(SECRET));
    let url = server.url();
    let admin = admin(&server, Some(SECRET));
    let (_watcher, w) = joined(&url, "why", "watcher");
    // (what happens to the publisher, expected reason)
    let cases: Vec<(&str, i64)> = vec![("logout", 1), ("kick", 4), ("duplicate", 3), ("destroy", 5), ("forbid", 6)];
    for (i, (what, code)) in cases.into_iter().enumerate() {
        let user = format!("pub{i}");
        let stream = format!("st-{i}");
        let (p, pr) = joined(&url, "why", &user);
        publish(&p, &pr, &stream);
        let (viewer, vr) = joined(&url, "why", &format!("view{i}"));
        play(&viewer, &vr, &stream);
        let from = w.len();
        let vfrom = vr.len();
        let mut kept = None;
        match what {
            "logout" => drop(p.logout_room(None)),
            "kick" => assert_eq!(admin.kickout_user("why", &[&user], None).unwrap()["Code"], 0),
            "duplicate" => kept = Some(joined(&url, "elsewhere", &user)),
            "destroy" => p.destroy(),
            "forbid" => assert_eq!(admin.forbid_stream(&stream).unwrap()["Code"], 0),
            _ => unreachable!(),
        }
        let (at, ext) = wait_stream_update(&w, from, UpdateType::Delete, &stream, SHORT).unwrap_or_else(|| panic!("{what}: no Delete"));
        assert_eq!(delete_code(&ext, &stream), code, "{what}");
        let _ = at;
        if what == "forbid" {
            assert!(eventually(SHORT, || pr.publisher_states().last() == Some(&(PublisherState::NoPublish, PUBLISHER_FORBIDDEN))));
            wait_player(&vr, vfrom, &stream, PlayerState::NoPlay, PLAYER_FORBIDDEN, SHORT);
            // Republishing is refused until ResumeRTCStream.
            p.start_publishing_stream(&stream, None, CH).unwrap();
            assert!(eventually(SHORT, || pr.publisher_states().len() >= 5));
            assert_eq!(pr.publisher_states().last(), Some(&(PublisherState::NoPublish, PUBLISHER_FORBIDDEN)));
            assert_eq!(admin.resume_stream(&stream).unwrap()["Code"], 0);
            publish(&p, &pr, &stream);
        } else {
            wait_player(&vr, vfrom, &stream, PlayerState::PlayRequesting, PLAYER_INTERRUPTED, SHORT);
        }
        if what == "kick" {
            assert!(eventually(SHORT, || pr.publisher_states().last() == Some(&(PublisherState::NoPublish, MANUAL_KICKED_OUT))));
        }
        if what == "duplicate" {
            assert!(eventually(SHORT, || pr.publisher_states().last() == Some(&(PublisherState::NoPublish, KICKED_OUT_DUPLICATE_LOGIN))));
        }
        drop(kept);
    }
}

#[test]
fn a_slow_player_loses_its_oldest_frames_and_slows_nobody() {
    let server = start_server_with(Some(SECRET), |c| c.heartbeat_timeout = Duration::from_secs(10));
    let proxy = FaultProxy::start(server.ws_addr());
    let url = server.url();
    let (alice, a) = joined(&url, "slow", "alice");
    let (fast, f) = joined(&url, "slow", "fast");
    let (slow, s) = joined(&proxy.url(), "slow", "slow");
    publish(&alice, &a, "feed");
    play(&fast, &f, "feed");
    play(&slow, &s, "feed");
    // The slow player stops reading (its bytes are held) while 1,500 frames of 4 KiB go out at
    // ~700 frames/s (under the 1,000/s flood limit): 6 MB, more than the socket buffers hold.
    proxy.set_blackhole(true);
    let sent: Vec<Vec<u8>> = (0..1500u32).map(|i| frame(i, 4096)).collect();
    let mut slowest = Duration::ZERO;
    for fr in &sent {
        let t = Instant::now();
        alice.send_sei(fr, CH).unwrap();
        slowest = slowest.max(t.elapsed());
        std::thread::sleep(Duration::from_micros(1400));
    }
    assert!(eventually(Duration::from_secs(10), || f.sei("feed").len() == sent.len()), "the fast player gets {} of {}", f.sei("feed").len(), sent.len());
    assert_eq!(f.sei("feed"), sent);
    assert!(slowest < Duration::from_millis(50), "the publisher is never slowed: {slowest:?}");
    std::thread::sleep(Duration::from_millis(500));
    proxy.set_blackhole(false);
    // What the proxy held arrives once it lets bytes through again (give a loaded machine time).
    assert!(eventually(Duration::from_secs(10), || !s.sei("feed").is_empty()), "the slow player got no frame after the cut ended");
    std::thread::sleep(Duration::from_secs(1));
    let got = s.sei("feed");
    assert!(got.len() < sent.len(), "the slow player lost frames: {}", got.len());
    // What it got is in order, each once, byte for byte, and ends with the newest frames.
    let idx: Vec<u32> = got.iter().map(|g| u32::from_be_bytes([g[0], g[1], g[2], g[3]])).collect();
    assert!(idx.windows(2).all(|w| w[0] < w[1]), "in order, no duplicates");
    for (g, i) in got.iter().zip(&idx) {
        assert_eq!(g, &sent[*i as usize]);
    }
    assert_eq!(*idx.last().unwrap(), 1499, "the oldest are dropped, not the newest");
}

#[test]
fn stream_differences_after_the_engines_own_reconnected() {
    let server = start_server_with(Some(SECRET), |c| c.heartbeat_timeout = Duration::from_secs(10));
    let proxy = FaultProxy::start(server.ws_addr());
    let url = server.url();
    let (watcher, w) = joined(&proxy.url(), "gap", "watcher");
    let (p1, r1) = joined(&url, "gap", "p1");
    publish(&p1, &r1, "gone-soon");
    assert!(wait_stream_update(&w, 0, UpdateType::Add, "gone-soon", SHORT).is_some());
    let from = w.len();
    proxy.cut(Cut::Close);
    w.expect_reason(from, R::Reconnecting, SHORT);
    p1.stop_publishing_stream(CH).unwrap();
    let (p2, r2) = joined(&url, "gap", "p2");
    publish(&p2, &r2, "new-one");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(w.len(), from + 2, "nothing while disconnected (Reconnecting + legacy)");
    proxy.restore();
    w.expect_reason(from, R::Reconnected, Duration::from_secs(8));
    assert!(eventually(SHORT, || w.stream_updates().len() >= 3));
    let after: Vec<(UpdateType, Vec<String>)> = w.stream_updates().into_iter().skip(1).map(|(k, ids, _)| (k, ids)).collect();
    assert_eq!(after, vec![(UpdateType::Delete, vec!["gone-soon".into()]), (UpdateType::Add, vec!["new-one".into()])]);
    let list: Vec<String> = watcher.get_room_stream_list("gap", RoomStreamListType::Play).unwrap().into_iter().map(|s| s.stream_id).collect();
    assert_eq!(list, vec!["new-one".to_owned()]);
    assert_eq!(server_streams(&server, "gap").len(), 1);
}

#[test]
fn hostile_clients_are_cut_off_without_hurting_others() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let server = start_server(None);
    let url = server.url();
    let (alice, a) = joined(&url, "h", "alice");
    publish(&alice, &a, "ok");
    let (bob, b) = joined(&url, "h", "bob");
    play(&bob, &b, "ok");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str()).await.unwrap();
        let login = zego_room::protocol::ClientMsg::Login {
            v: zego_room::protocol::PROTOCOL_VERSION,
            app_id: APP_ID,
            room_id: "h".into(),
            user_id: "mallory".into(),
            user_name: String::new(),
            token: String::new(),
            max_member_count: 0,
            user_status_notify: false,
            client_id: "m".into(),
            resume_session_id: None,
            last_msg_id: 0,
        };
        ws.send(Message::text(login.encode())).await.unwrap();
        let publish = zego_room::protocol::ClientMsg::Publish { channel: 0, stream_id: "flood".into(), extra_info: String::new() };
        ws.send(Message::text(publish.encode())).await.unwrap();
        // A flood of SEI: far more than 1,000 frames per second.
        let frame = zego_room::protocol::encode_sei_up(0, &[0u8; 100]);
        let mut closed = false;
        for _ in 0..5000 {
            if ws.send(Message::binary(frame.clone())).await.is_err() {
                closed = true;
                break;
            }
        }
        let end = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(Ok(m)) = ws.next().await {
                if m.is_close() {
                    return;
                }
            }
        })
        .await;
        assert!(closed || end.is_ok(), "the flooder is cut off");
        // An oversized binary frame closes that session too.
        let (mut ws2, _) = tokio_tungstenite::connect_async(url.as_str()).await.unwrap();
        let _ = ws2.send(Message::binary(vec![1u8; zego_room::protocol::MAX_CLIENT_FRAME_BYTES + 1])).await;
        let end = tokio::time::timeout(Duration::from_secs(5), async { while let Some(Ok(_)) = ws2.next().await {} }).await;
        assert!(end.is_ok());
    });
    // Everyone else is fine: SEI still flows.
    alice.send_sei(b"still here", CH).unwrap();
    assert!(eventually(SHORT, || b.sei("ok").contains(&b"still here".to_vec())));
    // The flooder's session is detached: its stream goes when its grace (3 s) has passed.
    assert!(eventually(Duration::from_secs(8), || bob.get_room_stream_list("h", RoomStreamListType::Play).unwrap().len() == 1), "{:?}", b.stream_updates());
}
