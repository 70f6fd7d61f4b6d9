//! Chaos soak: hundreds of engines in a few rooms on the real `zego-room-server` binary, reached
//! through fault-injecting proxies that close, reset, blackhole (shorter and longer than the
//! grace), refuse and delay at random, plus one server SIGKILL + restart on the same ports, while a
//! few engines log out/in and switch rooms. At the end (faults stopped, everything restored) it
//! checks: every reason sequence follows the ZEGO transition graph and the legacy states follow
//! their reasons; every engine's replayed view of its room equals the server's `DescribeUsers`
//! minus itself (no duplicate Add, no Delete of a stranger); no callback after `destroy` returned;
//! the server's RSS comes back near its pre-login baseline. See docs/chaos.md.
//!
//! Short form (the default, part of the suite): 200 engines, 45 s of faults.
//! Long form: `CHAOS_SECS=600 CHAOS_ENGINES=400 cargo test --release --features server,cli --test chaos -- --nocapture`.
//! Knobs (env): CHAOS_SECS, CHAOS_ENGINES, CHAOS_PROXIES, CHAOS_SEED (replays a fault plan),
//! CHAOS_RETRY (room_retry_time, s), CHAOS_SERVER_LOG=1 (server stderr to ours).

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::harness::{eventually, init_logs, token, APP_ID, SECRET};
use common::proxy::{Cut, FaultProxy};
use parking_lot::Mutex;
use zego_room::server::admin::AdminClient;
use zego_room::*;

use RoomStateChangedReason as R;

const BIN: &str = env!("CARGO_BIN_EXE_zego-room-server");
const ROOMS: usize = 5;
/// Server flags: a 1 s ping and a 3 s grace, so faults longer than 3 s really remove users.
const PING_SECS: u64 = 1;
const GRACE_SECS: u64 = 3;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        _ => default,
    }
}

fn room_name(i: usize) -> String {
    format!("chaos-{i}")
}

// ---------------------------------------------------------------------------------------------
// The server as a child process
// ---------------------------------------------------------------------------------------------

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

struct Server {
    admin: SocketAddr,
    child: Child,
}

