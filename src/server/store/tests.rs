//! The room store's rules, checked through the events it emits (contract §1.2, §1.6, §6.1,
//! §7.1, §7.3), under a virtual clock. Every test runs against both implementations: the memory
//! store and the Redis store (a real `redis-server` started for this test process, one key
//! prefix per test), so the Redis scripts make the memory store's decisions, event for event.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::memory::{unix_ms, MemoryStore, DUPLICATE_LOGIN_MESSAGE};
use super::redis::{Clock, RedisConfig, RedisStore};
use super::*;
use crate::error_codes as ec;
use crate::protocol::MsgKind;

#[derive(Default)]
struct Rec {
    events: parking_lot::Mutex<Vec<Arc<RoomEvent>>>,
    sei: parking_lot::Mutex<Vec<(String, String, bytes::Bytes)>>,
}

impl EventSink for Rec {
    fn on_event(&self, e: Arc<RoomEvent>) {
        self.events.lock().push(e);
    }
    fn on_sei(&self, room_id: &str, stream_id: &str, frame: bytes::Bytes) {
        self.sei.lock().push((room_id.into(), stream_id.into(), frame));
    }
}

/// A `redis-server` for this test process on a free loopback port, without persistence. It
/// goes away with the process: a shell keeps it and kills it when our end of its stdin closes.
struct TestRedis {
    url: String,
    _keeper: Child,
}

