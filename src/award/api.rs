//! The award's JSON API: `/api/v1/tenders/{id}/award` and below, `/api/v1/challenges/{id}`,
//! and the public lists `/api/v1/results`.

use super::{
    Awards,
    model::{AwardView, PublicResult},
    service::{
        self, AnswerInput, AwardInput, ChallengeInput, ComplaintInput, ContractInput, DecisionInput, PublicList,
    },
};
use crate::{
    accounts::model::Actor,
    error::{AppError, AppResult, ErrorBody},
    web::{
        auth::MaybeActor,
        extract::{Json, Multipart, Path, Query},
    },
};
use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

/// Routes of this module under `/api/v1`.
pub fn api_routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Awards: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(view, publish))
        .routes(routes!(challenge))
        .routes(routes!(answer))
        .routes(routes!(complain))
        .routes(routes!(decide))
        .routes(routes!(evidence))
        .routes(routes!(award))
        .routes(routes!(notice))
        .routes(routes!(contract, contract_pdf))
        .routes(routes!(results))
}

/// The text fields and the one file (`file`) of a multipart form, each field at most 64 KiB.
pub async fn read_form(Multipart(mut m): Multipart) -> AppResult<(HashMap<String, String>, Option<(String, Bytes)>)> {
    fn refused(e: axum::extract::multipart::MultipartError) -> AppError {
        if e.status().as_u16() == 413 {
            AppError::too_large("pdf_too_large", "the file is too large")
        } else {
            AppError::bad_request("multipart_invalid", e.body_text())
        }
    }
    let (mut fields, mut file) = (HashMap::new(), None);
    while let Some(field) = m.next_field().await.map_err(refused)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("document.pdf").to_string();
            file = Some((file_name, field.bytes().await.map_err(refused)?));
        } else {
            let v = field.bytes().await.map_err(refused)?;
            if v.len() > 64 * 1024 {
                return Err(AppError::invalid_field("form", "too_long").with_arg("max", 65536));
            }
            let v = String::from_utf8(v.to_vec())
                .map_err(|_| AppError::bad_request("multipart_invalid", "a field is not UTF-8"))?;
            fields.insert(name, v);
        }
    }
    Ok((fields, file))
}

/// A created record's id.
#[derive(Serialize, ToSchema)]
pub struct Created {
    /// Its public id.
    pub id: Uuid,
}

/// A tender's award as the caller may see it: the lots' candidates, results and the challenges
/// the caller may read (public for a published tender).
#[utoipa::path(get, path = "/api/v1/tenders/{id}/award", tag = "award", params(("id" = Uuid, Path)),
    responses((status = 200, body = AwardView), (status = 404, description = "not_found", body = ErrorBody)))]
async fn view(
    State(state): State<Awards>,
    MaybeActor(actor): MaybeActor,
    Path(id): Path<Uuid>,
) -> AppResult<Json<AwardView>> {
    Ok(Json(service::view(&state, actor.as_ref(), id).await?))
}

/// Publishes the candidates of every lot (the tender's managers, after the signed report).
#[utoipa::path(post, path = "/api/v1/tenders/{id}/award", tag = "award", params(("id" = Uuid, Path)),
    responses((status = 200, body = AwardView), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "forbidden: not a manager of the tender", body = ErrorBody),
              (status = 404, description = "not_found", body = ErrorBody),
              (status = 409, description = "wrong_state / already_published / report_unsigned / no_candidates", body = ErrorBody)))]
async fn publish(State(state): State<Awards>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Json<AwardView>> {
    service::publish(&state, &actor, id).await?;
    Ok(Json(service::view(&state, Some(&actor), id).await?))
}

/// Files a challenge (质疑) of a lot: multipart fields `lot` (public id), `body`, and optionally
/// `file` (a PDF of evidence).
#[utoipa::path(post, path = "/api/v1/tenders/{id}/challenges", tag = "award", params(("id" = Uuid, Path)),
    request_body(content_type = "multipart/form-data", description = "fields `lot`, `body`; optional `file` (PDF)"),
    responses((status = 201, body = Created), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "suppliers_only / not_a_bidder", body = ErrorBody),
              (status = 404, description = "not_found", body = ErrorBody),
              (status = 409, description = "not_published / challenge_closed / challenge_exists / wrong_state", body = ErrorBody),
              (status = 413, description = "pdf_too_large", body = ErrorBody),
              (status = 422, description = "validation_failed: body; pdf_invalid and the other PDF checks", body = ErrorBody)))]
