//! Fault-injecting TCP proxy for integration tests.
//!
//! `FaultProxy::start(upstream)` listens on `127.0.0.1:0` and forwards every accepted
//! connection to `upstream`. The test can then inject network faults:
//!
//! * [`FaultProxy::close_all`] – orderly close (FIN) of both sides of every connection;
//! * [`FaultProxy::reset_all`] – abortive close (RST, `SO_LINGER` 0) of both sides;
//! * [`FaultProxy::set_blackhole`] – nothing moves in either direction (bytes are held in
//!   kernel buffers / the proxy, not dropped, and flow again when the blackhole ends);
//! * [`FaultProxy::set_refuse`] – new connections are accepted and immediately reset;
//! * [`FaultProxy::set_delay`] – added one-way latency for every chunk in both directions.
//!
//! The API is blocking and can be used from plain `#[test]` functions (and also from
//! inside async tests: the proxy runs its own thread with a current-thread tokio runtime).
//! Dropping the proxy stops accepting, closes every connection and joins the thread.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// How long `close_all` / `reset_all` wait for the proxy thread to confirm.
const ACK_TIMEOUT: Duration = Duration::from_secs(3);
/// After an orderly close, how long the proxy keeps draining (discarding) what the peers
/// still send, so that closing the socket does not turn the FIN into an RST.
const LINGER_DRAIN: Duration = Duration::from_secs(2);
/// Read buffer size per pump direction.
const CHUNK: usize = 16 * 1024;
/// Chunks buffered between the reading and the writing side of one direction.
const QUEUE: usize = 32;

/// Kind of network failure for [`FaultProxy::cut`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Orderly close (FIN) of every connection, and refuse new ones.
    Close,
    /// Abortive close (RST) of every connection, and refuse new ones.
    Reset,
    /// Silently hold every byte in both directions (existing and new connections).
    Blackhole,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmdKind {
    Close,
    Reset,
}

struct Cmd {
    kind: CmdKind,
    /// Dropped once the command has been carried out (the waiter sees a disconnect).
    _ack: Option<std_mpsc::Sender<()>>,
}

struct Shared {
    upstream: SocketAddr,
    blackhole: watch::Sender<bool>,
    refuse: AtomicBool,
    delay_ns: AtomicU64,
    attempts: AtomicUsize,
    next_id: AtomicU64,
    conns: Mutex<HashMap<u64, mpsc::UnboundedSender<Cmd>>>,
}

impl Shared {
    fn deadline(&self) -> Option<Instant> {
        match self.delay_ns.load(Ordering::SeqCst) {
            0 => None,
            ns => Some(Instant::now() + Duration::from_nanos(ns)),
        }
    }

    /// Takes every registered connection out of the registry and sends it `kind`.
    /// Returns a receiver that disconnects once all of them have carried it out.
    fn command_all(&self, kind: CmdKind) -> std_mpsc::Receiver<()> {
        let (ack_tx, ack_rx) = std_mpsc::channel();
        let conns: Vec<_> = self.conns.lock().drain().collect();
        for (_, tx) in conns {
            let _ = tx.send(Cmd { kind, _ack: Some(ack_tx.clone()) });
        }
        ack_rx
    }
}

