//! The thread-safe engine: API calls from any thread go into the core under a short lock; the
//! driver thread does the I/O; the dispatcher thread runs host callbacks in order.

mod dispatcher;
mod driver;
#[cfg(feature = "tls")]
mod tls;
#[cfg(all(target_os = "android", feature = "tls"))]
pub(crate) use tls::android::mark_initialised as mark_android_tls_initialised;

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use parking_lot::Mutex;
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

use crate::core::{Core, Output, Timings};
use crate::error_codes::{ENGINE_NOT_CREATED, ILLEGAL_PARAM};
use crate::events::Seq;
use crate::types::*;
use dispatcher::Dispatcher;
use driver::DriverMsg;

/// Receives the engine's events, on the engine's callback thread, one at a time, in order.
/// Every method has an empty default, so implement only what you need. A handler may call any
/// engine method, including `destroy`.
#[allow(unused_variables)]
pub trait EventHandler: Send + Sync {
    fn on_room_state_changed(&self, reason: RoomStateChangedReason, error_code: i32, extended_data: &str, room_id: &str) {}
    fn on_room_state_update(&self, state: RoomState, error_code: i32, extended_data: &str, room_id: &str) {}
    fn on_room_user_update(&self, update_type: UpdateType, user_list: &[User], room_id: &str) {}
    fn on_room_online_user_count_update(&self, count: i32, room_id: &str) {}
    fn on_room_token_will_expire(&self, remain_time_in_second: i32, room_id: &str) {}
    fn on_room_login_result(&self, error_code: i32, extended_data: &str, room_id: &str, seq: Seq) {}
    fn on_room_logout_result(&self, error_code: i32, extended_data: &str, room_id: &str, seq: Seq) {}

    // ---- streams (contract §6) ----
    /// Other users' streams were added or deleted. `extended_data` is `{}` for Add and
    /// `{"stream_delete_reason":[{"stream_id":"…","code":N}]}` for Delete (N: 1 stopped or logged
    /// out, 2 heartbeat grace passed, 3 duplicate login, 4 kicked, 5 engine destroyed, 6 forbidden).
    fn on_room_stream_update(&self, update_type: UpdateType, stream_list: &[Stream], extended_data: &str, room_id: &str) {}
    /// Other users changed their streams' extra info.
    fn on_room_stream_extra_info_update(&self, stream_list: &[Stream], room_id: &str) {}
    /// A stream this engine publishes changed state (§6.1 publisher states and codes).
    fn on_publisher_state_update(&self, state: PublisherState, error_code: i32, extended_data: &str, stream_id: &str) {}
    /// A stream this engine plays changed state (§6.1 player states and codes).
    fn on_player_state_update(&self, state: PlayerState, error_code: i32, extended_data: &str, stream_id: &str) {}
    /// Result of `set_stream_extra_info` with the seq it returned.
    fn on_publisher_update_stream_extra_info_result(&self, error_code: i32, seq: Seq) {}
    /// One SEI frame of a played stream, byte for byte, in the publisher's order.
    fn on_player_recv_sei(&self, data: &[u8], stream_id: &str) {}

    // ---- messaging and room extra info (contract §7) ----
    /// Result of `send_broadcast_message`: 0 and the message id (increasing per room), or a code.
    fn on_im_send_broadcast_message_result(&self, error_code: i32, message_id: u64, room_id: &str, seq: Seq) {}
    /// Result of `send_barrage_message`.
    fn on_im_send_barrage_message_result(&self, error_code: i32, message_id: &str, room_id: &str, seq: Seq) {}
    /// Result of `send_custom_command`.
    fn on_im_send_custom_command_result(&self, error_code: i32, room_id: &str, seq: Seq) {}
    /// Result of `set_room_extra_info`.
    fn on_room_set_room_extra_info_result(&self, error_code: i32, room_id: &str, key: &str, seq: Seq) {}
    /// 1–50 broadcast messages from others, in send order.
    fn on_im_recv_broadcast_message(&self, message_list: &[BroadcastMessageInfo], room_id: &str) {}
    /// 1–50 barrage messages from others, in send order.
    fn on_im_recv_barrage_message(&self, message_list: &[BarrageMessageInfo], room_id: &str) {}
    /// A custom command sent to this user (or to everyone).
    fn on_im_recv_custom_command(&self, command: &str, from_user: &User, room_id: &str) {}
    /// The room's extra info changed (set by someone else), or its current value right after
    /// Logined, or again after Reconnected if it changed during the gap.
    fn on_room_extra_info_update(&self, room_extra_info_list: &[RoomExtraInfo], room_id: &str) {}
}

