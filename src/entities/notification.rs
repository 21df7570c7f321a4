//! The `notifications` table.

use sea_orm::entity::prelude::*;

/// A row of `notifications`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub public_id: Uuid,
    pub org_id: i64,
    pub kind: String,
    pub tender_id: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub message_zh: String,
    #[sea_orm(column_type = "Text")]
    pub message_en: String,
    pub link: Option<String>,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
