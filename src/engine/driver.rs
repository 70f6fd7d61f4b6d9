//! The engine's driver: one task on the library's shared I/O runtime that owns the engine's
//! WebSockets, performs the core's outputs, feeds connection news and timer expiries back into the
//! core.
//!
//! Every engine of the process runs on the same small runtime ([`runtime`]): 1–2 worker threads
//! named `zego-room-io`, started when the first engine is created and kept for the life of the
//! process. A driver never blocks (the core is behind a short lock; callbacks run elsewhere), so
//! one engine's traffic does not hold up another's for longer than one frame's handling.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::Shared;
use crate::core::{ConnId, Output};
use crate::protocol::{ClientMsg, ServerMsg, MAX_SERVER_FRAME_BYTES};

/// Everything the driver thread is told, by the API (outputs of the core) or its connections.
pub(crate) enum DriverMsg {
    Output(Output),
    /// Timers may have changed: recompute the next deadline.
    Wake,
    Connected(ConnId),
    Frame(ConnId, ServerMsg),
    /// A binary frame (SEI side data).
    Binary(ConnId, Vec<u8>),
    Disconnected(ConnId),
    /// The attempt failed for a reason the app developer must see (TLS: certificate not trusted,
    /// expired, for another host); logged once per room, then handled as `Disconnected`.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    ConnectFailed(ConnId, String),
    /// Finish queued goodbyes (bounded), then end the thread.
    Shutdown,
}

enum ConnCmd {
    Send(ClientMsg),
    SendBinary(Vec<u8>),
    Close,
}

/// How long goodbyes (logout frames, close handshakes) may take when leaving or shutting down.
pub(crate) const GOODBYE_TIMEOUT: Duration = Duration::from_millis(500);

static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();

/// The I/O runtime all engines share, started on first use: one worker per core, at most 2, and at
/// most 2 threads for blocking work (name lookups of `ws://host` URLs), all named `zego-room-io`.
pub(crate) fn runtime() -> Result<&'static tokio::runtime::Runtime, String> {
    RUNTIME
        .get_or_init(|| {
            let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 2);
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .max_blocking_threads(2)
                .thread_name("zego-room-io")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The engine's driver task. `_done` is dropped when the task ends (also by a panic), which is
/// what `destroy` waits for.
pub(crate) async fn run(shared: Arc<Shared>, tx: UnboundedSender<DriverMsg>, mut rx: UnboundedReceiver<DriverMsg>, _done: std::sync::mpsc::SyncSender<()>) {
    {
        let mut conns: HashMap<ConnId, UnboundedSender<ConnCmd>> = HashMap::new();
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            let deadline = shared.next_deadline();
            let msg = match deadline {
                Some(at) => {
                    tokio::select! {
                        m = rx.recv() => m,
                        _ = tokio::time::sleep_until(tokio::time::Instant::from_std(at)) => {
                            let _ = shared.with_core(|core| core.handle_timeout(Instant::now()));
                            continue;
                        }
                    }
                }
                None => rx.recv().await,
            };
            let Some(msg) = msg else { break };
            match msg {
                DriverMsg::Output(Output::Connect { conn, url }) => match tls_for(&shared, &url) {
                    Ok(tls) => {
                        let (ctx, crx) = unbounded_channel();
                        conns.insert(conn, ctx);
                        tasks.spawn(connection(conn, url, tls, crx, tx.clone()));
                    }
                    Err(reason) => {
                        let reason = format!("TLS with {url} unavailable: {reason}");
                        let _ = shared.with_core(|core| core.on_connect_failed(conn, &reason, Instant::now()));
                    }
                },
                DriverMsg::Output(Output::Send { conn, msg }) => {
                    if let Some(c) = conns.get(&conn) {
                        let _ = c.send(ConnCmd::Send(msg));
                    }
                }
                DriverMsg::Output(Output::SendBinary { conn, data }) => {
                    if let Some(c) = conns.get(&conn) {
                        let _ = c.send(ConnCmd::SendBinary(data));
                    }
                }
                DriverMsg::Output(Output::Close { conn }) => {
                    if let Some(c) = conns.remove(&conn) {
                        let _ = c.send(ConnCmd::Close);
                    }
                }
                DriverMsg::Output(Output::Event(_)) | DriverMsg::Wake => {}
                DriverMsg::Connected(conn) => {
                    let _ = shared.with_core(|core| core.on_connected(conn, Instant::now()));
                }
                DriverMsg::Frame(conn, frame) => {
                    let _ = shared.with_core(|core| core.on_frame(conn, frame, Instant::now()));
                }
                DriverMsg::Binary(conn, data) => {
                    let _ = shared.with_core(|core| core.on_binary(conn, &data, Instant::now()));
                }
                DriverMsg::Disconnected(conn) => {
                    conns.remove(&conn);
                    let _ = shared.with_core(|core| core.on_disconnected(conn, Instant::now()));
                }
                DriverMsg::ConnectFailed(conn, reason) => {
                    conns.remove(&conn);
                    let _ = shared.with_core(|core| core.on_connect_failed(conn, &reason, Instant::now()));
                }
                DriverMsg::Shutdown => {
                    // Outputs queued before Shutdown (logout frames, closes) were handled above.
                    for (_, c) in conns.drain() {
                        let _ = c.send(ConnCmd::Close);
                    }
                    let _ = tokio::time::timeout(GOODBYE_TIMEOUT * 2, async { while tasks.join_next().await.is_some() {} }).await;
                    break;
                }
            }
            // Reap finished connection tasks so they do not pile up.
            while tasks.try_join_next().is_some() {}
        }
    }
}

