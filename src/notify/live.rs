//! A user's inbox as a live room: when a notice reaches the user, the user's open pages hear of
//! it and update the unread badge without a reload.
//!
//! The room is the user's own (`inbox/<user id>`): the unit of work that stores a notice emits
//! a `notice` event into the room of each user it reaches, in the same transaction. The event
//! carries nothing but the fact; the page reads the count again
//! (`GET /api/v1/notifications/unread`). Nobody enters another user's room, and the room takes
//! no commands.

use crate::{
    accounts::model::Actor,
    error::{AppError, AppResult},
    ids::UserId,
    live::{Audience, Entry, RoomKey, RoomKind, Viewer},
};
use serde_json::{Value, json};
use uuid::Uuid;

/// The room kind's name.
pub const KIND: &str = "inbox";

/// The inbox room of `user`.
pub fn room(user: UserId) -> RoomKey {
    RoomKey { kind: KIND, id: user.into() }
}

/// The one reader of an inbox room: its user.
#[derive(Debug, Clone, Copy)]
pub struct Reader;

impl Viewer for Reader {
    fn sees(&self, _: &Audience) -> bool {
        true
    }

    fn role(&self) -> &'static str {
        "reader"
    }
}

/// The inbox rooms: what their websockets need.
#[derive(Debug, Clone)]
pub struct Inbox {
    /// The database, clock and hub.
    pub writer: crate::uow::Writer,
    /// The command allowances (the room takes none; the websocket wants them).
    pub limits: crate::live::limit::CommandLimits,
    /// How often a connection checks its session.
    pub session_check: std::time::Duration,
}

impl Inbox {
    /// What the inbox websockets use.
    pub fn wiring(&self) -> crate::live::ws::Wiring {
        crate::live::ws::Wiring::of(&self.writer, &self.limits, self.session_check)
    }
}

impl RoomKind for Inbox {
    const KIND: &'static str = KIND;
    type Event = Value;
    type Viewer = Reader;
    type Command = Value;
    type Id = UserId;

    async fn enter(&self, actor: &Actor, id: Uuid) -> AppResult<Entry<Reader>> {
        if id != actor.user_public_id {
            return Err(AppError::not_found());
        }
        let unread = super::service::unread_count(self.writer.db(), actor.org_id, actor.user_id).await?;
        Ok(Entry { room: room(actor.user_id), viewer: Reader, hello: json!({"unread": unread}) })
    }

    async fn execute(&self, _: &Actor, _: Uuid, _: Value) -> AppResult<()> {
        Err(AppError::rule("no_commands", "an inbox takes no commands"))
    }
}
