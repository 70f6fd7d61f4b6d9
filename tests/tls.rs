//! TLS end to end (contract §9): a throwaway CA and server certificates (rcgen), a real server
//! serving wss:// and https:// with them, engines that trust the CA through the advanced config key
//! `tls_ca_file`, and the failures: platform roots only, an expired certificate, a certificate for
//! another host — each ends as LoginFailed 1002053 after the retry window, with one warning naming
//! the TLS reason per room (checked with a logger that captures records).

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use common::certs::{make_pki, temp_dir, TestPki};
use common::harness::*;
use parking_lot::Mutex;
use zego_room::error_codes::*;
use zego_room::server::{self, ServerHandle};
use zego_room::*;

// ---- a logger that keeps every record (the harness' env_logger then stays uninstalled) ---------

static RECORDS: Mutex<Vec<(log::Level, String)>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::Level::Debug
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            let line = format!("{}", r.args());
            if std::env::var_os("TLS_TEST_LOG").is_some() {
                eprintln!("[{} {}] {line}", r.level(), r.target());
            }
            RECORDS.lock().push((r.level(), line));
        }
    }
    fn flush(&self) {}
}

fn capture_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        log::set_logger(&Capture).expect("the first logger of this test binary");
        log::set_max_level(log::LevelFilter::Debug);
    });
}

/// Log lines at `level` that mention `needle`.
fn lines(level: log::Level, needle: &str) -> Vec<String> {
    RECORDS.lock().iter().filter(|(l, m)| *l == level && m.contains(needle)).map(|(_, m)| m.clone()).collect()
}

// ---- helpers ----------------------------------------------------------------------------------

fn pki(tag: &str) -> TestPki {
    make_pki(&temp_dir(tag))
}

fn tls_server(cert: &Path, key: &Path) -> ServerHandle {
    capture_logs();
    let mut config = fast_config(Some(SECRET));
    config.tls_cert = Some(cert.to_owned());
    config.tls_key = Some(key.to_owned());
    server::start(config).expect("TLS server starts")
}

fn ca_config(ca: &Path) -> String {
    format!("tls_ca_file={}", ca.display())
}

fn login(url: &str, advanced: &str, room: &str, user: &str) -> (RoomEngine, Arc<Recorder>) {
    let (e, rec) = engine(url, RoomMode::SingleRoom);
    e.set_engine_config(advanced).expect("advanced config accepted");
    e.login_room(room, &User::new(user, ""), Some(&cfg_notify(token(user, 3600)))).unwrap();
    (e, rec)
}

/// A login the engine cannot trust: LoginFailed 1002053 once the retry window (2 s) has run out,
/// not later (no hang), more than one attempt, and exactly one warning for the room naming `why`.
fn assert_untrusted(url: &str, advanced: &str, room: &str, why: &str) {
    let window = Duration::from_secs(2);
    let started = Instant::now();
    let (_e, rec) = login(url, &format!("room_retry_time=2;{advanced}"), room, "u1");
    let (at, code, _) = rec.expect_reason(0, R::LoginFailed, window + Duration::from_secs(5));
    assert_eq!(code, RETRY_TIMEOUT, "{why}: {:?}", rec.reasons());
    let took = at - started;
    assert!(took >= window && took < window + Duration::from_secs(2), "{why}: LoginFailed after {took:?}");
    assert_eq!(rec.reasons(), vec![(R::Logining, 0), (R::LoginFailed, RETRY_TIMEOUT)], "{why}");
    let retries = lines(log::Level::Debug, &format!("room {room}: retry #"));
    assert!(!retries.is_empty(), "{why}: the engine retried within the window");
    let warnings = lines(log::Level::Warn, &format!("room {room}: "));
    assert_eq!(warnings.len(), 1, "{why}: one warning per room, not one per attempt: {warnings:#?}");
    assert!(warnings[0].contains("TLS") && warnings[0].contains(why), "{why}: {}", warnings[0]);
}

// ---- tests ------------------------------------------------------------------------------------

#[test]
fn engines_log_in_over_wss_with_tls_ca_file_and_the_admin_api_answers_over_https() {
    let pki = pki("ok");
    let server = tls_server(&pki.cert, &pki.key);
    let url = server.url();
    assert!(url.starts_with("wss://127.0.0.1:"), "{url}");

    let (a, rec_a) = login(&url, &ca_config(&pki.ca), "tls-room", "alice");
    rec_a.expect_reason(0, R::Logined, SHORT);
    let (_b, rec_b) = login(&url, &ca_config(&pki.ca), "tls-room", "bob");
    rec_b.expect_reason(0, R::Logined, SHORT);
    assert!(rec_a.wait_user_update(0, UpdateType::Add, "bob", SHORT).is_some(), "alice sees bob: {:?}", rec_a.all());
    assert!(rec_b.wait_user_update(0, UpdateType::Add, "alice", SHORT).is_some(), "bob sees alice: {:?}", rec_b.all());

    let admin = admin(&server, Some(SECRET)).with_tls_ca(&pki.ca).expect("CA file");
    let users = admin.describe_users("tls-room").expect("https answer");
    assert_eq!(users["Code"], 0, "{users}");
    let mut ids: Vec<&str> = users["Data"]["UserList"].as_array().unwrap().iter().map(|u| u["UserId"].as_str().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, ["alice", "bob"]);
    // The kick goes over https and arrives over wss.
    assert_eq!(admin.kickout_user("tls-room", &["bob"], Some("bye")).unwrap()["Code"], 0);
    let (_, code, _) = rec_b.expect_reason(0, R::KickOut, SHORT);
    assert_eq!(code, MANUAL_KICKED_OUT);
    assert!(rec_a.wait_user_update(0, UpdateType::Delete, "bob", SHORT).is_some());

    // Plain http to the https listener, and https trusting another CA, get no answer.
    assert!(zego_room::server::admin::AdminClient::new(server.admin_addr(), APP_ID, Some(SECRET)).describe_users("tls-room").is_err());
    let stranger = pki_other();
    assert!(admin_with_ca(&server, &stranger.ca).describe_users("tls-room").is_err());
    a.logout_room(None).unwrap();
}

