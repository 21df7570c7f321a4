//! Expert pool endpoints of the JSON API (`/api/v1/experts`, `/api/v1/expert/me`).
//!
//! No answer carries an identity number whole: records carry `id_number_masked`.

use super::{
    Experts,
    handlers::read_upload,
    import,
    service::{
        self, AccountInput, ConflictInput, DaysInput, EmploymentInput, ExpertFilter, ExpertInput, ExpertPage,
        ExpertUpdate, ExpertView, SpecialtyEntry, SuspendInput,
    },
};
use crate::{
    accounts::model::Actor,
    error::{AppResult, ErrorBody},
    web::extract::{Json, Multipart, Path, Query},
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
    Experts: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(specialties))
        .routes(routes!(import_csv))
        .routes(routes!(show, update))
        .routes(routes!(suspend))
        .routes(routes!(reactivate))
        .routes(routes!(add_employment))
        .routes(routes!(remove_employment))
        .routes(routes!(add_conflict))
        .routes(routes!(remove_conflict))
        .routes(routes!(add_unavailable))
        .routes(routes!(remove_unavailable))
        .routes(routes!(create_account))
        .routes(routes!(me))
        .routes(routes!(to_rate, rate))
}

/// The committee's experts of a tender's signed session, with the caller's ratings: the
/// tender's agency and the host site's staff; 404 for anyone else.
#[utoipa::path(get, path = "/api/v1/tenders/{id}/ratings", tag = "experts", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<super::ratings::MemberToRate>), (status = 401, description = "login_required", body = ErrorBody),
              (status = 404, description = "not_found: not a rater, or the report is not signed", body = ErrorBody)))]
async fn to_rate(
    State(state): State<Experts>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<Json<Vec<super::ratings::MemberToRate>>> {
    super::ratings::to_rate(&state.db, &actor, id).await?.map(Json).ok_or_else(crate::error::AppError::not_found)
}

/// Rates one expert of the session (punctuality, expertise, conduct 1 to 5, a note), once per
/// organisation; a mean under the threshold suspends the expert.
#[utoipa::path(post, path = "/api/v1/tenders/{id}/ratings", tag = "experts", params(("id" = Uuid, Path)),
    request_body = super::ratings::RatingInput,
    responses((status = 204, description = "rated"), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "raters_only", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 409, description = "out_of_turn / already_rated", body = ErrorBody),
              (status = 422, description = "validation_failed: marks out_of_range, note too_long, member unknown / not_an_expert", body = ErrorBody)))]
async fn rate(
    State(state): State<Experts>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<super::ratings::RatingInput>,
) -> AppResult<StatusCode> {
    super::ratings::rate(&state, &actor, id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A created object.
#[derive(Serialize, ToSchema)]
pub struct CreatedExpertObject {
    /// Its public id.
    pub id: Uuid,
}

/// How many were added.
#[derive(Serialize, ToSchema)]
pub struct Added {
    /// The number of experts or days added.
    pub added: usize,
}

/// The pool, 20 to a page, by name (the centre's staff, supervisors and the administrator;
/// anyone else 404).
#[utoipa::path(get, path = "/api/v1/experts", tag = "experts", params(ExpertFilter),
    responses((status = 200, body = ExpertPage), (status = 401, description = "login_required", body = ErrorBody),
              (status = 404, description = "not_found: the caller may not see the pool", body = ErrorBody),
              (status = 422, description = "validation_failed: q too_long, specialty specialty_unknown, site site_unknown, status invalid, page out_of_range", body = ErrorBody)))]
async fn list(
    State(state): State<Experts>,
    actor: Actor,
    Query(f): Query<ExpertFilter>,
) -> AppResult<Json<ExpertPage>> {
    Ok(Json(service::list(&state.db, &actor, &f).await?))
}

/// Adds an expert (the centre's staff, the administrator).
#[utoipa::path(post, path = "/api/v1/experts", tag = "experts", request_body = ExpertInput,
    responses((status = 201, body = CreatedExpertObject), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden: supervisors read the pool only", body = ErrorBody),
              (status = 404, description = "not_found: the caller may not see the pool", body = ErrorBody),
              (status = 409, description = "duplicate_id_number", body = ErrorBody),
              (status = 422, description = "validation_failed: name/title required, too_long; id_number required, id_number_invalid; phone phone_invalid; site site_unknown; specialties required, specialty_unknown, too_many; employments[i].*, conflicts[i].*, unavailable: date_invalid, credit_code_invalid, before_start", body = ErrorBody)))]
