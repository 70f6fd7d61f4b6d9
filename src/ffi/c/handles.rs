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
/// Engines destroyed from inside their own callback: no longer usable, but kept until their
/// callback thread has ended, so a destroy from outside can still wait for that last callback.
static DYING: Lazy<Mutex<HashMap<usize, Arc<CEngine>>>> = Lazy::new(|| Mutex::new(HashMap::new()));
/// Ids are never reused, so a stale handle can never reach a newer engine. Multiples of 16 keep
/// handles looking like aligned pointers to tools that inspect them.
static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

pub(crate) fn insert(engine: RoomEngine, callbacks: Arc<CallbackTable>) -> *mut zego_engine {
    prune_dying();
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

/// Destroys and forgets the engine; unknown handles are ignored. Outside a callback it returns
/// only once no callback of that engine can run, even if a callback destroyed it first.
pub(crate) fn destroy(handle: *const zego_engine) {
    if handle.is_null() {
        return;
    }
    let id = handle as usize;
    // Every destroyed handle passes through DYING (moved under both locks), so a destroy racing
    // with one inside a callback always finds the engine and waits for it.
    let e = {
        let mut registry = REGISTRY.lock();
        let mut dying = DYING.lock();
        match registry.remove(&id) {
            Some(e) => {
                dying.insert(id, e.clone());
                e
            }
            None => match dying.get(&id) {
                Some(e) => e.clone(),
                None => return,
            },
        }
    };
    if e.engine.is_callback_thread() {
        // Deferred by the engine until the running callback returns; never wait for ourselves.
        // It stays in DYING until its callback thread ends or an outside destroy waited for it.
        e.engine.destroy();
    } else {
        let _one_at_a_time = e.destroy_lock.lock();
        e.engine.destroy(); // waits for a callback still running, also one that destroyed it
        DYING.lock().remove(&id);
    }
    drop(e);
    prune_dying();
}

/// Frees engines destroyed from their own callback once their callback thread has ended.
/// Checks run outside the DYING lock: a callback may be calling into us meanwhile.
fn prune_dying() {
    let candidates: Vec<(usize, Arc<CEngine>)> = DYING.lock().iter().map(|(id, e)| (*id, e.clone())).collect();
    let finished: Vec<usize> = candidates.iter().filter(|(_, e)| e.engine.is_quiescent()).map(|(id, _)| *id).collect();
    let removed: Vec<Arc<CEngine>> = {
        let mut dying = DYING.lock();
        finished.iter().filter_map(|id| dying.remove(id)).collect()
    };
    drop(candidates);
    drop(removed); // outside the lock: dropping an engine joins its (finished) threads
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
