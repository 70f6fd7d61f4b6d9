//! Engine handles. A `zego_engine *` is never dereferenced: it is a non-zero id in a global
//! registry, so NULL, a destroyed handle or a stray value returns 1000001 instead of being UB.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use once_cell::sync::Lazy;
use parking_lot::Mutex;

use super::callbacks::CallbackTable;
use super::zego_engine;
use crate::engine::RoomEngine;
use crate::error_codes::ENGINE_NOT_CREATED;

pub(crate) struct CEngine {
    pub engine: RoomEngine,
    pub callbacks: Arc<CallbackTable>,
    /// Serialises destroys from different threads, so that every `zego_engine_destroy` returns
    /// only once no callback can run any more.
    destroy_lock: Mutex<()>,
}

static REGISTRY: Lazy<Mutex<HashMap<usize, Arc<CEngine>>>> = Lazy::new(|| Mutex::new(HashMap::new()));
/// Ids are never reused, so a stale handle can never reach a newer engine. Multiples of 16 keep
/// handles looking like aligned pointers to tools that inspect them.
static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

pub(crate) fn insert(engine: RoomEngine, callbacks: Arc<CallbackTable>) -> *mut zego_engine {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed) << 4;
    REGISTRY.lock().insert(id, Arc::new(CEngine { engine, callbacks, destroy_lock: Mutex::new(()) }));
    id as *mut zego_engine
}

/// The live engine behind a handle (a clone of its `Arc`; the registry lock is released at once).
pub(crate) fn get(handle: *const zego_engine) -> Result<Arc<CEngine>, i32> {
    if handle.is_null() {
        return Err(ENGINE_NOT_CREATED);
    }
    REGISTRY.lock().get(&(handle as usize)).cloned().ok_or(ENGINE_NOT_CREATED)
}

/// Destroys and forgets the engine; unknown handles are ignored.
pub(crate) fn destroy(handle: *const zego_engine) {
    let Ok(e) = get(handle) else { return };
    if e.engine.is_callback_thread() {
        // Deferred by the engine until the running callback returns; never wait for ourselves.
        e.engine.destroy();
    } else {
        let _one_at_a_time = e.destroy_lock.lock();
        e.engine.destroy();
    }
    REGISTRY.lock().remove(&(handle as usize));
}


/// Benchmarks only (not part of the C ABI): queue events on an engine as if its core had
/// produced them, to measure delivery through the registered C callbacks.
#[doc(hidden)]
pub fn inject_events_for_bench(handle: *const zego_engine, events: Vec<crate::events::Event>) -> i32 {
    match get(handle) {
        Ok(e) => {
            e.engine.inject_events_for_bench(events);
            0
        }
        Err(code) => code,
    }
}
