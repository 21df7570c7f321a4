//! Re-evaluation after an upheld complaint (重新评审): a session counts its rounds and keeps the
//! lots its committee has been given back; a lot's award counts its rounds of publicity and
//! keeps when its result was set aside.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds columns one at a time.
        let add = |table: &'static str, col: ColumnDef| Table::alter().table(table).add_column(col).to_owned();
        m.alter_table(add("evaluations", integer("round").default(1).to_owned())).await?;
        m.alter_table(add("evaluations", text_null("reopened_lots").to_owned())).await?;
        m.alter_table(add("award_lots", integer("round").default(1).to_owned())).await?;
        m.alter_table(add("award_lots", timestamp_with_time_zone_null("returned_at").to_owned())).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let drop = |table: &'static str, col: &'static str| Table::alter().table(table).drop_column(col).to_owned();
        m.alter_table(drop("award_lots", "returned_at")).await?;
        m.alter_table(drop("award_lots", "round")).await?;
        m.alter_table(drop("evaluations", "reopened_lots")).await?;
        m.alter_table(drop("evaluations", "round")).await?;
        Ok(())
    }
}
