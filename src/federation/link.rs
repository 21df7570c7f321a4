//! The link between peers: a websocket over mutually authenticated TLS, one per direction.
//!
//! Each deployment dials each of its peers and sends over that connection the messages it has
//! for the peer; the peer's own messages come over the connection the peer dials. On a new
//! connection the receiving side says which number it expects next (`ready`); the sender
//! marks everything before it as delivered (an acknowledgement lost with a cut link) and sends
//! the rest in order; the receiver applies each in a unit of work that also writes the row
//! numbering it, then acknowledges it (`ack`). A cut link, or a restart of either side, loses
//! nothing: unacknowledged messages stay in `peer_messages` and are sent again on the next
//! connection; one that was already applied is acknowledged again without being applied.

use super::{Direction, Federation, Peer, signed_bytes};
use crate::{
    audit::{Action, AuditActor, AuditEntry},
    entities::peer_message,
    error::{AppError, AppResult},
};
use futures_util::{SinkExt, StreamExt};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::{sync::Arc, time::Duration};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::{Message, protocol::WebSocketConfig};

/// The websocket's path on the peer listener.
pub const PATH: &str = "/federation/v1/link";

/// A frame of the link (JSON text).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Frame {
    /// From the receiving side on connecting: its name and the number it expects next.
    Ready {
        /// The receiver's name.
        site: String,
        /// The next number it will apply.
        next: i64,
    },
    /// A message.
    Msg {
        /// Its number.
        seq: i64,
        /// Its kind.
        kind: String,
        /// Its body, JSON, exactly as signed.
        body: String,
        /// The sender's signature (base64) of [`signed_bytes`].
        sig: String,
    },
    /// A message applied (or refused, with its code): the sender may forget it.
    Ack {
        /// Its number.
        seq: i64,
        /// `applied`, `duplicate` or the refusal's code.
        outcome: String,
    },
}

fn ws_config(f: &Federation) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(f.settings.max_frame_bytes))
        .max_frame_size(Some(f.settings.max_frame_bytes))
}

// ---------------------------------------------------------------------------------------------
// Receiving

/// Takes peers' connections on `listener` until the task is aborted.
pub async fn serve(fed: Federation, listener: TcpListener) {
    let Some(identity) = fed.identity.clone() else { return };
    let config = match super::tls::server_config(&identity) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            tracing::error!("federation: the peer listener cannot start: {e}");
            return;
        }
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    loop {
        let (tcp, addr) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("federation: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (fed, acceptor) = (fed.clone(), acceptor.clone());
        tokio::spawn(async move {
            if let Err(e) = take(fed, acceptor, tcp).await {
                tracing::warn!(%addr, "federation: {e}");
            }
        });
    }
}

async fn take(fed: Federation, acceptor: tokio_rustls::TlsAcceptor, tcp: TcpStream) -> Result<(), String> {
    let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(format!("refused a connection: TLS handshake failed: {e}")),
        Err(_) => return Err("refused a connection: no TLS handshake within 10 s".into()),
    };
    let presented = tls.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|c| c.as_ref().to_vec());
    let Some(presented) = presented else { return Err("refused a connection without a certificate".into()) };
    let Some(peer) = fed.peers.iter().find(|p| p.cert.as_ref() == presented.as_slice()).cloned() else {
        return Err(format!(
            "refused a connection: its certificate (SHA-256 {}) is not that of a listed peer",
            super::fingerprint(&presented)
        ));
    };
    let mut ws = tokio_tungstenite::accept_async_with_config(tls, Some(ws_config(&fed)))
        .await
        .map_err(|e| format!("{}: websocket handshake failed: {e}", peer.name))?;
    let mut next = last_applied(&fed, &peer.name).await.map_err(|e| e.message)? + 1;
    let site = fed.site().map_err(|e| e.message)?.to_string();
    send_frame(&mut ws, &Frame::Ready { site: site.clone(), next }).await?;
    tracing::info!(peer = %peer.name, next, "federation: link from the peer up");
    while let Some(frame) = ws.next().await {
        let text = match frame {
            Ok(Message::Text(t)) => t,
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => continue,
        };
        let Ok(Frame::Msg { seq, kind, body, sig }) = serde_json::from_str::<Frame>(text.as_str()) else {
            return Err(format!("{}: an unreadable frame; link closed", peer.name));
        };
        if seq < next {
            send_frame(&mut ws, &Frame::Ack { seq, outcome: "duplicate".into() }).await?;
            continue;
        }
        if seq > next {
            return Err(format!("{}: message {seq} came before {next}; link closed", peer.name));
        }
        if !peer.verifies(&signed_bytes(&peer.name, &site, seq, &kind, &body), &sig) {
            return Err(format!("{}: message {seq} is not signed by the peer's key; link closed", peer.name));
        }
        let outcome = receive(&fed, &peer, seq, &kind, &body, &sig).await.map_err(|e| e.message)?;
        next = seq + 1;
        send_frame(&mut ws, &Frame::Ack { seq, outcome }).await?;
    }
    tracing::info!(peer = %peer.name, "federation: link from the peer down");
    Ok(())
}

