//! The suppliers invited to an invited tender (邀请招标): told by a notice when it is published,
//! and the only ones who may obtain its documents.

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("tender_invitations")
                .col(big_pk_auto("id"))
                .col(big_integer("tender_id"))
                .col(big_integer("org_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("tender_invitations", "tender_id", "tenders"))
                .foreign_key(&mut fk("tender_invitations", "org_id", "organisations"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("tender_invitations", &["tender_id", "org_id"], true)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("tender_invitations").to_owned()).await
    }
}
