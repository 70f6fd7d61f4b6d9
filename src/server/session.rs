//! The async shell around the [`Node`]: listeners, one task per WebSocket connection, the
//! periodic tasks, and the shutdown sequence.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::node::{ConnQueue, Flow, Next, Node, Outgoing};
use super::store::RoomStore;
use super::{admin, Stop};
use crate::protocol::{ClientMsg, MAX_CLIENT_FRAME_BYTES};

/// A connection must complete the WebSocket handshake and send its login within this time.
const LOGIN_DEADLINE: Duration = Duration::from_secs(10);
/// How long we wait for the peer's close frame after sending ours.
const CLOSE_HANDSHAKE: Duration = Duration::from_secs(2);
/// A write that cannot complete for this long means the peer stopped reading: drop it rather
/// than keep a task and a socket blocked forever.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Heartbeats to the store and the reaper.
const FLUSH: Duration = Duration::from_millis(100);
/// Silent-connection check.
const SILENCE_CHECK: Duration = Duration::from_millis(250);

/// Small buffers: most sessions are idle and only exchange pings, so memory per session matters
/// more than throughput (20,000 sessions must fit comfortably). The read buffer is what one read
/// asks the socket for; a longer frame (a login, a message) gets room for its whole length.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(256)
        .write_buffer_size(0)
        .max_write_buffer_size(64 * 1024 * 1024)
        .max_message_size(Some(MAX_CLIENT_FRAME_BYTES))
        .max_frame_size(Some(MAX_CLIENT_FRAME_BYTES))
}

fn every(period: Duration) -> tokio::time::Interval {
    let mut iv = tokio::time::interval(period);
    iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    iv
}

/// Runs everything until `stop` resolves. Graceful: closes every connection with a close frame
/// and waits (bounded) for the connection tasks; Kill: returns at once and lets the caller drop
/// the runtime, which drops every socket without a close frame.
pub(super) async fn serve<S: RoomStore>(
    ws: std::net::TcpListener,
    admin_l: std::net::TcpListener,
    node: Arc<Node<S>>,
    tls: Option<Arc<rustls::ServerConfig>>,
    stop: impl Future<Output = Stop>,
) -> io::Result<()> {
    let tls = tls.map(tokio_rustls::TlsAcceptor::from);
    let ws = TcpListener::from_std(ws)?;
    let admin_l = TcpListener::from_std(admin_l)?;
    // Every connection task holds a clone; when all are gone, `recv` returns None.
    let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);

    let accept = tokio::spawn(accept_loop(ws, node.clone(), alive_tx.clone(), tls.clone()));
    let admin_task = tokio::spawn(admin::serve(admin_l, node.clone(), tls));
    let n = node.clone();
    let flusher = tokio::spawn(async move {
        let mut iv = every(FLUSH);
        loop {
            iv.tick().await;
            n.flush(Instant::now()).await;
        }
    });
    let n = node.clone();
    let silence = tokio::spawn(async move {
        let mut iv = every(SILENCE_CHECK);
        loop {
            iv.tick().await;
            n.check_silence(Instant::now()).await;
        }
    });
    let n = node.clone();
    let counts = tokio::spawn(async move {
        let mut iv = every(n.config().count_interval);
        iv.tick().await;
        loop {
            iv.tick().await;
            n.send_counts();
        }
    });

    let how = stop.await;
    for t in [accept, admin_task, flusher, silence, counts] {
        t.abort();
    }
    if how == Stop::Kill {
        log::info!("room server killed");
        return Ok(());
    }
    log::info!("room server shutting down: closing all sessions");
    node.close_all(CloseCode::Away);
    drop(alive_tx);
    let _ = tokio::time::timeout(CLOSE_HANDSHAKE + Duration::from_secs(1), alive_rx.recv()).await;
    log::info!("room server stopped");
    Ok(())
}