async fn send_frame<S>(ws: &mut S, frame: &Frame) -> Result<(), String>
where
    S: SinkExt<Message> + Unpin,
    S::Error: std::fmt::Display,
{
    let text = serde_json::to_string(frame).map_err(|e| e.to_string())?;
    ws.send(Message::text(text)).await.map_err(|e| format!("sending failed: {e}"))
}

async fn last_applied(fed: &Federation, peer: &str) -> AppResult<i64> {
    Ok(peer_message::Entity::find()
        .filter(peer_message::Column::Peer.eq(peer))
        .filter(peer_message::Column::Direction.eq(Direction::In))
        .order_by_desc(peer_message::Column::Seq)
        .limit(1)
        .one(&fed.db)
        .await?
        .map(|m| m.seq)
        .unwrap_or(0))
}

/// Applies message `seq` of `peer` at most once: in one unit of work with its row and audit
/// record. A refusal by the rules (a 4xx error) is kept as the message's outcome, in a unit of
/// work of its own, with what the refusal produces; any other error applies nothing and the
/// link is closed, so the message comes again.
async fn receive(fed: &Federation, peer: &Peer, seq: i64, kind: &str, body: &str, sig: &str) -> AppResult<String> {
    let value: serde_json::Value =
        serde_json::from_str(body).map_err(|_| AppError::bad_request("invalid_body", "the body is not JSON"))?;
    let mut uow = fed.writer.begin().await?;
    let seen = peer_message::Entity::find()
        .filter(peer_message::Column::Peer.eq(&peer.name))
        .filter(peer_message::Column::Direction.eq(Direction::In))
        .filter(peer_message::Column::Seq.eq(seq))
        .one(&uow)
        .await?;
    if seen.is_some() {
        return Ok("duplicate".into());
    }
    match fed.apply(&mut uow, &peer.name, kind, &value).await {
        Ok(()) => {
            write_received(&mut uow, peer, seq, kind, body, sig, "applied").await?;
            uow.commit().await?;
            Ok("applied".into())
        }
        Err(e) if e.status.is_client_error() => {
            uow.rollback().await?;
            tracing::warn!(peer = %peer.name, seq, kind, code = e.code, "federation: a message was refused");
            let mut uow = fed.writer.begin().await?;
            fed.refused(&mut uow, &peer.name, kind, &value, &e).await?;
            write_received(&mut uow, peer, seq, kind, body, sig, e.code).await?;
            uow.commit().await?;
            Ok(e.code.to_string())
        }
        Err(e) => Err(e),
    }
}

async fn write_received(
    uow: &mut crate::uow::UnitOfWork,
    peer: &Peer,
    seq: i64,
    kind: &str,
    body: &str,
    sig: &str,
    outcome: &str,
) -> AppResult<()> {
    let now = uow.now();
    peer_message::ActiveModel {
        peer: Set(peer.name.clone()),
        direction: Set(Direction::In),
        seq: Set(seq),
        kind: Set(kind.to_string()),
        body: Set(body.to_string()),
        signature: Set(sig.to_string()),
        created_at: Set(now),
        done_at: Set(Some(now)),
        outcome: Set(Some(outcome.to_string())),
        ..Default::default()
    }
    .insert(&*uow)
    .await?;
    let digest = hex::encode(ring::digest::digest(&ring::digest::SHA256, body.as_bytes()));
    uow.record(
        &AuditActor::system(),
        AuditEntry::new(
            Action::PeerReceive,
            &peer.name,
            json!({"kind": kind, "seq": seq, "sha256": digest, "outcome": outcome}),
        ),
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Sending

/// Starts a sender for every peer: each dials its peer, delivers the waiting messages and
/// dials again after a cut, waiting `retry_ms` doubled up to `max_retry_ms`.
pub fn spawn_senders(fed: &Federation) -> Vec<tokio::task::JoinHandle<()>> {
    let Some(_) = fed.identity else { return vec![] };
    fed.peers
        .iter()
        .cloned()
        .map(|peer| {
            let fed = fed.clone();
            tokio::spawn(async move {
                let first = Duration::from_millis(fed.settings.retry_ms.max(10));
                let mut wait = first;
                loop {
                    let now = fed.writer.clock().now();
                    match deliver(&fed, &peer).await {
                        Ok(()) => wait = first,
                        Err(e) => {
                            fed.set_link(&peer.name, false, Some(e.clone()), now);
                            tracing::warn!(peer = %peer.name, "federation: link to the peer: {e}");
                        }
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_millis(fed.settings.max_retry_ms.max(10)));
                }
            })
        })
        .collect()
}

/// Dials `peer` over mutually authenticated TLS and opens the link's websocket.
pub async fn dial(
    identity: &super::Identity,
    peer: &Peer,
    config: WebSocketConfig,
) -> Result<tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<TcpStream>>, String> {
    let tls_config = super::tls::client_config(identity, peer).map_err(|e| format!("TLS configuration: {e}"))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(tls_config));
    let tcp = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(&peer.address))
        .await
        .map_err(|_| format!("no connection to {} within 5 s", peer.address))?
        .map_err(|e| format!("no connection to {}: {e}", peer.address))?;
    let name = rustls::pki_types::ServerName::try_from(peer.name.clone()).map_err(|e| e.to_string())?;
    let tls = tokio::time::timeout(Duration::from_secs(10), connector.connect(name, tcp))
        .await
        .map_err(|_| "no TLS handshake within 10 s".to_string())?
        .map_err(|e| format!("refused: TLS handshake failed: {e}"))?;
    let url = format!("wss://{}{PATH}", peer.name);
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, tls, Some(config))
        .await
        .map_err(|e| format!("websocket handshake failed: {e}"))?;
    Ok(ws)
}

