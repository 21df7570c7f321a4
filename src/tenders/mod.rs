//! Tenders (招标项目): projects with lots, from draft to published (and cancelled), their
//! documents, suppliers obtaining them, questions and clarifications, and the public search.
//!
//! Owns the `tenders`, `lots`, `tender_documents`, `document_obtained`, `questions`,
//! `clarifications` and `tender_invitations` tables, the tender state machine ([`model::TenderState`]) and the policy of
//! who may do what with a tender ([`policy`]). Later steps (sealed bids, the opening hall,
//! evaluation) move a tender through the states after `published` through this module's
//! state machine; they must not write the `state` column themselves.

mod api;
pub mod bid_form;
pub mod criteria;
mod forms;
mod handlers;
pub mod invitations;
pub mod model;
pub mod policy;
pub mod reminders;
pub mod service;

pub use api::api_routes;
pub use handlers::{pdf_response, router};

/// What a later step tells of a tender's way after its posting: the timeline from the posting
/// to the contract that the tender page shows, as far as the reader may see it. The award
/// module provides it; this module only asks, so it does not depend on the steps after it.
#[async_trait::async_trait]
pub trait Progress: Send + Sync {
    /// The tender's timeline for `actor` (or the public).
    async fn timeline(
        &self,
        actor: Option<&crate::accounts::model::Actor>,
        tender: uuid::Uuid,
    ) -> crate::error::AppResult<Vec<model::TimelineStep>>;
}

/// What the tender services and routes use.
#[derive(Clone)]
pub struct Tenders {
    /// The database.
    pub db: sea_orm::DatabaseConnection,
    /// The clock.
    pub clock: crate::clock::SharedClock,
    /// Starts units of work.
    pub writer: crate::uow::Writer,
    /// Stored tender documents.
    pub blobs: std::sync::Arc<dyn crate::blob::BlobStore>,
    /// The tender rules (periods, minimum bids).
    pub rules: crate::config::TenderSettings,
    /// The rules of evaluation criteria.
    pub evaluation: crate::config::EvaluationSettings,
    /// Limits of uploaded PDFs.
    pub pdf: crate::config::PdfSettings,
    /// The tender's way after its posting (the award's timeline).
    pub progress: std::sync::Arc<dyn Progress>,
}

impl std::fmt::Debug for Tenders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenders").field("rules", &self.rules).finish_non_exhaustive()
    }
}
