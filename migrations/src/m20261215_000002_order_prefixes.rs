//! Each procuring unit's short prefix in its e-mall order codes (DD + date + prefix + the
//! unit's own number of the day), so that a code tells nothing of other units' orders. Codes
//! given before keep their form; they stay unique by `mall_orders.code`.

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("mall_order_prefixes")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("org_id"))
                .col(string_uniq("prefix"))
                .foreign_key(&mut fk("mall_order_prefixes", "org_id", "organisations"))
                .to_owned(),
        )
        .await?;
        // Numbering a unit's orders of the day reads its codes.
        m.create_index(index("mall_orders", &["procuring_org_id", "code"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_mall_orders_procuring_org_id_code").table("mall_orders").to_owned())
            .await?;
        m.drop_table(Table::drop().table("mall_order_prefixes").to_owned()).await
    }
}
