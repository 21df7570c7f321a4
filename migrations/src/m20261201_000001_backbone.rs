//! The backbone for live work: numbered events of every live room (the opening hall's events
//! move here from `hall_events`), and durable jobs with a due time.

use crate::util::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Events of a live room (`room_kind`, `room_id`), numbered 1, 2, 3… per room, written in
        // the transaction of the change that causes them.
        m.create_table(
            Table::create()
                .table("room_events")
                .col(big_pk_auto("id"))
                .col(string("room_kind"))
                .col(big_integer("room_id"))
                .col(big_integer("seq"))
                .col(string("kind"))
                .col(string("audience"))
                .col(text("payload"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("room_events", &["room_kind", "room_id", "seq"], true)).await?;
        let db = m.get_connection();
        db.execute_unprepared(
            "INSERT INTO room_events (room_kind, room_id, seq, kind, audience, payload, created_at) \
             SELECT 'opening', opening_id, seq, kind, audience, payload, created_at FROM hall_events ORDER BY id",
        )
        .await?;
        m.drop_table(Table::drop().table("hall_events").to_owned()).await?;
        // A room's last number is read from its events; the opening's own copy would go stale.
        m.alter_table(Table::alter().table("openings").drop_column("last_seq").to_owned()).await?;

        // Work that must happen at a time: claimed by one runner, retried with backoff, recorded
        // when it fails for good. `idempotency_key` names the work, so scheduling it twice is
        // one job.
        m.create_table(
            Table::create()
                .table("jobs")
                .col(big_pk_auto("id"))
                .col(string("kind"))
                .col(text("args"))
                .col(timestamp_with_time_zone("due_at"))
                .col(string("status"))
                .col(integer("attempts"))
                .col(text_null("last_error"))
                .col(string_uniq("idempotency_key"))
                .col(string_null("claimed_by"))
                .col(timestamp_with_time_zone_null("claimed_until"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("jobs", &["status", "due_at"], false)).await?;

        // What was waiting for a page view before jobs existed becomes due work: halls to open
        // at their deadline, windows to close, quotations to close. (The kinds and keys are
        // those of the opening, tender and e-mall modules.)
        let db = m.get_connection();
        for sql in [
            "INSERT INTO jobs (kind, args, due_at, status, attempts, idempotency_key, created_at) \
             SELECT 'tender.deadline', '{\"tender_id\":' || t.id || '}', t.bid_deadline, 'pending', 0, \
             'tender.deadline:' || t.id, t.bid_deadline FROM tenders t WHERE t.state = 'published' \
             AND NOT EXISTS (SELECT 1 FROM openings o WHERE o.tender_id = t.id)",
            "INSERT INTO jobs (kind, args, due_at, status, attempts, idempotency_key, created_at) \
             SELECT 'opening.window', '{\"opening_id\":' || o.id || ',\"phase\":\"' || o.phase || '\"}', \
             o.window_ends_at, 'pending', 0, 'opening.window:' || o.id || ':' || o.phase, o.window_ends_at \
             FROM openings o WHERE o.phase IN ('decryption', 'objections') AND o.window_ends_at IS NOT NULL",
            "INSERT INTO jobs (kind, args, due_at, status, attempts, idempotency_key, created_at) \
             SELECT 'mall.quotation.close', '{\"quotation_id\":' || q.id || '}', q.closes_at, 'pending', 0, \
             'mall.quotation.close:' || q.id, q.closes_at FROM mall_quotations q WHERE q.status = 'open'",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("jobs").to_owned()).await?;
        m.create_table(
            Table::create()
                .table("hall_events")
                .col(big_pk_auto("id"))
                .col(big_integer("opening_id"))
                .col(big_integer("seq"))
                .col(string("kind"))
                .col(string("audience"))
                .col(text("payload"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO hall_events (opening_id, seq, kind, audience, payload, created_at) \
                 SELECT room_id, seq, kind, audience, payload, created_at FROM room_events WHERE room_kind = 'opening'",
            )
            .await?;
        m.alter_table(Table::alter().table("openings").add_column(big_integer("last_seq").default(0)).to_owned())
            .await?;
        m.get_connection()
            .execute_unprepared(
                "UPDATE openings SET last_seq = COALESCE((SELECT MAX(r.seq) FROM room_events r \
                 WHERE r.room_kind = 'opening' AND r.room_id = openings.id), 0)",
            )
            .await?;
        m.drop_table(Table::drop().table("room_events").to_owned()).await?;
        Ok(())
    }
}
