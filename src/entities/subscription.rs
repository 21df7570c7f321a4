//! The `subscriptions` table: a supplier user's standing request to hear of new tender notices.

use crate::ids::{OrgId, SubscriptionId, UserId};
use sea_orm::entity::prelude::*;

/// A row of `subscriptions`. Each list is a JSON array of strings; an empty list does not
/// narrow the match.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscriptions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: SubscriptionId,
    pub public_id: Uuid,
    pub user_id: UserId,
    pub org_id: OrgId,
    /// The name the supplier gave it; the notice names it.
    pub name: String,
    /// Procurement categories (`goods`, `works`, `services`).
    #[sea_orm(column_type = "Text")]
    pub categories: String,
    /// Regions: one matches a tender whose region contains it.
    #[sea_orm(column_type = "Text")]
    pub regions: String,
    /// Keywords: one matches a tender whose title, description or lot names it matches as the
    /// e-mall search would.
    #[sea_orm(column_type = "Text")]
    pub keywords: String,
    pub created_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
