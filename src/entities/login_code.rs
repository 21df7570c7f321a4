//! The `login_codes` table: a code sent by SMS after a right password, waiting to be given.

use crate::ids::UserId;
use sea_orm::entity::prelude::*;

/// A row of `login_codes`. The code and the pending login's secret are kept as SHA-256 only.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_codes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Names the message to the gateway (its idempotency key).
    pub public_id: Uuid,
    /// SHA-256 of the pending login's secret, which the login form carries.
    pub token_hash: String,
    pub user_id: UserId,
    /// SHA-256 of the secret and the code.
    pub code_hash: String,
    /// Where it was sent.
    pub phone: String,
    pub remote_addr: String,
    /// Wrong codes given so far.
    pub wrong: i32,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// When it was given right (a code is used once).
    pub used_at: Option<DateTimeUtc>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
