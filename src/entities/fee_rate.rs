//! The `fee_rates` table.

use crate::ids::{SiteId, UserId};
use crate::money::Money;
use sea_orm::entity::prelude::*;

/// A row of `fee_rates`: one site's rate table for expert fees.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fee_rates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub site_id: SiteId,
    pub base_fen: Money,
    pub base_hours: i32,
    pub hourly_fen: Money,
    pub daily_cap_fen: Money,
    pub withdrawn_fen: Money,
    pub holiday_factor: i32,
    pub set_by: UserId,
    pub set_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
