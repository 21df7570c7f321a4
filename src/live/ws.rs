//! A room's websocket: one per participant, authenticated from the session before the upgrade.
//! The server sends `hello` (the room's state for this viewer), then every event the
//! participant may see after the number it asked for (`?after=N`), live, without gap or
//! duplicate, and a `clock` frame every few seconds; the participant sends commands as JSON text
//! frames and gets `ok` or an `error` frame with a stable code. Malformed, oversized (over
//! 16 KiB) or binary frames are answered with an error frame and change nothing; a frame over
//! 64 KiB closes the connection. Sockets use 8 KiB buffers: a room may hold thousands.
//!
//! The handshake must come from the platform's own pages or from a program without `Origin`
//! ([`SameOrigin`]). A connection lives only as long as the session it was opened with: it
//! checks the session again before every command, when the hub says that sessions of its user
//! ended, and every `live.session_check_seconds`; once the session has ended it sends a
//! `login_required` error frame, closes, and sends nothing more. Commands go through
//! [`super::command`], so the participant's allowance applies (`rate_limited`).

use super::{Event, LiveHub, RoomKey, RoomKind, Viewer, limit::CommandLimits, store};
use crate::{
    accounts::{model::SessionRef, service::session_actor},
    clock::SharedClock,
    error::{AppError, AppResult},
    web::{auth::SessionActor, origin::SameOrigin},
};
use axum::{
    extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code},
    response::Response,
};
use sea_orm::DatabaseConnection;
use serde_json::json;
use std::time::Duration;
use tokio::sync::broadcast::{Receiver, error::RecvError, error::TryRecvError};
use uuid::Uuid;

/// Largest command a participant may send; a longer frame is answered with `frame_too_large`.
pub const MAX_FRAME: usize = 16 * 1024;

/// Largest frame read at all: beyond it the connection is closed without reading further.
pub const MAX_READ: usize = 64 * 1024;

/// What a room's websocket needs besides its room kind.
#[derive(Debug, Clone)]
pub struct Wiring {
    /// The database (catching up, checking sessions).
    pub db: DatabaseConnection,
    /// The clock (clock frames, session expiry, command allowances).
    pub clock: SharedClock,
    /// The hub (live events, ended sessions).
    pub hub: LiveHub,
    /// The participants' command allowances.
    pub limits: CommandLimits,
    /// How often a connection checks its session besides when told.
    pub session_check: Duration,
}

impl Wiring {
    /// The wiring of a room kind whose changes go through `writer` (its database, clock and hub).
    pub fn of(writer: &crate::uow::Writer, limits: &CommandLimits, session_check: Duration) -> Self {
        Wiring {
            db: writer.db().clone(),
            clock: writer.clock().clone(),
            hub: writer.hub().clone(),
            limits: limits.clone(),
            session_check,
        }
    }
}

/// Upgrades to a room's websocket for the session's actor, in the room of object `id`,
/// resuming after event `after`. The origin and who may enter are decided before the upgrade:
/// a refusal is a normal HTTP error.
pub async fn upgrade<R: RoomKind>(
    kind: R,
    wiring: Wiring,
    _origin: SameOrigin,
    participant: SessionActor,
    id: Uuid,
    after: i64,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    let SessionActor { actor, session } = participant;
    let entry = kind.enter(&actor, id).await?;
    let hello = json!({"type": "hello", "state": entry.hello});
    let ws =
        ws.max_message_size(MAX_READ).max_frame_size(MAX_READ).read_buffer_size(8 * 1024).write_buffer_size(8 * 1024);
    Ok(ws.on_upgrade(move |socket| async move {
        let session =
            Session { kind, wiring, actor, session, id, room: entry.room, viewer: entry.viewer, last: after.max(0) };
        if let Err(e) = session.run(socket, hello).await {
            tracing::debug!(error = %e, "room connection ended");
        }
    }))
}

struct Session<R: RoomKind> {
    kind: R,
    wiring: Wiring,
    actor: crate::accounts::model::Actor,
    /// The session the connection was opened with.
    session: SessionRef,
    id: Uuid,
    room: RoomKey,
    viewer: R::Viewer,
    /// The highest event number handled (sent, or not for this viewer).
    last: i64,
}

fn frame(v: serde_json::Value) -> Message {
    Message::Text(v.to_string().into())
}

fn event_frame(e: &Event, now: chrono::DateTime<chrono::Utc>) -> Message {
    frame(json!({"type": "event", "event": e, "server_time": now}))
}

/// An error frame with a stable code.
pub fn error_frame(code: &str, message: impl std::fmt::Display) -> serde_json::Value {
    json!({"type": "error", "code": code, "message": message.to_string()})
}

/// The error frame of a refused command: its code, message, fields and, when it was refused for
/// going too fast, the seconds to wait.
fn refusal_frame(e: &AppError) -> serde_json::Value {
    let mut v = json!({"type": "error", "code": e.code, "message": e.message, "fields": e.fields});
    if let Some(s) = e.retry_after {
        v["retry_after"] = json!(s);
    }
    v
}