fn test_redis() -> &'static TestRedis {
    static REDIS: OnceLock<TestRedis> = OnceLock::new();
    REDIS.get_or_init(|| {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let script = "redis-server --port \"$1\" --bind 127.0.0.1 --save '' --appendonly no --logfile '' --loglevel warning & pid=$!; read _; kill $pid";
        let keeper = Command::new("sh")
            .args(["-c", script, "sh", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("sh starts");
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on port {port}: is it installed (scripts/install-deps.sh installs Debian's redis-server)?"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        TestRedis { url: format!("redis://127.0.0.1:{port}/"), _keeper: keeper }
    })
}

/// A store implementation under test.
trait Backend: RoomStore + Sized {
    fn make(rt: &tokio::runtime::Runtime, t0: Instant) -> Self;
}

impl Backend for MemoryStore {
    fn make(_rt: &tokio::runtime::Runtime, t0: Instant) -> Self {
        MemoryStore::new(StoreConfig::default(), t0)
    }
}

impl Backend for RedisStore {
    fn make(rt: &tokio::runtime::Runtime, t0: Instant) -> Self {
        let url = test_redis().url.clone();
        let prefix = format!("test-{:016x}", fastrand::u64(..));
        let mut rc = RedisConfig::new(url, prefix, 7, "n1");
        rc.reap_hold = Duration::ZERO;
        rc.clock = Clock::Caller { t0, base_ms: unix_ms() };
        let store = {
            let _guard = rt.enter();
            RedisStore::connect(StoreConfig::default(), rc).expect("store")
        };
        assert!(rt.block_on(store.wait_healthy(Duration::from_secs(10))), "Redis store healthy");
        store
    }
}

struct T<S: Backend> {
    rt: tokio::runtime::Runtime,
    store: S,
    rec: Arc<Rec>,
    t0: Instant,
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

impl<S: Backend> T<S> {
    fn new() -> T<S> {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let t0 = Instant::now();
        let store = S::make(&rt, t0);
        let rec = Arc::new(Rec::default());
        let sink: Arc<dyn EventSink> = rec.clone();
        store.set_sink(Arc::downgrade(&sink));
        // Keep a strong reference alive through `rec`.
        std::mem::forget(sink);
        T { rt, store, rec, t0 }
    }

    /// Runs one store call to completion.
    fn run<R>(&self, f: impl Future<Output = StoreResult<R>>) -> R {
        self.rt.block_on(f).expect("the store answers")
    }

    fn at(&self, s: u64) -> Instant {
        self.t0 + secs(s)
    }

    fn take(&self) -> Vec<EventKind> {
        std::mem::take(&mut *self.rec.events.lock()).into_iter().map(|e| e.kind.clone()).collect()
    }

    fn user_count(&self, room: &str) -> usize {
        self.run(self.store.snapshot(room, Instant::now())).map_or(0, |s| s.members.len())
    }

    #[allow(clippy::too_many_arguments)]
    fn join_as(&self, room: &str, user: &str, name: &str, client: &str, sid: &str, max: u32, at: u64) -> JoinOutcome {
        // A node listens to a room before it logs anyone in (a networked store delivers events
        // of subscribed rooms only).
        self.run(self.store.subscribe(room));
        let req = JoinRequest {
            room_id: room.into(),
            user: User::new(user, name),
            client_id: client.into(),
            session_id: sid.into(),
            max_members: max,
            node_id: "n1".into(),
        };
        self.run(self.store.join(req, self.at(at)))
    }

    /// `user` logs in with its own client (`c-user`) and session `s-user-room`.
    fn join(&self, room: &str, user: &str) -> Snapshot {
        match self.join_as(room, user, user, &format!("c-{user}"), &format!("s-{user}-{room}"), 0, 0) {
            JoinOutcome::Joined(s) => s,
            o => panic!("{o:?}"),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn send(&self, room: &str, sid: &str, user: &str, kind: MsgKind, text: &str, seq: i32, at: Instant) -> Result<u64, i32> {
        let req = SendRequest {
            room_id: room.into(),
            from_session: Some(sid.into()),
            from_user: User::new(user, user),
            kind,
            content: text.into(),
            to: vec![],
            client_seq: Some(seq),
        };
        self.run(self.store.send_message(req, at))
    }
}

fn u(id: &str) -> User {
    User::new(id, id)
}

fn join_snapshot_and_sequence<S: Backend>() {
    let t = T::<S>::new();
    let a = t.join("r", "a");
    assert_eq!((a.members.clone(), a.seq), (vec![u("a")], 1));
    let b = t.join("r", "b");
    assert_eq!(b.members, vec![u("a"), u("b")]);
    assert_eq!(b.seq, 2);
    assert_eq!(a.room_session_id, b.room_session_id);
    let events = t.rec.events.lock().clone();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2], "one sequence per room, no gaps");
    assert!(matches!(&events[1].kind, EventKind::MemberAdded { user, .. } if *user == u("b")));
}

fn duplicate_user_in_another_room_kicks_the_other_client_everywhere<S: Backend>() {
    let t = T::<S>::new();
    // Client c-a holds user a in r1 and r2 (multi-room: one client, never kicked by itself).
    t.join_as("r1", "a", "a", "c-a", "s1", 0, 0);
    t.join_as("r2", "a", "a", "c-a", "s2", 0, 0);
    t.join("r1", "b");
    assert!(t.take().iter().all(|e| !matches!(e, EventKind::SessionEnded { .. })), "the same client never kicks itself");
    // Another client logs a into r3.
    t.join_as("r3", "a", "a", "c-other", "s3", 0, 1);
    let ev = t.take();
    let ended: Vec<(String, i32)> = ev
        .iter()
        .filter_map(|e| match e {
            EventKind::SessionEnded { session_id, code, .. } => Some((session_id.clone(), *code)),
            _ => None,
        })
        .collect();
    assert_eq!(ended, vec![("s1".into(), ec::KICKED_OUT_DUPLICATE_LOGIN), ("s2".into(), ec::KICKED_OUT_DUPLICATE_LOGIN)]);
    let deleted = ev.iter().filter(|e| matches!(e, EventKind::MemberRemoved { reason: LeaveReason::Replaced, .. })).count();
    assert_eq!(deleted, 2, "others see Delete at once in r1 (and r2 empties)");
    assert_eq!(t.user_count("r1"), 1);
    assert_eq!(t.user_count("r2"), 0);
    assert_eq!(t.user_count("r3"), 1);
    // The kicked sessions cannot resume.
    let r = t.run(t.store.resume("r1", "s1", "a", 0, "n1", t.at(2)));
    assert!(matches!(r, ResumeOutcome::Kicked { code: ec::KICKED_OUT_DUPLICATE_LOGIN, .. }), "{r:?}");
    // The newer login is untouched.
    let r = t.run(t.store.resume("r3", "s3", "a", 0, "n1", t.at(2)));
    assert!(matches!(r, ResumeOutcome::Resumed { .. }));
}

fn same_room_replacement_is_invisible_or_a_rename<S: Backend>() {
    let t = T::<S>::new();
    t.join("r", "b");
    t.join_as("r", "a", "a-old", "c-1", "s-old", 0, 0);
    t.take();
    // Another client, same name: nothing visible but the old session's end.
    t.join_as("r", "a", "a-old", "c-2", "s-new", 0, 1);
    let ev = t.take();
    assert!(ev.iter().all(|e| !matches!(e, EventKind::MemberAdded { .. } | EventKind::MemberRemoved { .. } | EventKind::MemberRenamed { .. })), "{ev:?}");
    assert!(ev.contains(&EventKind::SessionEnded { session_id: "s-old".into(), code: ec::KICKED_OUT_DUPLICATE_LOGIN, message: DUPLICATE_LOGIN_MESSAGE.into() }));
    // A third client with a new name: Delete(old) + Add(new) for others, as one rename.
    t.join_as("r", "a", "a-new", "c-3", "s-3", 0, 2);
    let ev = t.take();
    assert!(ev.contains(&EventKind::MemberRenamed { old: User::new("a", "a-old"), new: User::new("a", "a-new"), session_id: "s-3".into() }), "{ev:?}");
    assert_eq!(t.user_count("r"), 2);
    // The replaced sessions' graces never remove the replacement.
    t.run(t.store.refresh(vec![Refresh { room_id: "r".into(), session_id: "s-3".into(), last_rx: t.at(60) }], t.at(60)));
    t.run(t.store.refresh(vec![Refresh { room_id: "r".into(), session_id: "s-b-r".into(), last_rx: t.at(60) }], t.at(60)));
    t.run(t.store.reap(t.at(100)));
    assert_eq!(t.user_count("r"), 2, "{:?}", t.take());
    // The same client logging in again to the same room (its logout still on the way) is silent.
    t.take();
    t.join_as("r", "a", "a-new", "c-3", "s-4", 0, 101);
    let ev = t.take();
    assert!(ev.contains(&EventKind::SessionEnded { session_id: "s-3".into(), code: 0, message: String::new() }), "not a kick: {ev:?}");
    assert!(matches!(t.run(t.store.resume("r", "s-3", "a", 0, "n1", t.at(102))), ResumeOutcome::Gone));
}

fn member_limit_is_the_openers_and_exact<S: Backend>() {
    let t = T::<S>::new();
    assert!(matches!(t.join_as("r", "a", "a", "c-a", "sa", 2, 0), JoinOutcome::Joined(_)));
    assert!(matches!(t.join_as("r", "b", "b", "c-b", "sb", 9, 0), JoinOutcome::Joined(_)));
    t.take();
    assert_eq!(t.join_as("r", "c", "c", "c-c", "sc", 9, 0), JoinOutcome::RoomFull);
    assert!(t.take().is_empty(), "a refused login changes nothing");
    // Full, but the same user replacing itself is not a new member.
    assert!(matches!(t.join_as("r", "b", "b", "c-b2", "sb2", 0, 0), JoinOutcome::Joined(_)));
    // A duplicate of a member of a full room that tries another room is fine; a full room stays full.
    assert_eq!(t.join_as("r", "d", "d", "c-d", "sd", 0, 0), JoinOutcome::RoomFull);
}

fn grace_resume_and_reap<S: Backend>() {
    let t = T::<S>::new();
    t.join("r", "a");
    t.join("r", "b");
    t.take();
    t.run(t.store.detach("r", "s-b-r", t.at(1)));
    t.run(t.store.refresh(vec![Refresh { room_id: "r".into(), session_id: "s-a-r".into(), last_rx: t.at(80) }], t.at(80)));
    t.run(t.store.reap(t.at(89)));
    assert_eq!(t.user_count("r"), 2, "b is within its grace (90 s from its last frame at 0)");
    let r = t.run(t.store.resume("r", "s-b-r", "b", 0, "n1", t.at(89)));
    assert!(matches!(r, ResumeOutcome::Resumed { .. }));
    // Resumed: the grace counts from the resume.
    t.run(t.store.reap(t.at(100)));
    assert_eq!(t.user_count("r"), 2);
    let ev = t.take();
    assert!(ev.iter().all(|e| !matches!(e, EventKind::MemberRemoved { .. } | EventKind::MemberAdded { .. })), "invisible: {ev:?}");
    t.run(t.store.reap(t.at(179)));
    let ev = t.take();
    assert!(ev.contains(&EventKind::MemberRemoved { user: u("b"), session_id: "s-b-r".into(), reason: LeaveReason::GraceExpired }), "{ev:?}");
    assert!(ev.contains(&EventKind::SessionEnded { session_id: "s-b-r".into(), code: 0, message: String::new() }));
    assert_eq!(t.run(t.store.resume("r", "s-b-r", "b", 0, "n1", t.at(180))), ResumeOutcome::Gone);
}

fn streams_unique_ids_channels_and_delete_reasons<S: Backend>() {
    let t = T::<S>::new();
    t.join("r", "a");
    t.join("r2", "b");
    let pubs = |sid: &str, room: &str, ch: u8, id: &str, info: &str| t.run(t.store.publish(room, sid, ch, id, info, t.at(0)));
    assert_eq!(pubs("s-a-r", "r", 0, "s1", ""), Ok(()));
    assert_eq!(pubs("s-b-r2", "r2", 0, "s1", ""), Err(ec::PUBLISHER_STREAM_ID_TAKEN), "unique across the app");
    assert_eq!(pubs("s-a-r", "r", 0, "s2", ""), Err(ec::PUBLISHER_CHANNEL_BUSY));
    t.take();
    assert_eq!(pubs("s-a-r", "r", 0, "s1", ""), Ok(()), "idempotent for its owner");
    assert!(t.take().is_empty(), "republishing changes nothing for others");
    assert_eq!(pubs("s-a-r", "r", 0, "s1", "info"), Ok(()));
    assert!(matches!(&t.take()[..], [EventKind::StreamExtraInfo { stream }] if stream.extra_info == "info"));
    // Detach/resume flip `live`.
    t.run(t.store.detach("r", "s-a-r", t.at(1)));
    assert_eq!(t.take(), vec![EventKind::StreamLive { stream_id: "s1".into(), live: false }]);
    t.run(t.store.resume("r", "s-a-r", "a", 0, "n1", t.at(2)));
    assert!(t.take().contains(&EventKind::StreamLive { stream_id: "s1".into(), live: true }));
    // Reasons: stop 1, logout 1, destroyed 5, grace 2, kicked 4, duplicate 3, forbidden 6.
    let code_of = |ev: Vec<EventKind>| {
        ev.into_iter()
            .find_map(|e| match e {
                EventKind::StreamRemoved { code, .. } => Some(code),
                _ => None,
            })
            .expect("a stream removed")
    };
    t.run(t.store.stop_publish("r", "s-a-r", "s1"));
    assert_eq!(code_of(t.take()), 1);
    let cases: Vec<(&str, Box<dyn Fn(&T<S>)>, i32)> = vec![
        ("logout", Box::new(|t: &T<S>| t.run(t.store.leave("r", "s-a-r", LeaveReason::Logout, t.at(3)))), 1),
        ("destroyed", Box::new(|t: &T<S>| t.run(t.store.leave("r", "s-a-r", LeaveReason::Destroyed, t.at(3)))), 5),
        ("grace", Box::new(|t: &T<S>| t.run(t.store.reap(t.at(1000)))), 2),
        ("kicked", Box::new(|t: &T<S>| t.run(t.store.kick("r", &["a".into()], ec::MANUAL_KICKED_OUT, "x", t.at(3)))), 4),
        ("duplicate", Box::new(|t: &T<S>| drop(t.join_as("r9", "a", "a", "c-z", "s-z", 0, 3))), 3),
        ("forbidden", Box::new(|t: &T<S>| t.run(t.store.forbid_stream("s1", true))), 6),
    ];
    for (what, action, expected) in cases {
        let t = T::<S>::new();
        t.join("r", "a");
        t.join("r", "keep"); // keeps the room alive
        assert_eq!(t.run(t.store.publish("r", "s-a-r", 1, "s1", "", t.at(0))), Ok(()));
        t.take();
        action(&t);
        assert_eq!(code_of(t.take()), expected, "{what}");
        if what == "forbidden" {
            assert_eq!(t.run(t.store.publish("r", "s-a-r", 1, "s1", "", t.at(4))), Err(ec::PUBLISHER_FORBIDDEN));
            t.run(t.store.forbid_stream("s1", false));
            assert_eq!(t.run(t.store.publish("r", "s-a-r", 1, "s1", "", t.at(4))), Ok(()), "ResumeRTCStream lifts the ban");
        }
    }
}

fn messages_ids_rates_dedupe_and_replay<S: Backend>() {
    let t = T::<S>::new();
    t.join("r", "a");
    t.join("r", "b");
    let at0 = t.at(0);
    assert_eq!(t.send("r", "s-a-r", "a", MsgKind::Broadcast, "1", 1, at0), Ok(1));
    assert_eq!(t.send("r", "s-a-r", "a", MsgKind::Broadcast, "2", 2, at0), Ok(2));
    assert_eq!(t.send("r", "s-a-r", "a", MsgKind::Broadcast, "3", 3, at0), Err(ec::MESSAGE_RATE_LIMITED), "2 per second per sender");
    assert_eq!(t.send("r", "s-b-r", "b", MsgKind::Broadcast, "b1", 1, at0), Ok(3), "another sender has its own rate");
    // A resend of an answered seq gets the first answer and sends nothing.
    t.take();
    assert_eq!(t.send("r", "s-a-r", "a", MsgKind::Broadcast, "2", 2, t.at(5)), Ok(2));
    assert_eq!(t.send("r", "s-a-r", "a", MsgKind::Broadcast, "3", 3, t.at(5)), Err(ec::MESSAGE_RATE_LIMITED));
    assert!(t.take().is_empty());
    assert_eq!(t.send("r", "s-a-r", "a", MsgKind::Broadcast, "4", 4, t.at(1)), Ok(4), "a new second");
    // Barrage: 20 per room per second.
    let ok = (0..25).filter(|i| t.send("r", "s-b-r", "b", MsgKind::Barrage, "x", 100 + i, t.at(2)).is_ok()).count();
    assert_eq!(ok, 20);
    // Replay: reliable messages for the session, not its own, not barrage, above last_msg_id.
    t.run(t.store.detach("r", "s-b-r", t.at(3)));
    t.send("r", "s-a-r", "a", MsgKind::Broadcast, "while away", 200, t.at(3)).unwrap();
    let cmd = SendRequest {
        room_id: "r".into(),
        from_session: Some("s-a-r".into()),
        from_user: u("a"),
        kind: MsgKind::Command,
        content: "to b".into(),
        to: vec!["b".into()],
        client_seq: Some(201),
    };
    t.run(t.store.send_message(cmd, t.at(3))).unwrap();
    let ResumeOutcome::Resumed { missed, .. } = t.run(t.store.resume("r", "s-b-r", "b", 4, "n1", t.at(4))) else { panic!() };
    let got: Vec<&str> = missed.iter().map(|m| m.wire.content.as_str()).collect();
    assert_eq!(got, vec!["while away", "to b"], "only a's reliable messages after id 4");
    // A command for someone else is not replayed to b.
    assert!(missed.iter().all(|m| m.is_for("s-b-r", "b")));
}

/// §7.1 "each once": a resend after a fresh login (the old session's grace passed) is recognised
/// by the client id, not the session; another client's same seq is its own.
fn resend_is_recognised_per_client_across_sessions<S: Backend>() {
    let t = T::<S>::new();
    t.join("r", "b");
    t.join_as("r", "a", "a", "client-a", "sa1", 0, 0);
    assert_eq!(t.send("r", "sa1", "a", MsgKind::Broadcast, "hello", 7, t.at(0)), Ok(1));
    t.run(t.store.detach("r", "sa1", t.at(1)));
    t.run(t.store.refresh(vec![Refresh { room_id: "r".into(), session_id: "s-b-r".into(), last_rx: t.at(199) }], t.at(199)));
    t.run(t.store.reap(t.at(200)));
    assert_eq!(t.user_count("r"), 1, "a's first session ended with its grace");
    assert!(matches!(t.join_as("r", "a", "a", "client-a", "sa2", 0, 200), JoinOutcome::Joined(_)));
    t.take();
    assert_eq!(t.send("r", "sa2", "a", MsgKind::Broadcast, "hello", 7, t.at(200)), Ok(1), "the first answer, the same id");
    assert!(!t.take().iter().any(|e| matches!(e, EventKind::Message { .. })), "not relayed twice");
    // Another client with the same seq is a new message.
    assert_eq!(t.send("r", "s-b-r", "b", MsgKind::Broadcast, "other", 7, t.at(200)), Ok(2));
}

fn replay_is_bounded_by_count_and_age<S: Backend>() {
    let t = T::<S>::new();
    t.join("r", "a");
    t.join("r", "b");
    t.run(t.store.detach("r", "s-b-r", t.at(0)));
    for i in 0..600u64 {
        // 2 per second is the rate: spread them out.
        t.send("r", "s-a-r", "a", MsgKind::Broadcast, &i.to_string(), i as i32, t.t0 + Duration::from_millis(500 * i)).unwrap();
    }
    let at = t.t0 + Duration::from_millis(500 * 600);
    let ResumeOutcome::Resumed { missed, .. } = t.run(t.store.resume("r", "s-b-r", "b", 0, "n1", at)) else { panic!() };
    assert!(missed.len() <= 500, "at most 500");
    assert!(missed.len() <= 241, "within 120 s: {}", missed.len());
    assert_eq!(missed.last().unwrap().wire.content, "599");
    let ids: Vec<u64> = missed.iter().map(|m| m.wire.message_id).collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "in order, contiguous");
}

fn room_extra_info_one_key<S: Backend>() {
    let t = T::<S>::new();
    t.join("r", "a");
    t.take();
    assert!(t.run(t.store.set_room_extra_info("r", "s-a-r", "topic", "x")).is_ok());
    assert!(matches!(&t.take()[..], [EventKind::RoomExtraInfo { info, .. }] if info.value == "x" && info.update_user == u("a")));
    assert_eq!(t.run(t.store.set_room_extra_info("r", "s-a-r", "other", "y")), Err(ec::ROOM_EXTRA_INFO_EXCEED_KEYS));
    assert!(t.take().is_empty());
    assert!(t.run(t.store.set_room_extra_info("r", "s-a-r", "topic", "z")).is_ok());
    let snap = t.run(t.store.snapshot("r", t.at(1))).unwrap();
    assert_eq!(snap.extra_info.map(|i| i.value), Some("z".into()));
}

fn close_room_kicks_everyone<S: Backend>() {
    let t = T::<S>::new();
    t.join("r", "a");
    t.join("r", "b");
    t.take();
    t.run(t.store.close_room("r", "bye", t.at(1)));
    let ended: Vec<i32> = t
        .take()
        .into_iter()
        .filter_map(|e| match e {
            EventKind::SessionEnded { code, .. } => Some(code),
            _ => None,
        })
        .collect();
    assert_eq!(ended, vec![ec::MANUAL_KICKED_OUT, ec::MANUAL_KICKED_OUT]);
    assert_eq!(t.user_count("r"), 0);
    assert!(t.run(t.store.rooms(t.at(1))).is_empty());
}

fn sei_is_relayed_not_stored<S: Backend>() {
    let t = T::<S>::new();
    t.run(t.store.relay_sei("r", "s1", bytes::Bytes::from_static(b"\x02\x02s1x")));
    assert_eq!(t.rec.sei.lock().len(), 1);
    assert!(t.take().is_empty());
}

fn state_age_counts_from_the_store_start<S: Backend>() {
    let t = T::<S>::new();
    let JoinOutcome::Joined(s) = t.join_as("r", "a", "a", "c", "s", 0, 7) else { panic!() };
    assert_eq!(s.state_age, secs(7));
}

/// Each rule test, once per implementation.
macro_rules! for_both_stores {
    ($($name:ident),* $(,)?) => {
        mod memory_store {
            $( #[test] fn $name() { super::$name::<super::MemoryStore>() } )*
        }
        mod redis_store {
            $( #[test] fn $name() { super::$name::<super::RedisStore>() } )*
        }
    };
}

for_both_stores!(
    join_snapshot_and_sequence,
    duplicate_user_in_another_room_kicks_the_other_client_everywhere,
    same_room_replacement_is_invisible_or_a_rename,
    member_limit_is_the_openers_and_exact,
    grace_resume_and_reap,
    streams_unique_ids_channels_and_delete_reasons,
    messages_ids_rates_dedupe_and_replay,
    resend_is_recognised_per_client_across_sessions,
    replay_is_bounded_by_count_and_age,
    room_extra_info_one_key,
    close_room_kicks_everyone,
    sei_is_relayed_not_stored,
    state_age_counts_from_the_store_start,
);