async fn create(
    State(state): State<Experts>,
    actor: Actor,
    Json(input): Json<ExpertInput>,
) -> AppResult<(StatusCode, Json<CreatedExpertObject>)> {
    let id = service::create(&state, &actor, &input).await?;
    Ok((StatusCode::CREATED, Json(CreatedExpertObject { id })))
}

/// The specialty catalogue (those who read the pool).
#[utoipa::path(get, path = "/api/v1/experts/specialties", tag = "experts",
    responses((status = 200, body = Vec<SpecialtyEntry>), (status = 401, description = "login_required", body = ErrorBody),
              (status = 404, description = "not_found: the caller may not see the pool", body = ErrorBody)))]
async fn specialties(actor: Actor) -> AppResult<Json<Vec<SpecialtyEntry>>> {
    super::policy::require_read(&actor)?;
    Ok(Json(service::catalogue()))
}

/// Imports experts from a CSV file (multipart field `file`; docs/experts.md): every row or none.
#[utoipa::path(post, path = "/api/v1/experts/import", tag = "experts",
    request_body(content_type = "multipart/form-data", description = "field `file`: the CSV file"),
    responses((status = 201, body = Added), (status = 400, description = "multipart_invalid", body = ErrorBody),
              (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody),
              (status = 404, description = "not_found: the caller may not see the pool", body = ErrorBody),
              (status = 413, description = "import_too_large, too_many_rows", body = ErrorBody),
              (status = 422, description = "import_invalid (a field error `line.<n>.<column>` with the reason's code per problem), encoding_invalid, csv_invalid, import_empty; file required", body = ErrorBody)))]
async fn import_csv(
    State(state): State<Experts>,
    actor: Actor,
    multipart: Multipart,
) -> AppResult<(StatusCode, Json<Added>)> {
    super::policy::require_manage(&actor)?;
    let (name, data) = read_upload(multipart, state.settings.import_max_bytes).await?;
    let added = import::import_csv(&state, &actor, &name, &data).await?;
    Ok((StatusCode::CREATED, Json(Added { added })))
}

/// One expert's record.
#[utoipa::path(get, path = "/api/v1/experts/{id}", tag = "experts", params(("id" = Uuid, Path)),
    responses((status = 200, body = ExpertView), (status = 401, description = "login_required", body = ErrorBody),
              (status = 404, description = "not_found", body = ErrorBody)))]
async fn show(State(state): State<Experts>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Json<ExpertView>> {
    Ok(Json(service::view(&state.db, &actor, id).await?))
}

/// Changes an expert's record.
#[utoipa::path(put, path = "/api/v1/experts/{id}", tag = "experts", params(("id" = Uuid, Path)), request_body = ExpertUpdate,
    responses((status = 204, description = "changed"), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 409, description = "duplicate_id_number", body = ErrorBody),
              (status = 422, description = "validation_failed: as for a new expert", body = ErrorBody)))]
async fn update(
    State(state): State<Experts>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<ExpertUpdate>,
) -> AppResult<StatusCode> {
    service::update(&state, &actor, id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Suspends an expert with a reason.
#[utoipa::path(post, path = "/api/v1/experts/{id}/suspend", tag = "experts", params(("id" = Uuid, Path)), request_body = SuspendInput,
    responses((status = 204, description = "suspended"), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 409, description = "already_suspended", body = ErrorBody),
              (status = 422, description = "validation_failed: reason required / too_long", body = ErrorBody)))]
async fn suspend(
    State(state): State<Experts>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<SuspendInput>,
) -> AppResult<StatusCode> {
    service::suspend(&state, &actor, id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reactivates a suspended expert.
#[utoipa::path(post, path = "/api/v1/experts/{id}/reactivate", tag = "experts", params(("id" = Uuid, Path)),
    responses((status = 204, description = "reactivated"), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 409, description = "not_suspended", body = ErrorBody)))]
async fn reactivate(State(state): State<Experts>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<StatusCode> {
    service::reactivate(&state, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds an employment to an expert's record.
#[utoipa::path(post, path = "/api/v1/experts/{id}/employments", tag = "experts", params(("id" = Uuid, Path)), request_body = EmploymentInput,
    responses((status = 201, body = CreatedExpertObject), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 422, description = "validation_failed: employer required / too_long; credit_code credit_code_invalid; from, until required / date_invalid; until before_start", body = ErrorBody)))]
