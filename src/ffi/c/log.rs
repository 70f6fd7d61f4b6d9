//! Bridge from the `log` crate to a C function (`zego_set_log_callback`).
//!
//! The first registration installs a global `log::Log` (if the host process already installed
//! another logger, for example a Rust host, records keep going there and the C function is not
//! called). Records produced while a log callback runs on the same thread are dropped, so the
//! callback may call into the library without recursing. Once `zego_set_log_callback` returns
//! (outside a log callback) the previous function is not called again with its context.

use std::cell::Cell;
use std::ffi::{c_char, c_void};

use parking_lot::{Mutex, RwLock};

use super::cstr::to_c;

type LogFn = unsafe extern "C" fn(*mut c_void, i32, *const c_char, *const c_char);

#[derive(Clone, Copy)]
struct Sink {
    f: LogFn,
    ctx: usize,
}

static SINK: Mutex<Option<Sink>> = Mutex::new(None);
/// Held (shared) while a C log function runs; a registration takes it exclusively to wait for
/// calls of the previous function to finish.
static GATE: RwLock<()> = RwLock::new(());
static LOGGER: CLogger = CLogger;

thread_local! {
    static IN_LOG_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

struct CLogger;

fn level_number(l: log::Level) -> i32 {
    match l {
        log::Level::Error => 1,
        log::Level::Warn => 2,
        log::Level::Info => 3,
        log::Level::Debug => 4,
        log::Level::Trace => 5,
    }
}

impl log::Log for CLogger {
    fn enabled(&self, _: &log::Metadata) -> bool {
        SINK.lock().is_some()
    }

    fn log(&self, record: &log::Record) {
        if IN_LOG_CALLBACK.with(|c| c.get()) {
            return;
        }
        let _gate = GATE.read_recursive();
        let Some(sink) = *SINK.lock() else { return };
        let target = to_c(record.target());
        let message = to_c(&record.args().to_string());
        IN_LOG_CALLBACK.with(|c| c.set(true));
        unsafe { (sink.f)(sink.ctx as *mut c_void, level_number(record.level()), target.as_ptr(), message.as_ptr()) };
        IN_LOG_CALLBACK.with(|c| c.set(false));
    }

    fn flush(&self) {}
}

fn level_filter(max_level: i32) -> log::LevelFilter {
    match max_level {
        i32::MIN..=0 => log::LevelFilter::Off,
        1 => log::LevelFilter::Error,
        2 => log::LevelFilter::Warn,
        3 => log::LevelFilter::Info,
        4 => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    }
}

pub(crate) fn set(f: Option<LogFn>, ctx: *mut c_void, max_level: i32) {
    let installed = log::set_logger(&LOGGER).is_ok() || is_ours();
    *SINK.lock() = f.map(|f| Sink { f, ctx: ctx as usize });
    if installed {
        log::set_max_level(if f.is_some() { level_filter(max_level) } else { log::LevelFilter::Off });
    }
    if !IN_LOG_CALLBACK.with(|c| c.get()) {
        drop(GATE.write());
    }
}

/// Whether the global logger is this bridge (set_logger fails on every call after the first).
fn is_ours() -> bool {
    std::ptr::addr_eq(log::logger() as *const dyn log::Log, &LOGGER as *const CLogger)
}