/// A fault-injecting TCP proxy. See the module documentation.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts a proxy on `127.0.0.1:0` forwarding to `upstream`.
    pub fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("fault proxy: bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("fault proxy: set_nonblocking");
        let addr = listener.local_addr().expect("fault proxy: local_addr");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("fault proxy: build tokio runtime");
        let (blackhole, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            upstream,
            blackhole,
            refuse: AtomicBool::new(false),
            delay_ns: AtomicU64::new(0),
            attempts: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
            conns: Mutex::new(HashMap::new()),
        });
        let (shutdown_tx, shutdown_rx) = oneshot::channel();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("fault-proxy-{}", addr.port()))
            .spawn(move || {
                rt.block_on(run(listener, thread_shared, shutdown_rx));
                // Dropping the runtime cancels whatever is left (lingering drains).
                drop(rt);
            })
            .expect("fault proxy: spawn thread");
        log::debug!("fault proxy {addr} -> {upstream} started");
        FaultProxy { addr, shared, shutdown: Some(shutdown_tx), thread: Some(thread) }
    }

    /// The address the proxy listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://<addr>`.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// The upstream address connections are forwarded to.
    pub fn upstream(&self) -> SocketAddr {
        self.shared.upstream
    }

    /// Orderly close (FIN) of both sides of every current connection. Returns once done.
    pub fn close_all(&self) {
        wait_acks(self.shared.command_all(CmdKind::Close));
    }

    /// Abortive close (RST) of both sides of every current connection. Returns once done.
    pub fn reset_all(&self) {
        wait_acks(self.shared.command_all(CmdKind::Reset));
    }

    /// While on, no byte moves in either direction on any connection, existing or new.
    /// New connections are still accepted. Held bytes flow again when switched off.
    pub fn set_blackhole(&self, on: bool) {
        self.shared.blackhole.send_replace(on);
    }

    /// While on, new connections are accepted and immediately reset.
    pub fn set_refuse(&self, on: bool) {
        self.shared.refuse.store(on, Ordering::SeqCst);
    }

    /// Added one-way latency for every chunk in both directions (zero = none).
    pub fn set_delay(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.shared.delay_ns.store(ns, Ordering::SeqCst);
    }

    /// Number of connections accepted so far (refused ones included).
    pub fn connection_attempts(&self) -> usize {
        self.shared.attempts.load(Ordering::SeqCst)
    }

    /// Number of connections currently open through the proxy.
    pub fn active_connections(&self) -> usize {
        self.shared.conns.lock().len()
    }

    /// Convenience: `Close`/`Reset` also turn refuse on; `Blackhole` turns blackhole on.
    pub fn cut(&self, how: Cut) {
        match how {
            Cut::Close => {
                self.set_refuse(true);
                self.close_all();
            }
            Cut::Reset => {
                self.set_refuse(true);
                self.reset_all();
            }
            Cut::Blackhole => self.set_blackhole(true),
        }
    }

    /// Refuse off, blackhole off (the delay is left as it is).
    pub fn restore(&self) {
        self.set_refuse(false);
        self.set_blackhole(false);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        log::debug!("fault proxy {} stopped", self.addr);
    }
}

fn wait_acks(rx: std_mpsc::Receiver<()>) {
    let until = std::time::Instant::now() + ACK_TIMEOUT;
    loop {
        let left = until.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(()) => continue,
            Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
            Err(std_mpsc::RecvTimeoutError::Timeout) => {
                log::warn!("fault proxy: connections did not confirm the command in time");
                return;
            }
        }
    }
}

async fn run(listener: std::net::TcpListener, shared: Arc<Shared>, shutdown: oneshot::Receiver<()>) {
    let listener = match TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            log::error!("fault proxy: cannot register listener: {e}");
            return;
        }
    };
    let mut tasks = JoinSet::new();
    tokio::select! {
        _ = shutdown => {}
        _ = accept_loop(listener, &shared, &mut tasks) => {}
    }
    // The listener is dropped here: no more connections. Close the existing ones.
    let _acks = shared.command_all(CmdKind::Close);
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
}

async fn accept_loop(listener: TcpListener, shared: &Arc<Shared>, tasks: &mut JoinSet<()>) {
    loop {
        while tasks.try_join_next().is_some() {}
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                log::warn!("fault proxy: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        shared.attempts.fetch_add(1, Ordering::SeqCst);
        if shared.refuse.load(Ordering::SeqCst) {
            abort(stream);
            continue;
        }
        let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = mpsc::unbounded_channel();
        shared.conns.lock().insert(id, tx);
        tasks.spawn(handle_conn(id, stream, shared.clone(), rx));
    }
}

/// Removes the connection from the registry when its task ends, however it ends.
struct Registered {
    id: u64,
    shared: Arc<Shared>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.shared.conns.lock().remove(&self.id);
    }
}

enum Outcome {
    Cmd(Option<Cmd>),
    Done(io::Result<()>),
}

