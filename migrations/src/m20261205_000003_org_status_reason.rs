//! Why an organisation has its status: the reason an administrator gave for rejecting its
//! registration, which the applicant is told and sees when it tries to log in.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("organisations").add_column(text_null("status_reason")).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("organisations").drop_column("status_reason").to_owned()).await
    }
}
