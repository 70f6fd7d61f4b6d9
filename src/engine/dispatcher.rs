//! The library's callback threads: a small fixed pool shared by every engine of the process.
//! Each engine is pinned to one pool thread for life (round robin at creation), so its callbacks
//! run on one library-owned thread that never changes, in order, never concurrently, with no engine
//! lock held (a callback may call back into the engine, or destroy it). Several engines share a
//! thread: a callback that blocks delays the other engines on that thread (contract §1.5).
//!
//! Each engine has its own queue ([`Dispatcher`]); a pool thread runs the engines that have events,
//! in the order they became ready, at most [`TURN`] events of one engine per turn so that a busy
//! engine cannot starve the others on its thread.
//!
//! Written by hand rather than with a thread-pool crate: the pool must pin an engine to one
//! thread, let `stop` wait for exactly that engine's running callback (not the whole thread), and
//! release the handler as soon as the engine is stopped and idle — none of which a general pool offers.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{self, ThreadId};

use parking_lot::{Condvar, Mutex};

use super::EventHandler;
use crate::events::Event;

/// Events of one engine delivered before its thread moves on to the next ready engine.
const TURN: usize = 64;

/// How many callback threads the process gets: the cores, at least 2 and at most 4.
fn pool_size() -> usize {
    thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 4)
}

/// One callback thread of the pool and the engines waiting for it.
struct Worker {
    ready: Mutex<VecDeque<Arc<Engine>>>,
    wake: Condvar,
    thread_id: OnceLock<ThreadId>,
}

struct Pool {
    workers: Vec<Arc<Worker>>,
    next: AtomicUsize,
}

static POOL: OnceLock<Result<Pool, String>> = OnceLock::new();

/// The pool, started on first use. The threads live as long as the process (they sleep when no
/// engine has events).
fn pool() -> std::io::Result<&'static Pool> {
    POOL.get_or_init(|| {
        let mut workers = Vec::new();
        for i in 0..pool_size() {
            let worker = Arc::new(Worker { ready: Mutex::new(VecDeque::new()), wake: Condvar::new(), thread_id: OnceLock::new() });
            let w = worker.clone();
            let handle = thread::Builder::new().name(format!("zego-room-cb-{i}")).spawn(move || run(w)).map_err(|e| e.to_string())?;
            let _ = worker.thread_id.set(handle.thread().id());
            workers.push(worker);
        }
        Ok(Pool { workers, next: AtomicUsize::new(0) })
    })
    .as_ref()
    .map_err(|e| std::io::Error::other(e.clone()))
}

/// One engine's side of its pool thread.
struct Engine {
    worker: Arc<Worker>,
    state: Mutex<State>,
    /// Signalled when a callback of this engine returns while the engine is stopped.
    idle: Condvar,
}

struct State {
    events: VecDeque<Event>,
    /// In its worker's ready queue, or being run by it.
    scheduled: bool,
    /// A callback of this engine is running now.
    running: bool,
    stopped: bool,
    /// `None` once stopped: the pool thread holds its own reference only while a callback runs.
    handler: Option<Arc<dyn EventHandler>>,
}

pub(crate) struct Dispatcher {
    engine: Arc<Engine>,
}

impl Dispatcher {
    /// Pins a new engine to the next pool thread (starting the pool on first use).
    pub fn start(handler: Arc<dyn EventHandler>) -> std::io::Result<Dispatcher> {
        let pool = pool()?;
        let worker = pool.workers[pool.next.fetch_add(1, Ordering::Relaxed) % pool.workers.len()].clone();
        let state = State { events: VecDeque::new(), scheduled: false, running: false, stopped: false, handler: Some(handler) };
        Ok(Dispatcher { engine: Arc::new(Engine { worker, state: Mutex::new(state), idle: Condvar::new() }) })
    }

    pub fn push(&self, event: Event) {
        let mut st = self.engine.state.lock();
        if st.stopped {
            return;
        }
        st.events.push_back(event);
        if !st.scheduled {
            st.scheduled = true;
            drop(st);
            schedule(&self.engine);
        }
    }

    /// True on the pool thread this engine is pinned to (whichever engine it is serving now: while
    /// it runs another engine's callback, none of this engine's can be running).
    pub fn is_dispatcher_thread(&self) -> bool {
        self.engine.worker.thread_id.get() == Some(&thread::current().id())
    }

    /// No callback starts after this. Called outside a callback it also waits for the one running
    /// now, so none runs after it returns; concurrent callers all wait. From inside a callback it
    /// takes effect when that callback returns. Queued events are dropped. The handler is released
    /// here when no callback runs, else by the pool thread when the running one returns.
    pub fn stop(&self) {
        let handler = {
            let mut st = self.engine.state.lock();
            st.stopped = true;
            st.events.clear();
            let handler = st.handler.take();
            if !self.is_dispatcher_thread() {
                while st.running {
                    self.engine.idle.wait(&mut st);
                }
            }
            handler
        };
        // Outside the lock: releasing the handler may drop the last reference to an engine.
        drop(handler);
    }

    /// Stopped, and no callback is running or will run; the handler is released. Never blocks
    /// for long (only for the engine's short queue lock).
    pub fn is_finished(&self) -> bool {
        let st = self.engine.state.lock();
        st.stopped && !st.running
    }
}

