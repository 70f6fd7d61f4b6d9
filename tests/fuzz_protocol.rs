//! Property-based fuzzing of the server's frame decoder and of the pure presence logic (`Hub`).
//!
//! Stable-Rust stand-in for cargo-fuzz (see `docs/fuzzing.md`). Case counts default low so the
//! normal test run stays fast; `PROPTEST_CASES=N` runs every property here N times.
//!
//! * `decode_*`: `ClientMsg::decode` / `ServerMsg::decode` never panic on arbitrary text or on
//!   mutated valid frames; valid messages round-trip; whatever decodes re-encodes to itself.
//! * `hub_*`: random operation sequences (logins, resumes, pings, renews, logouts, raw frames,
//!   closes, kicks, ticks, virtual time) over a few connections, rooms and users, checked after
//!   every step against a reference model of the presence rules.
#![cfg(feature = "server")]

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use zego_room::error_codes as ec;
use zego_room::protocol::{ClientMsg, ServerMsg, UserUpdateKind, PROTOCOL_VERSION};
use zego_room::server::hub::{Hub, HubConfig, Out, TOMBSTONE_TTL};
use zego_room::token04;
use zego_room::User;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn config(default: u32) -> ProptestConfig {
    ProptestConfig { cases: cases(default), max_shrink_iters: 2048, ..ProptestConfig::default() }
}

fn corpus(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/corpus/{name}", env!("CARGO_MANIFEST_DIR"))).expect("corpus file")
}

/// Corpus lines that are not comments or blank.
fn corpus_lines(name: &str) -> Vec<String> {
    corpus(name).lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).map(str::to_owned).collect()
}

// ---------------------------------------------------------------------------------------------
// Decoder
// ---------------------------------------------------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,64}",
        // JSON-ish soup: braces, quotes, tags, numbers.
        proptest::collection::vec(
            prop_oneof![
                Just("{".to_owned()),
                Just("}".to_owned()),
                Just("\"t\":".to_owned()),
                Just("\"login\"".to_owned()),
                Just("\"ping\"".to_owned()),
                Just("\"renew_token\"".to_owned()),
                Just("\"token\":".to_owned()),
                Just(",".to_owned()),
                Just("null".to_owned()),
                Just("[".to_owned()),
                Just("]".to_owned()),
                Just("\\u0000".to_owned()),
                Just("\\ud800".to_owned()),
                Just("1e999".to_owned()),
                Just("-1".to_owned()),
                Just("4294967296".to_owned()),
                "\"[a-z_]{0,8}\"",
                any::<u32>().prop_map(|n| n.to_string()),
            ],
            0..24
        )
        .prop_map(|v| v.concat()),
    ]
}

fn small_string() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-z0-9]{0,8}", Just(String::new())]
}

fn client_msg() -> impl Strategy<Value = ClientMsg> {
    prop_oneof![
        (
            any::<u32>(),
            any::<u32>(),
            small_string(),
            small_string(),
            small_string(),
            small_string(),
            any::<u32>(),
            any::<bool>(),
            proptest::option::of(small_string())
        )
            .prop_map(|(v, app_id, room_id, user_id, user_name, token, max_member_count, user_status_notify, resume_session_id)| {
                ClientMsg::Login { v, app_id, room_id, user_id, user_name, token, max_member_count, user_status_notify, resume_session_id }
            }),
        Just(ClientMsg::Ping),
        Just(ClientMsg::Logout),
        small_string().prop_map(|token| ClientMsg::RenewToken { token }),
    ]
}

fn user() -> impl Strategy<Value = User> {
    (small_string(), small_string()).prop_map(|(a, b)| User::new(a, b))
}

fn server_msg() -> impl Strategy<Value = ServerMsg> {
    let kind = prop_oneof![Just(UserUpdateKind::Add), Just(UserUpdateKind::Delete)];
    prop_oneof![
        (
            small_string(),
            small_string(),
            any::<bool>(),
            proptest::collection::vec(user(), 0..4),
            any::<u32>(),
            any::<u64>(),
            proptest::option::of(any::<i64>())
        )
            .prop_map(|(session_id, room_session_id, resumed, users, user_count, ping_interval_ms, token_remaining_secs)| {
                ServerMsg::LoginOk { session_id, room_session_id, resumed, users, user_count, ping_interval_ms, token_remaining_secs }
            }),
        (any::<i32>(), small_string()).prop_map(|(code, message)| ServerMsg::LoginFailed { code, message }),
        Just(ServerMsg::Pong),
        (kind, proptest::collection::vec(user(), 0..4)).prop_map(|(update, users)| ServerMsg::UserUpdate { update, users }),
        any::<u32>().prop_map(|count| ServerMsg::UserCount { count }),
        (any::<i32>(), small_string()).prop_map(|(code, message)| ServerMsg::Kicked { code, message }),
        (any::<i32>(), proptest::option::of(any::<i64>()))
            .prop_map(|(code, token_remaining_secs)| ServerMsg::TokenRenewed { code, token_remaining_secs }),
        (any::<i32>(), small_string()).prop_map(|(code, message)| ServerMsg::Error { code, message }),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    /// XOR one byte (the result may be invalid UTF-8: then it is lossily repaired).
    Flip(usize, u8),
    Insert(usize, String),
    Delete(usize, usize),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(i, x)| Mutation::Flip(i, x)),
        (any::<usize>(), text()).prop_map(|(i, s)| Mutation::Insert(i, s)),
        (any::<usize>(), 1usize..16).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..32).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn mutate_bytes(mut b: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let len = b.len();
        match m {
            Mutation::Flip(i, x) if len > 0 => b[i % len] ^= x,
            Mutation::Insert(i, s) => {
                let at = i % (len + 1);
                b.splice(at..at, s.bytes());
            }
            Mutation::Delete(i, n) if len > 0 => {
                let at = i % len;
                b.drain(at..(at + n).min(len));
            }
            Mutation::Truncate(i) => b.truncate(i % (len + 1)),
            Mutation::Duplicate(i, n) if len > 0 => {
                let at = i % len;
                let chunk = b[at..(at + n).min(len)].to_vec();
                b.splice(at..at, chunk);
            }
            _ => {}
        }
    }
    b
}

