//! Sites (trading centres where experts evaluate) and the expert pool.
//!
//! - `sites`: a trading centre: its name, city and number of evaluation seats (工位);
//! - `site_members`: the centre users (staff, supervisors) bound to a site, one site per user;
//! - `experts`: the pool's experts: name, identity number (stored whole, unique; never shown
//!   whole), phone, title (职称), site, status (`active`, `suspended` with its reason) and the
//!   login bound to the record (`user_id`, nullable, unique);
//! - `expert_specialties`: the specialty codes of each expert (the catalogue in
//!   `src/experts/specialties.toml`);
//! - `expert_employments`: the employers of the last years, each from a date until a date, or
//!   current (`until_date` null);
//! - `expert_unavailable`: China-time dates on which an expert cannot evaluate;
//! - `expert_conflicts`: organisations an expert declared a conflict with, by credit code.
//!
//! Dates are `DATE` columns (calendar days in China time); times are UTC timestamps.

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("sites")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(string_uniq("name"))
                .col(string("city"))
                .col(integer("seats"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("site_members")
                .col(big_pk_auto("id"))
                .col(big_integer("site_id"))
                .col(big_integer_uniq("user_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("site_members", "site_id", "sites"))
                .foreign_key(&mut fk("site_members", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("site_members", &["site_id"], false)).await?;
        m.create_table(
            Table::create()
                .table("experts")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(string("name"))
                .col(string_uniq("id_number"))
                .col(string("phone"))
                .col(string("title"))
                .col(big_integer("site_id"))
                .col(string("status"))
                .col(text_null("status_reason"))
                .col(big_integer_null("user_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("experts", "site_id", "sites"))
                .foreign_key(&mut fk("experts", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("experts", &["user_id"], true)).await?;
        m.create_index(index("experts", &["site_id", "status"], false)).await?;
        m.create_index(index("experts", &["name"], false)).await?;
        m.create_table(
            Table::create()
                .table("expert_specialties")
                .col(big_pk_auto("id"))
                .col(big_integer("expert_id"))
                .col(string("code"))
                .foreign_key(&mut fk("expert_specialties", "expert_id", "experts"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("expert_specialties", &["expert_id", "code"], true)).await?;
        m.create_index(index("expert_specialties", &["code"], false)).await?;
        m.create_table(
            Table::create()
                .table("expert_employments")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer("expert_id"))
                .col(string("employer"))
                .col(string_null("credit_code"))
                .col(date("from_date"))
                .col(date_null("until_date"))
                .foreign_key(&mut fk("expert_employments", "expert_id", "experts"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("expert_employments", &["expert_id"], false)).await?;
        m.create_index(index("expert_employments", &["credit_code"], false)).await?;
        m.create_table(
            Table::create()
                .table("expert_unavailable")
                .col(big_pk_auto("id"))
                .col(big_integer("expert_id"))
                .col(date("day"))
                .foreign_key(&mut fk("expert_unavailable", "expert_id", "experts"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("expert_unavailable", &["expert_id", "day"], true)).await?;
        m.create_index(index("expert_unavailable", &["day"], false)).await?;
        m.create_table(
            Table::create()
                .table("expert_conflicts")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer("expert_id"))
                .col(string("credit_code"))
                .col(string("org_name"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("expert_conflicts", "expert_id", "experts"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("expert_conflicts", &["expert_id", "credit_code"], true)).await?;
        m.create_index(index("expert_conflicts", &["credit_code"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "expert_conflicts",
            "expert_unavailable",
            "expert_employments",
            "expert_specialties",
            "experts",
            "site_members",
            "sites",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
