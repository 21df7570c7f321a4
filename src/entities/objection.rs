//! The `objections` table.

use sea_orm::entity::prelude::*;

/// A row of `objections`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "objections")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub public_id: Uuid,
    pub opening_id: i64,
    pub org_id: i64,
    pub user_id: i64,
    #[sea_orm(column_type = "Text")]
    pub text: String,
    pub raised_at: DateTimeUtc,
    #[sea_orm(column_type = "Text", nullable)]
    pub answer: Option<String>,
    pub answered_at: Option<DateTimeUtc>,
    pub answered_by: Option<i64>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
