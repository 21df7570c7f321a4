//! The `peer_messages` table.

use crate::federation::Direction;
use sea_orm::entity::prelude::*;

/// A row of `peer_messages`: one numbered, signed message sent to or received from a peer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "peer_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub peer: String,
    pub direction: Direction,
    pub seq: i64,
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    #[sea_orm(column_type = "Text")]
    pub signature: String,
    pub created_at: DateTimeUtc,
    pub done_at: Option<DateTimeUtc>,
    pub outcome: Option<String>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
