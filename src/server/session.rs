//! The async shell around the [`Hub`](super::Hub): listeners, one task per WebSocket connection,
//! the tick task, and the shutdown sequence.

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

use super::{admin, unix_now, HubConfig, Outgoing, Shared, Stop};
use crate::protocol::{ClientMsg, MAX_CLIENT_FRAME_BYTES};

/// A connection must complete the WebSocket handshake and send its login within this time.
const LOGIN_DEADLINE: Duration = Duration::from_secs(10);
/// How long we wait for the peer's close frame after sending ours.
const CLOSE_HANDSHAKE: Duration = Duration::from_secs(2);
/// A write that cannot complete for this long means the peer stopped reading: drop it rather
/// than keep a task and a socket blocked forever.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
const TICK: Duration = Duration::from_millis(100);

/// Small buffers: most sessions are idle and only exchange pings, so memory per session matters
/// more than throughput (20,000 sessions must fit comfortably).
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .max_write_buffer_size(64 * 1024 * 1024)
        .max_message_size(Some(MAX_CLIENT_FRAME_BYTES))
        .max_frame_size(Some(MAX_CLIENT_FRAME_BYTES))
}

/// Runs everything until `stop` resolves. Graceful: closes every connection with a close frame
/// and waits (bounded) for the connection tasks; Kill: returns at once and lets the caller drop
/// the runtime, which drops every socket without a close frame.
pub(super) async fn serve(
    ws: std::net::TcpListener,
    admin_l: std::net::TcpListener,
    cfg: HubConfig,
    tls: Option<Arc<rustls::ServerConfig>>,
    stop: impl Future<Output = Stop>,
) -> io::Result<()> {
    let tls = tls.map(tokio_rustls::TlsAcceptor::from);
    let ws = TcpListener::from_std(ws)?;
    let admin_l = TcpListener::from_std(admin_l)?;
    let shared = Arc::new(Shared::new(cfg));
    // Every connection task holds a clone; when all are gone, `recv` returns None.
    let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);

    let accept = tokio::spawn(accept_loop(ws, shared.clone(), alive_tx.clone(), tls.clone()));
    let admin_task = tokio::spawn(admin::serve(admin_l, shared.clone(), tls));
    let tick_shared = shared.clone();
    let ticker = tokio::spawn(async move {
        let mut iv = tokio::time::interval(TICK);
        iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            iv.tick().await;
            let mut st = tick_shared.state.lock();
            let outs = st.hub.tick(Instant::now());
            st.deliver(outs);
        }
    });

    let how = stop.await;
    accept.abort();
    admin_task.abort();
    ticker.abort();
    if how == Stop::Kill {
        log::info!("room server killed");
        return Ok(());
    }
    log::info!("room server shutting down: closing all sessions");
    {
        let mut st = shared.state.lock();
        let outs = st.hub.close_all();
        drop(outs); // every attached conn is also in `conns`: close them all below, with Away
        for (_, tx) in st.conns.drain() {
            let _ = tx.try_send(Outgoing::Close(CloseCode::Away));
        }
    }
    drop(alive_tx);
    let _ = tokio::time::timeout(CLOSE_HANDSHAKE + Duration::from_secs(1), alive_rx.recv()).await;
    log::info!("room server stopped");
    Ok(())
}

