//! The calendar's JSON API (`/api/v1/calendar`).

use super::{Calendar, DayInput, DayView};
use crate::{
    accounts::model::Actor,
    error::{AppResult, ErrorBody},
    web::extract::{Json, Path, Query},
};
use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Routes of this module under `/api/v1`.
pub fn api_routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Calendar: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(set, remove))
}

/// Which days to list.
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// A year (1970–9999); every listed day without it.
    pub year: Option<i32>,
}

/// The listed holidays and make-up working days, by date (public).
#[utoipa::path(get, path = "/api/v1/calendar", tag = "calendar", params(YearQuery),
    responses((status = 200, body = Vec<DayView>), (status = 400, description = "validation: year out_of_range", body = ErrorBody)))]
async fn list(State(state): State<Calendar>, Query(q): Query<YearQuery>) -> AppResult<Json<Vec<DayView>>> {
    Ok(Json(super::list(&state.db, q.year).await?))
}

/// Lists a day as a holiday or a make-up working day (the centre's staff).
#[utoipa::path(put, path = "/api/v1/calendar/{day}", tag = "calendar", params(("day" = String, Path, description = "YYYY-MM-DD")),
    request_body = DayInput,
    responses((status = 200, body = DayView), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "centre_only", body = ErrorBody),
              (status = 400, description = "validation: day invalid_date, kind unknown / changes_nothing, name", body = ErrorBody)))]
async fn set(
    State(state): State<Calendar>,
    actor: Actor,
    Path(day): Path<String>,
    Json(input): Json<DayInput>,
) -> AppResult<Json<DayView>> {
    Ok(Json(super::set(&state, &actor, &day, input).await?))
}

/// Takes a day off the list (the centre's staff).
#[utoipa::path(delete, path = "/api/v1/calendar/{day}", tag = "calendar", params(("day" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 204, description = "removed"), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "centre_only", body = ErrorBody), (status = 404, description = "not_found: not listed", body = ErrorBody)))]
async fn remove(State(state): State<Calendar>, actor: Actor, Path(day): Path<String>) -> AppResult<StatusCode> {
    super::remove(&state, &actor, &day).await?;
    Ok(StatusCode::NO_CONTENT)
}
