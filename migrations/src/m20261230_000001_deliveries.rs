//! Deliveries of notices outside the platform (e-mail, SMS): each delivery is a row of the outbox
//! `deliveries`, written in the transaction of the notice it carries, and sent afterwards with
//! retries; `notice_prefs` holds each user's language of messages, the kinds muted for e-mail,
//! the mobile number and the kinds wanted by SMS, and the secret of the one-click unsubscribe
//! links.

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("notice_prefs")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("user_id"))
                .col(string("lang"))
                .col(text("email_muted"))
                .col(string_null("phone"))
                .col(text("sms_kinds"))
                .col(string_uniq("unsubscribe_token"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("notice_prefs", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("deliveries")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer("notification_id"))
                .col(big_integer("user_id"))
                .col(string("channel"))
                .col(string("address"))
                .col(string("kind"))
                .col(string("state"))
                .col(string_uniq("idempotency_key"))
                .col(integer("attempts").default(0))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(timestamp_with_time_zone_null("claimed_until"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("deliveries", "notification_id", "notifications"))
                .foreign_key(&mut fk("deliveries", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("deliveries", &["state", "next_attempt_at"], false)).await?;
        m.create_index(index("deliveries", &["user_id"], false)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["deliveries", "notice_prefs"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
