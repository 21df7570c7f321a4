//! Sealed bids: the suppliers' registered signing keys and the bids with their envelopes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(from_table: &'static str, from_col: &'static str, to_table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_{from_col}"))
        .from(from_table, from_col)
        .to(to_table, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // A supplier's ECDSA P-256 public keys; bids are signed with one of them.
        m.create_table(
            Table::create()
                .table("bidder_keys")
                .col(big_pk_auto("id"))
                .col(string_uniq("key_id"))
                .col(big_integer("org_id"))
                .col(big_integer("user_id"))
                .col(string("algorithm"))
                .col(string("public_key"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut fk("bidder_keys", "org_id", "organisations"))
                .foreign_key(&mut fk("bidder_keys", "user_id", "users"))
                .to_owned(),
        )
        .await?;

        // One row per submission attempt; the envelope itself is a blob named by its SHA-256.
        m.create_table(
            Table::create()
                .table("bids")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer("tender_id"))
                .col(big_integer("lot_id"))
                .col(big_integer("org_id"))
                .col(big_integer("user_id"))
                .col(string("status"))
                .col(string_null("envelope_sha256"))
                .col(big_integer_null("size_bytes"))
                .col(string_null("bidder_key_id"))
                .col(string_null("signature"))
                .col(text_null("receipt"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("received_at"))
                .foreign_key(&mut fk("bids", "tender_id", "tenders"))
                .foreign_key(&mut fk("bids", "lot_id", "lots"))
                .foreign_key(&mut fk("bids", "org_id", "organisations"))
                .foreign_key(&mut fk("bids", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_bids_tender_org").table("bids").col("tender_id").col("org_id").to_owned(),
        )
        .await?;
        Ok(())
    }
}
