//! The `tenders` table.

use crate::ids::{OrgId, TenderId, UserId};
use crate::money::Money;
use crate::tenders::model::{EvaluationMethod, OpeningMode, ProcurementMethod, TenderState};
use sea_orm::entity::prelude::*;

/// A row of `tenders`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: TenderId,
    pub public_id: Uuid,
    pub code: String,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub procuring_org_id: OrgId,
    pub agency_org_id: Option<OrgId>,
    pub created_by: UserId,
    pub procurement_method: ProcurementMethod,
    pub evaluation_method: EvaluationMethod,
    pub opening_mode: OpeningMode,
    pub state: TenderState,
    pub bid_deadline: DateTimeUtc,
    pub question_cutoff: DateTimeUtc,
    #[sea_orm(column_type = "Text")]
    pub bid_form: String,
    pub min_valid_bids: i32,
    pub cancel_reason: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub qualification: String,
    pub contact_person: String,
    pub contact_phone: String,
    pub documents_from: Option<DateTimeUtc>,
    pub documents_until: Option<DateTimeUtc>,
    pub deposit_fen: Option<Money>,
    pub published_at: Option<DateTimeUtc>,
    /// The evaluation criteria as JSON (`tenders::criteria::Criteria`); none on tenders drafted
    /// before criteria existed.
    #[sea_orm(column_type = "Text", nullable)]
    pub criteria: Option<String>,
    /// 项目所在地区: where the work is done or the goods delivered, as the notice names it
    /// (empty if not given); suppliers' subscriptions match it.
    pub region: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
