//! Federation between separately-run deployments: the numbered messages exchanged with each
//! peer (sent and received), and the draws asked of a guest deployment or answered for a host.

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One row per message: `out` ones wait until the peer acknowledges them (`done_at`),
        // `in` ones are written in the transaction that applies them, so a message is applied
        // at most once; both keep the signed body.
        m.create_table(
            Table::create()
                .table("peer_messages")
                .col(big_pk_auto("id"))
                .col(string("peer"))
                .col(string("direction"))
                .col(big_integer("seq"))
                .col(string("kind"))
                .col(text("body"))
                .col(text("signature"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("done_at"))
                .col(string_null("outcome"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("peer_messages", &["peer", "direction", "seq"], true)).await?;
        m.create_index(index("peer_messages", &["direction", "done_at"], false)).await?;
        // A draw across deployments, on the host's side (`host`: asked of the peer) or on the
        // guest's (`guest`: drawn for the peer), named by the host's id for it (`request_ref`).
        m.create_table(
            Table::create()
                .table("remote_draws")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(string("peer"))
                .col(string("side"))
                .col(uuid("request_ref"))
                .col(big_integer_null("tender_id"))
                .col(string("tender_code"))
                .col(string("state"))
                .col(text("asked"))
                .col(text_null("inputs"))
                .col(string_null("commitment"))
                .col(string_null("eligible_digest"))
                .col(string_null("contribution"))
                .col(text_null("secret"))
                .col(text_null("picks"))
                .col(string_null("failure"))
                .col(big_integer_null("session_id"))
                .col(big_integer("relayed_seq").default(0))
                .col(text_null("report"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("remote_draws", "tender_id", "tenders"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("remote_draws", &["peer", "side", "request_ref"], true)).await?;
        // On the guest: who stands behind each pseudonymous id it gave the host.
        m.create_table(
            Table::create()
                .table("remote_draw_experts")
                .col(big_pk_auto("id"))
                .col(big_integer("draw_id"))
                .col(uuid_uniq("pseudonym"))
                .col(big_integer("expert_id"))
                .col(uuid_null("member"))
                .col(text_null("brief"))
                .foreign_key(&mut fk("remote_draw_experts", "draw_id", "remote_draws"))
                .foreign_key(&mut fk("remote_draw_experts", "expert_id", "experts"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("remote_draw_experts", &["draw_id"], false)).await?;
        // On the host: the member of its session each pseudonymous expert of a guest is, and
        // the account the guest's commands for that member act as.
        m.create_table(
            Table::create()
                .table("remote_seats")
                .col(big_pk_auto("id"))
                .col(big_integer("draw_id"))
                .col(uuid_uniq("pseudonym"))
                .col(big_integer("member_id"))
                .col(big_integer("user_id"))
                .foreign_key(&mut fk("remote_seats", "draw_id", "remote_draws"))
                .foreign_key(&mut fk("remote_seats", "member_id", "evaluation_members"))
                .foreign_key(&mut fk("remote_seats", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        // A member taking part from a peer deployment: the peer's name.
        m.alter_table(Table::alter().table("evaluation_members").add_column(string_null("peer")).to_owned()).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("evaluation_members").drop_column("peer").to_owned()).await?;
        for t in ["remote_seats", "remote_draw_experts", "remote_draws", "peer_messages"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
