//! The `remote_draws` table.

use crate::federation::draw::{RemoteDrawState, Side};
use crate::ids::{RemoteDrawId, TenderId};
use sea_orm::entity::prelude::*;

/// A row of `remote_draws`: a draw asked of a guest deployment (host side) or drawn for a host
/// (guest side).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "remote_draws")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: RemoteDrawId,
    pub public_id: Uuid,
    pub peer: String,
    pub side: Side,
    pub request_ref: Uuid,
    pub tender_id: Option<TenderId>,
    pub tender_code: String,
    pub state: RemoteDrawState,
    #[sea_orm(column_type = "Text")]
    pub asked: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub inputs: Option<String>,
    pub commitment: Option<String>,
    pub eligible_digest: Option<String>,
    pub contribution: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub secret: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub picks: Option<String>,
    pub failure: Option<String>,
    pub session_id: Option<crate::ids::EvaluationId>,
    pub relayed_seq: i64,
    #[sea_orm(column_type = "Text", nullable)]
    pub report: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
