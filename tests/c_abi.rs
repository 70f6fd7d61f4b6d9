//! The C ABI from C: the programs in `tests/c/` and `examples/c/` are compiled with
//! `-std=c99 -Wall -Wextra -Werror` against `include/zego_room.h` and linked to the cdylib this
//! test run built (`target/<profile>/libzego_room.so`), then run against a real in-process server.
//!
//! `tests/c/driver.c` is a scripted host: this file sends it commands on stdin and reads one line
//! per callback on stdout, so network faults (the proxy) and admin kicks happen at known points.
//! The others are self-checking programs. One run is under AddressSanitizer, one under valgrind.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use common::harness::*;
use common::proxy::{Cut, FaultProxy};
use parking_lot::{Condvar, Mutex};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `target/<profile>`: the test executable lives in `target/<profile>/deps/`.
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(Path::parent).expect("target/<profile>").to_path_buf();
    assert!(dir.join("libzego_room.so").exists(), "{} not found: the cdylib is built with the tests", dir.join("libzego_room.so").display());
    dir
}

fn out_dir() -> PathBuf {
    let profile = lib_dir().file_name().unwrap().to_string_lossy().into_owned();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c_abi").join(profile);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const CFLAGS: &[&str] = &["-std=c99", "-Wall", "-Wextra", "-Werror", "-g"];

/// Compiles `src` (relative to the crate root) into `name`, once per test process.
fn build(src: &str, name: &str, extra: &[&str]) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    // Held while compiling, so two tests never write or run a half-written binary.
    let mut built = BUILT.get_or_init(Default::default).lock();
    if let Some(p) = built.get(name) {
        return p.clone();
    }
    let lib = lib_dir();
    let exe = out_dir().join(name);
    let out = Command::new("gcc")
        .args(CFLAGS)
        .args(extra)
        .arg("-I")
        .arg(root().join("include"))
        .arg("-I")
        .arg(root().join("tests/c"))
        .arg(root().join(src))
        .arg("-o")
        .arg(&exe)
        .arg(format!("-L{}", lib.display()))
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-lzego_room", "-lpthread"])
        .output()
        .expect("gcc runs (scripts/install-deps.sh)");
    assert!(out.status.success(), "gcc {src} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    built.insert(name.to_owned(), exe.clone());
    exe
}

fn run_checked(mut cmd: Command, what: &str, timeout: Duration) -> Output {
    let started = Instant::now();
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("{what}: {e}"));
    let pid = child.id();
    let watchdog = std::thread::spawn(move || {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            if !Path::new(&format!("/proc/{pid}")).exists() {
                return;
            }
        }
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    });
    let out = child.wait_with_output().unwrap();
    let _ = watchdog.join();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{what}: {:?}\n{stdout}", started.elapsed());
    assert!(out.status.success(), "{what} failed ({:?}):\nstdout:\n{stdout}\nstderr:\n{stderr}", out.status);
    out
}

// ---------------------------------------------------------------------------------------------
// The scripted driver
// ---------------------------------------------------------------------------------------------

struct Driver {
    child: Child,
    stdin: ChildStdin,
    lines: Arc<(Mutex<Vec<String>>, Condvar)>,
}