async fn accept_loop<S: RoomStore>(l: TcpListener, node: Arc<Node<S>>, alive: mpsc::Sender<()>, tls: Option<tokio_rustls::TlsAcceptor>) {
    loop {
        match l.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let (node, alive) = (node.clone(), alive.clone());
                match tls.clone() {
                    None => drop(tokio::spawn(connection(stream, peer, node, alive))),
                    // The handshake runs in the connection's own task (bounded), never in this loop.
                    Some(acceptor) => drop(tokio::spawn(async move {
                        match super::tls::handshake(&acceptor, stream).await {
                            Ok(stream) => connection(stream, peer, node, alive).await,
                            Err(e) => log::warn!("{peer}: TLS handshake failed: {e}"),
                        }
                    })),
                }
            }
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                log::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn close_ws<T: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocketStream<T>, code: CloseCode, reason: &str) {
    let frame = CloseFrame { code, reason: reason.into() };
    if let Ok(Ok(())) = tokio::time::timeout(CLOSE_HANDSHAKE, ws.close(Some(frame))).await {
        // Finish the handshake so the peer reads our close frame before the socket goes away.
        let _ = tokio::time::timeout(CLOSE_HANDSHAKE, async { while let Some(Ok(_)) = ws.next().await {} }).await;
    }
}

/// Signalling messages up to this size go out as one WebSocket frame; longer ones as several
/// frames of [`FRAGMENT`] bytes (a fragmented message, RFC 6455 §5.4, reassembled by the peer's
/// WebSocket layer). The write buffer of a connection keeps the capacity of the largest frame it
/// ever wrote, so this bounds the memory an idle session holds after, say, a `login_ok` listing
/// 99 users: ~256 bytes (issue 12: 1 KiB fragments cost ~500 bytes more per session).
const MAX_FRAME_OUT: usize = 512;
const FRAGMENT: usize = 256;
/// SEI frames (binary) keep 1 KiB fragments: only players hold them, and 256-byte fragments cost a
/// write each (16 per 4 KiB frame), which slowed the SEI path for every player.
const SEI_FRAGMENT: usize = 1024;

/// `msg` as the frames to write: itself if small, else fragments (see the constants above).
fn frames(msg: Message) -> Vec<Message> {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    let (bytes, first, size) = match msg {
        Message::Text(t) if t.len() > MAX_FRAME_OUT => (bytes::Bytes::from(t), Data::Text, FRAGMENT),
        Message::Binary(b) if b.len() > SEI_FRAGMENT => (b, Data::Binary, SEI_FRAGMENT),
        small => return vec![small],
    };
    let n = bytes.len().div_ceil(size);
    (0..n)
        .map(|i| {
            let chunk = bytes.slice(i * size..((i + 1) * size).min(bytes.len()));
            let opcode = OpCode::Data(if i == 0 { first } else { Data::Continue });
            Message::Frame(Frame::message(chunk, opcode, i + 1 == n))
        })
        .collect()
}

async fn write<T: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocketStream<T>, peer: SocketAddr, msg: Message) -> bool {
    for frame in frames(msg) {
        if !write_frame(ws, peer, frame).await {
            return false;
        }
    }
    true
}

async fn write_frame<T: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocketStream<T>, peer: SocketAddr, msg: Message) -> bool {
    match tokio::time::timeout(WRITE_TIMEOUT, ws.send(msg)).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            log::debug!("{peer}: send failed: {e}");
            false
        }
        Err(_) => {
            log::warn!("{peer}: closing session: peer not reading for {WRITE_TIMEOUT:?}");
            false
        }
    }
}

