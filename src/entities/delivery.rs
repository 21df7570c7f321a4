//! The `deliveries` table: the outbox of notices sent outside the platform.

use crate::deliver::{Channel, DeliveryState};
use crate::ids::UserId;
use crate::notify::NoticeKind;
use sea_orm::entity::prelude::*;

/// A row of `deliveries`: one notice to one user by one channel, and how its sending went.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub public_id: Uuid,
    /// The notice (`notifications`) it carries.
    pub notification_id: i64,
    pub user_id: UserId,
    pub channel: Channel,
    /// Where it goes (the e-mail address as it was when the notice was raised).
    pub address: String,
    pub kind: NoticeKind,
    pub state: DeliveryState,
    /// Fixed when the row is written; the e-mail's Message-ID is made from it.
    pub idempotency_key: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// A sender holds the row until then.
    pub claimed_until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
