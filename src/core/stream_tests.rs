//! Virtual-clock tests of publishers, players, the stream list (contract §6.1), messaging and room
//! extra info (§7.1) in the core, the 20-minute `av_retry_time` window included.

use super::tests::{notify, H};
use super::*;
use crate::protocol::{delete_reason, PlayStatus, StreamDeleteReason, UserUpdateKind, WireMessage, SEI_UP};
use RoomStateChangedReason as R;

fn stream(user: &str, id: &str, info: &str) -> Stream {
    Stream { user: User::new(user, format!("name-{user}")), stream_id: id.into(), extra_info: info.into() }
}

struct Login<'a> {
    users: &'a [&'a str],
    streams: Vec<Stream>,
    extra: Vec<RoomExtraInfo>,
    resumed: bool,
    state_age_ms: u64,
    last_msg_id: u64,
}

impl Default for Login<'_> {
    fn default() -> Self {
        Login { users: &[], streams: vec![], extra: vec![], resumed: false, state_age_ms: 3_600_000, last_msg_id: 0 }
    }
}

impl H {
    fn login_ok_with(&mut self, l: Login) {
        self.frame(ServerMsg::LoginOk {
            session_id: "sess".into(),
            room_session_id: "rs".into(),
            resumed: l.resumed,
            users: l.users.iter().map(|u| User::new(*u, format!("name-{u}"))).collect(),
            user_count: l.users.len() as u32 + 1,
            ping_interval_ms: 1000,
            token_remaining_secs: None,
            grace_ms: 90_000,
            state_age_ms: l.state_age_ms,
            streams: l.streams,
            extra_info: l.extra,
            last_msg_id: l.last_msg_id,
        });
    }

    fn joined(mode: RoomMode) -> H {
        let mut h = H::new(mode);
        h.login("r", "me", notify());
        h.connected();
        h.login_ok_with(Login::default());
        h.clear();
        h
    }

    fn publisher_states(&self) -> Vec<(PublisherState, i32, String)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::PublisherStateUpdate { state, error_code, stream_id, .. } => Some((*state, *error_code, stream_id.clone())),
                _ => None,
            })
            .collect()
    }

    fn player_states(&self) -> Vec<(PlayerState, i32, String)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::PlayerStateUpdate { state, error_code, stream_id, .. } => Some((*state, *error_code, stream_id.clone())),
                _ => None,
            })
            .collect()
    }

    fn stream_updates(&self) -> Vec<(UpdateType, Vec<String>, String)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::RoomStreamUpdate { update_type, streams, extended_data, .. } => {
                    Some((*update_type, streams.iter().map(|s| s.stream_id.clone()).collect(), extended_data.clone()))
                }
                _ => None,
            })
            .collect()
    }

    /// `secs` seconds pass with the server answering every ping (the connection stays up).
    fn idle(&mut self, secs: u64) {
        for _ in 0..secs {
            self.advance(Duration::from_secs(1));
            self.frame(ServerMsg::Pong);
        }
    }

    fn sent_msgs(&self) -> Vec<ClientMsg> {
        self.sent.iter().map(|(_, m)| m.clone()).filter(|m| !matches!(m, ClientMsg::Ping)).collect()
    }

    /// Connection lost, then back within the grace (the session is resumed).
    fn lose_and_resume(&mut self, after: Duration, l: Login) {
        self.disconnect();
        self.advance(after);
        self.connected();
        self.login_ok_with(Login { resumed: true, ..l });
    }
}

fn publish_result(ch: u8, id: &str, code: i32) -> ServerMsg {
    ServerMsg::PublishResult { channel: ch, stream_id: id.into(), code }
}

fn play_state(id: &str, status: PlayStatus) -> ServerMsg {
    ServerMsg::PlayState { stream_id: id.into(), status }
}

use PlayerState as Pl;
use PublisherState as Pu;

// ---- bad input (§6.1) ---------------------------------------------------------------------------

