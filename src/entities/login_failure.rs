//! The `login_failures` table.

use sea_orm::entity::prelude::*;

/// A row of `login_failures`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_failures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub username: String,
    pub remote_addr: String,
    pub at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
