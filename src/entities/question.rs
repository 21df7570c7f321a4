//! The `questions` table.

use sea_orm::entity::prelude::*;

/// A row of `questions`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "questions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub public_id: Uuid,
    pub tender_id: i64,
    pub org_id: i64,
    pub user_id: i64,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub asked_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
