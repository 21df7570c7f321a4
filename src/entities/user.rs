//! The `users` table.

use crate::accounts::model::{Role, Status};
use crate::ids::{OrgId, UserId};
use sea_orm::entity::prelude::*;

/// A row of `users`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: UserId,
    pub public_id: Uuid,
    pub org_id: OrgId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
    pub status: Status,
    pub email: Option<String>,
    /// Whether the user chose to give a login code sent by SMS after its password.
    pub login_codes: bool,
    pub created_at: DateTimeUtc,
    pub password_changed_at: Option<DateTimeUtc>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