/// The TLS client configuration a connection to `url` needs: `None` for `ws://`; for `wss://` the
/// engine's (built on first use, then kept). `Err` names why TLS cannot be used at all.
#[cfg(feature = "tls")]
fn tls_for(shared: &Shared, url: &str) -> Result<Option<Arc<rustls::ClientConfig>>, String> {
    if !url.get(..6).is_some_and(|s| s.eq_ignore_ascii_case("wss://")) {
        return Ok(None);
    }
    let mut slot = shared.tls.lock();
    if let Some(config) = slot.as_ref() {
        return Ok(Some(config.clone()));
    }
    let config = super::tls::client_config()?;
    *slot = Some(config.clone());
    Ok(Some(config))
}

#[cfg(not(feature = "tls"))]
fn tls_for(_shared: &Shared, _url: &str) -> Result<(), String> {
    Ok(()) // wss:// URLs are refused when the engine is created
}

#[cfg(feature = "tls")]
type TlsConfig = Option<Arc<rustls::ClientConfig>>;
#[cfg(not(feature = "tls"))]
type TlsConfig = ();

/// A connection's byte stream, TCP or TLS over TCP, as one type so that the WebSocket code below
/// is compiled once.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Why an attempt could not be opened: TLS (logged once per room) or anything else (debug only).
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
enum OpenError {
    Tls(String),
    Other(String),
}

/// TCP (no Nagle), then TLS for `wss://` with the engine's configuration, then the WebSocket
/// handshake. Done here rather than by tokio-tungstenite's `connect_async` so that its fallback
/// TLS setup (rustls' default provider with every algorithm of ring) is not linked in.
async fn open(url: &str, tls: TlsConfig) -> Result<WebSocketStream<Box<dyn Io>>, OpenError> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let other = |e: &dyn std::fmt::Display| OpenError::Other(e.to_string());
    let request = url.into_client_request().map_err(|e| other(&e))?;
    let wss = request.uri().scheme_str() == Some("wss");
    // IPv6 literals come bracketed in URLs; sockets and TLS names want them bare.
    let host = request.uri().host().unwrap_or("").trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = request.uri().port_u16().unwrap_or(if wss { 443 } else { 80 });
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await.map_err(|e| other(&e))?;
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Io> = if wss {
        #[cfg(feature = "tls")]
        {
            let name = rustls::pki_types::ServerName::try_from(host).map_err(|e| OpenError::Tls(format!("bad host name: {e}")))?;
            let config = tls.ok_or_else(|| OpenError::Tls("no TLS configuration".into()))?;
            match tokio_rustls::TlsConnector::from(config).connect(name, tcp).await {
                Ok(s) => Box::new(s),
                Err(e) => return Err(super::tls::failure_reason(&e).map_or_else(|| other(&e), OpenError::Tls)),
            }
        }
        #[cfg(not(feature = "tls"))]
        {
            let () = tls;
            return Err(OpenError::Other("wss:// needs the tls feature".into()));
        }
    } else {
        Box::new(tcp)
    };
    // The read buffer is what one read asks the socket for, and tungstenite zero-fills it before
    // every read: its default of 128 KiB cost a 128 KiB memset per received frame (10 % of the CPU
    // of `bench fanout` with 1,000 engines) and 128 KiB of memory per engine. 8 KiB still takes a
    // burst of SEI frames in one read; a longer frame gets room for its whole length.
    let config = WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .max_message_size(Some(MAX_SERVER_FRAME_BYTES))
        .max_frame_size(Some(MAX_SERVER_FRAME_BYTES));
    let (ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await.map_err(|e| other(&e))?;
    Ok(ws)
}

