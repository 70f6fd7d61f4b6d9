//! Cluster benchmarks (contract §8): a real `redis-server` and three `zego-room-server` nodes on
//! loopback. Figures go to BENCHMARKS.md.
//!
//! `cargo run --release --features server --example cluster_bench -- <what>` where <what> is
//! `sessions [N] [PING_SECS]` (sessions held by 3 node processes, pings flowing, errors, Redis
//! operations per login and per heartbeat), `fanout` (a join reaching 1,000 members spread over 3
//! nodes), `failover [N]` (SIGKILL of a node: its engines Reconnected on another node), or `all`.
//! Needs `redis-server` on the PATH and the server binary (`cargo build --release --features
//! server --bin zego-room-server`). Every load is bounded and targets 127.0.0.1 only.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use zego_room::server::admin::AdminClient;
use zego_room::server::{self, ServerConfig};
use zego_room::*;

const APP_ID: u32 = 77;
const SECRET: &str = "bench-secret-0123456789abcdef012";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn summary(mut v: Vec<Duration>) -> String {
    v.sort();
    format!(
        "n={} p50={:.1} ms p99={:.1} ms max={:.1} ms",
        v.len(),
        percentile(&v, 0.5).as_secs_f64() * 1e3,
        percentile(&v, 0.99).as_secs_f64() * 1e3,
        v.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    )
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn token(user: &str) -> String {
    zego_room::token04::generate(APP_ID, user, SECRET, 3600, "").unwrap()
}

/// A `redis-server` without persistence on a free port, killed on drop.
struct Redis {
    port: u16,
    child: Child,
    dir: std::path::PathBuf,
}

impl Redis {
    fn start() -> Redis {
        let port = free_addr().port();
        let dir = std::env::temp_dir().join(format!("zego-cluster-bench-{port}"));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--maxclients", "1000"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server on the PATH (Debian: apt-get install redis-server)");
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis { port, child, dir }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// One command over RESP (inline), the raw answer.
    fn command(&self, cmd: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.write_all(format!("{cmd}\r\n").as_bytes()).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Calls of each command since the start (`INFO commandstats`).
    fn calls(&self) -> std::collections::BTreeMap<String, u64> {
        self.command("INFO commandstats")
            .lines()
            .filter_map(|l| {
                let rest = l.strip_prefix("cmdstat_")?;
                let (name, stats) = rest.split_once(':')?;
                let calls = stats.split(',').find_map(|kv| kv.strip_prefix("calls="))?.parse().ok()?;
                Some((name.to_owned(), calls))
            })
            .collect()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn delta(before: &std::collections::BTreeMap<String, u64>, after: &std::collections::BTreeMap<String, u64>) -> (u64, String) {
    let mut total = 0;
    let mut parts = Vec::new();
    for (k, v) in after {
        let d = v - before.get(k).copied().unwrap_or(0);
        if d > 0 && k != "info" {
            total += d;
            parts.push(format!("{k}={d}"));
        }
    }
    (total, parts.join(" "))
}

fn server_binary() -> std::path::PathBuf {
    std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().join("zego-room-server")
}

struct Node {
    ws: SocketAddr,
    admin: SocketAddr,
    child: Child,
}

impl Node {
    fn spawn(redis: &Redis, name: &str, ping: u64, grace: u64) -> Node {
        let (ws, admin) = (free_addr(), free_addr());
        let child = Command::new(server_binary())
            .args(["--listen", &ws.to_string(), "--admin-listen", &admin.to_string(), "--app-id", &APP_ID.to_string()])
            .args(["--ping-interval", &ping.to_string(), "--heartbeat-timeout", &grace.to_string()])
            .args(["--redis", &redis.url(), "--node-id", name])
            .env("RUST_LOG", "error")
            .stderr(Stdio::inherit())
            .spawn()
            .expect("zego-room-server (cargo build --release --features server --bin zego-room-server)");
        while TcpStream::connect(ws).is_err() || TcpStream::connect(admin).is_err() {
            std::thread::sleep(Duration::from_millis(20));
        }
        Node { ws, admin, child }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

/// Sessions held by three node processes: raw protocol clients from child processes (≤ 5,000
/// each), spread round-robin over the nodes, pinging every `ping` seconds.
fn bench_sessions(total: usize, ping: u64) {
    let redis = Redis::start();
    let nodes: Vec<Node> = (0..3).map(|i| Node::spawn(&redis, &format!("node-{i}"), ping, (ping * 5).max(10))).collect();
    std::thread::sleep(Duration::from_millis(500));
    let base: Vec<u64> = nodes.iter().map(|n| rss_kb(n.child.id())).collect();
    let addrs: Vec<String> = nodes.iter().map(|n| n.ws.to_string()).collect();
    let per_proc = 5000;
    let procs = total.div_ceil(per_proc);
    let hold = 120 + 3 * ping;
    let exe = std::env::current_exe().unwrap();
    let before_login = redis.calls();
    let t0 = Instant::now();
    let children: Vec<Child> = (0..procs)
        .map(|k| {
            let n = per_proc.min(total - k * per_proc);
            Command::new(&exe)
                .args(["loadgen", &addrs.join(","), &n.to_string(), &k.to_string(), &hold.to_string(), &ping.to_string()])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let admin = AdminClient::new(nodes[1].admin, APP_ID, None);
    let rooms: Vec<String> = (0..total.div_ceil(100)).map(|r| format!("load-{r}")).collect();
    let count = || -> u64 {
        rooms
            .chunks(10)
            .map(|chunk| {
                let ids: Vec<&str> = chunk.iter().map(String::as_str).collect();
                admin.describe_user_num(&ids).ok().and_then(|v| v["Data"].as_array().map(|a| a.iter().map(|d| d["UserCount"].as_u64().unwrap_or(0)).sum::<u64>())).unwrap_or(0)
            })
            .sum()
    };
    let mut present = 0;
    while t0.elapsed() < Duration::from_secs(240) {
        present = count();
        if present as usize >= total {
            break;
        }
        std::thread::sleep(Duration::from_millis(1000));
    }
    let join_time = t0.elapsed();
    let after_login = redis.calls();
    // Idle: pings only. Count Redis operations and heartbeats over a window.
    std::thread::sleep(Duration::from_secs(2));
    let idle_start = redis.calls();
    let window = Duration::from_secs((3 * ping).max(20));
    let w0 = Instant::now();
    std::thread::sleep(window);
    let idle_end = redis.calls();
    let idle_secs = w0.elapsed().as_secs_f64();
    let loaded: Vec<u64> = nodes.iter().map(|n| rss_kb(n.child.id())).collect();
    let redis_rss = rss_kb(redis.child.id());
    let still = count();
    let mut errors = 0u64;
    let mut pongs = 0u64;
    for c in children {
        let out = c.wait_with_output().unwrap();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let mut w = line.split_whitespace();
            if w.next() == Some("RESULT") {
                errors += w.next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(1);
                pongs += w.next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            }
        }
    }
    println!(
        "cluster sessions: {present} of {total} present after {:.1} s (3 nodes), {still} still present after {:.0} s idle (ping every {ping} s); client errors {errors}; pongs {pongs}",
        join_time.as_secs_f64(),
        idle_secs + 2.0
    );
    for (i, (b, l)) in base.iter().zip(&loaded).enumerate() {
        println!("  node-{i} RSS {b} KiB idle → {l} KiB loaded");
    }
    println!("  redis-server RSS {redis_rss} KiB");
    let (login_ops, login_detail) = delta(&before_login, &after_login);
    println!("  Redis operations during the logins: {login_ops} ({login_detail}) = {:.2} per login (incl. periodic work)", login_ops as f64 / total as f64);
    let (idle_ops, idle_detail) = delta(&idle_start, &idle_end);
    let heartbeats = total as f64 * idle_secs / ping as f64;
    println!(
        "  idle {:.0} s: {idle_ops} Redis operations ({idle_detail}) = {:.1}/s for ~{:.0} heartbeats/s = {:.4} operations per heartbeat (batched per node every 100 ms; reap every 100 ms and health every 250 ms included)",
        idle_secs,
        idle_ops as f64 / idle_secs,
        heartbeats / idle_secs,
        idle_ops as f64 / heartbeats
    );
}

/// A child process: `n` raw protocol sessions over the given nodes (round-robin), each pinging
/// every `ping` seconds for `hold` seconds.
fn loadgen(addrs: &str, n: usize, shard: usize, hold: u64, ping: u64) {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use zego_room::protocol::{ClientMsg, ServerMsg, PROTOCOL_VERSION};
    let addrs: Vec<String> = addrs.split(',').map(str::to_owned).collect();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let errors = Arc::new(AtomicUsize::new(0));
    let pongs = Arc::new(AtomicUsize::new(0));
    let reasons: Arc<Mutex<std::collections::BTreeMap<String, usize>>> = Arc::default();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..n {
            let global = shard * 5000 + i;
            let url = format!("ws://{}", addrs[global % addrs.len()]);
            let (errors, pongs, reasons) = (errors.clone(), pongs.clone(), reasons.clone());
            tasks.push(tokio::spawn(async move {
                let fail = |why: String| {
                    errors.fetch_add(1, Ordering::Relaxed);
                    *reasons.lock().entry(why).or_default() += 1;
                };
                let mut ws = match tokio_tungstenite::connect_async(url.as_str()).await {
                    Ok((ws, _)) => ws,
                    Err(e) => return fail(format!("connect: {e}")),
                };
                let login = ClientMsg::Login {
                    v: PROTOCOL_VERSION,
                    app_id: APP_ID,
                    room_id: format!("load-{}", global / 100),
                    user_id: format!("l{global}"),
                    user_name: String::new(),
                    token: String::new(),
                    max_member_count: 0,
                    user_status_notify: false,
                    resume_session_id: None,
                    client_id: format!("c{global}"),
                    last_msg_id: 0,
                };
                if ws.send(Message::text(login.encode())).await.is_err() {
                    return fail("send failed".into());
                }
                let end = tokio::time::Instant::now() + Duration::from_secs(hold);
                let first = tokio::time::Instant::now() + Duration::from_millis(fastrand::u64(0..ping * 1000));
                let mut tick = tokio::time::interval_at(first, Duration::from_secs(ping));
                loop {
                    tokio::select! {
                        _ = tick.tick() => {
                            if tokio::time::Instant::now() >= end { break; }
                            if ws.send(Message::text(ClientMsg::Ping.encode())).await.is_err() { return fail("send failed".into()); }
                        }
                        m = ws.next() => match m {
                            Some(Ok(Message::Text(t))) => match ServerMsg::decode(t.as_str()) {
                                Ok(ServerMsg::Pong) => { pongs.fetch_add(1, Ordering::Relaxed); }
                                Ok(ServerMsg::LoginFailed { .. } | ServerMsg::LoginRetry { .. } | ServerMsg::Kicked { .. } | ServerMsg::Error { .. }) | Err(_) => return fail(format!("refused: {t}")),
                                Ok(_) => {}
                            },
                            other => return fail(format!("stream ended: {:?}", other.map(|r| r.map(|m| m.to_string())))),
                        }
                    }
                }
                let _ = ws.close(None).await;
            }));
            // 200 logins/s per process (2,000/s with 10 processes): 50,000 simultaneous
            // handshakes on 2 cores time out (the server closes logins not done in 5 s).
            if i % 10 == 9 {
                tokio::time::sleep(Duration::from_millis(50)).await;
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

/// A join on node 0 reaching 1,000 raw members spread over 3 nodes (in-process, one Redis):
/// time from `login_room` to the last member's Add.
fn bench_fanout() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use zego_room::protocol::{ClientMsg, ServerMsg, UserUpdateKind, PROTOCOL_VERSION};
    let redis = Redis::start();
    let nodes: Vec<_> = (0..3)
        .map(|i| {
            server::start(ServerConfig {
                listen: "127.0.0.1:0".parse().unwrap(),
                admin_listen: "127.0.0.1:0".parse().unwrap(),
                app_id: APP_ID,
                server_secret: Some(SECRET.into()),
                node_id: Some(format!("node-{i}")),
                redis: Some(redis.url()),
                ..ServerConfig::default()
            })
            .unwrap()
        })
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<(Instant, String)>();
    let ready = Arc::new(AtomicUsize::new(0));
    let closed = Arc::new(AtomicUsize::new(0));
    for i in 0..1000 {
        let (url, tx, ready, closed) = (nodes[i % 3].url(), tx.clone(), ready.clone(), closed.clone());
        rt.spawn(async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str()).await.expect("connect");
            let user = format!("raw{i}");
            let login = ClientMsg::Login {
                v: PROTOCOL_VERSION,
                app_id: APP_ID,
                room_id: "big".into(),
                user_id: user.clone(),
                user_name: String::new(),
                token: token(&user),
                max_member_count: 0,
                user_status_notify: true,
                resume_session_id: None,
                client_id: user.clone(),
                last_msg_id: 0,
            };
            ws.send(Message::text(login.encode())).await.unwrap();
            let mut ping = tokio::time::interval(Duration::from_secs(5));
            loop {
                tokio::select! {
                    _ = ping.tick() => { let _ = ws.send(Message::text(ClientMsg::Ping.encode())).await; }
                    m = ws.next() => match m {
                        Some(Ok(Message::Text(t))) => match ServerMsg::decode(t.as_str()) {
                            Ok(ServerMsg::LoginOk { .. }) => {
                                ready.fetch_add(1, Ordering::SeqCst);
                            }
                            Ok(ServerMsg::UserUpdate { update: UserUpdateKind::Add, users }) => {
                                // One Add may carry several users (the node batches what arrives together).
                                for u in users.iter().filter(|u| u.user_id.starts_with("joiner")) {
                                    let _ = tx.send((Instant::now(), u.user_id.clone()));
                                }
                            }
                            _ => {}
                        },
                        None | Some(Err(_)) => break,
                        _ => {}
                    }
                }
            }
            // A member the server closed never sees a later join (raw clients do not resume).
            closed.fetch_add(1, Ordering::SeqCst);
        });
    }
    while ready.load(Ordering::SeqCst) < 1000 {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_secs(2));
    let mut lat = Vec::new();
    let mut cross = Vec::new();
    for round in 0..100 {
        let rec = Arc::new(NoopHandler);
        let profile = EngineProfile { app_id: APP_ID, server: nodes[0].url(), room_mode: RoomMode::SingleRoom };
        let joiner = RoomEngine::new(profile, rec).unwrap();
        let user = format!("joiner{round}");
        let cfg = RoomConfig { max_member_count: 0, is_user_status_notify: false, token: token(&user) };
        std::thread::sleep(Duration::from_millis(20));
        let t = Instant::now();
        joiner.login_room("big", &User::new(user.clone(), ""), Some(&cfg)).unwrap();
        let mut got = 0;
        let mut last = t;
        while got < 1000 {
            let Ok((at, who)) = rx.recv_timeout(Duration::from_secs(10)) else {
                panic!(
                    "round {round}: {got} of 1,000 members saw the join of {user} within 10 s ({} member connections were closed by the server)",
                    closed.load(Ordering::SeqCst)
                );
            };
            if who == user {
                got += 1;
                last = last.max(at);
                cross.push(at - t);
            }
        }
        lat.push(last - t);
        joiner.destroy();
        std::thread::sleep(Duration::from_millis(50));
    }
    println!("cluster fan-out of one join (node 0) to 1,000 members on 3 nodes, last receipt: {}", summary(lat));
    println!("  every receipt (100 joins × 1,000 members): {}", summary(cross));
    drop(rt);
    for n in nodes {
        n.shutdown();
    }
}

struct NoopHandler;
impl EventHandler for NoopHandler {}

/// Engines whose first server is node 0 (list n0,n1,n2); node 0 is SIGKILLed; time until each
/// one's Reconnected (on another node).
fn bench_failover(n: usize) {
    #[derive(Default)]
    struct Probe {
        logined: Mutex<Option<Instant>>,
        reconnected: Mutex<Option<Instant>>,
    }
    impl EventHandler for Probe {
        fn on_room_state_changed(&self, reason: RoomStateChangedReason, _: i32, _: &str, _: &str) {
            match reason {
                RoomStateChangedReason::Logined => *self.logined.lock() = Some(Instant::now()),
                RoomStateChangedReason::Reconnected => *self.reconnected.lock() = Some(Instant::now()),
                _ => {}
            }
        }
    }
    let redis = Redis::start();
    let mut nodes: Vec<Node> = (0..3).map(|i| Node::spawn(&redis, &format!("node-{i}"), 10, 90)).collect();
    let list = nodes.iter().map(|n| format!("ws://{}", n.ws)).collect::<Vec<_>>().join(",");
    let engines: Vec<(RoomEngine, Arc<Probe>)> = (0..n)
        .map(|i| {
            let p = Arc::new(Probe::default());
            let profile = EngineProfile { app_id: APP_ID, server: list.clone(), room_mode: RoomMode::SingleRoom };
            let e = RoomEngine::new(profile, p.clone()).unwrap();
            let user = format!("f{i}");
            e.login_room(&format!("fo-{}", i % 10), &User::new(user, ""), None).unwrap();
            (e, p)
        })
        .collect();
    let t0 = Instant::now();
    while engines.iter().any(|(_, p)| p.logined.lock().is_none()) {
        assert!(t0.elapsed() < Duration::from_secs(60), "engines did not log in");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_secs(2));
    let killed = Instant::now();
    nodes[0].child.kill().unwrap();
    let _ = nodes[0].child.wait();
    while engines.iter().any(|(_, p)| p.reconnected.lock().is_none()) && killed.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let lat: Vec<Duration> = engines.iter().filter_map(|(_, p)| p.reconnected.lock().map(|t| t - killed)).collect();
    println!("node SIGKILL → its {n} engines Reconnected on another node: {} (missing: {})", summary(lat.clone()), n - lat.len());
    let users = AdminClient::new(nodes[1].admin, APP_ID, None).describe_user_num(&(0..10).map(|r| format!("fo-{r}")).collect::<Vec<_>>().iter().map(String::as_str).collect::<Vec<_>>()).unwrap();
    let present: u64 = users["Data"].as_array().unwrap().iter().map(|d| d["UserCount"].as_u64().unwrap_or(0)).sum();
    println!("  users present afterwards: {present} of {n}");
    drop(engines);
}

fn main() {
    // RUST_LOG=warn shows what the in-process nodes log (off by default).
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("off")).try_init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("all");
    match what {
        "sessions" => bench_sessions(
            args.get(1).and_then(|n| n.parse().ok()).unwrap_or(50_000),
            args.get(2).and_then(|n| n.parse().ok()).unwrap_or(10),
        ),
        "loadgen" => loadgen(&args[1], args[2].parse().unwrap(), args[3].parse().unwrap(), args[4].parse().unwrap(), args[5].parse().unwrap()),
        "fanout" => bench_fanout(),
        "failover" => bench_failover(args.get(1).and_then(|n| n.parse().ok()).unwrap_or(300)),
        "all" => {
            bench_fanout();
            bench_failover(300);
            bench_sessions(50_000, 10);
        }
        other => {
            eprintln!("unknown benchmark '{other}'");
            std::process::exit(2);
        }
    }
}
