//! Running the server for real (contract §5, §8, §9): `/metrics` counters moving by exactly what
//! happened over real sockets, `/healthz` following a real redis-server that is stopped and
//! started again, and the binary's settings from a TOML file, `ZEGO_ROOM_*` variables and flags
//! (with refusals), plus its log lines (one per login, kick, grace expiry, refusal, with room,
//! user and session ids; `RUST_LOG` filtering).

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::harness::*;
use common::proxy::FaultProxy;
use common::redis::RedisServer;
use parking_lot::Mutex;
use zego_room::error_codes::*;
use zego_room::server::admin::AdminClient;
use zego_room::*;

const BIN: &str = env!("CARGO_BIN_EXE_zego-room-server");
const CH: PublishChannel = PublishChannel::Main;

// ---- /metrics --------------------------------------------------------------------------------

/// Every sample of a scrape: `name{labels}` exactly as rendered → value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, v) = l.rsplit_once(' ').unwrap_or_else(|| panic!("sample line {l:?}"));
            (series.to_owned(), v.parse::<f64>().unwrap_or_else(|_| panic!("value in {l:?}")))
        })
        .collect()
}

fn scrape(admin: &AdminClient) -> BTreeMap<String, f64> {
    let (status, text) = admin.get_text("/metrics").expect("GET /metrics");
    assert_eq!(status, 200, "{text}");
    samples(&text)
}

/// The counters (`*_total`) that moved between two scrapes, by how much (DescribeUsers calls,
/// the test's own polling, left out).
fn deltas(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    after
        .iter()
        .filter(|(k, _)| k.split('{').next().is_some_and(|n| n.ends_with("_total")) && !k.contains("action=\"DescribeUsers\""))
        .filter_map(|(k, v)| {
            let d = v - before.get(k).copied().unwrap_or(0.0);
            (d != 0.0).then(|| (k.clone(), d))
        })
        .collect()
}

fn expect_deltas(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>, want: &[(&str, f64)]) {
    let want: BTreeMap<String, f64> = want.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    assert_eq!(deltas(before, after), want, "counter deltas (left: measured)");
}

fn wait_users(admin: &AdminClient, room: &str, n: usize) {
    assert!(
        eventually(SHORT, || admin.describe_users(room).ok().and_then(|v| v["Data"]["UserList"].as_array().map(Vec::len)) == Some(n)),
        "room {room} never had {n} users: {:?}",
        admin.describe_users(room)
    );
}

