//! Virtual-clock tests of the core: every row of contract §1.1 and the rules of §1.2–§1.4.

use super::*;
use crate::protocol::UserUpdateKind;
use RoomStateChangedReason as R;

const URL: &str = "ws://127.0.0.1:1";

pub(super) struct H {
    pub(super) core: Core,
    pub(super) t0: Instant,
    pub(super) now: Instant,
    pub(super) events: Vec<Event>,
    pub(super) connects: Vec<ConnId>,
    /// The URL of each connection opened.
    pub(super) urls: Vec<String>,
    pub(super) server: String,
    pub(super) sent: Vec<(ConnId, ClientMsg)>,
    pub(super) binary: Vec<(ConnId, Vec<u8>)>,
    pub(super) closed: Vec<ConnId>,
}

pub(super) fn user(id: &str) -> User {
    User::new(id, "")
}

pub(super) fn notify() -> RoomConfig {
    RoomConfig { is_user_status_notify: true, ..Default::default() }
}

impl H {
    pub(super) fn new(mode: RoomMode) -> H {
        H::with_server(mode, URL)
    }

    pub(super) fn with_server(mode: RoomMode, server: &str) -> H {
        let profile = EngineProfile { app_id: 7, server: server.into(), room_mode: mode };
        let t0 = Instant::now();
        H {
            core: Core::new(&profile, Timings::default(), 42),
            t0,
            now: t0,
            events: vec![],
            connects: vec![],
            urls: vec![],
            server: server.into(),
            sent: vec![],
            binary: vec![],
            closed: vec![],
        }
    }

    pub(super) fn pump(&mut self) {
        while let Some(o) = self.core.poll_output() {
            match o {
                Output::Connect { conn, url } => {
                    assert!(server_urls(&self.server).contains(&url), "{url} is one of {}", self.server);
                    self.connects.push(conn);
                    self.urls.push(url);
                }
                Output::Send { conn, msg } => self.sent.push((conn, msg)),
                Output::SendBinary { conn, data } => self.binary.push((conn, data)),
                Output::Close { conn } => self.closed.push(conn),
                Output::Event(e) => self.events.push(e),
            }
        }
    }

    /// Moves the virtual clock, firing every timer due on the way, in order.
    pub(super) fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        while let Some(t) = self.core.poll_timeout() {
            if t > target {
                break;
            }
            self.now = self.now.max(t);
            self.core.handle_timeout(self.now);
            self.pump();
        }
        self.now = target;
    }

    pub(super) fn elapsed(&self) -> Duration {
        self.now - self.t0
    }

    pub(super) fn login(&mut self, room: &str, uid: &str, cfg: RoomConfig) -> Seq {
        let seq = self.core.login_room(room, &user(uid), Some(&cfg), self.now).expect("login accepted");
        self.pump();
        seq
    }

    pub(super) fn last_conn(&self) -> ConnId {
        *self.connects.last().expect("a connection was opened")
    }

    /// The driver opened the connection: the core must send its login.
    pub(super) fn connected(&mut self) -> ClientMsg {
        let conn = self.last_conn();
        self.core.on_connected(conn, self.now);
        self.pump();
        let (c, msg) = self.sent.last().cloned().expect("login sent");
        assert_eq!(c, conn);
        assert!(matches!(msg, ClientMsg::Login { .. }), "{msg:?}");
        msg
    }

    pub(super) fn frame(&mut self, msg: ServerMsg) {
        let conn = self.last_conn();
        self.core.on_frame(conn, msg, self.now);
        self.pump();
    }

    pub(super) fn login_ok(&mut self, users: &[&str], count: u32, resumed: bool) {
        self.frame(ServerMsg::LoginOk {
            session_id: "sess-1".into(),
            room_session_id: "rs-1".into(),
            resumed,
            users: users.iter().map(|u| User::new(*u, format!("name-{u}"))).collect(),
            user_count: count,
            ping_interval_ms: 1000,
            token_remaining_secs: None,
            grace_ms: 90_000,
            state_age_ms: 3_600_000,
            streams: vec![],
            extra_info: vec![],
            last_msg_id: 0,
        });
    }

    /// Logined with a token that expires in `remaining_secs`.
    pub(super) fn login_ok_with_token(&mut self, remaining_secs: i64) {
        self.frame(ServerMsg::LoginOk {
            session_id: "s".into(),
            room_session_id: "rs".into(),
            resumed: false,
            users: vec![],
            user_count: 1,
            ping_interval_ms: 1000,
            token_remaining_secs: Some(remaining_secs),
            grace_ms: 90_000,
            state_age_ms: 3_600_000,
            streams: vec![],
            extra_info: vec![],
            last_msg_id: 0,
        });
    }

    pub(super) fn join(&mut self, room: &str, uid: &str, cfg: RoomConfig, users: &[&str]) {
        self.login(room, uid, cfg);
        self.connected();
        self.login_ok(users, users.len() as u32 + 1, false);
    }

    pub(super) fn disconnect(&mut self) {
        let conn = self.last_conn();
        self.core.on_disconnected(conn, self.now);
        self.pump();
    }

    pub(super) fn reasons(&self) -> Vec<(R, i32)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::RoomStateChanged { reason, error_code, .. } => Some((*reason, *error_code)),
                _ => None,
            })
            .collect()
    }

    pub(super) fn legacy(&self) -> Vec<(RoomState, i32)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::RoomStateUpdate { state, error_code, .. } => Some((*state, *error_code)),
                _ => None,
            })
            .collect()
    }

    pub(super) fn user_updates(&self) -> Vec<(UpdateType, Vec<String>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::RoomUserUpdate { update_type, users, .. } => {
                    Some((*update_type, users.iter().map(|u| u.user_id.clone()).collect()))
                }
                _ => None,
            })
            .collect()
    }

    pub(super) fn clear(&mut self) {
        self.events.clear();
        self.sent.clear();
        self.closed.clear();
    }
}