#[test]
fn bad_stream_input_returns_codes_and_changes_nothing() {
    let mut h = H::new(RoomMode::SingleRoom);
    let ch = PublishChannel::Main;
    assert_eq!(h.core.start_publishing_stream("s1", None, ch, h.now), Err(NOT_LOGIN_ROOM), "not joined");
    assert_eq!(h.core.start_playing_stream("s1", None, h.now), Err(NOT_LOGIN_ROOM));
    assert_eq!(h.core.get_room_stream_list("", RoomStreamListType::All), Err(NOT_LOGIN_ROOM));
    let mut h = H::joined(RoomMode::SingleRoom);
    let cases = [("", STREAM_ID_EMPTY), ("a.b", STREAM_ID_ILLEGAL_CHAR), ("流", STREAM_ID_ILLEGAL_CHAR)];
    for (id, code) in cases {
        assert_eq!(h.core.start_publishing_stream(id, None, ch, h.now), Err(code), "{id:?}");
        assert_eq!(h.core.start_playing_stream(id, None, h.now), Err(code));
    }
    let long = "s".repeat(256);
    assert_eq!(h.core.start_publishing_stream(&long, None, ch, h.now), Err(STREAM_ID_TOO_LONG));
    assert_eq!(h.core.start_publishing_stream(&"s".repeat(255), None, ch, h.now).map(|_| ()), Ok(()), "255 bytes is fine");
    h.core.stop_publishing_stream(ch, h.now).unwrap();
    let other = PlayerConfig { room_id: "elsewhere".into() };
    assert_eq!(h.core.start_playing_stream("s1", Some(&other), h.now), Err(NOT_LOGIN_ROOM));
    assert_eq!(h.core.set_stream_extra_info(&"x".repeat(1025), ch, h.now), Err(ILLEGAL_PARAM));
    assert_eq!(h.core.send_sei(&[], ch), Err(ILLEGAL_PARAM));
    assert_eq!(h.core.send_sei(&[0u8; 4097], ch), Err(ILLEGAL_PARAM));
    assert_eq!(h.core.send_sei(&[1], ch), Err(PUBLISHER_NOT_PUBLISHING), "not publishing");
    h.pump();
    h.clear();
    // 12 played streams at most.
    for i in 0..12 {
        h.core.start_playing_stream(&format!("p{i}"), None, h.now).unwrap();
    }
    h.pump();
    let sent = h.sent.len();
    assert_eq!(h.core.start_playing_stream("p12", None, h.now), Err(PLAYER_COUNT_EXCEED));
    h.core.start_playing_stream("p0", None, h.now).unwrap(); // the same stream again: nothing
    h.pump();
    assert_eq!(h.sent.len(), sent);
    // A channel publishing A refuses B; publishing A again on it changes nothing.
    h.core.start_publishing_stream("A", None, ch, h.now).unwrap();
    h.pump();
    h.clear();
    assert_eq!(h.core.start_publishing_stream("B", None, ch, h.now), Err(PUBLISHER_CHANNEL_BUSY));
    assert_eq!(h.core.start_publishing_stream("A", None, ch, h.now), Ok(()));
    assert_eq!(h.core.start_publishing_stream("A", None, PublishChannel::Aux, h.now), Err(PUBLISHER_CHANNEL_BUSY), "one stream, one channel");
    h.pump();
    assert!(h.events.is_empty() && h.sent.is_empty(), "{:?} {:?}", h.events, h.sent);

    // Multi-room: the config must name the room.
    let mut m = H::joined(RoomMode::MultiRoom);
    assert_eq!(m.core.start_publishing_stream("s", None, ch, m.now), Err(PUBLISHER_ROOM_ID_REQUIRED));
    assert_eq!(m.core.start_playing_stream("s", None, m.now), Err(PLAYER_ROOM_ID_REQUIRED));
    let cfg = PublisherConfig { room_id: "r".into() };
    assert_eq!(m.core.start_publishing_stream("s", Some(&cfg), ch, m.now), Ok(()));
}

// ---- publisher states ------------------------------------------------------------------------

#[test]
fn publish_accepted_refused_and_forbidden() {
    let mut h = H::joined(RoomMode::SingleRoom);
    h.core.start_publishing_stream("s1", None, PublishChannel::Main, h.now).unwrap();
    h.pump();
    assert_eq!(h.sent_msgs(), vec![ClientMsg::Publish { channel: 0, stream_id: "s1".into(), extra_info: String::new() }]);
    h.frame(publish_result(0, "s1", 0));
    assert_eq!(h.publisher_states(), vec![(Pu::PublishRequesting, 0, "s1".into()), (Pu::Publishing, 0, "s1".into())]);
    // The server ends it (ForbidRTCStream): NoPublish 1003025.
    h.clear();
    h.frame(ServerMsg::PublishStopped { channel: 0, stream_id: "s1".into(), code: PUBLISHER_FORBIDDEN });
    assert_eq!(h.publisher_states(), vec![(Pu::NoPublish, PUBLISHER_FORBIDDEN, "s1".into())]);
    // Refusals: id taken, privilege, forbidden.
    for code in [PUBLISHER_STREAM_ID_TAKEN, PUBLISHER_NO_PRIVILEGE, PUBLISHER_FORBIDDEN] {
        h.clear();
        h.core.start_publishing_stream("s2", None, PublishChannel::Aux, h.now).unwrap();
        h.pump();
        h.frame(publish_result(1, "s2", code));
        assert_eq!(h.publisher_states(), vec![(Pu::PublishRequesting, 0, "s2".into()), (Pu::NoPublish, code, "s2".into())]);
    }
}

#[test]
fn publish_during_logining_goes_out_after_logined() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.login("r", "me", notify());
    h.core.set_stream_extra_info("hello", PublishChannel::Main, h.now).unwrap();
    h.core.start_publishing_stream("s1", None, PublishChannel::Main, h.now).unwrap();
    h.pump();
    assert_eq!(h.publisher_states(), vec![(Pu::PublishRequesting, 0, "s1".into())]);
    h.connected();
    assert!(h.sent_msgs().iter().all(|m| matches!(m, ClientMsg::Login { .. })), "nothing before the login");
    h.login_ok_with(Login::default());
    let publish = ClientMsg::Publish { channel: 0, stream_id: "s1".into(), extra_info: "hello".into() };
    assert_eq!(h.sent_msgs().last(), Some(&publish), "sent after login_ok, with the extra info");
}

#[test]
fn room_loss_falls_back_to_requesting_and_republishes_on_reconnect() {
    let mut h = H::joined(RoomMode::SingleRoom);
    h.core.start_publishing_stream("s1", None, PublishChannel::Main, h.now).unwrap();
    h.pump();
    h.frame(publish_result(0, "s1", 0));
    h.clear();
    h.disconnect();
    assert_eq!(h.publisher_states(), vec![(Pu::PublishRequesting, PUBLISHER_CONNECTION_LOST, "s1".into())]);
    h.advance(Duration::from_secs(2));
    h.connected();
    h.login_ok_with(Login { resumed: true, streams: vec![stream("me", "s1", "")], ..Login::default() });
    assert!(h.sent_msgs().contains(&ClientMsg::Publish { channel: 0, stream_id: "s1".into(), extra_info: String::new() }));
    assert!(!h.sent_msgs().iter().any(|m| matches!(m, ClientMsg::StopPublish { .. })), "ours: not stopped");
    h.frame(publish_result(0, "s1", 0));
    assert_eq!(h.publisher_states().last(), Some(&(Pu::Publishing, 0, "s1".into())));
    // Own streams never appear in the stream list events.
    assert!(h.stream_updates().is_empty());
}

