//! Notices are stored as a kind and named arguments, rendered when read in the reader's
//! language, instead of as a Chinese and an English text rendered when sent.
//!
//! `notifications` gains `args` (a JSON object of named arguments, each `{"type": ..., "value":
//! ...}`) and loses `message_zh` and `message_en`. A notice stored before keeps what its reader
//! saw: it becomes kind `legacy` with one argument `text` holding both stored texts
//! (`{"type": "both", "value": {"zh": ..., "en": ...}}`), whose template shows the reader's
//! language's text. Its old kind does not survive: its words were written for the texts, which
//! are kept, and the templates of today's kinds take arguments those rows do not have.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "notifications";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(TABLE).add_column(text("args").default("{}")).to_owned()).await?;
        // JSON built by the database from the stored texts, so every text is escaped right.
        let args = match m.get_database_backend() {
            DbBackend::Postgres => {
                "json_build_object('text', json_build_object('type', 'both', 'value', \
                 json_build_object('zh', message_zh, 'en', message_en)))::text"
            }
            _ => {
                "json_object('text', json_object('type', 'both', 'value', \
                 json_object('zh', message_zh, 'en', message_en)))"
            }
        };
        m.get_connection().execute_unprepared(&format!("UPDATE {TABLE} SET kind = 'legacy', args = {args}")).await?;
        // One column per statement: SQLite (3.35 and later) drops one at a time.
        for column in ["message_zh", "message_en"] {
            m.alter_table(Table::alter().table(TABLE).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }

    /// Back to stored texts: a `legacy` notice gets its texts back; a notice of any other kind
    /// has its kind as its text (the older version has no templates to render it with).
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in ["message_zh", "message_en"] {
            m.alter_table(Table::alter().table(TABLE).add_column(text(column).default("")).to_owned()).await?;
        }
        let (zh, en) = match m.get_database_backend() {
            DbBackend::Postgres => {
                ("args::json -> 'text' -> 'value' ->> 'zh'", "args::json -> 'text' -> 'value' ->> 'en'")
            }
            _ => ("json_extract(args, '$.text.value.zh')", "json_extract(args, '$.text.value.en')"),
        };
        let db = m.get_connection();
        db.execute_unprepared(&format!(
            "UPDATE {TABLE} SET message_zh = COALESCE({zh}, ''), message_en = COALESCE({en}, '') WHERE kind = 'legacy'"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "UPDATE {TABLE} SET message_zh = kind, message_en = kind WHERE kind <> 'legacy'"
        ))
        .await?;
        m.alter_table(Table::alter().table(TABLE).drop_column("args").to_owned()).await?;
        Ok(())
    }
}