async fn handle_conn(id: u64, client: TcpStream, shared: Arc<Shared>, mut cmds: mpsc::UnboundedReceiver<Cmd>) {
    let _registered = Registered { id, shared: shared.clone() };
    let _ = client.set_nodelay(true);

    // A blackholed network does not let the connection reach the server either.
    let mut bh = shared.blackhole.subscribe();
    let connect = async {
        if bh.wait_for(|on| !*on).await.is_err() {
            return None;
        }
        Some(TcpStream::connect(shared.upstream).await)
    };
    let upstream = tokio::select! {
        cmd = cmds.recv() => {
            apply(cmd, vec![client]).await;
            return;
        }
        res = connect => match res {
            Some(Ok(s)) => s,
            Some(Err(e)) => {
                log::debug!("fault proxy: connect to {} failed: {e}", shared.upstream);
                abort(client);
                return;
            }
            None => return,
        }
    };
    let _ = upstream.set_nodelay(true);

    let mut client = client;
    let mut upstream = upstream;
    let outcome = {
        let (cr, cw) = client.split();
        let (ur, uw) = upstream.split();
        let pumps = async { tokio::try_join!(pump(cr, uw, &shared), pump(ur, cw, &shared)) };
        tokio::select! {
            cmd = cmds.recv() => Outcome::Cmd(cmd),
            res = pumps => Outcome::Done(res.map(|_| ())),
        }
    };
    match outcome {
        Outcome::Cmd(cmd) => apply(cmd, vec![client, upstream]).await,
        Outcome::Done(Ok(())) => {} // both directions saw EOF and forwarded it
        Outcome::Done(Err(e)) => {
            log::debug!("fault proxy: connection {id} failed ({e}); resetting both sides");
            abort(client);
            abort(upstream);
        }
    }
}

/// Carries out a command on the given streams. `None` (registry gone) means close.
async fn apply(cmd: Option<Cmd>, streams: Vec<TcpStream>) {
    let kind = cmd.as_ref().map_or(CmdKind::Close, |c| c.kind);
    match kind {
        CmdKind::Reset => streams.into_iter().for_each(abort),
        CmdKind::Close => {
            let mut streams = streams;
            for s in &mut streams {
                let _ = s.shutdown().await;
            }
            // Keep reading (and discarding) for a while so that unread incoming data
            // does not make the kernel answer with an RST instead of a clean FIN.
            for mut s in streams {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; CHUNK];
                    let _ = tokio::time::timeout(LINGER_DRAIN, async {
                        while let Ok(n) = s.read(&mut buf).await {
                            if n == 0 {
                                break;
                            }
                        }
                    })
                    .await;
                });
            }
        }
    }
    drop(cmd); // acknowledges
}

/// Abortive close: RST instead of FIN.
fn abort(stream: TcpStream) {
    #[allow(deprecated)] // SO_LINGER 0 does not block on drop
    let _ = stream.set_linger(Some(Duration::ZERO));
    drop(stream);
}

enum Msg {
    Data(Vec<u8>),
    Eof,
    Err(io::Error),
}

/// One direction: a reader filling a queue and a writer emptying it, so that the delay
/// is real latency (not a throughput limit). Both stop while the blackhole is on; a
/// chunk read just before it went on is held by the writer until it ends.
async fn pump<R, W>(mut r: R, mut w: W, shared: &Shared) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (tx, mut rx) = mpsc::channel::<(Option<Instant>, Msg)>(QUEUE);
    let mut bh_r = shared.blackhole.subscribe();
    let mut bh_w = shared.blackhole.subscribe();
    let reader = async move {
        let mut buf = vec![0u8; CHUNK];
        loop {
            if bh_r.wait_for(|on| !*on).await.is_err() {
                return Ok(());
            }
            let msg = match r.read(&mut buf).await {
                Ok(0) => Msg::Eof,
                Ok(n) => Msg::Data(buf[..n].to_vec()),
                Err(e) => Msg::Err(e),
            };
            let last = !matches!(msg, Msg::Data(_));
            if tx.send((shared.deadline(), msg)).await.is_err() || last {
                return Ok::<(), io::Error>(());
            }
        }
    };
    let writer = async move {
        while let Some((deadline, msg)) = rx.recv().await {
            if let Some(deadline) = deadline {
                tokio::time::sleep_until(deadline).await;
            }
            if bh_w.wait_for(|on| !*on).await.is_err() {
                return Ok(());
            }
            match msg {
                Msg::Data(data) => w.write_all(&data).await?,
                Msg::Eof => {
                    w.shutdown().await?;
                    return Ok(());
                }
                Msg::Err(e) => return Err(e),
            }
        }
        Ok(())
    };
    tokio::try_join!(reader, writer).map(|_| ())
}
