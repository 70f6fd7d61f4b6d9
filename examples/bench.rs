//! Benchmarks over loopback with a real server and real sockets. Figures go to BENCHMARKS.md.
//!
//! `cargo run --release --features server --example bench -- <what>` where <what> is one of
//! `login`, `fanout`, `fanout-raw`, `sessions [N] [PING_SECS] [notify|quiet]`, `detect`, `reconnect`, `callbacks`,
//! or `all`.
//! Every load is bounded in count and time and targets 127.0.0.1 only.

#[path = "../tests/common/proxy.rs"]
#[allow(dead_code)]
mod proxy;

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use once_cell::sync::Lazy;
use parking_lot::{Condvar, Mutex};
use proxy::{Cut, FaultProxy};
use zego_room::server::{self, ServerConfig};
use zego_room::*;

const APP_ID: u32 = 99;
const SECRET: &str = "bench-secret-0123456789abcdef012";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn summary(mut v: Vec<Duration>) -> String {
    v.sort();
    format!(
        "n={} p50={:.3} ms p99={:.3} ms max={:.3} ms",
        v.len(),
        percentile(&v, 0.5).as_secs_f64() * 1e3,
        percentile(&v, 0.99).as_secs_f64() * 1e3,
        v.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    )
}

fn config(heartbeat: u64, ping: u64) -> ServerConfig {
    ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        admin_listen: "127.0.0.1:0".parse().unwrap(),
        app_id: APP_ID,
        server_secret: Some(SECRET.into()),
        heartbeat_timeout: Duration::from_secs(heartbeat),
        ping_interval: Duration::from_secs(ping),
        count_interval: Duration::from_secs(30),
        ..ServerConfig::default()
    }
}

/// Notes when each awaited event arrives.
#[derive(Default)]
struct Probe {
    logined: Mutex<Option<Instant>>,
    reconnecting: Mutex<Option<Instant>>,
    reconnected: Mutex<Option<Instant>>,
    last_add: Mutex<Option<(Instant, String)>>,
    cv: Condvar,
}

impl EventHandler for Probe {
    fn on_room_state_changed(&self, reason: RoomStateChangedReason, _: i32, _: &str, _: &str) {
        let now = Some(Instant::now());
        match reason {
            RoomStateChangedReason::Logined => *self.logined.lock() = now,
            RoomStateChangedReason::Reconnecting => *self.reconnecting.lock() = now,
            RoomStateChangedReason::Reconnected => *self.reconnected.lock() = now,
            _ => return,
        }
        self.cv.notify_all();
    }
    fn on_room_user_update(&self, kind: UpdateType, users: &[User], _: &str) {
        if kind == UpdateType::Add && users.len() == 1 {
            *self.last_add.lock() = Some((Instant::now(), users[0].user_id.clone()));
            self.cv.notify_all();
        }
    }
}

fn wait_slot(p: &Probe, slot: &Mutex<Option<Instant>>, timeout: Duration) -> Option<Instant> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(t) = *slot.lock() {
            return Some(t);
        }
        if Instant::now() > deadline {
            return None;
        }
        let mut g = p.logined.lock();
        p.cv.wait_for(&mut g, Duration::from_millis(5));
    }
}

fn new_engine(url: &str) -> (RoomEngine, Arc<Probe>) {
    let probe = Arc::new(Probe::default());
    let e = RoomEngine::new(EngineProfile { app_id: APP_ID, server: url.into(), room_mode: RoomMode::SingleRoom }, probe.clone()).unwrap();
    (e, probe)
}

fn token(user: &str) -> String {
    zego_room::token04::generate(APP_ID, user, SECRET, 3600, "").unwrap()
}

fn room_config(user: &str, notify: bool) -> RoomConfig {
    RoomConfig { max_member_count: 0, is_user_status_notify: notify, token: token(user) }
}