// ---- §1.1 rows -------------------------------------------------------------------------------

#[test]
fn login_then_logined_with_legacy_state_and_result() {
    let mut h = H::new(RoomMode::SingleRoom);
    let seq = h.login("r1", "alice", RoomConfig::default());
    assert!(seq > 0);
    assert_eq!(h.reasons(), vec![(R::Logining, 0)]);
    assert_eq!(h.legacy(), vec![(RoomState::Connecting, 0)]);
    assert_eq!(h.connects.len(), 1, "first attempt starts at once");
    match h.connected() {
        ClientMsg::Login { app_id, room_id, user_id, user_name, resume_session_id, .. } => {
            assert_eq!((app_id, room_id.as_str(), user_id.as_str(), user_name.as_str()), (7, "r1", "alice", "alice"));
            assert_eq!(resume_session_id, None);
        }
        _ => unreachable!(),
    }
    h.login_ok(&[], 1, false);
    assert_eq!(h.reasons(), vec![(R::Logining, 0), (R::Logined, 0)]);
    assert_eq!(h.legacy(), vec![(RoomState::Connecting, 0), (RoomState::Connected, 0)]);
    let logined_ext = h.events.iter().find_map(|e| match e {
        Event::RoomStateChanged { reason: R::Logined, extended_data, .. } => Some(extended_data.clone()),
        _ => None,
    });
    assert_eq!(logined_ext.as_deref(), Some(r#"{"room_session_id":"rs-1"}"#));
    assert!(h.events.contains(&Event::RoomLoginResult {
        error_code: 0,
        extended_data: r#"{"room_session_id":"rs-1"}"#.into(),
        room_id: "r1".into(),
        seq
    }));
    assert!(h.events.contains(&Event::RoomOnlineUserCountUpdate { count: 1, room_id: "r1".into() }));
    // Every state event carries a JSON object.
    for e in &h.events {
        if let Event::RoomStateChanged { extended_data, .. } | Event::RoomStateUpdate { extended_data, .. } = e {
            assert!(serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(extended_data).is_ok());
        }
    }
}

#[test]
fn bad_token_is_login_failed_and_final() {
    let mut h = H::new(RoomMode::SingleRoom);
    let seq = h.login("r1", "alice", RoomConfig { token: "04garbage".into(), ..Default::default() });
    h.connected();
    h.frame(ServerMsg::LoginFailed { code: AUTHENTICATION_FAILED, message: "bad token".into() });
    assert_eq!(h.reasons(), vec![(R::Logining, 0), (R::LoginFailed, AUTHENTICATION_FAILED)]);
    assert_eq!(h.legacy(), vec![(RoomState::Connecting, 0), (RoomState::Disconnected, AUTHENTICATION_FAILED)]);
    assert!(h.events.iter().any(|e| matches!(e, Event::RoomLoginResult { error_code: AUTHENTICATION_FAILED, seq: s, .. } if *s == seq)));
    let (connects, events) = (h.connects.len(), h.events.len());
    h.advance(Duration::from_secs(3600));
    assert_eq!((h.connects.len(), h.events.len()), (connects, events), "nothing more after LoginFailed");
    assert_eq!(h.core.poll_timeout(), None);
    // The room no longer counts as joined; a new login is allowed.
    assert!(h.core.login_room("r2", &user("alice"), None, h.now).is_ok());
}

#[test]
fn room_full_is_login_failed() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.login("r1", "alice", RoomConfig::default());
    h.connected();
    h.frame(ServerMsg::LoginFailed { code: ROOM_FULL, message: "full".into() });
    assert_eq!(h.reasons().last(), Some(&(R::LoginFailed, ROOM_FULL)));
}

#[test]
fn unreachable_first_login_retries_silently_for_the_whole_window() {
    let mut h = H::new(RoomMode::SingleRoom);
    let seq = h.login("r1", "alice", RoomConfig::default());
    h.disconnect(); // refused
    let mut last_attempt = h.now;
    let mut max_gap = Duration::ZERO;
    let mut first_gap = None;
    while h.elapsed() < Duration::from_secs(1300) {
        let before = h.connects.len();
        h.advance(Duration::from_millis(50));
        if h.connects.len() > before {
            let gap = h.now - last_attempt;
            first_gap.get_or_insert(gap);
            max_gap = max_gap.max(gap);
            last_attempt = h.now;
            h.disconnect();
        }
    }
    assert!(first_gap.unwrap() <= Duration::from_millis(550), "first retry within 0.5 s: {first_gap:?}");
    assert!(max_gap <= Duration::from_millis(5050), "retries at most 5 s apart: {max_gap:?}");
    assert!(h.connects.len() > 240, "kept retrying for 20 minutes: {}", h.connects.len());
    // Stays in Logining (no Reconnecting) until LoginFailed 1002053 at the end of the window.
    assert_eq!(h.reasons(), vec![(R::Logining, 0), (R::LoginFailed, RETRY_TIMEOUT)]);
    let failed_at = last_attempt.max(h.t0 + Duration::from_secs(1200));
    assert!(failed_at - h.t0 <= Duration::from_millis(1200_050));
    assert!(h.events.iter().any(|e| matches!(e, Event::RoomLoginResult { error_code: RETRY_TIMEOUT, seq: s, .. } if *s == seq)));
}

#[test]
fn hung_attempts_time_out_and_are_retried() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.login("r1", "alice", RoomConfig::default());
    let first = h.last_conn();
    h.advance(Duration::from_millis(5000));
    assert!(h.closed.contains(&first), "a hung attempt is abandoned after 5 s");
    h.advance(Duration::from_millis(600));
    assert!(h.connects.len() >= 2);
}

