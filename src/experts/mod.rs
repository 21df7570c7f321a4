//! The expert pool (评标专家库): the experts who may be drawn for an evaluation, with their
//! specialties, site, title, employers of the last years, declared conflicts, the days they
//! cannot serve, their status, and the logins bound to them.
//!
//! - [`model`]: statuses, identity numbers (GB 11643 check, masking), dates;
//! - [`specialties`]: the compile-time specialty catalogue and [`specialties::covers`];
//! - [`service`]: the pool's rules (creating, changing, suspending, accounts, the expert's own
//!   record);
//! - [`import`]: the CSV import, all rows or none;
//! - [`pool`]: the reads the random draw makes (eligible experts with everything the avoidance
//!   rules need);
//! - `api` and `handlers`: the JSON API (`/api/v1/experts`) and the pages (`/experts`,
//!   `/expert`).
//!
//! Owns the tables `experts`, `expert_specialties`, `expert_employments`,
//! `expert_unavailable` and `expert_conflicts`. An identity number is stored whole and never
//! leaves the server whole: every page and answer shows it masked
//! ([`model::mask_id_number`]), audit records included.

mod api;
mod handlers;
pub mod import;
pub mod model;
pub mod policy;
pub mod pool;
pub mod ratings;
pub mod service;
pub mod specialties;

pub use api::api_routes;

use axum::Router;

/// Page routes of this module; `upload_limit` bounds the body of the import page's upload.
pub fn router<S>(upload_limit: usize) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Experts: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    handlers::routes(upload_limit)
}

/// What the pool's services and routes use.
#[derive(Clone, Debug)]
pub struct Experts {
    /// The database.
    pub db: sea_orm::DatabaseConnection,
    /// Starts units of work.
    pub writer: crate::uow::Writer,
    /// The pool's limits (the import's size and rows).
    pub settings: crate::config::ExpertSettings,
}
