//! The `site_members` table.

use crate::ids::{SiteId, UserId};
use sea_orm::entity::prelude::*;

/// A row of `site_members`: a centre user bound to a site.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "site_members")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub site_id: SiteId,
    pub user_id: UserId,
    pub created_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
