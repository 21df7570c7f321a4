//! The opening hall's sign-in and confirmation windows: an opening keeps the lengths it took when
//! its hall opened, as it does for the decryption and objection windows. Openings from before
//! have 0, no window: the host moves on, as when they started.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "openings";
const COLUMNS: [&str; 2] = ["sign_in_minutes", "confirm_minutes"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        for column in COLUMNS {
            m.alter_table(Table::alter().table(TABLE).add_column(integer(column).default(0)).to_owned()).await?;
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
