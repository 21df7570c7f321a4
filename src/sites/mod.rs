//! Sites (场地): the trading centres where experts evaluate, each with its number of evaluation
//! seats (工位) and the centre users bound to it (its staff and supervisors). A cross-site
//! evaluation runs at a host site (主场) with guest sites (客场).
//!
//! Owns: the `sites` and `site_members` tables; the administrator's pages `/admin/sites` and
//! their `/api/v1/admin/sites` twins. Only the platform administrator changes sites; the
//! centre's staff and supervisors read them; nobody else sees them (404).

mod api;
mod handlers;
pub mod policy;
pub mod service;

pub use api::api_routes;

use axum::Router;

/// Page routes of this module.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Sites: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    handlers::routes()
}

/// What the site services and routes use.
#[derive(Clone, Debug)]
pub struct Sites {
    /// The database.
    pub db: sea_orm::DatabaseConnection,
    /// Starts units of work.
    pub writer: crate::uow::Writer,
}