#[test]
fn loss_after_login_reconnects_and_resumes() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.join("r1", "alice", RoomConfig::default(), &[]);
    h.clear();
    h.disconnect();
    assert_eq!(h.reasons(), vec![(R::Reconnecting, CONNECT_TEMPORARY_BROKEN)]);
    assert_eq!(h.legacy(), vec![(RoomState::Connecting, CONNECT_TEMPORARY_BROKEN)]);
    let attempts = h.connects.len();
    h.advance(Duration::from_millis(500));
    assert_eq!(h.connects.len(), attempts + 1, "first retry within 0.5 s");
    match h.connected() {
        ClientMsg::Login { resume_session_id, .. } => assert_eq!(resume_session_id.as_deref(), Some("sess-1")),
        _ => unreachable!(),
    }
    h.login_ok(&[], 1, true);
    assert_eq!(h.reasons(), vec![(R::Reconnecting, CONNECT_TEMPORARY_BROKEN), (R::Reconnected, 0)]);
    assert_eq!(h.legacy().last(), Some(&(RoomState::Connected, 0)));
    assert!(!h.events.iter().any(|e| matches!(e, Event::RoomLoginResult { .. })), "no second login result");
}

#[test]
fn server_lost_the_session_still_reports_reconnected() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.join("r1", "alice", RoomConfig::default(), &[]);
    h.clear();
    h.disconnect();
    h.advance(Duration::from_millis(500));
    h.connected();
    h.login_ok(&[], 1, false); // fresh session on the server side
    assert_eq!(h.reasons(), vec![(R::Reconnecting, CONNECT_TEMPORARY_BROKEN), (R::Reconnected, 0)]);
}

