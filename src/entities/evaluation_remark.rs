//! The `evaluation_remarks` table.

use crate::evaluation::model::RemarkKind;
use crate::ids::{EvaluationId, MemberId, UserId};
use sea_orm::entity::prelude::*;

/// A row of `evaluation_remarks`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "evaluation_remarks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub evaluation_id: EvaluationId,
    pub user_id: UserId,
    pub member_id: Option<MemberId>,
    pub kind: RemarkKind,
    pub code: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
