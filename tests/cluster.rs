//! Contract §8 on real parts: one `redis-server` (started here) and three nodes on loopback —
//! in-process (`server::start` with `--redis`) or real `zego-room-server` processes where a node
//! must die (SIGKILL) or be stopped (SIGTERM) — with engines attached through the fault proxy.
//! Every rule of §1–§7 must hold when the users of a room are spread over the nodes.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::harness::*;
use common::proxy::FaultProxy;
use common::redis::RedisServer;
use zego_room::server::admin::AdminClient;
use zego_room::server::{self, ServerConfig, ServerHandle};
use zego_room::*;

const BIN: &str = env!("CARGO_BIN_EXE_zego-room-server");
/// Server flags of every node here: a 1 s ping and a 3 s grace (fast_config).
const GRACE: Duration = Duration::from_secs(3);

fn prefix() -> String {
    format!("t{:08x}", fastrand::u32(..))
}

/// Redis and `n` in-process nodes sharing it.
struct Cluster {
    redis: RedisServer,
    prefix: String,
    nodes: Vec<Option<ServerHandle>>,
}

impl Cluster {
    fn start(n: usize) -> Cluster {
        Self::with_redis(RedisServer::start(), n)
    }

    fn with_redis(redis: RedisServer, n: usize) -> Cluster {
        init_logs();
        let mut c = Cluster { redis, prefix: prefix(), nodes: Vec::new() };
        for i in 0..n {
            let node = c.node(i);
            c.nodes.push(Some(node));
        }
        c
    }

    fn node(&self, i: usize) -> ServerHandle {
        let config = ServerConfig {
            node_id: Some(format!("node-{i}")),
            redis: Some(self.redis.url()),
            redis_prefix: self.prefix.clone(),
            ..fast_config(Some(SECRET))
        };
        server::start(config).expect("node starts")
    }

    fn handle(&self, i: usize) -> &ServerHandle {
        self.nodes[i].as_ref().expect("node running")
    }

    fn url(&self, i: usize) -> String {
        self.handle(i).url()
    }

    fn admin(&self, i: usize) -> AdminClient {
        admin(self.handle(i), Some(SECRET))
    }
}

