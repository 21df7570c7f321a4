//! Evaluation-session endpoints of the JSON API: opening the session, its state, its events
//! after a number, and commands. The websocket (`ws`) carries the same, live.

use super::{
    model::{Command, SessionView},
    service::{Evaluations, OpenInput},
};
use crate::{
    accounts::model::Actor,
    error::{AppResult, ErrorBody},
    live::Event,
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
    Evaluations: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(session, open))
        .routes(routes!(events))
        .routes(routes!(command))
        .routes(routes!(ws))
        .routes(routes!(report))
}

/// The signed evaluation report (评标报告) as a PDF, with its canonical JSON attached.
#[utoipa::path(get, path = "/api/v1/tenders/{id}/evaluation/report.pdf", tag = "evaluation", params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "the report", content_type = "application/pdf"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "out_of_turn: not every member has signed", body = ErrorBody)
    ))]
async fn report(
    State(state): State<Evaluations>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<axum::response::Response> {
    let pdf = state.report_pdf(&actor, id).await?;
    Ok(crate::tenders::pdf_response("evaluation-report.pdf", bytes::Bytes::from(pdf)))
}

/// Opens the evaluation session of a tender in evaluation whose draw is published (the
/// centre's staff).
#[utoipa::path(post, path = "/api/v1/tenders/{id}/evaluation", tag = "evaluation", params(("id" = Uuid, Path)), request_body = OpenInput,
    responses(
        (status = 204, description = "opened"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden: not the centre's staff", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state / session_exists / draw_not_published / out_of_turn (bids not read out)", body = ErrorBody),
        (status = 422, description = "validation_failed: representative required / not_procuring_staff", body = ErrorBody)
    ))]
async fn open(
    State(state): State<Evaluations>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<OpenInput>,
) -> AppResult<StatusCode> {
    state.open(&actor, id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The session as the caller sees it: members, bids (letters instead of bidders in an
/// anonymous part), criteria, 清标 findings, the caller's own votes and scores, open
/// consistency flags, and the results when they may be seen.
#[utoipa::path(get, path = "/api/v1/tenders/{id}/evaluation", tag = "evaluation", params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = SessionView),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 404, description = "not_found: no session, or the caller is not in it", body = ErrorBody)
    ))]
async fn session(State(state): State<Evaluations>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Json<SessionView>> {
    Ok(Json(state.view(&actor, id).await?))
}

/// A position in a room's events.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct After {
    /// Events after this number (0: all).
    #[serde(default)]
    pub after: i64,
}

/// The session's events after a number, as the caller may see them.
#[utoipa::path(get, path = "/api/v1/tenders/{id}/evaluation/events", tag = "evaluation", params(("id" = Uuid, Path), After),
    responses(
        (status = 200, body = Vec<Event>),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody)
    ))]
async fn events(
    State(state): State<Evaluations>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<After>,
) -> AppResult<Json<Vec<Event>>> {
    Ok(Json(state.events(&actor, id, q.after).await?))
}

/// The session's websocket: the same events live, and commands.
#[utoipa::path(get, path = "/api/v1/tenders/{id}/evaluation/ws", tag = "evaluation",
    params(("id" = Uuid, Path, description = "the tender's public id"), After),
    responses(
        (status = 101, description = "Switching Protocols: the websocket; JSON text frames (`hello`, `event`, `clock`, `ok`, `error`) as in docs/api.md"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "origin_not_allowed", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 426, description = "websocket_required", body = ErrorBody)
    ))]
async fn ws(
    State(state): State<Evaluations>,
    origin: SameOrigin,
    participant: SessionActor,
    Path(id): Path<Uuid>,
    Query(after): Query<After>,
    ws: Result<axum::extract::WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> AppResult<axum::response::Response> {
    let ws = ws.map_err(|_| crate::error::AppError::websocket_required())?;
    crate::live::ws::upgrade(state.clone(), state.wiring(), origin, participant, id, after.after, ws).await
}

/// A command to the session.
#[utoipa::path(post, path = "/api/v1/tenders/{id}/evaluation/commands", tag = "evaluation", params(("id" = Uuid, Path)), request_body = Command,
    responses(
        (status = 204, description = "done"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden / not_a_member / not_chair", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "out_of_turn / already_signed_in / already_declared / committee_incomplete / no_chair / votes_missing / scores_missing / consistency_open / sheet_signed / bid_out / not_signed / sheets_unsigned", body = ErrorBody),
        (status = 422, description = "validation_failed / score_out_of_range / score_off_step / rep_cannot_chair / password_wrong", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody)
    ))]
async fn command(
    State(state): State<Evaluations>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(cmd): Json<Command>,
) -> AppResult<StatusCode> {
    crate::live::command(&state, state.limits(), state.now(), &actor, id, cmd).await?;
    Ok(StatusCode::NO_CONTENT)
}