#[test]
fn silent_connection_is_detected_after_three_ping_intervals() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.join("r1", "alice", RoomConfig::default(), &[]);
    h.clear();
    let start = h.now;
    h.advance(Duration::from_millis(2999));
    let pings = h.sent.iter().filter(|(_, m)| *m == ClientMsg::Ping).count();
    assert_eq!(pings, 2, "a ping every interval (1 s from the server)");
    assert!(h.reasons().is_empty());
    h.advance(Duration::from_millis(1));
    assert_eq!(h.reasons(), vec![(R::Reconnecting, CONNECT_TEMPORARY_BROKEN)]);
    assert_eq!(h.now - start, Duration::from_secs(3));
}

#[test]
fn frames_keep_the_connection_alive() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.join("r1", "alice", RoomConfig::default(), &[]);
    h.clear();
    for _ in 0..20 {
        h.advance(Duration::from_millis(900));
        h.frame(ServerMsg::Pong);
    }
    assert!(h.reasons().is_empty());
}

#[test]
fn retry_window_runs_out_then_nothing_more() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.join("r1", "alice", RoomConfig::default(), &[]);
    h.clear();
    h.disconnect();
    let lost = h.now;
    loop {
        let before = h.connects.len();
        h.advance(Duration::from_millis(100));
        if h.connects.len() > before {
            h.disconnect();
        }
        if h.reasons().len() == 2 {
            break;
        }
    }
    assert_eq!(h.reasons(), vec![(R::Reconnecting, CONNECT_TEMPORARY_BROKEN), (R::ReconnectFailed, RETRY_TIMEOUT)]);
    let took = h.now - lost;
    assert!(took >= Duration::from_secs(1200) && took <= Duration::from_millis(1200_100), "{took:?}");
    assert_eq!(h.legacy().last(), Some(&(RoomState::Disconnected, RETRY_TIMEOUT)));
    let (connects, events) = (h.connects.len(), h.events.len());
    h.advance(Duration::from_secs(3600));
    assert_eq!((h.connects.len(), h.events.len()), (connects, events));
    // Logout of the ended room is normal and emits Logout (0) without a legacy change.
    h.clear();
    h.core.logout_room(Some("r1"), h.now).unwrap();
    h.pump();
    assert_eq!(h.reasons(), vec![(R::Logout, 0)]);
    assert!(h.legacy().is_empty());
}

#[test]
fn room_retry_time_config_shortens_the_window_and_bad_values_change_nothing() {
    let mut h = H::new(RoomMode::SingleRoom);
    assert_eq!(h.core.set_engine_config("room_retry_time=x"), Err(ILLEGAL_PARAM));
    assert_eq!(h.core.timings().retry_window, Duration::from_secs(1200));
    h.core.set_engine_config("room_retry_time=3;foo=bar").unwrap();
    h.join("r1", "alice", RoomConfig::default(), &[]);
    h.clear();
    h.disconnect();
    for _ in 0..40 {
        let before = h.connects.len();
        h.advance(Duration::from_millis(100));
        if h.connects.len() > before {
            h.disconnect();
        }
    }
    assert_eq!(h.reasons(), vec![(R::Reconnecting, CONNECT_TEMPORARY_BROKEN), (R::ReconnectFailed, RETRY_TIMEOUT)]);
}

