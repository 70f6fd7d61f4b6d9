//! Shared pieces of the integration tests: a real server on 127.0.0.1, engines whose events are
//! recorded with timestamps, and waits with deadlines (never fixed sleeps for outcomes).

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use zego_room::server::{self, admin::AdminClient, ServerConfig, ServerHandle};
use zego_room::*;

pub const APP_ID: u32 = 1_234_567;
pub const SECRET: &str = "0123456789abcdef0123456789abcdef";

pub use zego_room::RoomStateChangedReason as R;

/// Short timings so the scenarios run in seconds (contract §5 flags, as the issue suggests).
pub fn fast_config(secret: Option<&str>) -> ServerConfig {
    ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        admin_listen: "127.0.0.1:0".parse().unwrap(),
        app_id: APP_ID,
        server_secret: secret.map(str::to_owned),
        heartbeat_timeout: Duration::from_secs(3),
        ping_interval: Duration::from_secs(1),
        count_interval: Duration::from_secs(1),
        ..ServerConfig::default()
    }
}

pub fn start_server(secret: Option<&str>) -> ServerHandle {
    start_server_with(secret, |_| {})
}

pub fn start_server_with(secret: Option<&str>, tweak: impl FnOnce(&mut ServerConfig)) -> ServerHandle {
    init_logs();
    let mut config = fast_config(secret);
    tweak(&mut config);
    server::start(config).expect("server starts")
}

pub fn admin(server: &ServerHandle, secret: Option<&str>) -> AdminClient {
    AdminClient::new(server.admin_addr(), APP_ID, secret)
}

pub fn init_logs() {
    let _ = env_logger::builder().is_test(true).try_init();
}

pub fn token(user_id: &str, secs: i64) -> String {
    zego_room::token04::generate(APP_ID, user_id, SECRET, secs, "").unwrap()
}

pub fn cfg_notify(token: String) -> RoomConfig {
    RoomConfig { max_member_count: 0, is_user_status_notify: true, token }
}

/// Records every event with the time it arrived, and lets a test wait for one.
#[derive(Default)]
pub struct Recorder {
    events: Mutex<Vec<(Instant, Event)>>,
    changed: Condvar,
}

impl Recorder {
    fn push(&self, e: Event) {
        self.events.lock().push((Instant::now(), e));
        self.changed.notify_all();
    }

    pub fn all(&self) -> Vec<Event> {
        self.events.lock().iter().map(|(_, e)| e.clone()).collect()
    }

    pub fn len(&self) -> usize {
        self.events.lock().len()
    }

    /// Waits until an event at index ≥ `from` satisfies `pred`; returns it and when it came.
    pub fn wait_from(&self, from: usize, timeout: Duration, pred: impl Fn(&Event) -> bool) -> Option<(Instant, Event)> {
        let deadline = Instant::now() + timeout;
        let mut events = self.events.lock();
        loop {
            if let Some(found) = events.iter().skip(from).find(|(_, e)| pred(e)) {
                return Some(found.clone());
            }
            if self.changed.wait_until(&mut events, deadline).timed_out() {
                return events.iter().skip(from).find(|(_, e)| pred(e)).cloned();
            }
        }
    }

    pub fn wait(&self, timeout: Duration, pred: impl Fn(&Event) -> bool) -> Option<(Instant, Event)> {
        self.wait_from(0, timeout, pred)
    }

    /// Waits for a state change with this reason (from index `from`), panicking with the history
    /// if it does not come.
    pub fn expect_reason(&self, from: usize, reason: R, timeout: Duration) -> (Instant, i32, String) {
        match self.wait_from(from, timeout, |e| matches!(e, Event::RoomStateChanged { reason: r, .. } if *r == reason)) {
            Some((at, Event::RoomStateChanged { error_code, extended_data, .. })) => (at, error_code, extended_data),
            _ => panic!("no {reason:?} within {timeout:?}; events: {:#?}", self.all()),
        }
    }

    pub fn reasons(&self) -> Vec<(R, i32)> {
        self.all()
            .into_iter()
            .filter_map(|e| match e {
                Event::RoomStateChanged { reason, error_code, .. } => Some((reason, error_code)),
                _ => None,
            })
            .collect()
    }

    /// User updates as (type, sorted user ids), in order.
    pub fn user_updates(&self) -> Vec<(UpdateType, Vec<String>)> {
        self.all()
            .into_iter()
            .filter_map(|e| match e {
                Event::RoomUserUpdate { update_type, users, .. } => {
                    let mut ids: Vec<String> = users.into_iter().map(|u| u.user_id).collect();
                    ids.sort();
                    Some((update_type, ids))
                }
                _ => None,
            })
            .collect()
    }

