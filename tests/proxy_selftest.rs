//! Tests of the fault-injecting proxy in `tests/common/proxy.rs`, against a small echo server.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::proxy::{Cut, FaultProxy};
use parking_lot::Mutex;

/// How each upstream connection of the echo server ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    Eof,
    Error(ErrorKind),
}

/// Echo server on 127.0.0.1:0 (std threads, runs until the test process exits).
struct Echo {
    addr: SocketAddr,
    ends: Arc<Mutex<Vec<End>>>,
    accepted: Arc<Mutex<usize>>,
}

impl Echo {
    fn start() -> Echo {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let ends = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(Mutex::new(0));
        let (ends2, accepted2) = (ends.clone(), accepted.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                *accepted2.lock() += 1;
                let ends = ends2.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 8192];
                    let end = loop {
                        match stream.read(&mut buf) {
                            Ok(0) => break End::Eof,
                            Ok(n) => {
                                if let Err(e) = stream.write_all(&buf[..n]) {
                                    break End::Error(e.kind());
                                }
                            }
                            Err(e) => break End::Error(e.kind()),
                        }
                    };
                    ends.lock().push(end);
                });
            }
        });
        Echo { addr, ends, accepted }
    }

    fn ends(&self) -> Vec<End> {
        self.ends.lock().clone()
    }

    fn accepted(&self) -> usize {
        *self.accepted.lock()
    }
}

fn connect(p: &FaultProxy) -> TcpStream {
    let s = TcpStream::connect(p.addr()).unwrap();
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s
}

fn roundtrip(s: &mut TcpStream, msg: &[u8]) {
    s.write_all(msg).unwrap();
    let mut got = vec![0u8; msg.len()];
    s.read_exact(&mut got).unwrap();
    assert_eq!(got, msg);
}

/// Polls `cond` for up to 3 s.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(3);
    while !cond() {
        assert!(Instant::now() < until, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Reads once; the connection must be dead: EOF or a reset-like error.
fn assert_dead(s: &mut TcpStream, reset_expected: bool) {
    let started = Instant::now();
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(0) => assert!(!reset_expected, "expected a reset, got EOF"),
        Ok(n) => panic!("expected a dead connection, read {n} bytes"),
        Err(e) => assert!(
            matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted),
            "unexpected error {e:?}"
        ),
    }
    assert!(started.elapsed() < Duration::from_secs(1), "connection death took {:?}", started.elapsed());
}

fn assert_silent(s: &mut TcpStream, for_: Duration) {
    s.set_read_timeout(Some(for_)).unwrap();
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("expected silence, got {other:?}"),
    }
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
}

#[test]
fn proxy_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<FaultProxy>();
}

#[test]
fn passthrough_echo() {
    let echo = Echo::start();
    let p = FaultProxy::start(echo.addr);
    assert_eq!(p.url(), format!("ws://{}", p.addr()));
    let mut s = connect(&p);
    roundtrip(&mut s, b"hello");
    assert_eq!(p.connection_attempts(), 1);
    assert_eq!(p.active_connections(), 1);

    // Bulk data in both directions at once keeps its integrity.
    let data: Vec<u8> = (0..2_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut w = s.try_clone().unwrap();
    let sent = data.clone();
    let writer = std::thread::spawn(move || w.write_all(&sent).unwrap());
    let mut got = vec![0u8; data.len()];
    s.read_exact(&mut got).unwrap();
    writer.join().unwrap();
    assert!(got == data, "bulk data corrupted");

    // The client's FIN goes through; the echo server's FIN comes back.
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(s.read(&mut buf).unwrap(), 0);
    eventually("connection gone", || p.active_connections() == 0);
    assert_eq!(echo.ends(), vec![End::Eof]);
}

#[test]
fn close_all_gives_eof() {
    let echo = Echo::start();
    let p = FaultProxy::start(echo.addr);
    let mut a = connect(&p);
    let mut b = connect(&p);
    roundtrip(&mut a, b"a");
    roundtrip(&mut b, b"b");
    p.close_all();
    assert_eq!(p.active_connections(), 0);
    assert_dead(&mut a, false);
    assert_dead(&mut b, false);
    // The upstream side got an orderly close too.
    eventually("upstream EOFs", || echo.ends().len() == 2);
    assert_eq!(echo.ends(), vec![End::Eof, End::Eof]);
    // New connections still work.
    let mut c = connect(&p);
    roundtrip(&mut c, b"c");
    assert_eq!(p.connection_attempts(), 3);
}

#[test]
fn reset_all_gives_reset() {
    let echo = Echo::start();
    let p = FaultProxy::start(echo.addr);
    let mut a = connect(&p);
    roundtrip(&mut a, b"a");
    p.reset_all();
    assert_eq!(p.active_connections(), 0);
    assert_dead(&mut a, true);
    eventually("upstream reset", || echo.ends().len() == 1);
    assert_eq!(echo.ends(), vec![End::Error(ErrorKind::ConnectionReset)]);
}

#[test]
fn blackhole_holds_bytes_until_restore() {
    let echo = Echo::start();
    let p = FaultProxy::start(echo.addr);
    let mut a = connect(&p);
    roundtrip(&mut a, b"before");
    let mut closer = connect(&p);
    roundtrip(&mut closer, b"x");

    p.set_blackhole(true);
    // Existing connection: the proxy's pump is already inside a read.
    a.write_all(b"ping").unwrap();
    // New connection: accepted, but nothing reaches the server.
    let mut n = connect(&p);
    n.write_all(b"new").unwrap();
    // A peer closing during the blackhole.
    closer.shutdown(std::net::Shutdown::Write).unwrap();

    assert_silent(&mut a, Duration::from_millis(300));
    assert_silent(&mut n, Duration::from_millis(1));
    assert_eq!(p.connection_attempts(), 3);
    assert_eq!(echo.accepted(), 2, "a blackholed connection must not reach upstream");
    assert!(echo.ends().is_empty(), "the FIN must be held during the blackhole");

    p.restore();
    let mut got = [0u8; 4];
    a.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping");
    let mut got = [0u8; 3];
    n.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"new");
    // The close is noticed after the blackhole ends.
    let mut buf = [0u8; 8];
    assert_eq!(closer.read(&mut buf).unwrap(), 0);
    assert_eq!(echo.ends(), vec![End::Eof]);
    roundtrip(&mut a, b"after");
}