async fn add_employment(
    State(state): State<Experts>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<EmploymentInput>,
) -> AppResult<(StatusCode, Json<CreatedExpertObject>)> {
    let id = service::add_employment(&state, &actor, id, &input).await?;
    Ok((StatusCode::CREATED, Json(CreatedExpertObject { id })))
}

/// Removes an employment.
#[utoipa::path(delete, path = "/api/v1/experts/{id}/employments/{employment}", tag = "experts",
    params(("id" = Uuid, Path), ("employment" = Uuid, Path)),
    responses((status = 204, description = "removed"), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody)))]
async fn remove_employment(
    State(state): State<Experts>,
    actor: Actor,
    Path((id, employment)): Path<(Uuid, Uuid)>,
) -> AppResult<StatusCode> {
    service::remove_employment(&state, &actor, id, employment).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Declares a conflict of interest with an organisation.
#[utoipa::path(post, path = "/api/v1/experts/{id}/conflicts", tag = "experts", params(("id" = Uuid, Path)), request_body = ConflictInput,
    responses((status = 201, body = CreatedExpertObject), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 409, description = "conflict_declared", body = ErrorBody),
              (status = 422, description = "validation_failed: credit_code required / credit_code_invalid; org_name required / too_long", body = ErrorBody)))]
async fn add_conflict(
    State(state): State<Experts>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<ConflictInput>,
) -> AppResult<(StatusCode, Json<CreatedExpertObject>)> {
    let id = service::add_conflict(&state, &actor, id, &input).await?;
    Ok((StatusCode::CREATED, Json(CreatedExpertObject { id })))
}

/// Removes a declared conflict.
#[utoipa::path(delete, path = "/api/v1/experts/{id}/conflicts/{conflict}", tag = "experts",
    params(("id" = Uuid, Path), ("conflict" = Uuid, Path)),
    responses((status = 204, description = "removed"), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody)))]
async fn remove_conflict(
    State(state): State<Experts>,
    actor: Actor,
    Path((id, conflict)): Path<(Uuid, Uuid)>,
) -> AppResult<StatusCode> {
    service::remove_conflict(&state, &actor, id, conflict).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Notes days the expert cannot evaluate.
#[utoipa::path(post, path = "/api/v1/experts/{id}/unavailable", tag = "experts", params(("id" = Uuid, Path)), request_body = DaysInput,
    responses((status = 200, body = Added), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 422, description = "validation_failed: days required / date_invalid / too_many", body = ErrorBody)))]
async fn add_unavailable(
    State(state): State<Experts>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<DaysInput>,
) -> AppResult<Json<Added>> {
    let added = service::add_unavailable(&state, &actor, id, &input).await?;
    Ok(Json(Added { added }))
}

/// Removes an unavailable day.
#[utoipa::path(delete, path = "/api/v1/experts/{id}/unavailable/{day}", tag = "experts",
    params(("id" = Uuid, Path), ("day" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 204, description = "removed"), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 422, description = "validation_failed: day date_invalid", body = ErrorBody)))]
async fn remove_unavailable(
    State(state): State<Experts>,
    actor: Actor,
    Path((id, day)): Path<(Uuid, String)>,
) -> AppResult<StatusCode> {
    service::remove_unavailable(&state, &actor, id, &day).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates the login of an expert with an initial password and binds it to the record.
#[utoipa::path(post, path = "/api/v1/experts/{id}/account", tag = "experts", params(("id" = Uuid, Path)), request_body = AccountInput,
    responses((status = 201, body = CreatedExpertObject), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 409, description = "account_exists, username_taken", body = ErrorBody),
              (status = 422, description = "validation_failed: username invalid; password too_short / too_long / weak", body = ErrorBody)))]
async fn create_account(
    State(state): State<Experts>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<AccountInput>,
) -> AppResult<(StatusCode, Json<CreatedExpertObject>)> {
    let id = service::create_account(&state, &actor, id, &input).await?;
    Ok((StatusCode::CREATED, Json(CreatedExpertObject { id })))
}

/// The logged-in expert's own record (我的专家信息).
#[utoipa::path(get, path = "/api/v1/expert/me", tag = "experts",
    responses((status = 200, body = ExpertView), (status = 401, description = "login_required", body = ErrorBody),
              (status = 404, description = "not_found: no expert record is bound to this login", body = ErrorBody)))]
async fn me(State(state): State<Experts>, actor: Actor) -> AppResult<Json<ExpertView>> {
    Ok(Json(service::own(&state.db, &actor).await?))
}
