//! From the evaluation report to the contract: the centre's working-day calendar (holidays and
//! make-up working days), each lot's award (its candidates, publicity, decision, notice and
//! contract), the challenges (质疑) with their complaints (投诉), and the ratings of the
//! committee's experts after the session (专家评价).

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("calendar_days")
                .col(big_pk_auto("id"))
                .col(string_uniq("day"))
                .col(string("kind"))
                .col(string("name"))
                .col(big_integer("set_by"))
                .col(timestamp_with_time_zone("set_at"))
                .foreign_key(&mut fk("calendar_days", "set_by", "users"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("award_lots")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer("tender_id"))
                .col(big_integer_uniq("lot_id"))
                .col(string("state"))
                .col(text("candidates"))
                .col(string("regime"))
                .col(timestamp_with_time_zone("report_signed_at"))
                .col(timestamp_with_time_zone("published_at"))
                .col(boolean("published_late").default(false))
                .col(big_integer("published_by"))
                .col(timestamp_with_time_zone("publicity_until"))
                .col(timestamp_with_time_zone("challenge_until"))
                .col(timestamp_with_time_zone("decide_by"))
                .col(big_integer_null("winner_bid_id"))
                .col(big_integer_null("winner_org_id"))
                .col(big_integer_null("award_fen"))
                .col(integer_null("winner_rank"))
                .col(text_null("choice_reason"))
                .col(big_integer_null("awarded_by"))
                .col(timestamp_with_time_zone_null("awarded_at"))
                .col(timestamp_with_time_zone_null("contract_due"))
                .col(big_integer_null("contract_fen"))
                .col(string_null("contract_signed_on"))
                .col(string_null("contract_sha256"))
                .col(timestamp_with_time_zone_null("contract_recorded_at"))
                .col(boolean("contract_overdue").default(false))
                .foreign_key(&mut fk("award_lots", "tender_id", "tenders"))
                .foreign_key(&mut fk("award_lots", "lot_id", "lots"))
                .foreign_key(&mut fk("award_lots", "published_by", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("award_lots", &["tender_id"], false)).await?;
        m.create_index(index("award_lots", &["published_at"], false)).await?;
        m.create_table(
            Table::create()
                .table("challenges")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer("tender_id"))
                .col(big_integer("award_lot_id"))
                .col(big_integer("org_id"))
                .col(big_integer("user_id"))
                .col(string("state"))
                .col(text("body"))
                .col(string_null("evidence_sha256"))
                .col(string_null("evidence_name"))
                .col(timestamp_with_time_zone("filed_at"))
                .col(timestamp_with_time_zone("answer_by"))
                .col(boolean("answer_overdue").default(false))
                .col(text_null("answer"))
                .col(boolean("changes_result").default(false))
                .col(timestamp_with_time_zone_null("answered_at"))
                .col(timestamp_with_time_zone_null("complaint_until"))
                .col(text_null("complaint"))
                .col(timestamp_with_time_zone_null("complained_at"))
                .col(string_null("decision"))
                .col(text_null("decision_reason"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .foreign_key(&mut fk("challenges", "tender_id", "tenders"))
                .foreign_key(&mut fk("challenges", "award_lot_id", "award_lots"))
                .foreign_key(&mut fk("challenges", "org_id", "organisations"))
                .foreign_key(&mut fk("challenges", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("challenges", &["award_lot_id"], false)).await?;
        m.create_index(index("challenges", &["org_id"], false)).await?;
        m.create_table(
            Table::create()
                .table("expert_ratings")
                .col(big_pk_auto("id"))
                .col(big_integer("evaluation_id"))
                .col(big_integer("member_id"))
                .col(big_integer("expert_id"))
                .col(big_integer("rater_org_id"))
                .col(big_integer("rater_user_id"))
                .col(integer("punctuality"))
                .col(integer("expertise"))
                .col(integer("conduct"))
                .col(text("note"))
                .col(integer("late_minutes"))
                .col(timestamp_with_time_zone("at"))
                .foreign_key(&mut fk("expert_ratings", "evaluation_id", "evaluations"))
                .foreign_key(&mut fk("expert_ratings", "member_id", "evaluation_members"))
                .foreign_key(&mut fk("expert_ratings", "expert_id", "experts"))
                .foreign_key(&mut fk("expert_ratings", "rater_org_id", "organisations"))
                .foreign_key(&mut fk("expert_ratings", "rater_user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("expert_ratings", &["member_id", "rater_org_id"], true)).await?;
        m.create_index(index("expert_ratings", &["expert_id"], false)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["expert_ratings", "challenges", "award_lots", "calendar_days"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
