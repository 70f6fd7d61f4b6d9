//! The `zego-room-server` binary as an operator runs it: flags, clean exit on signals, refusing to
//! start on bad input, and a real SIGKILL + restart with an engine attached.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::harness::*;
use zego_room::*;

const BIN: &str = env!("CARGO_BIN_EXE_zego-room-server");

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

fn spawn(ws: SocketAddr, admin: SocketAddr, extra: &[&str]) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.args(["--listen", &ws.to_string(), "--admin-listen", &admin.to_string(), "--app-id", &APP_ID.to_string()])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn zego-room-server");
    assert!(eventually(SHORT, || std::net::TcpStream::connect(ws).is_ok()), "server did not start listening");
    child
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill").args([sig, &child.id().to_string()]).status().unwrap().success();
    assert!(ok);
}

fn wait_exit(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "server did not exit within {timeout:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn exits_zero_on_sigterm_and_sigint_after_closing_sessions() {
    for sig in ["-TERM", "-INT"] {
        let (ws, admin) = (free_addr(), free_addr());
        let mut server = spawn(ws, admin, &["--server-secret", SECRET, "--ping-interval", "1", "--heartbeat-timeout", "3"]);
        let (_alice, a) = joined(&format!("ws://{ws}"), "cli", "alice");
        let answer = zego_room::server::admin::AdminClient::new(admin, APP_ID, Some(SECRET)).describe_user_num(&["cli"]).unwrap();
        assert_eq!(answer["Data"][0]["UserCount"], 1, "{answer}");
        let from = a.len();
        signal(&server, sig);
        let status = wait_exit(&mut server, Duration::from_secs(5));
        assert_eq!(status.code(), Some(0), "{sig}");
        // The session was closed: the engine notices at once and starts reconnecting.
        a.expect_reason(from, R::Reconnecting, Duration::from_secs(2));
    }
}

fn refuse(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(!out.status.success(), "{args:?} should be refused");
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert!(!stderr.is_empty() && !stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn refuses_to_start_with_one_clear_line() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let line = refuse(&["--listen", &addr, "--admin-listen", &free_addr().to_string()]);
    assert!(line.contains("in use") && line.lines().count() == 1, "{line}");
    refuse(&["--server-secret", "too-short"]);
    refuse(&["--app-id", "not-a-number"]);
    refuse(&["--no-such-flag"]);
    refuse(&["--listen", "nowhere"]);
}

#[test]
fn sigkill_and_restart_engines_come_back_as_reconnected() {
    let (ws, admin) = (free_addr(), free_addr());
    let args = ["--server-secret", SECRET, "--ping-interval", "1", "--heartbeat-timeout", "3"];
    let mut server = spawn(ws, admin, &args);
    let url = format!("ws://{ws}");
    let (_alice, a) = joined(&url, "crash", "alice");
    let (_bob, b) = joined(&url, "crash", "bob");
    assert!(a.wait_user_update(0, UpdateType::Add, "bob", SHORT).is_some());
    let (from, b_from) = (a.len(), b.len());
    signal(&server, "-KILL");
    wait_exit(&mut server, SHORT);
    a.expect_reason(from, R::Reconnecting, SHORT);
    let mut server = spawn(ws, admin, &args);
    a.expect_reason(from, R::Reconnected, Duration::from_secs(8));
    b.expect_reason(b_from, R::Reconnected, Duration::from_secs(8));
    // Both are present again, and nobody saw the other leave and come back twice.
    let users = zego_room::server::admin::AdminClient::new(admin, APP_ID, Some(SECRET)).describe_users("crash").unwrap();
    assert_eq!(users["Data"]["UserList"].as_array().unwrap().len(), 2, "{users}");
    signal(&server, "-TERM");
    assert_eq!(wait_exit(&mut server, SHORT).code(), Some(0));
}
