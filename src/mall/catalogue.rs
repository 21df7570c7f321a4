//! The catalogue as users search it: the full-text index kept in step with the database, and
//! the search service.
//!
//! The database is the truth; the index (`storage.index_dir`) is derived from it and can be
//! deleted at any time. Every change to an item (or to whether its agreement sells) gives the
//! item a new, larger `revision`. The index remembers the highest revision it holds; catching
//! up reads the items with a larger revision. That happens right after each change here, every
//! few seconds in the background (so changes made by another server process arrive too), and at
//! start-up (which rebuilds a deleted index).

use super::{
    agreements::item_views,
    model::{AgreementStatus, ItemView, category},
    search::{CatalogueIndex, ItemDoc, SearchError, SearchQuery, Sort},
};
use crate::{
    bounds,
    entities::{mall_agreement, mall_item},
    error::{AppError, AppResult},
    ids::{AgreementId, ItemId},
    mall::Mall,
    money::Money,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use std::{collections::HashMap, sync::Arc, time::Duration};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The index and the lock that lets one catch-up run at a time.
pub struct Catalogue {
    index: CatalogueIndex,
    sync: tokio::sync::Mutex<()>,
    /// Whether a catch-up has reached the database's newest revision since this process
    /// started: until then searches would miss items, and the server does not report ready.
    caught_up: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogue").field("revision", &self.index.revision()).finish()
    }
}

impl Catalogue {
    /// Opens (or creates) the index in `dir`.
    pub fn open(dir: &std::path::Path) -> Result<Self, SearchError> {
        let index = CatalogueIndex::open_in_dir(dir).map_err(|e| match e {
            SearchError::Index(m) => SearchError::Index(format!(
                "{m} (in {}; each server process needs its own storage.index_dir)",
                dir.display()
            )),
            other => other,
        })?;
        Ok(Self { index, sync: tokio::sync::Mutex::new(()), caught_up: Default::default() })
    }

    /// An empty index in memory, for commands that serve nothing and never search: it takes no
    /// lock on a server's index directory, so they run beside a running server.
    pub fn detached() -> Result<Self, SearchError> {
        Ok(Self {
            index: CatalogueIndex::in_memory()?,
            sync: tokio::sync::Mutex::new(()),
            caught_up: Default::default(),
        })
    }

    /// Whether the index has caught up with the database at least once since start-up.
    pub fn is_ready(&self) -> bool {
        self.caught_up.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The highest item revision the index holds.
    pub fn revision(&self) -> i64 {
        self.index.revision()
    }
}

fn index_err(e: SearchError) -> AppError {
    match e {
        SearchError::QueryTooLong => AppError::invalid_field("q", "too_long"),
        other => AppError::internal(other),
    }
}

const BATCH: u64 = 10_000;

/// The highest item revision in the database (0 without items).
pub(super) async fn max_revision<C: sea_orm::ConnectionTrait>(db: &C) -> AppResult<i64> {
    let max: Option<Option<i64>> = mall_item::Entity::find()
        .select_only()
        .column_as(mall_item::Column::Revision.max(), "m")
        .into_tuple()
        .one(db)
        .await?;
    Ok(max.flatten().unwrap_or(0))
}

/// Brings the index up to the database's newest revision; returns how many items it indexed.
pub async fn sync(db: &DatabaseConnection, catalogue: &Arc<Catalogue>) -> AppResult<usize> {
    let _one_at_a_time = catalogue.sync.lock().await;
    let from = catalogue.index.revision();
    let target = max_revision(db).await?;
    if target <= from {
        catalogue.caught_up.store(true, std::sync::atomic::Ordering::Release);
        return Ok(0);
    }
    let mut after_id = ItemId(0);
    let mut done = 0usize;
    let mut agreements: HashMap<AgreementId, mall_agreement::Model> = HashMap::new();
    loop {
        let items = mall_item::Entity::find()
            .filter(mall_item::Column::Revision.gt(from))
            .filter(mall_item::Column::Revision.lte(target))
            .filter(mall_item::Column::Id.gt(after_id))
            .order_by_asc(mall_item::Column::Id)
            .limit(BATCH)
            .all(db)
            .await?;
        let last = items.len() < BATCH as usize;
        after_id = items.last().map(|i| i.id).unwrap_or(after_id);
        let missing: Vec<AgreementId> =
            items.iter().map(|i| i.agreement_id).filter(|a| !agreements.contains_key(a)).collect();
        if !missing.is_empty() {
            for a in mall_agreement::Entity::find().filter(mall_agreement::Column::Id.is_in(missing)).all(db).await? {
                agreements.insert(a.id, a);
            }
        }
        let orgs = super::org_map(db, items.iter().map(|i| i.supplier_org_id)).await?;
        let docs: Vec<ItemDoc> = items
            .into_iter()
            .filter_map(|i| {
                let a = agreements.get(&i.agreement_id)?;
                let o = orgs.get(&i.supplier_org_id)?;
                Some(ItemDoc {
                    id: i.id.0,
                    name: i.name,
                    brand: i.brand,
                    model: i.model,
                    spec: i.spec,
                    category: i.category,
                    supplier_id: o.id.0,
                    supplier_name: o.name.clone(),
                    supplier_size: o.size_class.map(|s| s.as_str().into()).unwrap_or_default(),
                    price_fen: i.price_fen.fen(),
                    valid_from: a.valid_from.timestamp(),
                    valid_to: a.valid_to.timestamp(),
                    sellable: i.active && a.status == AgreementStatus::Active,
                })
            })
            .collect();
        done += docs.len();
        // Only the last batch moves the index's revision: a catch-up cut short starts again.
        let rev = if last { target } else { from };
        let c = catalogue.clone();
        tokio::task::spawn_blocking(move || c.index.apply(docs, rev))
            .await
            .map_err(AppError::internal)?
            .map_err(index_err)?;
        if last {
            catalogue.caught_up.store(true, std::sync::atomic::Ordering::Release);
            break;
        }
        if done % 100_000 < BATCH as usize {
            tracing::info!(indexed = done, "catalogue index catching up");
        }
    }
    Ok(done)
}

/// Catches up after a change made here; a failure is logged, the background task retries.
pub async fn refresh(state: &Mall) {
    if let Err(e) = sync(&state.db, &state.catalogue).await {
        tracing::warn!("catalogue index: {}", e.message);
    }
}

/// Keeps the index in step in the background (changes by other server processes included).
pub fn spawn_sync(db: DatabaseConnection, catalogue: Arc<Catalogue>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match sync(&db, &catalogue).await {
                Ok(n) if n > 0 => {
                    tracing::info!(indexed = n, revision = catalogue.revision(), "catalogue index up to date")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("catalogue index: {}", e.message),
            }
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
    })
}

