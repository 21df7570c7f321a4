//! The `openings` table.

use crate::ids::{OpeningId, TenderId, UserId};
use sea_orm::entity::prelude::*;

/// A row of `openings`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "openings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: OpeningId,
    pub tender_id: TenderId,
    pub phase: crate::opening::model::Phase,
    pub decrypt_minutes: i32,
    pub objection_minutes: i32,
    /// Minutes of the sign-in window from the hall's opening; 0 for none.
    pub sign_in_minutes: i32,
    /// Minutes of the confirmation window; 0 for none.
    pub confirm_minutes: i32,
    pub min_valid_bids: i32,
    pub phase_started_at: DateTimeUtc,
    pub window_ends_at: Option<DateTimeUtc>,
    pub host_user_id: Option<UserId>,
    pub outcome: Option<String>,
    pub record_sha256: Option<String>,
    pub created_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
