//! The evaluation session (评标): one per tender, with its committee members (the experts drawn
//! and a procuring unit's representative, each with their sign-in, declaration, vote for the
//! chair and signature), the review votes (资格审查, 符合性审查: pass or fail per item and bid),
//! the scores (per item and bid, in hundredths of a point), and the remarks (supervisors'
//! notes, dissents, reopened sheets with their reason).

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("evaluations")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer_uniq("tender_id"))
                .col(big_integer("draw_id"))
                .col(string("phase"))
                .col(big_integer_null("chair_member_id"))
                .col(big_integer_null("host_site_id"))
                .col(text("labels"))
                .col(string("rank_key"))
                .col(text("findings"))
                .col(big_integer("opened_by"))
                .col(timestamp_with_time_zone("opened_at"))
                .col(timestamp_with_time_zone_null("signed_at"))
                .col(string_null("report_sha256"))
                .foreign_key(&mut fk("evaluations", "tender_id", "tenders"))
                .foreign_key(&mut fk("evaluations", "draw_id", "draws"))
                .foreign_key(&mut fk("evaluations", "opened_by", "users"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("evaluation_members")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer("evaluation_id"))
                .col(integer("seq"))
                .col(big_integer("user_id"))
                .col(big_integer_null("expert_id"))
                .col(big_integer_null("pick_id"))
                .col(big_integer_null("site_id"))
                .col(boolean("is_rep").default(false))
                .col(string("status"))
                .col(timestamp_with_time_zone_null("signed_in_at"))
                .col(timestamp_with_time_zone_null("declared_at"))
                .col(big_integer_null("chair_vote"))
                .col(timestamp_with_time_zone_null("signed_at"))
                .col(text_null("left_reason"))
                .foreign_key(&mut fk("evaluation_members", "evaluation_id", "evaluations"))
                .foreign_key(&mut fk("evaluation_members", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("evaluation_members", &["evaluation_id", "seq"], true)).await?;
        m.create_table(
            Table::create()
                .table("evaluation_votes")
                .col(big_pk_auto("id"))
                .col(big_integer("evaluation_id"))
                .col(big_integer("member_id"))
                .col(big_integer("bid_id"))
                .col(string("stage"))
                .col(string("item_key"))
                .col(boolean("pass"))
                .col(text_null("reason"))
                .col(timestamp_with_time_zone("at"))
                .foreign_key(&mut fk("evaluation_votes", "evaluation_id", "evaluations"))
                .foreign_key(&mut fk("evaluation_votes", "member_id", "evaluation_members"))
                .foreign_key(&mut fk("evaluation_votes", "bid_id", "bids"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("evaluation_votes", &["member_id", "bid_id", "stage", "item_key"], true)).await?;
        m.create_table(
            Table::create()
                .table("evaluation_scores")
                .col(big_pk_auto("id"))
                .col(big_integer("evaluation_id"))
                .col(big_integer("member_id"))
                .col(big_integer("bid_id"))
                .col(string("item_key"))
                .col(big_integer("points"))
                .col(text_null("reason"))
                .col(timestamp_with_time_zone("at"))
                .foreign_key(&mut fk("evaluation_scores", "evaluation_id", "evaluations"))
                .foreign_key(&mut fk("evaluation_scores", "member_id", "evaluation_members"))
                .foreign_key(&mut fk("evaluation_scores", "bid_id", "bids"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("evaluation_scores", &["member_id", "bid_id", "item_key"], true)).await?;
        m.create_table(
            Table::create()
                .table("evaluation_remarks")
                .col(big_pk_auto("id"))
                .col(big_integer("evaluation_id"))
                .col(big_integer("user_id"))
                .col(big_integer_null("member_id"))
                .col(string("kind"))
                .col(string_null("code"))
                .col(text("body"))
                .col(timestamp_with_time_zone("at"))
                .foreign_key(&mut fk("evaluation_remarks", "evaluation_id", "evaluations"))
                .foreign_key(&mut fk("evaluation_remarks", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("evaluation_remarks", &["evaluation_id"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["evaluation_remarks", "evaluation_scores", "evaluation_votes", "evaluation_members", "evaluations"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