#[test]
fn metrics_count_exactly_what_happened() {
    let server = start_server(Some(SECRET));
    let admin = admin(&server, Some(SECRET));
    let (status, body) = admin.get_text("/healthz").unwrap();
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let s0 = scrape(&admin);
    assert_eq!(s0.get("zego_room_sessions"), Some(&0.0));
    assert!(s0.keys().any(|k| k.starts_with("zego_room_node_info{node_id=")), "{s0:?}");

    // Two fresh logins.
    let (alice, a) = joined(&server.url(), "m", "alice");
    let (bob, b) = joined(&server.url(), "m", "bob");
    let s1 = scrape(&admin);
    expect_deltas(&s0, &s1, &[("zego_room_logins_total", 2.0)]);
    assert_eq!((s1["zego_room_sessions"], s1["zego_room_rooms"], s1["zego_room_connections"]), (2.0, 1.0, 2.0));

    // A refused login, by code: eve opens room "full" for at most 1 user (the first login sets
    // the limit), carol is refused.
    let (eve, e) = engine(&server.url(), RoomMode::SingleRoom);
    let cfg = RoomConfig { max_member_count: 1, is_user_status_notify: true, token: token("eve", 3600) };
    eve.login_room("full", &User::new("eve", "eve"), Some(&cfg)).unwrap();
    e.expect_reason(0, R::Logined, SHORT);
    let (carol, c) = engine(&server.url(), RoomMode::SingleRoom);
    carol.login_room("full", &User::new("carol", "carol"), Some(&cfg_notify(token("carol", 3600)))).unwrap();
    assert_eq!(c.expect_reason(0, R::LoginFailed, SHORT).1, ROOM_FULL);
    let s2 = scrape(&admin);
    expect_deltas(&s1, &s2, &[("zego_room_logins_total", 1.0), (&format!("zego_room_login_failures_total{{code=\"{ROOM_FULL}\"}}"), 1.0)]);

    // Messages: a broadcast and a barrage from engines, a custom command from the admin API.
    alice.send_broadcast_message("m", "hello").unwrap();
    alice.send_barrage_message("m", "wow").unwrap();
    let ans = admin.send_custom_command("m", "admin", &["bob"], "cmd").unwrap();
    assert_eq!(ans["Code"], 0, "{ans}");
    assert!(
        b.wait(SHORT, |e| matches!(e, Event::ImRecvBarrageMessage { .. })).is_some(),
        "bob got the barrage: {:#?}",
        b.all()
    );
    // SEI: alice publishes, bob plays, 3 frames.
    let from = a.len();
    alice.start_publishing_stream("cam", None, CH).unwrap();
    assert!(a.wait_from(from, SHORT, |e| matches!(e, Event::PublisherStateUpdate { state: PublisherState::Publishing, .. })).is_some());
    bob.start_playing_stream("cam", None).unwrap();
    assert!(b.wait(SHORT, |e| matches!(e, Event::PlayerStateUpdate { state: PlayerState::Playing, .. })).is_some());
    for f in [&b"one"[..], b"two", b"three"] {
        alice.send_sei(f, CH).unwrap();
    }
    assert!(eventually(SHORT, || b.sei("cam").len() == 3), "bob got {} SEI frames", b.sei("cam").len());
    let s3 = scrape(&admin);
    expect_deltas(&s2, &s3, &[
        ("zego_room_messages_total{kind=\"broadcast\"}", 1.0),
        ("zego_room_messages_total{kind=\"barrage\"}", 1.0),
        ("zego_room_messages_total{kind=\"command\"}", 1.0),
        ("zego_room_sei_frames_total", 3.0),
        ("zego_room_admin_requests_total{action=\"SendCustomCommand\",code=\"0\"}", 1.0),
    ]);

    // A kick by the admin API.
    let from = b.len();
    assert_eq!(admin.kickout_user("m", &["bob"], None).unwrap()["Code"], 0);
    assert_eq!(b.expect_reason(from, R::KickOut, SHORT).1, MANUAL_KICKED_OUT);
    wait_users(&admin, "m", 1);
    let s4 = scrape(&admin);
    expect_deltas(&s3, &s4, &[
        (&format!("zego_room_kicks_total{{code=\"{MANUAL_KICKED_OUT}\"}}"), 1.0),
        ("zego_room_admin_requests_total{action=\"KickoutUser\",code=\"0\"}", 1.0),
    ]);

    // A resume: dave's connection (through the fault proxy) is cut; the engine resumes.
    let proxy = FaultProxy::start(server.ws_addr());
    let (dave, d) = joined(&proxy.url(), "m", "dave");
    let s5 = scrape(&admin);
    expect_deltas(&s4, &s5, &[("zego_room_logins_total", 1.0)]);
    let from = d.len();
    proxy.reset_all();
    d.expect_reason(from, R::Reconnected, Duration::from_secs(10));
    let s6 = scrape(&admin);
    expect_deltas(&s5, &s6, &[("zego_room_resumes_total", 1.0)]);

    // A grace expiry: dave's network goes away for good (connections refused); the server cuts
    // the silent connection and, 3 s (the heartbeat timeout) later, removes him.
    proxy.set_refuse(true);
    proxy.reset_all();
    wait_users_timeout(&admin, "m", 1, Duration::from_secs(15));
    let s7 = scrape(&admin);
    let moved = deltas(&s6, &s7);
    assert_eq!(moved.get("zego_room_grace_expiries_total"), Some(&1.0), "{moved:?}");
    assert_eq!(moved.get("zego_room_resumes_total"), None, "{moved:?}");
    assert_eq!(moved.get("zego_room_logins_total"), None, "{moved:?}");
    assert_eq!((s7["zego_room_sessions"], s7["zego_room_rooms"]), (2.0, 2.0), "alice and eve");
    drop(dave);
    drop((alice, bob, carol, eve));
    assert!(eventually(SHORT, || scrape(&admin)["zego_room_sessions"] == 0.0));
}