/// One WebSocket: opens it, forwards frames both ways, reports the end once.
async fn connection(conn: ConnId, url: String, tls: TlsConfig, mut cmds: UnboundedReceiver<ConnCmd>, tx: UnboundedSender<DriverMsg>) {
    let ws = tokio::select! {
        r = open(&url, tls) => match r {
            Ok(ws) => ws,
            Err(OpenError::Tls(reason)) => {
                let _ = tx.send(DriverMsg::ConnectFailed(conn, format!("TLS with {url} failed: {reason}")));
                return;
            }
            Err(OpenError::Other(e)) => {
                log::debug!("conn {conn}: cannot connect to {url}: {e}");
                let _ = tx.send(DriverMsg::Disconnected(conn));
                return;
            }
        },
        // Closed (or abandoned by the core) while still connecting: nothing to report.
        _ = wait_for_close(&mut cmds) => return,
    };
    let _ = tx.send(DriverMsg::Connected(conn));
    let (mut sink, mut stream) = ws.split();
    loop {
        tokio::select! {
            cmd = cmds.recv() => match cmd {
                Some(ConnCmd::Send(msg)) => {
                    if let Err(e) = sink.send(Message::text(msg.encode())).await {
                        log::debug!("conn {conn}: send failed: {e}");
                        let _ = tx.send(DriverMsg::Disconnected(conn));
                        return;
                    }
                }
                Some(ConnCmd::SendBinary(data)) => {
                    if let Err(e) = sink.send(Message::binary(data)).await {
                        log::debug!("conn {conn}: send failed: {e}");
                        let _ = tx.send(DriverMsg::Disconnected(conn));
                        return;
                    }
                }
                Some(ConnCmd::Close) | None => {
                    // Close politely and wait (bounded) for the server to close too, so nothing
                    // unread is left behind that would turn our close into a reset.
                    let _ = tokio::time::timeout(GOODBYE_TIMEOUT, async {
                        let _ = sink.close().await;
                        while let Some(Ok(_)) = stream.next().await {}
                    })
                    .await;
                    return;
                }
            },
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) => match ServerMsg::decode(text.as_str()) {
                    Ok(msg) => { let _ = tx.send(DriverMsg::Frame(conn, msg)); }
                    Err(e) => {
                        log::warn!("conn {conn}: malformed frame from the server ({e}); dropping the connection");
                        let _ = tx.send(DriverMsg::Disconnected(conn));
                        return;
                    }
                },
                Some(Ok(Message::Binary(data))) => { let _ = tx.send(DriverMsg::Binary(conn, data.to_vec())); }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    let _ = tx.send(DriverMsg::Disconnected(conn));
                    return;
                }
                Some(Ok(_)) => {} // ping/pong: not part of the protocol
            }
        }
    }
}

async fn wait_for_close(cmds: &mut UnboundedReceiver<ConnCmd>) {
    // Sends before the login cannot happen (the core sends its login after Connected).
    while let Some(cmd) = cmds.recv().await {
        if matches!(cmd, ConnCmd::Close) {
            return;
        }
    }
}