pub(crate) struct Shared {
    /// `None` once destroyed.
    core: Mutex<Option<Core>>,
    dispatcher: Dispatcher,
    tx: UnboundedSender<DriverMsg>,
    /// The rustls client configuration for `wss://`, built on first use (see `tls`).
    #[cfg(feature = "tls")]
    tls: Mutex<Option<Arc<rustls::ClientConfig>>>,
}

impl Shared {
    /// Runs `f` on the core and routes what it produced: events to the dispatcher, I/O to the
    /// driver. Both are queued under the lock so their order is the core's order.
    fn with_core<R>(&self, f: impl FnOnce(&mut Core) -> R) -> Result<R, i32> {
        let mut guard = self.core.lock();
        let core = guard.as_mut().ok_or(ENGINE_NOT_CREATED)?;
        let r = f(core);
        while let Some(o) = core.poll_output() {
            match o {
                Output::Event(e) => self.dispatcher.push(e),
                other => {
                    let _ = self.tx.send(DriverMsg::Output(other));
                }
            }
        }
        Ok(r)
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.core.lock().as_ref().and_then(|c| c.poll_timeout())
    }

    /// An API call: run it, then wake the driver so it sees new timers.
    fn call<R>(&self, f: impl FnOnce(&mut Core, Instant) -> Result<R, i32>) -> Result<R, i32> {
        let r = self.with_core(|core| f(core, Instant::now()))?;
        let _ = self.tx.send(DriverMsg::Wake);
        r
    }
}

/// One engine: joins rooms on one server and reports through its [`EventHandler`].
pub struct RoomEngine {
    shared: Arc<Shared>,
    driver: Mutex<Option<JoinHandle<()>>>,
}

/// Checks that `server` is a `ws://` (or, with the `tls` feature, `wss://`) URL with a host, or a
/// comma-separated list of such URLs (entries trimmed; contract §8: each new connection attempt
/// moves to the next one). Any other entry, an empty one included, is 1000017.
pub fn check_server_url(server: &str) -> Result<(), i32> {
    crate::core::server_urls(server).iter().try_for_each(|u| check_one_url(u))
}

fn check_one_url(server: &str) -> Result<(), i32> {
    use tokio_tungstenite::tungstenite::http::Uri;
    let uri: Uri = server.parse().map_err(|_| ILLEGAL_PARAM)?;
    let scheme_ok = match uri.scheme_str() {
        Some("ws") => true,
        Some("wss") => cfg!(feature = "tls"),
        _ => false,
    };
    match uri.host() {
        Some(h) if scheme_ok && !h.is_empty() => Ok(()),
        _ => Err(ILLEGAL_PARAM),
    }
}

impl RoomEngine {
    pub fn new(profile: EngineProfile, handler: Arc<dyn EventHandler>) -> Result<RoomEngine, i32> {
        Self::with_timings(profile, handler, Timings::default())
    }

    /// As [`RoomEngine::new`], with non-default timings (tests, benchmarks).
    pub fn with_timings(profile: EngineProfile, handler: Arc<dyn EventHandler>, timings: Timings) -> Result<RoomEngine, i32> {
        check_server_url(&profile.server)?;
        let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
            ^ (Arc::as_ptr(&handler) as *const () as u64);
        let (tx, rx) = unbounded_channel();
        let dispatcher = Dispatcher::start(handler).map_err(|_| crate::error_codes::INNER_ERROR)?;
        let shared = Arc::new(Shared {
            core: Mutex::new(Some(Core::new(&profile, timings, seed))),
            dispatcher,
            tx: tx.clone(),
            #[cfg(feature = "tls")]
            tls: Mutex::new(None),
        });
        let for_driver = shared.clone();
        let driver = std::thread::Builder::new()
            .name("zego-room-io".into())
            .spawn(move || driver::run(for_driver, tx, rx))
            .map_err(|_| crate::error_codes::INNER_ERROR)?;
        Ok(RoomEngine { shared, driver: Mutex::new(Some(driver)) })
    }

