//! From the signed evaluation report to the contract (step 7 of the workflow): the candidates'
//! publicity (中标候选人公示), challenges (质疑) and complaints (投诉), the award (定标) with its
//! notices, the contract, and the lot's result counted in the savings report.
//!
//! Owns: the `award_lots` and `challenges` tables; `model` (states, views), `service` (the rules
//! and the deadline job `award.deadline`), `api` (`/api/v1/tenders/{id}/award`, the public lists
//! `/api/v1/results`), `handlers` (the page `/tenders/{id}/award`, the public `/results`).
//! Periods in working days are counted on the centre's calendar (`crate::calendar`).

pub mod api;
pub mod handlers;
pub mod model;
pub mod service;

pub use api::api_routes;

use std::sync::Arc;

/// Page routes of this module.
pub fn router<S>() -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
    Awards: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    handlers::routes()
}

/// What the award's services and routes use.
#[derive(Clone)]
pub struct Awards {
    /// The database (reads).
    pub db: sea_orm::DatabaseConnection,
    /// Starts units of work.
    pub writer: crate::uow::Writer,
    /// Evidence and contract PDFs.
    pub blobs: Arc<dyn crate::blob::BlobStore>,
    /// The signed evaluation results the candidates come from.
    pub evaluations: crate::evaluation::Evaluations,
    /// The periods.
    pub settings: crate::config::AwardSettings,
    /// Limits on uploaded PDFs.
    pub pdf: crate::config::PdfSettings,
    /// The texts of the notices' PDFs.
    pub texts: Arc<crate::web::i18n::I18n>,
    /// Signs the notices.
    pub key: Arc<crate::keys::PlatformKey>,
    /// The expert pool, whose experts are rated after the session on the award page.
    pub experts: crate::experts::Experts,
}

impl std::fmt::Debug for Awards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Awards").field("settings", &self.settings).finish_non_exhaustive()
    }
}
