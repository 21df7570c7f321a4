//! The `questions` table.

use crate::ids::{OrgId, TenderId, UserId};
use sea_orm::entity::prelude::*;

/// A row of `questions`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "questions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub public_id: Uuid,
    pub tender_id: TenderId,
    pub org_id: OrgId,
    pub user_id: UserId,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub asked_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
