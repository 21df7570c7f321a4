//! The `draws` table.

use crate::draw::model::DrawState;
use crate::ids::{DrawId, TenderId, UserId};
use sea_orm::entity::prelude::*;

/// A row of `draws`: one committee draw of a tender.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "draws")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: DrawId,
    pub public_id: Uuid,
    pub tender_id: TenderId,
    pub state: DrawState,
    /// SHA-256 of the secret, hex.
    pub commitment: String,
    /// The secret sealed with the vault key until it is revealed.
    #[sea_orm(column_type = "Text")]
    pub secret_sealed: String,
    /// The secret, hex, once the result is published.
    pub secret: Option<String>,
    /// The supervisor's contribution, hex.
    pub contribution: Option<String>,
    /// The request, canonical JSON.
    #[sea_orm(column_type = "Text", nullable)]
    pub request: Option<String>,
    pub session_at: Option<DateTimeUtc>,
    pub duration_minutes: Option<i32>,
    pub purchaser_rep: bool,
    /// The eligible experts in canonical order, JSON.
    #[sea_orm(column_type = "Text", nullable)]
    pub eligible: Option<String>,
    pub request_digest: Option<String>,
    pub eligible_digest: Option<String>,
    pub excluded_count: i32,
    pub created_by: UserId,
    pub created_at: DateTimeUtc,
    pub requested_at: Option<DateTimeUtc>,
    pub drawn_at: Option<DateTimeUtc>,
    pub published_at: Option<DateTimeUtc>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