fn wait_users_timeout(admin: &AdminClient, room: &str, n: usize, timeout: Duration) {
    assert!(
        eventually(timeout, || admin.describe_users(room).ok().and_then(|v| v["Data"]["UserList"].as_array().map(Vec::len)) == Some(n)),
        "room {room} never had {n} users: {:?}",
        admin.describe_users(room)
    );
}

#[test]
fn the_admin_listener_routes_and_refuses() {
    let server = start_server(Some(SECRET));
    let admin = admin(&server, Some(SECRET));
    let (status, page) = admin.get_text("/console").unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("/console/app.js") && page.contains(&APP_ID.to_string()) && !page.contains(SECRET), "{page}");
    for asset in ["/console/app.js", "/console/md5.js", "/console/style.css"] {
        assert_eq!(admin.get_text(asset).unwrap().0, 200, "{asset}");
    }
    assert_eq!(admin.get_text("/nope").unwrap().0, 404);
    // The signed API is still at `/`, and an unsigned request is refused there.
    assert_eq!(admin.describe_rooms().unwrap()["Code"], 0);
    assert_ne!(AdminClient::new(server.admin_addr(), APP_ID, None).describe_rooms().unwrap()["Code"], 0);
}

/// In a cluster, `/healthz` says 503 while the cluster's Redis is unreachable, and 200 again
/// once it is back; `/metrics` shows the store's health, round trips and errors.
#[test]
fn healthz_follows_the_clusters_redis() {
    let mut redis = RedisServer::start();
    let server = start_server_with(Some(SECRET), |c| {
        c.redis = Some(redis.url());
        c.node_id = Some("ops-a".into());
    });
    let admin = admin(&server, Some(SECRET));
    let health = || admin.get_text("/healthz").unwrap();
    assert!(eventually(SHORT, || health().0 == 200), "{:?}", health());
    let (_alice, _a) = joined(&server.url(), "h", "alice");
    let up = scrape(&admin);
    assert_eq!(up["zego_room_store_healthy"], 1.0);
    assert!(up["zego_room_store_ops_total"] > 0.0 && up["zego_room_store_latency_seconds_total"] > 0.0, "{up:?}");
    assert!(up.keys().any(|k| k.starts_with("zego_room_node_info{node_id=\"ops-a\"")), "{up:?}");

    redis.kill();
    let t = Instant::now();
    assert!(eventually(Duration::from_secs(10), || health().0 == 503), "{:?}", health());
    let down_after = t.elapsed();
    let (status, body) = health();
    assert_eq!((status, body.as_str()), (503, "unhealthy: the room store cannot be reached\n"));
    let down = scrape(&admin);
    assert_eq!(down["zego_room_store_healthy"], 0.0);
    assert!(eventually(Duration::from_secs(10), || scrape(&admin)["zego_room_store_errors_total"] > up["zego_room_store_errors_total"]));

    redis.restart();
    assert!(eventually(Duration::from_secs(15), || health().0 == 200), "{:?}", health());
    assert_eq!(scrape(&admin)["zego_room_store_healthy"], 1.0);
    eprintln!("healthz: 503 {down_after:?} after Redis was killed");
}

