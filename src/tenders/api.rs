//! Tender endpoints of the JSON API.

use super::{
    criteria::Criteria,
    handlers::{pdf_response, read_file_field},
    model::{TenderDetail, TenderSummary},
    service::{self, ClarificationInput, SearchPage, SearchQuery, TenderInput},
};
use crate::{
    accounts::model::Actor,
    error::{AppResult, ErrorBody},
    tenders::Tenders,
    web::{
        auth::{MaybeActor, Require, Suppliers, TenderManagers},
        extract::{Json, Multipart, Path, Query},
    },
};
use axum::{extract::State, http::StatusCode, response::Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

/// Routes of this module under `/api/v1` (uploads get their own body limit in `app`).
pub fn api_routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    super::Tenders: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(search, create))
        .routes(routes!(workspace))
        .routes(routes!(procuring_units))
        .routes(routes!(detail, update))
        .routes(routes!(upload))
        .routes(routes!(download, remove_document))
        .routes(routes!(publish))
        .routes(routes!(get_invitations, set_invitations))
        .routes(routes!(cancel))
        .routes(routes!(obtain))
        .routes(routes!(ask))
        .routes(routes!(clarify))
        .routes(routes!(criteria, set_criteria))
}

/// The evaluation criteria of a tender (评标办法): anyone who may see the tender.
#[utoipa::path(get, path = "/api/v1/tenders/{id}/criteria", tag = "tenders", params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Criteria),
        (status = 404, description = "not_found: no such tender, not visible, or drafted before criteria existed", body = ErrorBody)
    ))]
async fn criteria(
    State(state): State<Tenders>,
    MaybeActor(actor): MaybeActor,
    Path(id): Path<Uuid>,
) -> AppResult<Json<Criteria>> {
    Ok(Json(service::criteria(&state, actor.as_ref(), id).await?))
}

/// Sets the evaluation criteria of a draft (its managers).
#[utoipa::path(put, path = "/api/v1/tenders/{id}/criteria", tag = "tenders", params(("id" = Uuid, Path)), request_body = Criteria,
    responses(
        (status = 204, description = "set"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state: not a draft", body = ErrorBody),
        (status = 422, description = "validation_failed: the broken rules as field codes (price_weight below_minimum, scoring total_not_100 / bad_step / bad_max / not_for_lowest_price, sme_deduction_percent out_of_range, qualification required, duplicate_key, ...)", body = ErrorBody)
    ))]
async fn set_criteria(
    State(state): State<Tenders>,
    actor: Require<TenderManagers>,
    Path(id): Path<Uuid>,
    Json(c): Json<Criteria>,
) -> AppResult<StatusCode> {
    service::set_criteria(&state, &actor, id, c).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A created object.
#[derive(Serialize, ToSchema)]
pub struct Created {
    /// Its public id.
    pub id: Uuid,
}

/// Searches published tenders (no login needed).
#[utoipa::path(get, path = "/api/v1/tenders", tag = "tenders", params(SearchQuery),
    responses((status = 200, body = SearchPage), (status = 422, description = "validation_failed: q too_long; method, state, deadline_from, deadline_to invalid or out_of_range; page out_of_range", body = ErrorBody)))]
async fn search(State(state): State<Tenders>, Query(q): Query<SearchQuery>) -> AppResult<Json<SearchPage>> {
    Ok(Json(service::search_public(&state.db, &q).await?))
}

/// Creates a draft tender (procuring unit or agency staff).
#[utoipa::path(post, path = "/api/v1/tenders", tag = "tenders", request_body = TenderInput,
    responses(
        (status = 201, body = Created),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden: not procuring unit or agency staff", body = ErrorBody),
        (status = 422, description = "validation_failed", body = ErrorBody)
    ))]
async fn create(
    State(state): State<Tenders>,
    actor: Require<TenderManagers>,
    Json(input): Json<TenderInput>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let id = service::create_draft(&state, &actor, input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// The tenders on the caller's desk.
#[utoipa::path(get, path = "/api/v1/workspace/tenders", tag = "tenders", responses((status = 200, body = Vec<TenderSummary>), (status = 401, description = "login_required", body = ErrorBody)))]
async fn workspace(State(state): State<Tenders>, actor: Actor) -> AppResult<Json<Vec<TenderSummary>>> {
    Ok(Json(service::workspace(&state.db, &actor).await?))
}

/// A procuring unit that an agency may draft for.
#[derive(Serialize, ToSchema)]
pub struct Unit {
    /// Public id.
    pub id: Uuid,
    /// Name.
    pub name: String,
}

/// Active procuring units.
#[utoipa::path(get, path = "/api/v1/procuring-units", tag = "tenders", responses(
        (status = 200, body = Vec<Unit>),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody)
    ))]
