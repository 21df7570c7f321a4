//! The `remote_draw_experts` table.

use crate::ids::{ExpertId, RemoteDrawId};
use sea_orm::entity::prelude::*;

/// A row of `remote_draw_experts`: on the guest, the expert behind a pseudonymous id it gave
/// the host.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "remote_draw_experts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub draw_id: RemoteDrawId,
    pub pseudonym: Uuid,
    pub expert_id: ExpertId,
    pub member: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub brief: Option<String>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