/// A catalogue search as asked (page and API).
#[derive(Debug, Clone, Default, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct CatalogueQuery {
    /// Words to find (Chinese or Latin), e.g. 打印机, 办公椅, 得力 订书机.
    pub q: Option<String>,
    /// Category code.
    pub category: Option<String>,
    /// Brand (exact).
    pub brand: Option<String>,
    /// Supplier (public id).
    pub supplier: Option<Uuid>,
    /// Supplier size class: large, medium, small, micro, or `sme` for the last three.
    pub size: Option<String>,
    /// Lowest agreement price, 元.
    pub min_price: Option<String>,
    /// Highest agreement price, 元.
    pub max_price: Option<String>,
    /// relevance (default), price_asc, price_desc.
    #[param(value_type = Option<String>)]
    #[schema(value_type = Option<String>)]
    pub sort: Option<Sort>,
    /// Page, from 1 (at most 500).
    pub page: Option<u64>,
    /// Include items not for sale now (expired or suspended agreements).
    pub all: Option<bool>,
}

/// A page of results.
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub struct CataloguePage {
    /// Items found in all.
    pub total: usize,
    /// Page, from 1.
    pub page: u64,
    /// Pages.
    pub pages: u64,
    /// Items of this page.
    pub items: Vec<ItemView>,
}

/// Items per page.
pub const PAGE_SIZE: usize = 20;

/// The most pages of a search (10,000 items).
pub const MAX_PAGE: u64 = 500;

fn money_param(name: &'static str, v: &Option<String>) -> AppResult<Option<i64>> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Money::parse_yuan(s).map(|m| Some(m.fen())).map_err(|_| AppError::invalid_field(name, "invalid")),
    }
}

/// Searches the catalogue. Without `all`, only what can be bought now.
pub async fn search(state: &Mall, q: &CatalogueQuery) -> AppResult<CataloguePage> {
    let page = bounds::page(q.page, MAX_PAGE)?;
    let supplier_id = match q.supplier {
        Some(s) => Some(
            crate::entities::organisation::Entity::find()
                .filter(crate::entities::organisation::Column::PublicId.eq(s))
                .one(&state.db)
                .await?
                .map(|o| o.id.0)
                .unwrap_or(-1),
        ),
        None => None,
    };
    let sizes = match q.size.as_deref().filter(|s| !s.is_empty()) {
        None => vec![],
        Some("sme") => vec!["medium".into(), "small".into(), "micro".into()],
        Some(s @ ("large" | "medium" | "small" | "micro")) => vec![s.to_string()],
        Some(_) => return Err(AppError::invalid_field("size", "invalid")),
    };
    if let Some(c) = q.category.as_deref().filter(|c| !c.is_empty())
        && category(c).is_none()
    {
        return Err(AppError::invalid_field("category", "unknown"));
    }
    let sq = SearchQuery {
        text: q.q.clone().unwrap_or_default(),
        category: q.category.clone().filter(|s| !s.is_empty()),
        brand: q.brand.clone().filter(|s| !s.trim().is_empty()).map(|s| s.trim().to_string()),
        supplier_id,
        supplier_sizes: sizes,
        min_price_fen: money_param("min_price", &q.min_price)?,
        max_price_fen: money_param("max_price", &q.max_price)?,
        sellable_at: if q.all.unwrap_or(false) { None } else { Some(state.clock.now().timestamp()) },
        sort: q.sort.unwrap_or_default(),
        offset: (page as usize - 1) * PAGE_SIZE,
        limit: PAGE_SIZE,
    };
    let c = state.catalogue.clone();
    let hits = tokio::task::spawn_blocking(move || c.index.search(&sq))
        .await
        .map_err(AppError::internal)?
        .map_err(index_err)?;
    let rows = mall_item::Entity::find()
        .filter(mall_item::Column::Id.is_in(hits.ids.iter().map(|&i| ItemId(i))))
        .all(&state.db)
        .await?;
    let mut by_id: HashMap<i64, mall_item::Model> = rows.into_iter().map(|r| (r.id.0, r)).collect();
    let ordered: Vec<mall_item::Model> = hits.ids.iter().filter_map(|id| by_id.remove(id)).collect();
    let items = item_views(&state.db, ordered, state.clock.now()).await?;
    Ok(CataloguePage { total: hits.total, page, pages: hits.total.div_ceil(PAGE_SIZE) as u64, items })
}
