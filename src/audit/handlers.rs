//! Audit pages, the audit API and the published platform key.

use super::{
    Action, ObjectType, VerifyReport,
    service::{self, RecordPage, RecordQuery, RecordView},
};
use crate::{
    audit::Trail,
    error::{AppResult, ErrorBody},
    web::{
        auth::{Auditors, Require},
        extract::{Json, Query},
        page::{PageCtx, percent_encode, render},
    },
};
use askama::Template;
use axum::{Router, extract::State, response::Response, routing::get};
use serde::Serialize;
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

/// Audit records, newest first, filtered and paged by sequence number (supervisors and
/// administrators). Records about sealed bids are never listed.
#[utoipa::path(get, path = "/api/v1/audit/records", tag = "audit", params(RecordQuery),
    responses((status = 200, body = Vec<RecordView>), (status = 401, description = "login_required", body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, description = "validation_failed: an unknown tender, organisation or user, an invalid action, time or limit", body = ErrorBody)))]
async fn records(
    State(state): State<Trail>,
    _who: Require<Auditors>,
    Query(q): Query<RecordQuery>,
) -> AppResult<Json<Vec<RecordView>>> {
    Ok(Json(service::records(&state.db, &q).await?.records))
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

/// A record with its texts in the reader's language.
struct RecordRow {
    r: RecordView,
    action: String,
    object: String,
    /// The page of the object, where there is one.
    object_page: Option<String>,
}

/// A choice of the action filter.
struct ActionChoice {
    code: &'static str,
    label: String,
}

/// The filters as entered, to fill the form in again and build the paging links.
#[derive(Default)]
struct Filters {
    object: String,
    tender: String,
    org: String,
    user: String,
    action: String,
    from: String,
    to: String,
    limit: String,
}

impl Filters {
    fn of(q: &RecordQuery) -> Self {
        let v = |o: &Option<String>| o.as_deref().unwrap_or("").trim().to_string();
        Filters {
            object: v(&q.object),
            tender: v(&q.tender),
            org: v(&q.org),
            user: v(&q.user),
            action: v(&q.action),
            from: v(&q.from),
            to: v(&q.to),
            limit: q.limit.map(|l| l.to_string()).unwrap_or_default(),
        }
    }

    /// `/audit?` with the filters and `extra`.
    fn link(&self, extra: &str) -> String {
        let mut parts: Vec<String> = [
            ("object", &self.object),
            ("tender", &self.tender),
            ("org", &self.org),
            ("user", &self.user),
            ("action", &self.action),
            ("from", &self.from),
            ("to", &self.to),
            ("limit", &self.limit),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
        if !extra.is_empty() {
            parts.push(extra.to_string());
        }
        if parts.is_empty() { "/audit".into() } else { format!("/audit?{}", parts.join("&")) }
    }
}

/// Links to the other pages of the list.
#[derive(Default)]
struct Paging {
    newest: Option<String>,
    newer: Option<String>,
    older: Option<String>,
    oldest: Option<String>,
}

#[derive(Template)]
#[template(path = "audit/records.html")]
struct AuditPage {
    ctx: PageCtx,
    rows: Vec<RecordRow>,
    f: Filters,
    actions: Vec<ActionChoice>,
    paging: Paging,
    report: Option<VerifyReport>,
}

fn page(ctx: PageCtx, q: &RecordQuery, list: RecordPage, report: Option<VerifyReport>) -> AuditPage {
    let f = Filters::of(q);
    let on_cursor = q.before.is_some() || q.after.is_some();
    let paging = Paging {
        newest: (on_cursor && (list.has_newer || list.records.is_empty())).then(|| f.link("")),
        newer: list.records.first().filter(|_| list.has_newer).map(|r| f.link(&format!("after={}", r.seq))),
        older: list.records.last().filter(|_| list.has_older).map(|r| f.link(&format!("before={}", r.seq))),
        oldest: list.has_older.then(|| f.link("after=0")),
    };
    let rows = list
        .records
        .into_iter()
        .map(|r| {
            let action = ctx.t.of("audit.actions", &r.action);
            let object = ctx.t.of("audit.objects", &r.object_type);
            let object_page =
                (r.object_type == ObjectType::Tender.as_str()).then(|| format!("/tenders/{}", r.object_id));
            RecordRow { r, action, object, object_page }
        })
        .collect();
    let mut actions: Vec<ActionChoice> = Action::ALL
        .iter()
        .filter(|a| a.object_type() != ObjectType::Bid)
        .map(|a| ActionChoice { code: a.code(), label: ctx.t.of("audit.actions", a.code()) })
        .collect();
    actions.sort_by(|a, b| a.code.cmp(b.code));
    AuditPage { ctx, rows, f, actions, paging, report }
}

async fn audit_page(
    State(state): State<Trail>,
    ctx: PageCtx,
    _who: Require<Auditors>,
    Query(q): Query<RecordQuery>,
) -> AppResult<Response> {
    let list = service::records(&state.db, &q).await?;
    Ok(render(&page(ctx, &q, list, None)))
}

async fn verify_page(State(state): State<Trail>, ctx: PageCtx, _who: Require<Auditors>) -> AppResult<Response> {
    let report = service::verify(&state.db, &state.key.public()).await?;
    let q = RecordQuery::default();
    let list = service::records(&state.db, &q).await?;
    Ok(render(&page(ctx, &q, list, Some(report))))
}
