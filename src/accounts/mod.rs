//! Accounts (账户): organisations, users, roles, login and sessions, supplier registration and
//! the centre's approval of it.
//!
//! Owns: the `organisations`, `users`, `sessions`, `login_failures` and `login_codes` tables;
//! password hashing (argon2id); login throttling; login codes by SMS ([`codes`]); the login, logout, registration, password and approval pages
//! and their `/api/v1` twins. It must not decide what a role may do with a tender: each domain
//! module's policy does that, reading the [`model::Actor`] this module provides.

mod api;
pub mod codes;
mod handlers;
pub mod model;
pub mod service;

use axum::Router;

/// Page routes of this module.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Accounts: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    handlers::routes()
}

pub use api::api_routes;

/// What the accounts services and routes use.
#[derive(Clone, Debug)]
pub struct Accounts {
    /// The database.
    pub db: sea_orm::DatabaseConnection,
    /// The clock.
    pub clock: crate::clock::SharedClock,
    /// Starts units of work.
    pub writer: crate::uow::Writer,
    /// Sessions and login throttling.
    pub security: crate::config::SecuritySettings,
    /// Where login codes go.
    pub codes: codes::CodeSender,
}
