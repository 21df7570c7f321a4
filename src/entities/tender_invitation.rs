//! The `tender_invitations` table: a supplier invited to an invited tender.

use crate::ids::{OrgId, TenderId};
use sea_orm::entity::prelude::*;

/// A row of `tender_invitations`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tender_invitations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tender_id: TenderId,
    pub org_id: OrgId,
    pub created_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
