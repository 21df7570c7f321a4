//! Sealed bids: the suppliers' registered signing keys and the bids with their envelopes.

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

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
        m.create_index(index("bids", &["tender_id", "org_id"], false)).await?;
        Ok(())
    }
}
