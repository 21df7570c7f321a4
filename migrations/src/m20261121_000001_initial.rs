//! The foundation: organisations, users, sessions, tenders and their lots, documents,
//! questions and clarifications, notifications, and the audit chain.

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("organisations")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(string("name"))
                .col(string("kind"))
                .col(string_null("size_class"))
                .col(string_null("credit_code"))
                .col(string_null("contact_phone"))
                .col(string("status"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("users")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer("org_id"))
                .col(string_uniq("username"))
                .col(string("display_name"))
                .col(string("role"))
                .col(string("password_hash"))
                .col(string("status"))
                .col(string_null("email"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("password_changed_at"))
                .foreign_key(&mut fk("users", "org_id", "organisations"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("sessions")
                .col(big_pk_auto("id"))
                .col(string_uniq("token_hash"))
                .col(big_integer("user_id"))
                .col(string("auth_method"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .foreign_key(&mut fk("sessions", "user_id", "users"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("login_failures")
                .col(big_pk_auto("id"))
                .col(string("username"))
                .col(string("remote_addr"))
                .col(timestamp_with_time_zone("at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("login_failures", &["username", "at"], false)).await?;

        m.create_table(
            Table::create()
                .table("tenders")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(string_uniq("code"))
                .col(string("title"))
                .col(text("description"))
                .col(big_integer("procuring_org_id"))
                .col(big_integer_null("agency_org_id"))
                .col(big_integer("created_by"))
                .col(string("procurement_method"))
                .col(string("evaluation_method"))
                .col(string("opening_mode"))
                .col(string("state"))
                .col(timestamp_with_time_zone("bid_deadline"))
                .col(timestamp_with_time_zone("question_cutoff"))
                .col(text("bid_form"))
                .col(integer("min_valid_bids"))
                .col(text_null("cancel_reason"))
                .col(timestamp_with_time_zone_null("published_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("tenders", "procuring_org_id", "organisations"))
                .foreign_key(&mut fk("tenders", "agency_org_id", "organisations"))
                .foreign_key(&mut fk("tenders", "created_by", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("tenders", &["state", "bid_deadline"], false)).await?;

        m.create_table(
            Table::create()
                .table("lots")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer("tender_id"))
                .col(integer("lot_no"))
                .col(string("name"))
                .col(big_integer("budget_fen"))
                .col(big_integer_null("ceiling_fen"))
                .foreign_key(&mut fk("lots", "tender_id", "tenders"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("lots", &["tender_id", "lot_no"], true)).await?;

        m.create_table(
            Table::create()
                .table("tender_documents")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer("tender_id"))
                .col(string("file_name"))
                .col(string("sha256"))
                .col(big_integer("size_bytes"))
                .col(integer("pages"))
                .col(big_integer("uploaded_by"))
                .col(timestamp_with_time_zone("uploaded_at"))
                .foreign_key(&mut fk("tender_documents", "tender_id", "tenders"))
                .foreign_key(&mut fk("tender_documents", "uploaded_by", "users"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("document_obtained")
                .col(big_pk_auto("id"))
                .col(big_integer("tender_id"))
                .col(big_integer("org_id"))
                .col(big_integer("user_id"))
                .col(timestamp_with_time_zone("obtained_at"))
                .foreign_key(&mut fk("document_obtained", "tender_id", "tenders"))
                .foreign_key(&mut fk("document_obtained", "org_id", "organisations"))
                .foreign_key(&mut fk("document_obtained", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("document_obtained", &["tender_id", "org_id"], true)).await?;

        m.create_table(
            Table::create()
                .table("questions")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer("tender_id"))
                .col(big_integer("org_id"))
                .col(big_integer("user_id"))
                .col(text("body"))
                .col(timestamp_with_time_zone("asked_at"))
                .foreign_key(&mut fk("questions", "tender_id", "tenders"))
                .foreign_key(&mut fk("questions", "org_id", "organisations"))
                .foreign_key(&mut fk("questions", "user_id", "users"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("clarifications")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer("tender_id"))
                .col(big_integer_null("question_id"))
                .col(string("kind"))
                .col(boolean("substantive"))
                .col(text("body"))
                .col(timestamp_with_time_zone_null("old_deadline"))
                .col(timestamp_with_time_zone_null("new_deadline"))
                .col(big_integer("published_by"))
                .col(timestamp_with_time_zone("published_at"))
                .foreign_key(&mut fk("clarifications", "tender_id", "tenders"))
                .foreign_key(&mut fk("clarifications", "question_id", "questions"))
                .foreign_key(&mut fk("clarifications", "published_by", "users"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("notifications")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer("org_id"))
                .col(string("kind"))
                .col(big_integer_null("tender_id"))
                .col(text("message_zh"))
                .col(text("message_en"))
                .col(string_null("link"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("read_at"))
                .foreign_key(&mut fk("notifications", "org_id", "organisations"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("notifications", &["org_id", "created_at"], false)).await?;

        m.create_table(
            Table::create()
                .table("audit_records")
                .col(big_integer("seq").primary_key())
                .col(timestamp_with_time_zone("at"))
                .col(big_integer_null("actor_user_id"))
                .col(big_integer_null("actor_org_id"))
                .col(string("actor_label"))
                .col(string("action"))
                .col(string("object_type"))
                .col(string("object_id"))
                .col(text("details"))
                .col(string("change_digest"))
                .col(string("prev_hash"))
                .col(string("hash"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("audit_records", &["object_type", "object_id"], false)).await?;

        // One row: the head of the audit chain. Every writing transaction updates it first,
        // which serialises writers on both databases so the chain never forks.
        m.create_table(
            Table::create()
                .table("audit_head")
                .col(integer("id").primary_key())
                .col(big_integer("seq"))
                .col(string("hash"))
                .to_owned(),
        )
        .await?;
        let genesis = "0".repeat(64);
        m.exec_stmt(
            Query::insert()
                .into_table("audit_head")
                .columns(["id", "seq", "hash"])
                .values_panic([1.into(), 0i64.into(), genesis.into()])
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("audit_checkpoints")
                .col(big_pk_auto("id"))
                .col(big_integer("seq"))
                .col(string("hash"))
                .col(timestamp_with_time_zone("signed_at"))
                .col(string("key_id"))
                .col(string("signature"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("audit_checkpoints", &["seq"], false)).await?;
        Ok(())
    }
}
