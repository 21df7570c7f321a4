//! The random draws of evaluation committees: the draw with its commitment, request, eligible
//! list and revealed secret; the experts excluded with their reasons; the experts drawn, with
//! their answers; the replacements called. Notices gain an optional user, so that a notice to
//! one expert is not read by the others of the pool's organisation.

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("draws")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer_uniq("tender_id"))
                .col(string("state"))
                .col(string("commitment"))
                .col(text("secret_sealed"))
                .col(string_null("secret"))
                .col(string_null("contribution"))
                .col(text_null("request"))
                .col(timestamp_with_time_zone_null("session_at"))
                .col(integer_null("duration_minutes"))
                .col(boolean("purchaser_rep").default(false))
                .col(text_null("eligible"))
                .col(string_null("request_digest"))
                .col(string_null("eligible_digest"))
                .col(integer("excluded_count").default(0))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("requested_at"))
                .col(timestamp_with_time_zone_null("drawn_at"))
                .col(timestamp_with_time_zone_null("published_at"))
                .foreign_key(&mut fk("draws", "tender_id", "tenders"))
                .foreign_key(&mut fk("draws", "created_by", "users"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("draw_exclusions")
                .col(big_pk_auto("id"))
                .col(big_integer("draw_id"))
                .col(big_integer("expert_id"))
                .col(string("reason"))
                .col(text("detail"))
                .foreign_key(&mut fk("draw_exclusions", "draw_id", "draws"))
                .foreign_key(&mut fk("draw_exclusions", "expert_id", "experts"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("draw_exclusions", &["draw_id", "expert_id"], false)).await?;
        m.create_table(
            Table::create()
                .table("draw_picks")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer("draw_id"))
                .col(integer("seq"))
                .col(integer("group_no"))
                .col(big_integer("expert_id"))
                .col(string("role"))
                .col(string("status"))
                .col(timestamp_with_time_zone_null("invited_at"))
                .col(timestamp_with_time_zone_null("answer_by"))
                .col(timestamp_with_time_zone_null("answered_at"))
                .col(text_null("note"))
                .foreign_key(&mut fk("draw_picks", "draw_id", "draws"))
                .foreign_key(&mut fk("draw_picks", "expert_id", "experts"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("draw_picks", &["draw_id", "seq"], true)).await?;
        m.create_index(index("draw_picks", &["expert_id", "status"], false)).await?;
        m.create_table(
            Table::create()
                .table("draw_calls")
                .col(big_pk_auto("id"))
                .col(big_integer("draw_id"))
                .col(integer("seq"))
                .col(integer("group_no"))
                .col(big_integer("left_expert_id"))
                .col(big_integer("called_expert_id"))
                .col(string("cause"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("draw_calls", "draw_id", "draws"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("draw_calls", &["draw_id", "seq"], true)).await?;
        m.alter_table(Table::alter().table("notifications").add_column(big_integer_null("user_id")).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("notifications").drop_column("user_id").to_owned()).await?;
        for t in ["draw_calls", "draw_picks", "draw_exclusions", "draws"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
