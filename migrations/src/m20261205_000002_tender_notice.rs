//! What a tender notice carries besides its lots and deadline: the qualification requirements
//! (资格要求), a contact person and phone, the period in which suppliers obtain the documents
//! (获取招标文件的时间) and the bid deposit (投标保证金, `BIGINT` fen; none when NULL).
//!
//! Tenders drafted before have empty texts and no period or deposit; publishing a draft requires
//! the texts and the period.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "tenders";
const COLUMNS: &[&str] =
    &["qualification", "contact_person", "contact_phone", "documents_from", "documents_until", "deposit_fen"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds (and drops) one at a time.
        let add = |c: ColumnDef| Table::alter().table(TABLE).add_column(c).to_owned();
        m.alter_table(add(text("qualification").default("").to_owned())).await?;
        m.alter_table(add(string("contact_person").default("").to_owned())).await?;
        m.alter_table(add(string("contact_phone").default("").to_owned())).await?;
        m.alter_table(add(timestamp_with_time_zone_null("documents_from"))).await?;
        m.alter_table(add(timestamp_with_time_zone_null("documents_until"))).await?;
        m.alter_table(add(big_integer_null("deposit_fen"))).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for c in COLUMNS {
            m.alter_table(Table::alter().table(TABLE).drop_column(*c).to_owned()).await?;
        }
        Ok(())
    }
}
