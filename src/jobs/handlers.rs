//! The jobs page and API for staff: what is waiting, and what failed and why.

use super::{JobStatus, store};
use crate::{
    error::{AppResult, ErrorBody},
    web::Site,
    web::{
        auth::{Auditors, Require},
        extract::{Json, Query},
        page::{PageCtx, render},
    },
};
use askama::Template;
use axum::{Router, extract::State, response::Response, routing::get};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Page routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    crate::web::Site: axum::extract::FromRef<S>,
{
    Router::new().route("/admin/jobs", get(page))
}

/// API routes.
pub fn api_routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    crate::web::Site: axum::extract::FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(list))
}

/// A job as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    /// Its kind.
    pub kind: String,
    /// What it is about (its idempotency key).
    pub key: String,
    /// Where it stands.
    pub status: JobStatus,
    /// When it is (or was) due.
    pub due_at: DateTime<Utc>,
    /// Attempts made.
    pub attempts: i32,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// When it finished (done or failed for good).
    pub finished_at: Option<DateTime<Utc>>,
}

/// Which jobs.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// `failed` (the default), `pending`, `running` or `done`.
    pub status: Option<JobStatus>,
}

async fn views(state: &Site, status: JobStatus) -> AppResult<Vec<JobView>> {
    Ok(store::list(&state.db, status, 200)
        .await?
        .into_iter()
        .map(|j| JobView {
            status: j.status,
            kind: j.kind,
            key: j.idempotency_key,
            due_at: j.due_at,
            attempts: j.attempts,
            last_error: j.last_error,
            finished_at: j.finished_at,
        })
        .collect())
}

/// The latest 200 jobs in one status (failed by default), for supervisors and administrators.
#[utoipa::path(get, path = "/api/v1/admin/jobs", tag = "jobs", params(JobQuery),
    responses(
        (status = 200, body = Vec<JobView>),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody)
    ))]
async fn list(
    State(state): State<Site>,
    _who: Require<Auditors>,
    Query(q): Query<JobQuery>,
) -> AppResult<Json<Vec<JobView>>> {
    Ok(Json(views(&state, q.status.unwrap_or(JobStatus::Failed)).await?))
}

#[derive(Template)]
#[template(path = "admin/jobs.html")]
struct JobsPage {
    ctx: PageCtx,
    counts: Vec<(JobStatus, u64)>,
    status: JobStatus,
    jobs: Vec<JobView>,
}

async fn page(
    State(state): State<Site>,
    ctx: PageCtx,
    _who: Require<Auditors>,
    Query(q): Query<JobQuery>,
) -> AppResult<Response> {
    let status = q.status.unwrap_or(JobStatus::Failed);
    let counts = store::counts(&state.db).await?;
    Ok(render(&JobsPage { ctx, counts, status, jobs: views(&state, status).await? }))
}