// ---- the binary: settings and logs ------------------------------------------------------------

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("zego-room-ops-{}-{:x}", std::process::id(), fastrand::u64(..)));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The server's stderr lines, collected as they come.
struct Running {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Running {
    fn lines(&self, needle: &str) -> Vec<String> {
        self.log.lock().iter().filter(|l| l.contains(needle)).cloned().collect()
    }
    fn wait_line(&self, needle: &str) -> String {
        assert!(eventually(SHORT, || !self.lines(needle).is_empty()), "no log line with {needle:?}: {:#?}", self.log.lock());
        self.lines(needle).remove(0)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary with exactly these arguments and environment (nothing inherited but PATH);
/// waits until `admin` answers /healthz.
fn run_bin(args: &[&str], env: &[(&str, &str)], admin: SocketAddr, tls_ca: Option<&Path>) -> Running {
    let mut cmd = Command::new(BIN);
    cmd.env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default()).args(args).envs(env.iter().copied());
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn zego-room-server");
    let log = Arc::new(Mutex::new(Vec::new()));
    let (stderr, sink) = (child.stderr.take().unwrap(), log.clone());
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().push(line);
        }
    });
    let mut client = AdminClient::new(admin, APP_ID, None);
    if let Some(ca) = tls_ca {
        client = client.with_tls_ca(ca).unwrap();
    }
    let up = eventually(SHORT, || client.get_text("/healthz").is_ok_and(|(s, _)| s == 200));
    let running = Running { child, log };
    assert!(up, "the server did not come up on {admin}: {:#?}", running.log.lock());
    running
}

/// Runs the binary expecting a refusal: non-zero exit, exactly one line on stderr.
fn refused(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(BIN).env_clear().args(args).envs(env.iter().copied()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).trim_end().to_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    assert!(stderr.starts_with("zego-room-server: ") && !stderr.contains("panicked"), "{stderr}");
    stderr
}

fn node_id_of(admin: SocketAddr) -> String {
    let (_, text) = AdminClient::new(admin, APP_ID, None).get_text("/metrics").unwrap();
    let line = text.lines().find(|l| l.starts_with("zego_room_node_info{")).expect("node_info").to_owned();
    line.split("node_id=\"").nth(1).and_then(|r| r.split('"').next()).unwrap().to_owned()
}

#[test]
fn settings_come_from_flags_over_environment_over_file() {
    let (ws_file, admin_file, admin_env) = (free_addr(), free_addr(), free_addr());
    let app_id = APP_ID.to_string();
    let file = temp_file(
        "server.toml",
        &format!(
            "# a comment\nlisten = \"{ws_file}\"\nadmin_listen = \"{admin_file}\"\napp_id = {APP_ID}\nserver_secret = \"{SECRET}\"\n\
             heartbeat_timeout = 5\nping_interval = 1\nnode_id = \"from-file\"\n"
        ),
    );
    let cfg = file.to_str().unwrap();

    // The file alone: its addresses, app id and secret are used (an engine logs in with a token
    // made with that secret; a signed admin call with it works).
    {
        let s = run_bin(&["--config", cfg], &[], admin_file, None);
        assert_eq!(node_id_of(admin_file), "from-file");
        let (_alice, _a) = joined(&format!("ws://{ws_file}"), "cfg", "alice");
        assert_eq!(AdminClient::new(admin_file, APP_ID, Some(SECRET)).describe_user_num(&["cfg"]).unwrap()["Data"][0]["UserCount"], 1);
        let started = s.wait_line("settings from");
        assert!(started.contains("listen (file)") && started.contains("node_id (file)") && !started.contains(SECRET), "{started}");
    }
    // The environment over the file; the file named by ZEGO_ROOM_CONFIG.
    {
        let admin = admin_env.to_string();
        let env = [("ZEGO_ROOM_CONFIG", cfg), ("ZEGO_ROOM_ADMIN_LISTEN", admin.as_str()), ("ZEGO_ROOM_NODE_ID", "from-env")];
        let s = run_bin(&[], &env, admin_env, None);
        assert_eq!(node_id_of(admin_env), "from-env");
        let started = s.wait_line("settings from");
        assert!(started.contains("admin_listen (environment)") && started.contains("listen (file)"), "{started}");
    }
    // Flags over the environment (even a flag equal to a default).
    {
        let (ws, admin) = (free_addr(), free_addr());
        let env = [("ZEGO_ROOM_CONFIG", cfg), ("ZEGO_ROOM_NODE_ID", "from-env"), ("ZEGO_ROOM_LISTEN", "127.0.0.1:1")];
        let (ws_s, admin_s) = (ws.to_string(), admin.to_string());
        let _s = run_bin(&["--listen", &ws_s, "--admin-listen", &admin_s, "--node-id", "from-flag", "--app-id", &app_id], &env, admin, None);
        assert_eq!(node_id_of(admin), "from-flag");
        let (_bob, _b) = joined(&format!("ws://{ws}"), "cfg", "bob");
    }
}

