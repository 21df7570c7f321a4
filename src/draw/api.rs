//! The draw's JSON API.

use super::{
    Draws,
    service::{
        self, AnswerInput, ContributionInput, DrawView, InvitationView, RecordExport, RequestInput, VerifyReport,
    },
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

/// The draw's API routes.
pub fn api_routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Draws: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(prepare))
        .routes(routes!(view))
        .routes(routes!(request))
        .routes(routes!(contribute))
        .routes(routes!(answer))
        .routes(routes!(publish))
        .routes(routes!(record))
        .routes(routes!(verify))
        .routes(routes!(invitations))
}

/// A new draw's id.
#[derive(Serialize, ToSchema)]
pub struct Created {
    /// The draw's public id.
    pub id: Uuid,
}

/// Prepares the draw of a tender in evaluation: the platform commits to its secret.
#[utoipa::path(post, path = "/api/v1/tenders/{id}/draw", tag = "draws", params(("id" = Uuid, Path)),
    responses(
        (status = 201, body = Created),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden: not the centre's staff", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state (not in evaluation) / draw_exists", body = ErrorBody)
    ))]
async fn prepare(
    State(state): State<Draws>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<(StatusCode, Json<Created>)> {
    Ok((StatusCode::CREATED, Json(Created { id: service::prepare(&state, &actor, id).await? })))
}

/// A draw as the caller may see it: whole to the centre and supervisors; the committee only,
/// once published, to the tender's managers; 404 to everyone else.
#[utoipa::path(get, path = "/api/v1/draws/{id}", tag = "draws", params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = DrawView),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody)
    ))]
async fn view(State(state): State<Draws>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Json<DrawView>> {
    Ok(Json(service::view(&state, &actor, id).await?))
}

/// Records the request: groups, reserves, the session; the eligible experts and the exclusions
/// are computed and recorded with their digests.
#[utoipa::path(put, path = "/api/v1/draws/{id}/request", tag = "draws", params(("id" = Uuid, Path)), request_body = RequestInput,
    responses(
        (status = 200, body = DrawView),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state", body = ErrorBody),
        (status = 422, description = "validation_failed (groups, specialty_unknown, site_unknown, out_of_range, in_past) / committee_too_small / committee_even / not_enough_experts", body = ErrorBody)
    ))]
async fn request(
    State(state): State<Draws>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<RequestInput>,
) -> AppResult<Json<DrawView>> {
    service::request(&state, &actor, id, input).await?;
    Ok(Json(service::view(&state, &actor, id).await?))
}

/// The supervisor's contribution (32 random bytes, hex): the draw runs and the experts are invited.
#[utoipa::path(post, path = "/api/v1/draws/{id}/contribution", tag = "draws", params(("id" = Uuid, Path)), request_body = ContributionInput,
    responses(
        (status = 200, body = DrawView),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden: not a supervisor", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state", body = ErrorBody),
        (status = 422, description = "validation_failed: contribution invalid / not_enough_experts", body = ErrorBody)
    ))]
async fn contribute(
    State(state): State<Draws>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<ContributionInput>,
) -> AppResult<Json<DrawView>> {
    service::contribute(&state, &actor, id, input).await?;
    Ok(Json(service::view(&state, &actor, id).await?))
}

/// An invited expert's answer (its own invitation), or the centre's record of an answer given by
/// phone (a note required). A decline calls the replacement.
#[utoipa::path(post, path = "/api/v1/invitations/{id}/answer", tag = "draws", params(("id" = Uuid, Path)), request_body = AnswerInput,
    responses(
        (status = 204, description = "recorded"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 404, description = "not_found: not the caller's invitation", body = ErrorBody),
        (status = 409, description = "not_invited / answer_too_late", body = ErrorBody),
        (status = 422, description = "validation_failed: note required or too long", body = ErrorBody)
    ))]
async fn answer(
    State(state): State<Draws>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<AnswerInput>,
) -> AppResult<StatusCode> {
    service::answer(&state, &actor, id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Publishes the result once every seat is confirmed; the secret is revealed.
#[utoipa::path(post, path = "/api/v1/draws/{id}/publish", tag = "draws", params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = DrawView),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state / seats_open", body = ErrorBody)
    ))]
async fn publish(State(state): State<Draws>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Json<DrawView>> {
    service::publish(&state, &actor, id).await?;
    Ok(Json(service::view(&state, &actor, id).await?))
}

/// The draw's whole record, as `tenderhall draw verify` reads it (the secret empty until published).
#[utoipa::path(get, path = "/api/v1/draws/{id}/record", tag = "draws", params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = RecordExport),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state: no request yet", body = ErrorBody)
    ))]
async fn record(State(state): State<Draws>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Json<RecordExport>> {
    Ok(Json(service::record(&state, &actor, id).await?))
}

/// Runs a published draw again from its record and compares.
#[utoipa::path(get, path = "/api/v1/draws/{id}/verify", tag = "draws", params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = VerifyReport),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "not_published / wrong_state", body = ErrorBody)
    ))]
async fn verify(State(state): State<Draws>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Json<VerifyReport>> {
    Ok(Json(service::verify(&state, &actor, id).await?))
}

/// The caller's invitations as an expert: date, time, site and duration, never the tender.
#[utoipa::path(get, path = "/api/v1/me/invitations", tag = "draws",
    responses(
        (status = 200, body = Vec<InvitationView>),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden: not an expert", body = ErrorBody)
    ))]
async fn invitations(State(state): State<Draws>, actor: Actor) -> AppResult<Json<Vec<InvitationView>>> {
    Ok(Json(service::my_invitations(&state, &actor).await?))
}
