//! The `bids` table.

use crate::bids::service::BidStatus;
use crate::ids::{BidId, LotId, OrgId, TenderId, UserId};
use sea_orm::entity::prelude::*;

/// A row of `bids`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bids")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: BidId,
    pub public_id: Uuid,
    pub tender_id: TenderId,
    pub lot_id: LotId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub status: BidStatus,
    pub envelope_sha256: Option<String>,
    pub size_bytes: Option<i64>,
    pub bidder_key_id: Option<String>,
    pub signature: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub receipt: Option<String>,
    pub created_at: DateTimeUtc,
    pub received_at: Option<DateTimeUtc>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