    pub fn publisher_states(&self) -> Vec<(PublisherState, i32)> {
        self.all()
            .into_iter()
            .filter_map(|e| match e {
                Event::PublisherStateUpdate { state, error_code, .. } => Some((state, error_code)),
                _ => None,
            })
            .collect()
    }

    pub fn player_states(&self, stream: &str) -> Vec<(PlayerState, i32)> {
        self.all()
            .into_iter()
            .filter_map(|e| match e {
                Event::PlayerStateUpdate { state, error_code, stream_id, .. } if stream_id == stream => Some((state, error_code)),
                _ => None,
            })
            .collect()
    }

    /// Stream updates as (type, sorted stream ids, extended data), in order.
    pub fn stream_updates(&self) -> Vec<(UpdateType, Vec<String>, String)> {
        self.all()
            .into_iter()
            .filter_map(|e| match e {
                Event::RoomStreamUpdate { update_type, streams, extended_data, .. } => {
                    let mut ids: Vec<String> = streams.into_iter().map(|s| s.stream_id).collect();
                    ids.sort();
                    Some((update_type, ids, extended_data))
                }
                _ => None,
            })
            .collect()
    }

    /// SEI frames received for `stream`, in order.
    pub fn sei(&self, stream: &str) -> Vec<Vec<u8>> {
        self.all()
            .into_iter()
            .filter_map(|e| match e {
                Event::PlayerRecvSei { data, stream_id } if stream_id == stream => Some(data),
                _ => None,
            })
            .collect()
    }

    pub fn wait_user_update(&self, from: usize, kind: UpdateType, user: &str, timeout: Duration) -> Option<Instant> {
        self.wait_from(from, timeout, |e| {
            matches!(e, Event::RoomUserUpdate { update_type, users, .. } if *update_type == kind && users.iter().any(|u| u.user_id == user))
        })
        .map(|(at, _)| at)
    }
}