#[test]
fn duplicate_login_and_admin_kicks_are_final() {
    for (code, msg) in [(KICKED_OUT_DUPLICATE_LOGIN, ""), (MANUAL_KICKED_OUT, "bye \"host\"")] {
        let mut h = H::new(RoomMode::SingleRoom);
        h.join("r1", "alice", RoomConfig::default(), &[]);
        h.clear();
        h.frame(ServerMsg::Kicked { code, message: msg.into() });
        assert_eq!(h.reasons(), vec![(R::KickOut, code)]);
        assert_eq!(h.legacy(), vec![(RoomState::Disconnected, code)]);
        let ext = match &h.events[0] {
            Event::RoomStateChanged { extended_data, .. } => extended_data.clone(),
            _ => unreachable!(),
        };
        let v: serde_json::Value = serde_json::from_str(&ext).unwrap();
        assert_eq!(v["custom_kickout_message"], msg);
        assert!(h.closed.contains(&h.last_conn()));
        h.disconnect(); // the server closes after the kick: ignored
        let (connects, events) = (h.connects.len(), h.events.len());
        h.advance(Duration::from_secs(3600));
        assert_eq!((h.connects.len(), h.events.len()), (connects, events), "no attempt after KickOut");
        assert!(h.core.active_rooms().is_empty());
    }
}

#[test]
fn logout_and_logout_failed() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.join("r1", "alice", RoomConfig::default(), &[]);
    h.clear();
    let conn = h.last_conn();
    let seq = h.core.logout_room(Some("r1"), h.now).unwrap();
    h.pump();
    assert_eq!(h.reasons(), vec![(R::Logout, 0)]);
    assert_eq!(h.legacy(), vec![(RoomState::Disconnected, 0)]);
    assert_eq!(h.sent, vec![(conn, ClientMsg::Logout { destroyed: false })], "the server is told");
    assert!(h.closed.contains(&conn));
    assert!(h.events.contains(&Event::RoomLogoutResult { error_code: 0, extended_data: "{}".into(), room_id: "r1".into(), seq }));
    h.clear();
    let seq = h.core.logout_room(Some("nowhere"), h.now).unwrap();
    h.pump();
    assert_eq!(h.reasons(), vec![(R::LogoutFailed, ROOM_ID_INCORRECT)]);
    assert!(h.legacy().is_empty(), "LogoutFailed has no legacy event");
    assert!(h.events.contains(&Event::RoomLogoutResult {
        error_code: ROOM_ID_INCORRECT,
        extended_data: "{}".into(),
        room_id: "nowhere".into(),
        seq
    }));
    assert_eq!(h.core.poll_timeout(), None);
}

#[test]
fn logout_during_login_settles_the_login() {
    let mut h = H::new(RoomMode::SingleRoom);
    let seq = h.login("r1", "alice", RoomConfig::default());
    h.core.logout_room(None, h.now).unwrap();
    h.pump();
    assert!(h.events.iter().any(|e| matches!(e, Event::RoomLoginResult { error_code: DISCONNECT, seq: s, .. } if *s == seq)));
    assert_eq!(h.reasons(), vec![(R::Logining, 0), (R::Logout, 0)]);
}

// ---- §1.3 modes --------------------------------------------------------------------------------

#[test]
fn single_room_mode_refuses_a_second_login_without_events() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.join("r1", "alice", RoomConfig::default(), &[]);
    h.clear();
    assert_eq!(h.core.login_room("r2", &user("alice"), None, h.now), Err(ROOM_COUNT_EXCEED));
    assert_eq!(h.core.login_room("r1", &user("alice"), None, h.now), Err(ROOM_COUNT_EXCEED));
    h.pump();
    assert!(h.events.is_empty() && h.sent.is_empty());
    assert_eq!(h.core.switch_room("r1", "r2", None, h.now), Ok(()));
}