async fn deliver(fed: &Federation, peer: &Peer) -> Result<(), String> {
    let identity = fed.identity.clone().ok_or("federation off")?;
    let mut wake = fed.subscribe();
    let mut ws = dial(&identity, peer, ws_config(fed)).await?;
    let next = match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
        Ok(Some(Ok(Message::Text(t)))) => match serde_json::from_str::<Frame>(t.as_str()) {
            Ok(Frame::Ready { site, next }) if site == peer.name => next,
            Ok(Frame::Ready { site, .. }) => return Err(format!("the peer says it is {site:?}")),
            _ => return Err("the peer's first frame is not `ready`".into()),
        },
        _ => return Err("the peer did not say it was ready".into()),
    };
    let db_err = |e: AppError| e.message;
    // What the peer has applied is delivered, whether or not its acknowledgement came.
    mark_done(fed, peer, next - 1, "applied").await.map_err(db_err)?;
    fed.set_link(&peer.name, true, None, fed.writer.clock().now());
    let mut sent = next - 1;
    let poll = Duration::from_millis(fed.settings.poll_ms.max(10));
    loop {
        let waiting = peer_message::Entity::find()
            .filter(peer_message::Column::Peer.eq(&peer.name))
            .filter(peer_message::Column::Direction.eq(Direction::Out))
            .filter(peer_message::Column::Seq.gt(sent))
            .order_by_asc(peer_message::Column::Seq)
            .limit(100)
            .all(&fed.db)
            .await
            .map_err(|e| e.to_string())?;
        for m in waiting {
            send_frame(&mut ws, &Frame::Msg { seq: m.seq, kind: m.kind, body: m.body, sig: m.signature }).await?;
            sent = m.seq;
        }
        tokio::select! {
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(t))) => match serde_json::from_str::<Frame>(t.as_str()) {
                    Ok(Frame::Ack { seq, outcome }) => mark_done(fed, peer, seq, &outcome).await.map_err(db_err)?,
                    _ => return Err("an unreadable frame from the peer".into()),
                },
                Some(Ok(Message::Close(_))) | None => return Err("the peer closed the link".into()),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(format!("the link broke: {e}")),
            },
            _ = wake.changed() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}

/// Marks the messages to `peer` up to `upto` as delivered.
async fn mark_done(fed: &Federation, peer: &Peer, upto: i64, outcome: &str) -> AppResult<()> {
    if upto < 1 {
        return Ok(());
    }
    let uow = fed.writer.begin().await?;
    let rows = peer_message::Entity::find()
        .filter(peer_message::Column::Peer.eq(&peer.name))
        .filter(peer_message::Column::Direction.eq(Direction::Out))
        .filter(peer_message::Column::Seq.lte(upto))
        .filter(peer_message::Column::DoneAt.is_null())
        .all(&uow)
        .await?;
    if rows.is_empty() {
        return uow.rollback().await;
    }
    let now = uow.now();
    for r in rows {
        let single = r.seq == upto;
        let mut m: peer_message::ActiveModel = r.into();
        m.done_at = Set(Some(now));
        m.outcome = Set(Some(if single { outcome.to_string() } else { "applied".to_string() }));
        m.update(&uow).await?;
    }
    uow.commit().await
}
