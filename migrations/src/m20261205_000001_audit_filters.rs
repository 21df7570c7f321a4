//! Indexes for the filters of the audit trail's listing: by the acting organisation, the acting
//! user, the action and the time, each newest first by sequence number.

use crate::util::index;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "audit_records";
const INDEXES: &[&[&str]] = &[&["actor_org_id", "seq"], &["actor_user_id", "seq"], &["action", "seq"], &["at"]];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for cols in INDEXES {
            m.create_index(index(TABLE, cols, false)).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for cols in INDEXES {
            m.drop_index(Index::drop().name(format!("ix_{TABLE}_{}", cols.join("_"))).table(TABLE).to_owned()).await?;
        }
        Ok(())
    }
}
