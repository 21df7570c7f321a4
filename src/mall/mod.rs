//! The government-procurement e-mall (电子商城): framework agreements and their catalogue,
//! direct purchases and competitive quotations, orders, price monitoring, and the savings
//! reports of the e-mall and of centralized procurement.
//!
//! - [`agreements`]: agreements, items, prices, price flags;
//! - [`catalogue`] and [`search`]: the full-text index and the search over it;
//! - [`orders`]: direct purchases and the order state machine;
//! - `codes`: the order and quotation codes, numbered per procuring unit;
//! - [`quotations`]: competitive quotations (竞价) and their automatic award;
//! - [`reports`]: savings and supplier statistics, with [`export`] (CSV, XLSX) and [`chart`] (SVG);
//! - [`api`] and [`handlers`]: the JSON API and the pages.

pub mod agreements;
pub mod api;
pub mod catalogue;
pub mod chart;
mod codes;
pub mod export;
pub mod handlers;
pub mod model;
pub mod orders;
pub mod policy;
pub mod quotations;
pub mod reports;
pub mod search;

pub use api::api_routes;
pub use handlers::router;

use crate::{entities::organisation, error::AppResult, ids::OrgId};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;

/// Organisations by internal id.
pub(crate) async fn org_map<C: ConnectionTrait>(
    db: &C,
    ids: impl Iterator<Item = OrgId>,
) -> AppResult<HashMap<OrgId, organisation::Model>> {
    let mut ids: Vec<OrgId> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        for o in organisation::Entity::find().filter(organisation::Column::Id.is_in(chunk.to_vec())).all(db).await? {
            out.insert(o.id, o);
        }
    }
    Ok(out)
}

/// Starts the e-mall's background work: keeping this process's search index in step with the
/// database. (Quotations close by their jobs.)
pub fn spawn_background(mall: &Mall) -> tokio::task::JoinHandle<()> {
    catalogue::spawn_sync(mall.db.clone(), mall.catalogue.clone())
}

/// What the e-mall services and routes use.
#[derive(Clone, Debug)]
pub struct Mall {
    /// The database.
    pub db: sea_orm::DatabaseConnection,
    /// The clock.
    pub clock: crate::clock::SharedClock,
    /// Starts units of work.
    pub writer: crate::uow::Writer,
    /// The catalogue's search index.
    pub catalogue: std::sync::Arc<catalogue::Catalogue>,
    /// The e-mall's rules (limits, quotation periods, price monitoring).
    pub settings: crate::config::MallSettings,
}