fn pki_other() -> TestPki {
    pki("stranger")
}

fn admin_with_ca(server: &ServerHandle, ca: &Path) -> zego_room::server::admin::AdminClient {
    admin(server, Some(SECRET)).with_tls_ca(ca).unwrap()
}

#[test]
fn platform_roots_only_do_not_trust_a_private_ca() {
    let pki = pki("platform");
    let server = tls_server(&pki.cert, &pki.key);
    // No tls_ca_file: the platform's store (here the system's) knows nothing of the test CA.
    assert_untrusted(&server.url(), "", "tls-platform", "UnknownIssuer");
}

#[test]
fn an_expired_certificate_is_refused() {
    let pki = pki("expired");
    let server = tls_server(&pki.expired_cert, &pki.expired_key);
    assert_untrusted(&server.url(), &ca_config(&pki.ca), "tls-expired", "expired");
}

#[test]
fn a_certificate_for_another_host_is_refused() {
    let pki = pki("host");
    let server = tls_server(&pki.other_host_cert, &pki.other_host_key);
    assert_untrusted(&server.url(), &ca_config(&pki.ca), "tls-host", "not valid for name");
}

#[test]
fn a_ca_file_that_cannot_be_used_returns_1000017_and_changes_nothing() {
    let pki = pki("badfile");
    let server = tls_server(&pki.cert, &pki.key);
    let (e, rec) = engine(&server.url(), RoomMode::SingleRoom);
    e.set_engine_config(&ca_config(&pki.ca)).unwrap();
    let missing = pki.dir.join("missing.pem");
    for bad in [
        ca_config(&missing),
        ca_config(&pki.key),                         // a key, no CERTIFICATE block
        format!("room_retry_time=1;{}", ca_config(&missing)), // the good key is not applied either
    ] {
        assert_eq!(e.set_engine_config(&bad), Err(ILLEGAL_PARAM), "{bad}");
    }
    // Still the CA from before, and still the default retry window (not 1 s): the login works.
    e.login_room("tls-bad", &User::new("u", ""), Some(&cfg_notify(token("u", 3600)))).unwrap();
    rec.expect_reason(0, R::Logined, SHORT);
    e.logout_room(None).unwrap();
    // An empty value goes back to the platform's roots only: the next login is not trusted.
    e.set_engine_config("tls_ca_file=;room_retry_time=1").unwrap();
    let from = rec.len();
    e.login_room("tls-bad", &User::new("u", ""), Some(&cfg_notify(token("u", 3600)))).unwrap();
    let (_, code, _) = rec.expect_reason(from, R::LoginFailed, SHORT);
    assert_eq!(code, RETRY_TIMEOUT);
}

#[test]
fn server_tls_settings_that_cannot_work_are_refused_at_start() {
    let pki = pki("server-bad");
    let start = |cert: Option<&Path>, key: Option<&Path>| {
        let mut config = fast_config(None);
        config.tls_cert = cert.map(Path::to_owned);
        config.tls_key = key.map(Path::to_owned);
        server::start(config).map(|_| ()).map_err(|e| e.to_string())
    };
    assert!(start(Some(&pki.cert), None).unwrap_err().contains("both or neither"));
    assert!(start(None, Some(&pki.key)).unwrap_err().contains("both or neither"));
    let missing = pki.dir.join("missing.pem");
    assert!(start(Some(&missing), Some(&pki.key)).unwrap_err().contains("--tls-cert"));
    assert!(start(Some(&pki.cert), Some(&missing)).unwrap_err().contains("--tls-key"));
    assert!(start(Some(&pki.cert), Some(&pki.expired_key)).unwrap_err().contains("unusable certificate and key"));
    assert!(start(Some(&pki.key), Some(&pki.key)).unwrap_err().contains("no CERTIFICATE"));

    // The binary: a non-zero exit and one clear line.
    let exe = env!("CARGO_BIN_EXE_zego-room-server");
    for (args, expect) in [
        (vec!["--tls-cert".to_owned(), pki.cert.display().to_string()], "--tls-key"),
        (
            vec!["--tls-cert".to_owned(), missing.display().to_string(), "--tls-key".to_owned(), pki.key.display().to_string()],
            "--tls-cert",
        ),
    ] {
        let out = Command::new(exe).args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"]).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
    }
}
