//! The `audit_records` table.

use crate::ids::{OrgId, UserId};
use sea_orm::entity::prelude::*;

/// A row of `audit_records`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub at: DateTimeUtc,
    pub actor_user_id: Option<UserId>,
    pub actor_org_id: Option<OrgId>,
    pub actor_label: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    #[sea_orm(column_type = "Text")]
    pub details: String,
    pub change_digest: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
