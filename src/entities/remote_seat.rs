//! The `remote_seats` table.

use crate::ids::{MemberId, RemoteDrawId, UserId};
use sea_orm::entity::prelude::*;

/// A row of `remote_seats`: on the host, the member of its session a guest's pseudonymous
/// expert is, and the account the guest's commands for it act as.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "remote_seats")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub draw_id: RemoteDrawId,
    pub pseudonym: Uuid,
    pub member_id: MemberId,
    pub user_id: UserId,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
