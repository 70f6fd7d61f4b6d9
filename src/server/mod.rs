//! The room server (`zego-room-server`), embeddable in-process for examples and tests.
//!
//! Layout: [`hub`] holds all presence rules as pure code; `session` is the async shell (WebSocket
//! accept, per-connection tasks, the tick task); [`admin`] is the ZEGO-style admin HTTP API and a
//! tiny blocking client for it. [`start`] runs everything on its own thread and runtime so tests and
//! examples need no async setup; [`run`] is the same server for an existing runtime (the binary).

pub mod admin;
pub mod hub;
mod session;
pub mod tls;
#[cfg(test)]
mod shell_tests;

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Utf8Bytes;

pub use hub::{ConnId, Hub, HubConfig, Out};

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Signalling endpoint (WebSocket).
    pub listen: SocketAddr,
    /// Admin HTTP API.
    pub admin_listen: SocketAddr,
    pub app_id: u32,
    /// 32-character secret for tokens and admin signatures; `None` = no authentication.
    pub server_secret: Option<String>,
    pub heartbeat_timeout: Duration,
    pub ping_interval: Duration,
    /// Period of online-count updates (contract: 30 s; tests shorten it).
    pub count_interval: Duration,
    /// `--tls-cert`: PEM certificate chain (leaf first). With `tls_key`, the signalling listener
    /// serves `wss://` and the admin listener `https://` (contract §9); both or neither.
    pub tls_cert: Option<PathBuf>,
    /// `--tls-key`: PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 9100)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 9101)),
            app_id: 1,
            server_secret: None,
            heartbeat_timeout: Duration::from_secs(90),
            ping_interval: Duration::from_secs(10),
            count_interval: Duration::from_secs(30),
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl ServerConfig {
    fn hub_config(&self) -> HubConfig {
        HubConfig {
            app_id: self.app_id,
            server_secret: self.server_secret.clone(),
            heartbeat_timeout: self.heartbeat_timeout,
            ping_interval: self.ping_interval,
            count_interval: self.count_interval,
        }
    }

    /// The TLS configuration of `tls_cert` + `tls_key`, `None` without them. Errors: only one of
    /// the two given, a file that cannot be read, a certificate and key that do not go together.
    fn tls(&self) -> io::Result<Option<Arc<rustls::ServerConfig>>> {
        match (&self.tls_cert, &self.tls_key) {
            (None, None) => Ok(None),
            (Some(cert), Some(key)) => tls::load_server_config(cert, key).map(Some),
            _ => Err(io::Error::new(io::ErrorKind::InvalidInput, "--tls-cert and --tls-key go together: give both or neither")),
        }
    }
}

/// What a connection task is told to do.
pub(crate) enum Outgoing {
    Text(Utf8Bytes),
    /// Send a close frame with this code, finish the close handshake and end.
    Close(CloseCode),
}

/// Messages that may wait for one connection. A peer that stops reading fills it; it is then
/// disconnected and, when it comes back, resumes and gets the difference it missed (no unbounded
/// memory for a stuck client). Channel memory is allocated as it fills, not up front.
pub(crate) const OUTGOING_QUEUE: usize = 4096;

/// The hub and the outgoing channel of every open connection, behind one lock so that the order
/// of messages per connection is the order the hub produced them.
pub(crate) struct State {
    pub(crate) hub: Hub,
    pub(crate) conns: HashMap<ConnId, mpsc::Sender<Outgoing>>,
}

impl State {
    /// Executes the hub's outputs. Called with the lock held (channels never block).
    pub(crate) fn deliver(&mut self, outs: Vec<Out>) {
        for o in outs {
            match o {
                Out::Send(c, m) => self.push(c, Outgoing::Text(m.encode().into())),
                Out::Broadcast(cs, m) => {
                    let text: Utf8Bytes = m.encode().into();
                    for c in cs {
                        self.push(c, Outgoing::Text(text.clone()));
                    }
                }
                Out::Close(c) => {
                    // Removing the sender guarantees nothing is queued after the close; if the
                    // queue is full, dropping the sender ends the connection all the same.
                    if let Some(tx) = self.conns.remove(&c) {
                        let _ = tx.try_send(Outgoing::Close(CloseCode::Normal));
                    }
                }
            }
        }
    }

    /// Queues without blocking (the lock is held); a full queue disconnects that peer.
    fn push(&mut self, c: ConnId, msg: Outgoing) {
        let Some(tx) = self.conns.get(&c) else { return };
        if let Err(mpsc::error::TrySendError::Full(_)) = tx.try_send(msg) {
            log::warn!("conn {c}: {OUTGOING_QUEUE} messages waiting, peer not reading; disconnecting it");
            self.conns.remove(&c);
        }
    }
}

pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    next_conn: AtomicU64,
}

impl Shared {
    fn new(cfg: HubConfig) -> Self {
        Shared { state: Mutex::new(State { hub: Hub::new(cfg), conns: HashMap::new() }), next_conn: AtomicU64::new(1) }
    }
    pub(crate) fn next_conn_id(&self) -> ConnId {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }
    pub(crate) fn app_id(&self) -> u32 {
        self.state.lock().hub.config().app_id
    }
    pub(crate) fn secret(&self) -> Option<String> {
        self.state.lock().hub.config().server_secret.clone()
    }
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Close every session with a close frame, then stop.
    Graceful,
    /// Drop everything at once (simulated crash).
    Kill,
}

