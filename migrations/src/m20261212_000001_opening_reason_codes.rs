//! Why a bid was found invalid at the opening, as a stable code (a bid form problem such as
//! `missing_item`, or the envelope's failure such as `corrupted_chunk`) and the bid form item it
//! is about, beside the reason in words. Bids found invalid before have neither.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "opening_bids";
const COLUMNS: [&str; 2] = ["reason_code", "reason_item"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        for column in COLUMNS {
            m.alter_table(Table::alter().table(TABLE).add_column(text_null(column)).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            m.alter_table(Table::alter().table(TABLE).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
