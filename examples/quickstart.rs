//! The quickstart: an embedded room server, three users, a short and a long network cut, an admin
//! kick and a logout — printed as a timeline of the callbacks each app receives.
//!
//! Run: `cargo run --release --features server --example quickstart`
//!
//! The server runs with short timings (ping every 1 s, 8 s heartbeat grace) so the whole story
//! takes about half a minute; the defaults are 10 s and 90 s, as on ZEGO's servers.

#[path = "../tests/common/proxy.rs"]
#[allow(dead_code)]
mod proxy;

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use proxy::{Cut, FaultProxy};
use zego_room::server::{self, admin::AdminClient, ServerConfig};
use zego_room::*;

const APP_ID: u32 = 1_234_567;
const SECRET: &str = "quickstart-secret-32-characters!";
const ROOM: &str = "demo-room";
const GRACE: Duration = Duration::from_secs(8);

/// Prints every callback with the time since start, and lets the story wait for one.
struct Timeline {
    start: Instant,
    seen: Mutex<Vec<(String, String)>>,
    changed: Condvar,
}

impl Timeline {
    fn stamp(&self) -> String {
        format!("[{:>6.2}s]", self.start.elapsed().as_secs_f64())
    }

    fn say(&self, text: &str) {
        println!("{} ─── {text}", self.stamp());
    }

    fn record(&self, who: &str, line: String) {
        println!("{} {who:<6} {line}", self.stamp());
        self.seen.lock().push((who.to_owned(), line));
        self.changed.notify_all();
    }

    /// Where the timeline is now; `wait_for` only looks at what comes after a mark.
    fn mark(&self) -> usize {
        self.seen.lock().len()
    }

    /// Waits until `who` received, after `since`, a callback whose line contains `needle`.
    fn wait_for(&self, who: &str, needle: &str, since: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut seen = self.seen.lock();
        while !seen.iter().skip(since).any(|(w, l)| w == who && l.contains(needle)) {
            if self.changed.wait_until(&mut seen, deadline).timed_out() {
                panic!("{who} did not receive '{needle}' within {timeout:?}");
            }
        }
    }
}

/// One app's event handler: it only prints.
struct App {
    name: &'static str,
    timeline: Arc<Timeline>,
}

impl EventHandler for App {
    fn on_room_state_changed(&self, reason: RoomStateChangedReason, error_code: i32, extended_data: &str, room_id: &str) {
        let code = if error_code == 0 { String::new() } else { format!(" error {error_code}") };
        let ext = if extended_data == "{}" { String::new() } else { format!(" {extended_data}") };
        self.timeline.record(self.name, format!("onRoomStateChanged  {reason:?}{code}  room {room_id}{ext}"));
    }
    fn on_room_user_update(&self, update_type: UpdateType, user_list: &[User], _room_id: &str) {
        let names: Vec<&str> = user_list.iter().map(|u| u.user_name.as_str()).collect();
        self.timeline.record(self.name, format!("onRoomUserUpdate    {update_type:?} {}", names.join(", ")));
    }
    fn on_room_online_user_count_update(&self, count: i32, _room_id: &str) {
        self.timeline.record(self.name, format!("onRoomOnlineUserCountUpdate  {count} online"));
    }
}