fn mutate_text(s: &str, muts: &[Mutation]) -> String {
    String::from_utf8_lossy(&mutate_bytes(s.as_bytes().to_vec(), muts)).into_owned()
}

/// Whatever decodes must re-encode and decode to the same message.
fn check_decode_client(text: &str) {
    if let Ok(m) = ClientMsg::decode(text) {
        let again = m.encode();
        assert_eq!(ClientMsg::decode(&again).as_ref(), Ok(&m), "re-encode of {text:?} is {again:?}");
    }
}

fn check_decode_server(text: &str) {
    if let Ok(m) = ServerMsg::decode(text) {
        let again = m.encode();
        assert_eq!(ServerMsg::decode(&again).as_ref(), Ok(&m), "re-encode of {text:?} is {again:?}");
    }
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn decode_arbitrary_text_never_panics(s in text()) {
        check_decode_client(&s);
        check_decode_server(&s);
    }

    #[test]
    fn client_msg_round_trips(m in client_msg()) {
        let t = m.encode();
        prop_assert!(t.len() < 16 * 1024 * 8);
        prop_assert_eq!(ClientMsg::decode(&t), Ok(m));
    }

    #[test]
    fn server_msg_round_trips(m in server_msg()) {
        prop_assert_eq!(ServerMsg::decode(&m.encode()), Ok(m));
    }

    #[test]
    fn mutated_client_frames_never_panic(m in client_msg(), muts in proptest::collection::vec(mutation(), 1..6)) {
        let t = mutate_text(&m.encode(), &muts);
        check_decode_client(&t);
        check_decode_server(&t);
    }

    #[test]
    fn mutated_server_frames_never_panic(m in server_msg(), muts in proptest::collection::vec(mutation(), 1..6)) {
        let t = mutate_text(&m.encode(), &muts);
        check_decode_server(&t);
        check_decode_client(&t);
    }

    #[test]
    fn mutated_corpus_frames_never_panic(i in any::<usize>(), muts in proptest::collection::vec(mutation(), 1..8)) {
        let frames = corpus_lines("frames.txt");
        let t = mutate_text(&frames[i % frames.len()], &muts);
        check_decode_client(&t);
        check_decode_server(&t);
    }
}

