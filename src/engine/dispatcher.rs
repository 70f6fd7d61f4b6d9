//! The one engine-owned thread that runs host callbacks, in order, never concurrently, with no
//! engine lock held (so a callback may call back into the engine, or destroy it).

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle, ThreadId};

use parking_lot::{Condvar, Mutex};

use super::EventHandler;
use crate::events::Event;

struct Queue {
    events: VecDeque<Event>,
    stopped: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
    /// Checked before every callback, so a batch taken before `stop` is not delivered after it.
    stopped: AtomicBool,
}

pub(crate) struct Dispatcher {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    thread_id: ThreadId,
}

impl Dispatcher {
    pub fn start(handler: Arc<dyn EventHandler>) -> std::io::Result<Dispatcher> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue { events: VecDeque::new(), stopped: false }),
            ready: Condvar::new(),
            stopped: AtomicBool::new(false),
        });
        let worker = shared.clone();
        let thread = thread::Builder::new().name("zego-room-callbacks".into()).spawn(move || run(worker, handler))?;
        let thread_id = thread.thread().id();
        Ok(Dispatcher { shared, thread: Mutex::new(Some(thread)), thread_id })
    }

    pub fn push(&self, event: Event) {
        let mut q = self.shared.queue.lock();
        if !q.stopped {
            q.events.push_back(event);
            if q.events.len() == 1 {
                // Only an empty queue can have the thread asleep on it.
                self.shared.ready.notify_one();
            }
        }
    }

    pub fn is_dispatcher_thread(&self) -> bool {
        thread::current().id() == self.thread_id
    }

    /// No callback starts after this. Called outside a callback it also waits for the one running
    /// now, so none runs after it returns; concurrent callers all wait. From inside a callback the
    /// thread ends when that callback returns, and a later call from outside still waits for it.
    /// Queued events are dropped. The handler is released by the thread.
    pub fn stop(&self) {
        {
            let mut q = self.shared.queue.lock();
            q.stopped = true;
            self.shared.stopped.store(true, Ordering::SeqCst);
            q.events.clear();
            self.shared.ready.notify_one();
        }
        if self.is_dispatcher_thread() {
            return; // never wait for ourselves; keep the handle for whoever stops from outside
        }
        // Held while joining so that a second caller also waits until the thread has ended.
        let mut thread = self.thread.lock();
        if let Some(handle) = thread.take() {
            let _ = handle.join();
        }
    }

    /// The callback thread has ended (no callback is running or will run). Never blocks: while
    /// someone is joining the thread it answers false.
    pub fn is_finished(&self) -> bool {
        match self.thread.try_lock() {
            Some(thread) => thread.as_ref().is_none_or(|h| h.is_finished()),
            None => false,
        }
    }
}

fn run(shared: Arc<Shared>, handler: Arc<dyn EventHandler>) {
    let mut batch = VecDeque::new();
    loop {
        {
            // Take everything queued in one go: one lock per batch, not per event.
            let mut q = shared.queue.lock();
            while q.events.is_empty() && !q.stopped {
                shared.ready.wait(&mut q);
            }
            if q.stopped {
                return;
            }
            std::mem::swap(&mut batch, &mut q.events);
        }
        for event in batch.drain(..) {
            if shared.stopped.load(Ordering::SeqCst) {
                return;
            }
            // A host handler that throws must not take the engine down (contract §1.5, §3).
            if catch_unwind(AssertUnwindSafe(|| deliver(&*handler, &event))).is_err() {
                log::error!("an event handler panicked or threw while handling {event:?}; later events still arrive");
            }
        }
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