/// Login latency: `login_room` called → Logined delivered (connect + WebSocket + token + join).
fn bench_login() {
    let server = server::start(config(90, 10)).unwrap();
    for n in [1usize, 100, 1000] {
        let engines: Vec<_> = (0..n).map(|_| new_engine(&server.url())).collect();
        let cfgs: Vec<_> = (0..n).map(|i| room_config(&format!("u{n}-{i}"), true)).collect();
        std::thread::sleep(Duration::from_millis(500)); // engines' threads are up, as in an app
        // Burst: all N log in at the same moment (rooms of 10 users, with user notifications).
        let started: Vec<Instant> = engines
            .iter()
            .enumerate()
            .map(|(i, (e, _))| {
                let t = Instant::now();
                e.login_room(&format!("login-{n}-{}", i / 10), &User::new(format!("u{n}-{i}"), ""), Some(&cfgs[i])).unwrap();
                t
            })
            .collect();
        let lat: Vec<Duration> = engines
            .iter()
            .zip(&started)
            .map(|((_, p), t)| wait_slot(p, &p.logined, Duration::from_secs(60)).expect("logined") - *t)
            .collect();
        println!("login burst, {n:>4} engines at once:            {}", summary(lat));
        // Steady: with the N engines present, 200 more log in one after another.
        let mut lat = Vec::new();
        for i in 0..200 {
            let (e, p) = new_engine(&server.url());
            let user = format!("s{n}-{i}");
            let cfg = room_config(&user, true);
            std::thread::sleep(Duration::from_millis(10)); // engine threads up
            let t = Instant::now();
            e.login_room(&format!("login-{n}-{}", i % 10), &User::new(user, ""), Some(&cfg)).unwrap();
            lat.push(wait_slot(&p, &p.logined, Duration::from_secs(10)).expect("logined") - t);
            e.destroy();
        }
        println!("login one at a time, {n:>4} engines present:   {}", summary(lat));
        for (e, _) in &engines {
            e.destroy();
        }
    }
    server.shutdown();
}

