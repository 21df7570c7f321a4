//! The fees' JSON API: a site's rate table, the expert's own fees and fee statements.

use super::{FeeView, Fees, Rate};
use crate::{
    accounts::model::Actor,
    error::{AppResult, ErrorBody},
    web::extract::{Json, Path},
};
use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

/// Routes of this module under `/api/v1`.
pub fn api_routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Fees: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(rates, set_rates)).routes(routes!(own)).routes(routes!(statement))
}

/// A site's fee rates (the site's own table, or the default): the centre, supervisors, the
/// administrator.
#[utoipa::path(get, path = "/api/v1/admin/sites/{id}/fee-rates", tag = "fees", params(("id" = Uuid, Path)),
    responses((status = 200, body = Rate), (status = 401, description = "login_required", body = ErrorBody),
              (status = 404, description = "not_found", body = ErrorBody)))]
async fn rates(State(state): State<Fees>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Json<Rate>> {
    Ok(Json(super::rates(&state, &actor, id).await?))
}

/// Sets a site's fee rates (the centre's staff); amounts in fen.
#[utoipa::path(put, path = "/api/v1/admin/sites/{id}/fee-rates", tag = "fees", params(("id" = Uuid, Path)), request_body = Rate,
    responses((status = 200, body = Rate), (status = 401, description = "login_required", body = ErrorBody),
              (status = 403, description = "centre_only", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 422, description = "validation_failed: out_of_range, not_positive, too_large, below_base", body = ErrorBody)))]
async fn set_rates(
    State(state): State<Fees>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(rate): Json<Rate>,
) -> AppResult<Json<Rate>> {
    Ok(Json(super::set_rates(&state, &actor, id, rate).await?))
}

/// The logged-in expert's fees with their payment status (empty for anyone else).
#[utoipa::path(get, path = "/api/v1/expert/fees", tag = "fees",
    responses((status = 200, body = Vec<FeeView>), (status = 401, description = "login_required", body = ErrorBody)))]
async fn own(State(state): State<Fees>, actor: Actor) -> AppResult<Json<Vec<FeeView>>> {
    Ok(Json(super::own(&state.db, &actor).await?))
}

/// The fee statement of one of the expert's own fees, as a PDF with the instruction attached.
#[utoipa::path(get, path = "/api/v1/expert/fees/{id}/statement", tag = "fees", params(("id" = Uuid, Path)),
    responses((status = 200, description = "the PDF", content_type = "application/pdf"),
              (status = 401, description = "login_required", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody)))]
async fn statement(State(state): State<Fees>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Response> {
    let pdf = super::statement_pdf(&state, &actor, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"fee-{id}.pdf\"")),
        ],
        pdf,
    )
        .into_response())
}