#[test]
fn av_retry_time_is_its_own_window_default_twenty_minutes() {
    // Default av_retry_time (1200 s) with a longer room window: the publisher gives up at 1200 s.
    let mut h = H::joined(RoomMode::SingleRoom);
    h.core.set_engine_config("room_retry_time=3000").unwrap();
    h.core.start_publishing_stream("s1", None, PublishChannel::Main, h.now).unwrap();
    h.core.start_playing_stream("p1", None, h.now).unwrap();
    h.pump();
    h.frame(publish_result(0, "s1", 0));
    h.frame(play_state("p1", PlayStatus::Live));
    h.clear();
    h.disconnect();
    h.advance(Duration::from_millis(1_199_900));
    assert_eq!(h.publisher_states(), vec![(Pu::PublishRequesting, PUBLISHER_CONNECTION_LOST, "s1".into())]);
    assert_eq!(h.player_states(), vec![(Pl::PlayRequesting, PLAYER_INTERRUPTED, "p1".into())]);
    h.advance(Duration::from_millis(200));
    assert_eq!(h.publisher_states().last(), Some(&(Pu::NoPublish, PUBLISHER_RETRY_TIMEOUT, "s1".into())));
    assert_eq!(h.player_states().last(), Some(&(Pl::NoPlay, PLAYER_INTERRUPTED, "p1".into())));
    assert_eq!(h.core.phase("r"), Some(Phase::Rejoining), "the room is still trying");
    // When the room comes back, the server still holds s1: it is stopped, never published again.
    h.clear();
    h.connected();
    h.login_ok_with(Login { resumed: true, streams: vec![stream("me", "s1", "")], ..Login::default() });
    assert!(h.sent_msgs().contains(&ClientMsg::StopPublish { stream_id: "s1".into() }));
    assert!(!h.sent_msgs().iter().any(|m| matches!(m, ClientMsg::Publish { .. } | ClientMsg::Play { .. })));
    assert!(h.publisher_states().is_empty());

    // A shorter av_retry_time.
    let mut h = H::joined(RoomMode::SingleRoom);
    h.core.set_engine_config("av_retry_time=60").unwrap();
    assert_eq!(h.core.set_engine_config("av_retry_time=soon"), Err(ILLEGAL_PARAM));
    h.core.start_publishing_stream("s1", None, PublishChannel::Main, h.now).unwrap();
    h.pump();
    h.frame(publish_result(0, "s1", 0));
    h.clear();
    h.disconnect();
    h.advance(Duration::from_secs(59));
    assert!(h.publisher_states().iter().all(|(s, _, _)| *s != Pu::NoPublish));
    h.advance(Duration::from_secs(2));
    assert_eq!(h.publisher_states().last(), Some(&(Pu::NoPublish, PUBLISHER_RETRY_TIMEOUT, "s1".into())));
}