async fn procuring_units(State(state): State<Tenders>, _actor: Require<TenderManagers>) -> AppResult<Json<Vec<Unit>>> {
    Ok(Json(service::procuring_units(&state.db).await?.into_iter().map(|(id, name)| Unit { id, name }).collect()))
}

/// A tender, with what the caller may see and do.
#[utoipa::path(get, path = "/api/v1/tenders/{id}", tag = "tenders", params(("id" = Uuid, Path)),
    responses((status = 200, body = TenderDetail), (status = 404, description = "not_found: no such tender, or a draft the caller may not see", body = ErrorBody)))]
async fn detail(
    State(state): State<Tenders>,
    MaybeActor(actor): MaybeActor,
    Path(id): Path<Uuid>,
) -> AppResult<Json<TenderDetail>> {
    Ok(Json(service::detail(&state, actor.as_ref(), id).await?))
}

/// Replaces a draft's fields and lots.
#[utoipa::path(put, path = "/api/v1/tenders/{id}", tag = "tenders", params(("id" = Uuid, Path)), request_body = TenderInput,
    responses(
        (status = 204, description = "replaced"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state: not a draft", body = ErrorBody),
        (status = 422, description = "validation_failed", body = ErrorBody)
    ))]
async fn update(
    State(state): State<Tenders>,
    actor: Require<TenderManagers>,
    Path(id): Path<Uuid>,
    Json(input): Json<TenderInput>,
) -> AppResult<StatusCode> {
    service::update_draft(&state, &actor, id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Uploads a tender document (multipart field `file`, a PDF) to a draft.
#[utoipa::path(post, path = "/api/v1/tenders/{id}/documents", tag = "tenders", params(("id" = Uuid, Path)),
    request_body(content_type = "multipart/form-data", description = "field `file`: the PDF"),
    responses(
        (status = 201, body = Created),
        (status = 400, description = "multipart_invalid", body = ErrorBody),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state: not a draft", body = ErrorBody),
        (status = 413, description = "pdf_too_large", body = ErrorBody),
        (status = 422, description = "pdf_invalid / pdf_encrypted / pdf_too_many_pages / pdf_too_complex / pdf_timeout; validation_failed: file required or empty", body = ErrorBody)
    ))]
async fn upload(
    State(state): State<Tenders>,
    actor: Require<TenderManagers>,
    Path(id): Path<Uuid>,
    multipart: Multipart,
) -> AppResult<(StatusCode, Json<Created>)> {
    let (name, data) = read_file_field(multipart).await?;
    let doc = service::upload_document(&state, &actor, id, &name, data).await?;
    Ok((StatusCode::CREATED, Json(Created { id: doc })))
}

/// Downloads a document (managers, supervisors, suppliers who obtained the documents).
#[utoipa::path(get, path = "/api/v1/tenders/{id}/documents/{doc}", tag = "tenders", params(("id" = Uuid, Path), ("doc" = Uuid, Path)),
    responses(
        (status = 200, description = "the document", content_type = "application/pdf"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "obtain_first", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody)
    ))]
async fn download(
    State(state): State<Tenders>,
    actor: Actor,
    Path((id, doc)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let (name, data) = service::read_document(&state, &actor, id, doc).await?;
    Ok(pdf_response(&name, data))
}

/// Removes a document from a draft.
#[utoipa::path(delete, path = "/api/v1/tenders/{id}/documents/{doc}", tag = "tenders", params(("id" = Uuid, Path), ("doc" = Uuid, Path)),
    responses(
        (status = 204, description = "removed"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state: not a draft", body = ErrorBody)
    ))]
async fn remove_document(
    State(state): State<Tenders>,
    actor: Require<TenderManagers>,
    Path((id, doc)): Path<(Uuid, Uuid)>,
) -> AppResult<StatusCode> {
    service::remove_document(&state, &actor, id, doc).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Publishes a draft.
#[utoipa::path(post, path = "/api/v1/tenders/{id}/publish", tag = "tenders", params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "published"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state: not a draft", body = ErrorBody),
        (status = 422, description = "no_lots / no_documents / deadline_too_soon / question_cutoff_passed / notice_incomplete / obtain_period_over / criteria_missing / criteria_invalid (fields name the broken rules) / too_few_invited", body = ErrorBody)
    ))]
