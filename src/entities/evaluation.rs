//! The `evaluations` table.

use crate::evaluation::model::Phase;
use crate::ids::{DrawId, EvaluationId, MemberId, SiteId, TenderId, UserId};
use sea_orm::entity::prelude::*;

/// A row of `evaluations`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "evaluations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: EvaluationId,
    pub public_id: Uuid,
    pub tender_id: TenderId,
    pub draw_id: DrawId,
    pub phase: Phase,
    pub chair_member_id: Option<MemberId>,
    pub host_site_id: Option<SiteId>,
    #[sea_orm(column_type = "Text")]
    pub labels: String,
    pub rank_key: String,
    #[sea_orm(column_type = "Text")]
    pub findings: String,
    pub opened_by: UserId,
    pub opened_at: DateTimeUtc,
    pub signed_at: Option<DateTimeUtc>,
    pub report_sha256: Option<String>,
    /// 1, and one more for each time an upheld complaint gave lots back to the committee.
    pub round: i32,
    /// The lots given back for re-evaluation (JSON array of lot ids) while the round runs.
    #[sea_orm(column_type = "Text", nullable)]
    pub reopened_lots: Option<String>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