async fn challenge(
    State(state): State<Awards>,
    actor: Actor,
    Path(id): Path<Uuid>,
    multipart: Multipart,
) -> AppResult<(StatusCode, Json<Created>)> {
    let (fields, file) = read_form(multipart).await?;
    let lot = fields
        .get("lot")
        .and_then(|l| Uuid::parse_str(l.trim()).ok())
        .ok_or_else(|| AppError::invalid_field("lot", "required"))?;
    let input = ChallengeInput { lot, body: fields.get("body").cloned().unwrap_or_default(), evidence: file };
    Ok((StatusCode::CREATED, Json(Created { id: service::file_challenge(&state, &actor, id, input).await? })))
}

/// Answers a challenge (the tender's managers), once.
#[utoipa::path(post, path = "/api/v1/challenges/{id}/answer", tag = "award", params(("id" = Uuid, Path)), request_body = AnswerInput,
    responses((status = 204, description = "answered"), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "managers_only", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 409, description = "already_answered", body = ErrorBody), (status = 422, description = "validation_failed: answer", body = ErrorBody)))]
async fn answer(
    State(state): State<Awards>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<AnswerInput>,
) -> AppResult<StatusCode> {
    service::answer(&state, &actor, id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Complains to the supervisors (the challenger), within the complaint period.
#[utoipa::path(post, path = "/api/v1/challenges/{id}/complaint", tag = "award", params(("id" = Uuid, Path)), request_body = ComplaintInput,
    responses((status = 204, description = "complained"), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "challenger_only", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 409, description = "not_answered / complaint_closed / already_complained", body = ErrorBody),
              (status = 422, description = "validation_failed: complaint", body = ErrorBody)))]
async fn complain(
    State(state): State<Awards>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<ComplaintInput>,
) -> AppResult<StatusCode> {
    service::complain(&state, &actor, id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Decides a complaint (a supervisor): `rejected`, `re_evaluate` or `rerun`.
#[utoipa::path(post, path = "/api/v1/challenges/{id}/decision", tag = "award", params(("id" = Uuid, Path)), request_body = DecisionInput,
    responses((status = 204, description = "decided"), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "supervisors_only", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 409, description = "no_complaint / contracted", body = ErrorBody),
              (status = 422, description = "validation_failed: decision, reason", body = ErrorBody)))]
async fn decide(
    State(state): State<Awards>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<DecisionInput>,
) -> AppResult<StatusCode> {
    service::decide(&state, &actor, id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn pdf(name: &str, data: impl Into<axum::body::Body>) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", name.replace(['"', '\\'], "_"));
    ([(header::CONTENT_TYPE, "application/pdf".to_string()), (header::CONTENT_DISPOSITION, disposition)], data.into())
        .into_response()
}

/// A challenge's evidence (those who may read the challenge).
#[utoipa::path(get, path = "/api/v1/challenges/{id}/evidence", tag = "award", params(("id" = Uuid, Path)),
    responses((status = 200, description = "the PDF", content_type = "application/pdf"),
              (status = 401, description = "login_required", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody)))]
async fn evidence(State(state): State<Awards>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Response> {
    let (name, data) = service::evidence_pdf(&state, &actor, id).await?;
    Ok(pdf(&crate::tenders::service::sanitize_file_name(&name), data))
}

/// Chooses a lot's winner (the procuring unit); another than the first candidate needs `reason`.
#[utoipa::path(post, path = "/api/v1/tenders/{id}/lots/{lot}/award", tag = "award", params(("id" = Uuid, Path), ("lot" = Uuid, Path)),
    request_body = AwardInput,
    responses((status = 200, body = AwardView), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "procuring_unit_only", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 409, description = "not_published / publicity_running / challenge_pending / already_awarded / set_aside", body = ErrorBody),
              (status = 422, description = "validation_failed: bid not_a_candidate, reason required_for_other_candidate", body = ErrorBody)))]
