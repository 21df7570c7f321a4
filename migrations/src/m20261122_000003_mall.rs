//! The e-mall (电子商城): framework agreements and their catalogue items, price history and
//! price flags, competitive quotations, orders with their lines and steps, and the results of
//! centralized procurement projects that the savings reports add up. Organisations gain the
//! time the centre admitted them (approved their registration).

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table("organisations").add_column(timestamp_with_time_zone_null("approved_at")).to_owned(),
        )
        .await?;
        // Organisations approved before this column existed count as admitted when registered.
        m.get_connection()
            .execute_unprepared("UPDATE organisations SET approved_at = created_at WHERE status = 'active'")
            .await?;
        m.create_index(index("organisations", &["kind", "approved_at"], false)).await?;

        // A framework agreement (协议供货 for goods, 定点服务 for services) between the centre
        // and one supplier. `categories` is a JSON list of category codes.
        m.create_table(
            Table::create()
                .table("mall_agreements")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(string_uniq("code"))
                .col(string("title"))
                .col(string("kind"))
                .col(big_integer("supplier_org_id"))
                .col(big_integer("centre_org_id"))
                .col(text("categories"))
                .col(string("service_area"))
                .col(timestamp_with_time_zone("valid_from"))
                .col(timestamp_with_time_zone("valid_to"))
                .col(string("status"))
                .col(text_null("status_reason"))
                .col(big_integer_null("source_tender_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("mall_agreements", "supplier_org_id", "organisations"))
                .foreign_key(&mut fk("mall_agreements", "centre_org_id", "organisations"))
                .foreign_key(&mut fk("mall_agreements", "source_tender_id", "tenders"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("mall_agreements", &["supplier_org_id"], false)).await?;

        // A catalogue item of an agreement. `price_fen` is the agreement price, a ceiling.
        // `revision` grows with every change so the search index can catch up.
        m.create_table(
            Table::create()
                .table("mall_items")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer("agreement_id"))
                .col(big_integer("supplier_org_id"))
                .col(string("category"))
                .col(string("name"))
                .col(string("brand"))
                .col(string("model"))
                .col(text("spec"))
                .col(string("unit"))
                .col(big_integer("price_fen"))
                .col(big_integer("market_price_fen"))
                .col(boolean("active"))
                .col(big_integer("revision"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("mall_items", "agreement_id", "mall_agreements"))
                .foreign_key(&mut fk("mall_items", "supplier_org_id", "organisations"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("mall_items", &["agreement_id"], false)).await?;
        m.create_index(index("mall_items", &["revision"], false)).await?;

        // Every agreement price an item has had.
        m.create_table(
            Table::create()
                .table("mall_price_changes")
                .col(big_pk_auto("id"))
                .col(big_integer("item_id"))
                .col(big_integer_null("old_price_fen"))
                .col(big_integer("new_price_fen"))
                .col(big_integer("market_price_fen"))
                .col(timestamp_with_time_zone("changed_at"))
                .foreign_key(&mut fk("mall_price_changes", "item_id", "mall_items"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("mall_price_changes", &["item_id", "changed_at"], false)).await?;

        // Price monitoring: an agreement price above its market reference, or raised by more
        // than the configured share, is flagged for the centre until someone resolves it.
        m.create_table(
            Table::create()
                .table("mall_price_flags")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer("item_id"))
                .col(string("kind"))
                .col(big_integer("price_fen"))
                .col(big_integer("reference_fen"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("resolved_at"))
                .col(big_integer_null("resolved_by"))
                .col(text_null("resolution"))
                .foreign_key(&mut fk("mall_price_flags", "item_id", "mall_items"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("mall_price_flags", &["resolved_at"], false)).await?;

        // A competitive quotation (竞价): the unit's need, quantity, budget and window.
        m.create_table(
            Table::create()
                .table("mall_quotations")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(string_uniq("code"))
                .col(big_integer("procuring_org_id"))
                .col(big_integer("created_by"))
                .col(string("category"))
                .col(string("title"))
                .col(text("requirement"))
                .col(big_integer("quantity"))
                .col(string("unit"))
                .col(big_integer("budget_fen"))
                .col(integer("min_quotes"))
                .col(timestamp_with_time_zone("opens_at"))
                .col(timestamp_with_time_zone("closes_at"))
                .col(string("status"))
                .col(text_null("fail_reason"))
                .col(big_integer_null("order_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("mall_quotations", "procuring_org_id", "organisations"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("mall_quotations", &["status", "closes_at"], false)).await?;

        // One quote per supplier and quotation, replaceable inside the window.
        m.create_table(
            Table::create()
                .table("mall_quotes")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(big_integer("quotation_id"))
                .col(big_integer("supplier_org_id"))
                .col(big_integer("agreement_id"))
                .col(big_integer("unit_price_fen"))
                .col(big_integer("total_fen"))
                .col(string("brand"))
                .col(string("model"))
                .col(text("note"))
                .col(timestamp_with_time_zone("submitted_at"))
                .foreign_key(&mut fk("mall_quotes", "quotation_id", "mall_quotations"))
                .foreign_key(&mut fk("mall_quotes", "supplier_org_id", "organisations"))
                .foreign_key(&mut fk("mall_quotes", "agreement_id", "mall_agreements"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("mall_quotes", &["quotation_id", "supplier_org_id"], true)).await?;

        // An order. `budget_fen` and `amount_fen` (the deal) give its savings. `kind` is
        // direct, quotation, or recorded (an order of the past entered in bulk).
        m.create_table(
            Table::create()
                .table("mall_orders")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(string_uniq("code"))
                .col(string("kind"))
                .col(big_integer("procuring_org_id"))
                .col(big_integer("supplier_org_id"))
                .col(big_integer_null("agreement_id"))
                .col(big_integer_null("quotation_id"))
                .col(string("category"))
                .col(big_integer("budget_fen"))
                .col(big_integer("amount_fen"))
                .col(string("status"))
                .col(text_null("status_note"))
                .col(text_null("acceptance"))
                .col(big_integer_null("created_by"))
                .col(timestamp_with_time_zone("placed_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("mall_orders", "procuring_org_id", "organisations"))
                .foreign_key(&mut fk("mall_orders", "supplier_org_id", "organisations"))
                .foreign_key(&mut fk("mall_orders", "agreement_id", "mall_agreements"))
                .to_owned(),
        )
        .await?;
        // The reports read these columns only; the index covers them.
        m.create_index(
            Index::create()
                .name("ix_mall_orders_report")
                .table("mall_orders")
                .col("placed_at")
                .col("status")
                .col("procuring_org_id")
                .col("supplier_org_id")
                .col("category")
                .col("budget_fen")
                .col("amount_fen")
                .to_owned(),
        )
        .await?;
        m.create_index(index("mall_orders", &["procuring_org_id", "placed_at"], false)).await?;
        m.create_index(index("mall_orders", &["supplier_org_id", "placed_at"], false)).await?;

        m.create_table(
            Table::create()
                .table("mall_order_lines")
                .col(big_pk_auto("id"))
                .col(big_integer("order_id"))
                .col(big_integer_null("item_id"))
                .col(string("name"))
                .col(string("brand"))
                .col(string("model"))
                .col(string("unit"))
                .col(big_integer("quantity"))
                .col(big_integer("unit_price_fen"))
                .col(big_integer("agreement_price_fen"))
                .col(big_integer("total_fen"))
                .foreign_key(&mut fk("mall_order_lines", "order_id", "mall_orders"))
                .foreign_key(&mut fk("mall_order_lines", "item_id", "mall_items"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("mall_order_lines", &["order_id"], false)).await?;

        // Each step of an order, for its timeline.
        m.create_table(
            Table::create()
                .table("mall_order_steps")
                .col(big_pk_auto("id"))
                .col(big_integer("order_id"))
                .col(string("action"))
                .col(string("from_status"))
                .col(string("to_status"))
                .col(big_integer_null("org_id"))
                .col(text_null("note"))
                .col(timestamp_with_time_zone("at"))
                .foreign_key(&mut fk("mall_order_steps", "order_id", "mall_orders"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("mall_order_steps", &["order_id"], false)).await?;

        // Results of centralized procurement projects: from tenders awarded on the platform
        // (`tender_id` set) or recorded by the centre.
        m.create_table(
            Table::create()
                .table("procurement_results")
                .col(big_pk_auto("id"))
                .col(uuid_uniq("public_id"))
                .col(string_uniq("code"))
                .col(string("title"))
                .col(big_integer("procuring_org_id"))
                .col(string("category"))
                .col(string("method"))
                .col(big_integer("budget_fen"))
                .col(big_integer("award_fen"))
                .col(string("supplier_name"))
                .col(timestamp_with_time_zone("awarded_at"))
                .col(big_integer_null("tender_id"))
                .col(big_integer("recorded_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("procurement_results", "procuring_org_id", "organisations"))
                .foreign_key(&mut fk("procurement_results", "tender_id", "tenders"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("procurement_results", &["awarded_at"], false)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "procurement_results",
            "mall_order_steps",
            "mall_order_lines",
            "mall_orders",
            "mall_quotes",
            "mall_quotations",
            "mall_price_flags",
            "mall_price_changes",
            "mall_items",
            "mall_agreements",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        m.drop_index(Index::drop().name("ix_organisations_kind_approved_at").table("organisations").to_owned()).await?;
        m.alter_table(Table::alter().table("organisations").drop_column("approved_at").to_owned()).await
    }
}
