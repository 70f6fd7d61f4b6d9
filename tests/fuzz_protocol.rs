//! Property-based fuzzing of the server's frame decoder and of the room store
//! (`server::store::memory::MemoryStore`, the rules the old presence hub had and more).
//!
//! Stable-Rust stand-in for cargo-fuzz (see `docs/fuzzing.md`). Case counts default low so the
//! normal test run stays fast; `PROPTEST_CASES=N` runs every property here N times.
//!
//! * `decode_*`: `ClientMsg::decode` / `ServerMsg::decode` never panic on arbitrary text or on
//!   mutated valid frames; valid messages round-trip; whatever decodes re-encodes to itself.
//! * `store_*`: random operation sequences against a reference model, checked after every step
//!   (see the `store_model` module below).
#![cfg(feature = "server")]

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use zego_room::protocol::{ClientMsg, ServerMsg, UserUpdateKind};
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
                ClientMsg::Login { v, app_id, room_id, user_id, user_name, token, max_member_count, user_status_notify, client_id: "c".into(), resume_session_id, last_msg_id: 0 }
            }),
        Just(ClientMsg::Ping),
        Just(ClientMsg::Logout { destroyed: false }),
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
                ServerMsg::LoginOk { session_id, room_session_id, resumed, users, user_count, ping_interval_ms, token_remaining_secs, grace_ms: 90_000, state_age_ms: 1, streams: vec![], extra_info: vec![], last_msg_id: 0 }
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
// The room store (`server::store::memory::MemoryStore`) against a reference model
// ---------------------------------------------------------------------------------------------
//
// Random operation sequences over 3 rooms, 4 users (2 names each), 4 clients and every session id
// ever handed out (live, ended, kicked, and one never issued), with a virtual clock, checked after
// every step against a small model written from the contract (§1.1, §1.2, §1.6, §6.1, §7.1, §7.3):
// the outcome of the call, the exact multiset of room events it emitted (SessionResumed, an
// ordering marker, only where a resume or a silent same-name replacement allows it), per-room
// sequence numbers contiguous from 1 for each life of a room, a replica built from the events alone
// equal to the model and to `snapshot` (members and names, streams, extra info, last message id),
// every member that left announced, each user at most once per room and one client per user_id
// across the app, the member limit, stream ids unique app-wide, the replay buffer's bounds,
// `messages_after`, `rooms`, `session_count` and `state_age`.

mod store_model {
    use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
    use std::future::Future;
    use std::sync::Arc;
    use std::task::{Context, Poll, Waker};
    use std::time::{Duration, Instant};

    use parking_lot::Mutex;
    use proptest::prelude::*;
    use zego_room::error_codes as ec;
    use zego_room::protocol::{delete_reason, MsgKind, WireMessage};
    use zego_room::server::store::memory::{MemoryStore, DUPLICATE_LOGIN_MESSAGE};
    use zego_room::server::store::*;
    use zego_room::{RoomExtraInfo, Stream, User};

    const ROOMS: [&str; 3] = ["r0", "r1", "r2"];
    const USERS: [&str; 4] = ["u0", "u1", "u2", "u3"];
    const STREAMS: [&str; 4] = ["st0", "st1", "st2", "st3"];
    const UNKNOWN_SID: &str = "s-never-issued";

    /// Small bounds so that sequences of 60 steps reach them.
    pub fn cfg() -> StoreConfig {
        StoreConfig {
            grace: Duration::from_millis(3000),
            tombstone_ttl: Duration::from_millis(10_000),
            replay_max: 5,
            replay_age: Duration::from_millis(4000),
            broadcasts_per_sec: 2,
            barrages_per_sec: 3,
        }
    }