/// Implements `EventHandler` for a type with `fn push(&self, Event)`, turning every callback into
/// the matching `Event` (the recorders of the harness and of the chaos soak share it).
macro_rules! record_events_via_push {
    ($t:ty) => {
        impl zego_room::EventHandler for $t {
            fn on_room_state_changed(&self, reason: zego_room::RoomStateChangedReason, error_code: i32, extended_data: &str, room_id: &str) {
                self.push(zego_room::Event::RoomStateChanged { reason, error_code, extended_data: extended_data.into(), room_id: room_id.into() })
            }
            fn on_room_state_update(&self, state: zego_room::RoomState, error_code: i32, extended_data: &str, room_id: &str) {
                self.push(zego_room::Event::RoomStateUpdate { state, error_code, extended_data: extended_data.into(), room_id: room_id.into() })
            }
            fn on_room_user_update(&self, update_type: zego_room::UpdateType, user_list: &[zego_room::User], room_id: &str) {
                self.push(zego_room::Event::RoomUserUpdate { update_type, users: user_list.to_vec(), room_id: room_id.into() })
            }
            fn on_room_online_user_count_update(&self, count: i32, room_id: &str) {
                self.push(zego_room::Event::RoomOnlineUserCountUpdate { count, room_id: room_id.into() })
            }
            fn on_room_token_will_expire(&self, remain_time_in_second: i32, room_id: &str) {
                self.push(zego_room::Event::RoomTokenWillExpire { remain_time_in_second, room_id: room_id.into() })
            }
            fn on_room_login_result(&self, error_code: i32, extended_data: &str, room_id: &str, seq: zego_room::Seq) {
                self.push(zego_room::Event::RoomLoginResult { error_code, extended_data: extended_data.into(), room_id: room_id.into(), seq })
            }
            fn on_room_logout_result(&self, error_code: i32, extended_data: &str, room_id: &str, seq: zego_room::Seq) {
                self.push(zego_room::Event::RoomLogoutResult { error_code, extended_data: extended_data.into(), room_id: room_id.into(), seq })
            }
            fn on_room_stream_update(&self, update_type: zego_room::UpdateType, stream_list: &[zego_room::Stream], extended_data: &str, room_id: &str) {
                self.push(zego_room::Event::RoomStreamUpdate { update_type, streams: stream_list.to_vec(), extended_data: extended_data.into(), room_id: room_id.into() })
            }
            fn on_room_stream_extra_info_update(&self, stream_list: &[zego_room::Stream], room_id: &str) {
                self.push(zego_room::Event::RoomStreamExtraInfoUpdate { streams: stream_list.to_vec(), room_id: room_id.into() })
            }
            fn on_publisher_state_update(&self, state: zego_room::PublisherState, error_code: i32, extended_data: &str, stream_id: &str) {
                self.push(zego_room::Event::PublisherStateUpdate { state, error_code, extended_data: extended_data.into(), stream_id: stream_id.into() })
            }
            fn on_player_state_update(&self, state: zego_room::PlayerState, error_code: i32, extended_data: &str, stream_id: &str) {
                self.push(zego_room::Event::PlayerStateUpdate { state, error_code, extended_data: extended_data.into(), stream_id: stream_id.into() })
            }
            fn on_publisher_update_stream_extra_info_result(&self, error_code: i32, seq: zego_room::Seq) {
                self.push(zego_room::Event::PublisherUpdateStreamExtraInfoResult { error_code, seq })
            }
            fn on_player_recv_sei(&self, data: &[u8], stream_id: &str) {
                self.push(zego_room::Event::PlayerRecvSei { data: data.to_vec(), stream_id: stream_id.into() })
            }
            fn on_im_send_broadcast_message_result(&self, error_code: i32, message_id: u64, room_id: &str, seq: zego_room::Seq) {
                self.push(zego_room::Event::ImSendBroadcastMessageResult { error_code, message_id, room_id: room_id.into(), seq })
            }
            fn on_im_send_barrage_message_result(&self, error_code: i32, message_id: &str, room_id: &str, seq: zego_room::Seq) {
                self.push(zego_room::Event::ImSendBarrageMessageResult { error_code, message_id: message_id.into(), room_id: room_id.into(), seq })
            }
            fn on_im_send_custom_command_result(&self, error_code: i32, room_id: &str, seq: zego_room::Seq) {
                self.push(zego_room::Event::ImSendCustomCommandResult { error_code, room_id: room_id.into(), seq })
            }
            fn on_room_set_room_extra_info_result(&self, error_code: i32, room_id: &str, key: &str, seq: zego_room::Seq) {
                self.push(zego_room::Event::RoomSetRoomExtraInfoResult { error_code, room_id: room_id.into(), key: key.into(), seq })
            }
            fn on_im_recv_broadcast_message(&self, message_list: &[zego_room::BroadcastMessageInfo], room_id: &str) {
                self.push(zego_room::Event::ImRecvBroadcastMessage { messages: message_list.to_vec(), room_id: room_id.into() })
            }
            fn on_im_recv_barrage_message(&self, message_list: &[zego_room::BarrageMessageInfo], room_id: &str) {
                self.push(zego_room::Event::ImRecvBarrageMessage { messages: message_list.to_vec(), room_id: room_id.into() })
            }
            fn on_im_recv_custom_command(&self, command: &str, from_user: &zego_room::User, room_id: &str) {
                self.push(zego_room::Event::ImRecvCustomCommand { command: command.into(), from_user: from_user.clone(), room_id: room_id.into() })
            }
            fn on_room_extra_info_update(&self, room_extra_info_list: &[zego_room::RoomExtraInfo], room_id: &str) {
                self.push(zego_room::Event::RoomExtraInfoUpdate { infos: room_extra_info_list.to_vec(), room_id: room_id.into() })
            }
        }
    };
}
#[allow(unused_imports)] // used by some test crates only
pub(crate) use record_events_via_push;

record_events_via_push!(Recorder);

pub fn engine(url: &str, mode: RoomMode) -> (RoomEngine, Arc<Recorder>) {
    let rec = Arc::new(Recorder::default());
    let profile = EngineProfile { app_id: APP_ID, server: url.to_owned(), room_mode: mode };
    let engine = RoomEngine::new(profile, rec.clone()).expect("engine created");
    (engine, rec)
}

/// An engine logged in as `user` with user-status notifications and a valid token.
pub fn joined(url: &str, room: &str, user: &str) -> (RoomEngine, Arc<Recorder>) {
    let (e, rec) = engine(url, RoomMode::SingleRoom);
    e.login_room(room, &User::new(user, format!("{user} name")), Some(&cfg_notify(token(user, 3600)))).unwrap();
    rec.expect_reason(0, R::Logined, Duration::from_secs(5));
    (e, rec)
}

pub const SHORT: Duration = Duration::from_secs(5);

/// Polls `check` until it holds or `timeout` passes; returns whether it held.
pub fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
