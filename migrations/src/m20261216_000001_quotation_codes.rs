//! Competitive quotations' codes are numbered per procuring unit and month under the unit's
//! prefix (`mall_order_prefixes`), as orders are; numbering reads the unit's codes. Codes
//! given before keep their form; they stay unique by `mall_quotations.code`.

use crate::util::index;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index("mall_quotations", &["procuring_org_id", "code"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_mall_quotations_procuring_org_id_code").table("mall_quotations").to_owned())
            .await
    }
}
