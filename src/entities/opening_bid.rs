//! The `opening_bids` table.

use crate::ids::{BidId, LotId, OpeningId, OrgId};
use sea_orm::entity::prelude::*;

/// A row of `opening_bids`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "opening_bids")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub opening_id: OpeningId,
    pub bid_id: BidId,
    pub org_id: OrgId,
    pub lot_id: LotId,
    pub signed_in_at: Option<DateTimeUtc>,
    pub released_at: Option<DateTimeUtc>,
    pub outcome: crate::opening::model::BidOutcome,
    pub reason: Option<String>,
    /// An invalid bid's reason as a stable code.
    pub reason_code: Option<String>,
    /// The bid form item an invalid bid's reason is about (its key).
    pub reason_item: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub sealed_key: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub sealed_form: Option<String>,
    pub confirmed_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub confirm_signature: Option<String>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