impl Driver {
    fn start() -> Driver {
        let exe = build("tests/c/driver.c", "driver", &[]);
        let mut child = Command::new(exe).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("driver starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines: Arc<(Mutex<Vec<String>>, Condvar)> = Arc::default();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.0.lock().push(line);
                sink.1.notify_all();
            }
        });
        let d = Driver { child, stdin, lines };
        d.wait(0, "ready ");
        d
    }

    fn send(&mut self, cmd: &str) {
        writeln!(self.stdin, "{cmd}").expect("driver stdin");
        self.stdin.flush().unwrap();
    }

    fn len(&self) -> usize {
        self.lines.0.lock().len()
    }

    fn transcript(&self) -> String {
        self.lines.0.lock().join("\n")
    }

    /// Waits (10 s) for a line at index ≥ `from` starting with `prefix`; returns its index and text.
    fn wait(&self, from: usize, prefix: &str) -> (usize, String) {
        self.wait_for(from, prefix, Duration::from_secs(10))
    }

    fn wait_for(&self, from: usize, prefix: &str, timeout: Duration) -> (usize, String) {
        let deadline = Instant::now() + timeout;
        let mut lines = self.lines.0.lock();
        loop {
            if let Some(i) = lines.iter().skip(from).position(|l| l.starts_with(prefix)) {
                return (from + i, lines[from + i].clone());
            }
            if self.lines.1.wait_until(&mut lines, deadline).timed_out() {
                drop(lines);
                panic!("no line starting with {prefix:?} within {timeout:?}; transcript:\n{}", self.transcript());
            }
        }
    }

    /// Sends a command and returns the numbers after "ret CMD SLOT" (code, then seq if any).
    fn call(&mut self, cmd: &str) -> Vec<i32> {
        let from = self.len();
        self.send(cmd);
        let mut words = cmd.split(' ');
        let (verb, slot) = (words.next().unwrap(), words.next().unwrap());
        let (_, line) = self.wait(from, &format!("ret {verb} {slot} "));
        line.split(' ').skip(3).map(|w| w.parse().unwrap()).collect()
    }

    /// Waits (10 s) for a line at index ≥ `from` for which `pred` holds.
    fn wait_where(&self, from: usize, what: &str, pred: impl Fn(&str) -> bool) -> (usize, String) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut lines = self.lines.0.lock();
        loop {
            if let Some(i) = lines.iter().skip(from).position(|l| pred(l)) {
                return (from + i, lines[from + i].clone());
            }
            if self.lines.1.wait_until(&mut lines, deadline).timed_out() {
                drop(lines);
                panic!("no line {what} within 10 s; transcript:\n{}", self.transcript());
            }
        }
    }

    /// Sends a command and returns its whole "ret CMD SLOT ..." line.
    fn call_line(&mut self, cmd: &str) -> String {
        let from = self.len();
        self.send(cmd);
        let mut words = cmd.split(' ');
        let (verb, slot) = (words.next().unwrap(), words.next().unwrap());
        self.wait(from, &format!("ret {verb} {slot} ")).1
    }

    fn lines_from(&self, from: usize) -> Vec<String> {
        self.lines.0.lock()[from..].to_vec()
    }

    /// Quits and checks the exit status and that no invariant was violated.
    fn finish(mut self) -> Vec<String> {
        self.send("quit");
        let status = self.child.wait().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.lines.0.lock().iter().any(|l| l == "bye") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let lines = self.lines.0.lock().clone();
        let errors: Vec<_> = lines.iter().filter(|l| l.starts_with("ERROR")).collect();
        assert!(errors.is_empty(), "invariant violations: {errors:#?}\n{}", lines.join("\n"));
        assert!(status.success() && lines.last().map(String::as_str) == Some("bye"), "driver exit {status:?}:\n{}", lines.join("\n"));
        lines
    }
}

fn login_cmd(slot: u32, room: &str, user: &str, token: &str, max: u32, notify: bool, name: &str) -> String {
    format!("login {slot} {room} {user} {token} {max} {} {name}", notify as i32)
}

/// Indexes of the lines, in order, each searched after the previous one.
fn in_order(d: &Driver, from: usize, prefixes: &[&str]) -> Vec<String> {
    let mut at = from;
    let mut found = Vec::new();
    for p in prefixes {
        let (i, line) = d.wait(at, p);
        at = i + 1;
        found.push(line);
    }
    found
}

// ---------------------------------------------------------------------------------------------
// Scenarios: every row of contract §1.1
// ---------------------------------------------------------------------------------------------

#[test]
fn scenario_login_switch_logout_with_legacy_states_results_and_presence() {
    let server = start_server(Some(SECRET));
    let url = server.url();
    let mut d = Driver::start();
    assert_eq!(d.call(&format!("create 0 {url} 0")), vec![0]);
    let from = d.len();
    let ret = d.call(&login_cmd(0, "r1", "alice", &token("alice", 3600), 0, true, "Alice A"));
    assert_eq!(ret[0], 0);
    let seq = ret[1];
    assert!(seq > 0);
    let lines = in_order(
        &d,
        from,
        &[
            "ev 0 state_changed 0 0 r1 {}",
            "ev 0 state_update 1 0 r1 {}",
            "ev 0 state_changed 1 0 r1 {\"room_session_id\":",
            "ev 0 state_update 2 0 r1 {\"room_session_id\":",
            &format!("ev 0 login_result 0 r1 {seq} {{\"room_session_id\":"),
        ],
    );
    // The legacy update and the login result carry the Logined extended data.
    let ext = |l: &str| l.splitn(7, ' ').nth(6).unwrap().to_owned();
    assert_eq!(ext(&lines[2]), ext(&lines[3]));
    d.wait(from, "ev 0 count 1 r1");

    // Presence: each sees the other with the name given at login, never itself.
    assert_eq!(d.call(&format!("create 1 {url} 0")), vec![0]);
    let from = d.len();
    assert_eq!(d.call(&login_cmd(1, "r1", "bob", &token("bob", 3600), 0, true, "Bob B"))[0], 0);
    d.wait(from, "ev 0 user_update 0 r1 1 bob:Bob B");
    d.wait(from, "ev 1 user_update 0 r1 1 alice:Alice A");
    d.wait(from, "ev 1 count 2 r1");

    // switch_room = Logout(from), Logining(to), Logined(to).
    let from = d.len();
    assert_eq!(d.call("switch 0 r1 r2"), vec![0]);
    in_order(&d, from, &["ev 0 state_changed 7 0 r1", "ev 0 state_changed 0 0 r2", "ev 0 state_changed 1 0 r2 {\"room_session_id\":"]);
    d.wait(from, "ev 1 user_update 1 r1 1 alice:Alice A");

    // logout: Logout 0, legacy Disconnected, logout_result echoing the seq.
    let from = d.len();
    let ret = d.call("logout 0 r2");
    assert_eq!(ret[0], 0);
    in_order(&d, from, &["ev 0 state_changed 7 0 r2 {}", "ev 0 state_update 0 0 r2 {}", &format!("ev 0 logout_result 0 r2 {} {{}}", ret[1])]);

    // logout of a room not joined: returns 0, LogoutFailed 1002002 + logout_result, no legacy event.
    let from = d.len();
    let ret = d.call("logout 0 nowhere");
    assert_eq!(ret[0], 0);
    in_order(&d, from, &["ev 0 state_changed 8 1002002 nowhere {}", &format!("ev 0 logout_result 1002002 nowhere {}", ret[1])]);
    std::thread::sleep(Duration::from_millis(200));
    assert!(!d.lines_from(from).iter().any(|l| l.starts_with("ev 0 state_update")), "no legacy event for LogoutFailed");
    d.finish();
}