impl Server {
    fn spawn(ws: SocketAddr, admin: SocketAddr) -> Server {
        let log = std::env::var_os("CHAOS_SERVER_LOG").is_some();
        let child = Command::new(BIN)
            .args(["--listen", &ws.to_string(), "--admin-listen", &admin.to_string(), "--app-id", &APP_ID.to_string()])
            .args(["--server-secret", SECRET, "--ping-interval", &PING_SECS.to_string()])
            .args(["--heartbeat-timeout", &GRACE_SECS.to_string()])
            .stdout(Stdio::null())
            // Nobody reads a pipe here: a full one would stall the server. Null unless asked.
            .stderr(if log { Stdio::inherit() } else { Stdio::null() })
            .spawn()
            .expect("spawn zego-room-server");
        let mut server = Server { admin, child };
        let up = eventually(Duration::from_secs(10), || {
            std::net::TcpStream::connect(ws).is_ok() && std::net::TcpStream::connect(admin).is_ok()
        });
        if !up {
            let status = server.child.try_wait();
            panic!("server did not start listening on {ws}/{admin} ({status:?})");
        }
        server
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    fn sigkill(&mut self) {
        self.child.kill().expect("SIGKILL the server"); // std sends SIGKILL on Unix
        let status = self.child.wait().expect("reap the server");
        assert!(!status.success(), "a SIGKILLed server cannot exit successfully: {status:?}");
    }

    fn admin(&self) -> AdminClient {
        AdminClient::new(self.admin, APP_ID, Some(SECRET))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// Recording handler
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Rec {
    Ev(Event),
    /// The test is about to call logout_room/switch_room leaving this room (recorded before the
    /// call, so it precedes the Logout it causes; it may also precede events queued earlier).
    AppLeave(String),
}

struct Recorder {
    log: Mutex<Vec<Rec>>,
    /// Set once `destroy` returned.
    destroyed: AtomicBool,
    /// Callbacks that ended after `destroy` returned (started after it, or straddled it).
    late: AtomicUsize,
    /// Log length right after `destroy` returned.
    len_at_destroy: AtomicUsize,
}

impl Recorder {
    fn new() -> Recorder {
        Recorder { log: Mutex::new(Vec::new()), destroyed: AtomicBool::new(false), late: AtomicUsize::new(0), len_at_destroy: AtomicUsize::new(0) }
    }

    fn push(&self, e: Event) {
        self.log.lock().push(Rec::Ev(e));
        if self.destroyed.load(Ordering::SeqCst) {
            self.late.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn mark_leave(&self, room: &str) {
        self.log.lock().push(Rec::AppLeave(room.to_owned()));
    }

    fn snapshot(&self) -> Vec<Rec> {
        self.log.lock().clone()
    }

    /// The room of the last Logining and the last reason of that room.
    fn current(&self) -> Option<(String, R)> {
        let log = self.log.lock();
        let reasons = log.iter().rev().filter_map(|r| match r {
            Rec::Ev(Event::RoomStateChanged { reason, room_id, .. }) => Some((*reason, room_id)),
            _ => None,
        });
        let room = reasons.clone().find(|(r, _)| *r == R::Logining)?.1.clone();
        let last = reasons.into_iter().find(|(_, id)| **id == room)?.0;
        Some((room, last))
    }
}

common::harness::record_events_via_push!(Recorder);

// ---------------------------------------------------------------------------------------------
// Invariant 1 and the membership replay
// ---------------------------------------------------------------------------------------------

/// The ZEGO transition graph (zego-reference.md §1.1), "Logout" being the state before any login.
fn allowed(from: R, to: R) -> bool {
    use RoomStateChangedReason::*;
    matches!(
        (from, to),
        (Logout, Logining)
            | (Logining, Logined)
            | (Logining, LoginFailed)
            | (LoginFailed, Logout)
            | (Logined, Logout)
            | (Logined, LogoutFailed)
            | (Logined, Reconnecting)
            | (Logined, KickOut)
            | (LogoutFailed, Logout)
            | (Reconnecting, Reconnected)
            | (Reconnecting, ReconnectFailed)
            | (ReconnectFailed, Logout)
            | (KickOut, Logout)
            | (Reconnected, Logout)
            | (Reconnected, LogoutFailed)
            | (Reconnected, Reconnecting)
            | (Reconnected, KickOut)
    )
}

#[derive(Default)]
struct Analysis {
    violations: Vec<String>,
    /// Per room: what the replayed Add/Delete events say is present (others only).
    views: HashMap<String, BTreeSet<String>>,
    reconnecting: usize,
    reconnected: usize,
    logins: usize,
    terminal: usize,
    adds: usize,
    deletes: usize,
}

fn analyze(user_id: &str, log: &[Rec]) -> Analysis {
    let mut a = Analysis::default();
    let mut reason: HashMap<String, R> = HashMap::new();
    let mut legacy: HashMap<String, RoomState> = HashMap::new();
    let mut app_leave: HashMap<String, bool> = HashMap::new();
    // A reason change whose legacy update must be the very next event.
    let mut pending: Option<(RoomState, i32, String, String)> = None;
    for (i, rec) in log.iter().enumerate() {
        let e = match rec {
            Rec::AppLeave(room) => {
                app_leave.insert(room.clone(), true);
                continue;
            }
            Rec::Ev(e) => e,
        };
        if let Some((state, code, ext, room)) = pending.take() {
            let ok = matches!(e, Event::RoomStateUpdate { state: s, error_code: c, extended_data: x, room_id: r }
                if *s == state && *c == code && *x == ext && *r == room);
            if !ok {
                a.violations.push(format!("#{i}: expected legacy {state:?} {code} for {room} right after its reason, got {e:?}"));
            }
            if matches!(e, Event::RoomStateUpdate { .. }) {
                continue;
            }
        } else if let Event::RoomStateUpdate { .. } = e {
            a.violations.push(format!("#{i}: legacy update without a legacy state change: {e:?}"));
            continue;
        }
        match e {
            Event::RoomStateChanged { reason: to, error_code, extended_data, room_id } => {
                let from = reason.get(room_id).copied().unwrap_or(R::Logout);
                let app_left = app_leave.get(room_id).copied().unwrap_or(false);
                let by_app = *to == R::Logout && app_left && matches!(from, R::Logining | R::Reconnecting);
                if !allowed(from, *to) && !by_app {
                    a.violations.push(format!("#{i}: {room_id}: {from:?} -> {to:?} ({error_code}) is not in the graph"));
                }
                if *to == R::Logout && !app_left {
                    a.violations.push(format!("#{i}: {room_id}: Logout that the app did not ask for"));
                }
                match to {
                    R::Logining => {
                        a.logins += 1;
                        app_leave.insert(room_id.clone(), false);
                        a.views.insert(room_id.clone(), BTreeSet::new());
                    }
                    R::Reconnecting => a.reconnecting += 1,
                    R::Reconnected => a.reconnected += 1,
                    R::LoginFailed | R::ReconnectFailed | R::KickOut | R::LogoutFailed => {
                        a.terminal += 1;
                        a.violations.push(format!("#{i}: {room_id}: unexpected {to:?} {error_code} {extended_data}"));
                    }
                    _ => {}
                }
                reason.insert(room_id.clone(), *to);
                if let Some(state) = to.legacy_state() {
                    let prev = legacy.get(room_id).copied().unwrap_or(RoomState::Disconnected);
                    if state != prev {
                        legacy.insert(room_id.clone(), state);
                        pending = Some((state, *error_code, extended_data.clone(), room_id.clone()));
                    }
                }
            }
            Event::RoomUserUpdate { update_type, users, room_id } => {
                let r = reason.get(room_id).copied().unwrap_or(R::Logout);
                if !matches!(r, R::Logined | R::Reconnected) {
                    a.violations.push(format!("#{i}: {room_id}: user update while {r:?}: {update_type:?} {users:?}"));
                }
                match update_type {
                    UpdateType::Add => a.adds += users.len(),
                    UpdateType::Delete => a.deletes += users.len(),
                }
                let view = a.views.entry(room_id.clone()).or_default();
                for u in users {
                    if u.user_id == user_id {
                        a.violations.push(format!("#{i}: {room_id}: the local user reported in {update_type:?}"));
                        continue;
                    }
                    let fine = match update_type {
                        UpdateType::Add => view.insert(u.user_id.clone()),
                        UpdateType::Delete => view.remove(&u.user_id),
                    };
                    if !fine {
                        a.violations.push(format!("#{i}: {room_id}: {update_type:?} of {} contradicts the view (duplicate)", u.user_id));
                    }
                }
            }
            _ => {}
        }
    }
    if let Some((state, code, _, room)) = pending {
        // The legacy update may simply not have been delivered yet; only a final check cares.
        a.violations.push(format!("end: legacy {state:?} {code} for {room} not (yet) delivered"));
    }
    a
}

// ---------------------------------------------------------------------------------------------
// The fault plan (pure function of the seed)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Close,
    Reset,
    ShortBlackhole,
    LongBlackhole,
    Delay,
    Refuse,
    EngineOp,
    ServerKill,
}

#[derive(Debug, Clone)]
struct Step {
    at: Duration,
    kind: Kind,
    proxy: usize,
    /// How long the fault lasts (restore after it).
    hold: Duration,
    /// Delay amount / engine index / room choice, depending on the kind.
    arg: u64,
}

fn plan(rng: &mut fastrand::Rng, secs: u64, proxies: usize) -> Vec<Step> {
    let total = Duration::from_secs(secs);
    let ms = Duration::from_millis;
    let mut busy_until = vec![Duration::ZERO; proxies];
    let mut steps = Vec::new();
    let mut t = ms(500);
    // Leave the last 3 s quiet so every restore fits inside the fault window.
    while t + ms(3000) < total {
        let roll = rng.u32(0..100);
        let kind = match roll {
            0..=21 => Kind::Close,
            22..=39 => Kind::Reset,
            40..=54 => Kind::ShortBlackhole,
            55..=64 => Kind::LongBlackhole,
            65..=79 => Kind::Delay,
            80..=86 => Kind::Refuse,
            _ => Kind::EngineOp,
        };
        let hold = match kind {
            Kind::Close | Kind::Reset => ms(rng.u64(0..2000)),
            // Shorter than the 3 s grace (and than the 4 s silence detection).
            Kind::ShortBlackhole => ms(rng.u64(300..2500)),
            // Longer than the grace: the server removes the users, others see Delete, then Add.
            Kind::LongBlackhole => ms(rng.u64(4000..8000)),
            Kind::Delay => ms(rng.u64(1500..6000)),
            Kind::Refuse => ms(rng.u64(500..4000)),
            _ => Duration::ZERO,
        };
        let arg = match kind {
            Kind::Delay => rng.u64(20..400),
            _ => rng.u64(..),
        };
        let proxy = rng.usize(0..proxies);
        let fits = t + hold + ms(500) < total;
        if kind == Kind::EngineOp || (busy_until[proxy] <= t && fits) {
            if kind != Kind::EngineOp {
                busy_until[proxy] = t + hold + ms(200);
            }
            steps.push(Step { at: t, kind, proxy, hold, arg });
        }
        t += ms(rng.u64(100..500));
    }
    // One server SIGKILL somewhere in the middle, down for a moment, restarted on the same ports.
    let at = total.mul_f64(0.35 + 0.3 * rng.f64());
    let down = ms(rng.u64(300..2500));
    steps.push(Step { at, kind: Kind::ServerKill, proxy: 0, hold: down, arg: 0 });
    steps.sort_by_key(|s| s.at);
    steps
}

// ---------------------------------------------------------------------------------------------
// The soak
// ---------------------------------------------------------------------------------------------

/// Invariant 2: the server's list of each room is exactly the engines whose current room it is,
/// and every engine's replayed view equals that list minus itself. Empty = holds.
fn membership_problems(admin: &AdminClient, peers: &[Peer]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut server_rooms: HashMap<String, BTreeSet<String>> = HashMap::new();
    for r in 0..ROOMS {
        let room = room_name(r);
        match admin.describe_users(&room) {
            Ok(v) => {
                let ids = v["Data"]["UserList"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|u| u["UserId"].as_str().map(str::to_owned)).collect())
                    .unwrap_or_default();
                server_rooms.insert(room, ids);
            }
            Err(e) => problems.push(format!("DescribeUsers {room}: {e}")),
        }
    }
    let mut expected: HashMap<String, BTreeSet<String>> = HashMap::new();
    for p in peers {
        let Some((room, _)) = p.rec.current() else { continue };
        expected.entry(room).or_default().insert(p.user.user_id.clone());
    }
    for (room, ids) in &server_rooms {
        let want = expected.get(room).cloned().unwrap_or_default();
        if *ids != want {
            let extra: Vec<_> = ids.difference(&want).take(5).collect();
            let missing: Vec<_> = want.difference(ids).take(5).collect();
            problems.push(format!("server {room}: extra {extra:?} missing {missing:?}"));
        }
    }
    for p in peers {
        let Some((room, _)) = p.rec.current() else { continue };
        let a = analyze(&p.user.user_id, &p.rec.snapshot());
        let view = a.views.get(&room).cloned().unwrap_or_default();
        let mut want = server_rooms.get(&room).cloned().unwrap_or_default();
        want.remove(&p.user.user_id);
        if view != want {
            let extra: Vec<_> = view.difference(&want).take(5).collect();
            let missing: Vec<_> = want.difference(&view).take(5).collect();
            problems.push(format!("{} in {room}: view has extra {extra:?}, misses {missing:?}", p.user.user_id));
        }
    }
    problems
}

struct Peer {
    user: User,
    engine: RoomEngine,
    rec: Arc<Recorder>,
}

enum Restore {
    Cut(usize),
    Blackhole(usize),
    Delay(usize),
    Refuse(usize),
}

#[test]
fn chaos_soak() {
    init_logs();
    let started = Instant::now();
    let secs = env_u64("CHAOS_SECS", 45);
    let n = env_u64("CHAOS_ENGINES", 200) as usize;
    let proxies_n = env_u64("CHAOS_PROXIES", 10).max(1) as usize;
    let retry = env_u64("CHAOS_RETRY", 1200);
    let seed = env_u64("CHAOS_SEED", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64);
    eprintln!(
        "chaos: seed {seed} (replay with CHAOS_SEED={seed}), {n} engines, {ROOMS} rooms, {proxies_n} proxies, {secs} s of faults, room_retry_time {retry} s"
    );
    let mut rng = fastrand::Rng::with_seed(seed);
    let steps = plan(&mut rng, secs, proxies_n);

    // --- server and proxies
    let (ws, admin_addr) = (free_addr(), free_addr());
    let mut server = Server::spawn(ws, admin_addr);
    let pid1 = server.pid();
    std::thread::sleep(Duration::from_millis(300));
    let rss_pre = server.rss_kb();
    let proxies: Vec<FaultProxy> = (0..proxies_n).map(|_| FaultProxy::start(ws)).collect();

    // --- engines: engine i goes through proxy i % P into room (i / P) % ROOMS, so every proxy
    // carries several rooms and every room several proxies.
    let cfg = |user: &str| RoomConfig { max_member_count: 0, is_user_status_notify: true, token: token(user, 6 * 3600) };
    let mut peers: Vec<Peer> = Vec::with_capacity(n);
    for i in 0..n {
        let rec = Arc::new(Recorder::new());
        let profile = EngineProfile { app_id: APP_ID, server: proxies[i % proxies_n].url(), room_mode: RoomMode::SingleRoom };
        let engine = RoomEngine::new(profile, rec.clone()).expect("engine created");
        engine.set_engine_config(&format!("room_retry_time={retry}")).expect("room_retry_time accepted");
        let user = User::new(format!("u{i:04}"), format!("user {i}"));
        peers.push(Peer { user, engine, rec });
    }
    let login_started = Instant::now();
    for (i, p) in peers.iter().enumerate() {
        let room = room_name((i / proxies_n) % ROOMS);
        p.engine.login_room(&room, &p.user, Some(&cfg(&p.user.user_id))).expect("login_room accepted");
    }
    let all_in = eventually(Duration::from_secs(60), || {
        peers.iter().all(|p| matches!(p.rec.current(), Some((_, R::Logined))))
    });
    assert!(all_in, "not every engine logged in within 60 s: {} did", peers.iter().filter(|p| matches!(p.rec.current(), Some((_, R::Logined)))).count());
    let login_time = login_started.elapsed();
    // Let the Add fan-out settle, then sample the baseline with sessions.
    let admin = server.admin();
    let mut first_problems = Vec::new();
    let settled = eventually(Duration::from_secs(30), || {
        first_problems = membership_problems(&admin, &peers);
        first_problems.is_empty()
    });
    assert!(settled, "seed {seed}: first logins did not settle: {:#?}", &first_problems[..first_problems.len().min(30)]);
    let rss_sessions = server.rss_kb();
    eprintln!("chaos: {n} engines logged in in {login_time:.1?}; server RSS pre-login {rss_pre} kB, with sessions {rss_sessions} kB");

    // --- faults
    let mut counts: BTreeMap<Kind, usize> = BTreeMap::new();
    let mut restores: Vec<(Instant, Restore)> = Vec::new();
    let mut rss_peak = rss_sessions;
    let mut restarts = 0;
    let mut ops = (0usize, 0usize, 0usize); // (logout+login, switch, skipped: not connected)
    let chaos_start = Instant::now();
    let mut next = 0;
    let mut last_rss = Instant::now();
    loop {
        let now = Instant::now();
        let elapsed = now - chaos_start;
        let mut i = 0;
        while i < restores.len() {
            if restores[i].0 <= now {
                let (_, r) = restores.swap_remove(i);
                match r {
                    Restore::Cut(p) => proxies[p].restore(),
                    Restore::Blackhole(p) => proxies[p].set_blackhole(false),
                    Restore::Delay(p) => proxies[p].set_delay(Duration::ZERO),
                    Restore::Refuse(p) => proxies[p].set_refuse(false),
                }
            } else {
                i += 1;
            }
        }
        if next >= steps.len() && restores.is_empty() {
            break;
        }
        while next < steps.len() && steps[next].at <= elapsed {
            let s = steps[next].clone();
            next += 1;
            let until = Instant::now() + s.hold;
            let p = &proxies[s.proxy];
            match s.kind {
                Kind::Close => {
                    p.cut(Cut::Close);
                    restores.push((until, Restore::Cut(s.proxy)));
                }
                Kind::Reset => {
                    p.cut(Cut::Reset);
                    restores.push((until, Restore::Cut(s.proxy)));
                }
                Kind::ShortBlackhole | Kind::LongBlackhole => {
                    p.cut(Cut::Blackhole);
                    restores.push((until, Restore::Blackhole(s.proxy)));
                }
                Kind::Delay => {
                    p.set_delay(Duration::from_millis(s.arg));
                    restores.push((until, Restore::Delay(s.proxy)));
                }
                Kind::Refuse => {
                    p.set_refuse(true);
                    restores.push((until, Restore::Refuse(s.proxy)));
                }
                Kind::EngineOp => {
                    let peer = &peers[(s.arg % n as u64) as usize];
                    match peer.rec.current() {
                        Some((room, R::Logined | R::Reconnected)) => {
                            let to = room_name(((s.arg >> 20) % ROOMS as u64) as usize);
                            peer.rec.mark_leave(&room);
                            if (s.arg >> 40) % 2 == 0 {
                                peer.engine.logout_room(Some(&room)).expect("logout_room");
                                peer.engine.login_room(&to, &peer.user, Some(&cfg(&peer.user.user_id))).expect("login after logout");
                                ops.0 += 1;
                            } else {
                                let to = if to == room { room_name(((s.arg >> 20) as usize + 1) % ROOMS) } else { to };
                                peer.engine.switch_room(&room, &to, None).expect("switch_room");
                                ops.1 += 1;
                            }
                        }
                        _ => ops.2 += 1,
                    }
                }
                Kind::ServerKill => {
                    rss_peak = rss_peak.max(server.rss_kb());
                    server.sigkill();
                    std::thread::sleep(s.hold);
                    // Re-spawn on the same ports (the old `server` is replaced; its Drop is harmless).
                    server = Server::spawn(ws, admin_addr);
                    restarts += 1;
                    eprintln!("chaos: server SIGKILLed at {:.1?} (pid {pid1}), down {:?}, restarted as pid {}", elapsed, s.hold, server.pid());
                }
            }
            *counts.entry(s.kind).or_default() += 1;
        }
        if last_rss.elapsed() > Duration::from_secs(1) {
            rss_peak = rss_peak.max(server.rss_kb());
            last_rss = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Everything restored (belt and braces).
    for p in &proxies {
        p.set_delay(Duration::ZERO);
        p.restore();
    }
    let chaos_time = chaos_start.elapsed();
    eprintln!("chaos: faults over after {chaos_time:.1?}: {counts:?}; engine ops logout+login {} switch {} skipped {}", ops.0, ops.1, ops.2);

    // --- everyone (re)connected
    let settle_start = Instant::now();
    let all_up = eventually(Duration::from_secs(60), || {
        peers.iter().all(|p| matches!(p.rec.current(), Some((_, R::Logined | R::Reconnected))))
    });
    if !all_up {
        let down: Vec<String> = peers
            .iter()
            .filter(|p| !matches!(p.rec.current(), Some((_, R::Logined | R::Reconnected))))
            .map(|p| format!("{} {:?}", p.user.user_id, p.rec.current()))
            .take(20)
            .collect();
        panic!("seed {seed}: not every engine (re)connected within 60 s of the faults ending: {down:?}");
    }
    let reconnect_time = settle_start.elapsed();

    // --- invariant 2: every view equals the server's list minus itself (polled with a deadline)
    let admin = server.admin();
    let mut last_problems: Vec<String> = Vec::new();
    let converged = eventually(Duration::from_secs(45), || {
        let problems = membership_problems(&admin, &peers);
        let ok = problems.is_empty();
        last_problems = problems;
        ok
    });
    let converge_time = settle_start.elapsed();

    // --- invariant 1 (checked on the settled logs, before destroy)
    let mut violations: Vec<String> = Vec::new();
    let (mut reconnecting, mut reconnected, mut logins, mut terminal, mut events) = (0, 0, 0, 0, 0);
    let (mut adds, mut deletes) = (0, 0);
    for p in &peers {
        let log = p.rec.snapshot();
        events += log.len();
        let a = analyze(&p.user.user_id, &log);
        reconnecting += a.reconnecting;
        reconnected += a.reconnected;
        logins += a.logins;
        terminal += a.terminal;
        adds += a.adds;
        deletes += a.deletes;
        for v in a.violations {
            violations.push(format!("{}: {v}", p.user.user_id));
        }
    }
    let rss_before_destroy = server.rss_kb();
    let attempts: usize = proxies.iter().map(FaultProxy::connection_attempts).sum();
    let engines_reconnected = peers.iter().filter(|p| analyze(&p.user.user_id, &p.rec.snapshot()).reconnected > 0).count();

    // --- invariant 3: destroy from several threads; nothing may arrive once destroy returned
    let destroy_start = Instant::now();
    let threads = 8;
    std::thread::scope(|s| {
        for t in 0..threads {
            let peers = &peers;
            s.spawn(move || {
                for p in peers.iter().skip(t).step_by(threads) {
                    p.engine.destroy();
                    p.rec.len_at_destroy.store(p.rec.log.lock().len(), Ordering::SeqCst);
                    p.rec.destroyed.store(true, Ordering::SeqCst);
                }
            });
        }
    });
    let destroy_time = destroy_start.elapsed();

    // --- invariant 4: the server empties and its RSS comes back near the pre-login baseline
    let admin = server.admin();
    let empty = eventually(Duration::from_secs(GRACE_SECS + 10), || {
        admin
            .describe_user_num(&(0..ROOMS).map(room_name).collect::<Vec<_>>().iter().map(String::as_str).collect::<Vec<_>>())
            .ok()
            .and_then(|v| v["Data"].as_array().map(|a| a.iter().all(|r| r["UserCount"] == 0)))
            .unwrap_or(false)
    });
    std::thread::sleep(Duration::from_secs(GRACE_SECS + 1));
    let slack_kb = (20 * 1024).max(rss_pre / 2);
    let mut rss_final = server.rss_kb();
    // Give the allocator a moment if it is just above (polled, not a blind wait).
    let rss_ok = eventually(Duration::from_secs(5), || {
        rss_final = server.rss_kb();
        rss_final <= rss_pre + slack_kb
    });
    let late: usize = peers.iter().map(|p| p.rec.late.load(Ordering::SeqCst)).sum();
    let after: usize = peers.iter().map(|p| p.rec.log.lock().len() - p.rec.len_at_destroy.load(Ordering::SeqCst)).sum();

    eprintln!(
        "chaos summary: seed {seed}; {n} engines / {ROOMS} rooms / {proxies_n} proxies; faults {counts:?}; \
         engine ops logout+login {} switch {} (skipped {}); server restarts {restarts}; \
         logins {logins}, Reconnecting {reconnecting}, Reconnected {reconnected} ({engines_reconnected} engines); \
         unexpected terminal reasons {terminal}; users reported Add {adds} Delete {deletes}; \
         connections through the proxies {attempts}; events {events}; \
         all reconnected {reconnect_time:.1?} and views converged {converge_time:.1?} after the faults; \
         destroy of all {destroy_time:.1?}; callbacks after destroy {late} (events {after}); \
         server RSS pre-login {rss_pre} kB, with sessions {rss_sessions} kB, peak {rss_peak} kB, restarted server with sessions {rss_before_destroy} kB, final {rss_final} kB (limit {} kB); \
         total {:.1?}",
        ops.0,
        ops.1,
        ops.2,
        rss_pre + slack_kb,
        started.elapsed()
    );

    assert!(converged, "seed {seed}: views did not converge to DescribeUsers within 45 s: {:#?}", &last_problems[..last_problems.len().min(30)]);
    assert!(violations.is_empty(), "seed {seed}: {} violations: {:#?}", violations.len(), &violations[..violations.len().min(40)]);
    assert_eq!(late + after, 0, "seed {seed}: callbacks ran after destroy returned");
    assert!(empty, "seed {seed}: the server still lists users after every engine was destroyed");
    assert!(rss_ok, "seed {seed}: server RSS {rss_final} kB did not come back near the pre-login {rss_pre} kB (limit {} kB)", rss_pre + slack_kb);
    assert!(reconnected > 0 && restarts == 1, "seed {seed}: the soak injected nothing that forced a reconnect");
    drop(proxies);
}

/// The checker itself: it must flag what the soak is looking for (so a green soak means something).
#[test]
fn analyzer_flags_violations() {
    fn sc(reason: R, code: i32) -> Rec {
        Rec::Ev(Event::RoomStateChanged { reason, error_code: code, extended_data: "{}".into(), room_id: "r".into() })
    }
    fn su(state: RoomState, code: i32) -> Rec {
        Rec::Ev(Event::RoomStateUpdate { state, error_code: code, extended_data: "{}".into(), room_id: "r".into() })
    }
    fn uu(update_type: UpdateType, who: &str) -> Rec {
        Rec::Ev(Event::RoomUserUpdate { update_type, users: vec![User::new(who, who)], room_id: "r".into() })
    }
    use RoomState::*;
    let good = vec![
        sc(R::Logining, 0),
        su(Connecting, 0),
        sc(R::Logined, 0),
        su(Connected, 0),
        uu(UpdateType::Add, "b"),
        sc(R::Reconnecting, 1002051),
        su(Connecting, 1002051),
        sc(R::Reconnected, 0),
        su(Connected, 0),
        uu(UpdateType::Delete, "b"),
        uu(UpdateType::Add, "c"),
        Rec::AppLeave("r".into()),
        sc(R::Reconnecting, 1002051),
        su(Connecting, 1002051),
        sc(R::Logout, 0),
        su(Disconnected, 0),
        sc(R::Logining, 0),
        su(Connecting, 0),
        sc(R::Logined, 0),
        su(Connected, 0),
    ];
    let a = analyze("a", &good);
    assert!(a.violations.is_empty(), "{:#?}", a.violations);
    assert!(a.views["r"].is_empty(), "a new login starts an empty view");
    assert_eq!((a.reconnecting, a.reconnected, a.logins), (2, 1, 2));

    let bad = |edit: &dyn Fn(&mut Vec<Rec>)| {
        let mut log = good.clone();
        edit(&mut log);
        analyze("a", &log).violations
    };
    // Reconnected without Reconnecting.
    assert!(!bad(&|l| { l.drain(5..7); }).is_empty());
    // Reconnecting twice in a row.
    assert!(!bad(&|l| { l.insert(7, sc(R::Reconnecting, 1002051)); }).is_empty());
    // Duplicate Add, Delete of a stranger, the local user, an update while reconnecting.
    assert!(!bad(&|l| { l.insert(5, uu(UpdateType::Add, "b")); }).is_empty());
    assert!(!bad(&|l| { l.insert(5, uu(UpdateType::Delete, "x")); }).is_empty());
    assert!(!bad(&|l| { l.insert(5, uu(UpdateType::Add, "a")); }).is_empty());
    assert!(!bad(&|l| { l.insert(7, uu(UpdateType::Add, "d")); }).is_empty());
    // Legacy update missing, wrong, or without a change.
    assert!(!bad(&|l| { l.remove(3); }).is_empty());
    assert!(!bad(&|l| { l[6] = su(Connecting, 0); }).is_empty());
    assert!(!bad(&|l| { l.insert(4, su(Connected, 0)); }).is_empty());
    // A Logout out of Reconnecting that the app did not ask for.
    assert!(!bad(&|l| { l.remove(11); }).is_empty());
    // Anything after KickOut without a new login.
    let mut kicked = good[..5].to_vec();
    kicked.extend([sc(R::KickOut, 1002050), su(Disconnected, 1002050), uu(UpdateType::Add, "z"), sc(R::Reconnecting, 1002051)]);
    assert!(analyze("a", &kicked).violations.len() >= 3);
}
