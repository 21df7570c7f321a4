//! Accounts (账户): organisations, users, roles, login and sessions, supplier registration and
//! the centre's approval of it.
//!
//! Owns: the `organisations`, `users`, `sessions` and `login_failures` tables; password hashing
//! (argon2id); login throttling; the login, logout, registration, password and approval pages
//! and their `/api/v1` twins. It must not decide what a role may do with a tender: each domain
//! module's policy does that, reading the [`model::Actor`] this module provides.

mod api;
mod handlers;
pub mod model;
pub mod service;

use crate::app::AppState;
use axum::Router;

/// Page routes of this module.
pub fn router() -> Router<AppState> {
    handlers::routes()
}

pub use api::api_routes;