fn user_ids(admin: &AdminClient, room: &str) -> Vec<String> {
    let v = admin.describe_users(room).expect("DescribeUsers answers");
    assert_eq!(v["Code"], 0, "{v}");
    let mut ids: Vec<String> = v["Data"]["UserList"].as_array().unwrap().iter().map(|u| u["UserId"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids
}

fn ids(list: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// The user updates `rec` got about `user` (Add/Delete), in order.
fn updates_about(rec: &Recorder, user: &str) -> Vec<UpdateType> {
    rec.user_updates().into_iter().filter(|(_, users)| users.iter().any(|u| u == user)).map(|(t, _)| t).collect()
}

fn wait_event(rec: &Recorder, from: usize, what: &str, pred: impl Fn(&Event) -> bool) -> Instant {
    match rec.wait_from(from, SHORT, pred) {
        Some((at, _)) => at,
        None => panic!("no {what} within {SHORT:?}; events: {:#?}", rec.all()),
    }
}

#[test]
fn presence_counts_streams_messages_and_extra_info_across_nodes() {
    let c = Cluster::start(3);
    let (alice, ra) = joined(&c.url(0), "r", "alice");
    let (bob, rb) = joined(&c.url(1), "r", "bob");
    let (carol, rc) = joined(&c.url(2), "r", "carol");
    // Presence: each sees the two others, whichever node they are on.
    for (rec, others) in [(&ra, ["bob", "carol"]), (&rb, ["alice", "carol"]), (&rc, ["alice", "bob"])] {
        for o in others {
            assert!(rec.wait_user_update(0, UpdateType::Add, o, SHORT).is_some(), "{o}: {:#?}", rec.all());
        }
    }
    // Online counts (the local user included) reach 3 everywhere.
    for rec in [&ra, &rb, &rc] {
        wait_event(rec, 0, "count 3", |e| matches!(e, Event::RoomOnlineUserCountUpdate { count: 3, .. }));
    }
    for i in 0..3 {
        assert_eq!(user_ids(&c.admin(i), "r"), ids(&["alice", "bob", "carol"]), "DescribeUsers on node {i}");
    }

    // Streams: alice (node 0) publishes; bob and carol see it; carol (node 2) plays it and
    // receives its side data in order.
    let (fb, fc) = (rb.len(), rc.len());
    alice.start_publishing_stream("s-alice", None, PublishChannel::Main).unwrap();
    wait_event(&ra, 0, "Publishing", |e| matches!(e, Event::PublisherStateUpdate { state: PublisherState::Publishing, .. }));
    for (rec, from) in [(&rb, fb), (&rc, fc)] {
        wait_event(rec, from, "stream Add", |e| {
            matches!(e, Event::RoomStreamUpdate { update_type: UpdateType::Add, streams, .. } if streams.iter().any(|s| s.stream_id == "s-alice" && s.user.user_id == "alice"))
        });
    }
    carol.start_playing_stream("s-alice", None).unwrap();
    wait_event(&rc, fc, "Playing", |e| matches!(e, Event::PlayerStateUpdate { state: PlayerState::Playing, .. }));
    for i in 0..5u8 {
        alice.send_sei(&[b'f', i], PublishChannel::Main).unwrap();
    }
    assert!(
        eventually(SHORT, || rc.all().iter().filter(|e| matches!(e, Event::PlayerRecvSei { .. })).count() >= 5),
        "carol got the side data: {:#?}",
        rc.all()
    );
    let frames: Vec<Vec<u8>> = rc
        .all()
        .into_iter()
        .filter_map(|e| match e {
            Event::PlayerRecvSei { data, .. } => Some(data),
            _ => None,
        })
        .collect();
    assert_eq!(frames, (0..5u8).map(|i| vec![b'f', i]).collect::<Vec<_>>(), "in order, each once, byte for byte");
    let v = c.admin(1).describe_streams("r").unwrap();
    assert_eq!(v["Data"]["StreamList"][0]["StreamId"], "s-alice", "{v}");

    // Messages: bob's broadcast reaches alice and carol (not bob); carol's command reaches
    // alice only.
    let (fa, fb, fc) = (ra.len(), rb.len(), rc.len());
    bob.send_broadcast_message("r", "hi all").unwrap();
    for (rec, from) in [(&ra, fa), (&rc, fc)] {
        wait_event(rec, from, "broadcast", |e| {
            matches!(e, Event::ImRecvBroadcastMessage { messages, .. } if messages.iter().any(|m| m.message == "hi all" && m.from_user.user_id == "bob"))
        });
    }
    wait_event(&rb, fb, "broadcast result", |e| matches!(e, Event::ImSendBroadcastMessageResult { error_code: 0, .. }));
    carol.send_custom_command("r", "for alice", &[User::new("alice", "")]).unwrap();
    wait_event(&ra, fa, "command", |e| matches!(e, Event::ImRecvCustomCommand { command, from_user, .. } if command == "for alice" && from_user.user_id == "carol"));
    wait_event(&rc, fc, "command result", |e| matches!(e, Event::ImSendCustomCommandResult { error_code: 0, .. }));
    std::thread::sleep(Duration::from_millis(300));
    assert!(!rb.all().iter().any(|e| matches!(e, Event::ImRecvCustomCommand { .. } | Event::ImRecvBroadcastMessage { .. })), "bob got nothing: {:#?}", rb.all());

    // Room extra info: carol sets it; alice and bob are told; a later login on node 0 gets it.
    carol.set_room_extra_info("r", "topic", "cluster").unwrap();
    for (rec, from) in [(&ra, fa), (&rb, fb)] {
        wait_event(rec, from, "extra info", |e| {
            matches!(e, Event::RoomExtraInfoUpdate { infos, .. } if infos.iter().any(|i| i.key == "topic" && i.value == "cluster" && i.update_user.user_id == "carol"))
        });
    }
    let (_dave, rd) = joined(&c.url(0), "r", "dave");
    wait_event(&rd, 0, "extra info after login", |e| matches!(e, Event::RoomExtraInfoUpdate { infos, .. } if infos.iter().any(|i| i.value == "cluster")));

    // Logout on node 1: everyone else sees Delete at once.
    let t = Instant::now();
    bob.logout_room(None).unwrap();
    for rec in [&ra, &rc, &rd] {
        let at = rec.wait_user_update(0, UpdateType::Delete, "bob", SHORT).expect("Delete(bob)");
        assert!(at.saturating_duration_since(t) < Duration::from_secs(1), "at once, not after the grace");
    }
    // Nobody saw anyone twice.
    for (rec, me) in [(&ra, "alice"), (&rc, "carol")] {
        for other in ["alice", "bob", "carol", "dave"].into_iter().filter(|o| *o != me) {
            let u = updates_about(rec, other);
            assert!(u.windows(2).all(|w| w[0] != w[1]), "{me} about {other}: {u:?}");
        }
    }
}

#[test]
fn duplicate_user_in_any_room_on_another_node_is_kicked_everywhere() {
    let c = Cluster::start(3);
    let (_first, r1) = joined(&c.url(0), "r1", "alice");
    let (_bob, rb) = joined(&c.url(2), "r1", "bob");
    assert!(rb.wait_user_update(0, UpdateType::Add, "alice", SHORT).is_some());
    let from_b = rb.len();
    // The same user_id from another engine, into another room, on another node.
    let t = Instant::now();
    let (_second, r2) = joined(&c.url(1), "r2", "alice");
    let (_, code, _) = r1.expect_reason(0, R::KickOut, SHORT);
    assert_eq!(code, 1_002_050);
    let at = rb.wait_user_update(from_b, UpdateType::Delete, "alice", SHORT).expect("bob sees Delete(alice)");
    assert!(at.saturating_duration_since(t) < Duration::from_secs(1), "at once, not after the grace");
    // The newer login is never affected, and the earlier engine makes no further attempt.
    std::thread::sleep(GRACE + Duration::from_secs(1));
    assert!(!r2.reasons().iter().any(|(r, _)| *r != R::Logining && *r != R::Logined), "{:?}", r2.reasons());
    assert_eq!(r1.reasons().last(), Some(&(R::KickOut, 1_002_050)), "{:?}", r1.reasons());
    assert_eq!(user_ids(&c.admin(0), "r2"), ids(&["alice"]));
    assert_eq!(user_ids(&c.admin(1), "r1"), ids(&["bob"]));
}

#[test]
fn admin_api_on_a_node_that_holds_none_of_the_users() {
    let c = Cluster::start(3);
    let (_alice, ra) = joined(&c.url(0), "adm", "alice");
    let (_bob, rb) = joined(&c.url(1), "adm", "bob");
    let (_carol, rc) = joined(&c.url(0), "adm", "carol");
    assert!(ra.wait_user_update(0, UpdateType::Add, "carol", SHORT).is_some());
    let admin = c.admin(2);
    assert_eq!(user_ids(&admin, "adm"), ids(&["alice", "bob", "carol"]));
    let v = admin.describe_user_num(&["adm", "empty"]).unwrap();
    assert_eq!((v["Data"][0]["UserCount"].as_u64(), v["Data"][1]["UserCount"].as_u64()), (Some(3), Some(0)), "{v}");
    let v = admin.send_broadcast_message("adm", "ops", "Operator", "maintenance at 5").unwrap();
    assert_eq!(v["Code"], 0, "{v}");
    for rec in [&ra, &rb, &rc] {
        wait_event(rec, 0, "admin broadcast", |e| {
            matches!(e, Event::ImRecvBroadcastMessage { messages, .. } if messages.iter().any(|m| m.message == "maintenance at 5" && m.from_user.user_id == "ops"))
        });
    }
    // KickoutUser of bob (node 1) from node 2.
    let from_a = ra.len();
    let v = admin.kickout_user("adm", &["bob"], Some("bye bob")).unwrap();
    assert_eq!(v["Code"], 0, "{v}");
    let (_, code, ext) = rb.expect_reason(0, R::KickOut, SHORT);
    assert_eq!(code, 1_002_055);
    assert!(ext.contains("bye bob"), "{ext}");
    assert!(ra.wait_user_update(from_a, UpdateType::Delete, "bob", SHORT).is_some());
    // CloseRoom from node 2: everyone kicked, the room is empty everywhere.
    let v = admin.close_room("adm", Some("closed")).unwrap();
    assert_eq!(v["Code"], 0, "{v}");
    for rec in [&ra, &rc] {
        let (_, code, ext) = rec.expect_reason(0, R::KickOut, SHORT);
        assert_eq!(code, 1_002_055);
        assert!(ext.contains("closed"), "{ext}");
    }
    for i in 0..3 {
        assert!(user_ids(&c.admin(i), "adm").is_empty());
    }
}

#[test]
fn member_limit_is_exact_under_a_simultaneous_race_across_nodes() {
    const LIMIT: u32 = 5;
    const ENGINES: usize = 12;
    let c = Cluster::start(3);
    let barrier = Arc::new(std::sync::Barrier::new(ENGINES));
    let threads: Vec<_> = (0..ENGINES)
        .map(|i| {
            let url = c.url(i % 3);
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let (e, rec) = engine(&url, RoomMode::SingleRoom);
                let user = format!("u{i}");
                let cfg = RoomConfig { max_member_count: LIMIT, is_user_status_notify: true, token: token(&user, 3600) };
                barrier.wait();
                e.login_room("race", &User::new(user.clone(), ""), Some(&cfg)).unwrap();
                let outcome = rec.wait(SHORT * 2, |e| {
                    matches!(e, Event::RoomStateChanged { reason: R::Logined | R::LoginFailed, .. })
                });
                (e, rec, outcome)
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let mut logined = 0;
    let mut full = 0;
    for (_, rec, outcome) in &results {
        match outcome {
            Some((_, Event::RoomStateChanged { reason: R::Logined, .. })) => logined += 1,
            Some((_, Event::RoomStateChanged { reason: R::LoginFailed, error_code: 1_002_034, .. })) => full += 1,
            other => panic!("unexpected outcome {other:?}: {:#?}", rec.all()),
        }
    }
    assert_eq!((logined, full), (LIMIT as usize, ENGINES - LIMIT as usize));
    let v = c.admin(1).describe_user_num(&["race"]).unwrap();
    assert_eq!(v["Data"][0]["UserCount"], LIMIT, "{v}");
}

/// 300 members (raw protocol, they do not resume) log in to one room at once, spread over 3
/// nodes, with user status notification: every one of them stays connected and sees a later
/// join. A node's view of a busy room runs ahead of the snapshot a login got (the first login to
/// register may hold a newer snapshot than the others, and hundreds of other nodes' joins
/// arrive while a login waits for Redis); such a session used to be closed ("registered too far
/// behind the view"), losing it (cluster_bench fanout: only 400–815 of 1,000 saw a join).
#[test]
fn a_burst_of_simultaneous_logins_across_nodes_loses_no_member() {
    use futures_util::{SinkExt, StreamExt};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio_tungstenite::tungstenite::Message;
    use zego_room::protocol::{ClientMsg, ServerMsg, UserUpdateKind, PROTOCOL_VERSION};
    const N: usize = 300;
    let c = Cluster::start(3);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let ready = Arc::new(AtomicUsize::new(0));
    let closed = Arc::new(AtomicUsize::new(0));
    let saw = Arc::new(AtomicUsize::new(0));
    for i in 0..N {
        let (url, ready, closed, saw) = (c.url(i % 3), ready.clone(), closed.clone(), saw.clone());
        rt.spawn(async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str()).await.expect("connect");
            let user = format!("m{i}");
            let login = ClientMsg::Login {
                v: PROTOCOL_VERSION,
                app_id: APP_ID,
                room_id: "burst".into(),
                user_id: user.clone(),
                user_name: String::new(),
                token: token(&user, 3600),
                max_member_count: 0,
                user_status_notify: true,
                resume_session_id: None,
                client_id: user.clone(),
                last_msg_id: 0,
            };
            ws.send(Message::text(login.encode())).await.unwrap();
            let mut ping = tokio::time::interval(Duration::from_millis(500));
            loop {
                tokio::select! {
                    _ = ping.tick() => { let _ = ws.send(Message::text(ClientMsg::Ping.encode())).await; }
                    m = ws.next() => match m {
                        Some(Ok(Message::Text(t))) => match ServerMsg::decode(t.as_str()) {
                            Ok(ServerMsg::LoginOk { .. }) => {
                                ready.fetch_add(1, Ordering::SeqCst);
                            }
                            Ok(ServerMsg::UserUpdate { update: UserUpdateKind::Add, users }) if users.iter().any(|u| u.user_id == "late") => {
                                saw.fetch_add(1, Ordering::SeqCst);
                            }
                            _ => {}
                        },
                        None | Some(Err(_)) => break,
                        _ => {}
                    }
                }
            }
            closed.fetch_add(1, Ordering::SeqCst);
        });
    }
    assert!(eventually(Duration::from_secs(30), || ready.load(Ordering::SeqCst) == N), "{} of {N} logged in", ready.load(Ordering::SeqCst));
    let (_late, _rl) = joined(&c.url(0), "burst", "late");
    let all_saw = eventually(Duration::from_secs(10), || saw.load(Ordering::SeqCst) == N);
    assert!(
        all_saw,
        "{} of {N} members saw the later join; {} member connections were closed by a node",
        saw.load(Ordering::SeqCst),
        closed.load(Ordering::SeqCst)
    );
    assert_eq!(closed.load(Ordering::SeqCst), 0);
    // Every login of the room waited until its node listened to the room, so no node saw a gap
    // in the room's events and had to read the whole room again.
    for i in 0..3 {
        let admin = AdminClient::new(c.nodes[i].as_ref().unwrap().admin_addr(), APP_ID, None);
        let (_, text) = admin.get_text("/metrics").expect("GET /metrics");
        let rereads = text.lines().find(|l| l.starts_with("zego_room_room_rereads_total ")).expect("the re-read counter");
        assert_eq!(rereads, "zego_room_room_rereads_total 0", "node {i}");
    }
    drop(rt);
}

/// Redis dies and comes back empty while everyone idles: nobody sees a Delete or an Add, every
/// node's view and the admin API converge, and a login after it is seen across nodes. A login
/// during the outage stays Logining (no LoginFailed) and succeeds once Redis is back.
#[test]
fn redis_restarted_without_its_data_while_clients_idle_causes_no_flap() {
    let mut c = Cluster::start(3);
    let (_a, ra) = joined(&c.url(0), "idle", "alice");
    let (_b, rb) = joined(&c.url(1), "idle", "bob");
    let (carol, rc) = joined(&c.url(2), "idle", "carol");
    carol.start_publishing_stream("s-carol", None, PublishChannel::Main).unwrap();
    wait_event(&rc, 0, "Publishing", |e| matches!(e, Event::PublisherStateUpdate { state: PublisherState::Publishing, .. }));
    for rec in [&ra, &rb] {
        assert!(rec.wait_user_update(0, UpdateType::Add, "carol", SHORT).is_some());
        wait_event(rec, 0, "stream Add", |e| matches!(e, Event::RoomStreamUpdate { update_type: UpdateType::Add, .. }));
    }
    let marks = [ra.len(), rb.len(), rc.len()];
    c.redis.kill();
    // A login while Redis is down: refused for now (login_retry), so it keeps trying.
    let (dave, rd) = engine(&c.url(0), RoomMode::SingleRoom);
    dave.login_room("idle", &User::new("dave", ""), Some(&cfg_notify(token("dave", 3600)))).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    c.redis.restart();
    // dave gets in once Redis is back, and is seen across nodes.
    rd.expect_reason(0, R::Logined, Duration::from_secs(10));
    for rec in [&ra, &rb, &rc] {
        assert!(rec.wait_user_update(0, UpdateType::Add, "dave", Duration::from_secs(10)).is_some(), "{:#?}", rec.all());
    }
    assert!(!rd.reasons().iter().any(|(r, _)| *r == R::LoginFailed), "{:?}", rd.reasons());
    // Past the grace since the outage: everyone is still there, with the stream.
    std::thread::sleep(GRACE + Duration::from_secs(2));
    for i in 0..3 {
        assert!(
            eventually(Duration::from_secs(10), || user_ids(&c.admin(i), "idle") == ids(&["alice", "bob", "carol", "dave"])),
            "node {i}: {:?}",
            user_ids(&c.admin(i), "idle")
        );
    }
    let v = c.admin(0).describe_streams("idle").unwrap();
    assert_eq!(v["Data"]["StreamList"][0]["StreamId"], "s-carol", "{v}");
    for (rec, from) in [(&ra, marks[0]), (&rb, marks[1]), (&rc, marks[2])] {
        let after: Vec<Event> = rec.all().into_iter().skip(from).collect();
        assert!(
            !after.iter().any(|e| matches!(e, Event::RoomUserUpdate { update_type: UpdateType::Delete, .. } | Event::RoomStreamUpdate { update_type: UpdateType::Delete, .. })),
            "no Delete: {after:#?}"
        );
        assert!(!after.iter().any(|e| matches!(e, Event::RoomUserUpdate { users, .. } if users.iter().any(|u| u.user_id != "dave"))), "no Add but dave's: {after:#?}");
        assert!(!after.iter().any(|e| matches!(e, Event::RoomStateChanged { .. })), "the connections stayed up: {after:#?}");
    }
    // Presence still works across nodes afterwards.
    let from = ra.len();
    drop(carol);
    assert!(ra.wait_user_update(from, UpdateType::Delete, "carol", SHORT).is_some());
}

/// Redis restarts *with* its data (append-only file) while clients idle: nobody sees anything,
/// and events flow again (the nodes re-subscribed and re-read their rooms).
#[test]
fn redis_restarted_with_its_data_while_clients_idle_causes_no_flap() {
    let mut c = Cluster::with_redis(RedisServer::start_with(true), 2);
    let (_a, ra) = joined(&c.url(0), "aof", "alice");
    let (_b, rb) = joined(&c.url(1), "aof", "bob");
    assert!(ra.wait_user_update(0, UpdateType::Add, "bob", SHORT).is_some());
    let marks = [ra.len(), rb.len()];
    c.redis.kill();
    std::thread::sleep(Duration::from_millis(2000));
    c.redis.restart();
    std::thread::sleep(GRACE);
    let (_carol, _rc) = joined(&c.url(1), "aof", "carol");
    assert!(ra.wait_user_update(marks[0], UpdateType::Add, "carol", Duration::from_secs(10)).is_some(), "{:#?}", ra.all());
    for (rec, from) in [(&ra, marks[0]), (&rb, marks[1])] {
        let after: Vec<Event> = rec.all().into_iter().skip(from).collect();
        assert!(!after.iter().any(|e| matches!(e, Event::RoomUserUpdate { update_type: UpdateType::Delete, .. })), "{after:#?}");
        assert!(!after.iter().any(|e| matches!(e, Event::RoomStateChanged { .. })), "{after:#?}");
    }
    assert_eq!(user_ids(&c.admin(0), "aof"), ids(&["alice", "bob", "carol"]));
}

// ---- real processes: SIGKILL and SIGTERM of a node --------------------------------------------

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

struct Proc {
    ws: SocketAddr,
    admin: SocketAddr,
    child: Child,
}

impl Proc {
    fn spawn(redis: &RedisServer, prefix: &str, name: &str) -> Proc {
        let (ws, admin) = (free_addr(), free_addr());
        let child = Command::new(BIN)
            .args(["--listen", &ws.to_string(), "--admin-listen", &admin.to_string(), "--app-id", &APP_ID.to_string()])
            .args(["--server-secret", SECRET, "--ping-interval", "1", "--heartbeat-timeout", &GRACE.as_secs().to_string()])
            .args(["--redis", &redis.url(), "--redis-prefix", prefix, "--node-id", name])
            .stdout(Stdio::null())
            .stderr(if std::env::var_os("CLUSTER_LOG").is_some() { Stdio::inherit() } else { Stdio::null() })
            .spawn()
            .expect("spawn zego-room-server");
        assert!(eventually(SHORT, || std::net::TcpStream::connect(ws).is_ok() && std::net::TcpStream::connect(admin).is_ok()));
        Proc { ws, admin, child }
    }

    fn url(&self) -> String {
        format!("ws://{}", self.ws)
    }

    fn admin(&self) -> AdminClient {
        AdminClient::new(self.admin, APP_ID, Some(SECRET))
    }

    fn signal(&mut self, sig: &str) -> std::process::ExitStatus {
        assert!(Command::new("kill").args([sig, &self.child.id().to_string()]).status().unwrap().success());
        let deadline = Instant::now() + SHORT;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "node did not exit after {sig}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A node dies: its users stay present for the grace; engines that move to another node within
/// it cause nothing visible; the one that cannot come back is deleted exactly once, at loss +
/// grace, with its stream (Delete 2).
#[test]
fn sigkill_of_a_node_loses_no_room() {
    init_logs();
    let redis = RedisServer::start();
    let p = prefix();
    let mut n0 = Proc::spawn(&redis, &p, "n0");
    let n1 = Proc::spawn(&redis, &p, "n1");
    let n2 = Proc::spawn(&redis, &p, "n2");
    // mover: n0 first, n1 next. stuck: only n0 (through a proxy). watcher: on n2.
    let movers: Vec<_> = (0..3).map(|i| joined(&format!("{},{}", n0.url(), n1.url()), "k", &format!("mover{i}"))).collect();
    movers[0].0.start_publishing_stream("s-mover", None, PublishChannel::Main).unwrap();
    wait_event(&movers[0].1, 0, "Publishing", |e| matches!(e, Event::PublisherStateUpdate { state: PublisherState::Publishing, .. }));
    let proxy = FaultProxy::start(n0.ws);
    let (stuck, rs) = joined(&format!("ws://{}", proxy.addr()), "k", "stuck");
    stuck.start_publishing_stream("s-stuck", None, PublishChannel::Main).unwrap();
    wait_event(&rs, 0, "Publishing", |e| matches!(e, Event::PublisherStateUpdate { state: PublisherState::Publishing, .. }));
    let (_watcher, rw) = joined(&n2.url(), "k", "watcher");
    for u in ["mover0", "mover1", "mover2", "stuck"] {
        assert!(rw.wait_user_update(0, UpdateType::Add, u, SHORT).is_some(), "{u}");
    }
    wait_event(&rw, 0, "two streams", |e| matches!(e, Event::RoomStreamUpdate { update_type: UpdateType::Add, streams, .. } if streams.len() == 2));
    let from = rw.len();
    let killed = Instant::now();
    let status = n0.signal("-KILL");
    assert!(!status.success());
    // The movers reconnect on n1 within a few seconds.
    for (i, (_, rec)) in movers.iter().enumerate() {
        let (at, _, _) = rec.expect_reason(0, R::Reconnected, Duration::from_secs(6));
        assert!(at.saturating_duration_since(killed) < Duration::from_secs(5), "mover{i} back in {:?}", at - killed);
    }
    // stuck cannot come back: exactly one Delete at loss + grace, with its stream (Delete 2).
    let del = rw.wait_user_update(from, UpdateType::Delete, "stuck", GRACE + Duration::from_secs(5)).expect("Delete(stuck)");
    let after = del.saturating_duration_since(killed);
    assert!(after >= GRACE - Duration::from_millis(1200) && after <= GRACE + Duration::from_millis(1500), "Delete at loss + grace, got {after:?}");
    std::thread::sleep(Duration::from_secs(2));
    let seen: Vec<Event> = rw.all().into_iter().skip(from).collect();
    let user_updates: Vec<&Event> = seen.iter().filter(|e| matches!(e, Event::RoomUserUpdate { .. })).collect();
    assert_eq!(user_updates.len(), 1, "only stuck's Delete, nothing about the movers: {seen:#?}");
    let stream_deletes: Vec<&Event> = seen.iter().filter(|e| matches!(e, Event::RoomStreamUpdate { update_type: UpdateType::Delete, .. })).collect();
    assert_eq!(stream_deletes.len(), 1, "{seen:#?}");
    match stream_deletes[0] {
        Event::RoomStreamUpdate { streams, extended_data, .. } => {
            assert_eq!(streams[0].stream_id, "s-stuck");
            assert!(extended_data.contains(r#""code":2"#), "{extended_data}");
        }
        _ => unreachable!(),
    }
    assert!(!seen.iter().any(|e| matches!(e, Event::RoomStreamUpdate { update_type: UpdateType::Add, .. })), "{seen:#?}");
    let mut users = user_ids(&n1.admin(), "k");
    users.sort();
    assert_eq!(users, ids(&["mover0", "mover1", "mover2", "watcher"]));
    assert_eq!(user_ids(&n2.admin(), "k"), users);
    let v = n2.admin().describe_streams("k").unwrap();
    assert_eq!(v["Data"]["StreamList"].as_array().unwrap().len(), 1, "{v}");
}

/// SIGTERM: the node closes its connections and exits 0, keeping its users' presence; their
/// engines resume on another node and nobody sees anything.
#[test]
fn sigterm_of_a_node_moves_its_engines_invisibly() {
    init_logs();
    let redis = RedisServer::start();
    let p = prefix();
    let mut n0 = Proc::spawn(&redis, &p, "n0");
    let n1 = Proc::spawn(&redis, &p, "n1");
    let list = format!("{},{}", n0.url(), n1.url());
    let movers: Vec<_> = (0..3).map(|i| joined(&list, "t", &format!("m{i}"))).collect();
    let (_watcher, rw) = joined(&n1.url(), "t", "watcher");
    for i in 0..3 {
        assert!(rw.wait_user_update(0, UpdateType::Add, &format!("m{i}"), SHORT).is_some());
    }
    let from = rw.len();
    let status = n0.signal("-TERM");
    assert_eq!(status.code(), Some(0));
    for (_, rec) in &movers {
        rec.expect_reason(0, R::Reconnected, Duration::from_secs(5));
    }
    std::thread::sleep(GRACE + Duration::from_secs(1));
    let seen: Vec<Event> = rw.all().into_iter().skip(from).collect();
    assert!(!seen.iter().any(|e| matches!(e, Event::RoomUserUpdate { .. })), "{seen:#?}");
    assert_eq!(user_ids(&n1.admin(), "t"), ids(&["m0", "m1", "m2", "watcher"]));
}
