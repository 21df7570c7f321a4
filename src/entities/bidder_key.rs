//! The `bidder_keys` table.

use crate::ids::{OrgId, UserId};
use sea_orm::entity::prelude::*;

/// A row of `bidder_keys`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bidder_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub key_id: String,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub algorithm: String,
    pub public_key: String,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
