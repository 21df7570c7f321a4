//! The `evaluation_votes` table.

use crate::evaluation::model::Stage;
use crate::ids::{BidId, EvaluationId, MemberId};
use sea_orm::entity::prelude::*;

/// A row of `evaluation_votes`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "evaluation_votes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub evaluation_id: EvaluationId,
    pub member_id: MemberId,
    pub bid_id: BidId,
    pub stage: Stage,
    pub item_key: String,
    pub pass: bool,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    pub at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
