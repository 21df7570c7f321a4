//! Suppliers' subscriptions to new tender notices (by procurement category, region and keywords)
//! and the region of a tender (项目所在地区) they are matched against.

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
        m.alter_table(Table::alter().table("tenders").add_column(string("region").default("")).to_owned()).await?;
        m.create_table(
            Table::create()
                .table("subscriptions")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer("user_id"))
                .col(big_integer("org_id"))
                .col(string("name"))
                .col(text("categories"))
                .col(text("regions"))
                .col(text("keywords"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("subscriptions", "user_id", "users"))
                .foreign_key(&mut fk("subscriptions", "org_id", "organisations"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("subscriptions", &["user_id"], false)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("subscriptions").to_owned()).await?;
        m.alter_table(Table::alter().table("tenders").drop_column("region").to_owned()).await
    }
}
