//! Benchmarks of streams and messaging over loopback with a real server and real sockets.
//! Figures go to BENCHMARKS.md.
//!
//! `cargo run --release --features server --example bench_streams -- <what>` where <what> is one of
//! `sei-latency`, `sei-throughput`, `stream-fanout`, `stream-memory`, `broadcast-fanout`,
//! `msg-throughput`, `catch-up`, `sei-encoding`, or `all`.
//! Every load is bounded in count and time and targets 127.0.0.1 only.

#[path = "../tests/common/proxy.rs"]
#[allow(dead_code)]
mod proxy;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use once_cell::sync::Lazy;
use parking_lot::Mutex;
use proxy::{Cut, FaultProxy};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use zego_room::protocol::{decode_sei_down, ClientMsg, MsgKind, ServerMsg, UserUpdateKind, PROTOCOL_VERSION};
use zego_room::server::{self, admin::AdminClient, ServerConfig};
use zego_room::*;

const APP_ID: u32 = 99;
const SECRET: &str = "bench-secret-0123456789abcdef012";
static EPOCH: Lazy<Instant> = Lazy::new(Instant::now);

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn summary(mut v: Vec<Duration>) -> String {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    format!("n={} p50={:.3} ms p99={:.3} ms max={:.3} ms", v.len(), ms(percentile(&v, 0.5)), ms(percentile(&v, 0.99)), ms(*v.last().unwrap_or(&Duration::ZERO)))
}

fn config() -> ServerConfig {
    ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        admin_listen: "127.0.0.1:0".parse().unwrap(),
        app_id: APP_ID,
        server_secret: Some(SECRET.into()),
        heartbeat_timeout: Duration::from_secs(90),
        ping_interval: Duration::from_secs(10),
        count_interval: Duration::from_secs(30),
        ..ServerConfig::default()
    }
}

fn token(user: &str) -> String {
    zego_room::token04::generate(APP_ID, user, SECRET, 3600, "").unwrap()
}

fn now_ns() -> u64 {
    EPOCH.elapsed().as_nanos() as u64
}

// ---- a raw protocol session (tokio task), for measuring the server's side alone ------------------

/// What a raw session reports back: (when, what).
#[derive(Debug)]
enum Seen {
    LoggedIn,
    StreamAdd(String),
    Messages(Vec<(u64, String)>),
}

struct Raw {
    tx: mpsc::UnboundedSender<Message>,
}

impl Raw {
    fn send(&self, m: &ClientMsg) {
        let _ = self.tx.send(Message::text(m.encode()));
    }
}

