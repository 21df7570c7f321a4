//! The deliveries' JSON API: a user's choices, the user's own delivery log, and the centre's.

use super::{Deliveries, DeliveryState, DeliveryView, Preferences};
use crate::{
    accounts::model::Actor,
    error::{AppError, AppResult, ErrorBody},
    web::extract::{Json, Query},
};
use axum::extract::State;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module under `/api/v1`.
pub fn api_routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Deliveries: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(get_preferences, put_preferences)).routes(routes!(own)).routes(routes!(log))
}

/// The caller's choices: the e-mail address, the language of messages, the kinds muted.
#[utoipa::path(get, path = "/api/v1/notifications/preferences", tag = "notifications",
    responses((status = 200, body = Preferences), (status = 401, description = "login_required", body = ErrorBody)))]
async fn get_preferences(State(state): State<Deliveries>, actor: Actor) -> AppResult<Json<Preferences>> {
    Ok(Json(super::preferences(&state, &actor).await?))
}

/// Sets the caller's choices.
#[utoipa::path(put, path = "/api/v1/notifications/preferences", tag = "notifications", request_body = Preferences,
    responses((status = 200, body = Preferences), (status = 401, description = "login_required", body = ErrorBody),
              (status = 422, description = "validation_failed: invalid_email, too_long, unknown_lang, unknown_kind", body = ErrorBody)))]
async fn put_preferences(
    State(state): State<Deliveries>,
    actor: Actor,
    Json(p): Json<Preferences>,
) -> AppResult<Json<Preferences>> {
    Ok(Json(super::set_preferences(&state, &actor, p).await?))
}

/// The caller's own deliveries (e-mails of its notices), newest first.
#[utoipa::path(get, path = "/api/v1/notifications/deliveries", tag = "notifications",
    responses((status = 200, body = Vec<DeliveryView>), (status = 401, description = "login_required", body = ErrorBody)))]
async fn own(State(state): State<Deliveries>, actor: Actor) -> AppResult<Json<Vec<DeliveryView>>> {
    Ok(Json(super::own(&state, &actor).await?))
}

/// Which deliveries of the log.
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// `pending`, `sent` or `failed`; absent: all.
    pub state: Option<String>,
}

/// Every user's deliveries, newest first (the centre's staff, the administrator): permanent
/// failures are `?state=failed`.
#[utoipa::path(get, path = "/api/v1/admin/deliveries", tag = "notifications", params(LogQuery),
    responses((status = 200, body = Vec<DeliveryView>), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "centre_only", body = ErrorBody), (status = 422, description = "validation_failed: unknown_state", body = ErrorBody)))]
async fn log(
    State(state): State<Deliveries>,
    actor: Actor,
    Query(q): Query<LogQuery>,
) -> AppResult<Json<Vec<DeliveryView>>> {
    let only = match q.state.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(DeliveryState::parse(s).ok_or_else(|| AppError::invalid_field("state", "unknown_state"))?),
    };
    Ok(Json(super::log(&state, &actor, only).await?))
}