#[test]
fn scenario_login_failures_token_room_full_unreachable() {
    let server = start_server(Some(SECRET));
    let url = server.url();
    let mut d = Driver::start();
    for slot in 0..3 {
        assert_eq!(d.call(&format!("create {slot} {url} 0")), vec![0]);
    }
    // A token for another user, and no token at all: LoginFailed 1002033, login_result 1002033.
    let from = d.len();
    let seq = d.call(&login_cmd(0, "t1", "alice", &token("mallory", 3600), 0, false, ""))[1];
    in_order(&d, from, &["ev 0 state_changed 0 0 t1", "ev 0 state_changed 2 1002033 t1", "ev 0 state_update 0 1002033 t1"]);
    d.wait(from, &format!("ev 0 login_result 1002033 t1 {seq}"));
    let from = d.len();
    assert_eq!(d.call(&login_cmd(0, "t1", "alice", "-", 0, false, ""))[0], 0, "a new login after LoginFailed is allowed");
    d.wait(from, "ev 0 state_changed 2 1002033 t1");

    // Room full: the first login opens the room with max_member_count 1.
    let from = d.len();
    assert_eq!(d.call(&login_cmd(1, "full", "u1", &token("u1", 3600), 1, false, ""))[0], 0);
    d.wait(from, "ev 1 state_changed 1 0 full");
    assert_eq!(d.call(&login_cmd(2, "full", "u2", &token("u2", 3600), 0, false, ""))[0], 0);
    d.wait(from, "ev 2 state_changed 2 1002034 full");
    d.wait(from, "ev 2 login_result 1002034 full");

    // First login to an unreachable server: Logining, then LoginFailed 1002053 when the
    // retry window (room_retry_time) runs out; never Reconnecting.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    assert_eq!(d.call(&format!("create 3 ws://127.0.0.1:{closed} 0")), vec![0]);
    assert_eq!(d.call("config 3 room_retry_time=2"), vec![0]);
    assert_eq!(d.call("config 3 room_retry_time=oops"), vec![1000017]);
    let from = d.len();
    let started = Instant::now();
    assert_eq!(d.call(&login_cmd(3, "far", "u3", "-", 0, false, ""))[0], 0);
    d.wait(from, "ev 3 state_changed 0 0 far");
    d.wait(from, "ev 3 state_changed 2 1002053 far");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(1500) && took < Duration::from_secs(6), "LoginFailed after the 2 s window, took {took:?}");
    assert!(!d.lines_from(from).iter().any(|l| l.starts_with("ev 3 state_changed 3")), "no Reconnecting on a first login");
    d.finish();
}