fn schedule(engine: &Arc<Engine>) {
    let worker = &engine.worker;
    let mut ready = worker.ready.lock();
    ready.push_back(engine.clone());
    if ready.len() == 1 {
        // Only an empty queue can have the thread asleep on it.
        worker.wake.notify_one();
    }
}

fn run(worker: Arc<Worker>) {
    loop {
        let engine = {
            let mut ready = worker.ready.lock();
            loop {
                match ready.pop_front() {
                    Some(e) => break e,
                    None => worker.wake.wait(&mut ready),
                }
            }
        };
        serve(&engine);
    }
}

/// Delivers up to [`TURN`] of the engine's events, then puts it back at the end of the ready
/// queue if it has more.
fn serve(engine: &Arc<Engine>) {
    for _ in 0..TURN {
        let (event, handler) = {
            let mut st = engine.state.lock();
            let next = if st.stopped { None } else { st.events.pop_front() };
            match (next, st.handler.clone()) {
                (Some(event), Some(handler)) => {
                    st.running = true;
                    (event, handler)
                }
                _ => {
                    st.scheduled = false;
                    return;
                }
            }
        };
        // A host handler that throws must not take the engine down (contract §1.5, §3).
        if catch_unwind(AssertUnwindSafe(|| deliver(&*handler, &event))).is_err() {
            log::error!("an event handler panicked or threw while handling {event:?}; later events still arrive");
        }
        drop(event);
        // Dropped before `running` is cleared: a stopped engine's handler is gone once it is idle.
        // (If the callback destroyed its engine, this is the last reference: released here, with
        // no lock held.)
        drop(handler);
        let mut st = engine.state.lock();
        st.running = false;
        if st.stopped {
            engine.idle.notify_all();
        }
    }
    // A full turn: yield to the other ready engines if there is more.
    let more = {
        let mut st = engine.state.lock();
        let more = !st.stopped && !st.events.is_empty();
        if !more {
            st.scheduled = false;
        }
        more
    };
    if more {
        schedule(engine);
    }
}

fn deliver(h: &dyn EventHandler, e: &Event) {
    match e {
        Event::RoomStateChanged { reason, error_code, extended_data, room_id } => {
            h.on_room_state_changed(*reason, *error_code, extended_data, room_id)
        }
        Event::RoomStateUpdate { state, error_code, extended_data, room_id } => {
            h.on_room_state_update(*state, *error_code, extended_data, room_id)
        }
        Event::RoomUserUpdate { update_type, users, room_id } => h.on_room_user_update(*update_type, users, room_id),
        Event::RoomOnlineUserCountUpdate { count, room_id } => h.on_room_online_user_count_update(*count, room_id),
        Event::RoomTokenWillExpire { remain_time_in_second, room_id } => {
            h.on_room_token_will_expire(*remain_time_in_second, room_id)
        }
        Event::RoomLoginResult { error_code, extended_data, room_id, seq } => {
            h.on_room_login_result(*error_code, extended_data, room_id, *seq)
        }
        Event::RoomLogoutResult { error_code, extended_data, room_id, seq } => {
            h.on_room_logout_result(*error_code, extended_data, room_id, *seq)
        }
        Event::RoomStreamUpdate { update_type, streams, extended_data, room_id } => {
            h.on_room_stream_update(*update_type, streams, extended_data, room_id)
        }
        Event::RoomStreamExtraInfoUpdate { streams, room_id } => h.on_room_stream_extra_info_update(streams, room_id),
        Event::PublisherStateUpdate { state, error_code, extended_data, stream_id } => {
            h.on_publisher_state_update(*state, *error_code, extended_data, stream_id)
        }
        Event::PlayerStateUpdate { state, error_code, extended_data, stream_id } => {
            h.on_player_state_update(*state, *error_code, extended_data, stream_id)
        }
        Event::PublisherUpdateStreamExtraInfoResult { error_code, seq } => {
            h.on_publisher_update_stream_extra_info_result(*error_code, *seq)
        }
        Event::PlayerRecvSei { data, stream_id } => h.on_player_recv_sei(data, stream_id),
        Event::ImSendBroadcastMessageResult { error_code, message_id, room_id, seq } => {
            h.on_im_send_broadcast_message_result(*error_code, *message_id, room_id, *seq)
        }
        Event::ImSendBarrageMessageResult { error_code, message_id, room_id, seq } => {
            h.on_im_send_barrage_message_result(*error_code, message_id, room_id, *seq)
        }
        Event::ImSendCustomCommandResult { error_code, room_id, seq } => h.on_im_send_custom_command_result(*error_code, room_id, *seq),
        Event::RoomSetRoomExtraInfoResult { error_code, room_id, key, seq } => {
            h.on_room_set_room_extra_info_result(*error_code, room_id, key, *seq)
        }
        Event::ImRecvBroadcastMessage { messages, room_id } => h.on_im_recv_broadcast_message(messages, room_id),
        Event::ImRecvBarrageMessage { messages, room_id } => h.on_im_recv_barrage_message(messages, room_id),
        Event::ImRecvCustomCommand { command, from_user, room_id } => h.on_im_recv_custom_command(command, from_user, room_id),
        Event::RoomExtraInfoUpdate { infos, room_id } => h.on_room_extra_info_update(infos, room_id),
    }
}