/// Opens a raw session that logs `user` into `room` and forwards what it sees to `out`.
fn raw_session(rt: &tokio::runtime::Runtime, url: &str, room: &str, user: &str, notify: bool, out: std::sync::mpsc::Sender<(Instant, usize, Seen)>, idx: usize) -> Raw {
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    let (url, room, user) = (url.to_owned(), room.to_owned(), user.to_owned());
    rt.spawn(async move {
        let (ws, _) = tokio_tungstenite::connect_async(url.as_str()).await.expect("connect");
        let (mut sink, mut stream) = ws.split();
        let login = ClientMsg::Login {
            v: PROTOCOL_VERSION,
            app_id: APP_ID,
            room_id: room,
            user_id: user.clone(),
            user_name: String::new(),
            token: token(&user),
            max_member_count: 0,
            user_status_notify: notify,
            client_id: format!("raw-{user}"),
            resume_session_id: None,
            last_msg_id: 0,
        };
        sink.send(Message::text(login.encode())).await.unwrap();
        loop {
            tokio::select! {
                m = rx.recv() => match m {
                    Some(m) => { if sink.send(m).await.is_err() { return; } }
                    None => return,
                },
                m = stream.next() => {
                    let Some(Ok(m)) = m else { return };
                    let at = Instant::now();
                    let seen = match m {
                        Message::Text(t) => match ServerMsg::decode(t.as_str()) {
                            Ok(ServerMsg::LoginOk { .. }) => Some(Seen::LoggedIn),
                            Ok(ServerMsg::StreamUpdate { update: UserUpdateKind::Add, streams, .. }) => Some(Seen::StreamAdd(streams[0].stream_id.clone())),
                            Ok(ServerMsg::Messages { messages, .. }) => Some(Seen::Messages(messages.into_iter().map(|m| (m.message_id, m.content)).collect())),
                            _ => None,
                        },
                        _ => None,
                    };
                    if let Some(s) = seen {
                        let _ = out.send((at, idx, s));
                    }
                }
            }
        }
    });
    Raw { tx }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// Opens `n` raw sessions in `room` and waits until all are logged in.
fn raw_room(rt: &tokio::runtime::Runtime, url: &str, room: &str, prefix: &str, n: usize, notify: bool) -> (Vec<Raw>, std::sync::mpsc::Receiver<(Instant, usize, Seen)>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let raws: Vec<Raw> = (0..n).map(|i| raw_session(rt, url, room, &format!("{prefix}{i}"), notify, tx.clone(), i)).collect();
    let mut ready = 0;
    while ready < n {
        match rx.recv_timeout(Duration::from_secs(60)).expect("raw sessions log in") {
            (_, _, Seen::LoggedIn) => ready += 1,
            _ => {}
        }
    }
    (raws, rx)
}

// ---- engines ---------------------------------------------------------------------------------

/// An engine handler that timestamps what the benchmarks wait for.
#[derive(Default)]
struct Probe {
    playing: AtomicUsize,
    publishing: AtomicUsize,
    logined: AtomicUsize,
    /// SEI frames received: (arrival ns, sent ns from the payload).
    sei: Mutex<Vec<(u64, u64)>>,
    sei_count: AtomicU64,
    stream_adds: Mutex<Vec<(Instant, String)>>,
    reconnected: AtomicUsize,
    broadcasts: Mutex<Vec<u64>>,
}

impl EventHandler for Probe {
    fn on_room_state_changed(&self, reason: RoomStateChangedReason, _: i32, _: &str, _: &str) {
        match reason {
            RoomStateChangedReason::Logined => {
                self.logined.fetch_add(1, Ordering::SeqCst);
            }
            RoomStateChangedReason::Reconnected => {
                self.reconnected.fetch_add(1, Ordering::SeqCst);
            }
            _ => {}
        }
    }
    fn on_publisher_state_update(&self, state: PublisherState, _: i32, _: &str, _: &str) {
        if state == PublisherState::Publishing {
            self.publishing.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn on_player_state_update(&self, state: PlayerState, _: i32, _: &str, _: &str) {
        if state == PlayerState::Playing {
            self.playing.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn on_player_recv_sei(&self, data: &[u8], _: &str) {
        let at = now_ns();
        self.sei_count.fetch_add(1, Ordering::Relaxed);
        if data.len() >= 8 {
            let sent = u64::from_be_bytes(data[..8].try_into().unwrap());
            self.sei.lock().push((at, sent));
        }
    }
    fn on_room_stream_update(&self, kind: UpdateType, streams: &[Stream], _: &str, _: &str) {
        if kind == UpdateType::Add {
            let at = Instant::now();
            self.stream_adds.lock().extend(streams.iter().map(|s| (at, s.stream_id.clone())));
        }
    }
    fn on_im_recv_broadcast_message(&self, list: &[BroadcastMessageInfo], _: &str) {
        self.broadcasts.lock().extend(list.iter().map(|m| m.message_id));
    }
}

fn engine(url: &str) -> (RoomEngine, Arc<Probe>) {
    let p = Arc::new(Probe::default());
    let e = RoomEngine::new(EngineProfile { app_id: APP_ID, server: url.into(), room_mode: RoomMode::SingleRoom }, p.clone()).unwrap();
    (e, p)
}

fn login(e: &RoomEngine, p: &Probe, room: &str, user: &str, notify: bool) {
    let before = p.logined.load(Ordering::SeqCst);
    let cfg = RoomConfig { max_member_count: 0, is_user_status_notify: notify, token: token(user) };
    e.login_room(room, &User::new(user, ""), Some(&cfg)).unwrap();
    wait(Duration::from_secs(30), || p.logined.load(Ordering::SeqCst) > before, "login");
}

fn wait(timeout: Duration, mut f: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A publisher engine and `n` player engines in one room, all playing.
fn publisher_and_players(url: &str, room: &str, n: usize) -> ((RoomEngine, Arc<Probe>), Vec<(RoomEngine, Arc<Probe>)>) {
    let publisher = engine(url);
    login(&publisher.0, &publisher.1, room, "publisher", false);
    publisher.0.start_publishing_stream("feed", None, PublishChannel::Main).unwrap();
    wait(Duration::from_secs(10), || publisher.1.publishing.load(Ordering::SeqCst) > 0, "publishing");
    let players: Vec<_> = (0..n)
        .map(|i| {
            let p = engine(url);
            login(&p.0, &p.1, room, &format!("player{i}"), false);
            p.0.start_playing_stream("feed", None).unwrap();
            p
        })
        .collect();
    for (_, p) in &players {
        wait(Duration::from_secs(30), || p.playing.load(Ordering::SeqCst) > 0, "playing");
    }
    (publisher, players)
}

// ---- the benchmarks ------------------------------------------------------------------------------

/// SEI frame from the publisher to the last of 100 players (engines, all in this process).
fn bench_sei_latency() {
    Lazy::force(&EPOCH);
    let server = server::start(config()).unwrap();
    let ((publisher, _), players) = publisher_and_players(&server.url(), "sei-lat", 100);
    std::thread::sleep(Duration::from_millis(500));
    let frames = 500u64;
    for _ in 0..frames {
        let mut payload = now_ns().to_be_bytes().to_vec();
        payload.resize(256, 0x5a);
        publisher.send_sei(&payload, PublishChannel::Main).unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
    wait(Duration::from_secs(10), || players.iter().all(|(_, p)| p.sei_count.load(Ordering::SeqCst) >= frames), "every frame");
    // Per frame: the last player's arrival.
    let mut last: HashMap<u64, u64> = HashMap::new();
    for (_, p) in &players {
        for (at, sent) in p.sei.lock().iter() {
            let e = last.entry(*sent).or_insert(0);
            *e = (*e).max(*at);
        }
    }
    let lat: Vec<Duration> = last.iter().map(|(sent, at)| Duration::from_nanos(at - sent)).collect();
    println!("SEI frame (256 B) from the publisher to the last of 100 player engines: {}", summary(lat));
    drop(players);
    drop(publisher);
    server.shutdown();
}

/// One publisher at 900 frames/s of 1 KiB to 100 players (engines): frames delivered per second in
/// total, and loss per player.
fn bench_sei_throughput() {
    Lazy::force(&EPOCH);
    let server = server::start(config()).unwrap();
    let ((publisher, _), players) = publisher_and_players(&server.url(), "sei-tp", 100);
    std::thread::sleep(Duration::from_millis(500));
    let secs = 5.0;
    let rate = 900.0; // under the 1,000 frames/s flood limit
    let frames = (secs * rate) as u64;
    let t0 = Instant::now();
    let mut payload = vec![0x33u8; 1024];
    for i in 0..frames {
        payload[..8].copy_from_slice(&now_ns().to_be_bytes());
        publisher.send_sei(&payload, PublishChannel::Main).unwrap();
        let due = t0 + Duration::from_secs_f64((i + 1) as f64 / rate);
        if let Some(d) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
    }
    let sent_in = t0.elapsed();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && players.iter().any(|(_, p)| p.sei_count.load(Ordering::SeqCst) < frames) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let delivered_in = t0.elapsed();
    let total: u64 = players.iter().map(|(_, p)| p.sei_count.load(Ordering::SeqCst)).sum();
    let lossy = players.iter().filter(|(_, p)| p.sei_count.load(Ordering::SeqCst) < frames).count();
    let min = players.iter().map(|(_, p)| p.sei_count.load(Ordering::SeqCst)).min().unwrap();
    println!(
        "SEI 1 KiB, 1 publisher → 100 player engines: {frames} frames sent in {:.2} s; {total} delivered in {:.2} s = {:.0} frames/s delivered in total; players with loss: {lossy} (fewest received {min})",
        sent_in.as_secs_f64(),
        delivered_in.as_secs_f64(),
        total as f64 / delivered_in.as_secs_f64()
    );
    drop(players);
    drop(publisher);
    server.shutdown();
}

/// A stream Add reaching 1,000 members: raw protocol sessions (the server's fan-out alone), the
/// publisher is an engine; from `start_publishing_stream` to the last member's receipt.
fn bench_stream_fanout() {
    let server = server::start(config()).unwrap();
    let rt = runtime();
    let (_raws, rx) = raw_room(&rt, &server.url(), "sfan", "m", 1000, false);
    let (publisher, p) = engine(&server.url());
    login(&publisher, &p, "sfan", "publisher", false);
    std::thread::sleep(Duration::from_secs(1));
    let mut lat = Vec::new();
    for round in 0..30 {
        let id = format!("s{round}");
        while rx.try_recv().is_ok() {}
        let t = Instant::now();
        publisher.start_publishing_stream(&id, None, PublishChannel::Main).unwrap();
        let mut got = 0;
        let mut last = t;
        while got < 1000 {
            let (at, _, seen) = rx.recv_timeout(Duration::from_secs(10)).expect("every member sees the stream");
            if matches!(seen, Seen::StreamAdd(ref s) if *s == id) {
                got += 1;
                last = last.max(at);
            }
        }
        lat.push(last - t);
        publisher.stop_publishing_stream(PublishChannel::Main).unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }
    println!("stream Add from start_publishing_stream to the last of 1,000 raw sessions: {}", summary(lat));
    drop(rt);
    server.shutdown();
}

/// A broadcast from one member (an engine) to the last of 1,000 members (raw sessions).
fn bench_broadcast_fanout() {
    let server = server::start(config()).unwrap();
    let rt = runtime();
    let (_raws, rx) = raw_room(&rt, &server.url(), "bfan", "m", 1000, false);
    let (sender, p) = engine(&server.url());
    login(&sender, &p, "bfan", "sender", false);
    std::thread::sleep(Duration::from_secs(1));
    let mut lat = Vec::new();
    for round in 0..40 {
        while rx.try_recv().is_ok() {}
        let text = format!("msg-{round}");
        let t = Instant::now();
        sender.send_broadcast_message("bfan", &text).unwrap();
        let mut got = 0;
        let mut last = t;
        while got < 1000 {
            let (at, _, seen) = rx.recv_timeout(Duration::from_secs(10)).expect("every member gets it");
            if let Seen::Messages(list) = seen {
                if list.iter().any(|(_, c)| *c == text) {
                    got += 1;
                    last = last.max(at);
                }
            }
        }
        lat.push(last - t);
        std::thread::sleep(Duration::from_millis(510)); // the sender's rate: 2 per second
    }
    println!("broadcast from one member to the last of 1,000 raw sessions: {}", summary(lat));
    drop(rt);
    server.shutdown();
}

/// One room of 100 members (raw sessions): 10 of them send broadcasts at their allowed rate
/// (2/s each) and the admin API broadcasts as fast as it answers, for 10 s. Delivered per second;
/// loss (a member missing an id the server assigned).
fn bench_msg_throughput() {
    let server = server::start(config()).unwrap();
    let rt = runtime();
    let (raws, rx) = raw_room(&rt, &server.url(), "mtp", "m", 100, false);
    std::thread::sleep(Duration::from_millis(500));
    let admin = AdminClient::new(server.admin_addr(), APP_ID, Some(SECRET));
    let t0 = Instant::now();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let admin_sent = Arc::new(AtomicUsize::new(0));
    let admin_thread = {
        let (stop, admin_sent) = (stop.clone(), admin_sent.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let v = admin.send_broadcast_message("mtp", "system", "System", "admin broadcast").unwrap();
                assert_eq!(v["Code"], 0);
                admin_sent.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let mut seq = 0;
    let mut member_sent = 0;
    while t0.elapsed() < Duration::from_secs(10) {
        for r in raws.iter().take(10) {
            seq += 1;
            r.send(&ClientMsg::Send { kind: MsgKind::Broadcast, content: format!("m{seq}"), to: vec![], seq });
            member_sent += 1;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    stop.store(true, Ordering::SeqCst);
    admin_thread.join().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let elapsed = t0.elapsed();
    let mut per_member: Vec<Vec<u64>> = vec![Vec::new(); 100];
    let mut delivered = 0usize;
    while let Ok((_, idx, seen)) = rx.try_recv() {
        if let Seen::Messages(list) = seen {
            delivered += list.len();
            per_member[idx].extend(list.into_iter().map(|(id, _)| id));
        }
    }
    // Every id any member saw: the room's messages. A member misses one if it is not its own.
    let mut all: Vec<u64> = per_member.iter().flatten().copied().collect();
    all.sort();
    all.dedup();
    let mut lost = 0;
    for (i, ids) in per_member.iter().enumerate() {
        let own = if i < 10 { member_sent / 10 } else { 0 };
        let dup = ids.len() - { let mut v = ids.clone(); v.sort(); v.dedup(); v.len() };
        lost += all.len().saturating_sub(ids.len() + own) + dup;
    }
    println!(
        "one room of 100 members: 10 senders at 2/s ({member_sent} sent) + admin broadcasts ({} sent): {} messages in the room, {delivered} deliveries in {:.1} s = {:.0} delivered/s; lost or duplicated: {lost}",
        admin_sent.load(Ordering::SeqCst),
        all.len(),
        elapsed.as_secs_f64(),
        delivered as f64 / elapsed.as_secs_f64()
    );
    drop(rt);
    server.shutdown();
}

/// Messages missed during a 2 s cut: how many arrive after Reconnected, and duplicates.
fn bench_catch_up() {
    let mut total_missed = 0;
    let mut total_got = 0;
    let mut dups = 0;
    let server = server::start(config()).unwrap();
    let proxy = FaultProxy::start(server.ws_addr());
    let senders: Vec<_> = (0..10).map(|i| {
        let s = engine(&server.url());
        login(&s.0, &s.1, "cu", &format!("sender{i}"), false);
        s
    }).collect();
    let (rx_e, rx_p) = engine(&proxy.url());
    login(&rx_e, &rx_p, "cu", "receiver", false);
    for round in 0..10 {
        std::thread::sleep(Duration::from_millis(600));
        let before = rx_p.broadcasts.lock().len();
        let rec = rx_p.reconnected.load(Ordering::SeqCst);
        proxy.cut(Cut::Close);
        let cut = Instant::now();
        let mut sent = 0;
        while cut.elapsed() < Duration::from_secs(2) {
            for (s, _) in &senders {
                s.send_broadcast_message("cu", &format!("r{round}")).unwrap();
                sent += 1;
            }
            std::thread::sleep(Duration::from_millis(520));
        }
        proxy.restore();
        wait(Duration::from_secs(10), || rx_p.reconnected.load(Ordering::SeqCst) > rec, "reconnected");
        std::thread::sleep(Duration::from_millis(500));
        let got = rx_p.broadcasts.lock()[before..].to_vec();
        let mut uniq = got.clone();
        uniq.sort();
        uniq.dedup();
        dups += got.len() - uniq.len();
        total_missed += sent;
        total_got += uniq.len();
    }
    println!(
        "catch-up after 10 cuts of 2 s (10 senders at 2/s): {total_got} of {total_missed} broadcasts sent during the cuts delivered after Reconnected ({:.1} %), duplicates {dups}",
        100.0 * total_got as f64 / total_missed as f64
    );
    drop(senders);
    server.shutdown();
}

/// Server memory per published stream with 10 players: the server binary as a child process;
/// 500 rooms of 11 raw sessions, measured before and after every room's first session publishes
/// and the other 10 play.
fn bench_stream_memory() {
    let ws = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let admin = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let exe = std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().join("zego-room-server");
    let mut child: Child = Command::new(exe)
        .args(["--listen", &ws.to_string(), "--admin-listen", &admin.to_string(), "--app-id", &APP_ID.to_string(), "--server-secret", SECRET])
        .env("RUST_LOG", "error")
        .stderr(Stdio::inherit())
        .spawn()
        .expect("zego-room-server (build with --features server --bins)");
    std::thread::sleep(Duration::from_millis(500));
    let rss = || {
        let s = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
        s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
    };
    let rt = runtime();
    let url = format!("ws://{ws}");
    let rooms = 500;
    let mut all = Vec::new();
    for r in 0..rooms {
        let (raws, rx) = raw_room(&rt, &url, &format!("mem{r}"), &format!("r{r}u"), 11, false);
        all.push((raws, rx));
    }
    std::thread::sleep(Duration::from_secs(2));
    let before = rss();
    for (r, (raws, _)) in all.iter().enumerate() {
        raws[0].send(&ClientMsg::Publish { channel: 0, stream_id: format!("st{r}"), extra_info: "x".repeat(64) });
        for p in &raws[1..] {
            p.send(&ClientMsg::Play { stream_id: format!("st{r}") });
        }
    }
    std::thread::sleep(Duration::from_secs(3));
    let after = rss();
    println!(
        "server memory per published stream with 10 players: {:.2} KiB ({rooms} streams; RSS {before} → {after} kB with {} sessions)",
        (after.saturating_sub(before)) as f64 / rooms as f64,
        rooms * 11
    );
    drop(all);
    drop(rt);
    let _ = child.kill();
    let _ = child.wait();
}

/// The wire choice for SEI: binary frames vs base64 in JSON, 1 KiB of data (sizes and encode +
/// decode time per frame, server → client direction).
fn bench_sei_encoding() {
    use base64::Engine;
    let data = vec![0xa5u8; 1024];
    let n = 200_000;
    let t = Instant::now();
    let mut bytes = 0;
    for _ in 0..n {
        let f = zego_room::protocol::encode_sei_down("stream-id-1", &data);
        bytes += decode_sei_down(&f).unwrap().1.len();
    }
    let bin = t.elapsed() / n;
    let bin_size = zego_room::protocol::encode_sei_down("stream-id-1", &data).len();
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Sei {
        t: String,
        stream_id: String,
        data: String,
    }
    let t = Instant::now();
    for _ in 0..n {
        let s = serde_json::to_string(&Sei { t: "sei".into(), stream_id: "stream-id-1".into(), data: base64::engine::general_purpose::STANDARD.encode(&data) }).unwrap();
        let back: Sei = serde_json::from_str(&s).unwrap();
        bytes += base64::engine::general_purpose::STANDARD.decode(back.data).unwrap().len();
    }
    let json = t.elapsed() / n;
    let json_size = serde_json::to_string(&Sei { t: "sei".into(), stream_id: "stream-id-1".into(), data: base64::engine::general_purpose::STANDARD.encode(&data) }).unwrap().len();
    println!("SEI encoding of 1 KiB: binary frame {bin_size} B, {:.0} ns encode+decode; JSON+base64 {json_size} B, {:.0} ns ({bytes} bytes checked)", bin.as_nanos(), json.as_nanos());
}

fn main() {
    let what = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    let all = what == "all";
    let run = |name: &str, f: fn()| {
        if all || what == name {
            let t = Instant::now();
            f();
            eprintln!("  ({name} took {:.1?})", t.elapsed());
        }
    };
    run("sei-encoding", bench_sei_encoding);
    run("sei-latency", bench_sei_latency);
    run("sei-throughput", bench_sei_throughput);
    run("stream-fanout", bench_stream_fanout);
    run("broadcast-fanout", bench_broadcast_fanout);
    run("msg-throughput", bench_msg_throughput);
    run("catch-up", bench_catch_up);
    run("stream-memory", bench_stream_memory);
}
