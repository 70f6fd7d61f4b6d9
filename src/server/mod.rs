//! The room server (`zego-room-server`), embeddable in-process for examples and tests.
//!
//! Layout: [`store`] is the room state behind one interface (in memory here; Redis for a
//! cluster), [`node`] is this process's sessions and connections and turns store events into
//! messages, `session` is the async shell (WebSocket accept, per-connection tasks, periodic
//! tasks), [`admin`] is the ZEGO-style admin HTTP API and a tiny blocking client for it. [`start`]
//! runs everything on its own thread and runtime so tests and examples need no async setup;
//! [`run`] is the same server for an existing runtime (the binary).

pub mod admin;
pub mod node;
mod session;
#[cfg(test)]
mod shell_tests;
pub mod store;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::oneshot;

pub use node::{Node, NodeConfig};
use store::memory::MemoryStore;
use store::StoreConfig;

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
    /// Names this node in logs (default: random).
    pub node_id: Option<String>,
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
            node_id: None,
        }
    }
}

impl ServerConfig {
    pub fn node_config(&self) -> NodeConfig {
        NodeConfig {
            app_id: self.app_id,
            server_secret: self.server_secret.clone(),
            heartbeat_timeout: self.heartbeat_timeout,
            ping_interval: self.ping_interval,
            count_interval: self.count_interval,
            node_id: self.node_id.clone().unwrap_or_else(|| format!("node-{:08x}", fastrand::u32(..))),
        }
    }

    pub fn store_config(&self) -> StoreConfig {
        StoreConfig { grace: self.heartbeat_timeout, ..StoreConfig::default() }
    }

    fn memory_node(&self) -> Arc<Node<MemoryStore>> {
        let store = Arc::new(MemoryStore::new(self.store_config(), Instant::now()));
        Node::new(store, self.node_config())
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
    let ws = bind(config.listen)?;
    let admin = bind(config.admin_listen)?;
    log::info!(
        "room server listening on ws://{} (admin http://{}), app id {}, {}",
        ws.local_addr()?,
        admin.local_addr()?,
        config.app_id,
        if config.server_secret.is_some() { "tokens checked" } else { "no authentication" }
    );
    session::serve(ws, admin, config.memory_node(), async {
        shutdown.await;
        Stop::Graceful
    })
    .await
}

/// Binds both listeners (so "address in use" is an `Err` here) and runs the server on its own
/// thread with a 2-worker runtime.
pub fn start(config: ServerConfig) -> io::Result<ServerHandle> {
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
    let node = config.memory_node();
    let thread = std::thread::Builder::new().name("zego-room-server-main".into()).spawn(move || {
        let res = rt.block_on(session::serve(ws, admin, node, async {
            // A dropped handle means nobody can stop us politely: behave as a graceful stop.
            stop_rx.await.unwrap_or(Stop::Graceful)
        }));
        if let Err(e) = res {
            log::error!("room server stopped with an error: {e}");
        }
        // Dropping the runtime cancels every remaining task and closes every socket.
        rt.shutdown_timeout(Duration::from_secs(1));
    })?;
    log::info!("room server listening on ws://{ws_addr} (admin http://{admin_addr})");
    Ok(ServerHandle { ws_addr, admin_addr, stop: Some(stop_tx), thread: Some(thread) })
}

/// A server started by [`start`]. Dropping it stops the server gracefully (without waiting).
pub struct ServerHandle {
    ws_addr: SocketAddr,
    admin_addr: SocketAddr,
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
    /// `ws://IP:PORT` for engine profiles.
    pub fn url(&self) -> String {
        format!("ws://{}", self.ws_addr)
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