#[test]
fn scenario_reconnecting_reconnected_and_reconnect_failed_through_the_proxy() {
    let server = start_server(Some(SECRET));
    let proxy = FaultProxy::start(server.ws_addr());
    let mut d = Driver::start();
    assert_eq!(d.call(&format!("create 0 {} 0", proxy.url())), vec![0]);
    assert_eq!(d.call(&format!("create 1 {} 0", proxy.url())), vec![0]);
    assert_eq!(d.call("config 1 room_retry_time=2"), vec![0]);
    let from = d.len();
    d.call(&login_cmd(0, "net", "alice", &token("alice", 3600), 0, false, ""));
    d.call(&login_cmd(1, "net2", "carol", &token("carol", 3600), 0, false, ""));
    d.wait(from, "ev 0 state_changed 1 0 net");
    d.wait(from, "ev 1 state_changed 1 0 net2");

    let from = d.len();
    let cut_at = Instant::now();
    proxy.cut(Cut::Close);
    in_order(&d, from, &["ev 0 state_changed 3 1002051 net {}", "ev 0 state_update 1 1002051 net"]);
    d.wait(from, "ev 1 state_changed 3 1002051 net2");
    eprintln!("Reconnecting reported {:?} after the cut", cut_at.elapsed());
    // carol's window is 2 s: ReconnectFailed 1002053, legacy Disconnected.
    in_order(&d, from, &["ev 1 state_changed 5 1002053 net2", "ev 1 state_update 0 1002053 net2"]);
    proxy.restore();
    d.wait(from, "ev 0 state_changed 4 0 net {\"room_session_id\":");
    d.wait(from, "ev 0 state_update 2 0 net");
    std::thread::sleep(Duration::from_millis(500));
    let after = d.lines_from(from);
    assert!(!after.iter().any(|l| l.starts_with("ev 1 state_changed 4")), "no Reconnected after ReconnectFailed: {after:#?}");
    // After ReconnectFailed the room is no longer joined; logout naming it still reports Logout 0.
    let from = d.len();
    d.call("logout 1 net2");
    d.wait(from, "ev 1 state_changed 7 0 net2");
    d.finish();
}

#[test]
fn scenario_kickouts_duplicate_login_and_admin() {
    let server = start_server(Some(SECRET));
    let url = server.url();
    let mut d = Driver::start();
    for slot in 0..4 {
        assert_eq!(d.call(&format!("create {slot} {url} 0")), vec![0]);
    }
    let from = d.len();
    d.call(&login_cmd(0, "k1", "dup", &token("dup", 3600), 0, false, ""));
    d.wait(from, "ev 0 state_changed 1 0 k1");
    d.call(&login_cmd(1, "k1", "dup", &token("dup", 3600), 0, false, ""));
    in_order(&d, from, &["ev 0 state_changed 6 1002050 k1", "ev 0 state_update 0 1002050 k1"]);
    d.wait(from, "ev 1 state_changed 1 0 k1");

    let from = d.len();
    d.call(&login_cmd(2, "k2", "watcher", &token("watcher", 3600), 0, true, ""));
    d.wait(from, "ev 2 state_changed 1 0 k2");
    d.call(&login_cmd(3, "k2", "victim", &token("victim", 3600), 0, false, "Victim V"));
    d.wait(from, "ev 3 state_changed 1 0 k2");
    d.wait(from, "ev 2 user_update 0 k2 1 victim:Victim V");
    let answer = admin(&server, Some(SECRET)).kickout_user("k2", &["victim"], Some("bye now")).expect("admin call");
    assert_eq!(answer["Code"], 0, "{answer}");
    let (_, line) = d.wait(from, "ev 3 state_changed 6 1002055 k2 ");
    let ext: serde_json::Value = serde_json::from_str(line.splitn(7, ' ').nth(6).unwrap()).unwrap();
    assert_eq!(ext["custom_kickout_message"], "bye now");
    d.wait(from, "ev 2 user_update 1 k2 1 victim:Victim V");
    d.finish();
}

// ---------------------------------------------------------------------------------------------
// Self-checking programs
// ---------------------------------------------------------------------------------------------

#[test]
fn inputs_null_and_bad_values_for_every_function() {
    let exe = build("tests/c/inputs.c", "inputs", &[]);
    let mut cmd = Command::new(exe);
    cmd.arg(env!("CARGO_PKG_VERSION"));
    let out = run_checked(cmd, "inputs", Duration::from_secs(60));
    assert!(String::from_utf8_lossy(&out.stdout).contains("inputs: all checks passed"));
}

#[test]
fn reentrancy_and_threads() {
    let server = start_server(None);
    let url = server.url();
    for name in ["reentrancy", "threads"] {
        let exe = build(&format!("tests/c/{name}.c"), name, &[]);
        let mut cmd = Command::new(exe);
        cmd.arg(&url);
        let out = run_checked(cmd, name, Duration::from_secs(60));
        assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{name}: all checks passed")));
    }
}

