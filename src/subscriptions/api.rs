//! The subscriptions' JSON API: a supplier user's own subscriptions.

use super::{SubscriptionInput, SubscriptionView, Subscriptions};
use crate::{
    accounts::model::Actor,
    error::{AppResult, ErrorBody},
    web::extract::{Json, Path},
};
use axum::{extract::State, http::StatusCode};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

/// Routes of this module under `/api/v1`.
pub fn api_routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Subscriptions: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(delete))
}

/// The caller's subscriptions to new tender notices.
#[utoipa::path(get, path = "/api/v1/subscriptions", tag = "notifications",
    responses((status = 200, body = Vec<SubscriptionView>), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "suppliers_only", body = ErrorBody)))]
async fn list(State(state): State<Subscriptions>, actor: Actor) -> AppResult<Json<Vec<SubscriptionView>>> {
    Ok(Json(super::list(&state, &actor).await?))
}

/// Subscribes the caller to new tender notices of some categories, regions or keywords.
#[utoipa::path(post, path = "/api/v1/subscriptions", tag = "notifications", request_body = SubscriptionInput,
    responses((status = 201, body = SubscriptionView), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "suppliers_only", body = ErrorBody),
              (status = 422, description = "too_many_subscriptions; validation_failed: unknown_category, too_long, too_many, no_words, subscription_empty", body = ErrorBody)))]
async fn create(
    State(state): State<Subscriptions>,
    actor: Actor,
    Json(input): Json<SubscriptionInput>,
) -> AppResult<(StatusCode, Json<SubscriptionView>)> {
    Ok((StatusCode::CREATED, Json(super::create(&state, &actor, input).await?)))
}

/// Deletes one of the caller's subscriptions.
#[utoipa::path(delete, path = "/api/v1/subscriptions/{id}", tag = "notifications",
    params(("id" = Uuid, Path, description = "The subscription")),
    responses((status = 204), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "suppliers_only", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody)))]
async fn delete(State(state): State<Subscriptions>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<StatusCode> {
    super::delete(&state, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