    /// `"key=value;..."` (contract §1.3, §9). Known keys: `room_retry_time` (whole seconds) and
    /// `tls_ca_file` (path of a PEM file with CA certificate(s) trusted for `wss://` besides the
    /// platform's roots; empty = platform roots only). The file is read here, once, on the calling
    /// thread. Errors: 1000017 when a value cannot be parsed or the CA file cannot be read or holds
    /// no usable CA certificate; nothing changes then. 1000001 once destroyed.
    pub fn set_engine_config(&self, advanced_config: &str) -> Result<(), i32> {
        let parsed = crate::core::advanced_config::parse(advanced_config)?;
        #[cfg(feature = "tls")]
        let tls = match parsed.tls_ca_file.as_deref() {
            None => None,
            Some("") => Some(None),
            Some(path) => Some(Some(tls::client_config_with_ca_file(path).map_err(|e| {
                log::warn!("advanced config: tls_ca_file refused: {e}");
                ILLEGAL_PARAM
            })?)),
        };
        #[cfg(not(feature = "tls"))]
        if parsed.tls_ca_file.is_some() {
            log::info!("advanced config: tls_ca_file ignored (built without the tls feature: ws:// only)");
        }
        self.shared.call(|core, _| core.set_engine_config(advanced_config))?;
        #[cfg(feature = "tls")]
        if let Some(config) = tls {
            *self.shared.tls.lock() = config;
        }
        Ok(())
    }

    pub fn login_room(&self, room_id: &str, user: &User, config: Option<&RoomConfig>) -> Result<Seq, i32> {
        self.shared.call(|core, now| core.login_room(room_id, user, config, now))
    }

    /// `None` leaves every room.
    pub fn logout_room(&self, room_id: Option<&str>) -> Result<Seq, i32> {
        self.shared.call(|core, now| core.logout_room(room_id, now))
    }

    pub fn switch_room(&self, from_room_id: &str, to_room_id: &str, config: Option<&RoomConfig>) -> Result<(), i32> {
        self.shared.call(|core, now| core.switch_room(from_room_id, to_room_id, config, now))
    }

    pub fn renew_token(&self, room_id: &str, token: &str) -> Result<(), i32> {
        self.shared.call(|core, now| core.renew_token(room_id, token, now))
    }

    // ---- streams (contract §6) ----

    /// Publish `stream_id` (1–255 bytes of `[0-9A-Za-z_-]`) on `channel` in the room named by
    /// `config` (multi-room: required, 1003071) or the only room. Returns at once; the outcome
    /// arrives as `on_publisher_state_update` (PublishRequesting, then Publishing or NoPublish with
    /// 1003028/1003072/1003025). Errors: 1000015/1000014/1000016 (stream id), 1000002 (room not
    /// joined), 1003023 (the channel publishes another stream). Contract §6.1.
    pub fn start_publishing_stream(&self, stream_id: &str, config: Option<&PublisherConfig>, channel: PublishChannel) -> Result<(), i32> {
        self.shared.call(|core, now| core.start_publishing_stream(stream_id, config, channel, now))
    }

    /// Stop the channel's stream: NoPublish (0); others see Delete (reason 1). Never fails.
    pub fn stop_publishing_stream(&self, channel: PublishChannel) -> Result<(), i32> {
        self.shared.call(|core, now| core.stop_publishing_stream(channel, now))
    }

    /// Extra info (≤ 1024 bytes UTF-8, else 1000017) for the channel's stream, before or during
    /// publishing; the result arrives as `on_publisher_update_stream_extra_info_result` with the
    /// returned seq.
    pub fn set_stream_extra_info(&self, extra_info: &str, channel: PublishChannel) -> Result<Seq, i32> {
        self.shared.call(|core, now| core.set_stream_extra_info(extra_info, channel, now))
    }

    /// Play `stream_id` from the room named by `config` (multi-room: required, 1004071) or the only
    /// room: PlayRequesting, then Playing once it is published and its publisher is connected.
    /// Errors: stream id codes, 1000002 (room not joined), 1004010 (13th stream). Contract §6.1.
    pub fn start_playing_stream(&self, stream_id: &str, config: Option<&PlayerConfig>) -> Result<(), i32> {
        self.shared.call(|core, now| core.start_playing_stream(stream_id, config, now))
    }

    /// Stop playing: NoPlay (0).
    pub fn stop_playing_stream(&self, stream_id: &str) -> Result<(), i32> {
        self.shared.call(|core, now| core.stop_playing_stream(stream_id, now))
    }

    /// Send 1–4096 bytes of side data (else 1000017) to every player of the channel's stream, in
    /// order; the channel must be Publishing (else 1003001, nothing sent).
    pub fn send_sei(&self, data: &[u8], channel: PublishChannel) -> Result<(), i32> {
        self.shared.call(|core, _| core.send_sei(data, channel))
    }

