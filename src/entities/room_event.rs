//! The `room_events` table.

use sea_orm::entity::prelude::*;

/// A row of `room_events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "room_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub room_kind: String,
    pub room_id: i64,
    pub seq: i64,
    pub kind: String,
    pub audience: String,
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    pub created_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
