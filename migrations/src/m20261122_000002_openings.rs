//! The opening hall (不见面开标): one opening per tender, its numbered events, each bid's part in
//! it, and objections.

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // The hall of a tender: its phase, the current window, the host, the record.
        m.create_table(
            Table::create()
                .table("openings")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("tender_id"))
                .col(string("phase"))
                .col(integer("decrypt_minutes"))
                .col(integer("objection_minutes"))
                .col(integer("min_valid_bids"))
                .col(timestamp_with_time_zone("phase_started_at"))
                .col(timestamp_with_time_zone_null("window_ends_at"))
                .col(big_integer_null("host_user_id"))
                .col(big_integer("last_seq"))
                .col(string_null("outcome"))
                .col(string_null("record_sha256"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("openings", "tender_id", "tenders"))
                .to_owned(),
        )
        .await?;

        // Every hall event, numbered per opening, written before it is sent to anyone.
        // `audience`: "all", "staff" (host, procuring unit, supervisors) or "org:<id>".
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
                .foreign_key(&mut fk("hall_events", "opening_id", "openings"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("hall_events", &["opening_id", "seq"], true)).await?;

        // Each submitted bid's part in the opening. The released content key and the bid form
        // are kept only sealed with the platform's vault key, never in the clear.
        m.create_table(
            Table::create()
                .table("opening_bids")
                .col(big_pk_auto("id"))
                .col(big_integer("opening_id"))
                .col(big_integer_uniq("bid_id"))
                .col(big_integer("org_id"))
                .col(big_integer("lot_id"))
                .col(timestamp_with_time_zone_null("signed_in_at"))
                .col(timestamp_with_time_zone_null("released_at"))
                .col(string("outcome"))
                .col(string_null("reason"))
                .col(text_null("sealed_key"))
                .col(text_null("sealed_form"))
                .col(timestamp_with_time_zone_null("confirmed_at"))
                .col(text_null("confirm_signature"))
                .foreign_key(&mut fk("opening_bids", "opening_id", "openings"))
                .foreign_key(&mut fk("opening_bids", "bid_id", "bids"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("opening_bids", &["opening_id"], false)).await?;

        // Objections (异议) raised in the objection window, and the host's answers.
        m.create_table(
            Table::create()
                .table("objections")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer("opening_id"))
                .col(big_integer("org_id"))
                .col(big_integer("user_id"))
                .col(text("text"))
                .col(timestamp_with_time_zone("raised_at"))
                .col(text_null("answer"))
                .col(timestamp_with_time_zone_null("answered_at"))
                .col(big_integer_null("answered_by"))
                .foreign_key(&mut fk("objections", "opening_id", "openings"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["objections", "opening_bids", "hall_events", "openings"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