fn bind(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let l = std::net::TcpListener::bind(addr).map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// Runs the server until `shutdown` completes, then closes every session gracefully.
/// Binding errors (address in use) are returned before anything runs.
pub async fn run(config: ServerConfig, shutdown: impl Future<Output = ()>) -> io::Result<()> {
    let tls = config.tls()?;
    let ws = bind(config.listen)?;
    let admin = bind(config.admin_listen)?;
    let (ws_scheme, admin_scheme) = schemes(tls.is_some());
    log::info!(
        "room server listening on {ws_scheme}://{} (admin {admin_scheme}://{}), app id {}, {}",
        ws.local_addr()?,
        admin.local_addr()?,
        config.app_id,
        if config.server_secret.is_some() { "tokens checked" } else { "no authentication" }
    );
    session::serve(ws, admin, config.hub_config(), tls, async {
        shutdown.await;
        Stop::Graceful
    })
    .await
}

/// Binds both listeners (so "address in use" is an `Err` here) and runs the server on its own
/// thread with a 2-worker runtime.
pub fn start(config: ServerConfig) -> io::Result<ServerHandle> {
    let tls = config.tls()?;
    let tls_on = tls.is_some();
    let ws = bind(config.listen)?;
    let admin = bind(config.admin_listen)?;
    let ws_addr = ws.local_addr()?;
    let admin_addr = admin.local_addr()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("zego-room-server")
        .enable_all()
        .build()?;
    let (stop_tx, stop_rx) = oneshot::channel::<Stop>();
    let hub_cfg = config.hub_config();
    let thread = std::thread::Builder::new().name("zego-room-server-main".into()).spawn(move || {
        let res = rt.block_on(session::serve(ws, admin, hub_cfg, tls, async {
            // A dropped handle means nobody can stop us politely: behave as a graceful stop.
            stop_rx.await.unwrap_or(Stop::Graceful)
        }));
        if let Err(e) = res {
            log::error!("room server stopped with an error: {e}");
        }
        // Dropping the runtime cancels every remaining task and closes every socket.
        rt.shutdown_timeout(Duration::from_secs(1));
    })?;
    let (ws_scheme, admin_scheme) = schemes(tls_on);
    log::info!("room server listening on {ws_scheme}://{ws_addr} (admin {admin_scheme}://{admin_addr})");
    Ok(ServerHandle { ws_addr, admin_addr, tls: tls_on, stop: Some(stop_tx), thread: Some(thread) })
}

fn schemes(tls: bool) -> (&'static str, &'static str) {
    if tls {
        ("wss", "https")
    } else {
        ("ws", "http")
    }
}

/// A server started by [`start`]. Dropping it stops the server gracefully (without waiting).
pub struct ServerHandle {
    ws_addr: SocketAddr,
    admin_addr: SocketAddr,
    tls: bool,
    stop: Option<oneshot::Sender<Stop>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerHandle {
    pub fn ws_addr(&self) -> SocketAddr {
        self.ws_addr
    }
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }
    /// `ws://IP:PORT` for engine profiles; `wss://IP:PORT` when the server serves TLS.
    pub fn url(&self) -> String {
        format!("{}://{}", schemes(self.tls).0, self.ws_addr)
    }
    /// True when started with `tls_cert`/`tls_key` (wss:// and https://).
    pub fn is_tls(&self) -> bool {
        self.tls
    }
    /// Closes every session with a WebSocket close frame, then stops; blocks until stopped.
    pub fn shutdown(mut self) {
        self.stop_with(Stop::Graceful);
    }
    /// Drops every socket without a close frame and forgets all state (a crashed server); blocks
    /// until stopped, so the ports can be bound again right after.
    pub fn kill(mut self) {
        self.stop_with(Stop::Kill);
    }
    fn stop_with(&mut self, how: Stop) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(how);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(Stop::Graceful);
        }
    }
}

#[cfg(test)]
mod queue_tests {
    use super::*;
    use crate::protocol::ServerMsg;

    #[test]
    fn a_peer_that_stops_reading_is_disconnected_not_buffered_without_bound() {
        let mut st = State { hub: Hub::new(ServerConfig::default().hub_config()), conns: HashMap::new() };
        let (tx, mut rx) = mpsc::channel(OUTGOING_QUEUE);
        st.conns.insert(7, tx);
        st.deliver((0..OUTGOING_QUEUE).map(|_| Out::Send(7, ServerMsg::Pong)).collect());
        assert!(st.conns.contains_key(&7), "a full queue is still fine");
        st.deliver(vec![Out::Broadcast(vec![7], ServerMsg::UserCount { count: 2 })]);
        assert!(!st.conns.contains_key(&7), "one more message disconnects the peer");
        let mut queued = 0;
        while rx.try_recv().is_ok() {
            queued += 1;
        }
        assert_eq!(queued, OUTGOING_QUEUE);
        assert!(matches!(rx.try_recv(), Err(mpsc::error::TryRecvError::Disconnected)), "the connection task ends");
        st.deliver(vec![Out::Send(7, ServerMsg::Pong), Out::Close(7)]); // unknown conn now: ignored
    }
}
