//! The `lots` table.

use crate::ids::{LotId, TenderId};
use crate::money::Money;
use sea_orm::entity::prelude::*;

/// A row of `lots`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: LotId,
    pub public_id: Uuid,
    pub tender_id: TenderId,
    pub lot_no: i32,
    pub name: String,
    pub budget_fen: Money,
    pub ceiling_fen: Option<Money>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
