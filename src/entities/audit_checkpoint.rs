//! The `audit_checkpoints` table.

use sea_orm::entity::prelude::*;

/// A row of `audit_checkpoints`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_checkpoints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub seq: i64,
    pub hash: String,
    pub signed_at: DateTimeUtc,
    pub key_id: String,
    pub signature: String,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