    /// The engine's view of a room's streams (no server call): others' streams (`Play`), or with the
    /// local user's published ones (`All`). `""` = the only room. Not joined → 1000002.
    pub fn get_room_stream_list(&self, room_id: &str, list_type: RoomStreamListType) -> Result<Vec<Stream>, i32> {
        self.shared.call(|core, _| core.get_room_stream_list(room_id, list_type))
    }

    // ---- messaging and room extra info (contract §7) ----

    /// Reliable message (1–1024 bytes; 1009001/1009002) to everyone in the room but the sender.
    /// Room not joined → 1009005. Returns the seq of `on_im_send_broadcast_message_result`.
    pub fn send_broadcast_message(&self, room_id: &str, message: &str) -> Result<Seq, i32> {
        self.shared.call(|core, now| core.send_broadcast_message(room_id, message, now))
    }

    /// Best-effort message (may be dropped under load; over 20/s per room → 1009015).
    pub fn send_barrage_message(&self, room_id: &str, message: &str) -> Result<Seq, i32> {
        self.shared.call(|core, now| core.send_barrage_message(room_id, message, now))
    }

    /// Reliable command to 1–5 users (`to_user_list` empty = everyone but the sender). A target id
    /// empty → 1009011, longer than 63 bytes → 1009012, more than 5 targets → 1000017.
    pub fn send_custom_command(&self, room_id: &str, command: &str, to_user_list: &[User]) -> Result<Seq, i32> {
        let ids: Vec<&str> = to_user_list.iter().map(|u| u.user_id.as_str()).collect();
        self.shared.call(|core, now| core.send_custom_command(room_id, command, &ids, now))
    }

    /// Set the room's extra info: key 1–10 bytes (1002014/1002015), value ≤ 128 bytes (1002016),
    /// one key per room (1002017), room not joined → 1002002.
    pub fn set_room_extra_info(&self, room_id: &str, key: &str, value: &str) -> Result<Seq, i32> {
        self.shared.call(|core, now| core.set_room_extra_info(room_id, key, value, now))
    }

    /// Benchmarks only: queue events for delivery as if the core had produced them, to measure the
    /// callback path (dispatcher and facade) without a network in between.
    #[doc(hidden)]
    pub fn inject_events_for_bench(&self, events: impl IntoIterator<Item = crate::events::Event>) {
        for e in events {
            self.shared.dispatcher.push(e);
        }
    }

    /// True on this engine's callback thread (facades use it to avoid waiting on themselves).
    pub fn is_callback_thread(&self) -> bool {
        self.shared.dispatcher.is_dispatcher_thread()
    }

    /// Destroyed and its callback thread has ended: no callback is running or will run.
    pub fn is_quiescent(&self) -> bool {
        self.is_destroyed() && self.shared.dispatcher.is_finished()
    }

    pub fn is_destroyed(&self) -> bool {
        self.shared.core.lock().is_none()
    }

    /// Leaves every room (logout frames, no events) and stops both threads. Once it returns
    /// (called outside a callback) no callback runs again; from inside a callback it takes effect
    /// when that callback returns. Calling it again is harmless.
    pub fn destroy(&self) {
        let core = self.shared.core.lock().take();
        if let Some(mut core) = core {
            core.shutdown();
            while let Some(o) = core.poll_output() {
                let _ = self.shared.tx.send(DriverMsg::Output(o));
            }
            let _ = self.shared.tx.send(DriverMsg::Shutdown);
        }
        self.shared.dispatcher.stop();
        let driver = self.driver.lock().take();
        if let Some(driver) = driver {
            let _ = driver.join();
        }
    }
}

impl Drop for RoomEngine {
    fn drop(&mut self) {
        self.destroy();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_lists_are_checked_entry_by_entry() {
        assert_eq!(check_server_url("ws://a:1"), Ok(()));
        assert_eq!(check_server_url("ws://a:1,ws://b:2"), Ok(()));
        assert_eq!(check_server_url("  ws://a:1 , ws://b:2  "), Ok(()), "entries are trimmed");
        for bad in ["", "ws://a:1,", "ws://a:1,,ws://b:2", "ws://a:1,http://b:2", "ws://a:1, b:2", "tcp://a:1", ",ws://a:1"] {
            assert_eq!(check_server_url(bad), Err(ILLEGAL_PARAM), "{bad:?}");
        }
    }
}
