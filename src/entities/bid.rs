//! The `bids` table.

use crate::bids::service::BidStatus;
use sea_orm::entity::prelude::*;

/// A row of `bids`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bids")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub public_id: Uuid,
    pub tender_id: i64,
    pub lot_id: i64,
    pub org_id: i64,
    pub user_id: i64,
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