#[test]
fn multi_room_mode_limits() {
    let mut h = H::new(RoomMode::MultiRoom);
    for i in 0..5 {
        h.join(&format!("r{i}"), "alice", RoomConfig::default(), &[]);
    }
    assert_eq!(h.core.active_rooms().len(), 5);
    h.clear();
    assert_eq!(h.core.login_room("r5", &user("alice"), None, h.now), Err(MULTI_ROOM_COUNT_EXCEED));
    assert_eq!(h.core.login_room("r0", &user("alice"), None, h.now), Err(ROOM_COUNT_EXCEED));
    assert_eq!(h.core.switch_room("r0", "r9", None, h.now), Err(SWITCH_ROOM_IN_MULTI_ROOM));
    h.core.logout_room(Some("r4"), h.now).unwrap();
    assert_eq!(h.core.login_room("r5", &user("bob"), None, h.now), Err(MULTI_ROOM_DIFFERENT_USER));
    h.pump();
    h.clear();
    let seq = h.core.logout_room(None, h.now).unwrap();
    h.pump();
    let results: Vec<_> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::RoomLogoutResult { room_id, seq: s, error_code: 0, .. } if *s == seq => Some(room_id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(results, vec!["r0", "r1", "r2", "r3"], "one logout_result per room, with its id");
    assert_eq!(h.reasons(), vec![(R::Logout, 0); 4]);
}

#[test]
fn switch_room_is_logout_then_login_reusing_the_config() {
    let mut h = H::new(RoomMode::SingleRoom);
    let cfg = RoomConfig { token: "tok-a".into(), is_user_status_notify: true, max_member_count: 3 };
    h.join("r1", "alice", cfg, &[]);
    h.clear();
    h.core.switch_room("r1", "r2", None, h.now).unwrap();
    h.pump();
    let rooms: Vec<(R, String)> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::RoomStateChanged { reason, room_id, .. } => Some((*reason, room_id.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(rooms, vec![(R::Logout, "r1".into()), (R::Logining, "r2".into())]);
    assert_eq!(h.legacy(), vec![(RoomState::Disconnected, 0), (RoomState::Connecting, 0)]);
    match h.connected() {
        ClientMsg::Login { room_id, token, max_member_count, user_status_notify, .. } => {
            assert_eq!((room_id.as_str(), token.as_str(), max_member_count, user_status_notify), ("r2", "tok-a", 3, true))
        }
        _ => unreachable!(),
    }
    h.login_ok(&[], 1, false);
    assert_eq!(h.reasons().last(), Some(&(R::Logined, 0)));
    assert!(!h.events.iter().any(|e| matches!(e, Event::RoomLoginResult { .. } | Event::RoomLogoutResult { .. })));
    // Unknown source room: LogoutFailed, nothing joined.
    h.clear();
    h.core.switch_room("zz", "r3", None, h.now).unwrap();
    h.pump();
    assert_eq!(h.reasons(), vec![(R::LogoutFailed, ROOM_ID_INCORRECT)]);
    assert!(h.connects.len() == 2);
}

// ---- §1.4 input limits -------------------------------------------------------------------------

#[test]
fn bad_input_returns_codes_and_changes_nothing() {
    let mut h = H::new(RoomMode::SingleRoom);
    let long = |n| "a".repeat(n);
    let cases: Vec<(String, User, i32)> = vec![
        ("".into(), user("u"), ROOM_ID_EMPTY),
        ("r 1".into(), user("u"), ROOM_ID_ILLEGAL_CHAR),
        (long(128), user("u"), ROOM_ID_TOO_LONG),
        ("r".into(), user(""), USER_ID_EMPTY),
        ("r".into(), user("u u"), USER_ID_ILLEGAL_CHAR),
        ("r".into(), user(&long(64)), USER_ID_TOO_LONG),
        ("r".into(), User::new("u", long(256)), USER_NAME_TOO_LONG),
    ];
    for (room, u, code) in cases {
        assert_eq!(h.core.login_room(&room, &u, None, h.now), Err(code), "{room:?} {u:?}");
    }
    assert_eq!(h.core.logout_room(Some(""), h.now), Err(ROOM_ID_EMPTY));
    assert_eq!(h.core.renew_token("r", "t", h.now), Err(ROOM_ID_INCORRECT));
    assert_eq!(h.core.renew_token("", "t", h.now), Err(ROOM_ID_EMPTY));
    assert_eq!(h.core.switch_room("r", "bad room", None, h.now), Err(ROOM_ID_ILLEGAL_CHAR));
    h.pump();
    assert!(h.events.is_empty() && h.connects.is_empty() && h.sent.is_empty());
    assert!(h.core.active_rooms().is_empty());
}

// ---- §1.2 presence -----------------------------------------------------------------------------

#[test]
fn user_updates_first_snapshot_then_changes_never_self() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.join("r1", "alice", notify(), &["bob", "carol", "alice"]);
    assert_eq!(h.user_updates(), vec![(UpdateType::Add, vec!["bob".into(), "carol".into()])]);
    let bob = h.events.iter().find_map(|e| match e {
        Event::RoomUserUpdate { users, .. } => Some(users[0].clone()),
        _ => None,
    });
    assert_eq!(bob.unwrap().user_name, "name-bob", "user names as given at login");
    h.clear();
    h.frame(ServerMsg::UserUpdate { update: UserUpdateKind::Add, users: vec![User::new("dave", "d"), User::new("bob", "name-bob")] });
    h.frame(ServerMsg::UserUpdate { update: UserUpdateKind::Delete, users: vec![User::new("carol", "c"), User::new("zed", "z")] });
    h.frame(ServerMsg::UserUpdate { update: UserUpdateKind::Add, users: vec![User::new("alice", "a")] });
    assert_eq!(
        h.user_updates(),
        vec![(UpdateType::Add, vec!["dave".into()]), (UpdateType::Delete, vec!["carol".into()])],
        "no duplicates, never the local user"
    );
    // The same user under a new name (§1.6): Delete (old name) then Add (new name).
    h.clear();
    h.frame(ServerMsg::UserUpdate { update: UserUpdateKind::Add, users: vec![User::new("bob", "bob-2")] });
    let updates: Vec<(UpdateType, Vec<User>)> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::RoomUserUpdate { update_type, users, .. } => Some((*update_type, users.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(updates, vec![(UpdateType::Delete, vec![User::new("bob", "name-bob")]), (UpdateType::Add, vec![User::new("bob", "bob-2")])]);
}

#[test]
fn reconnect_delivers_exactly_the_missed_difference() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.join("r1", "alice", notify(), &["bob", "carol"]);
    h.clear();
    h.disconnect();
    h.advance(Duration::from_millis(500));
    h.connected();
    h.login_ok(&["carol", "dave"], 3, true);
    // Reconnected first, then the difference.
    let first_update = h.events.iter().position(|e| matches!(e, Event::RoomUserUpdate { .. })).unwrap();
    let reconnected = h.events.iter().position(|e| matches!(e, Event::RoomStateChanged { reason: R::Reconnected, .. })).unwrap();
    assert!(reconnected < first_update);
    assert_eq!(h.user_updates(), vec![(UpdateType::Delete, vec!["bob".into()]), (UpdateType::Add, vec!["dave".into()])]);
}

#[test]
fn no_user_updates_without_status_notify() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.join("r1", "alice", RoomConfig::default(), &["bob"]);
    h.frame(ServerMsg::UserUpdate { update: UserUpdateKind::Add, users: vec![User::new("dave", "d")] });
    assert!(h.user_updates().is_empty());
}

#[test]
fn online_count_after_logined_and_on_change() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.join("r1", "alice", RoomConfig::default(), &["bob"]);
    h.frame(ServerMsg::UserCount { count: 2 });
    h.frame(ServerMsg::UserCount { count: 3 });
    let counts: Vec<i32> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::RoomOnlineUserCountUpdate { count, .. } => Some(*count),
            _ => None,
        })
        .collect();
    assert_eq!(counts, vec![2, 3]);
}

