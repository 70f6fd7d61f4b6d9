//! The quickstart: an embedded room server, three users, a stream with side data (SEI), a short
//! and a long network cut, a broadcast message, room extra info, an admin kick and a logout —
//! printed as a timeline of the callbacks each app receives.
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
    fn on_room_stream_update(&self, update_type: UpdateType, stream_list: &[Stream], extended_data: &str, _room_id: &str) {
        let ids: Vec<String> = stream_list.iter().map(|s| format!("{} ({})", s.stream_id, s.user.user_name)).collect();
        let ext = if extended_data == "{}" { String::new() } else { format!(" {extended_data}") };
        self.timeline.record(self.name, format!("onRoomStreamUpdate  {update_type:?} {}{ext}", ids.join(", ")));
    }
    fn on_room_stream_extra_info_update(&self, stream_list: &[Stream], _room_id: &str) {
        for s in stream_list {
            self.timeline.record(self.name, format!("onRoomStreamExtraInfoUpdate  {} = {}", s.stream_id, s.extra_info));
        }
    }
    fn on_publisher_state_update(&self, state: PublisherState, error_code: i32, _extended_data: &str, stream_id: &str) {
        let code = if error_code == 0 { String::new() } else { format!(" error {error_code}") };
        self.timeline.record(self.name, format!("onPublisherStateUpdate  {state:?}{code}  stream {stream_id}"));
    }
    fn on_player_state_update(&self, state: PlayerState, error_code: i32, _extended_data: &str, stream_id: &str) {
        let code = if error_code == 0 { String::new() } else { format!(" error {error_code}") };
        self.timeline.record(self.name, format!("onPlayerStateUpdate  {state:?}{code}  stream {stream_id}"));
    }
    fn on_player_recv_sei(&self, data: &[u8], stream_id: &str) {
        self.timeline.record(self.name, format!("onPlayerRecvSEI  {stream_id}: {:?}", String::from_utf8_lossy(data)));
    }
    fn on_im_recv_broadcast_message(&self, message_list: &[BroadcastMessageInfo], _room_id: &str) {
        for m in message_list {
            self.timeline.record(self.name, format!("onIMRecvBroadcastMessage  #{} from {}: {}", m.message_id, m.from_user.user_name, m.message));
        }
    }
    fn on_im_send_broadcast_message_result(&self, error_code: i32, message_id: u64, _room_id: &str, _seq: Seq) {
        self.timeline.record(self.name, format!("onIMSendBroadcastMessageResult  error {error_code}, message #{message_id}"));
    }
    fn on_room_extra_info_update(&self, room_extra_info_list: &[RoomExtraInfo], _room_id: &str) {
        for i in room_extra_info_list {
            self.timeline.record(self.name, format!("onRoomExtraInfoUpdate  {} = {:?} (by {})", i.key, i.value, i.update_user.user_name));
        }
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

    t.say("alice publishes her camera stream (media stays in her app; the room carries its signalling and side data)");
    let m = t.mark();
    alice.set_stream_extra_info("{\"resolution\":\"720p\"}", PublishChannel::Main).expect("extra info");
    alice.start_publishing_stream("alice-cam", None, PublishChannel::Main).expect("publish");
    t.wait_for("alice", "Publishing", m, Duration::from_secs(5));
    t.wait_for("bob", "Add alice-cam", m, Duration::from_secs(5));
    t.say("bob plays it; alice sends three SEI frames (side data, e.g. lyrics or a layout), bob gets them in order");
    bob.start_playing_stream("alice-cam", None).expect("play");
    t.wait_for("bob", "Playing", m, Duration::from_secs(5));
    for i in 1..=3 {
        alice.send_sei(format!("frame {i}").as_bytes(), PublishChannel::Main).expect("send_sei");
    }
    t.wait_for("bob", "frame 3", m, Duration::from_secs(5));

    t.say("alice's network drops for half a second: others' user and stream lists do not change (scenario 1 of the reconnect FAQ)");
    let m = t.mark();
    alice_net.cut(Cut::Close);
    t.wait_for("alice", "Reconnecting", m, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(500));
    alice_net.restore();
    t.wait_for("alice", "Reconnected", m, Duration::from_secs(10));
    t.wait_for("alice", "Publishing", m, Duration::from_secs(10));
    t.say(&format!("waiting out the {} s grace: bob's lists must not change (his player only paused)", GRACE.as_secs()));
    std::thread::sleep(GRACE);
    let bob_saw = t.seen.lock()[m..].iter().filter(|(w, l)| w == "bob" && (l.contains("UserUpdate") || l.contains("StreamUpdate"))).count();
    t.say(&format!("bob received {bob_saw} user or stream list changes meanwhile"));

    t.say("carol logs in");
    let carol = join("carol", server.url());

    t.say(&format!("alice's network goes silent (packets dropped) for longer than the {} s grace (scenario 2)", GRACE.as_secs()));
    let m = t.mark();
    alice_net.cut(Cut::Blackhole);
    t.wait_for("alice", "Reconnecting", m, Duration::from_secs(10));
    t.wait_for("bob", "PlayRequesting error 1004020", m, Duration::from_secs(10));
    t.wait_for("bob", "Delete alice-cam", m, Duration::from_secs(15));
    t.wait_for("bob", "Delete Alice", m, Duration::from_secs(15));
    std::thread::sleep(Duration::from_secs(1));
    t.say("alice's network is back: she is Reconnected, republishes, and bob plays again");
    alice_net.restore();
    t.wait_for("alice", "Reconnected", m, Duration::from_secs(15));
    t.wait_for("bob", "Add Alice", m, Duration::from_secs(5));
    t.wait_for("carol", "Add Alice", m, Duration::from_secs(5));
    t.wait_for("bob", "Add alice-cam", m, Duration::from_secs(5));
    t.wait_for("bob", "Playing", m, Duration::from_secs(5));

    t.say("alice sends a broadcast message and sets the room's topic (room extra info)");
    let m = t.mark();
    alice.send_broadcast_message(ROOM, "hello everyone").expect("broadcast");
    alice.set_room_extra_info(ROOM, "topic", "quickstart").expect("extra info");
    t.wait_for("bob", "hello everyone", m, Duration::from_secs(5));
    t.wait_for("carol", "hello everyone", m, Duration::from_secs(5));
    t.wait_for("carol", "topic", m, Duration::from_secs(5));

    t.say("the app server kicks bob through the admin API (KickoutUser)");
    let m = t.mark();
    let admin = AdminClient::new(server.admin_addr(), APP_ID, Some(SECRET));
    let answer = admin.kickout_user(ROOM, &["bob"], Some("please rejoin later")).expect("admin call");
    t.say(&format!("admin API answered {answer}"));
    t.wait_for("bob", "KickOut", m, Duration::from_secs(5));
    t.wait_for("alice", "Delete Bob", m, Duration::from_secs(5));
    t.wait_for("carol", "Delete Bob", m, Duration::from_secs(5));

    t.say("alice logs out: her stream ends with it");
    let m = t.mark();
    alice.logout_room(None).expect("logout");
    t.wait_for("alice", "Logout", m, Duration::from_secs(5));
    t.wait_for("carol", "Delete alice-cam", m, Duration::from_secs(5));
    t.wait_for("carol", "Delete Alice", m, Duration::from_secs(5));

    t.say("done: destroying engines and stopping the server");
    for engine in [alice, bob, carol] {
        engine.destroy();
    }
    server.shutdown();
}