async fn accept_loop(l: TcpListener, shared: Arc<Shared>, alive: mpsc::Sender<()>, tls: Option<tokio_rustls::TlsAcceptor>) {
    loop {
        match l.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let (shared, alive) = (shared.clone(), alive.clone());
                match tls.clone() {
                    None => drop(tokio::spawn(connection(stream, peer, shared, alive))),
                    // The handshake runs in the connection's own task (bounded), never in this loop.
                    Some(acceptor) => drop(tokio::spawn(async move {
                        match super::tls::handshake(&acceptor, stream).await {
                            Ok(stream) => connection(stream, peer, shared, alive).await,
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

async fn close_ws<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocketStream<S>, code: CloseCode, reason: &str) {
    let frame = CloseFrame { code, reason: reason.into() };
    if let Ok(Ok(())) = tokio::time::timeout(CLOSE_HANDSHAKE, ws.close(Some(frame))).await {
        // Finish the handshake so the peer reads our close frame before the socket goes away.
        let _ = tokio::time::timeout(CLOSE_HANDSHAKE, async { while let Some(Ok(_)) = ws.next().await {} }).await;
    }
}

/// One WebSocket session over `stream` (TCP, or TLS over TCP).
async fn connection<S: AsyncRead + AsyncWrite + Unpin>(stream: S, peer: SocketAddr, shared: Arc<Shared>, _alive: mpsc::Sender<()>) {
    let deadline = tokio::time::sleep(LOGIN_DEADLINE);
    tokio::pin!(deadline);
    let mut ws = tokio::select! {
        r = tokio_tungstenite::accept_async_with_config(stream, Some(ws_config())) => match r {
            Ok(ws) => ws,
            Err(e) => {
                log::warn!("{peer}: WebSocket handshake failed: {e}");
                return;
            }
        },
        _ = &mut deadline => {
            log::warn!("{peer}: no WebSocket handshake within {LOGIN_DEADLINE:?}");
            return;
        }
    };
    let conn = shared.next_conn_id();
    let (tx, mut rx) = mpsc::channel(super::OUTGOING_QUEUE);
    shared.state.lock().conns.insert(conn, tx);
    let mut got_first = false;

    loop {
        tokio::select! {
            biased;
            o = rx.recv() => match o {
                Some(Outgoing::Text(t)) => match tokio::time::timeout(WRITE_TIMEOUT, ws.send(Message::Text(t))).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        log::debug!("{peer}: send failed: {e}");
                        break;
                    }
                    Err(_) => {
                        log::warn!("{peer}: closing session: peer not reading for {WRITE_TIMEOUT:?}");
                        break;
                    }
                },
                Some(Outgoing::Close(code)) => {
                    close_ws(&mut ws, code, "").await;
                    break;
                }
                None => break,
            },
            m = ws.next() => match m {
                None => break,
                Some(Err(e)) => {
                    // Oversized frames land here too (capacity error).
                    log::warn!("{peer}: closing session: {e}");
                    close_ws(&mut ws, CloseCode::Policy, "bad frame").await;
                    break;
                }
                Some(Ok(Message::Text(t))) => match ClientMsg::decode(t.as_str()) {
                    Ok(msg) => {
                        got_first = true;
                        let mut st = shared.state.lock();
                        let outs = st.hub.frame(conn, msg, Instant::now(), unix_now());
                        st.deliver(outs);
                    }
                    Err(e) => {
                        log::warn!("{peer}: closing session: malformed frame: {e}");
                        shared.state.lock().conns.remove(&conn);
                        close_ws(&mut ws, CloseCode::Policy, "malformed frame").await;
                        break;
                    }
                },
                Some(Ok(Message::Binary(_))) => {
                    log::warn!("{peer}: closing session: binary frame");
                    shared.state.lock().conns.remove(&conn);
                    close_ws(&mut ws, CloseCode::Unsupported, "binary frames are not supported").await;
                    break;
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => shared.state.lock().hub.touch(conn, Instant::now()),
                Some(Ok(Message::Close(_))) | Some(Ok(Message::Frame(_))) => {}
            },
            _ = &mut deadline, if !got_first => {
                log::warn!("{peer}: closing session: no login within {LOGIN_DEADLINE:?}");
                shared.state.lock().conns.remove(&conn);
                close_ws(&mut ws, CloseCode::Policy, "login timeout").await;
                break;
            }
        }
    }
    let mut st = shared.state.lock();
    st.conns.remove(&conn);
    st.hub.closed(conn, Instant::now());
}
