//! Live rooms: numbered events that the people in a room receive as they happen.
//!
//! A room is named by a kind and an id ([`RoomKey`]): the opening hall of one tender is
//! `opening/<opening id>`, an evaluation session will be another kind. Every room kind brings a
//! typed event enum (serialized as `{"kind": …, "data": …}`), a viewer type that decides which
//! [`Audience`] it belongs to, a command type, and how a command executes ([`RoomKind`]). This
//! module knows nothing of any room kind.
//!
//! - Events are written to `room_events` by the unit of work of the change that causes them
//!   ([`crate::uow::UnitOfWork::emit`]), numbered 1, 2, 3… per room in that transaction, and
//!   published on the process's [`hub::LiveHub`] only after the commit.
//! - [`relay`] publishes what other server processes wrote (PostgreSQL `LISTEN/NOTIFY`, SQLite
//!   polling); the hub sends each event once.
//! - [`ws`] serves one room over a websocket: `hello`, then every event after `?after=N` without
//!   gap or duplicate, `clock` frames, commands as JSON text frames answered with `ok` or a coded
//!   `error`.
//! - [`store`] reads a room's events back, as stored or typed.
//! - [`limit`] bounds how fast one participant sends commands; [`command`] is the one way in
//!   for a command, from the websocket or the HTTP endpoint.

pub mod hub;
pub mod limit;
pub mod relay;
pub mod store;
pub mod ws;

use crate::{accounts::model::Actor, error::AppResult};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::{fmt, future::Future, str::FromStr};
use utoipa::ToSchema;
use uuid::Uuid;

pub use hub::LiveHub;

/// A room: its kind (`opening`) and its internal id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RoomKey {
    /// The room kind's name.
    pub kind: &'static str,
    /// The room's internal id (never sent to clients).
    pub id: i64,
}

/// Who may see an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Everyone in the room.
    All,
    /// The room's staff (hosts and overseers).
    Staff,
    /// One organisation (internal id).
    Org(crate::ids::OrgId),
    /// One user (internal id).
    User(crate::ids::UserId),
    /// Everyone of one role.
    Role(crate::accounts::model::Role),
}

/// A stored audience text that is not one.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown audience {0:?}")]
pub struct BadAudience(pub String);

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Audience::All => f.write_str("all"),
            Audience::Staff => f.write_str("staff"),
            Audience::Org(n) => write!(f, "org:{n}"),
            Audience::User(n) => write!(f, "user:{n}"),
            Audience::Role(r) => write!(f, "role:{}", r.as_str()),
        }
    }
}

impl FromStr for Audience {
    type Err = BadAudience;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadAudience(s.to_string());
        Ok(match s {
            "all" => Audience::All,
            "staff" => Audience::Staff,
            _ => match s.split_once(':') {
                Some(("org", n)) => Audience::Org(crate::ids::OrgId(n.parse().map_err(|_| bad())?)),
                Some(("user", n)) => Audience::User(crate::ids::UserId(n.parse().map_err(|_| bad())?)),
                Some(("role", r)) => Audience::Role(crate::accounts::model::Role::parse(r).ok_or_else(bad)?),
                _ => return Err(bad()),
            },
        })
    }
}

/// One event as participants receive it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct Event {
    /// Its number in the room: 1, 2, 3… without gaps.
    pub seq: i64,
    /// What happened (the room kind's event names).
    pub kind: String,
    /// When, by the platform's clock.
    pub at: DateTime<Utc>,
    /// The details.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// An event as stored and carried between the processes: the event and where it belongs.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// The room.
    pub room: RoomKey,
    /// Who may see it.
    pub audience: Audience,
    /// The event.
    pub event: Event,
}

/// Who is looking at a room: decides which events reach them.
pub trait Viewer: Copy + Send + Sync + 'static {
    /// Whether this viewer may see an event for `audience`.
    fn sees(&self, audience: &Audience) -> bool;
    /// The role name sent to clients (`host`, `bidder`…).
    fn role(&self) -> &'static str;
}

/// What entering a room gives: the room, who the actor is in it, and the `hello` state.
#[derive(Debug, Clone)]
pub struct Entry<V> {
    /// The room.
    pub room: RoomKey,
    /// Who the actor is in it.
    pub viewer: V,
    /// The room's state for this viewer, sent first.
    pub hello: serde_json::Value,
}

/// A kind of live room.
pub trait RoomKind: Clone + Send + Sync + 'static {
    /// The kind's name, stored with its events.
    const KIND: &'static str;
    /// Its events: an enum serialized as `{"kind": "…", "data": {…}}`.
    type Event: Serialize + DeserializeOwned + Send;
    /// Who may be in the room.
    type Viewer: Viewer;
    /// What a participant may send.
    type Command: DeserializeOwned + Send;
    /// The typed id of the object a room of this kind is about (an opening, a session…).
    type Id: Into<i64>;

    /// Who `actor` is in the room of the object `id` (a tender, a session…), or why not.
    fn enter(&self, actor: &Actor, id: Uuid) -> impl Future<Output = AppResult<Entry<Self::Viewer>>> + Send;

    /// Carries out a participant's command; a refusal changes nothing.
    fn execute(&self, actor: &Actor, id: Uuid, cmd: Self::Command) -> impl Future<Output = AppResult<()>> + Send;

    /// What a command takes from its sender's allowance ([`limit`]): 1 unless the kind says
    /// otherwise (texts that every participant reads cost more).
    fn cost(_cmd: &Self::Command) -> u32 {
        1
    }

    /// The room key of a room of this kind.
    fn key(id: Self::Id) -> RoomKey {
        RoomKey { kind: Self::KIND, id: id.into() }
    }
}

/// Carries out `actor`'s command in the room of object `id` if their allowance holds its cost
/// at `now`; otherwise refuses with `rate_limited` and carries out nothing.
pub async fn command<R: RoomKind>(
    kind: &R,
    limits: &limit::CommandLimits,
    now: DateTime<Utc>,
    actor: &Actor,
    id: Uuid,
    cmd: R::Command,
) -> AppResult<()> {
    limits.take(R::KIND, id, actor.user_id, R::cost(&cmd), now)?;
    kind.execute(actor, id, cmd).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::model::Role;

    #[test]
    fn audiences_round_trip_and_unknown_ones_fail() {
        for a in [
            Audience::All,
            Audience::Staff,
            Audience::Org(crate::ids::OrgId(7)),
            Audience::User(crate::ids::UserId(9)),
            Audience::Role(Role::Supervisor),
        ] {
            assert_eq!(a.to_string().parse::<Audience>().ok(), Some(a));
        }
        for bad in ["", "everyone", "org:", "org:x", "user:1.5", "role:king"] {
            assert!(bad.parse::<Audience>().is_err(), "{bad}");
        }
    }
}
