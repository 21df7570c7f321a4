//! Audit pages, the audit API and the published platform key.

use super::{VerifyReport, service};
use crate::{
    audit::Trail,
    entities::audit_record,
    error::{AppError, AppResult, ErrorBody},
    web::{
        auth::{Auditors, Require},
        extract::{Json, Query},
        page::{PageCtx, render},
    },
};
use askama::Template;
use axum::{Router, extract::State, response::Response, routing::get};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Page routes (and the well-known key).
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    super::Trail: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/.well-known/tenderhall/platform-key", get(platform_key))
        .route("/audit", get(audit_page))
        .route("/audit/verify", get(verify_page))
}

/// API routes.
pub fn api_routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    super::Trail: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(records)).routes(routes!(verify_api))
}

/// The platform's public signing key.
#[derive(Serialize, ToSchema)]
pub struct PlatformKeyDoc {
    /// Always `Ed25519`.
    pub algorithm: &'static str,
    /// First 16 hex digits of the SHA-256 of the key.
    pub key_id: String,
    /// The 32-byte public key, base64.
    pub public_key_base64: String,
    /// The 32-byte public key, hex.
    pub public_key_hex: String,
}

async fn platform_key(State(state): State<Trail>) -> Json<PlatformKeyDoc> {
    let p = state.key.public();
    Json(PlatformKeyDoc {
        algorithm: "Ed25519",
        key_id: p.key_id().to_string(),
        public_key_base64: p.base64(),
        public_key_hex: p.hex(),
    })
}

/// An audit record as shown.
#[derive(Serialize, ToSchema)]
pub struct RecordView {
    /// Sequence number.
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Kind of object.
    pub object_type: String,
    /// Object id.
    pub object_id: String,
    /// What changed (JSON text).
    pub details: String,
    /// Hash of the record.
    pub hash: String,
}

/// Filter of the record list.
#[derive(Deserialize, utoipa::IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct RecordQuery {
    /// Only records about this object id.
    pub object: Option<String>,
    /// Only records before this sequence number (paging backwards).
    pub before: Option<i64>,
}

/// Audit records of this object type are sealed like the bids they describe.
const SEALED_OBJECT_TYPE: &str = "bid";

async fn load_records(state: &Trail, q: &RecordQuery) -> AppResult<Vec<RecordView>> {
    // Records about bids say who bid on what; before the opening nobody may learn that, so they
    // are kept out of every listing (they stay in the chain and in its verification). The
    // opening hall will show them once the tender has been opened.
    let mut find = audit_record::Entity::find()
        .filter(audit_record::Column::ObjectType.ne(SEALED_OBJECT_TYPE))
        .order_by_desc(audit_record::Column::Seq)
        .limit(100);
    if let Some(o) = q.object.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if o.len() > 100 {
            return Err(AppError::invalid_field("object", "too_long"));
        }
        find = find.filter(audit_record::Column::ObjectId.eq(o));
    }
    if let Some(b) = q.before {
        find = find.filter(audit_record::Column::Seq.lt(b));
    }
    Ok(find
        .all(&state.db)
        .await?
        .into_iter()
        .map(|r| RecordView {
            seq: r.seq,
            at: r.at,
            actor: r.actor_label,
            action: r.action,
            object_type: r.object_type,
            object_id: r.object_id,
            details: r.details,
            hash: r.hash,
        })
        .collect())
}

/// The latest audit records (supervisors and administrators).
#[utoipa::path(get, path = "/api/v1/audit/records", tag = "audit", params(RecordQuery),
    responses(
        (status = 200, body = Vec<RecordView>),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 422, description = "validation_failed: object too_long", body = ErrorBody)
    ))]
async fn records(
    State(state): State<Trail>,
    _who: Require<Auditors>,
    Query(q): Query<RecordQuery>,
) -> AppResult<Json<Vec<RecordView>>> {
    Ok(Json(load_records(&state, &q).await?))
}

/// Verifies the whole chain against the platform key.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", responses(
        (status = 200, body = VerifyReport),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody)
    ))]
async fn verify_api(State(state): State<Trail>, _who: Require<Auditors>) -> AppResult<Json<VerifyReport>> {
    Ok(Json(service::verify(&state.db, &state.key.public()).await?))
}

#[derive(Template)]
#[template(path = "audit/records.html")]
struct AuditPage {
    ctx: PageCtx,
    records: Vec<RecordView>,
    object: String,
    report: Option<VerifyReport>,
}

async fn audit_page(
    State(state): State<Trail>,
    ctx: PageCtx,
    _who: Require<Auditors>,
    Query(q): Query<RecordQuery>,
) -> AppResult<Response> {
    let records = load_records(&state, &q).await?;
    Ok(render(&AuditPage { ctx, records, object: q.object.unwrap_or_default(), report: None }))
}

async fn verify_page(State(state): State<Trail>, ctx: PageCtx, _who: Require<Auditors>) -> AppResult<Response> {
    let report = service::verify(&state.db, &state.key.public()).await?;
    let records = load_records(&state, &RecordQuery::default()).await?;
    Ok(render(&AuditPage { ctx, records, object: String::new(), report: Some(report) }))
}
