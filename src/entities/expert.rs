//! The `experts` table.

use crate::experts::model::ExpertStatus;
use crate::ids::{ExpertId, SiteId, UserId};
use sea_orm::entity::prelude::*;

/// A row of `experts`. `id_number` is the whole identity number: it never leaves the server
/// (views carry it masked, `experts::model::mask_id_number`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "experts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ExpertId,
    pub public_id: Uuid,
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub title: String,
    pub site_id: SiteId,
    pub status: ExpertStatus,
    #[sea_orm(column_type = "Text", nullable)]
    pub status_reason: Option<String>,
    pub user_id: Option<UserId>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