async fn award(
    State(state): State<Awards>,
    actor: Actor,
    Path((id, lot)): Path<(Uuid, Uuid)>,
    Json(input): Json<AwardInput>,
) -> AppResult<Json<AwardView>> {
    service::award(&state, &actor, id, lot, input).await?;
    Ok(Json(service::view(&state, Some(&actor), id).await?))
}

/// The award notice (中标通知书) for the winner, or the result notice for another bidder of the
/// lot, as a PDF with the signed notice attached.
#[utoipa::path(get, path = "/api/v1/tenders/{id}/lots/{lot}/notice", tag = "award", params(("id" = Uuid, Path), ("lot" = Uuid, Path)),
    responses((status = 200, description = "the PDF", content_type = "application/pdf"),
              (status = 401, description = "login_required", body = ErrorBody), (status = 404, description = "not_found: not awarded, or not for the caller", body = ErrorBody)))]
async fn notice(State(state): State<Awards>, actor: Actor, Path((id, lot)): Path<(Uuid, Uuid)>) -> AppResult<Response> {
    let data = service::notice_pdf(&state, &actor, id, lot).await?;
    Ok(pdf(&format!("notice-{lot}.pdf"), data))
}

/// Records a lot's contract (the procuring unit): multipart fields `amount` (元), `signed_on`
/// (`YYYY-MM-DD`) and `file` (the contract PDF).
#[utoipa::path(post, path = "/api/v1/tenders/{id}/lots/{lot}/contract", tag = "award", params(("id" = Uuid, Path), ("lot" = Uuid, Path)),
    request_body(content_type = "multipart/form-data", description = "fields `amount`, `signed_on`, `file` (PDF)"),
    responses((status = 200, body = AwardView), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "procuring_unit_only", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 409, description = "not_published / not_awarded / already_recorded", body = ErrorBody),
              (status = 413, description = "pdf_too_large", body = ErrorBody),
              (status = 422, description = "validation_failed: amount, signed_on (invalid_date / before_award / in_future / contract_late), file; the PDF checks", body = ErrorBody)))]
async fn contract(
    State(state): State<Awards>,
    actor: Actor,
    Path((id, lot)): Path<(Uuid, Uuid)>,
    multipart: Multipart,
) -> AppResult<Json<AwardView>> {
    let (fields, file) = read_form(multipart).await?;
    let input = ContractInput {
        amount: fields.get("amount").cloned().unwrap_or_default(),
        signed_on: fields.get("signed_on").cloned().unwrap_or_default(),
        file,
    };
    service::record_contract(&state, &actor, id, lot, input).await?;
    Ok(Json(service::view(&state, Some(&actor), id).await?))
}

/// A lot's contract PDF (the procuring unit, the agency, the winner, the centre, overseers).
#[utoipa::path(get, path = "/api/v1/tenders/{id}/lots/{lot}/contract", tag = "award", params(("id" = Uuid, Path), ("lot" = Uuid, Path)),
    responses((status = 200, description = "the PDF", content_type = "application/pdf"),
              (status = 401, description = "login_required", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody)))]
async fn contract_pdf(
    State(state): State<Awards>,
    actor: Actor,
    Path((id, lot)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let data = service::contract_pdf(&state, &actor, id, lot).await?;
    Ok(pdf(&format!("contract-{lot}.pdf"), data))
}

/// Which public list.
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct ResultsQuery {
    /// `candidates` (结果公示, the default) or `awards` (中标公告).
    pub tab: Option<String>,
}

/// The public lists: the candidates' publicity or the award announcements, newest first.
#[utoipa::path(get, path = "/api/v1/results", tag = "award", params(ResultsQuery),
    responses((status = 200, body = Vec<PublicResult>), (status = 400, description = "validation: tab unknown", body = ErrorBody)))]
async fn results(State(state): State<Awards>, Query(q): Query<ResultsQuery>) -> AppResult<Json<Vec<PublicResult>>> {
    Ok(Json(service::public_list(&state, parse_tab(q.tab.as_deref())?).await?))
}

/// The list a `tab` parameter names.
pub fn parse_tab(tab: Option<&str>) -> AppResult<PublicList> {
    match tab.unwrap_or("candidates") {
        "candidates" => Ok(PublicList::Candidates),
        "awards" => Ok(PublicList::Awards),
        _ => Err(AppError::invalid_field("tab", "unknown")),
    }
}