#[test]
fn address_sanitizer() {
    let server = start_server(None);
    let url = server.url();
    let supp = root().join("tests/c/lsan.supp");
    for name in ["inputs", "reentrancy", "threads"] {
        let exe = build(&format!("tests/c/{name}.c"), &format!("{name}-asan"), &["-fsanitize=address", "-fno-omit-frame-pointer"]);
        let ldd = Command::new("ldd").arg(&exe).output().expect("ldd");
        assert!(String::from_utf8_lossy(&ldd.stdout).contains("libasan"), "{name}-asan is not ASan-instrumented");
        let mut cmd = Command::new(exe);
        cmd.arg(if name == "inputs" { env!("CARGO_PKG_VERSION") } else { &url });
        cmd.env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=23");
        cmd.env("LSAN_OPTIONS", format!("suppressions={}:print_suppressions=0", supp.display()));
        let out = run_checked(cmd, &format!("{name} (ASan)"), Duration::from_secs(120));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("ERROR: AddressSanitizer") && !stderr.contains("ERROR: LeakSanitizer"), "{stderr}");
    }
}

#[test]
fn valgrind_no_invalid_access_no_definite_leak() {
    let server = start_server(None);
    let url = server.url();
    for (name, arg) in [("inputs", env!("CARGO_PKG_VERSION").to_owned()), ("reentrancy", url.clone())] {
        let exe = build(&format!("tests/c/{name}.c"), name, &[]);
        let mut cmd = Command::new("valgrind");
        let supp = format!("--suppressions={}", root().join("tests/c/valgrind.supp").display());
        cmd.args(["--error-exitcode=1", "--leak-check=full", "--errors-for-leak-kinds=definite", "--quiet", &supp]).arg(exe).arg(arg);
        let out = run_checked(cmd, &format!("{name} (valgrind)"), Duration::from_secs(150));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("Invalid read") && !stderr.contains("Invalid write") && !stderr.contains("definitely lost"), "{stderr}");
    }
}

#[test]
fn example_builds_with_pkg_config_and_logs_in() {
    // A zego_room.pc from the committed template, pointing at this build.
    let lib = lib_dir();
    let pc_dir = out_dir().join("pkgconfig");
    std::fs::create_dir_all(&pc_dir).unwrap();
    let pc = std::fs::read_to_string(root().join("zego_room.pc.in"))
        .unwrap()
        .replace("@PREFIX@", &root().display().to_string())
        .replace("@LIBDIR@", &lib.display().to_string())
        .replace("@INCLUDEDIR@", &root().join("include").display().to_string())
        .replace("@VERSION@", env!("CARGO_PKG_VERSION"));
    std::fs::write(pc_dir.join("zego_room.pc"), pc).unwrap();
    let flags = Command::new("pkg-config").args(["--cflags", "--libs", "zego_room"]).env("PKG_CONFIG_PATH", &pc_dir).output().expect("pkg-config runs");
    assert!(flags.status.success(), "{}", String::from_utf8_lossy(&flags.stderr));
    let flags = String::from_utf8(flags.stdout).unwrap();
    let version = Command::new("pkg-config").args(["--modversion", "zego_room"]).env("PKG_CONFIG_PATH", &pc_dir).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), env!("CARGO_PKG_VERSION"));
    let exe = out_dir().join("room_quickstart");
    let out = Command::new("gcc")
        .args(CFLAGS)
        .arg(root().join("examples/c/room_quickstart.c"))
        .args(flags.split_whitespace())
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-lpthread")
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let server = start_server(Some(SECRET));
    let mut cmd = Command::new(&exe);
    cmd.args([server.url(), "example-room".into(), "c-user".into(), token("c-user", 3600), APP_ID.to_string()]);
    let out = run_checked(cmd, "room_quickstart", Duration::from_secs(30));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("room example-room: Logining (error 0) {}"), "{stdout}");
    assert!(stdout.contains("room example-room: Logined (error 0) {\"room_session_id\":"), "{stdout}");
    assert!(stdout.contains("room example-room: Logout (error 0)"), "{stdout}");
}

// ---------------------------------------------------------------------------------------------
// Streams (contract §6) and messaging (§7) through the C ABI, against a real server
// ---------------------------------------------------------------------------------------------

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `list SLOT TYPE ROOM`: (code, count, "STREAM|USER|NAME|EXTRA,...").
fn stream_list(d: &mut Driver, slot: u32, list_type: u32, room: &str) -> (i32, u32, String) {
    let line = d.call_line(&format!("list {slot} {list_type} {room}"));
    let mut w = line.splitn(6, ' ').skip(3);
    let code = w.next().unwrap().parse().unwrap();
    let count = w.next().unwrap().parse().unwrap();
    (code, count, w.next().unwrap_or("").to_owned())
}

