//! The `clarifications` table.

use crate::ids::{TenderId, UserId};
use crate::tenders::model::ClarificationKind;
use sea_orm::entity::prelude::*;

/// A row of `clarifications`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clarifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub public_id: Uuid,
    pub tender_id: TenderId,
    pub question_id: Option<i64>,
    pub kind: ClarificationKind,
    pub substantive: bool,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub old_deadline: Option<DateTimeUtc>,
    pub new_deadline: Option<DateTimeUtc>,
    pub published_by: UserId,
    pub published_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
