//! E-mall pages.

use crate::app::AppState;
use axum::Router;

/// Page routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
}