#[test]
fn decode_corpus_and_fixed_cases() {
    // Every corpus frame is valid and round-trips; it is also fed to both decoders.
    for line in corpus_lines("frames.txt") {
        let decoded = ClientMsg::decode(&line).map(|m| m.encode()).or_else(|_| ServerMsg::decode(&line).map(|m| m.encode()));
        let again = decoded.unwrap_or_else(|e| panic!("corpus frame {line:?} does not decode: {e}"));
        check_decode_client(&again);
        check_decode_server(&again);
    }
    let deep_array = "[".repeat(100_000);
    let deep_object = "{\"t\":".repeat(50_000);
    let fixed: Vec<String> = vec![
        String::new(),
        "{}".into(),
        "null".into(),
        r#"{"t":"login"}"#.into(),
        r#"{"t":"login","v":1,"app_id":1,"room_id":"r","user_id":"u","user_name":"","resume_session_id":null}"#.into(),
        r#"{"t":"login","v":-1,"app_id":1,"room_id":"r","user_id":"u","user_name":""}"#.into(),
        r#"{"t":"login","v":4294967296,"app_id":1,"room_id":"r","user_id":"u","user_name":""}"#.into(),
        r#"{"t":"ping","t":"ping"}"#.into(),
        r#"{"t":"renew_token","token":"\ud800"}"#.into(),
        r#"{"t":"renew_token","token":"a\u0000b"}"#.into(),
        r#"{"t":"token_renewed","code":0,"token_remaining_secs":1e400}"#.into(),
        deep_array,
        deep_object,
    ];
    for t in &fixed {
        check_decode_client(t);
        check_decode_server(t);
    }
    // Unknown fields are ignored, duplicate tags refused: the contract of the current decoder.
    assert_eq!(ClientMsg::decode(r#"{"t":"ping","x":1}"#), Ok(ClientMsg::Ping));
    // A resume id given as null is the same as absent.
    assert!(matches!(
        ClientMsg::decode(&fixed[4]),
        Ok(ClientMsg::Login { resume_session_id: None, .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Hub
// ---------------------------------------------------------------------------------------------

const APP_ID: u32 = 1;
const SECRET: &str = "0123456789abcdef0123456789abcdef";
const UNIX0: i64 = 1_700_000_000;
const ROOMS: [&str; 3] = ["r0", "r1", "r2"];
const USERS: [&str; 3] = ["a", "b", "c"];
const MAX_CONN: u64 = 5;

#[derive(Debug, Clone, Copy)]
enum Tok {
    Empty,
    Valid,
    OtherUser,
    OtherRoom,
    Garbage,
}

#[derive(Debug, Clone)]
enum Resume {
    No,
    /// Index into the session ids learned so far (any of them, live or dead).
    Known(usize),
    Garbage(String),
}

#[derive(Debug, Clone)]
enum Bad {
    No,
    Version(u32),
    AppId(u32),
    EmptyRoom,
    LongUser,
    LongName,
}

#[derive(Debug, Clone)]
enum Op {
    Login { conn: u64, room: usize, user: usize, named: bool, notify: bool, max: u32, resume: Resume, bad: Bad, tok: Tok },
    Ping(u64),
    Logout(u64),
    Renew(u64, Tok),
    Touch(u64),
    Closed(u64),
    /// A raw text frame, decoded like the shell does (undecodable = dropped connection).
    Raw(u64, String),
    Advance(u64),
    Tick,
    Kick { room: usize, users: Vec<usize>, code: i32 },
}

fn tok() -> impl Strategy<Value = Tok> {
    prop_oneof![3 => Just(Tok::Valid), 1 => Just(Tok::Empty), 1 => Just(Tok::OtherUser), 1 => Just(Tok::OtherRoom), 1 => Just(Tok::Garbage)]
}

fn conn() -> impl Strategy<Value = u64> {
    1..=MAX_CONN
}

fn op(heartbeat_ms: u64) -> impl Strategy<Value = Op> {
    let resume = prop_oneof![
        3 => Just(Resume::No),
        4 => any::<usize>().prop_map(Resume::Known),
        1 => "[0-9a-f]{0,32}".prop_map(Resume::Garbage),
    ];
    let bad = prop_oneof![
        20 => Just(Bad::No),
        1 => any::<u32>().prop_filter("not the version", |v| *v != PROTOCOL_VERSION).prop_map(Bad::Version),
        1 => any::<u32>().prop_filter("not the app", |v| *v != APP_ID).prop_map(Bad::AppId),
        1 => Just(Bad::EmptyRoom),
        1 => Just(Bad::LongUser),
        1 => Just(Bad::LongName),
    ];
    let login = (conn(), 0..ROOMS.len(), 0..USERS.len(), any::<bool>(), any::<bool>(), prop_oneof![3 => Just(0u32), 1 => 1u32..4], resume, bad, tok())
        .prop_map(|(conn, room, user, named, notify, max, resume, bad, tok)| Op::Login { conn, room, user, named, notify, max, resume, bad, tok });
    let raw_frame = prop_oneof![
        text(),
        (client_msg(), proptest::collection::vec(mutation(), 0..3)).prop_map(|(m, muts)| mutate_text(&m.encode(), &muts)),
        (0..ROOMS.len(), 0..USERS.len(), any::<bool>()).prop_map(|(r, u, notify)| {
            ClientMsg::Login {
                v: PROTOCOL_VERSION,
                app_id: APP_ID,
                room_id: ROOMS[r].into(),
                user_id: USERS[u].into(),
                user_name: String::new(),
                token: String::new(),
                max_member_count: 0,
                user_status_notify: notify,
                resume_session_id: None,
            }
            .encode()
        }),
        Just(r#"{"t":"ping"}"#.to_owned()),
        Just(r#"{"t":"logout"}"#.to_owned()),
    ];
    prop_oneof![
        12 => login,
        6 => conn().prop_map(Op::Ping),
        2 => conn().prop_map(Op::Logout),
        2 => (conn(), tok()).prop_map(|(c, t)| Op::Renew(c, t)),
        1 => conn().prop_map(Op::Touch),
        2 => conn().prop_map(Op::Closed),
        2 => (conn(), raw_frame).prop_map(|(c, t)| Op::Raw(c, t)),
        6 => prop_oneof![0..=heartbeat_ms / 4, 0..=heartbeat_ms * 2, Just(heartbeat_ms), Just(TOMBSTONE_TTL.as_millis() as u64)].prop_map(Op::Advance),
        5 => Just(Op::Tick),
        2 => (0..ROOMS.len(), proptest::collection::vec(0..USERS.len() + 1, 0..4), prop_oneof![Just(ec::MANUAL_KICKED_OUT), any::<i32>()])
            .prop_map(|(room, users, code)| Op::Kick { room, users, code }),
    ]
}

#[derive(Debug, Clone)]
struct MSession {
    room: String,
    user: User,
    notify: bool,
    conn: Option<u64>,
    last_rx: u64,
}

#[derive(Debug, Clone)]
struct MRoom {
    max: u32,
    /// user id → session id
    members: HashMap<String, String>,
}

/// Reference model of the presence rules (contract §1.2, docs/protocol.md).
struct Model {
    secret: Option<String>,
    heartbeat_ms: u64,
    now_ms: u64,
    sessions: HashMap<String, MSession>,
    rooms: HashMap<String, MRoom>,
    attached: HashMap<u64, String>,
    /// session id → (when tombstoned, code, message)
    tombstones: HashMap<String, (u64, i32, String)>,
    opened: HashSet<u64>,
    /// Every session id ever handed out, for resumes.
    learned: Vec<String>,
    tokens: HashMap<(String, String, &'static str), String>,
}

/// What the model predicts for a frame.
#[derive(Debug, PartialEq)]
enum Expect {
    ErrorClose,
    LoginFailed(i32),
    KickedTomb(i32, String),
    Resumed(String),
    Fresh,
    Pong,
    Renewed(i32),
    /// A frame on an attached connection whose session is gone (must not happen).
    LogoutClose,
}

impl Model {
    fn token(&mut self, kind: Tok, room: &str, user: &str) -> String {
        let (u, payload): (&str, &'static str) = match kind {
            Tok::Empty => return String::new(),
            Tok::Garbage => return "04garbage".into(),
            Tok::Valid => (user, ""),
            Tok::OtherUser => ("zz", ""),
            Tok::OtherRoom => (user, "other"),
        };
        let key = (room.to_owned(), u.to_owned(), payload);
        self.tokens
            .entry(key)
            .or_insert_with(|| {
                let payload = if payload.is_empty() { String::new() } else { format!(r#"{{"room_id":"not-{room}","privilege":{{"1":1}}}}"#) };
                token04::generate_at(APP_ID, u, SECRET, 10 * 365 * 86400, &payload, UNIX0).unwrap()
            })
            .clone()
    }

    fn now_unix(&self) -> i64 {
        UNIX0 + (self.now_ms / 1000) as i64
    }

    fn token_ok(&self, token: &str, user: &str, room: &str) -> Result<i64, i32> {
        match &self.secret {
            None => Ok(0),
            Some(s) => token04::check_login(token, s, APP_ID, user, room, self.now_unix()).map(|i| i.expire),
        }
    }

    fn predict(&self, conn: u64, msg: &ClientMsg) -> Expect {
        match msg {
            ClientMsg::Login { v, app_id, room_id, user_id, user_name, token, resume_session_id, .. } => {
                if self.attached.contains_key(&conn) {
                    return Expect::ErrorClose;
                }
                if *v != PROTOCOL_VERSION {
                    return Expect::LoginFailed(ec::INNER_ERROR);
                }
                if *app_id != APP_ID {
                    return Expect::LoginFailed(ec::AUTHENTICATION_FAILED);
                }
                if room_id.is_empty() || room_id.len() > 127 || user_id.is_empty() || user_id.len() > 63 || user_name.len() > 255 {
                    return Expect::LoginFailed(ec::ILLEGAL_PARAM);
                }
                if let Some(rsid) = resume_session_id {
                    if let Some((_, code, message)) = self.tombstones.get(rsid) {
                        return Expect::KickedTomb(*code, message.clone());
                    }
                    if self.sessions.get(rsid).is_some_and(|s| &s.room == room_id && &s.user.user_id == user_id) {
                        return Expect::Resumed(rsid.clone());
                    }
                }
                if let Err(code) = self.token_ok(token, user_id, room_id) {
                    return Expect::LoginFailed(code);
                }
                if let Some(r) = self.rooms.get(room_id) {
                    if !r.members.contains_key(user_id) && r.max > 0 && r.members.len() as u32 >= r.max {
                        return Expect::LoginFailed(ec::ROOM_FULL);
                    }
                }
                Expect::Fresh
            }
            _ => {
                let Some(sid) = self.attached.get(&conn) else { return Expect::ErrorClose };
                let Some(s) = self.sessions.get(sid) else { return Expect::LogoutClose };
                match msg {
                    ClientMsg::Ping => Expect::Pong,
                    ClientMsg::Logout => Expect::LogoutClose,
                    ClientMsg::RenewToken { token } => match &self.secret {
                        None => Expect::Renewed(0),
                        Some(secret) => Expect::Renewed(
                            token04::check_login(token, secret, APP_ID, &s.user.user_id, &s.room, self.now_unix()).map_or_else(|c| c, |_| 0),
                        ),
                    },
                    ClientMsg::Login { .. } => unreachable!(),
                }
            }
        }
    }

    /// Conns that would be told about `user` coming or going in `room`.
    fn notify_targets(&self, room: &str, except_user: &str) -> BTreeSet<u64> {
        let Some(r) = self.rooms.get(room) else { return BTreeSet::new() };
        r.members
            .iter()
            .filter(|(u, _)| u.as_str() != except_user)
            .filter_map(|(_, sid)| self.sessions.get(sid))
            .filter(|s| s.notify)
            .filter_map(|s| s.conn)
            .collect()
    }

    fn room_users(&self, room: &str, except: Option<&str>) -> Vec<User> {
        let Some(r) = self.rooms.get(room) else { return Vec::new() };
        let mut v: Vec<User> = r
            .members
            .iter()
            .filter(|(u, _)| Some(u.as_str()) != except)
            .map(|(_, sid)| self.sessions[sid].user.clone())
            .collect();
        v.sort();
        v
    }

    /// Removes a session; returns (its conn, the Delete targets).
    fn remove_session(&mut self, sid: &str) -> Option<(Option<u64>, BTreeSet<u64>, User)> {
        let s = self.sessions.remove(sid)?;
        if let Some(c) = s.conn {
            self.attached.remove(&c);
        }
        let mut targets = BTreeSet::new();
        if let Some(r) = self.rooms.get_mut(&s.room) {
            if r.members.get(&s.user.user_id).map(String::as_str) == Some(sid) {
                r.members.remove(&s.user.user_id);
            }
            if r.members.is_empty() {
                self.rooms.remove(&s.room);
            } else {
                targets = self.notify_targets(&s.room, &s.user.user_id);
            }
        }
        Some((s.conn, targets, s.user))
    }

    fn detach(&mut self, conn: u64) {
        if let Some(sid) = self.attached.remove(&conn) {
            if let Some(s) = self.sessions.get_mut(&sid) {
                if s.conn == Some(conn) {
                    s.conn = None;
                }
            }
        }
    }
}

fn sends_to(outs: &[Out], conn: u64) -> Vec<ServerMsg> {
    outs.iter()
        .filter_map(|o| match o {
            Out::Send(c, m) if *c == conn => Some(m.clone()),
            Out::Broadcast(cs, m) if cs.contains(&conn) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn broadcasts(outs: &[Out], pred: impl Fn(&ServerMsg) -> bool) -> Vec<(BTreeSet<u64>, ServerMsg)> {
    outs.iter()
        .filter_map(|o| match o {
            Out::Broadcast(cs, m) if pred(m) => Some((cs.iter().copied().collect(), m.clone())),
            _ => None,
        })
        .collect()
}

fn update_of(kind: UserUpdateKind, u: &User) -> ServerMsg {
    ServerMsg::UserUpdate { update: kind, users: vec![u.clone()] }
}

struct Sim {
    hub: Hub,
    m: Model,
    t0: Instant,
    step: usize,
}

impl Sim {
    fn new(secret: bool, heartbeat_ms: u64, count_ms: u64) -> Sim {
        let secret = secret.then(|| SECRET.to_owned());
        let cfg = HubConfig {
            app_id: APP_ID,
            server_secret: secret.clone(),
            heartbeat_timeout: Duration::from_millis(heartbeat_ms),
            ping_interval: Duration::from_millis(1000),
            count_interval: Duration::from_millis(count_ms),
        };
        Sim {
            hub: Hub::new(cfg),
            m: Model {
                secret,
                heartbeat_ms,
                now_ms: 0,
                sessions: HashMap::new(),
                rooms: HashMap::new(),
                attached: HashMap::new(),
                tombstones: HashMap::new(),
                opened: HashSet::new(),
                learned: Vec::new(),
                tokens: HashMap::new(),
            },
            t0: Instant::now(),
            step: 0,
        }
    }

    fn now(&self) -> Instant {
        self.t0 + Duration::from_millis(self.m.now_ms)
    }

    fn check_outs_generic(&self, outs: &[Out], attached_before: &HashSet<u64>) -> Result<(), String> {
        let mut closed = HashSet::new();
        for o in outs {
            let conns: Vec<u64> = match o {
                Out::Send(c, _) | Out::Close(c) => vec![*c],
                Out::Broadcast(cs, _) => cs.clone(),
            };
            for c in &conns {
                if !self.m.opened.contains(c) {
                    return Err(format!("out {o:?} addresses conn {c} that was never opened"));
                }
                if closed.contains(c) {
                    return Err(format!("out {o:?} after Close({c})"));
                }
            }
            match o {
                Out::Close(c) => {
                    closed.insert(*c);
                }
                Out::Broadcast(cs, _) => {
                    if cs.is_empty() {
                        return Err("empty broadcast".into());
                    }
                    let set: HashSet<_> = cs.iter().collect();
                    if set.len() != cs.len() {
                        return Err(format!("duplicate broadcast target in {o:?}"));
                    }
                    if let Some(c) = cs.iter().find(|c| !attached_before.contains(c)) {
                        return Err(format!("broadcast to conn {c} that was not attached: {o:?}"));
                    }
                }
                Out::Send(..) => {}
            }
        }
        Ok(())
    }

    /// One client frame through the hub and the model.
    fn frame(&mut self, conn: u64, msg: ClientMsg) -> Result<(), String> {
        let attached_before: HashSet<u64> = self.m.attached.keys().copied().collect();
        let expect = self.m.predict(conn, &msg);
        // What the model needs from before the step.
        let (room_id, user) = match &msg {
            ClientMsg::Login { room_id, user_id, user_name, .. } => {
                (room_id.clone(), User::new(user_id.clone(), if user_name.is_empty() { user_id.clone() } else { user_name.clone() }))
            }
            _ => (String::new(), User::new("", "")),
        };
        let add_targets = self.m.notify_targets(&room_id, &user.user_id);
        let (notify, max) = match &msg {
            ClientMsg::Login { user_status_notify, max_member_count, .. } => (*user_status_notify, *max_member_count),
            _ => (false, 0),
        };
        let now = self.now();
        let now_unix = self.m.now_unix();
        self.m.opened.insert(conn);
        let outs = self.hub.frame(conn, msg.clone(), now, now_unix);
        self.check_outs_generic(&outs, &attached_before)?;
        let to_me = sends_to(&outs, conn);
        let err = |what: &str| format!("{what}: expected {expect:?} for {msg:?} on conn {conn}, got {outs:?}");
        match &expect {
            Expect::ErrorClose => {
                if !(matches!(to_me.as_slice(), [ServerMsg::Error { code: ec::INNER_ERROR, .. }]) && outs.len() == 2 && outs[1] == Out::Close(conn)) {
                    return Err(err("error+close"));
                }
                self.m.detach(conn);
            }
            Expect::LoginFailed(code) => {
                if !(matches!(to_me.as_slice(), [ServerMsg::LoginFailed { code: c, .. }] if c == code) && outs.len() == 2 && outs[1] == Out::Close(conn)) {
                    return Err(err("login_failed"));
                }
            }
            Expect::KickedTomb(code, message) => {
                if outs != vec![Out::Send(conn, ServerMsg::Kicked { code: *code, message: message.clone() }), Out::Close(conn)] {
                    return Err(err("tombstoned resume"));
                }
            }
            Expect::Resumed(sid) => {
                let Some(ServerMsg::LoginOk { session_id, resumed: true, .. }) = to_me.first() else { return Err(err("resume")) };
                if session_id != sid || to_me.len() != 1 {
                    return Err(err("resume id"));
                }
                let s = self.m.sessions.get_mut(sid).unwrap();
                let old = s.conn.replace(conn);
                s.last_rx = self.m.now_ms;
                let mut expected = Vec::new();
                if let Some(old) = old {
                    self.m.attached.remove(&old);
                    expected.push(Out::Close(old));
                }
                self.m.attached.insert(conn, sid.clone());
                expected.push(outs.last().unwrap().clone());
                if outs != expected {
                    return Err(err("resume outs"));
                }
                self.check_login_ok(&outs, conn, sid)?;
            }
            Expect::Fresh => {
                let Some(ServerMsg::LoginOk { session_id, resumed: false, .. }) = to_me.last() else { return Err(err("fresh login")) };
                let sid = session_id.clone();
                if self.m.sessions.contains_key(&sid) || self.m.learned.contains(&sid) {
                    return Err(err("session id reused"));
                }
                self.m.learned.push(sid.clone());
                let previous = self.m.rooms.get(&room_id).and_then(|r| r.members.get(&user.user_id).cloned());
                let mut expected: Vec<Out> = Vec::new();
                if let Some(old) = &previous {
                    let old_conn = self.m.sessions.get(old).and_then(|s| s.conn);
                    if let Some(c) = old_conn {
                        let kicked = ServerMsg::Kicked { code: ec::KICKED_OUT_DUPLICATE_LOGIN, message: zego_room::server::hub::DUPLICATE_LOGIN_MESSAGE.into() };
                        expected.push(Out::Send(c, kicked));
                        expected.push(Out::Close(c));
                        self.m.attached.remove(&c);
                    }
                    self.m.sessions.remove(old);
                    self.m.tombstones.insert(old.clone(), (self.m.now_ms, ec::KICKED_OUT_DUPLICATE_LOGIN, zego_room::server::hub::DUPLICATE_LOGIN_MESSAGE.into()));
                } else if !add_targets.is_empty() {
                    expected.push(Out::Broadcast(Vec::new(), update_of(UserUpdateKind::Add, &user)));
                }
                expected.push(outs.last().unwrap().clone());
                // Compare with broadcast targets as sets.
                let norm = |v: &[Out]| -> Vec<String> {
                    v.iter()
                        .map(|o| match o {
                            Out::Broadcast(_, m) => format!("B {m:?}"),
                            o => format!("{o:?}"),
                        })
                        .collect()
                };
                if norm(&outs) != norm(&expected) {
                    return Err(err("fresh login outs"));
                }
                for (targets, _) in broadcasts(&outs, |m| matches!(m, ServerMsg::UserUpdate { .. })) {
                    if targets != add_targets {
                        return Err(err(&format!("add targets {targets:?} != model {add_targets:?}")));
                    }
                }
                let room = self.m.rooms.entry(room_id.clone()).or_insert_with(|| MRoom { max, members: HashMap::new() });
                room.members.insert(user.user_id.clone(), sid.clone());
                self.m.sessions.insert(sid.clone(), MSession { room: room_id.clone(), user: user.clone(), notify, conn: Some(conn), last_rx: self.m.now_ms });
                self.m.attached.insert(conn, sid.clone());
                self.check_login_ok(&outs, conn, &sid)?;
            }
            Expect::Pong => {
                if outs != vec![Out::Send(conn, ServerMsg::Pong)] {
                    return Err(err("pong"));
                }
                let sid = self.m.attached[&conn].clone();
                self.m.sessions.get_mut(&sid).unwrap().last_rx = self.m.now_ms;
            }
            Expect::Renewed(code) => {
                let ok = matches!(to_me.as_slice(), [ServerMsg::TokenRenewed { code: c, token_remaining_secs }]
                    if c == code && (token_remaining_secs.is_some() == (*code == 0 && self.m.secret.is_some())));
                if !ok || outs.len() != 1 {
                    return Err(err("renew"));
                }
                let sid = self.m.attached[&conn].clone();
                self.m.sessions.get_mut(&sid).unwrap().last_rx = self.m.now_ms;
            }
            Expect::LogoutClose => {
                let sid = self.m.attached[&conn].clone();
                let room = self.m.sessions[&sid].room.clone();
                let (_, targets, u) = self.m.remove_session(&sid).ok_or_else(|| err("logout of unknown session"))?;
                self.m.attached.remove(&conn);
                let mut expected = Vec::new();
                if !targets.is_empty() {
                    expected.push(Out::Broadcast(targets.iter().copied().collect(), update_of(UserUpdateKind::Delete, &u)));
                }
                expected.push(Out::Close(conn));
                if !same_outs(&outs, &expected) {
                    return Err(err("logout"));
                }
                if self.hub.users(&room).iter().any(|x| x.user_id == u.user_id) {
                    return Err(err("logged-out user still listed"));
                }
            }
        }
        Ok(())
    }

    fn check_login_ok(&self, outs: &[Out], conn: u64, sid: &str) -> Result<(), String> {
        let s = &self.m.sessions[sid];
        let Some(ServerMsg::LoginOk { users, user_count, ping_interval_ms, token_remaining_secs, .. }) = sends_to(outs, conn).pop() else {
            return Err("no login_ok".into());
        };
        let expected_users = if s.notify { self.m.room_users(&s.room, Some(&s.user.user_id)) } else { Vec::new() };
        if users != expected_users {
            return Err(format!("login_ok users {users:?} != model {expected_users:?}"));
        }
        let n = self.m.rooms[&s.room].members.len() as u32;
        if user_count != n || user_count != self.hub.user_count(&s.room) {
            return Err(format!("login_ok user_count {user_count} != model {n} / hub {}", self.hub.user_count(&s.room)));
        }
        if ping_interval_ms != 1000 {
            return Err("ping interval".into());
        }
        if token_remaining_secs.is_some() != self.m.secret.is_some() {
            return Err(format!("token_remaining_secs {token_remaining_secs:?}"));
        }
        Ok(())
    }

    fn tick(&mut self) -> Result<(), String> {
        let attached_before: HashSet<u64> = self.m.attached.keys().copied().collect();
        let outs = self.hub.tick(self.now());
        self.check_outs_generic(&outs, &attached_before)?;
        let now = self.m.now_ms;
        let mut expired: Vec<String> =
            self.m.sessions.iter().filter(|(_, s)| now >= s.last_rx + self.m.heartbeat_ms).map(|(id, _)| id.clone()).collect();
        expired.sort();
        let mut closes = BTreeSet::new();
        let mut deleted: Vec<User> = Vec::new();
        for sid in &expired {
            if let Some((conn, _, u)) = self.m.remove_session(sid) {
                closes.extend(conn);
                deleted.push(u);
            }
        }
        let actual_closes: BTreeSet<u64> = outs.iter().filter_map(|o| if let Out::Close(c) = o { Some(*c) } else { None }).collect();
        if actual_closes != closes {
            return Err(format!("tick closes {actual_closes:?}, model expects {closes:?} (expired {expired:?}); outs {outs:?}"));
        }
        // Every Delete names an expired user and goes to attached notify sessions of a room it was in.
        for (targets, m) in broadcasts(&outs, |m| matches!(m, ServerMsg::UserUpdate { .. })) {
            let ServerMsg::UserUpdate { update: UserUpdateKind::Delete, users } = &m else { return Err(format!("tick sent {m:?}")) };
            if users.len() != 1 || !deleted.contains(&users[0]) {
                return Err(format!("tick Delete of {users:?}, expired {deleted:?}"));
            }
            if let Some(c) = targets.iter().find(|c| !attached_before.contains(c)) {
                return Err(format!("Delete to unattached {c}"));
            }
        }
        // Counts: each target's room has exactly that many members now.
        for (targets, m) in broadcasts(&outs, |m| matches!(m, ServerMsg::UserCount { .. })) {
            let ServerMsg::UserCount { count } = m else { unreachable!() };
            for c in targets {
                let sid = self.m.attached.get(&c).ok_or_else(|| format!("UserCount to detached conn {c}"))?;
                let room = &self.m.sessions[sid].room;
                let n = self.m.rooms[room].members.len() as u32;
                if n != count {
                    return Err(format!("UserCount {count} to conn {c} in room {room} of {n}"));
                }
            }
        }
        if outs.iter().any(|o| matches!(o, Out::Send(..))) {
            return Err(format!("tick sent a direct message: {outs:?}"));
        }
        self.m.tombstones.retain(|_, (at, _, _)| now.saturating_sub(*at) < TOMBSTONE_TTL.as_millis() as u64);
        Ok(())
    }

    fn kick(&mut self, room: &str, users: &[&str], code: i32) -> Result<(), String> {
        let attached_before: HashSet<u64> = self.m.attached.keys().copied().collect();
        let outs = self.hub.kickout(room, users, code, "fuzz", self.now());
        self.check_outs_generic(&outs, &attached_before)?;
        let mut expected = Vec::new();
        for u in users {
            let Some(sid) = self.m.rooms.get(room).and_then(|r| r.members.get(*u)).cloned() else { continue };
            if let Some(c) = self.m.sessions[&sid].conn {
                expected.push(Out::Send(c, ServerMsg::Kicked { code, message: "fuzz".into() }));
                expected.push(Out::Close(c));
            }
            let (_, targets, user) = self.m.remove_session(&sid).unwrap();
            if !targets.is_empty() {
                expected.push(Out::Broadcast(targets.into_iter().collect(), update_of(UserUpdateKind::Delete, &user)));
            }
            self.m.tombstones.insert(sid, (self.m.now_ms, code, "fuzz".into()));
        }
        if !same_outs(&outs, &expected) {
            return Err(format!("kick {room} {users:?}: got {outs:?}, model {expected:?}"));
        }
        for u in users {
            if self.hub.users(room).iter().any(|x| x.user_id == *u) {
                return Err(format!("kicked user {u} still listed in {room}"));
            }
        }
        Ok(())
    }

    fn invariants(&self) -> Result<(), String> {
        let mut rooms: BTreeSet<String> = ROOMS.iter().map(|r| r.to_string()).collect();
        rooms.extend(self.m.rooms.keys().cloned());
        for room in &rooms {
            let users = self.hub.users(room);
            let ids: HashSet<&str> = users.iter().map(|u| u.user_id.as_str()).collect();
            if ids.len() != users.len() {
                return Err(format!("room {room}: a user listed twice: {users:?}"));
            }
            if users.len() as u32 != self.hub.user_count(room) {
                return Err(format!("room {room}: users {users:?} but user_count {}", self.hub.user_count(room)));
            }
            let model = self.m.room_users(room, None);
            if users != model {
                return Err(format!("room {room}: hub lists {users:?}, model {model:?}"));
            }
        }
        let mut hub_att = self.hub.attached_conns();
        hub_att.sort();
        let mut m_att: Vec<u64> = self.m.attached.keys().copied().collect();
        m_att.sort();
        if hub_att != m_att {
            return Err(format!("attached conns: hub {hub_att:?}, model {m_att:?}"));
        }
        if self.hub.session_count() != self.m.sessions.len() {
            return Err(format!("sessions: hub {}, model {}", self.hub.session_count(), self.m.sessions.len()));
        }
        Ok(())
    }

    fn run(&mut self, op: &Op) -> Result<(), String> {
        self.step += 1;
        match op.clone() {
            Op::Login { conn, room, user, named, notify, max, resume, bad, tok } => {
                let token = self.m.token(tok, ROOMS[room], USERS[user]);
                let resume_session_id = match resume {
                    Resume::No => None,
                    Resume::Known(i) if self.m.learned.is_empty() => Some(format!("nothing-{i}")),
                    // Half of the time one of the three newest (likely still held), else any.
                    Resume::Known(i) => {
                        let n = self.m.learned.len();
                        let k = if i % 2 == 0 { n - 1 - (i / 2) % n.min(3) } else { (i / 2) % n };
                        Some(self.m.learned[k].clone())
                    }
                    Resume::Garbage(g) => Some(g),
                };
                let mut msg = ClientMsg::Login {
                    v: PROTOCOL_VERSION,
                    app_id: APP_ID,
                    room_id: ROOMS[room].into(),
                    user_id: USERS[user].into(),
                    user_name: if named { format!("N{}", USERS[user]) } else { String::new() },
                    token,
                    max_member_count: max,
                    user_status_notify: notify,
                    resume_session_id,
                };
                if let ClientMsg::Login { v, app_id, room_id, user_id, user_name, .. } = &mut msg {
                    match bad {
                        Bad::No => {}
                        Bad::Version(x) => *v = x,
                        Bad::AppId(x) => *app_id = x,
                        Bad::EmptyRoom => room_id.clear(),
                        Bad::LongUser => *user_id = "u".repeat(64),
                        Bad::LongName => *user_name = "n".repeat(256),
                    }
                }
                self.frame(conn, msg)
            }
            Op::Ping(c) => self.frame(c, ClientMsg::Ping),
            Op::Logout(c) => self.frame(c, ClientMsg::Logout),
            Op::Renew(c, t) => {
                let (room, user) = self
                    .m
                    .attached
                    .get(&c)
                    .and_then(|sid| self.m.sessions.get(sid))
                    .map(|s| (s.room.clone(), s.user.user_id.clone()))
                    .unwrap_or_else(|| ("r0".into(), "a".into()));
                let token = self.m.token(t, &room, &user);
                self.frame(c, ClientMsg::RenewToken { token })
            }
            Op::Touch(c) => {
                self.m.opened.insert(c);
                self.hub.touch(c, self.now());
                if let Some(sid) = self.m.attached.get(&c) {
                    self.m.sessions.get_mut(sid).unwrap().last_rx = self.m.now_ms;
                }
                Ok(())
            }
            Op::Closed(c) => {
                self.m.opened.insert(c);
                self.hub.closed(c, self.now());
                self.m.detach(c);
                Ok(())
            }
            Op::Raw(c, text) => match ClientMsg::decode(&text) {
                Ok(msg) => self.frame(c, msg),
                Err(_) => {
                    // The shell treats an undecodable frame as a dropped connection.
                    self.m.opened.insert(c);
                    self.hub.closed(c, self.now());
                    self.m.detach(c);
                    Ok(())
                }
            },
            Op::Advance(ms) => {
                self.m.now_ms += ms;
                Ok(())
            }
            Op::Tick => self.tick(),
            Op::Kick { room, users, code } => {
                let names: Vec<&str> = users.iter().map(|&u| USERS.get(u).copied().unwrap_or("nobody")).collect();
                self.kick(ROOMS[room], &names, code)
            }
        }?;
        self.invariants()
    }

    /// After the heartbeat timeout with no frames, everything is gone.
    fn drain(&mut self) -> Result<(), String> {
        self.m.now_ms += self.m.heartbeat_ms;
        self.tick()?;
        self.invariants()?;
        for room in ROOMS {
            if self.hub.user_count(room) != 0 {
                return Err(format!("room {room} not empty after the heartbeat timeout: {:?}", self.hub.users(room)));
            }
        }
        if self.hub.session_count() != 0 || !self.hub.attached_conns().is_empty() {
            return Err("sessions or conns left after the heartbeat timeout".into());
        }
        Ok(())
    }
}

fn same_outs(a: &[Out], b: &[Out]) -> bool {
    let norm = |v: &[Out]| -> Vec<Out> {
        v.iter()
            .map(|o| match o {
                Out::Broadcast(cs, m) => {
                    let mut cs = cs.clone();
                    cs.sort();
                    Out::Broadcast(cs, m.clone())
                }
                o => o.clone(),
            })
            .collect()
    };
    norm(a) == norm(b)
}

fn run_hub(secret: bool, heartbeat_ms: u64, count_ms: u64, ops: &[Op]) -> Result<(), String> {
    let mut sim = Sim::new(secret, heartbeat_ms, count_ms);
    for (i, op) in ops.iter().enumerate() {
        sim.run(op).map_err(|e| format!("step {i} {op:?}: {e}"))?;
    }
    sim.drain().map_err(|e| format!("drain: {e}"))
}

fn hub_case() -> impl Strategy<Value = (bool, u64, u64, Vec<Op>)> {
    (any::<bool>(), prop_oneof![Just(10_000u64), 1_000u64..60_000], 500u64..20_000).prop_flat_map(|(secret, hb, count)| {
        (Just(secret), Just(hb), Just(count), proptest::collection::vec(op(hb), 1..60))
    })
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn hub_random_sequences_keep_invariants((secret, hb, count, ops) in hub_case()) {
        if let Err(e) = run_hub(secret, hb, count, &ops) {
            prop_assert!(false, "{}", e);
        }
    }
}

#[test]
fn hub_fixed_sequences() {
    use Op::*;
    let login = |conn, room, user, resume| Login { conn, room, user, named: false, notify: true, max: 0, resume, bad: Bad::No, tok: Tok::Valid };
    let cases: Vec<Vec<Op>> = vec![
        // Duplicate login, resume of the kicked session, admin kick, logout, grace.
        vec![login(1, 0, 0, Resume::No), login(2, 0, 1, Resume::No), login(3, 0, 1, Resume::No), login(4, 0, 1, Resume::Known(1)), Kick {
            room: 0,
            users: vec![0, 3],
            code: ec::MANUAL_KICKED_OUT,
        }, Logout(3), Advance(9_999), Tick, Advance(1), Tick],
        // Resume while the old conn is attached, second login on an attached conn.
        vec![login(1, 1, 2, Resume::No), login(2, 1, 2, Resume::Known(0)), login(2, 1, 2, Resume::No), Ping(1), Closed(2), Advance(20_000), Tick],
        // Room full with the opener's limit, raw frames.
        vec![
            Login { conn: 1, room: 2, user: 0, named: true, notify: false, max: 1, resume: Resume::No, bad: Bad::No, tok: Tok::Valid },
            login(2, 2, 1, Resume::No),
            Raw(3, r#"{"t":"ping"}"#.into()),
            Raw(1, "garbage".into()),
            login(1, 2, 0, Resume::Known(0)),
            Renew(1, Tok::Garbage),
            Renew(1, Tok::Valid),
        ],
        // Tombstone expiry.
        vec![login(1, 0, 0, Resume::No), login(2, 0, 0, Resume::No), Advance(TOMBSTONE_TTL.as_millis() as u64), Tick, login(3, 0, 0, Resume::Known(0))],
    ];
    for secret in [false, true] {
        for ops in &cases {
            run_hub(secret, 10_000, 3_000, ops).unwrap_or_else(|e| panic!("secret={secret}: {e}"));
        }
    }
}