#[test]
fn publishers_and_players_end_with_their_room() {
    type Case = (&'static str, fn(&mut H), (Pu, i32), (Pl, i32));
    let cases: Vec<Case> = vec![
        ("stop", |h| h.core.stop_publishing_stream(PublishChannel::Main, h.now).unwrap(), (Pu::NoPublish, 0), (Pl::Playing, 0)),
        ("logout", |h| {
            h.core.logout_room(None, h.now).unwrap();
        }, (Pu::NoPublish, 0), (Pl::NoPlay, 0)),
        ("switch", |h| h.core.switch_room("r", "r2", None, h.now).unwrap(), (Pu::NoPublish, 0), (Pl::NoPlay, 0)),
        (
            "kick",
            |h| h.frame(ServerMsg::Kicked { code: KICKED_OUT_DUPLICATE_LOGIN, message: String::new() }),
            (Pu::NoPublish, KICKED_OUT_DUPLICATE_LOGIN),
            (Pl::NoPlay, KICKED_OUT_DUPLICATE_LOGIN),
        ),
        (
            "retry window",
            |h| {
                h.core.set_engine_config("room_retry_time=5").unwrap();
                h.disconnect();
                h.advance(Duration::from_secs(6));
            },
            (Pu::NoPublish, PUBLISHER_RETRY_TIMEOUT),
            (Pl::NoPlay, RETRY_TIMEOUT),
        ),
    ];
    for (what, action, publisher, player) in cases {
        let mut h = H::joined(RoomMode::SingleRoom);
        h.core.start_publishing_stream("s1", None, PublishChannel::Main, h.now).unwrap();
        h.core.start_playing_stream("p1", None, h.now).unwrap();
        h.pump();
        h.frame(publish_result(0, "s1", 0));
        h.frame(play_state("p1", PlayStatus::Live));
        h.clear();
        action(&mut h);
        h.pump();
        let (ps, pc, _) = h.publisher_states().last().cloned().unwrap_or((Pu::Publishing, 0, String::new()));
        assert_eq!((ps, pc), publisher, "{what}: {:?}", h.events);
        let (ls, lc, _) = h.player_states().last().cloned().unwrap_or((Pl::Playing, 0, String::new()));
        assert_eq!((ls, lc), player, "{what}: {:?}", h.events);
        if what == "stop" {
            assert!(h.sent_msgs().contains(&ClientMsg::StopPublish { stream_id: "s1".into() }));
        }
        if what == "logout" {
            // The room event first, then the publisher's and player's end.
            let logout = h.events.iter().position(|e| matches!(e, Event::RoomStateChanged { reason: R::Logout, .. })).unwrap();
            let nopub = h.events.iter().position(|e| matches!(e, Event::PublisherStateUpdate { .. })).unwrap();
            assert!(logout < nopub);
        }
    }
}

#[test]
fn stream_extra_info_before_and_during_publishing() {
    let mut h = H::joined(RoomMode::SingleRoom);
    // Before: stored, result 0 at once, carried by the publish.
    let seq = h.core.set_stream_extra_info("v1", PublishChannel::Main, h.now).unwrap();
    h.pump();
    assert!(h.events.contains(&Event::PublisherUpdateStreamExtraInfoResult { error_code: 0, seq }));
    h.core.start_publishing_stream("s1", None, PublishChannel::Main, h.now).unwrap();
    h.pump();
    assert!(h.sent_msgs().contains(&ClientMsg::Publish { channel: 0, stream_id: "s1".into(), extra_info: "v1".into() }));
    h.frame(publish_result(0, "s1", 0));
    h.clear();
    // During: the server answers with the seq.
    let seq = h.core.set_stream_extra_info("v2", PublishChannel::Main, h.now).unwrap();
    h.pump();
    assert_eq!(h.sent_msgs(), vec![ClientMsg::SetStreamExtraInfo { channel: 0, extra_info: "v2".into(), seq }]);
    assert!(h.events.is_empty());
    h.frame(ServerMsg::StreamExtraInfoResult { seq, code: 0 });
    assert_eq!(h.events, vec![Event::PublisherUpdateStreamExtraInfoResult { error_code: 0, seq }]);
    let all = h.core.get_room_stream_list("r", RoomStreamListType::All).unwrap();
    assert_eq!(all, vec![Stream { user: user_me(), stream_id: "s1".into(), extra_info: "v2".into() }]);
    assert!(h.core.get_room_stream_list("", RoomStreamListType::Play).unwrap().is_empty());
}

fn user_me() -> User {
    User::new("me", "me")
}

#[test]
fn sei_goes_out_only_while_publishing_and_connected() {
    let mut h = H::joined(RoomMode::SingleRoom);
    h.core.start_publishing_stream("s1", None, PublishChannel::Third, h.now).unwrap();
    h.pump();
    assert_eq!(h.core.send_sei(b"x", PublishChannel::Third), Err(PUBLISHER_NOT_PUBLISHING), "requesting");
    h.frame(publish_result(2, "s1", 0));
    h.core.send_sei(&[0, 1, 2, 255], PublishChannel::Third).unwrap();
    h.core.send_sei(&[7; 4096], PublishChannel::Third).unwrap();
    h.pump();
    assert_eq!(h.binary.len(), 2);
    assert_eq!(h.binary[0].1, vec![SEI_UP, 2, 0, 1, 2, 255]);
    assert_eq!(h.binary[1].1.len(), 4098);
    h.disconnect();
    assert_eq!(h.core.send_sei(b"x", PublishChannel::Third), Err(PUBLISHER_NOT_PUBLISHING), "interrupted");
    assert_eq!(h.core.send_sei(b"x", PublishChannel::Main), Err(PUBLISHER_NOT_PUBLISHING), "another channel");
}

// ---- player states -------------------------------------------------------------------------------

#[test]
fn player_waits_plays_is_interrupted_and_gives_up() {
    let mut h = H::joined(RoomMode::SingleRoom);
    h.core.set_engine_config("av_retry_time=30").unwrap();
    h.core.start_playing_stream("p1", None, h.now).unwrap();
    h.pump();
    assert_eq!(h.sent_msgs(), vec![ClientMsg::Play { stream_id: "p1".into() }]);
    // Not published yet: waits in PlayRequesting (0), with no timer of its own.
    h.frame(play_state("p1", PlayStatus::Down));
    h.idle(120);
    assert_eq!(h.player_states(), vec![(Pl::PlayRequesting, 0, "p1".into())]);
    h.frame(play_state("p1", PlayStatus::Live));
    h.frame(ServerMsg::PlayState { stream_id: "p1".into(), status: PlayStatus::Live });
    assert_eq!(h.player_states().last(), Some(&(Pl::Playing, 0, "p1".into())), "reported once");
    assert_eq!(h.player_states().len(), 2);
    // Publisher interrupted: PlayRequesting 1004020; back: Playing.
    h.frame(play_state("p1", PlayStatus::Down));
    h.idle(10);
    h.frame(play_state("p1", PlayStatus::Live));
    let tail: Vec<_> = h.player_states().into_iter().skip(2).collect();
    assert_eq!(tail, vec![(Pl::PlayRequesting, PLAYER_INTERRUPTED, "p1".into()), (Pl::Playing, 0, "p1".into())]);
    // Not back within av_retry_time: NoPlay 1004020, and the server is told.
    h.clear();
    h.frame(play_state("p1", PlayStatus::Down));
    h.idle(29);
    assert_eq!(h.player_states(), vec![(Pl::PlayRequesting, PLAYER_INTERRUPTED, "p1".into())]);
    h.idle(2);
    assert_eq!(h.player_states().last(), Some(&(Pl::NoPlay, PLAYER_INTERRUPTED, "p1".into())));
    assert!(h.sent_msgs().contains(&ClientMsg::StopPlay { stream_id: "p1".into() }));
    // Forbidden: NoPlay 1004025.
    h.clear();
    h.core.start_playing_stream("p2", None, h.now).unwrap();
    h.pump();
    h.frame(play_state("p2", PlayStatus::Forbidden));
    assert_eq!(h.player_states().last(), Some(&(Pl::NoPlay, PLAYER_FORBIDDEN, "p2".into())));
}

#[test]
fn own_connection_lost_interrupts_playing_and_sei_arrives_only_while_playing() {
    let mut h = H::joined(RoomMode::SingleRoom);
    h.core.start_playing_stream("p1", None, h.now).unwrap();
    h.pump();
    let sei = |id: &str, data: &[u8]| crate::protocol::encode_sei_down(id, data);
    let conn = h.last_conn();
    h.core.on_binary(conn, &sei("p1", b"early"), h.now);
    h.frame(play_state("p1", PlayStatus::Live));
    h.core.on_binary(conn, &sei("p1", &[1, 0, 2]), h.now);
    h.core.on_binary(conn, &sei("zz", b"not ours"), h.now);
    h.core.on_binary(conn, &[0x02, 9], h.now); // malformed: ignored
    h.pump();
    let recv: Vec<Vec<u8>> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::PlayerRecvSei { data, stream_id } if stream_id == "p1" => Some(data.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(recv, vec![vec![1, 0, 2]]);
    h.clear();
    h.lose_and_resume(Duration::from_millis(300), Login::default());
    assert_eq!(h.player_states(), vec![(Pl::PlayRequesting, PLAYER_INTERRUPTED, "p1".into())]);
    assert!(h.sent_msgs().contains(&ClientMsg::Play { stream_id: "p1".into() }), "asked again after Reconnected");
    h.frame(play_state("p1", PlayStatus::Live));
    assert_eq!(h.player_states().last(), Some(&(Pl::Playing, 0, "p1".into())));
}

// ---- the stream list ---------------------------------------------------------------------------

#[test]
fn stream_list_after_logined_then_updates_with_reasons() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.login("r", "me", notify());
    h.connected();
    h.login_ok_with(Login {
        users: &["bob"],
        streams: vec![stream("bob", "b1", ""), stream("bob", "b2", "info"), stream("me", "mine", "")],
        ..Login::default()
    });
    // Logined, the user Add, then one stream Add (others only), then the extra info of those with some.
    let kinds: Vec<&str> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::RoomStateChanged { reason: R::Logined, .. } => Some("logined"),
            Event::RoomUserUpdate { .. } => Some("users"),
            Event::RoomStreamUpdate { .. } => Some("streams"),
            Event::RoomStreamExtraInfoUpdate { .. } => Some("extra"),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, vec!["logined", "users", "streams", "extra"]);
    assert_eq!(h.stream_updates(), vec![(UpdateType::Add, vec!["b1".into(), "b2".into()], "{}".into())]);
    assert!(h.events.contains(&Event::RoomStreamExtraInfoUpdate { streams: vec![stream("bob", "b2", "info")], room_id: "r".into() }));
    assert_eq!(h.core.get_room_stream_list("r", RoomStreamListType::Play).unwrap().len(), 2);
    h.clear();
    h.frame(ServerMsg::StreamUpdate { update: UserUpdateKind::Add, streams: vec![stream("carol", "c1", ""), stream("bob", "b1", "")], reasons: vec![] });
    h.frame(ServerMsg::StreamUpdate { update: UserUpdateKind::Add, streams: vec![stream("me", "mine2", "")], reasons: vec![] });
    let reasons = vec![StreamDeleteReason { stream_id: "b2".into(), code: delete_reason::HEARTBEAT_TIMEOUT }];
    h.frame(ServerMsg::StreamUpdate { update: UserUpdateKind::Delete, streams: vec![stream("bob", "b2", "info"), stream("x", "never", "")], reasons });
    h.frame(ServerMsg::StreamExtraInfo { streams: vec![stream("carol", "c1", "new"), stream("x", "unknown", "y")] });
    assert_eq!(
        h.stream_updates(),
        vec![
            (UpdateType::Add, vec!["c1".into()], "{}".into()),
            (UpdateType::Delete, vec!["b2".into()], r#"{"stream_delete_reason":[{"stream_id":"b2","code":2}]}"#.into()),
        ],
        "no duplicates, never our own, never unknown ones"
    );
    assert!(h.events.contains(&Event::RoomStreamExtraInfoUpdate { streams: vec![stream("carol", "c1", "new")], room_id: "r".into() }));
}

#[test]
fn stream_differences_after_reconnected_and_held_after_a_server_restart() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.login("r", "me", notify());
    h.connected();
    h.login_ok_with(Login { users: &["bob", "carol"], streams: vec![stream("bob", "b1", ""), stream("carol", "c1", "")], ..Login::default() });
    h.clear();
    // Resumed: plain difference (Delete, then Add), no duplicates.
    h.lose_and_resume(Duration::from_millis(300), Login { users: &["bob", "carol"], streams: vec![stream("bob", "b1", ""), stream("bob", "b9", "")], ..Login::default() });
    assert_eq!(
        h.stream_updates(),
        vec![
            (UpdateType::Delete, vec!["c1".into()], r#"{"stream_delete_reason":[{"stream_id":"c1","code":1}]}"#.into()),
            (UpdateType::Add, vec!["b9".into()], "{}".into())
        ]
    );
    // Server restarted (state younger than the grace): missing users and streams are held.
    h.clear();
    h.disconnect();
    h.advance(Duration::from_millis(500));
    h.connected();
    h.login_ok_with(Login { users: &[], streams: vec![], state_age_ms: 1000, ..Login::default() });
    assert!(h.user_updates().is_empty() && h.stream_updates().is_empty(), "nothing yet: {:?}", h.events);
    // bob comes back with his stream b1: nothing at all.
    h.frame(ServerMsg::UserUpdate { update: UserUpdateKind::Add, users: vec![User::new("bob", "name-bob")] });
    h.frame(ServerMsg::StreamUpdate { update: UserUpdateKind::Add, streams: vec![stream("bob", "b1", "")], reasons: vec![] });
    assert!(h.user_updates().is_empty() && h.stream_updates().is_empty(), "{:?}", h.events);
    // The grace (90 s) passes since the restart (state age 1 s): carol and b9 are gone, once.
    h.idle(88);
    assert!(h.user_updates().is_empty());
    h.idle(2);
    assert_eq!(h.user_updates(), vec![(UpdateType::Delete, vec!["carol".into()])]);
    assert_eq!(h.stream_updates(), vec![(UpdateType::Delete, vec!["b9".into()], r#"{"stream_delete_reason":[{"stream_id":"b9","code":2}]}"#.into())]);
    h.idle(300);
    assert_eq!(h.user_updates().len(), 1, "exactly one Delete");
    assert_eq!(h.core.phase("r"), Some(Phase::Joined));
}

/// Chaos-soak finding (seed 1796039053400690837): a stream's extra info that changed during a gap
/// was reported after Reconnected, but the view kept the old value, so `get_room_stream_list`
/// returned it and a later change back to the old value was never reported.
#[test]
fn extra_info_changed_during_a_gap_is_kept_in_the_view() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.login("r", "me", notify());
    h.connected();
    h.login_ok_with(Login { users: &["bob"], streams: vec![stream("bob", "b1", "v1")], ..Login::default() });
    h.clear();
    h.lose_and_resume(Duration::from_millis(300), Login { users: &["bob"], streams: vec![stream("bob", "b1", "v2")], ..Login::default() });
    assert!(h.events.contains(&Event::RoomStreamExtraInfoUpdate { streams: vec![stream("bob", "b1", "v2")], room_id: "r".into() }), "{:?}", h.events);
    assert_eq!(h.core.get_room_stream_list("r", RoomStreamListType::Play), Ok(vec![stream("bob", "b1", "v2")]));
    h.clear();
    h.frame(ServerMsg::StreamExtraInfo { streams: vec![stream("bob", "b1", "v1")] });
    assert_eq!(h.events, vec![Event::RoomStreamExtraInfoUpdate { streams: vec![stream("bob", "b1", "v1")], room_id: "r".into() }]);
    assert_eq!(h.core.get_room_stream_list("r", RoomStreamListType::Play), Ok(vec![stream("bob", "b1", "v1")]));
}

/// Chaos-soak finding (seed 1796039053400690837): the restart hold ended while the room was
/// Reconnecting, so every user and stream still held was deleted during Reconnecting (§1.2: the
/// difference comes after Reconnected) and added again after it: a flap for those who were back.
#[test]
fn a_restart_hold_that_ends_while_reconnecting_reports_only_the_difference_after_reconnected() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.login("r", "me", notify());
    h.connected();
    h.login_ok_with(Login { users: &["bob", "carol"], streams: vec![stream("bob", "b1", ""), stream("carol", "c1", "")], ..Login::default() });
    // The server restarted and lost everything: bob, carol, b1 and c1 are held.
    h.disconnect();
    h.advance(Duration::from_millis(500));
    h.connected();
    h.login_ok_with(Login { state_age_ms: 1000, ..Login::default() });
    h.clear();
    // Lost again at once; the hold (89 s) ends while Reconnecting.
    h.disconnect();
    h.advance(Duration::from_secs(120));
    assert_eq!(h.reasons(), vec![(R::Reconnecting, CONNECT_TEMPORARY_BROKEN)]);
    assert!(h.user_updates().is_empty() && h.stream_updates().is_empty(), "nothing while Reconnecting: {:?}", h.events);
    // Back (a fresh session, the server is no longer young): bob and b1 came back, carol did not.
    let attempts = h.connects.len();
    while h.connects.len() == attempts {
        h.advance(Duration::from_millis(100));
    }
    h.connected();
    h.login_ok_with(Login { users: &["bob"], streams: vec![stream("bob", "b1", "")], state_age_ms: 121_000, ..Login::default() });
    assert_eq!(h.user_updates(), vec![(UpdateType::Delete, vec!["carol".into()])], "no Delete/Add for bob");
    assert_eq!(h.stream_updates(), vec![(UpdateType::Delete, vec!["c1".into()], r#"{"stream_delete_reason":[{"stream_id":"c1","code":1}]}"#.into())]);
    h.idle(200);
    assert_eq!(h.user_updates().len(), 1, "nothing more: {:?}", h.events);
}

/// The same engine resumes its session on the restarted server before the others are back (a
/// short cut within the restart grace): they stay held, nobody flaps (§1.7).
#[test]
fn a_resumed_session_on_a_young_server_keeps_holding() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.login("r", "me", notify());
    h.connected();
    h.login_ok_with(Login { users: &["bob", "carol"], streams: vec![stream("bob", "b1", "")], ..Login::default() });
    h.disconnect();
    h.advance(Duration::from_millis(500));
    h.connected();
    h.login_ok_with(Login { state_age_ms: 1000, ..Login::default() });
    h.clear();
    h.lose_and_resume(Duration::from_secs(2), Login { state_age_ms: 3500, ..Login::default() });
    assert!(h.user_updates().is_empty() && h.stream_updates().is_empty(), "still held: {:?}", h.events);
    // bob is back with b1; carol never comes: one Delete at restart + grace.
    h.frame(ServerMsg::UserUpdate { update: UserUpdateKind::Add, users: vec![User::new("bob", "name-bob")] });
    h.frame(ServerMsg::StreamUpdate { update: UserUpdateKind::Add, streams: vec![stream("bob", "b1", "")], reasons: vec![] });
    assert!(h.user_updates().is_empty() && h.stream_updates().is_empty(), "{:?}", h.events);
    h.idle(100);
    assert_eq!(h.user_updates(), vec![(UpdateType::Delete, vec!["carol".into()])]);
    assert!(h.stream_updates().is_empty());
}

// ---- messaging and room extra info (§7.1) --------------------------------------------------------

#[test]
fn bad_messaging_input_returns_codes_and_changes_nothing() {
    let mut h = H::joined(RoomMode::SingleRoom);
    let long = "m".repeat(1025);
    assert_eq!(h.core.send_broadcast_message("r", "", h.now), Err(MESSAGE_EMPTY));
    assert_eq!(h.core.send_broadcast_message("r", &long, h.now), Err(MESSAGE_TOO_LONG));
    assert_eq!(h.core.send_barrage_message("r", "", h.now), Err(MESSAGE_EMPTY));
    assert_eq!(h.core.send_broadcast_message("nope", "hi", h.now), Err(MESSAGE_ROOM_NOT_JOINED));
    assert_eq!(h.core.send_custom_command("r", "c", &[""], h.now), Err(MESSAGE_TARGET_EMPTY));
    assert_eq!(h.core.send_custom_command("r", "c", &[&"u".repeat(64)], h.now), Err(MESSAGE_TARGET_TOO_LONG));
    assert_eq!(h.core.send_custom_command("r", "c", &["a"; 6], h.now), Err(ILLEGAL_PARAM));
    assert_eq!(h.core.send_custom_command("r", "", &["a"], h.now), Err(MESSAGE_EMPTY));
    assert_eq!(h.core.set_room_extra_info("r", "", "v", h.now), Err(ROOM_EXTRA_INFO_KEY_EMPTY));
    assert_eq!(h.core.set_room_extra_info("r", "k".repeat(11).as_str(), "v", h.now), Err(ROOM_EXTRA_INFO_KEY_TOO_LONG));
    assert_eq!(h.core.set_room_extra_info("r", "k", &"v".repeat(129), h.now), Err(ROOM_EXTRA_INFO_VALUE_TOO_LONG));
    assert_eq!(h.core.set_room_extra_info("nope", "k", "v", h.now), Err(ROOM_ID_INCORRECT));
    h.pump();
    assert!(h.events.is_empty() && h.sent.is_empty());
    // One key per room: a second distinct key is refused synchronously.
    let seq = h.core.set_room_extra_info("r", "topic", "t", h.now).unwrap();
    h.pump();
    h.frame(ServerMsg::RoomExtraInfoResult { seq, code: 0, key: "topic".into(), update_time: 5 });
    h.clear();
    assert_eq!(h.core.set_room_extra_info("r", "other", "x", h.now), Err(ROOM_EXTRA_INFO_EXCEED_KEYS));
    assert!(h.core.set_room_extra_info("r", "topic", "u", h.now).is_ok());
}

#[test]
fn sends_results_and_queueing_while_reconnecting() {
    let mut h = H::joined(RoomMode::SingleRoom);
    let s1 = h.core.send_broadcast_message("r", "hello", h.now).unwrap();
    h.pump();
    assert_eq!(h.sent_msgs(), vec![ClientMsg::Send { kind: MsgKind::Broadcast, content: "hello".into(), to: vec![], seq: s1 }]);
    h.frame(ServerMsg::SendResult { kind: MsgKind::Broadcast, seq: s1, code: 0, message_id: 7 });
    assert_eq!(h.events, vec![Event::ImSendBroadcastMessageResult { error_code: 0, message_id: 7, room_id: "r".into(), seq: s1 }]);
    h.clear();
    // In flight when the connection drops, and one more sent while Reconnecting: both go out
    // after Reconnected (the first with its seq again), results then.
    let s2 = h.core.send_custom_command("r", "cmd", &["bob"], h.now).unwrap();
    h.pump();
    h.disconnect();
    let s3 = h.core.send_barrage_message("r", "b", h.now).unwrap();
    h.pump();
    assert!(h.events.iter().all(|e| !matches!(e, Event::ImSendCustomCommandResult { .. } | Event::ImSendBarrageMessageResult { .. })));
    h.sent.clear();
    h.advance(Duration::from_millis(200));
    h.connected();
    h.login_ok_with(Login { resumed: true, ..Login::default() });
    let sends: Vec<i32> = h
        .sent_msgs()
        .into_iter()
        .filter_map(|m| match m {
            ClientMsg::Send { seq, .. } => Some(seq),
            _ => None,
        })
        .collect();
    assert_eq!(sends, vec![s2, s3]);
    let reconnected = h.events.iter().position(|e| matches!(e, Event::RoomStateChanged { reason: R::Reconnected, .. })).unwrap();
    h.frame(ServerMsg::SendResult { kind: MsgKind::Command, seq: s2, code: 0, message_id: 8 });
    h.frame(ServerMsg::SendResult { kind: MsgKind::Barrage, seq: s3, code: MESSAGE_RATE_LIMITED, message_id: 0 });
    h.frame(ServerMsg::SendResult { kind: MsgKind::Barrage, seq: s3, code: 0, message_id: 9 }); // repeated: ignored
    let results: Vec<&Event> = h.events.iter().skip(reconnected).filter(|e| matches!(e, Event::ImSendCustomCommandResult { .. } | Event::ImSendBarrageMessageResult { .. })).collect();
    assert_eq!(
        results,
        vec![
            &Event::ImSendCustomCommandResult { error_code: 0, room_id: "r".into(), seq: s2 },
            &Event::ImSendBarrageMessageResult { error_code: MESSAGE_RATE_LIMITED, message_id: String::new(), room_id: "r".into(), seq: s3 },
        ]
    );
    // A send waiting when the room ends fails with 1009010.
    h.clear();
    h.core.set_engine_config("room_retry_time=2").unwrap();
    h.disconnect();
    let s4 = h.core.send_broadcast_message("r", "late", h.now).unwrap();
    let s5 = h.core.set_room_extra_info("r", "k", "v", h.now).unwrap();
    h.advance(Duration::from_secs(3));
    assert!(h.events.contains(&Event::ImSendBroadcastMessageResult { error_code: MESSAGE_SEND_FAILED, message_id: 0, room_id: "r".into(), seq: s4 }));
    assert!(h.events.contains(&Event::RoomSetRoomExtraInfoResult { error_code: ROOM_ID_INCORRECT, room_id: "r".into(), key: "k".into(), seq: s5 }));
    let failed = h.events.iter().position(|e| matches!(e, Event::RoomStateChanged { reason: R::ReconnectFailed, .. })).unwrap();
    let result = h.events.iter().position(|e| matches!(e, Event::ImSendBroadcastMessageResult { .. })).unwrap();
    assert!(failed < result, "the room's end first, then the failed results");
}

fn wire(id: u64, text: &str, from: &str) -> WireMessage {
    WireMessage { content: text.into(), message_id: id, send_time: 1_700_000_000_000 + id, from_user: User::new(from, from) }
}

#[test]
fn received_messages_are_delivered_once_in_order_in_batches_of_50() {
    let mut h = H::joined(RoomMode::SingleRoom);
    let batch: Vec<WireMessage> = (1..=120).map(|i| wire(i, &format!("m{i}"), "bob")).collect();
    h.frame(ServerMsg::Messages { kind: MsgKind::Broadcast, messages: batch });
    let sizes: Vec<usize> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::ImRecvBroadcastMessage { messages, .. } => Some(messages.len()),
            _ => None,
        })
        .collect();
    assert_eq!(sizes, vec![50, 50, 20]);
    // A replay that overlaps (after a resume) delivers only what is new.
    h.clear();
    h.frame(ServerMsg::Messages { kind: MsgKind::Broadcast, messages: (118..=122).map(|i| wire(i, "x", "bob")).collect() });
    let ids: Vec<u64> = h
        .events
        .iter()
        .flat_map(|e| match e {
            Event::ImRecvBroadcastMessage { messages, .. } => messages.iter().map(|m| m.message_id).collect(),
            _ => vec![],
        })
        .collect();
    assert_eq!(ids, vec![121, 122]);
    h.clear();
    h.frame(ServerMsg::Messages { kind: MsgKind::Command, messages: vec![wire(130, "go", "carol")] });
    h.frame(ServerMsg::Messages { kind: MsgKind::Barrage, messages: vec![wire(131, "lol", "dave")] });
    assert_eq!(
        h.events,
        vec![
            Event::ImRecvCustomCommand { command: "go".into(), from_user: User::new("carol", "carol"), room_id: "r".into() },
            Event::ImRecvBarrageMessage {
                messages: vec![BarrageMessageInfo { message: "lol".into(), message_id: "131".into(), send_time: 1_700_000_000_131, from_user: User::new("dave", "dave") }],
                room_id: "r".into()
            },
        ]
    );
    // The resume asks for what came after the newest id received.
    h.lose_and_resume(Duration::from_millis(100), Login::default());
    let last = h.sent_msgs().into_iter().find_map(|m| match m {
        ClientMsg::Login { last_msg_id, .. } => Some(last_msg_id),
        _ => None,
    });
    assert_eq!(last, Some(131));
}

#[test]
fn room_extra_info_after_logined_from_others_and_after_reconnected() {
    let info = |v: &str, by: &str, t: u64| RoomExtraInfo { key: "topic".into(), value: v.into(), update_user: User::new(by, by), update_time: t };
    let mut h = H::new(RoomMode::SingleRoom);
    h.login("r", "me", notify());
    h.connected();
    h.login_ok_with(Login { extra: vec![info("a", "bob", 1)], ..Login::default() });
    assert!(h.events.contains(&Event::RoomExtraInfoUpdate { infos: vec![info("a", "bob", 1)], room_id: "r".into() }), "right after Logined");
    h.clear();
    h.frame(ServerMsg::RoomExtraInfoUpdate { infos: vec![info("b", "bob", 2)] });
    assert_eq!(h.events, vec![Event::RoomExtraInfoUpdate { infos: vec![info("b", "bob", 2)], room_id: "r".into() }]);
    // Our own set: the result, no update; a reconnect with the same value says nothing.
    h.clear();
    let seq = h.core.set_room_extra_info("r", "topic", "mine", h.now).unwrap();
    h.pump();
    h.frame(ServerMsg::RoomExtraInfoResult { seq, code: 0, key: "topic".into(), update_time: 3 });
    assert_eq!(h.events, vec![Event::RoomSetRoomExtraInfoResult { error_code: 0, room_id: "r".into(), key: "topic".into(), seq }]);
    h.clear();
    h.lose_and_resume(Duration::from_millis(100), Login { extra: vec![info("mine", "me", 3)], ..Login::default() });
    assert!(!h.events.iter().any(|e| matches!(e, Event::RoomExtraInfoUpdate { .. })), "unchanged: {:?}", h.events);
    // Changed during the gap: reported again after Reconnected.
    h.clear();
    h.lose_and_resume(Duration::from_millis(100), Login { extra: vec![info("c", "carol", 4)], ..Login::default() });
    let reconnected = h.events.iter().position(|e| matches!(e, Event::RoomStateChanged { reason: R::Reconnected, .. })).unwrap();
    let update = h.events.iter().position(|e| matches!(e, Event::RoomExtraInfoUpdate { .. })).unwrap();
    assert!(reconnected < update);
}
