//! Expert fees (专家劳务费, 即评即走): each site's rate table, and each expert's fee of a signed
//! session with its payment instruction's state (idempotency key, attempts, acknowledgement).

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("fee_rates")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("site_id"))
                .col(big_integer("base_fen"))
                .col(integer("base_hours"))
                .col(big_integer("hourly_fen"))
                .col(big_integer("daily_cap_fen"))
                .col(big_integer("withdrawn_fen"))
                .col(integer("holiday_factor"))
                .col(big_integer("set_by"))
                .col(timestamp_with_time_zone("set_at"))
                .foreign_key(&mut fk("fee_rates", "site_id", "sites"))
                .foreign_key(&mut fk("fee_rates", "set_by", "users"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("expert_fees")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer("evaluation_id"))
                .col(big_integer_uniq("member_id"))
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
                .foreign_key(&mut fk("expert_fees", "expert_id", "experts"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("expert_fees", &["status", "next_attempt_at"], false)).await?;
        m.create_index(index("expert_fees", &["expert_id"], false)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["expert_fees", "fee_rates"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