// ---- tokens ------------------------------------------------------------------------------------

fn token_warnings(h: &H) -> Vec<(i32, Duration)> {
    h.events
        .iter()
        .filter_map(|e| match e {
            Event::RoomTokenWillExpire { remain_time_in_second, .. } => Some((*remain_time_in_second, Duration::ZERO)),
            _ => None,
        })
        .collect()
}

#[test]
fn token_warning_fires_once_30_s_before_expiry_and_renew_rearms_it() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.login("r1", "alice", RoomConfig { token: "t1".into(), ..Default::default() });
    h.connected();
    h.login_ok_with_token(100);
    let logined = h.now;
    let mut fired_at = None;
    while h.now - logined < Duration::from_secs(90) {
        h.advance(Duration::from_millis(100));
        h.frame(ServerMsg::Pong);
        if fired_at.is_none() && !token_warnings(&h).is_empty() {
            fired_at = Some(h.now - logined);
        }
    }
    assert_eq!(token_warnings(&h).len(), 1, "fires once");
    assert_eq!(token_warnings(&h)[0].0, 30);
    let at = fired_at.unwrap();
    assert!(at >= Duration::from_secs(70) && at <= Duration::from_millis(70_100), "{at:?}");
    h.clear();
    h.core.renew_token("r1", "t2", h.now).unwrap();
    h.pump();
    assert_eq!(h.sent, vec![(h.last_conn(), ClientMsg::RenewToken { token: "t2".into() })]);
    h.frame(ServerMsg::TokenRenewed { code: 0, token_remaining_secs: Some(10) });
    assert_eq!(token_warnings(&h).iter().map(|w| w.0).collect::<Vec<_>>(), vec![10], "re-armed; fires at once when less remains");
}