async fn publish(
    State(state): State<Tenders>,
    actor: Require<TenderManagers>,
    Path(id): Path<Uuid>,
) -> AppResult<StatusCode> {
    service::publish(&state, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The suppliers invited to a tender (its managers).
#[utoipa::path(get, path = "/api/v1/tenders/{id}/invitations", tag = "tenders", params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Vec<super::invitations::Invited>),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody)
    ))]
async fn get_invitations(
    State(state): State<Tenders>,
    actor: Require<TenderManagers>,
    Path(id): Path<Uuid>,
) -> AppResult<Json<Vec<super::invitations::Invited>>> {
    let t = service::load_managed(&state.db, &actor, id).await?;
    Ok(Json(super::invitations::list(&state.db, t.id).await?))
}

/// Sets the suppliers invited to a draft (投标邀请): each is sent the invitation to bid when the
/// tender is published; an invited tender needs at least 3 and admits only them.
#[utoipa::path(put, path = "/api/v1/tenders/{id}/invitations", tag = "tenders", params(("id" = Uuid, Path)),
    request_body = super::invitations::InvitationsInput,
    responses(
        (status = 200, body = Vec<super::invitations::Invited>),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state: not a draft", body = ErrorBody),
        (status = 422, description = "validation_failed: unknown_supplier, too_many", body = ErrorBody)
    ))]
async fn set_invitations(
    State(state): State<Tenders>,
    actor: Require<TenderManagers>,
    Path(id): Path<Uuid>,
    Json(input): Json<super::invitations::InvitationsInput>,
) -> AppResult<Json<Vec<super::invitations::Invited>>> {
    Ok(Json(super::invitations::set(&state, &actor, id, input).await?))
}

/// Why a tender is cancelled.
#[derive(Deserialize, ToSchema)]
pub struct CancelRequest {
    /// The reason, published with the cancellation.
    pub reason: String,
}

/// Cancels a tender.
#[utoipa::path(post, path = "/api/v1/tenders/{id}/cancel", tag = "tenders", params(("id" = Uuid, Path)), request_body = CancelRequest,
    responses(
        (status = 204, description = "cancelled"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state", body = ErrorBody),
        (status = 422, description = "validation_failed: reason required or too_long", body = ErrorBody)
    ))]
async fn cancel(
    State(state): State<Tenders>,
    actor: Require<TenderManagers>,
    Path(id): Path<Uuid>,
    Json(req): Json<CancelRequest>,
) -> AppResult<StatusCode> {
    service::cancel(&state, &actor, id, &req.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Obtains the tender documents (suppliers).
#[utoipa::path(post, path = "/api/v1/tenders/{id}/obtain", tag = "tenders", params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "obtained"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden: not a supplier", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state", body = ErrorBody),
        (status = 422, description = "deadline_passed", body = ErrorBody)
    ))]
async fn obtain(
    State(state): State<Tenders>,
    actor: Require<Suppliers>,
    Path(id): Path<Uuid>,
) -> AppResult<StatusCode> {
    service::obtain(&state, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A question.
#[derive(Deserialize, ToSchema)]
pub struct QuestionRequest {
    /// The question.
    pub body: String,
}

/// Asks a question (suppliers who obtained the documents, before the cut-off).
#[utoipa::path(post, path = "/api/v1/tenders/{id}/questions", tag = "tenders", params(("id" = Uuid, Path)), request_body = QuestionRequest,
    responses(
        (status = 201, body = Created),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden / obtain_first", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state", body = ErrorBody),
        (status = 422, description = "questions_closed; validation_failed: body required or too_long", body = ErrorBody)
    ))]
async fn ask(
    State(state): State<Tenders>,
    actor: Require<Suppliers>,
    Path(id): Path<Uuid>,
    Json(req): Json<QuestionRequest>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let q = service::ask(&state, &actor, id, &req.body).await?;
    Ok((StatusCode::CREATED, Json(Created { id: q })))
}

/// Publishes an answer, clarification or amendment to all who obtained the documents.
#[utoipa::path(post, path = "/api/v1/tenders/{id}/clarifications", tag = "tenders", params(("id" = Uuid, Path)), request_body = ClarificationInput,
    responses(
        (status = 201, body = Created),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state", body = ErrorBody),
        (status = 422, description = "deadline_passed / amendment_too_late; validation_failed: body, question, new_deadline", body = ErrorBody)
    ))]
async fn clarify(
    State(state): State<Tenders>,
    actor: Require<TenderManagers>,
    Path(id): Path<Uuid>,
    Json(input): Json<ClarificationInput>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let c = service::clarify(&state, &actor, id, input).await?;
    Ok((StatusCode::CREATED, Json(Created { id: c })))
}
