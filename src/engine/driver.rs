//! The engine's I/O thread: a current-thread tokio runtime that owns the WebSockets, performs the
//! core's outputs, feeds connection news and timer expiries back into the core.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

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
    /// Finish queued goodbyes (bounded), then end the thread.
    Shutdown,
}

enum ConnCmd {
    Send(ClientMsg),
    SendBinary(Vec<u8>),
    Close,
}

/// How long goodbyes (logout frames, close handshakes) may take when leaving or shutting down.
const GOODBYE_TIMEOUT: Duration = Duration::from_millis(500);

pub(crate) fn run(shared: Arc<Shared>, tx: UnboundedSender<DriverMsg>, mut rx: UnboundedReceiver<DriverMsg>) {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            log::error!("engine driver cannot start its runtime: {e}");
            return;
        }
    };
    rt.block_on(async move {
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
                DriverMsg::Output(Output::Connect { conn, url }) => {
                    let (ctx, crx) = unbounded_channel();
                    conns.insert(conn, ctx);
                    tasks.spawn(connection(conn, url, crx, tx.clone()));
                }
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
    });
}

/// One WebSocket: opens it, forwards frames both ways, reports the end once.
async fn connection(conn: ConnId, url: String, mut cmds: UnboundedReceiver<ConnCmd>, tx: UnboundedSender<DriverMsg>) {
    let config = WebSocketConfig::default().max_message_size(Some(MAX_SERVER_FRAME_BYTES)).max_frame_size(Some(MAX_SERVER_FRAME_BYTES));
    let open = tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), true);
    let ws = tokio::select! {
        r = open => match r {
            Ok((ws, _)) => ws,
            Err(e) => {
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
