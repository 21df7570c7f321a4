//! Account endpoints of the JSON API.

use super::{
    handlers::{clear_session_cookie, session_cookie},
    model::{Actor, Status},
    service::{self, OrgSummary, Registration},
};
use crate::{
    accounts::Accounts,
    error::{AppError, AppResult, ErrorBody},
    web::{
        auth::{Admins, Require, SESSION_COOKIE},
        csrf::{self, CsrfToken},
        extract::{Json, Path, Query},
    },
};
use axum::{
    Extension,
    extract::{ConnectInfo, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

/// Routes of this module under `/api/v1`.
pub fn api_routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    super::Accounts: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(csrf_token))
        .routes(routes!(login, logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(register))
        .routes(routes!(list_organisations))
        .routes(routes!(decide))
}

/// A CSRF token to send back in the `X-CSRF-Token` header.
#[derive(Serialize, ToSchema)]
pub struct CsrfResponse {
    /// The token.
    pub csrf_token: String,
}

/// Returns the caller's CSRF token (and sets the `th_csrf` cookie if it was missing).
#[utoipa::path(get, path = "/api/v1/csrf", tag = "accounts", responses((status = 200, body = CsrfResponse)))]
async fn csrf_token(Extension(t): Extension<CsrfToken>) -> Json<CsrfResponse> {
    Json(CsrfResponse { csrf_token: t.0 })
}

/// Login credentials.
#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A started session.
#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Who logged in.
    pub user: Actor,
    /// The new CSRF token (the cookie is renewed too).
    pub csrf_token: String,
}

/// Logs in; sets the session cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "accounts", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "login_failed", body = ErrorBody),
        (status = 403, description = "account_pending / account_disabled", body = ErrorBody),
        (status = 422, description = "validation_failed", body = ErrorBody),
        (status = 429, description = "login_throttled", body = ErrorBody)
    ))]
async fn login(
    State(state): State<Accounts>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    tls: Option<Extension<crate::web::auth::OverTls>>,
    Json(req): Json<LoginRequest>,
) -> AppResult<Response> {
    let li = service::login(&state, &req.username, &req.password, &addr.ip().to_string()).await?;
    let token = csrf::new_token();
    let mut resp = Json(LoginResponse { user: li.actor, csrf_token: token.clone() }).into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, session_cookie(&li.token, tls.is_some(), state.security.session_hours));
    resp.headers_mut().append(header::SET_COOKIE, csrf::cookie_header(&token, tls.is_some()));
    Ok(resp)
}

/// Logs out.
#[utoipa::path(delete, path = "/api/v1/session", tag = "accounts", responses((status = 204, description = "logged out"), (status = 401, description = "login_required", body = ErrorBody)))]
async fn logout(
    State(state): State<Accounts>,
    actor: Actor,
    jar: CookieJar,
    tls: Option<Extension<crate::web::auth::OverTls>>,
) -> AppResult<Response> {
    if let Some(c) = jar.get(SESSION_COOKIE) {
        service::logout(&state, &actor, c.value()).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().append(header::SET_COOKIE, clear_session_cookie());
    resp.headers_mut().append(header::SET_COOKIE, csrf::cookie_header(&csrf::new_token(), tls.is_some()));
    Ok(resp)
}

/// The logged-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", responses((status = 200, body = Actor), (status = 401, description = "login_required", body = ErrorBody)))]
async fn me(actor: Actor) -> Json<Actor> {
    Json(actor)
}

/// A password change.
#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    /// The current password.
    pub current_password: String,
    /// The new password (8+ characters, letters and digits).
    pub new_password: String,
}

/// Changes the password and ends every session of the user.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "accounts", request_body = PasswordChange,
    responses(
        (status = 204, description = "changed; every session of the user ended"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 422, description = "validation_failed: new_password too_short / too_long / weak, current_password wrong", body = ErrorBody)
    ))]
async fn change_password(
    State(state): State<Accounts>,
    actor: Actor,
    Json(req): Json<PasswordChange>,
) -> AppResult<Response> {
    service::change_password(&state, &actor, &req.current_password, &req.new_password).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().append(header::SET_COOKIE, clear_session_cookie());
    Ok(resp)
}

/// A created object.
#[derive(Serialize, ToSchema)]
pub struct Created {
    /// Its public id.
    pub id: Uuid,
}

/// Registers a supplier (pending the centre's approval).
#[utoipa::path(post, path = "/api/v1/registrations", tag = "accounts", request_body = Registration,
    responses(
        (status = 201, body = Created),
        (status = 409, description = "username_taken", body = ErrorBody),
        (status = 422, description = "validation_failed", body = ErrorBody)
    ))]
async fn register(
    State(state): State<Accounts>,
    Json(req): Json<Registration>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let id = service::register_supplier(&state, req).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Filter of the organisation list.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgQuery {
    /// `pending`, `active`, `rejected` or `disabled`.
    pub status: Option<String>,
}

/// Organisations (administrators).
#[utoipa::path(get, path = "/api/v1/organisations", tag = "accounts", params(OrgQuery),
    responses(
        (status = 200, body = Vec<OrgSummary>),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 422, description = "validation_failed: status invalid", body = ErrorBody)
    ))]
async fn list_organisations(
    State(state): State<Accounts>,
    _admin: Require<Admins>,
    Query(q): Query<OrgQuery>,
) -> AppResult<Json<Vec<OrgSummary>>> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| AppError::invalid_field("status", "invalid"))?),
    };
    Ok(Json(service::list_organisations(&state.db, status).await?))
}

/// Approves (`approve`) or rejects (`reject`) a pending registration (administrators).
#[utoipa::path(post, path = "/api/v1/organisations/{id}/{decision}", tag = "accounts",
    params(("id" = Uuid, Path, description = "the organisation's public id"), ("decision" = String, Path, description = "`approve` or `reject`")),
    responses(
        (status = 204, description = "decided"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found: no such organisation, or a decision other than approve or reject", body = ErrorBody),
        (status = 409, description = "not_pending", body = ErrorBody)
    ))]
async fn decide(
    State(state): State<Accounts>,
    admin: Require<Admins>,
    Path((id, decision)): Path<(Uuid, String)>,
) -> AppResult<StatusCode> {
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(AppError::not_found()),
    };
    service::decide_registration(&state, &admin, id, approve).await?;
    Ok(StatusCode::NO_CONTENT)
}
