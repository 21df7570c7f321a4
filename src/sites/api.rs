//! Site endpoints of the JSON API (`/api/v1/admin/sites`).

use super::{
    Sites,
    service::{self, MemberInput, SiteInput, SiteSummary, SiteView},
};
use crate::{
    accounts::model::Actor,
    error::{AppResult, ErrorBody},
    web::extract::{Json, Path},
};
use axum::{extract::State, http::StatusCode};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

/// Routes of this module under `/api/v1`.
pub fn api_routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Sites: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update))
        .routes(routes!(add_member))
        .routes(routes!(remove_member))
}

/// A created site.
#[derive(Serialize, ToSchema)]
pub struct CreatedSite {
    /// Its public id.
    pub id: Uuid,
}

/// The sites, by name (the administrator, the centre's staff and supervisors).
#[utoipa::path(get, path = "/api/v1/admin/sites", tag = "sites",
    responses((status = 200, body = Vec<SiteSummary>), (status = 401, description = "login_required", body = ErrorBody),
              (status = 404, description = "not_found: the caller may not see sites", body = ErrorBody)))]
async fn list(State(state): State<Sites>, actor: Actor) -> AppResult<Json<Vec<SiteSummary>>> {
    Ok(Json(service::list(&state.db, &actor).await?))
}

/// Creates a site (the administrator).
#[utoipa::path(post, path = "/api/v1/admin/sites", tag = "sites", request_body = SiteInput,
    responses((status = 201, body = CreatedSite), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden: the centre's staff and supervisors read sites only", body = ErrorBody),
              (status = 404, description = "not_found: the caller may not see sites", body = ErrorBody),
              (status = 409, description = "site_name_taken", body = ErrorBody),
              (status = 422, description = "validation_failed: name, city required / too_long; seats out_of_range", body = ErrorBody)))]
async fn create(
    State(state): State<Sites>,
    actor: Actor,
    Json(input): Json<SiteInput>,
) -> AppResult<(StatusCode, Json<CreatedSite>)> {
    let id = service::create(&state, &actor, &input).await?;
    Ok((StatusCode::CREATED, Json(CreatedSite { id })))
}

/// A site with its staff and supervisors.
#[utoipa::path(get, path = "/api/v1/admin/sites/{id}", tag = "sites", params(("id" = Uuid, Path)),
    responses((status = 200, body = SiteView), (status = 401, description = "login_required", body = ErrorBody),
              (status = 404, description = "not_found", body = ErrorBody)))]
async fn show(State(state): State<Sites>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Json<SiteView>> {
    Ok(Json(service::view(&state.db, &actor, id).await?))
}

/// Changes a site (the administrator).
#[utoipa::path(put, path = "/api/v1/admin/sites/{id}", tag = "sites", params(("id" = Uuid, Path)), request_body = SiteInput,
    responses((status = 204, description = "changed"), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 409, description = "site_name_taken", body = ErrorBody),
              (status = 422, description = "validation_failed: name, city required / too_long; seats out_of_range", body = ErrorBody)))]
async fn update(
    State(state): State<Sites>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<SiteInput>,
) -> AppResult<StatusCode> {
    service::update(&state, &actor, id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Binds a centre staff member or supervisor to the site (the administrator); a user bound to
/// another site moves here.
#[utoipa::path(post, path = "/api/v1/admin/sites/{id}/members", tag = "sites", params(("id" = Uuid, Path)), request_body = MemberInput,
    responses((status = 204, description = "bound"), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 409, description = "already_member", body = ErrorBody),
              (status = 422, description = "validation_failed: username required / unknown / not_centre_staff", body = ErrorBody)))]
async fn add_member(
    State(state): State<Sites>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<MemberInput>,
) -> AppResult<StatusCode> {
    service::add_member(&state, &actor, id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unbinds a user from the site (the administrator).
#[utoipa::path(delete, path = "/api/v1/admin/sites/{id}/members/{user}", tag = "sites",
    params(("id" = Uuid, Path), ("user" = Uuid, Path, description = "the user's public id")),
    responses((status = 204, description = "unbound"), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody),
              (status = 404, description = "not_found: no such site, or the user is not bound to it", body = ErrorBody)))]
async fn remove_member(
    State(state): State<Sites>,
    actor: Actor,
    Path((id, user)): Path<(Uuid, Uuid)>,
) -> AppResult<StatusCode> {
    service::remove_member(&state, &actor, id, user).await?;
    Ok(StatusCode::NO_CONTENT)
}
