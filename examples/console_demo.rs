//! Two engines in one room, for watching (and testing) the admin console: logs `alice` and `bob`
//! in to a room of a running zego-room-server, `alice` publishes a stream, and then it waits.
//! One line per event goes to stdout (`joined alice`, `publishing alice-cam`, `kicked bob 1002055`,
//! …) so a driver (tests/console/console.test.mjs) can follow; it exits when stdin closes.
//!
//! Run: `cargo run --release --features server --example console_demo -- \
//!        ws://127.0.0.1:9100 APP_ID SECRET ROOM`
//! (SECRET: the server's 32-character `--server-secret`, used here only to make tokens.)

use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::Duration;

use zego_room::*;

struct Printer {
    user: String,
}

fn say(line: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

impl EventHandler for Printer {
    fn on_room_state_changed(&self, reason: RoomStateChangedReason, error_code: i32, _extended_data: &str, _room_id: &str) {
        match reason {
            RoomStateChangedReason::Logined => say(format!("joined {}", self.user)),
            RoomStateChangedReason::KickOut => say(format!("kicked {} {error_code}", self.user)),
            RoomStateChangedReason::LoginFailed => say(format!("failed {} {error_code}", self.user)),
            _ => {}
        }
    }
    fn on_publisher_state_update(&self, state: PublisherState, _error_code: i32, _extended_data: &str, stream_id: &str) {
        if state == PublisherState::Publishing {
            say(format!("publishing {stream_id}"));
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, app_id, secret, room] = &args[..] else {
        eprintln!("usage: console_demo WS_URL APP_ID SECRET ROOM");
        std::process::exit(2);
    };
    let app_id: u32 = app_id.parse().expect("APP_ID is a number");
    let mut engines = Vec::new();
    for user in ["alice", "bob"] {
        let profile = EngineProfile { app_id, server: url.clone(), room_mode: RoomMode::SingleRoom };
        let engine = RoomEngine::new(profile, Arc::new(Printer { user: user.to_owned() })).expect("engine created");
        let token = token04::generate(app_id, user, secret, 3600, "").expect("token");
        let config = RoomConfig { max_member_count: 0, is_user_status_notify: true, token };
        let name = format!("{}{}", user[..1].to_uppercase(), &user[1..]);
        engine.login_room(room, &User::new(user, name), Some(&config)).expect("login_room accepted");
        engines.push(engine);
        // One after the other, so a watcher sees the room grow.
        std::thread::sleep(Duration::from_millis(300));
    }
    let _ = engines[0].set_stream_extra_info("{\"camera\":\"front\"}", PublishChannel::Main);
    engines[0].start_publishing_stream("alice-cam", None, PublishChannel::Main).expect("publish accepted");
    // Until the driver closes stdin.
    for _ in std::io::stdin().lock().lines() {}
    for e in &engines {
        e.destroy();
    }
}
