//! The `objections` table.

use crate::ids::{OpeningId, OrgId, UserId};
use sea_orm::entity::prelude::*;

/// A row of `objections`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "objections")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub public_id: Uuid,
    pub opening_id: OpeningId,
    pub org_id: OrgId,
    pub user_id: UserId,
    #[sea_orm(column_type = "Text")]
    pub text: String,
    pub raised_at: DateTimeUtc,
    #[sea_orm(column_type = "Text", nullable)]
    pub answer: Option<String>,
    pub answered_at: Option<DateTimeUtc>,
    pub answered_by: Option<UserId>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
