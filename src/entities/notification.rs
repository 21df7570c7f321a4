//! The `notifications` table.

use crate::ids::{OrgId, TenderId, UserId};
use crate::notify::NoticeKind;
use sea_orm::entity::prelude::*;

/// A row of `notifications`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub public_id: Uuid,
    pub org_id: OrgId,
    pub kind: NoticeKind,
    /// The arguments as a JSON object (`notify::model::Args`).
    #[sea_orm(column_type = "Text")]
    pub args: String,
    pub tender_id: Option<TenderId>,
    pub link: Option<String>,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
    /// The one user of the organisation the notice is for (an expert of the pool), or `None`
    /// for everyone in it.
    pub user_id: Option<UserId>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