#[test]
fn refuse_rejects_new_connections_only() {
    let echo = Echo::start();
    let p = FaultProxy::start(echo.addr);
    let mut old = connect(&p);
    roundtrip(&mut old, b"old");

    p.set_refuse(true);
    for _ in 0..2 {
        let mut s = connect(&p);
        let _ = s.write_all(b"hello"); // may or may not fail, depending on timing
        assert_dead(&mut s, false);
    }
    assert_eq!(p.connection_attempts(), 3);
    assert_eq!(p.active_connections(), 1);
    assert_eq!(echo.accepted(), 1);
    roundtrip(&mut old, b"still alive");

    p.set_refuse(false);
    let mut s = connect(&p);
    roundtrip(&mut s, b"back");
    assert_eq!(p.connection_attempts(), 4);
}

#[test]
fn delay_adds_latency() {
    let echo = Echo::start();
    let p = FaultProxy::start(echo.addr);
    let mut s = connect(&p);
    roundtrip(&mut s, b"warm-up");

    let d = Duration::from_millis(100);
    p.set_delay(d);
    let started = Instant::now();
    roundtrip(&mut s, b"slow");
    let rtt = started.elapsed();
    // One-way latency in each direction.
    assert!(rtt >= 2 * d, "round trip {rtt:?} with delay {d:?}");
    assert!(rtt < 2 * d + Duration::from_millis(500), "round trip {rtt:?} with delay {d:?}");

    // Latency, not a throughput limit: two chunks sent back to back arrive together.
    let started = Instant::now();
    s.write_all(b"one").unwrap();
    std::thread::sleep(Duration::from_millis(30));
    s.write_all(b"two").unwrap();
    let mut got = [0u8; 6];
    s.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"onetwo");
    assert!(started.elapsed() < 2 * d + Duration::from_millis(90), "took {:?}", started.elapsed());

    p.set_delay(Duration::ZERO);
    let started = Instant::now();
    roundtrip(&mut s, b"fast");
    assert!(started.elapsed() < Duration::from_millis(100));
}

#[test]
fn cut_and_restore() {
    let echo = Echo::start();
    let p = FaultProxy::start(echo.addr);

    let mut s = connect(&p);
    roundtrip(&mut s, b"1");
    p.cut(Cut::Close);
    assert_dead(&mut s, false);
    let mut refused = connect(&p);
    assert_dead(&mut refused, false);
    p.restore();

    let mut s = connect(&p);
    roundtrip(&mut s, b"2");
    p.cut(Cut::Reset);
    assert_dead(&mut s, true);
    let mut refused = connect(&p);
    assert_dead(&mut refused, false);
    p.restore();

    let mut s = connect(&p);
    roundtrip(&mut s, b"3");
    p.cut(Cut::Blackhole);
    s.write_all(b"4").unwrap();
    assert_silent(&mut s, Duration::from_millis(100));
    p.restore();
    let mut got = [0u8; 1];
    s.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"4");
    assert_eq!(p.connection_attempts(), 5);
}

#[test]
fn drop_stops_everything() {
    let echo = Echo::start();
    let p = FaultProxy::start(echo.addr);
    let addr = p.addr();
    let mut s = connect(&p);
    roundtrip(&mut s, b"x");
    p.set_blackhole(true); // even with held connections, drop must not hang
    let mut held = connect(&p);
    held.write_all(b"held").unwrap();
    eventually("held connection accepted", || p.connection_attempts() == 2);
    let started = Instant::now();
    drop(p);
    assert!(started.elapsed() < Duration::from_secs(1), "drop took {:?}", started.elapsed());
    assert_dead(&mut s, false);
    assert_dead(&mut held, false);
    let err = TcpStream::connect(addr).expect_err("listener must be closed");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
}