impl<R: RoomKind> Session<R> {
    async fn run(mut self, mut socket: WebSocket, hello: serde_json::Value) -> Result<(), axum::Error> {
        // Subscribe before reading the backlog, so nothing published in between is missed; and
        // to ended sessions before that, so a logout during the upgrade is not missed either.
        let mut ended = self.wiring.hub.subscribe_sessions();
        let mut rx = self.wiring.hub.subscribe();
        if !self.session_live().await.unwrap_or(true) {
            return end(&mut socket).await;
        }
        socket.send(frame(hello)).await?;
        self.catch_up(&mut socket).await?;
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        let period = self.wiring.session_check.max(Duration::from_secs(1));
        let mut check = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            tokio::select! {
                got = ended.recv() => match got {
                    Ok(user) if user != self.actor.user_id => {}
                    Ok(_) | Err(RecvError::Lagged(_)) => {
                        if !self.session_live().await.unwrap_or(true) {
                            return end(&mut socket).await;
                        }
                    }
                    Err(RecvError::Closed) => return Ok(()),
                },
                _ = check.tick() => {
                    if !self.session_live().await.unwrap_or(true) {
                        return end(&mut socket).await;
                    }
                }
                got = rx.recv() => {
                    // A session ended before this event was published: nothing more is sent.
                    if self.told_ended(&mut ended) && !self.session_live().await.unwrap_or(true) {
                        return end(&mut socket).await;
                    }
                    match got {
                        Ok(e) if e.room == self.room => {
                            if e.event.seq <= self.last {
                                continue;
                            }
                            if e.event.seq > self.last + 1 {
                                self.catch_up(&mut socket).await?;
                                continue;
                            }
                            if self.viewer.sees(&e.audience) {
                                socket.send(event_frame(&e.event, self.wiring.clock.now())).await?;
                            }
                            self.last = e.event.seq;
                        }
                        Ok(_) => {}
                        Err(RecvError::Lagged(_)) => self.catch_up(&mut socket).await?,
                        Err(RecvError::Closed) => return Ok(()),
                    }
                },
                msg = socket.recv() => match msg {
                    Some(Ok(Message::Text(text))) if text.len() > MAX_FRAME => {
                        socket.send(frame(error_frame("frame_too_large",
                            format!("a command is at most {MAX_FRAME} bytes")))).await?;
                    }
                    Some(Ok(Message::Text(text))) => {
                        // The session is checked before every command, wherever it was ended.
                        match self.session_live().await {
                            Ok(true) => {}
                            Ok(false) => return end(&mut socket).await,
                            Err(e) => {
                                socket.send(frame(refusal_frame(&e))).await?;
                                continue;
                            }
                        }
                        let reply = self.command(text.as_str()).await;
                        socket.send(frame(reply)).await?;
                    }
                    Some(Ok(Message::Binary(_))) => {
                        socket.send(frame(error_frame("invalid_frame", "only JSON text frames are accepted"))).await?;
                    }
                    Some(Ok(Message::Close(_))) | None => return Ok(()),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e),
                },
                _ = tick.tick() => {
                    socket.send(frame(json!({"type": "clock", "server_time": self.wiring.clock.now()}))).await?;
                }
            }
        }
    }

    /// Whether the hub has said, since last asked, that sessions of this user ended (or fell
    /// so far behind that it may have).
    fn told_ended(&self, ended: &mut Receiver<crate::ids::UserId>) -> bool {
        let mut told = false;
        loop {
            match ended.try_recv() {
                Ok(user) => told |= user == self.actor.user_id,
                Err(TryRecvError::Lagged(_)) => told = true,
                Err(TryRecvError::Empty | TryRecvError::Closed) => return told,
            }
        }
    }

    /// Whether the connection's session is still valid by the platform's clock; keeps the
    /// actor up to date. A database error is not an answer: callers decide.
    async fn session_live(&mut self) -> AppResult<bool> {
        match Box::pin(session_actor(&self.wiring.db, self.wiring.clock.now(), &self.session)).await {
            Ok(Some(actor)) if actor.user_id == self.actor.user_id => {
                self.actor = actor;
                Ok(true)
            }
            Ok(_) => Ok(false),
            Err(e) => {
                tracing::warn!(error = %e, "a room connection could not check its session");
                Err(e)
            }
        }
    }

    /// Sends what the database holds after `last`.
    async fn catch_up(&mut self, socket: &mut WebSocket) -> Result<(), axum::Error> {
        let db = &self.wiring.db;
        // The newest number is read first: an event stored after it comes in the list below or
        // later from the hub, never skipped.
        let newest = Box::pin(store::newest_seq(db, self.room)).await.map_err(axum::Error::new)?;
        let events =
            Box::pin(store::events_after(db, self.room, &self.viewer, self.last)).await.map_err(axum::Error::new)?;
        for e in &events {
            socket.send(event_frame(e, self.wiring.clock.now())).await?;
        }
        // Events this viewer may not see still count as handled.
        self.last = self.last.max(events.last().map(|e| e.seq).unwrap_or(0)).max(newest);
        Ok(())
    }

    async fn command(&self, text: &str) -> serde_json::Value {
        let cmd: R::Command = match serde_json::from_str(text) {
            Ok(c) => c,
            Err(e) => return error_frame("invalid_frame", format!("not a command of this room: {e}")),
        };
        // Boxed: a command's future (a whole unit of work) is large, and a room holds thousands of
        // idle connections whose tasks would otherwise each reserve room for one.
        let now = self.wiring.clock.now();
        match Box::pin(super::command(&self.kind, &self.wiring.limits, now, &self.actor, self.id, cmd)).await {
            Ok(()) => json!({"type": "ok"}),
            Err(e) => refusal_frame(&e),
        }
    }
}

/// Ends a connection whose session has ended: a `login_required` frame, then a close.
async fn end(socket: &mut WebSocket) -> Result<(), axum::Error> {
    socket.send(frame(refusal_frame(&AppError::unauthorized()))).await?;
    socket.send(Message::Close(Some(CloseFrame { code: close_code::POLICY, reason: "login_required".into() }))).await?;
    Ok(())
}
