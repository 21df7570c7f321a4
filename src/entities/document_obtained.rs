//! The `document_obtained` table.

use crate::ids::{OrgId, TenderId, UserId};
use sea_orm::entity::prelude::*;

/// A row of `document_obtained`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "document_obtained")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tender_id: TenderId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub obtained_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