/// Fan-out: a user joins a room of 1,000 engines; time until the last member's Add callback.
fn bench_fanout() {
    let server = server::start(config(90, 10)).unwrap();
    let members: Vec<_> = (0..1000).map(|_| new_engine(&server.url())).collect();
    for (i, (e, _)) in members.iter().enumerate() {
        let user = format!("m{i}");
        e.login_room("big", &User::new(user.clone(), ""), Some(&room_config(&user, true))).unwrap();
    }
    for (_, p) in &members {
        wait_slot(p, &p.logined, Duration::from_secs(120)).expect("member logined");
    }
    std::thread::sleep(Duration::from_secs(2)); // let the joins' own Add storm settle
    let mut lat = Vec::new();
    for round in 0..30 {
        let (joiner, _) = new_engine(&server.url());
        let user = format!("joiner{round}");
        let cfg = room_config(&user, true);
        std::thread::sleep(Duration::from_millis(10));
        let t = Instant::now();
        joiner.login_room("big", &User::new(user.clone(), ""), Some(&cfg)).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = t;
        for (_, p) in &members {
            loop {
                if let Some((at, who)) = p.last_add.lock().clone() {
                    if who == user {
                        last = last.max(at);
                        break;
                    }
                }
                assert!(Instant::now() < deadline, "a member never saw the join");
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        lat.push(last - t);
        joiner.destroy();
        std::thread::sleep(Duration::from_millis(200)); // the Delete fan-out
    }
    println!("fan-out of one join to 1,000 engines (last callback): {}", summary(lat));
    for (e, _) in &members {
        e.destroy();
    }
    server.shutdown();
}

/// Fan-out as the server does it: 1,000 members are raw protocol sessions (tokio tasks, one
/// runtime), the joiner is a real engine; time from `login_room` to the last member receiving Add.
fn bench_fanout_raw() {
    use futures_util::{SinkExt, StreamExt};
    use zego_room::protocol::{ClientMsg, ServerMsg, UserUpdateKind, PROTOCOL_VERSION};
    let server = server::start(config(90, 10)).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<(Instant, String)>();
    let ready = Arc::new(AtomicUsize::new(0));
    for i in 0..1000 {
        let (url, tx, ready) = (server.url(), tx.clone(), ready.clone());
        rt.spawn(async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str()).await.expect("connect");
            let user = format!("raw{i}");
            let login = ClientMsg::Login {
                v: PROTOCOL_VERSION,
                app_id: APP_ID,
                room_id: "big-raw".into(),
                user_id: user.clone(),
                user_name: String::new(),
                token: token(&user),
                max_member_count: 0,
                user_status_notify: true,
                resume_session_id: None,
                client_id: String::new(),
                last_msg_id: 0,
            };
            ws.send(tokio_tungstenite::tungstenite::Message::text(login.encode())).await.unwrap();
            while let Some(Ok(m)) = ws.next().await {
                if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
                    match ServerMsg::decode(t.as_str()) {
                        Ok(ServerMsg::LoginOk { .. }) => {
                            ready.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(ServerMsg::UserUpdate { update: UserUpdateKind::Add, users }) if users[0].user_id.starts_with("joiner") => {
                            let _ = tx.send((Instant::now(), users[0].user_id.clone()));
                        }
                        _ => {}
                    }
                }
            }
        });
    }
    while ready.load(Ordering::SeqCst) < 1000 {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_secs(2));
    let mut lat = Vec::new();
    for round in 0..50 {
        let (joiner, _) = new_engine(&server.url());
        let user = format!("joiner{round}");
        let cfg = room_config(&user, true);
        std::thread::sleep(Duration::from_millis(10));
        let t = Instant::now();
        joiner.login_room("big-raw", &User::new(user.clone(), ""), Some(&cfg)).unwrap();
        let mut last = t;
        let mut got = 0;
        while got < 1000 {
            let (at, who) = rx.recv_timeout(Duration::from_secs(10)).expect("a member never saw the join");
            if who == user {
                got += 1;
                last = last.max(at);
            }
        }
        lat.push(last - t);
        joiner.destroy();
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("fan-out of one join to 1,000 raw sessions (last receipt): {}", summary(lat));
    drop(rt);
    server.shutdown();
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn free_addr() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

fn server_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("zego-room-server")
}

/// Sessions held by one server process (a separate process, so its RSS is its own), with raw
/// protocol clients from child processes pinging every second.
/// `notify`: every session logs in with `is_user_status_notify` (rooms of 100: each gets a
/// `login_ok` listing up to 99 users and an Add per later arrival), the heavier case.
fn bench_sessions(total: usize, ping_secs: u64, notify: bool) {
    let (ws, admin) = (free_addr(), free_addr());
    let mut server: Child = Command::new(server_binary())
        .args(["--listen", &ws.to_string(), "--admin-listen", &admin.to_string(), "--app-id", &APP_ID.to_string()])
        .args(["--ping-interval", &ping_secs.to_string(), "--heartbeat-timeout", &(ping_secs * 5).max(5).to_string()])
        .env("RUST_LOG", "error")
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start zego-room-server (build it with --features server)");
    while std::net::TcpStream::connect(ws).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let base = rss_kb(server.id());
    let per_proc = 5000;
    let procs = total.div_ceil(per_proc);
    let exe = std::env::current_exe().unwrap();
    let hold = 30 + 2 * ping_secs;
    let children: Vec<Child> = (0..procs)
        .map(|k| {
            let n = per_proc.min(total - k * per_proc);
            Command::new(&exe)
                .args(["loadgen", &ws.to_string(), &n.to_string(), &k.to_string(), &hold.to_string(), &ping_secs.to_string()])
                .arg(if notify { "notify" } else { "quiet" })
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    // Sample the server's RSS once everyone is in and idle (pings only).
    let client = zego_room::server::admin::AdminClient::new(admin, APP_ID, None);
    let rooms: Vec<String> = (0..total.div_ceil(100)).map(|r| format!("load-{r}")).collect();
    let count = || -> u64 {
        rooms
            .chunks(10)
            .map(|chunk| {
                let ids: Vec<&str> = chunk.iter().map(String::as_str).collect();
                client.describe_user_num(&ids).ok().and_then(|v| v["Data"].as_array().map(|a| a.iter().map(|d| d["UserCount"].as_u64().unwrap_or(0)).sum::<u64>())).unwrap_or(0)
            })
            .sum()
    };
    let t0 = Instant::now();
    let mut present = 0;
    while t0.elapsed() < Duration::from_secs(120) {
        present = count();
        if present as usize >= total {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let join_time = t0.elapsed();
    std::thread::sleep(Duration::from_secs(10.max(2 * ping_secs)));
    let loaded = rss_kb(server.id());
    let still = count();
    let mut errors = 0u64;
    let mut pongs = 0u64;
    for c in children {
        let out = c.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines() {
            let mut w = line.split_whitespace();
            if w.next() == Some("RESULT") {
                errors += w.next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(1);
                pongs += w.next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            }
        }
    }
    println!(
        "sessions ({}): {present} of {total} present after {:.1} s, {still} still present {} s later (ping every {ping_secs} s); client errors {errors}; pongs {pongs}",
        if notify { "rooms of 100, user notifications on" } else { "rooms of 100, notifications off" },
        join_time.as_secs_f64(),
        10.max(2 * ping_secs)
    );
    println!(
        "server RSS: {base} KiB idle → {loaded} KiB with {still} sessions = {:.2} KiB per session",
        (loaded.saturating_sub(base)) as f64 / still.max(1) as f64
    );
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
}

/// A child process: `n` raw protocol sessions, each pinging every second for `hold` seconds.
fn loadgen(addr: &str, n: usize, shard: usize, hold: u64, ping_secs: u64, notify: bool) {
    use futures_util::{SinkExt, StreamExt};
    use zego_room::protocol::{ClientMsg, ServerMsg, PROTOCOL_VERSION};
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let errors = Arc::new(AtomicUsize::new(0));
    let pongs = Arc::new(AtomicUsize::new(0));
    let reasons: Arc<Mutex<std::collections::BTreeMap<String, usize>>> = Arc::default();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..n {
            let url = format!("ws://{addr}");
            let (errors, pongs, reasons) = (errors.clone(), pongs.clone(), reasons.clone());
            let global = shard * 5000 + i;
            tasks.push(tokio::spawn(async move {
                let fail_with = |why: String| {
                    errors.fetch_add(1, Ordering::Relaxed);
                    *reasons.lock().entry(why).or_default() += 1;
                };
                let fail = || fail_with("send failed".into());
                let mut ws = match tokio_tungstenite::connect_async(url.as_str()).await {
                    Ok((ws, _)) => ws,
                    Err(e) => return fail_with(format!("connect: {e}")),
                };
                let login = ClientMsg::Login {
                    v: PROTOCOL_VERSION,
                    app_id: APP_ID,
                    room_id: format!("load-{}", global / 100),
                    user_id: format!("l{global}"),
                    user_name: String::new(),
                    token: String::new(),
                    max_member_count: 0,
                    user_status_notify: notify,
                    resume_session_id: None,
                    client_id: format!("load-{global}"),
                    last_msg_id: 0,
                };
                if ws.send(tokio_tungstenite::tungstenite::Message::text(login.encode())).await.is_err() {
                    return fail();
                }
                let end = tokio::time::Instant::now() + Duration::from_secs(hold);
                // Pings spread over the interval, as independent clients would be.
                let first = tokio::time::Instant::now() + Duration::from_millis(fastrand::u64(0..ping_secs * 1000));
                let mut tick = tokio::time::interval_at(first, Duration::from_secs(ping_secs));
                loop {
                    tokio::select! {
                        _ = tick.tick() => {
                            if tokio::time::Instant::now() >= end { break; }
                            if ws.send(tokio_tungstenite::tungstenite::Message::text(ClientMsg::Ping.encode())).await.is_err() { return fail(); }
                        }
                        m = ws.next() => match m {
                            Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) => match ServerMsg::decode(t.as_str()) {
                                Ok(ServerMsg::Pong) => { pongs.fetch_add(1, Ordering::Relaxed); }
                                Ok(ServerMsg::LoginFailed { .. } | ServerMsg::Kicked { .. } | ServerMsg::Error { .. }) | Err(_) => return fail_with(format!("refused: {t}")),
                                Ok(_) => {}
                            },
                            other => return fail_with(format!("stream ended: {:?}", other.map(|r| r.map(|m| m.to_string())))),
                        }
                    }
                }
                let _ = ws.close(None).await;
            }));
            if i % 200 == 199 {
                tokio::time::sleep(Duration::from_millis(20)).await; // pace the SYNs a little
            }
        }
        for t in tasks {
            let _ = t.await;
        }
    });
    for (why, n) in reasons.lock().iter() {
        eprintln!("loadgen {shard}: {n} × {why}");
    }
    println!("RESULT {} {}", errors.load(Ordering::Relaxed), pongs.load(Ordering::Relaxed));
}

/// Detection: closed connection (reset) and silent drop (blackhole), ping interval 1 s.
fn bench_detect() {
    let server = server::start(config(30, 1)).unwrap();
    for (name, cut) in [("closed (reset)", Cut::Reset), ("closed (FIN)", Cut::Close), ("silent (blackhole)", Cut::Blackhole)] {
        let mut lat = Vec::new();
        for i in 0..10 {
            let proxy = FaultProxy::start(server.ws_addr());
            let (e, p) = new_engine(&proxy.url());
            let user = format!("d{i}");
            e.login_room("detect", &User::new(user.clone(), ""), Some(&room_config(&user, false))).unwrap();
            wait_slot(&p, &p.logined, Duration::from_secs(5)).unwrap();
            // Cut at a random point of the ping cycle.
            std::thread::sleep(Duration::from_millis(200 + fastrand::u64(0..1000)));
            let t = Instant::now();
            proxy.cut(cut);
            lat.push(wait_slot(&p, &p.reconnecting, Duration::from_secs(10)).expect("detected") - t);
            e.destroy();
        }
        println!("detection, {name:<20} {}", summary(lat));
    }
    server.shutdown();
}

/// Network restored → Reconnected (cut 3 s by refusing + closing, then restore).
fn bench_reconnect() {
    let server = server::start(config(60, 1)).unwrap();
    let mut lat = Vec::new();
    for i in 0..40 {
        let proxy = FaultProxy::start(server.ws_addr());
        let (e, p) = new_engine(&proxy.url());
        let user = format!("r{i}");
        e.login_room("reconnect", &User::new(user.clone(), ""), Some(&room_config(&user, false))).unwrap();
        wait_slot(&p, &p.logined, Duration::from_secs(5)).unwrap();
        proxy.cut(Cut::Close);
        wait_slot(&p, &p.reconnecting, Duration::from_secs(5)).unwrap();
        std::thread::sleep(Duration::from_millis(3000));
        let t = Instant::now();
        proxy.restore();
        lat.push(wait_slot(&p, &p.reconnected, Duration::from_secs(15)).expect("reconnected") - t);
        e.destroy();
    }
    println!("network restored → Reconnected (after a 3 s outage): {}", summary(lat));
    server.shutdown();
}

/// Callback delivery through the C ABI: engine created and callback registered with the C
/// functions; events queued as if the core produced them (no network), delivered by the
/// dispatcher thread through the C callback table to an `extern "C"` function.
fn bench_callbacks() {
    use std::ffi::{c_char, c_void, CString};
    use std::sync::atomic::AtomicU64;
    use zego_room::ffi::c::*;

    static DELIVERED: AtomicU64 = AtomicU64::new(0);
    static SENT_AT_NS: AtomicU64 = AtomicU64::new(0);
    static SEEN_AT_NS: AtomicU64 = AtomicU64::new(0);
    static BASE: once_cell::sync::Lazy<Instant> = once_cell::sync::Lazy::new(Instant::now);

    unsafe extern "C" fn on_state(_: *mut c_void, _: zego_room_state_changed_reason, _: i32, _: *const c_char, _: *const c_char) {
        SEEN_AT_NS.store(BASE.elapsed().as_nanos() as u64, Ordering::Release);
        DELIVERED.fetch_add(1, Ordering::Release);
    }

    let server = CString::new("ws://127.0.0.1:9").unwrap();
    let profile = zego_engine_profile { app_id: 1, server: server.as_ptr(), room_mode: zego_room_mode::ZEGO_ROOM_MODE_SINGLE_ROOM };
    let mut engine = std::ptr::null_mut();
    assert_eq!(unsafe { zego_engine_create(&profile, &mut engine) }, 0);
    zego_engine_register_room_state_changed_callback(engine, Some(on_state), std::ptr::null_mut());
    let event = || Event::RoomStateChanged {
        reason: RoomStateChangedReason::Reconnecting,
        error_code: 1002051,
        extended_data: "{}".into(),
        room_id: "bench-room".into(),
    };
    Lazy::force(&BASE);

    // Throughput: 2,000,000 events queued in batches of 10,000 by one producer thread.
    let total = 2_000_000u64;
    let start = Instant::now();
    let mut queued = 0;
    while queued < total {
        let batch: Vec<Event> = (0..10_000).map(|_| event()).collect();
        assert_eq!(inject_events_for_bench(engine, batch), 0);
        queued += 10_000;
    }
    while DELIVERED.load(Ordering::Acquire) < total {
        std::hint::spin_loop();
    }
    let took = start.elapsed();
    println!(
        "callbacks through the C ABI: {total} events in {:.3} s = {:.2} M events/s (producer included)",
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64() / 1e6
    );

    // Latency: one event at a time, from queueing to the C function running.
    let mut lat = Vec::new();
    for _ in 0..20_000 {
        let before = DELIVERED.load(Ordering::Acquire);
        SENT_AT_NS.store(BASE.elapsed().as_nanos() as u64, Ordering::Release);
        inject_events_for_bench(engine, vec![event()]);
        while DELIVERED.load(Ordering::Acquire) == before {
            std::hint::spin_loop();
        }
        lat.push(Duration::from_nanos(SEEN_AT_NS.load(Ordering::Acquire) - SENT_AT_NS.load(Ordering::Acquire)));
        std::thread::sleep(Duration::from_micros(50)); // let the callback thread go idle again
    }
    lat.sort();
    println!(
        "callback latency (queued → C function running), thread idle before each: n={} p50={:.1} µs p99={:.1} µs",
        lat.len(),
        percentile(&lat, 0.5).as_secs_f64() * 1e6,
        percentile(&lat, 0.99).as_secs_f64() * 1e6
    );
    zego_engine_destroy(engine);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("all");
    match what {
        "login" => bench_login(),
        "fanout" => bench_fanout(),
        "fanout-raw" => bench_fanout_raw(),
        "sessions" => bench_sessions(
            args.get(1).and_then(|n| n.parse().ok()).unwrap_or(10_000),
            args.get(2).and_then(|n| n.parse().ok()).unwrap_or(10),
            args.get(3).map(String::as_str) != Some("quiet"),
        ),
        "loadgen" => loadgen(&args[1], args[2].parse().unwrap(), args[3].parse().unwrap(), args[4].parse().unwrap(), args[5].parse().unwrap(), args[6] == "notify"),
        "detect" => bench_detect(),
        "reconnect" => bench_reconnect(),
        "callbacks" => bench_callbacks(),
        "all" => {
            bench_login();
            bench_fanout();
            bench_fanout_raw();
            bench_sessions(10_000, 10, true);
            bench_sessions(10_000, 10, false);
            bench_sessions(15_000, 1, true);
            bench_sessions(19_900, 10, true);
            bench_detect();
            bench_reconnect();
            bench_callbacks();
        }
        other => {
            eprintln!("unknown benchmark '{other}'");
            std::process::exit(2);
        }
    }
}