fn main() {
    let timeline = Arc::new(Timeline { start: Instant::now(), seen: Mutex::new(Vec::new()), changed: Condvar::new() });
    let t = &timeline;
    let server = server::start(ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        admin_listen: "127.0.0.1:0".parse().unwrap(),
        app_id: APP_ID,
        server_secret: Some(SECRET.into()),
        heartbeat_timeout: GRACE,
        ping_interval: Duration::from_secs(1),
        count_interval: Duration::from_secs(30),
        node_id: None,
        ..ServerConfig::default()
    })
    .expect("start the room server");
    // Alice's network goes through a proxy we can cut; Bob and Carol connect directly.
    let alice_net = FaultProxy::start(server.ws_addr());
    t.say(&format!("room server on {} (ping 1 s, heartbeat grace {} s); alice connects through a cuttable proxy", server.url(), GRACE.as_secs()));

    let join = |name: &'static str, url: String| {
        let app = Arc::new(App { name, timeline: timeline.clone() });
        let engine = RoomEngine::new(EngineProfile { app_id: APP_ID, server: url, room_mode: RoomMode::SingleRoom }, app)
            .expect("create engine");
        // Your app server issues tokens; here we make one with the same secret.
        let token = zego_room::token04::generate(APP_ID, name, SECRET, 3600, "").expect("token");
        let user = User::new(name, format!("{}{}", name[..1].to_uppercase(), &name[1..]));
        let config = RoomConfig { max_member_count: 0, is_user_status_notify: true, token };
        let since = timeline.mark();
        engine.login_room(ROOM, &user, Some(&config)).expect("login_room accepted");
        timeline.wait_for(name, "Logined", since, Duration::from_secs(5));
        engine
    };

    t.say("alice and bob log in");
    let m = t.mark();
    let alice = join("alice", alice_net.url());
    let bob = join("bob", server.url());
    t.wait_for("alice", "Add Bob", m, Duration::from_secs(5));
    t.wait_for("bob", "Add Alice", m, Duration::from_secs(5));
    t.wait_for("bob", "2 online", m, Duration::from_secs(5));

    t.say("alice's network drops for half a second: only alice notices (scenario 1 of the reconnect FAQ)");
    let m = t.mark();
    alice_net.cut(Cut::Close);
    t.wait_for("alice", "Reconnecting", m, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(500));
    alice_net.restore();
    t.wait_for("alice", "Reconnected", m, Duration::from_secs(10));
    t.say(&format!("waiting out the {} s grace: bob must see nothing", GRACE.as_secs()));
    std::thread::sleep(GRACE);
    let bob_saw = t.seen.lock()[m..].iter().filter(|(w, l)| w == "bob" && l.contains("Alice")).count();
    t.say(&format!("bob received {bob_saw} callbacks about alice meanwhile"));

    t.say("carol logs in");
    let carol = join("carol", server.url());

    t.say(&format!("alice's network goes silent (packets dropped) for longer than the {} s grace (scenario 2)", GRACE.as_secs()));
    let m = t.mark();
    alice_net.cut(Cut::Blackhole);
    t.wait_for("alice", "Reconnecting", m, Duration::from_secs(10));
    t.wait_for("bob", "Delete Alice", m, Duration::from_secs(15));
    std::thread::sleep(Duration::from_secs(1));
    t.say("alice's network is back");
    alice_net.restore();
    t.wait_for("alice", "Reconnected", m, Duration::from_secs(15));
    t.wait_for("bob", "Add Alice", m, Duration::from_secs(5));
    t.wait_for("carol", "Add Alice", m, Duration::from_secs(5));

    t.say("the app server kicks bob through the admin API (KickoutUser)");
    let m = t.mark();
    let admin = AdminClient::new(server.admin_addr(), APP_ID, Some(SECRET));
    let answer = admin.kickout_user(ROOM, &["bob"], Some("please rejoin later")).expect("admin call");
    t.say(&format!("admin API answered {answer}"));
    t.wait_for("bob", "KickOut", m, Duration::from_secs(5));
    t.wait_for("alice", "Delete Bob", m, Duration::from_secs(5));
    t.wait_for("carol", "Delete Bob", m, Duration::from_secs(5));

    t.say("alice logs out");
    let m = t.mark();
    alice.logout_room(None).expect("logout");
    t.wait_for("alice", "Logout", m, Duration::from_secs(5));
    t.wait_for("carol", "Delete Alice", m, Duration::from_secs(5));

    t.say("done: destroying engines and stopping the server");
    for engine in [alice, bob, carol] {
        engine.destroy();
    }
    server.shutdown();
}
