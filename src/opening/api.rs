//! Opening-hall endpoints of the JSON API: the hall's state, its events after a number, and
//! commands. The websocket (`ws`) carries the same, live.

use super::model::{Command, HallEventView, HallState};
use crate::{
    accounts::model::Actor,
    error::{AppResult, ErrorBody},
    opening::Openings,
    web::{
        auth::SessionActor,
        extract::{Json, Path, Query},
        origin::SameOrigin,
    },
};
use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

/// Routes of this module under `/api/v1`.
pub fn api_routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    super::Openings: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(hall))
        .routes(routes!(events))
        .routes(routes!(command))
        .routes(routes!(record))
        .routes(routes!(ws))
}

/// The opening hall as the caller sees it. Before the deadline: 422 `hall_not_open`; to anyone
/// without a part in the tender: 404.
#[utoipa::path(get, path = "/api/v1/tenders/{id}/opening", tag = "opening", params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = HallState),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 422, description = "hall_not_open", body = ErrorBody)
    ))]
async fn hall(State(state): State<Openings>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Json<HallState>> {
    Ok(Json(state.hall_state(&actor, id).await?.0))
}

/// Which events to return.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct After {
    /// Only events numbered above this (0 for all).
    #[serde(default)]
    pub after: i64,
}

/// The hall's events after a number, those the caller may see, in order.
#[utoipa::path(get, path = "/api/v1/tenders/{id}/opening/events", tag = "opening", params(("id" = Uuid, Path), After),
    responses(
        (status = 200, body = Vec<HallEventView>),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 422, description = "hall_not_open", body = ErrorBody)
    ))]
async fn events(
    State(state): State<Openings>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<After>,
) -> AppResult<Json<Vec<HallEventView>>> {
    Ok(Json(state.events(&actor, id, q.after).await?))
}

/// The hall as a live room (`crate::live::ws`, docs/api.md "The websocket"): a websocket
/// handshake, answered 101 with `hello`, then every event after `after` the caller may see, and
/// live ones. The origin is checked first (403 `origin_not_allowed`), then the session, then
/// that the request is a handshake at all (426 `websocket_required`), then the hall as for
/// `GET /api/v1/tenders/{id}/opening`.
#[utoipa::path(get, path = "/api/v1/tenders/{id}/opening/ws", tag = "opening",
    params(("id" = Uuid, Path, description = "the tender's public id"), After),
    responses(
        (status = 101, description = "Switching Protocols: the websocket; JSON text frames (`hello`, `event`, `clock`, `ok`, `error`) as in docs/api.md"),
        (status = 400, description = "query_invalid: `after` is not a whole number", body = ErrorBody),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "origin_not_allowed: a handshake from another site's page", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 422, description = "hall_not_open", body = ErrorBody),
        (status = 426, description = "websocket_required: not a websocket handshake", body = ErrorBody)
    ))]
async fn ws(
    State(state): State<Openings>,
    origin: SameOrigin,
    participant: SessionActor,
    Path(id): Path<Uuid>,
    Query(after): Query<After>,
    ws: Result<axum::extract::WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> AppResult<axum::response::Response> {
    let ws = ws.map_err(|_| crate::error::AppError::websocket_required())?;
    crate::live::ws::upgrade(state.clone(), state.wiring(), origin, participant, id, after.after, ws).await
}

/// A command to the hall: `{"op": "sign_in"}`, `{"op": "start_decryption"}`,
/// `{"op": "release_key", "bid", "key"}`, `{"op": "advance"}`, `{"op": "object", "text"}`,
/// `{"op": "answer", "objection", "text"}`, `{"op": "confirm", "signature"}`,
/// `{"op": "note", "text"}`. A command out of turn is refused (409 `out_of_turn`) and changes
/// nothing. Commands sent faster than the participant's allowance (`[live]`, shared with the
/// websocket) are refused with 429 `rate_limited` and `Retry-After`.
#[utoipa::path(post, path = "/api/v1/tenders/{id}/opening/commands", tag = "opening", params(("id" = Uuid, Path)), request_body = Command,
    responses(
        (status = 204, description = "done"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "out_of_turn / already_decided / already_answered", body = ErrorBody),
        (status = 422, description = "hall_not_open / window_open / window_closed / signature_invalid / validation_failed", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody)
    ))]
async fn command(
    State(state): State<Openings>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(cmd): Json<Command>,
) -> AppResult<StatusCode> {
    crate::live::command(&state, state.limits(), state.now(), &actor, id, cmd).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The opening record (开标记录表) as a PDF, from the reading on.
#[utoipa::path(get, path = "/api/v1/tenders/{id}/opening/record.pdf", tag = "opening", params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "the record", content_type = "application/pdf"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "out_of_turn: before the reading", body = ErrorBody),
        (status = 422, description = "hall_not_open", body = ErrorBody)
    ))]
async fn record(
    State(state): State<Openings>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<impl axum::response::IntoResponse> {
    let pdf = state.record_pdf(&actor, id).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/pdf".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"opening-record-{id}.pdf\"")),
        ],
        pdf,
    ))
}
