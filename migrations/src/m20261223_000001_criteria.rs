//! A tender's evaluation criteria (评标办法): the review items, the scoring items, the price
//! weight, the small and micro enterprise deduction and whether the technical part is
//! anonymous, as one JSON document (`tenders::criteria::Criteria`) set on the draft and fixed
//! at publication.
//!
//! Tenders drafted before have none (NULL); publishing such a draft asks for criteria first.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("tenders").add_column(text_null("criteria")).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("tenders").drop_column("criteria").to_owned()).await
    }
}
