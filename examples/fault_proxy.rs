//! The tests' fault-injecting TCP proxy as a program, so the Python and Kotlin suites (and anyone
//! trying the engine by hand) can cut a connection the same way the Rust tests do.
//!
//! `fault_proxy UPSTREAM_ADDR` prints `LISTEN 127.0.0.1:PORT`, then reads commands, one per line,
//! answering `OK` to each: `close`, `reset`, `blackhole`, `refuse`, `restore`, `delay MS`,
//! `attempts` (answers `ATTEMPTS N`), `quit`. It exits when stdin closes.

#[path = "../tests/common/proxy.rs"]
#[allow(dead_code)]
mod proxy;

use std::io::{BufRead, Write};
use std::time::Duration;

use proxy::{Cut, FaultProxy};

fn main() {
    let Some(upstream) = std::env::args().nth(1).and_then(|a| a.parse().ok()) else {
        eprintln!("usage: fault_proxy UPSTREAM_ADDR   (e.g. 127.0.0.1:9100)");
        std::process::exit(2);
    };
    let proxy = FaultProxy::start(upstream);
    let mut out = std::io::stdout();
    let _ = writeln!(out, "LISTEN {}", proxy.addr());
    let _ = out.flush();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let mut words = line.split_whitespace();
        let reply = match (words.next(), words.next()) {
            (Some("close"), _) => Some(proxy.cut(Cut::Close)),
            (Some("reset"), _) => Some(proxy.cut(Cut::Reset)),
            (Some("blackhole"), _) => Some(proxy.cut(Cut::Blackhole)),
            (Some("refuse"), _) => Some(proxy.set_refuse(true)),
            (Some("restore"), _) => Some(proxy.restore()),
            (Some("delay"), Some(ms)) => ms.parse().ok().map(|ms| proxy.set_delay(Duration::from_millis(ms))),
            (Some("attempts"), _) => {
                let _ = writeln!(out, "ATTEMPTS {}", proxy.connection_attempts());
                let _ = out.flush();
                continue;
            }
            (Some("quit"), _) => break,
            _ => None,
        };
        let _ = writeln!(out, "{}", if reply.is_some() { "OK" } else { "ERR unknown command" });
        let _ = out.flush();
    }
}