#[test]
fn token_arriving_with_little_time_left_warns_at_once() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.login("r1", "alice", RoomConfig { token: "t".into(), ..Default::default() });
    h.connected();
    h.login_ok_with_token(12);
    assert_eq!(token_warnings(&h).iter().map(|w| w.0).collect::<Vec<_>>(), vec![12]);
}

// ---- shutdown ----------------------------------------------------------------------------------

#[test]
fn shutdown_says_goodbye_without_events() {
    let mut h = H::new(RoomMode::SingleRoom);
    h.join("r1", "alice", RoomConfig::default(), &[]);
    h.clear();
    h.core.shutdown();
    h.pump();
    assert!(h.events.is_empty());
    assert_eq!(h.sent, vec![(h.last_conn(), ClientMsg::Logout { destroyed: true })]);
    assert_eq!(h.core.poll_timeout(), None);
}

/// Contract §8: a comma-separated server list; the first attempt uses the first URL (trimmed),
/// each new attempt (a failed one, a reconnect) the next one, wrapping around; a room keeps its
/// session (and room_session_id) when it resumes on another server.
#[test]
fn each_attempt_moves_to_the_next_server_of_the_list() {
    let mut h = H::with_server(RoomMode::SingleRoom, " ws://a:1 ,ws://b:2, ws://c:3");
    h.login("r", "u", notify());
    assert_eq!(h.urls, vec!["ws://a:1"], "first attempt on the first URL, trimmed");
    // The first attempt fails: the next one goes to b (within 0.5 s), then c, then a again.
    h.disconnect();
    h.advance(Duration::from_millis(500));
    assert_eq!(h.urls, vec!["ws://a:1", "ws://b:2"]);
    h.disconnect();
    h.advance(Duration::from_secs(5));
    h.disconnect();
    h.advance(Duration::from_secs(5));
    assert_eq!(h.urls, vec!["ws://a:1", "ws://b:2", "ws://c:3", "ws://a:1"]);
    // A server that cannot take the login now (its store is down): retried on the next URL,
    // still Logining, no LoginFailed.
    h.connected();
    h.frame(ServerMsg::LoginRetry { code: INNER_ERROR, message: "room store: Redis unreachable".into() });
    h.advance(Duration::from_secs(5));
    assert_eq!(h.urls.last().map(String::as_str), Some("ws://b:2"));
    assert!(!h.events.iter().any(|e| matches!(e, Event::RoomStateChanged { reason: R::LoginFailed, .. })), "{:?}", h.events);
    h.connected();
    h.login_ok(&[], 1, false);
    assert!(h.events.iter().any(|e| matches!(e, Event::RoomStateChanged { reason: R::Logined, .. })));
    // Its server dies: the reconnect goes to c and resumes the same session there.
    h.disconnect();
    h.advance(Duration::from_millis(500));
    assert_eq!(h.urls.last().map(String::as_str), Some("ws://c:3"));
    match h.connected() {
        ClientMsg::Login { resume_session_id, .. } => assert_eq!(resume_session_id.as_deref(), Some("sess-1")),
        m => panic!("{m:?}"),
    }
    h.login_ok(&[], 1, true);
    let reconnected = h.events.iter().rev().find_map(|e| match e {
        Event::RoomStateChanged { reason: R::Reconnected, extended_data, .. } => Some(extended_data.clone()),
        _ => None,
    });
    assert_eq!(reconnected.as_deref(), Some(r#"{"room_session_id":"rs-1"}"#));
    // A new login_room starts again from the first URL.
    h.core.logout_room(Some("r"), h.now).unwrap();
    h.pump();
    h.login("r2", "u", notify());
    assert_eq!(h.urls.last().map(String::as_str), Some("ws://a:1"));
}
