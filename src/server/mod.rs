//! The room server (`zego-room-server`), embeddable in-process for examples and tests.
//!
//! Layout: [`store`] is the room state behind one interface (in memory by default; Redis for a
//! cluster of nodes, contract §8, with [`ServerConfig::redis`]), [`node`] is this process's sessions and connections and turns store events into
//! messages, `session` is the async shell (WebSocket accept, per-connection tasks, periodic
//! tasks), [`admin`] is the ZEGO-style admin HTTP API and a tiny blocking client for it. [`start`]
//! runs everything on its own thread and runtime so tests and examples need no async setup;
//! [`run`] is the same server for an existing runtime (the binary).

pub mod admin;
pub mod config;
pub mod metrics;
pub mod node;
mod session;
#[cfg(test)]
mod shell_tests;
pub mod store;
pub mod tls;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::oneshot;

pub use node::{Node, NodeConfig};
use store::memory::MemoryStore;
use store::redis::{RedisConfig, RedisStore};
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
    /// Names this node in logs and in the cluster's store (default: random).
    pub node_id: Option<String>,
    /// `--tls-cert`: PEM certificate chain (leaf first). With `tls_key`, the signalling listener
    /// serves `wss://` and the admin listener `https://` (contract §9); both or neither.
    pub tls_cert: Option<PathBuf>,
    /// `--tls-key`: PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// `--redis URL`: join the cluster of nodes that share this Redis (contract §8); `None`
    /// keeps all room state in this process (the embedded default).
    pub redis: Option<String>,
    /// `--redis-prefix`: prefix of every key and channel in Redis (the app id follows it), so
    /// two clusters can share one Redis.
    pub redis_prefix: String,
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
            tls_cert: None,
            tls_key: None,
            redis: None,
            redis_prefix: DEFAULT_REDIS_PREFIX.to_owned(),
        }
    }
}

/// Default `--redis-prefix`.
pub const DEFAULT_REDIS_PREFIX: &str = "zego-room";

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

    fn memory_node(&self, node: NodeConfig) -> Arc<Node<MemoryStore>> {
        let store = Arc::new(MemoryStore::new(self.store_config(), Instant::now()));
        Node::new(store, node)
    }

    /// Needs a tokio runtime (the store's background tasks).
    fn redis_node(&self, url: &str, node: NodeConfig) -> io::Result<Arc<Node<RedisStore>>> {
        let rc = RedisConfig::new(url, self.redis_prefix.clone(), self.app_id, node.node_id.clone());
        let store = RedisStore::connect(self.store_config(), rc).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        Ok(Node::new(Arc::new(store), node))
    }

    /// Checks what can be checked before anything runs (the Redis URL's syntax).
    fn check(&self) -> io::Result<()> {
        if let Some(url) = &self.redis {
            ::redis::Client::open(url.as_str()).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("bad --redis URL {url:?}: {e}")))?;
            if self.redis_prefix.is_empty() {
                return Err(io::Error::new(io::ErrorKind::InvalidInput, "--redis-prefix must not be empty"));
            }
        }
        Ok(())
    }
}

/// Runs the node with the store the configuration asks for.
async fn serve_configured(
    config: ServerConfig,
    ws: std::net::TcpListener,
    admin: std::net::TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    stop: impl Future<Output = Stop>,
) -> io::Result<()> {
    let node = config.node_config();
    match config.redis.clone() {
        None => session::serve(ws, admin, config.memory_node(node), tls, stop).await,
        Some(url) => {
            let node = config.redis_node(&url, node)?;
            log::info!("node {}: cluster mode, room state in Redis {url} (prefix {}:{})", node.config().node_id, config.redis_prefix, config.app_id);
            if !node.store.wait_healthy(Duration::from_secs(3)).await {
                log::warn!("Redis {url} is not reachable yet: logins are refused until it is");
            }
            session::serve(ws, admin, node, tls, stop).await
        }
    }
}

impl ServerConfig {
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

/// Pending connections the kernel may queue before the accept loop takes them. std's `bind`
/// uses 128, which a burst of reconnecting clients overflows: their SYNs are dropped and they wait
/// out TCP's retransmission backoff (1, 3, 7, 15 … s). The kernel caps it at `somaxconn`.
const ACCEPT_BACKLOG: i32 = 4096;

fn bind(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let listen = || -> io::Result<std::net::TcpListener> {
        let s = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
        s.set_reuse_address(true)?;
        s.bind(&addr.into())?;
        s.listen(ACCEPT_BACKLOG)?;
        s.set_nonblocking(true)?;
        Ok(s.into())
    };
    listen().map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))
}

/// Runs the server until `shutdown` completes, then closes every session gracefully.
/// Binding errors (address in use) are returned before anything runs.
pub async fn run(config: ServerConfig, shutdown: impl Future<Output = ()>) -> io::Result<()> {
    let tls = config.tls()?;
    config.check()?;
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
    serve_configured(config, ws, admin, tls, async {
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
    config.check()?;
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
    let thread = std::thread::Builder::new().name("zego-room-server-main".into()).spawn(move || {
        let res = rt.block_on(serve_configured(config, ws, admin, tls, async {
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

