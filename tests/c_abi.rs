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
