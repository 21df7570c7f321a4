//! Reading and writing a room's stored events (`room_events`).

use super::{Audience, Event, RoomKey, RoomKind, StoredEvent, Viewer};
use crate::{
    entities::room_event,
    error::{AppError, AppResult},
};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde_json::Value;

/// Writes events (already numbered) in the caller's transaction.
pub async fn write<C: ConnectionTrait>(db: &C, events: &[StoredEvent]) -> AppResult<()> {
    for e in events {
        room_event::ActiveModel {
            room_kind: Set(e.room.kind.to_string()),
            room_id: Set(e.room.id),
            seq: Set(e.event.seq),
            kind: Set(e.event.kind.clone()),
            audience: Set(e.audience.to_string()),
            payload: Set(e.event.data.to_string()),
            created_at: Set(e.event.at),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// The number of the room's newest event (0 if it has none).
pub async fn newest_seq<C: ConnectionTrait>(db: &C, room: RoomKey) -> AppResult<i64> {
    Ok(room_event::Entity::find()
        .select_only()
        .column_as(room_event::Column::Seq.max(), "seq")
        .filter(room_event::Column::RoomKind.eq(room.kind))
        .filter(room_event::Column::RoomId.eq(room.id))
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0))
}

/// A stored row as an event; a row that does not read is an error naming it.
pub fn to_stored(kind: &'static str, r: room_event::Model) -> AppResult<StoredEvent> {
    let bad = |what: &str, value: &str| {
        AppError::internal(format!("room_events row {}: {what} {value:?} does not read", r.id))
    };
    let audience: Audience = r.audience.parse().map_err(|_| bad("audience", &r.audience))?;
    let data: Value = serde_json::from_str(&r.payload).map_err(|_| bad("payload", &r.payload))?;
    Ok(StoredEvent {
        room: RoomKey { kind, id: r.room_id },
        audience,
        event: Event { seq: r.seq, kind: r.kind, at: r.created_at, data },
    })
}

/// Every event of a room after `after`, with its audience, in order.
pub async fn rows<C: ConnectionTrait>(db: &C, room: RoomKey, after: i64) -> AppResult<Vec<StoredEvent>> {
    room_event::Entity::find()
        .filter(room_event::Column::RoomKind.eq(room.kind))
        .filter(room_event::Column::RoomId.eq(room.id))
        .filter(room_event::Column::Seq.gt(after))
        .order_by_asc(room_event::Column::Seq)
        .all(db)
        .await?
        .into_iter()
        .map(|r| to_stored(room.kind, r))
        .collect()
}

/// The events of a room after `after` that `viewer` may see, in order.
pub async fn events_after<C: ConnectionTrait, V: Viewer>(
    db: &C,
    room: RoomKey,
    viewer: &V,
    after: i64,
) -> AppResult<Vec<Event>> {
    Ok(rows(db, room, after).await?.into_iter().filter(|e| viewer.sees(&e.audience)).map(|e| e.event).collect())
}

/// The events of a room for one audience, as stored and as the room kind's typed events.
pub async fn typed<R: RoomKind, C: ConnectionTrait>(
    db: &C,
    room: RoomKey,
    audience: Audience,
) -> AppResult<Vec<(Event, R::Event)>> {
    rows(db, room, 0)
        .await?
        .into_iter()
        .filter(|e| e.audience == audience)
        .map(|e| {
            let typed = decode::<R::Event>(&e.event).map_err(|err| {
                AppError::internal(format!(
                    "room_events {}/{} event {} ({}): {err}",
                    room.kind, room.id, e.event.seq, e.event.kind
                ))
            })?;
            Ok((e.event, typed))
        })
        .collect()
}

/// An event as its room kind's typed event.
pub fn decode<T: serde::de::DeserializeOwned>(e: &Event) -> Result<T, serde_json::Error> {
    serde_json::from_value(serde_json::json!({"kind": e.kind, "data": e.data}))
}

/// A typed event split into its name and details, as stored.
pub fn encode<T: serde::Serialize>(event: &T) -> AppResult<(String, Value)> {
    let mut v = serde_json::to_value(event).map_err(AppError::internal)?;
    let kind = v
        .get("kind")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| AppError::internal("a room event must serialize as {\"kind\", \"data\"}"))?;
    let data = v.get_mut("data").map(Value::take).unwrap_or(Value::Object(Default::default()));
    Ok((kind, data))
}