#[test]
fn tls_keys_come_from_the_file() {
    let dir = common::certs::temp_dir("ops");
    let pki = common::certs::make_pki(&dir);
    let (ws, admin) = (free_addr(), free_addr());
    let file = temp_file(
        "tls.toml",
        &format!(
            "listen = \"{ws}\"\nadmin_listen = \"{admin}\"\napp_id = {APP_ID}\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
            pki.cert.display(),
            pki.key.display()
        ),
    );
    let s = run_bin(&["--config", file.to_str().unwrap()], &[], admin, Some(&pki.ca));
    assert!(s.wait_line("settings from").contains("tls_cert (file)"));
    // Plain HTTP is not served there any more.
    assert!(AdminClient::new(admin, APP_ID, None).get_text("/healthz").map(|(st, _)| st != 200).unwrap_or(true));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_settings_refuse_to_start_with_one_line() {
    let unknown = temp_file("unknown.toml", "lisen = \"127.0.0.1:9100\"\n");
    let line = refused(&["--config", unknown.to_str().unwrap()], &[]);
    assert!(line.contains("unknown key `lisen`"), "{line}");
    let dashed = temp_file("dashed.toml", "admin-listen = \"127.0.0.1:9101\"\n");
    assert!(refused(&["--config", dashed.to_str().unwrap()], &[]).contains("keys use _ for -: admin_listen"));
    let bad = temp_file("bad.toml", "heartbeat_timeout = \"soon\"\n");
    let line = refused(&["--config", bad.to_str().unwrap()], &[]);
    assert!(line.contains("`heartbeat_timeout` = \"soon\"") && line.contains("seconds"), "{line}");
    let broken = temp_file("broken.toml", "app_id = 1\nlisten = \n");
    assert!(refused(&["--config", broken.to_str().unwrap()], &[]).contains("line 2"));
    assert!(refused(&["--config", "/nonexistent/server.toml"], &[]).contains("cannot read it"));
    assert!(refused(&[], &[("ZEGO_ROOM_SERVER_SECRT", "x")]).contains("unknown environment variable ZEGO_ROOM_SERVER_SECRT"));
    let line = refused(&[], &[("ZEGO_ROOM_SERVER_SECRET", "short")]);
    assert!(line.contains("ZEGO_ROOM_SERVER_SECRET") && line.contains("exactly 32"), "{line}");
    assert!(refused(&[], &[("ZEGO_ROOM_APP_ID", "twelve")]).contains("ZEGO_ROOM_APP_ID=\"twelve\""));
    assert!(refused(&["--tls-cert", "/x.pem"], &[]).contains("without tls_key"));
    assert!(refused(&["--redis", "not a url"], &[]).contains("not a Redis URL"));
    // A flag wins over a bad variable of the same key: the variable is never parsed.
    let (ws, admin) = (free_addr(), free_addr());
    let (ws_s, admin_s) = (ws.to_string(), admin.to_string());
    let _s = run_bin(&["--listen", &ws_s, "--admin-listen", &admin_s, "--app-id", "7"], &[("ZEGO_ROOM_APP_ID", "twelve")], admin, None);
}

/// One info line per login, kick, grace expiry and refusal, each naming the room, the user and
/// (where one exists) the session; `RUST_LOG` selects by module.
#[test]
fn logs_one_line_per_event_with_ids() {
    let (ws, admin) = (free_addr(), free_addr());
    let (ws_s, admin_s, app_id) = (ws.to_string(), admin.to_string(), APP_ID.to_string());
    let args = ["--listen", &ws_s, "--admin-listen", &admin_s, "--app-id", &app_id, "--server-secret", SECRET, "--ping-interval", "1", "--heartbeat-timeout", "2"];
    // Only the node's records at info; the admin listener's "ok" lines are filtered out.
    let s = run_bin(&args, &[("RUST_LOG", "warn,zego_room::server::node=info")], admin, None);
    let (_alice, _a) = joined(&format!("ws://{ws}"), "logs", "alice");
    let proxy = FaultProxy::start(ws);
    let (_bob, b) = joined(&proxy.url(), "logs", "bob");
    let (carol, c) = engine(&format!("ws://{ws}"), RoomMode::SingleRoom);
    carol.login_room("logs", &User::new("carol", "carol"), Some(&cfg_notify(token("someone-else", 3600)))).unwrap();
    let refusal_code = c.expect_reason(0, R::LoginFailed, SHORT).1;

    let login = |user: &str| s.wait_line(&format!("room logs: user {user} (session "));
    let session_of = |line: &str| line.split("(session ").nth(1).and_then(|r| r.split(')').next()).unwrap().to_owned();
    let (alice_sid, bob_sid) = (session_of(&login("alice")), session_of(&login("bob")));
    assert_ne!(alice_sid, bob_sid);
    let refusal = s.wait_line("login of carol");
    assert!(refusal.contains("room logs") && refusal.contains(&format!("refused ({refusal_code})")), "{refusal}");

    // Kick alice; bob's network goes away for good (grace 2 s).
    assert_eq!(AdminClient::new(admin, APP_ID, Some(SECRET)).kickout_user("logs", &["alice"], None).unwrap()["Code"], 0);
    let kick = s.wait_line("kicked (");
    assert!(kick.contains(&format!("room logs: user alice (session {alice_sid}) kicked ({MANUAL_KICKED_OUT})")), "{kick}");
    let from = b.len();
    proxy.set_refuse(true);
    proxy.reset_all();
    let _ = b.wait_from(from, SHORT, |e| matches!(e, Event::RoomStateChanged { reason: R::Reconnecting, .. }));
    assert!(eventually(Duration::from_secs(12), || !s.lines("heartbeat grace passed").is_empty()), "{:#?}", s.log.lock());
    let grace = s.wait_line("heartbeat grace passed");
    assert!(grace.contains(&format!("room logs: user bob (session {bob_sid}) removed")), "{grace}");

    // Exactly one line each.
    for (needle, what) in [
        (format!("user alice (session {alice_sid}) logged in"), "alice's login"),
        (format!("user bob (session {bob_sid}) logged in"), "bob's login"),
        ("login of carol".to_owned(), "carol's refusal"),
        (format!("(session {alice_sid}) kicked"), "alice's kick"),
        (format!("(session {bob_sid}) removed: heartbeat grace passed"), "bob's grace expiry"),
    ] {
        assert_eq!(s.lines(&needle).len(), 1, "{what}: {:#?}", s.log.lock());
    }
    assert!(s.lines("admin 127.0.0.1").is_empty(), "RUST_LOG filtered the admin module: {:#?}", s.log.lock());
    assert!(s.lines("settings:").is_empty(), "RUST_LOG=warn hides the binary's info lines");
}
