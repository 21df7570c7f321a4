//! Login codes by SMS (短信验证码登录): a user's choice of the second factor, and the codes sent
//! after a right password, each held for a few minutes and a few tries.

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
        m.alter_table(Table::alter().table("users").add_column(boolean("login_codes").default(false)).to_owned())
            .await?;
        m.create_table(
            Table::create()
                .table("login_codes")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(string_uniq("token_hash"))
                .col(big_integer("user_id"))
                .col(string("code_hash"))
                .col(string("phone"))
                .col(string("remote_addr"))
                .col(integer("wrong").default(0))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .foreign_key(&mut fk("login_codes", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("login_codes", &["user_id", "created_at"], false)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("login_codes").to_owned()).await?;
        m.alter_table(Table::alter().table("users").drop_column("login_codes").to_owned()).await
    }
}
