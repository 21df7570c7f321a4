//! The hall's websocket: one per participant, authenticated from the session before the
//! upgrade. The server sends `hello` (the hall's state), then every event the participant may
//! see after the number it asked for (`?after=N`), live, without gap or duplicate, and a `clock`
//! frame every few seconds; the participant sends commands as JSON text frames and gets `ok` or
//! an `error` frame with a stable code. Malformed, oversized (over 16 KiB) or binary frames are
//! answered with an error frame and change nothing; a frame over 64 KiB closes the connection.

use super::{
    model::{Command, HallEvent, Viewer},
    service,
};
use crate::{
    accounts::model::Actor,
    app::AppState,
    error::AppResult,
    web::extract::{Path, Query},
};
use axum::{
    extract::{
        State,
        ws::{Message, WebSocket, WebSocketUpgrade},
    },
    response::Response,
};
use serde_json::json;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

/// Largest command a participant may send; a longer frame is answered with `frame_too_large`.
pub const MAX_FRAME: usize = 16 * 1024;

/// Largest frame read at all: beyond it the connection is closed without reading further.
pub const MAX_READ: usize = 64 * 1024;

/// `GET /api/v1/tenders/{id}/opening/ws?after=N`.
pub async fn connect(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(after): Query<super::api::After>,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    // Who may enter is decided before the upgrade: a refusal is a normal HTTP error.
    let (hello, opening_id, viewer) = service::hall_state(&state, &actor, id).await?;
    let hello = json!({"type": "hello", "state": hello});
    // Hall frames are small and a hall may hold thousands of sockets: small buffers (the
    // defaults are 128 KiB each way per socket).
    let ws =
        ws.max_message_size(MAX_READ).max_frame_size(MAX_READ).read_buffer_size(8 * 1024).write_buffer_size(8 * 1024);
    Ok(ws.on_upgrade(move |socket| async move {
        let session = Session { state, actor, tender: id, opening_id, viewer, last: after.after };
        if let Err(e) = session.run(socket, hello).await {
            tracing::debug!(error = %e, "hall connection ended");
        }
    }))
}

struct Session {
    state: AppState,
    actor: Actor,
    tender: Uuid,
    opening_id: i64,
    viewer: Viewer,
    /// The highest event number handled (sent, or not for this viewer).
    last: i64,
}

fn frame(v: serde_json::Value) -> Message {
    Message::Text(v.to_string().into())
}

fn event_frame(e: &HallEvent, now: chrono::DateTime<chrono::Utc>) -> Message {
    frame(json!({"type": "event", "event": e, "server_time": now}))
}

impl Session {
    async fn run(mut self, mut socket: WebSocket, hello: serde_json::Value) -> Result<(), axum::Error> {
        // Subscribe before reading the backlog, so nothing published in between is missed.
        let mut rx = self.state.halls.subscribe();
        socket.send(frame(hello)).await?;
        self.catch_up(&mut socket).await?;
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tokio::select! {
                got = rx.recv() => match got {
                    Ok(e) if e.opening_id == self.opening_id => {
                        if e.seq <= self.last {
                            continue;
                        }
                        if e.seq > self.last + 1 {
                            self.catch_up(&mut socket).await?;
                            continue;
                        }
                        if self.viewer.sees(&e.audience) {
                            socket.send(event_frame(&e, self.state.clock.now())).await?;
                        }
                        self.last = e.seq;
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => self.catch_up(&mut socket).await?,
                    Err(RecvError::Closed) => return Ok(()),
                },
                msg = socket.recv() => match msg {
                    Some(Ok(Message::Text(text))) if text.len() > MAX_FRAME => {
                        socket.send(frame(json!({"type": "error", "code": "frame_too_large",
                            "message": format!("a command is at most {MAX_FRAME} bytes")}))).await?;
                    }
                    Some(Ok(Message::Text(text))) => {
                        let reply = self.command(text.as_str()).await;
                        socket.send(frame(reply)).await?;
                    }
                    Some(Ok(Message::Binary(_))) => {
                        socket.send(frame(json!({"type": "error", "code": "invalid_frame",
                            "message": "only JSON text frames are accepted"}))).await?;
                    }
                    Some(Ok(Message::Close(_))) | None => return Ok(()),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e),
                },
                _ = tick.tick() => {
                    socket.send(frame(json!({"type": "clock", "server_time": self.state.clock.now()}))).await?;
                }
            }
        }
    }

    /// Sends what the database holds after `last`.
    async fn catch_up(&mut self, socket: &mut WebSocket) -> Result<(), axum::Error> {
        let events = service::events_after(&self.state.db, self.opening_id, self.viewer, self.last)
            .await
            .map_err(axum::Error::new)?;
        for e in &events {
            socket.send(event_frame(e, self.state.clock.now())).await?;
        }
        // Events this viewer may not see still count as handled.
        let newest = <crate::entities::opening::Entity as sea_orm::EntityTrait>::find_by_id(self.opening_id)
            .one(&self.state.db)
            .await
            .map_err(axum::Error::new)?
            .map(|o| o.last_seq)
            .unwrap_or(self.last);
        self.last = self.last.max(events.last().map(|e| e.seq).unwrap_or(0)).max(newest);
        Ok(())
    }

    async fn command(&self, text: &str) -> serde_json::Value {
        let cmd: Command = match serde_json::from_str(text) {
            Ok(c) => c,
            Err(e) => {
                return json!({"type": "error", "code": "invalid_frame", "message": format!("not a hall command: {e}")});
            }
        };
        match service::execute(&self.state, &self.actor, self.tender, cmd).await {
            Ok(()) => json!({"type": "ok"}),
            Err(e) => json!({"type": "error", "code": e.code, "message": e.message, "fields": e.fields}),
        }
    }
}