    /// The memory store's futures are ready at once.
    fn ready<T>(f: impl Future<Output = StoreResult<T>>) -> T {
        let mut f = std::pin::pin!(f);
        match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(r) => r.expect("the memory store never fails"),
            Poll::Pending => panic!("a memory store future was not ready"),
        }
    }

    #[derive(Debug, Clone)]
    pub enum Op {
        Join { room: u8, user: u8, name: u8, client: u8, max: u8 },
        /// `wrong`: 0 = as issued, 1 = another room, 2 = another user.
        Resume { sess: u8, wrong: u8, last: u8 },
        Detach { sess: u8, wrong_room: bool },
        Refresh { sess: u8, back_ms: u16 },
        Reap,
        Advance { ms: u32 },
        Leave { sess: u8, reason: u8 },
        Kick { room: u8, users: Vec<u8> },
        Close { room: u8 },
        Publish { sess: u8, ch: u8, stream: u8, extra: u8 },
        StopPublish { sess: u8, stream: u8 },
        StreamExtra { sess: u8, ch: u8, extra: u8 },
        Forbid { stream: u8, on: bool },
        /// `sess` None = the admin API.
        Send { sess: Option<u8>, kind: u8, to: Vec<u8>, seq: Option<u8> },
        RoomExtra { sess: u8, key: u8, value: u8 },
    }

    pub fn op() -> impl Strategy<Value = Op> {
        let s = any::<u8>();
        prop_oneof![
            6 => (0u8..3, 0u8..4, 0u8..2, 0u8..4, prop_oneof![Just(0u8), 1u8..4]).prop_map(|(room, user, name, client, max)| Op::Join { room, user, name, client, max }),
            3 => (s, prop_oneof![3 => Just(0u8), 1 => 1u8..3], 0u8..12).prop_map(|(sess, wrong, last)| Op::Resume { sess, wrong, last }),
            2 => (s, any::<bool>()).prop_map(|(sess, wrong_room)| Op::Detach { sess, wrong_room }),
            2 => (s, 0u16..4000).prop_map(|(sess, back_ms)| Op::Refresh { sess, back_ms }),
            2 => Just(Op::Reap),
            4 => prop_oneof![Just(0u32), Just(999), Just(1000), Just(2999), Just(3000), Just(4001), Just(10_000), 1u32..6000].prop_map(|ms| Op::Advance { ms }),
            1 => (s, 0u8..5).prop_map(|(sess, reason)| Op::Leave { sess, reason }),
            1 => (0u8..3, proptest::collection::vec(0u8..5, 1..3)).prop_map(|(room, users)| Op::Kick { room, users }),
            1 => (0u8..3).prop_map(|room| Op::Close { room }),
            4 => (s, 0u8..2, 0u8..4, 0u8..3).prop_map(|(sess, ch, stream, extra)| Op::Publish { sess, ch, stream, extra }),
            1 => (s, 0u8..4).prop_map(|(sess, stream)| Op::StopPublish { sess, stream }),
            1 => (s, 0u8..2, 0u8..3).prop_map(|(sess, ch, extra)| Op::StreamExtra { sess, ch, extra }),
            1 => (0u8..4, any::<bool>()).prop_map(|(stream, on)| Op::Forbid { stream, on }),
            6 => (prop_oneof![8 => s.prop_map(Some), 1 => Just(None)], 0u8..3, proptest::collection::vec(0u8..5, 0..3), prop_oneof![Just(None), (0u8..40).prop_map(Some)])
                .prop_map(|(sess, kind, to, seq)| Op::Send { sess, kind, to, seq }),
            2 => (s, 0u8..2, 0u8..2).prop_map(|(sess, key, value)| Op::RoomExtra { sess, key, value }),
        ]
    }

    /// A room event, normalized for comparison (SessionResumed is an ordering marker, checked apart).
    #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
    enum Ev {
        Added(String, User, String),
        Removed(String, User, String, String),
        Renamed(String, User, User, String),
        Ended(String, String, i32, String),
        SAdded(String, String, User, String, u8, String, bool),
        SRemoved(String, String, i32),
        SExtra(String, String, String),
        SLive(String, String, bool),
        RExtra(String, String, String, String, String),
        Msg(String, String, u64, String, Option<String>, Vec<String>),
    }

    fn norm(e: &RoomEvent) -> Option<Ev> {
        let r = e.room_id.clone();
        Some(match &e.kind {
            EventKind::MemberAdded { user, session_id } => Ev::Added(r, user.clone(), session_id.clone()),
            EventKind::MemberRemoved { user, session_id, reason } => Ev::Removed(r, user.clone(), session_id.clone(), format!("{reason:?}")),
            EventKind::MemberRenamed { old, new, session_id } => Ev::Renamed(r, old.clone(), new.clone(), session_id.clone()),
            EventKind::SessionEnded { session_id, code, message } => Ev::Ended(r, session_id.clone(), *code, message.clone()),
            EventKind::SessionResumed { .. } => return None,
            EventKind::StreamAdded { record } => Ev::SAdded(
                r,
                record.stream.stream_id.clone(),
                record.stream.user.clone(),
                record.session_id.clone(),
                record.channel,
                record.stream.extra_info.clone(),
                record.live,
            ),
            EventKind::StreamRemoved { record, code } => Ev::SRemoved(r, record.stream.stream_id.clone(), *code),
            EventKind::StreamExtraInfo { stream } => Ev::SExtra(r, stream.stream_id.clone(), stream.extra_info.clone()),
            EventKind::StreamLive { stream_id, live } => Ev::SLive(r, stream_id.clone(), *live),
            EventKind::RoomExtraInfo { info, session_id } => Ev::RExtra(r, info.key.clone(), info.value.clone(), info.update_user.user_id.clone(), session_id.clone()),
            EventKind::Message { message } => Ev::Msg(
                r,
                format!("{:?}", message.kind),
                message.wire.message_id,
                message.wire.content.clone(),
                message.from_session.clone(),
                message.to.clone(),
            ),
        })
    }

    #[derive(Default)]
    struct Sink {
        events: Mutex<Vec<Arc<RoomEvent>>>,
    }

    impl EventSink for Sink {
        fn on_event(&self, e: Arc<RoomEvent>) {
            self.events.lock().push(e);
        }
        fn on_sei(&self, _: &str, _: &str, _: bytes::Bytes) {}
    }

    #[derive(Debug, Clone)]
    struct MSession {
        room: String,
        user: User,
        client: String,
        deadline: Instant,
        attached: bool,
        btimes: VecDeque<Instant>,
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    struct MStream {
        sid: String,
        user: User,
        channel: u8,
        extra: String,
        live: bool,
    }

    #[derive(Debug, Clone)]
    struct MRoom {
        max: u32,
        /// user_id → session id.
        members: BTreeMap<String, String>,
        streams: BTreeMap<String, MStream>,
        extra: Option<(String, String, User)>,
        last_msg_id: u64,
        replay: VecDeque<(Instant, StoredMessage)>,
        bwin: (Instant, usize),
    }

    /// What the store should do, written from the contract rather than from the store's code.
    struct Model {
        cfg: StoreConfig,
        rooms: BTreeMap<String, MRoom>,
        sessions: BTreeMap<String, MSession>,
        tombstones: VecDeque<(Instant, String, i32, String)>,
        forbidden: BTreeSet<String>,
        /// Answers per client (§7.1: a resend is answered again, never sent twice, also when it
        /// comes on a new session of the same client); forgotten after the tombstone TTL.
        client_sends: BTreeMap<String, (VecDeque<(i32, i32, u64)>, Instant)>,
        /// Events the current step must emit.
        exp: Vec<Ev>,
        /// Session ids that may show a SessionResumed marker in the current step.
        marker_ok: BTreeSet<String>,
        /// Rooms opened in the current step (their sequence starts again at 1).
        opened: BTreeSet<String>,
    }

    impl Model {
        fn tombstone(&self, sid: &str) -> Option<(i32, String)> {
            self.tombstones.iter().find(|t| t.1 == sid).map(|t| (t.2, t.3.clone()))
        }

        /// A session ends: its streams go with `reason`'s code, others see it leave unless the
        /// same user takes its place in the room (`replaced`), it is told `code` (kicks are
        /// remembered), and a room left empty closes.
        fn remove(&mut self, sid: &str, reason: LeaveReason, code: i32, message: &str, replaced: bool, now: Instant) {
            let Some(s) = self.sessions.remove(sid) else { return };
            if code != 0 {
                self.tombstones.push_back((now, sid.to_owned(), code, message.to_owned()));
            }
            let room = self.rooms.get_mut(&s.room).expect("a session's room exists");
            let owned: Vec<String> = room.streams.iter().filter(|(_, st)| st.sid == sid).map(|(id, _)| id.clone()).collect();
            for id in owned {
                room.streams.remove(&id);
                self.exp.push(Ev::SRemoved(s.room.clone(), id, reason.stream_code()));
            }
            assert_eq!(room.members.get(&s.user.user_id).map(String::as_str), Some(sid), "model: a session is its room's member");
            room.members.remove(&s.user.user_id);
            if !replaced {
                self.exp.push(Ev::Removed(s.room.clone(), s.user.clone(), sid.to_owned(), format!("{reason:?}")));
            }
            self.exp.push(Ev::Ended(s.room.clone(), sid.to_owned(), code, message.to_owned()));
            if room.members.is_empty() && !replaced {
                self.rooms.remove(&s.room);
            }
        }

        fn join(&mut self, room: &str, user: User, client: &str, sid: &str, max: u32, now: Instant) -> Result<Vec<User>, ()> {
            if let Some(r) = self.rooms.get(room) {
                if r.max > 0 && r.members.len() as u32 >= r.max && !r.members.contains_key(&user.user_id) {
                    return Err(());
                }
            }
            // One client per user_id across the app (§1.6).
            let mine: Vec<(String, MSession)> = self.sessions.iter().filter(|(_, s)| s.user.user_id == user.user_id).map(|(k, s)| (k.clone(), s.clone())).collect();
            let mut replaced: Option<User> = None;
            for (old_sid, s) in mine {
                let other = s.client != client;
                let (reason, code, msg) =
                    if other { (LeaveReason::Replaced, ec::KICKED_OUT_DUPLICATE_LOGIN, DUPLICATE_LOGIN_MESSAGE) } else { (LeaveReason::Logout, 0, "") };
                if s.room == room {
                    replaced = Some(s.user.clone());
                    self.remove(&old_sid, reason, code, msg, true, now);
                } else if other {
                    self.remove(&old_sid, reason, code, msg, false, now);
                }
            }
            if !self.rooms.contains_key(room) {
                self.opened.insert(room.to_owned());
                self.rooms.insert(
                    room.to_owned(),
                    MRoom { max, members: BTreeMap::new(), streams: BTreeMap::new(), extra: None, last_msg_id: 0, replay: VecDeque::new(), bwin: (now, 0) },
                );
            }
            let r = self.rooms.get_mut(room).unwrap();
            r.members.insert(user.user_id.clone(), sid.to_owned());
            match replaced {
                None => self.exp.push(Ev::Added(room.to_owned(), user.clone(), sid.to_owned())),
                Some(old) if old.user_name != user.user_name => self.exp.push(Ev::Renamed(room.to_owned(), old, user.clone(), sid.to_owned())),
                // Same name: nobody sees anything (§1.6).
                Some(_) => {
                    self.marker_ok.insert(sid.to_owned());
                }
            }
            self.sessions.insert(
                sid.to_owned(),
                MSession {
                    room: room.to_owned(),
                    user,
                    client: client.to_owned(),
                    deadline: now + self.cfg.grace,
                    attached: true,
                    btimes: VecDeque::new(),
                },
            );
            Ok(self.members(room))
        }

        fn members(&self, room: &str) -> Vec<User> {
            let Some(r) = self.rooms.get(room) else { return vec![] };
            r.members.values().map(|sid| self.sessions[sid].user.clone()).collect()
        }

        fn missed(&self, room: &str, sid: &str, user_id: &str, after: u64, now: Instant) -> Vec<u64> {
            let Some(r) = self.rooms.get(room) else { return vec![] };
            r.replay
                .iter()
                .filter(|(at, m)| now.saturating_duration_since(*at) <= self.cfg.replay_age && m.wire.message_id > after && m.is_for(sid, user_id))
                .map(|(_, m)| m.wire.message_id)
                .collect()
        }

        fn resume(&mut self, room: &str, sid: &str, user_id: &str, last: u64, now: Instant) -> String {
            if let Some((code, msg)) = self.tombstone(sid) {
                return format!("Kicked({code}, {msg})");
            }
            let ok = self.sessions.get(sid).is_some_and(|s| s.room == room && s.user.user_id == user_id);
            if !ok {
                return "Gone".into();
            }
            let grace = self.cfg.grace;
            let s = self.sessions.get_mut(sid).unwrap();
            s.attached = true;
            s.deadline = now + grace;
            self.marker_ok.insert(sid.to_owned());
            let r = self.rooms.get_mut(room).unwrap();
            for (id, st) in r.streams.iter_mut().filter(|(_, st)| st.sid == sid && !st.live) {
                st.live = true;
                self.exp.push(Ev::SLive(room.to_owned(), id.clone(), true));
            }
            format!("Resumed({:?})", self.missed(room, sid, user_id, last, now))
        }

        fn detach(&mut self, room: &str, sid: &str) {
            let Some(s) = self.sessions.get_mut(sid).filter(|s| s.room == room && s.attached) else { return };
            s.attached = false;
            let r = self.rooms.get_mut(room).unwrap();
            for (id, st) in r.streams.iter_mut().filter(|(_, st)| st.sid == sid && st.live) {
                st.live = false;
                self.exp.push(Ev::SLive(room.to_owned(), id.clone(), false));
            }
        }

        fn reap(&mut self, now: Instant) {
            let expired: Vec<String> = self.sessions.iter().filter(|(_, s)| now >= s.deadline).map(|(k, _)| k.clone()).collect();
            for sid in expired {
                self.remove(&sid, LeaveReason::GraceExpired, 0, "", false, now);
            }
            let ttl = self.cfg.tombstone_ttl;
            self.tombstones.retain(|t| now.saturating_duration_since(t.0) < ttl);
            self.client_sends.retain(|_, (_, last)| now.saturating_duration_since(*last) < ttl);
        }

        fn kick(&mut self, room: &str, users: &[String], code: i32, msg: &str, now: Instant) {
            for u in users {
                let Some(sid) = self.rooms.get(room).and_then(|r| r.members.get(u)).cloned() else { continue };
                self.remove(&sid, LeaveReason::Kicked, code, msg, false, now);
            }
        }

        fn stream_owner(&self, id: &str) -> Option<(String, MStream)> {
            self.rooms.iter().find_map(|(room, r)| r.streams.get(id).map(|st| (room.clone(), st.clone())))
        }

        fn publish(&mut self, room: &str, sid: &str, ch: u8, id: &str, extra: &str) -> Result<(), i32> {
            let Some(s) = self.sessions.get(sid).filter(|s| s.room == room) else { return Err(ec::NOT_LOGIN_ROOM) };
            let (user, attached) = (s.user.clone(), s.attached);
            if self.forbidden.contains(id) {
                return Err(ec::PUBLISHER_FORBIDDEN);
            }
            if let Some((owner_room, st)) = self.stream_owner(id) {
                if st.sid != sid || owner_room != room {
                    return Err(ec::PUBLISHER_STREAM_ID_TAKEN);
                }
                if st.channel != ch {
                    return Err(ec::PUBLISHER_CHANNEL_BUSY);
                }
                if st.extra != extra {
                    self.rooms.get_mut(room).unwrap().streams.get_mut(id).unwrap().extra = extra.to_owned();
                    self.exp.push(Ev::SExtra(room.to_owned(), id.to_owned(), extra.to_owned()));
                }
                return Ok(());
            }
            let r = self.rooms.get_mut(room).unwrap();
            if r.streams.values().any(|st| st.sid == sid && st.channel == ch) {
                return Err(ec::PUBLISHER_CHANNEL_BUSY);
            }
            r.streams.insert(id.to_owned(), MStream { sid: sid.to_owned(), user: user.clone(), channel: ch, extra: extra.to_owned(), live: attached });
            self.exp.push(Ev::SAdded(room.to_owned(), id.to_owned(), user, sid.to_owned(), ch, extra.to_owned(), attached));
            Ok(())
        }

        fn remove_stream(&mut self, id: &str, code: i32) {
            if let Some((room, _)) = self.stream_owner(id) {
                self.rooms.get_mut(&room).unwrap().streams.remove(id);
                self.exp.push(Ev::SRemoved(room, id.to_owned(), code));
            }
        }

        fn stream_extra(&mut self, room: &str, sid: &str, ch: u8, extra: &str) -> Result<(), i32> {
            let r = self.rooms.get_mut(room).ok_or(ec::PUBLISHER_NOT_PUBLISHING)?;
            let (id, st) = r.streams.iter_mut().find(|(_, st)| st.sid == sid && st.channel == ch).ok_or(ec::PUBLISHER_NOT_PUBLISHING)?;
            if st.extra != extra {
                st.extra = extra.to_owned();
                self.exp.push(Ev::SExtra(room.to_owned(), id.clone(), extra.to_owned()));
            }
            Ok(())
        }

        fn room_extra(&mut self, room: &str, sid: &str, key: &str, value: &str) -> Result<(), i32> {
            let user = self.sessions.get(sid).filter(|s| s.room == room).map(|s| s.user.clone()).ok_or(ec::ROOM_ID_INCORRECT)?;
            let r = self.rooms.get_mut(room).unwrap();
            if r.extra.as_ref().is_some_and(|(k, _, _)| k != key) {
                return Err(ec::ROOM_EXTRA_INFO_EXCEED_KEYS);
            }
            r.extra = Some((key.to_owned(), value.to_owned(), user.clone()));
            self.exp.push(Ev::RExtra(room.to_owned(), key.to_owned(), value.to_owned(), user.user_id, sid.to_owned()));
            Ok(())
        }

        fn send(&mut self, req: &SendRequest, now: Instant) -> Result<u64, i32> {
            let Some(r) = self.rooms.get_mut(&req.room_id) else { return Err(ec::MESSAGE_ROOM_NOT_JOINED) };
            let session = match &req.from_session {
                Some(sid) => match self.sessions.get_mut(sid).filter(|s| s.room == req.room_id) {
                    Some(s) => Some(s),
                    None => return Err(ec::MESSAGE_ROOM_NOT_JOINED),
                },
                None => None,
            };
            // A seq this client already sent gets its first answer again and is not sent twice.
            let client = session.as_ref().map(|s| s.client.clone());
            if let (Some(c), Some(seq)) = (&client, req.client_seq) {
                if let Some(&(_, code, id)) = self.client_sends.get(c).and_then(|(recent, _)| recent.iter().find(|x| x.0 == seq)) {
                    return if code == 0 { Ok(id) } else { Err(code) };
                }
            }
            let second = Duration::from_secs(1);
            let verdict = match req.kind {
                MsgKind::Broadcast => match &session {
                    Some(s) => {
                        let recent = s.btimes.iter().filter(|t| now.saturating_duration_since(**t) < second).count();
                        if recent >= self.cfg.broadcasts_per_sec { Err(ec::MESSAGE_RATE_LIMITED) } else { Ok(()) }
                    }
                    None => Ok(()),
                },
                MsgKind::Barrage => {
                    if now.saturating_duration_since(r.bwin.0) >= second {
                        r.bwin = (now, 0);
                    }
                    if r.bwin.1 >= self.cfg.barrages_per_sec { Err(ec::MESSAGE_RATE_LIMITED) } else { Ok(()) }
                }
                MsgKind::Command => Ok(()),
            };
            let result = verdict.map(|()| {
                if req.kind == MsgKind::Barrage {
                    r.bwin.1 += 1;
                }
                r.last_msg_id += 1;
                let id = r.last_msg_id;
                let m = StoredMessage {
                    kind: req.kind,
                    wire: WireMessage { content: req.content.clone(), message_id: id, send_time: 0, from_user: req.from_user.clone() },
                    from_session: req.from_session.clone(),
                    to: req.to.clone(),
                };
                if m.kind != MsgKind::Barrage {
                    r.replay.push_back((now, m));
                    while r.replay.len() > self.cfg.replay_max || r.replay.front().is_some_and(|(at, _)| now.saturating_duration_since(*at) > self.cfg.replay_age) {
                        r.replay.pop_front();
                    }
                }
                self.exp.push(Ev::Msg(
                    req.room_id.clone(),
                    format!("{:?}", req.kind),
                    id,
                    req.content.clone(),
                    req.from_session.clone(),
                    req.to.clone(),
                ));
                id
            });
            if let Some(s) = session {
                if req.kind == MsgKind::Broadcast && result.is_ok() {
                    s.btimes.push_back(now);
                    while s.btimes.front().is_some_and(|t| now.saturating_duration_since(*t) >= second) {
                        s.btimes.pop_front();
                    }
                }
            }
            if let (Some(c), Some(seq)) = (client, req.client_seq) {
                let (code, id) = match result {
                    Ok(id) => (0, id),
                    Err(c) => (c, 0),
                };
                let (recent, last) = self.client_sends.entry(c).or_insert_with(|| (VecDeque::new(), now));
                recent.push_back((seq, code, id));
                *last = now;
                if recent.len() > 32 {
                    recent.pop_front();
                }
            }
            result
        }
    }

    /// A listener's copy of the rooms, built from the events alone.
    #[derive(Default, Debug)]
    struct Replica {
        members: BTreeMap<String, BTreeMap<String, (User, String)>>,
        streams: BTreeMap<String, BTreeMap<String, MStream>>,
        extra: BTreeMap<String, (String, String, User)>,
        last_msg: BTreeMap<String, u64>,
        seq: BTreeMap<String, u64>,
    }

    pub struct Sim {
        store: MemoryStore,
        sink: Arc<Sink>,
        model: Model,
        replica: Replica,
        t0: Instant,
        now: Instant,
        sids: Vec<String>,
        /// client and user_id of every session id ever issued.
        clients: HashMap<String, String>,
        sid_user: HashMap<String, String>,
        /// room_session_id of each room's current life.
        lives: HashMap<String, String>,
        next_sid: u32,
    }

    impl Sim {
        pub fn new() -> Sim {
            let t0 = Instant::now();
            let store = MemoryStore::new(cfg(), t0);
            let sink = Arc::new(Sink::default());
            let dyn_sink: Arc<dyn EventSink> = sink.clone();
            store.set_sink(Arc::downgrade(&dyn_sink));
            Sim {
                store,
                sink,
                model: Model {
                    cfg: cfg(),
                    rooms: BTreeMap::new(),
                    sessions: BTreeMap::new(),
                    tombstones: VecDeque::new(),
                    forbidden: BTreeSet::new(),
                    client_sends: BTreeMap::new(),
                    exp: vec![],
                    marker_ok: BTreeSet::new(),
                    opened: BTreeSet::new(),
                },
                replica: Replica::default(),
                t0,
                now: t0,
                sids: vec![],
                clients: HashMap::new(),
                sid_user: HashMap::new(),
                lives: HashMap::new(),
                next_sid: 0,
            }
        }

        /// A session id by index: every id ever issued, plus one never issued.
        fn sid(&self, i: u8) -> String {
            let n = self.sids.len() + 1;
            self.sids.get(i as usize % n).cloned().unwrap_or_else(|| UNKNOWN_SID.to_owned())
        }

        /// The room a session id belongs to (its own, if alive), or a default.
        fn room_of(&self, sid: &str) -> String {
            self.model.sessions.get(sid).map(|s| s.room.clone()).unwrap_or_else(|| ROOMS[sid.len() % 3].to_owned())
        }

        fn user_of(&self, sid: &str) -> User {
            self.model.sessions.get(sid).map(|s| s.user.clone()).unwrap_or_else(|| User::new("u0", "u0"))
        }

        pub fn step(&mut self, op: &Op) -> Result<(), String> {
            let now = self.now;
            let m = &mut self.model;
            m.exp.clear();
            m.marker_ok.clear();
            m.opened.clear();
            let other_room = |room: &str| ROOMS[(ROOMS.iter().position(|r| *r == room).unwrap_or(0) + 1) % 3].to_owned();
            match op {
                Op::Join { room, user, name, client, max } => {
                    let sid = format!("s{}", self.next_sid);
                    self.next_sid += 1;
                    let room = ROOMS[*room as usize].to_owned();
                    let uid = USERS[*user as usize];
                    let user = User::new(uid, format!("{uid}-name{name}"));
                    let client = format!("c{client}");
                    self.sids.push(sid.clone());
                    self.clients.insert(sid.clone(), client.clone());
                    self.sid_user.insert(sid.clone(), uid.to_owned());
                    let want = self.model.join(&room, user.clone(), &client, &sid, *max as u32, now);
                    let req = JoinRequest { room_id: room.clone(), user, client_id: client, session_id: sid, max_members: *max as u32, node_id: "n".into() };
                    match (ready(self.store.join(req, now)), want) {
                        (JoinOutcome::RoomFull, Err(())) => {}
                        (JoinOutcome::Joined(snap), Ok(members)) => {
                            if snap.members != members {
                                return Err(format!("join snapshot members {:?} != model {members:?}", snap.members));
                            }
                        }
                        (got, want) => return Err(format!("join: store {got:?}, model {want:?}")),
                    }
                }
                Op::Resume { sess, wrong, last } => {
                    let sid = self.sid(*sess);
                    let mut room = self.room_of(&sid);
                    let mut user = self.user_of(&sid).user_id;
                    match wrong {
                        1 => room = other_room(&room),
                        2 => user = if user == "u0" { "u1".into() } else { "u0".into() },
                        _ => {}
                    }
                    let last = *last as u64;
                    let want = self.model.resume(&room, &sid, &user, last, now);
                    let got = match ready(self.store.resume(&room, &sid, &user, last, "n", now)) {
                        ResumeOutcome::Resumed { snapshot, missed } => {
                            if snapshot.members != self.model.members(&room) {
                                return Err(format!("resume snapshot members {:?} != model {:?}", snapshot.members, self.model.members(&room)));
                            }
                            format!("Resumed({:?})", missed.iter().map(|m| m.wire.message_id).collect::<Vec<_>>())
                        }
                        ResumeOutcome::Gone => "Gone".into(),
                        ResumeOutcome::Kicked { code, message } => format!("Kicked({code}, {message})"),
                    };
                    if got != want {
                        return Err(format!("resume {sid} in {room} as {user} after {last}: store {got}, model {want}"));
                    }
                }
                Op::Detach { sess, wrong_room } => {
                    let sid = self.sid(*sess);
                    let mut room = self.room_of(&sid);
                    if *wrong_room {
                        room = other_room(&room);
                    }
                    self.model.detach(&room, &sid);
                    ready(self.store.detach(&room, &sid, now));
                }
                Op::Refresh { sess, back_ms } => {
                    let sid = self.sid(*sess);
                    let room = self.room_of(&sid);
                    let last_rx = now.checked_sub(Duration::from_millis(*back_ms as u64)).unwrap_or(now).max(self.t0);
                    let grace = self.model.cfg.grace;
                    if let Some(s) = self.model.sessions.get_mut(&sid).filter(|s| s.room == room) {
                        s.deadline = s.deadline.max(last_rx + grace);
                    }
                    ready(self.store.refresh(vec![Refresh { room_id: room, session_id: sid, last_rx }], now));
                }
                Op::Reap => {
                    self.model.reap(now);
                    ready(self.store.reap(now));
                }
                Op::Advance { ms } => {
                    self.now += Duration::from_millis(*ms as u64);
                }
                Op::Leave { sess, reason } => {
                    let sid = self.sid(*sess);
                    let room = self.room_of(&sid);
                    let reason = [LeaveReason::Logout, LeaveReason::Destroyed, LeaveReason::GraceExpired, LeaveReason::Replaced, LeaveReason::Kicked][*reason as usize % 5];
                    if self.model.sessions.get(&sid).is_some_and(|s| s.room == room) {
                        self.model.remove(&sid, reason, 0, "", false, now);
                    }
                    ready(self.store.leave(&room, &sid, reason, now));
                }
                Op::Kick { room, users } => {
                    let room = ROOMS[*room as usize];
                    let users: Vec<String> = users.iter().map(|u| USERS.get(*u as usize).copied().unwrap_or("nobody").to_owned()).collect();
                    self.model.kick(room, &users, ec::MANUAL_KICKED_OUT, "kick", now);
                    ready(self.store.kick(room, &users, ec::MANUAL_KICKED_OUT, "kick", now));
                }
                Op::Close { room } => {
                    let room = ROOMS[*room as usize];
                    let users: Vec<String> = self.model.rooms.get(room).map(|r| r.members.keys().cloned().collect()).unwrap_or_default();
                    self.model.kick(room, &users, ec::MANUAL_KICKED_OUT, "closed", now);
                    ready(self.store.close_room(room, "closed", now));
                }
                Op::Publish { sess, ch, stream, extra } => {
                    let sid = self.sid(*sess);
                    let room = self.room_of(&sid);
                    let id = STREAMS[*stream as usize];
                    let extra = ["", "e1", "e2"][*extra as usize];
                    let want = self.model.publish(&room, &sid, *ch, id, extra);
                    let got = ready(self.store.publish(&room, &sid, *ch, id, extra, now));
                    if got != want {
                        return Err(format!("publish {id} by {sid} in {room} on {ch}: store {got:?}, model {want:?}"));
                    }
                }
                Op::StopPublish { sess, stream } => {
                    let sid = self.sid(*sess);
                    let room = self.room_of(&sid);
                    let id = STREAMS[*stream as usize];
                    if self.model.stream_owner(id).is_some_and(|(r, st)| r == room && st.sid == sid) {
                        self.model.remove_stream(id, delete_reason::STOPPED);
                    }
                    ready(self.store.stop_publish(&room, &sid, id));
                }
                Op::StreamExtra { sess, ch, extra } => {
                    let sid = self.sid(*sess);
                    let room = self.room_of(&sid);
                    let extra = ["", "e1", "e3"][*extra as usize];
                    let want = self.model.stream_extra(&room, &sid, *ch, extra);
                    let got = ready(self.store.set_stream_extra_info(&room, &sid, *ch, extra));
                    if got != want {
                        return Err(format!("stream extra info by {sid} on {ch}: store {got:?}, model {want:?}"));
                    }
                }
                Op::Forbid { stream, on } => {
                    let id = STREAMS[*stream as usize];
                    if *on {
                        self.model.forbidden.insert(id.to_owned());
                        self.model.remove_stream(id, delete_reason::FORBIDDEN);
                    } else {
                        self.model.forbidden.remove(id);
                    }
                    ready(self.store.forbid_stream(id, *on));
                }
                Op::Send { sess, kind, to, seq } => {
                    let (from_session, from_user, room) = match sess {
                        Some(i) => {
                            let sid = self.sid(*i);
                            (Some(sid.clone()), self.user_of(&sid), self.room_of(&sid))
                        }
                        None => (None, User::new("admin", "Admin"), ROOMS[to.len() % 3].to_owned()),
                    };
                    let kind = [MsgKind::Broadcast, MsgKind::Barrage, MsgKind::Command][*kind as usize];
                    let to: Vec<String> = if kind == MsgKind::Command { to.iter().map(|u| USERS.get(*u as usize).copied().unwrap_or("nobody").to_owned()).collect() } else { vec![] };
                    let content = format!("m{}", self.next_sid);
                    let req = SendRequest { room_id: room, from_session, from_user, kind, content, to, client_seq: seq.map(|s| s as i32) };
                    let want = self.model.send(&req, now);
                    let got = ready(self.store.send_message(req.clone(), now));
                    if got != want {
                        return Err(format!("send {req:?}: store {got:?}, model {want:?}"));
                    }
                }
                Op::RoomExtra { sess, key, value } => {
                    let sid = self.sid(*sess);
                    let room = self.room_of(&sid);
                    let (key, value) = (["k0", "k1"][*key as usize], ["v0", "v1"][*value as usize]);
                    let want = self.model.room_extra(&room, &sid, key, value);
                    let got = ready(self.store.set_room_extra_info(&room, &sid, key, value)).map(|_| ());
                    if got != want {
                        return Err(format!("room extra info {key}={value} by {sid}: store {got:?}, model {want:?}"));
                    }
                }
            }
            self.check_events()?;
            self.check_state()
        }

        /// The events of this step: exactly what the model expects, numbered without gaps.
        fn check_events(&mut self) -> Result<(), String> {
            let events = std::mem::take(&mut *self.sink.events.lock());
            for room in &self.model.opened {
                if self.replica.members.get(room).is_some_and(|m| !m.is_empty()) {
                    return Err(format!("{room} opened again while the replica still has members {:?}", self.replica.members[room]));
                }
                self.replica.seq.insert(room.clone(), 0);
                self.replica.members.remove(room);
                self.replica.streams.remove(room);
                self.replica.extra.remove(room);
                self.replica.last_msg.remove(room);
            }
            let mut got: Vec<Ev> = Vec::new();
            for e in &events {
                let last = self.replica.seq.entry(e.room_id.clone()).or_insert(0);
                if e.seq != *last + 1 {
                    return Err(format!("{}: event seq {} after {} ({:?})", e.room_id, e.seq, last, e.kind));
                }
                *last = e.seq;
                match &e.kind {
                    EventKind::SessionResumed { session_id, .. } => {
                        if !self.model.marker_ok.contains(session_id) {
                            return Err(format!("SessionResumed for {session_id}, neither resumed nor silently replaced now"));
                        }
                        // A silent same-name replacement: the member's session changes. (The event
                        // does not name the user; the harness knows whose session id it issued.)
                        let members = self.replica.members.entry(e.room_id.clone()).or_default();
                        if !members.values().any(|(_, sid)| sid == session_id) {
                            let uid = self.sid_user.get(session_id).cloned().unwrap_or_default();
                            match members.get_mut(&uid) {
                                Some(m) => m.1 = session_id.clone(),
                                None => return Err(format!("{}: SessionResumed of {session_id} ({uid}), not a member", e.room_id)),
                            }
                        }
                    }
                    k => {
                        self.apply(&e.room_id, k)?;
                        got.push(norm(e).unwrap());
                    }
                }
            }
            let mut want = std::mem::take(&mut self.model.exp);
            got.sort();
            want.sort();
            if got != want {
                let extra: Vec<&Ev> = got.iter().filter(|e| !want.contains(e)).collect();
                let missing: Vec<&Ev> = want.iter().filter(|e| !got.contains(e)).collect();
                return Err(format!("events differ: unexpected {extra:?}, missing {missing:?}"));
            }
            Ok(())
        }

        fn apply(&mut self, room: &str, k: &EventKind) -> Result<(), String> {
            let rep = &mut self.replica;
            let members = rep.members.entry(room.to_owned()).or_default();
            let streams = rep.streams.entry(room.to_owned()).or_default();
            match k {
                EventKind::MemberAdded { user, session_id } => {
                    if members.insert(user.user_id.clone(), (user.clone(), session_id.clone())).is_some() {
                        return Err(format!("{room}: MemberAdded of {} who is a member", user.user_id));
                    }
                }
                EventKind::MemberRemoved { user, session_id, .. } => {
                    if members.remove(&user.user_id) != Some((user.clone(), session_id.clone())) {
                        return Err(format!("{room}: MemberRemoved of {user:?}/{session_id}, not the member"));
                    }
                }
                EventKind::MemberRenamed { old, new, session_id } => {
                    if members.insert(new.user_id.clone(), (new.clone(), session_id.clone())).map(|m| m.0) != Some(old.clone()) {
                        return Err(format!("{room}: MemberRenamed from {old:?}, not the member"));
                    }
                }
                // A silent same-name replacement: the member's session changes, nothing else.
                EventKind::SessionResumed { .. } => {}
                EventKind::SessionEnded { .. } => {}
                EventKind::StreamAdded { record } => {
                    let st = MStream {
                        sid: record.session_id.clone(),
                        user: record.stream.user.clone(),
                        channel: record.channel,
                        extra: record.stream.extra_info.clone(),
                        live: record.live,
                    };
                    if streams.insert(record.stream.stream_id.clone(), st).is_some() {
                        return Err(format!("{room}: StreamAdded of {} twice", record.stream.stream_id));
                    }
                }
                EventKind::StreamRemoved { record, .. } => {
                    if streams.remove(&record.stream.stream_id).is_none() {
                        return Err(format!("{room}: StreamRemoved of unknown {}", record.stream.stream_id));
                    }
                }
                EventKind::StreamExtraInfo { stream } => match streams.get_mut(&stream.stream_id) {
                    Some(st) => st.extra = stream.extra_info.clone(),
                    None => return Err(format!("{room}: StreamExtraInfo of unknown {}", stream.stream_id)),
                },
                EventKind::StreamLive { stream_id, live } => match streams.get_mut(stream_id) {
                    Some(st) if st.live != *live => st.live = *live,
                    other => return Err(format!("{room}: StreamLive {live} of {stream_id}: {other:?}")),
                },
                EventKind::RoomExtraInfo { info, .. } => {
                    rep.extra.insert(room.to_owned(), (info.key.clone(), info.value.clone(), info.update_user.clone()));
                }
                EventKind::Message { message } => {
                    let last = rep.last_msg.entry(room.to_owned()).or_insert(0);
                    if message.wire.message_id != *last + 1 {
                        return Err(format!("{room}: message id {} after {}", message.wire.message_id, last));
                    }
                    *last = message.wire.message_id;
                }
            }
            Ok(())
        }

        /// The store, the model and the replica agree; the invariants hold.
        fn check_state(&mut self) -> Result<(), String> {
            let now = self.now;
            let m = &self.model;
            let mut stream_ids: BTreeSet<String> = BTreeSet::new();
            let mut user_clients: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for room in ROOMS {
                let snap = ready(self.store.snapshot(room, now));
                let Some(mr) = m.rooms.get(room) else {
                    if let Some(s) = snap {
                        return Err(format!("{room}: the store has it ({:?}), the model not", s.members));
                    }
                    if self.replica.members.get(room).is_some_and(|x| !x.is_empty()) {
                        return Err(format!("{room} closed but the replica still has {:?}: a member left unannounced", self.replica.members[room]));
                    }
                    self.lives.remove(room);
                    continue;
                };
                let Some(snap) = snap else { return Err(format!("{room}: the model has it, the store not")) };
                // Members: model = snapshot = replica; one entry per user; within the limit.
                let want: Vec<User> = m.members(room);
                if snap.members != want {
                    return Err(format!("{room}: members {:?} != model {want:?}", snap.members));
                }
                let rep: Vec<User> = self.replica.members.get(room).map(|x| x.values().map(|(u, _)| u.clone()).collect()).unwrap_or_default();
                if rep != want {
                    return Err(format!("{room}: members from the events {rep:?} != model {want:?}"));
                }
                let ids: BTreeSet<&str> = snap.members.iter().map(|u| u.user_id.as_str()).collect();
                if ids.len() != snap.members.len() {
                    return Err(format!("{room}: a user twice: {:?}", snap.members));
                }
                if mr.max > 0 && snap.members.len() as u32 > mr.max {
                    return Err(format!("{room}: {} members over the limit {}", snap.members.len(), mr.max));
                }
                if self.store.user_count(room) as usize != want.len() {
                    return Err(format!("{room}: user_count {} != {}", self.store.user_count(room), want.len()));
                }
                for (uid, (_, sid)) in self.replica.members.get(room).into_iter().flatten() {
                    user_clients.entry(uid.clone()).or_default().insert(self.clients.get(sid).cloned().unwrap_or_default());
                }
                // Streams.
                let got: BTreeMap<String, MStream> = snap
                    .streams
                    .iter()
                    .map(|r| {
                        let st = MStream { sid: r.session_id.clone(), user: r.stream.user.clone(), channel: r.channel, extra: r.stream.extra_info.clone(), live: r.live };
                        (r.stream.stream_id.clone(), st)
                    })
                    .collect();
                if got != mr.streams {
                    return Err(format!("{room}: streams {got:?} != model {:?}", mr.streams));
                }
                if self.replica.streams.get(room).cloned().unwrap_or_default() != mr.streams {
                    return Err(format!("{room}: streams from the events {:?} != model {:?}", self.replica.streams.get(room), mr.streams));
                }
                for id in got.keys() {
                    if !stream_ids.insert(id.clone()) {
                        return Err(format!("stream id {id} published twice across the app"));
                    }
                }
                // Extra info, message ids, the room's life, its age.
                let extra = snap.extra_info.as_ref().map(|i: &RoomExtraInfo| (i.key.clone(), i.value.clone(), i.update_user.clone()));
                if extra != mr.extra || self.replica.extra.get(room) != mr.extra.as_ref() {
                    return Err(format!("{room}: extra info {extra:?} / events {:?} != model {:?}", self.replica.extra.get(room), mr.extra));
                }
                if snap.last_msg_id != mr.last_msg_id || self.replica.last_msg.get(room).copied().unwrap_or(0) != mr.last_msg_id {
                    return Err(format!("{room}: last message id {} != model {}", snap.last_msg_id, mr.last_msg_id));
                }
                if snap.seq != self.replica.seq.get(room).copied().unwrap_or(0) {
                    return Err(format!("{room}: snapshot seq {} != last event {:?}", snap.seq, self.replica.seq.get(room)));
                }
                let life = self.lives.entry(room.to_owned()).or_insert_with(|| snap.room_session_id.clone());
                if *life != snap.room_session_id {
                    return Err(format!("{room}: room_session_id changed while the room lived"));
                }
                if snap.state_age != now - self.t0 {
                    return Err(format!("state_age {:?} != {:?}", snap.state_age, now - self.t0));
                }
                // The replay buffer: bounded by count and age, in order, what the model keeps.
                let all = ready(self.store.messages_after(room, 0, now));
                let want: Vec<u64> =
                    mr.replay.iter().filter(|(at, _)| now.saturating_duration_since(*at) <= m.cfg.replay_age).map(|(_, x)| x.wire.message_id).collect();
                let got: Vec<u64> = all.iter().map(|x| x.wire.message_id).collect();
                if got != want || got.len() > m.cfg.replay_max {
                    return Err(format!("{room}: replay {got:?} != model {want:?} (max {})", m.cfg.replay_max));
                }
                if all.iter().any(|x| x.kind == MsgKind::Barrage) {
                    return Err(format!("{room}: barrage kept for replay"));
                }
                let after = want.get(1).copied().unwrap_or(0);
                let tail: Vec<u64> = ready(self.store.messages_after(room, after, now)).iter().map(|x| x.wire.message_id).collect();
                if tail != want.iter().copied().filter(|id| *id > after).collect::<Vec<_>>() {
                    return Err(format!("{room}: messages_after({after}) = {tail:?}"));
                }
            }
            for (uid, clients) in user_clients {
                if clients.len() > 1 {
                    return Err(format!("user {uid} held by several clients {clients:?} (one client per user_id, §1.6)"));
                }
            }
            if self.store.session_count() != m.sessions.len() {
                return Err(format!("session_count {} != model {}", self.store.session_count(), m.sessions.len()));
            }
            let rooms: Vec<(String, u32, u32)> = ready(self.store.rooms(now)).into_iter().map(|r| (r.room_id, r.user_count, r.stream_count)).collect();
            let want: Vec<(String, u32, u32)> = m.rooms.iter().map(|(id, r)| (id.clone(), r.members.len() as u32, r.streams.len() as u32)).collect();
            if rooms != want {
                return Err(format!("rooms() {rooms:?} != model {want:?}"));
            }
            Ok(())
        }
    }

    pub fn run(ops: &[Op]) -> Result<(), String> {
        let mut sim = Sim::new();
        for (i, op) in ops.iter().enumerate() {
            sim.step(op).map_err(|e| format!("step {i} {op:?}: {e}"))?;
        }
        Ok(())
    }

    #[allow(dead_code)]
    pub fn stream(user: &str) -> Stream {
        Stream { user: User::new(user, user), stream_id: String::new(), extra_info: String::new() }
    }
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn store_random_sequences_match_the_model(ops in proptest::collection::vec(store_model::op(), 1..60)) {
        if let Err(e) = store_model::run(&ops) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// Sequences worth keeping whatever the generator does: duplicate logins across rooms and clients,
/// silent and renaming replacements, the member limit, kicks remembered until the tombstone
/// expires, grace and resume, every stream delete reason, rates, dedupe and the replay bounds.
#[test]
fn store_fixed_sequences() {
    use store_model::Op::*;
    let join = |room, user, name, client| Join { room, user, name, client, max: 0 };
    let send = |sess, kind, seq| Send { sess: Some(sess), kind, to: vec![], seq: Some(seq) };
    let cases: Vec<Vec<store_model::Op>> = vec![
        // u0 on c0 in r0 and r1 (one client, multi-room), u0 on c1 in r2 kicks both; resume refused.
        vec![join(0, 0, 0, 0), join(1, 0, 0, 0), join(0, 1, 0, 1), join(2, 0, 0, 1), Resume { sess: 0, wrong: 0, last: 0 }, Resume { sess: 3, wrong: 0, last: 0 }],
        // Same-room replacement: same name (silent), other name (rename), same client (no kick).
        vec![join(0, 0, 0, 0), join(0, 1, 0, 1), join(0, 1, 0, 2), join(0, 1, 1, 3), join(0, 1, 1, 3), Reap, Advance { ms: 3000 }, Reap],
        // The limit is the opener's; a member replacing itself fits; a full room stays full.
        vec![Join { room: 1, user: 0, name: 0, client: 0, max: 2 }, Join { room: 1, user: 1, name: 0, client: 1, max: 9 }, Join { room: 1, user: 2, name: 0, client: 2, max: 0 }, Join { room: 1, user: 1, name: 1, client: 3, max: 0 }],
        // Grace: detach, refresh of the other, reap before and after; resume within; tombstone TTL.
        vec![join(0, 0, 0, 0), join(0, 1, 0, 1), Detach { sess: 1, wrong_room: false }, Advance { ms: 2999 }, Refresh { sess: 0, back_ms: 0 }, Reap, Resume { sess: 1, wrong: 0, last: 0 }, Advance { ms: 3000 }, Reap, Join { room: 0, user: 1, name: 0, client: 2, max: 0 }, Advance { ms: 10_000 }, Reap, Resume { sess: 0, wrong: 0, last: 0 }],
        // Streams: publish, unique ids, channel busy, idempotent, extra, live flips, every delete reason.
        vec![
            join(0, 0, 0, 0),
            join(0, 1, 0, 1),
            Publish { sess: 0, ch: 0, stream: 0, extra: 0 },
            Publish { sess: 1, ch: 0, stream: 0, extra: 0 },
            Publish { sess: 0, ch: 0, stream: 1, extra: 0 },
            Publish { sess: 0, ch: 0, stream: 0, extra: 1 },
            Publish { sess: 0, ch: 1, stream: 0, extra: 1 },
            StreamExtra { sess: 0, ch: 0, extra: 2 },
            Detach { sess: 0, wrong_room: false },
            Resume { sess: 0, wrong: 0, last: 0 },
            Publish { sess: 1, ch: 1, stream: 2, extra: 0 },
            Forbid { stream: 2, on: true },
            Publish { sess: 1, ch: 1, stream: 2, extra: 0 },
            Forbid { stream: 2, on: false },
            Publish { sess: 1, ch: 1, stream: 2, extra: 0 },
            StopPublish { sess: 1, stream: 2 },
            Publish { sess: 1, ch: 1, stream: 3, extra: 0 },
            Leave { sess: 1, reason: 1 },
            Kick { room: 0, users: vec![0] },
        ],
        // Messages: rates, dedupe of a resent seq, barrage window, replay bounded by 5 and 4 s.
        vec![
            join(0, 0, 0, 0),
            join(0, 1, 0, 1),
            send(0, 0, 1),
            send(0, 0, 2),
            send(0, 0, 3),
            send(0, 0, 2),
            send(0, 1, 4),
            send(0, 1, 5),
            send(0, 1, 6),
            send(0, 1, 7),
            Advance { ms: 1000 },
            send(0, 0, 3),
            send(0, 0, 8),
            send(0, 2, 9),
            send(0, 2, 10),
            send(0, 2, 11),
            send(0, 2, 12),
            Detach { sess: 1, wrong_room: false },
            Resume { sess: 1, wrong: 0, last: 1 },
            Advance { ms: 4001 },
            send(1, 0, 1),
            Resume { sess: 1, wrong: 0, last: 0 },
            RoomExtra { sess: 0, key: 0, value: 0 },
            RoomExtra { sess: 1, key: 1, value: 0 },
            RoomExtra { sess: 1, key: 0, value: 1 },
            Close { room: 0 },
        ],
        // A resend after a fresh re-login of the same client (its session was dropped after the
        // grace) gets the first answer and is not relayed again (chaos-soak finding).
        vec![join(0, 0, 0, 0), join(0, 1, 0, 1), send(0, 0, 5), Advance { ms: 3000 }, Refresh { sess: 1, back_ms: 0 }, Reap, join(0, 0, 0, 0), send(2, 0, 5), send(2, 2, 5)],
    ];
    for (i, ops) in cases.iter().enumerate() {
        store_model::run(ops).unwrap_or_else(|e| panic!("case {i}: {e}"));
    }
}
