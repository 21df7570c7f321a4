//! Registrations whose user name was already taken. They are accepted like any other (so that
//! registering does not tell anyone which names exist) and kept here, beside their pending
//! organisation, with the password the applicant chose, until the centre rejects them.

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("held_registrations")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("org_id"))
                .col(string("username"))
                .col(string("display_name"))
                .col(string("password_hash"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("held_registrations", "org_id", "organisations"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("held_registrations", &["username", "id"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("held_registrations").to_owned()).await
    }
}
