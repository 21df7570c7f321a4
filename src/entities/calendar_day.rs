//! The `calendar_days` table.

use crate::calendar::DayKind;
use crate::ids::UserId;
use sea_orm::entity::prelude::*;

/// A row of `calendar_days`: a listed holiday or make-up working day.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_days")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `YYYY-MM-DD`, in China time.
    pub day: String,
    pub kind: DayKind,
    pub name: String,
    pub set_by: UserId,
    pub set_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