/// The JSON after the last space of an event line.
fn last_json(line: &str) -> serde_json::Value {
    serde_json::from_str(line.rsplit(' ').next().unwrap()).unwrap_or_else(|e| panic!("{line}: {e}"))
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

/// A server timestamp (ms since the epoch) taken within the last minute.
fn assert_recent_ms(t: u64, line: &str) {
    let now = now_ms();
    assert!(t <= now + 5_000 && t + 60_000 >= now, "send/update time {t} is not server time in ms (now {now}): {line}");
}

fn login_all(d: &mut Driver, room: &str, users: &[(u32, &str, &str)]) {
    let from = d.len();
    for (slot, user, name) in users {
        assert_eq!(d.call(&login_cmd(*slot, room, user, &token(user, 3600), 0, true, name))[0], 0);
    }
    for (slot, _, _) in users {
        d.wait(from, &format!("ev {slot} state_changed 1 0 {room} "));
    }
}

#[test]
fn scenario_streams_publish_play_sei_lists_and_extra_info() {
    let server = start_server(Some(SECRET));
    let url = server.url();
    let mut d = Driver::start();
    for slot in 0..3 {
        assert_eq!(d.call(&format!("create {slot} {url} 0")), vec![0]);
    }
    login_all(&mut d, "st1", &[(0, "alice", "Alice"), (1, "bob", "Bob")]);

    // Publish: PublishRequesting (0), then Publishing (0); the others get Add with `{}`.
    let from = d.len();
    assert_eq!(d.call("publish 0 s-alice 0"), vec![0]);
    in_order(&d, from, &["ev 0 publisher_state 1 0 s-alice {}", "ev 0 publisher_state 2 0 s-alice "]);
    d.wait(from, "ev 1 stream_update 0 st1 1 s-alice|alice|Alice| {}");
    assert_eq!(d.call("publish 0 s-alice 0"), vec![0], "the same stream on the same channel: no-op");
    assert_eq!(d.call("publish 0 s-other 0"), vec![1003023], "the channel is busy");

    // Play: PlayRequesting (0), then Playing (0).
    let from = d.len();
    assert_eq!(d.call("play 1 s-alice"), vec![0]);
    in_order(&d, from, &["ev 1 player_state 1 0 s-alice {}", "ev 1 player_state 2 0 s-alice "]);

    // SEI: byte for byte (NUL and 0xff bytes included), in order, each frame once; 1 and 4096 bytes.
    let frames: Vec<Vec<u8>> = vec![
        vec![0],
        vec![0, 1, 2, 0, 255],
        (0..=255).collect(),
        (0..4096u32).map(|i| (i.wrapping_mul(7) % 256) as u8).collect(),
        b"plain text".to_vec(),
    ];
    let from = d.len();
    for f in &frames {
        assert_eq!(d.call(&format!("sei 0 0 {}", hex(f))), vec![0]);
    }
    let expected: Vec<String> = frames.iter().map(|f| format!("ev 1 sei s-alice {} {}", f.len(), hex(f))).collect();
    let (last, _) = d.wait(from, expected.last().unwrap());
    std::thread::sleep(Duration::from_millis(300));
    let got: Vec<String> = d.lines_from(from).into_iter().filter(|l| l.starts_with("ev 1 sei ") || l.starts_with("ev 0 sei ")).collect();
    assert_eq!(got, expected, "every frame once, in order, only at the player (line {last})");
    assert_eq!(d.call("sei 0 1 00"), vec![1003001], "SEI on a channel that is not publishing");

    // Lists on demand: Play = others' streams, All = with the local user's.
    assert_eq!(stream_list(&mut d, 1, 0, "-"), (0, 1, "s-alice|alice|Alice|".into()));
    assert_eq!(stream_list(&mut d, 1, 1, "st1"), (0, 1, "s-alice|alice|Alice|".into()));
    assert_eq!(stream_list(&mut d, 0, 0, "st1"), (0, 0, String::new()));
    assert_eq!(stream_list(&mut d, 0, 1, "-"), (0, 1, "s-alice|alice|Alice|".into()));
    assert_eq!(stream_list(&mut d, 0, 1, "elsewhere").0, 1000002);

    // Extra info: the result with the call's seq; the others get the new info; the setter does not.
    let from = d.len();
    let ret = d.call("streamextra 0 0 url=rtmp://x/1");
    assert_eq!(ret[0], 0);
    d.wait(from, &format!("ev 0 stream_extra_result 0 {}", ret[1]));
    d.wait(from, "ev 1 stream_extra st1 1 s-alice|alice|Alice|url=rtmp://x/1");
    assert_eq!(stream_list(&mut d, 1, 0, "-").2, "s-alice|alice|Alice|url=rtmp://x/1");
    std::thread::sleep(Duration::from_millis(200));
    assert!(!d.lines_from(from).iter().any(|l| l.starts_with("ev 0 stream_extra ")), "the setter gets no update");

    // A later joiner: Logined, user Add, then one stream Add and the extra info update.
    let from = d.len();
    assert_eq!(d.call(&login_cmd(2, "st1", "carol", &token("carol", 3600), 0, true, "Carol"))[0], 0);
    in_order(
        &d,
        from,
        &["ev 2 state_changed 1 0 st1 ", "ev 2 user_update 0 st1 ", "ev 2 stream_update 0 st1 1 s-alice|alice|Alice|", "ev 2 stream_extra st1 1 s-alice|alice|Alice|url=rtmp://x/1"],
    );

    // Stream ids are unique across the app.
    let from = d.len();
    assert_eq!(d.call("publish 2 s-alice 1"), vec![0]);
    d.wait(from, "ev 2 publisher_state 0 1003028 s-alice ");

    // Stop: NoPublish (0); the others get Delete with reason 1; the player waits (1004020).
    let from = d.len();
    assert_eq!(d.call("stoppublish 0 0"), vec![0]);
    d.wait(from, "ev 0 publisher_state 0 0 s-alice ");
    let (_, del) = d.wait(from, "ev 1 stream_update 1 st1 1 s-alice|alice|Alice|");
    let reason = last_json(&del);
    assert_eq!(reason["stream_delete_reason"][0]["stream_id"], "s-alice", "{del}");
    assert_eq!(reason["stream_delete_reason"][0]["code"], 1, "{del}");
    d.wait(from, "ev 1 player_state 1 1004020 s-alice ");
    assert_eq!(stream_list(&mut d, 1, 0, "-"), (0, 0, String::new()));

    // Published again: the player is back to Playing; stop_playing → NoPlay (0).
    let from = d.len();
    assert_eq!(d.call("publish 0 s-alice 0"), vec![0]);
    d.wait(from, "ev 1 player_state 2 0 s-alice ");
    assert_eq!(d.call("stopplay 1 s-alice"), vec![0]);
    d.wait(from, "ev 1 player_state 0 0 s-alice ");

    // Logout: NoPublish (0) for the publisher, Delete (1) for the others.
    let from = d.len();
    d.call("logout 0 st1");
    d.wait(from, "ev 0 publisher_state 0 0 s-alice ");
    let (_, del) = d.wait(from, "ev 2 stream_update 1 st1 1 s-alice|");
    assert_eq!(last_json(&del)["stream_delete_reason"][0]["code"], 1, "{del}");
    d.finish();
}

#[test]
fn scenario_messages_commands_and_room_extra_info() {
    let server = start_server(Some(SECRET));
    let url = server.url();
    let mut d = Driver::start();
    for slot in 0..4 {
        assert_eq!(d.call(&format!("create {slot} {url} 0")), vec![0]);
    }
    login_all(&mut d, "im1", &[(0, "alice", "Alice"), (1, "bob", "Bob"), (2, "carol", "Carol")]);

    // Broadcast: a result with the seq and a message id increasing per room; every other user
    // receives it once with server time and sender; the sender never does.
    let from = d.len();
    let s1 = d.call("broadcast 0 im1 hello everyone")[1];
    let s2 = d.call("broadcast 0 im1 second one")[1];
    let id_of = |d: &Driver, seq: i32| -> u64 {
        let (_, l) = d.wait_where(from, &format!("broadcast_result for seq {seq}"), |l| l.starts_with("ev 0 broadcast_result ") && l.ends_with(&format!(" im1 {seq}")));
        assert!(l.starts_with("ev 0 broadcast_result 0 "), "{l}");
        l.split(' ').nth(4).unwrap().parse().unwrap()
    };
    let (id1, id2) = (id_of(&d, s1), id_of(&d, s2));
    assert!(id2 > id1, "message ids increase: {id1} then {id2}");
    for slot in [1, 2] {
        let lines = in_order(&d, from, &[&format!("ev {slot} recv_broadcast_msg im1 {id1} "), &format!("ev {slot} recv_broadcast_msg im1 {id2} ")]);
        let w: Vec<&str> = lines[0].splitn(8, ' ').collect();
        assert_recent_ms(w[5].parse().unwrap(), &lines[0]);
        assert_eq!((w[6], w[7]), ("alice", "hello everyone"));
        assert!(lines[1].ends_with(" alice second one"), "{}", lines[1]);
    }

    // Barrage: a string message id; received by the others.
    let s3 = d.call("barrage 0 im1 flying text")[1];
    let (_, r) = d.wait_where(from, "barrage result", |l| l.starts_with("ev 0 barrage_result ") && l.ends_with(&format!(" im1 {s3}")));
    let w: Vec<&str> = r.split(' ').collect();
    assert_eq!(w[3], "0", "{r}");
    let barrage_id = w[4].to_owned();
    assert_ne!(barrage_id, "-", "barrage message id is not empty");
    let (_, got) = d.wait(from, &format!("ev 1 recv_barrage_msg im1 {barrage_id} "));
    assert!(got.ends_with(" alice flying text"), "{got}");

    // Custom commands: to one user, to two, to everyone (no list).
    let s4 = d.call("command 0 im1 bob just for bob")[1];
    d.wait(from, &format!("ev 0 command_result 0 im1 {s4}"));
    d.wait(from, "ev 1 recv_command im1 alice Alice just for bob");
    let s5 = d.call("command 1 im1 alice,carol two targets")[1];
    d.wait(from, &format!("ev 1 command_result 0 im1 {s5}"));
    d.wait(from, "ev 0 recv_command im1 bob Bob two targets");
    d.wait(from, "ev 2 recv_command im1 bob Bob two targets");
    let s6 = d.call("command 2 im1 - to everyone")[1];
    d.wait(from, &format!("ev 2 command_result 0 im1 {s6}"));
    d.wait(from, "ev 0 recv_command im1 carol Carol to everyone");
    d.wait(from, "ev 1 recv_command im1 carol Carol to everyone");
    std::thread::sleep(Duration::from_millis(300));
    let after = d.lines_from(from);
    let has = |p: &str| after.iter().any(|l| l.starts_with(p));
    assert!(!has("ev 0 recv_broadcast") && !has("ev 0 recv_barrage"), "the sender never receives its own messages");
    assert!(!has("ev 2 recv_command im1 alice"), "a command to bob only did not reach carol");
    assert!(!has("ev 2 recv_command im1 carol") && !has("ev 1 recv_command im1 bob"), "nor its sender");

    // Synchronous codes through the ABI.
    assert_eq!(d.call("broadcast 0 elsewhere hi"), vec![1009005, -1]);
    assert_eq!(d.call("command 0 im1 a,b,c,d,e,f six targets"), vec![1000017, -1]);

    // Room extra info: the result with the key and seq; the others get it; the setter does not.
    let from = d.len();
    let s7 = d.call("roomextra 0 im1 topic music")[1];
    d.wait(from, &format!("ev 0 roomextra_result 0 im1 topic {s7}"));
    for slot in [1, 2] {
        let (_, l) = d.wait(from, &format!("ev {slot} room_extra_info im1 topic alice "));
        assert!(l.ends_with(" music"), "{l}");
        assert_recent_ms(l.split(' ').nth(6).unwrap().parse().unwrap(), &l);
    }
    // One key per room; the same key may be set again by anyone.
    assert_eq!(d.call("roomextra 1 im1 mood calm"), vec![1002017, -1]);
    let s8 = d.call("roomextra 1 im1 topic jazz")[1];
    d.wait(from, &format!("ev 1 roomextra_result 0 im1 topic {s8}"));
    d.wait(from, "ev 0 room_extra_info im1 topic bob ");
    std::thread::sleep(Duration::from_millis(200));
    assert!(!d.lines_from(from).iter().any(|l| l.starts_with("ev 0 room_extra_info im1 topic alice")), "the setter gets no update");

    // A later joiner gets the current value right after Logined.
    let from = d.len();
    assert_eq!(d.call(&login_cmd(3, "im1", "dave", &token("dave", 3600), 0, true, "Dave"))[0], 0);
    let lines = in_order(&d, from, &["ev 3 state_changed 1 0 im1 ", "ev 3 room_extra_info im1 topic bob "]);
    assert!(lines[1].ends_with(" jazz"), "{}", lines[1]);

    // Over 2 broadcasts per second from one sender: the excess gets 1009015 and is not delivered.
    std::thread::sleep(Duration::from_millis(1100));
    let from = d.len();
    let seqs: Vec<i32> = (0..6).map(|i| d.call(&format!("broadcast 3 im1 burst {i}"))[1]).collect();
    let mut delivered = Vec::new();
    for (i, seq) in seqs.iter().enumerate() {
        let (_, l) = d.wait_where(from, "burst result", |l| l.starts_with("ev 3 broadcast_result ") && l.ends_with(&format!(" im1 {seq}")));
        match l.split(' ').nth(3).unwrap() {
            "0" => delivered.push(i),
            "1009015" => {}
            other => panic!("unexpected result {other}: {l}"),
        }
    }
    assert!((2..=4).contains(&delivered.len()), "2 per second pass, the excess is refused: {delivered:?}");
    for i in &delivered {
        d.wait_where(from, "burst delivery", |l| l.starts_with("ev 1 recv_broadcast_msg im1 ") && l.ends_with(&format!(" dave burst {i}")));
    }
    std::thread::sleep(Duration::from_millis(300));
    let received = d.lines_from(from).iter().filter(|l| l.starts_with("ev 1 recv_broadcast_msg im1 ")).count();
    assert_eq!(received, delivered.len(), "refused messages are not delivered");
    d.finish();
}
