//! Fees across sites: a guest deployment pays its own experts for a host's session. Their fee
//! rows belong to the expert of a remote draw (`remote_expert_id`, a row of
//! `remote_draw_experts`) instead of a local session's member, so `expert_fees.evaluation_id`
//! and `expert_fees.member_id` become optional. Every row has exactly one of the two owners.
//!
//! PostgreSQL relaxes the columns in place; SQLite cannot, so there the table is rebuilt with
//! the same rows, ids and indexes (nothing refers to `expert_fees`), in one transaction.

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns both shapes of the table share, in order.
const SHARED: &str = "id, public_id, evaluation_id, member_id, expert_id, amount_fen, minutes, holiday, withdrawn, \
                      breakdown, status, idempotency_key, attempts, next_attempt_at, last_error, payment_ref, paid_at, \
                      created_at";

/// `expert_fees` as `name`: with the guest's owner (and optional local owners), or as before.
fn table(name: &'static str, guest: bool) -> TableCreateStatement {
    let owner = |c: &'static str| if guest { big_integer_null(c) } else { big_integer(c) };
    let member =
        if guest { big_integer_null("member_id").unique_key().to_owned() } else { big_integer_uniq("member_id") };
    let mut t = Table::create();
    t.table(name)
        .col(big_pk_auto("id"))
        .col(uuid_uniq("public_id"))
        .col(owner("evaluation_id"))
        .col(member)
        .col(big_integer("expert_id"))
        .col(big_integer("amount_fen"))
        .col(integer("minutes"))
        .col(boolean("holiday"))
        .col(boolean("withdrawn"))
        .col(text("breakdown"))
        .col(string("status"))
        .col(string_uniq("idempotency_key"))
        .col(integer("attempts").default(0))
        .col(timestamp_with_time_zone("next_attempt_at"))
        .col(text_null("last_error"))
        .col(string_null("payment_ref"))
        .col(timestamp_with_time_zone_null("paid_at"))
        .col(timestamp_with_time_zone("created_at"))
        .foreign_key(&mut fk("expert_fees", "evaluation_id", "evaluations"))
        .foreign_key(&mut fk("expert_fees", "member_id", "evaluation_members"))
        .foreign_key(&mut fk("expert_fees", "expert_id", "experts"));
    if guest {
        t.col(big_integer_null("remote_expert_id").unique_key()).foreign_key(&mut fk(
            "expert_fees",
            "remote_expert_id",
            "remote_draw_experts",
        ));
    }
    t.to_owned()
}

/// SQLite: rebuilds `expert_fees` in the shape wanted, keeping every row and id.
async fn rebuild(m: &SchemaManager<'_>, guest: bool) -> Result<(), DbErr> {
    let db = m.get_connection();
    m.create_table(table("expert_fees_next", guest)).await?;
    db.execute_unprepared(&format!("INSERT INTO expert_fees_next ({SHARED}) SELECT {SHARED} FROM expert_fees")).await?;
    db.execute_unprepared("DROP TABLE expert_fees").await?;
    db.execute_unprepared("ALTER TABLE expert_fees_next RENAME TO expert_fees").await?;
    m.create_index(index("expert_fees", &["status", "next_attempt_at"], false)).await?;
    m.create_index(index("expert_fees", &["expert_id"], false)).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on SQLite too: the rebuild is all or nothing, on one connection.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        match m.get_database_backend() {
            DbBackend::Postgres => {
                m.get_connection()
                    .execute_unprepared(
                        "ALTER TABLE expert_fees ALTER COLUMN evaluation_id DROP NOT NULL, \
                         ALTER COLUMN member_id DROP NOT NULL, \
                         ADD COLUMN remote_expert_id BIGINT NULL UNIQUE \
                         CONSTRAINT fk_expert_fees_remote_expert_id REFERENCES remote_draw_experts (id) ON DELETE RESTRICT",
                    )
                    .await?;
            }
            _ => rebuild(m, true).await?,
        }
        Ok(())
    }

    /// Back to fees of local members only: the guest's fees are dropped.
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DELETE FROM expert_fees WHERE remote_expert_id IS NOT NULL").await?;
        match m.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "ALTER TABLE expert_fees DROP COLUMN remote_expert_id, \
                     ALTER COLUMN evaluation_id SET NOT NULL, ALTER COLUMN member_id SET NOT NULL",
                )
                .await?;
            }
            _ => rebuild(m, false).await?,
        }
        Ok(())
    }
}