/// One WebSocket session over `stream` (TCP, or TLS over TCP).
async fn connection<S: RoomStore, T: AsyncRead + AsyncWrite + Unpin>(stream: T, peer: SocketAddr, node: Arc<Node<S>>, _alive: mpsc::Sender<()>) {
    // Boxed and dropped after the login: the timer would otherwise sit in every idle session.
    let mut deadline = Some(Box::pin(tokio::time::sleep(LOGIN_DEADLINE)));
    // Boxed: the handshake's state is needed once, not for the session's life.
    let mut ws = tokio::select! {
        r = Box::pin(tokio_tungstenite::accept_async_with_config(stream, Some(ws_config()))) => match r {
            Ok(ws) => ws,
            Err(e) => {
                log::warn!("{peer}: WebSocket handshake failed: {e}");
                return;
            }
        },
        _ = deadline.as_mut().expect("set above") => {
            log::warn!("{peer}: no WebSocket handshake within {LOGIN_DEADLINE:?}");
            return;
        }
    };
    let queue = Arc::new(ConnQueue::default());
    let conn = node.open_conn(queue.clone(), peer);
    let mut got_first = false;

    'session: loop {
        // Write what waits: signalling first, then SEI.
        loop {
            match queue.next() {
                Next::Control(Outgoing::Text(t)) => {
                    if !Box::pin(write(&mut ws, peer, Message::Text(t))).await {
                        break 'session;
                    }
                }
                Next::Control(Outgoing::Close(code)) => {
                    Box::pin(close_ws(&mut ws, code, "")).await;
                    break 'session;
                }
                Next::Sei(frame) => {
                    if !Box::pin(write(&mut ws, peer, Message::Binary(frame))).await {
                        break 'session;
                    }
                }
                Next::Closed => break 'session,
                Next::Idle => break,
            }
        }
        let flow = tokio::select! {
            biased;
            _ = queue.ready.notified() => Flow::Continue,
            m = ws.next() => match m {
                None => break,
                Some(Err(e)) => {
                    // Oversized frames land here too (capacity error).
                    log::warn!("{peer}: closing session: {e}");
                    Flow::Close(CloseCode::Policy, "bad frame")
                }
                Some(Ok(Message::Text(t))) => match ClientMsg::decode(t.as_str()) {
                    Ok(msg) => {
                        got_first = true;
                        deadline = None;
                        // Boxed: the login path's state is large and needed only while a frame is
                        // handled; inline it would sit in every idle connection's task.
                        Box::pin(node.on_text(conn, msg)).await
                    }
                    Err(e) => {
                        log::warn!("{peer}: closing session: malformed frame: {e}");
                        Flow::Close(CloseCode::Policy, "malformed frame")
                    }
                },
                Some(Ok(Message::Binary(data))) => {
                    if got_first {
                        Box::pin(node.on_binary(conn, &data)).await
                    } else {
                        log::warn!("{peer}: closing session: binary frame before login");
                        Flow::Close(CloseCode::Unsupported, "login first")
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {
                    node.touch(conn);
                    Flow::Continue
                }
                Some(Ok(Message::Close(_))) | Some(Ok(Message::Frame(_))) => Flow::Continue,
            },
            _ = async { deadline.as_mut().expect("until the first frame").await }, if !got_first => {
                log::warn!("{peer}: closing session: no login within {LOGIN_DEADLINE:?}");
                Flow::Close(CloseCode::Policy, "login timeout")
            }
        };
        if let Flow::Close(code, reason) = flow {
            // Flush what the node queued before the close (a login_failed, a kicked).
            while let Next::Control(Outgoing::Text(t)) = queue.next() {
                if !Box::pin(write(&mut ws, peer, Message::Text(t))).await {
                    break;
                }
            }
            Box::pin(close_ws(&mut ws, code, reason)).await;
            break;
        }
    }
    Box::pin(node.conn_closed(conn)).await;
}


#[cfg(test)]
mod tests {
    use super::*;

    /// The connection task's future lives as long as the connection: its size is memory per
    /// session (BENCHMARKS.md, issue 12). Printed, and bounded so a change that inlines a large
    /// state into it shows up here.
    #[tokio::test]
    async fn connection_future_stays_small() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let _client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (stream, peer) = l.accept().await.unwrap();
        let cfg = super::super::ServerConfig::default();
        let node = cfg.memory_node(cfg.node_config());
        let (alive, _rx) = mpsc::channel::<()>(1);
        let fut = connection(stream, peer, node, alive);
        let size = std::mem::size_of_val(&fut);
        eprintln!("connection future: {size} bytes");
        eprintln!(
            "ws {} sleep {} notified {} tcp {}",
            std::mem::size_of::<WebSocketStream<tokio::net::TcpStream>>(),
            std::mem::size_of::<tokio::time::Sleep>(),
            std::mem::size_of::<tokio::sync::futures::Notified<'static>>(),
            std::mem::size_of::<tokio::net::TcpStream>()
        );
        assert!(size <= 900, "connection future {size} bytes (was 1,344 before the login timer and the writes were boxed)");
    }
}
