//! Account endpoints of the JSON API.

use super::{
    codes::LoginOutcome,
    model::Actor,
    service::{self, OrgFilter, OrgPage, Registration},
};
use crate::{
    accounts::Accounts,
    error::{AppResult, ErrorBody},
    web::{Site, client::ClientAddr},
    web::{
        auth::{Admins, Require},
        csrf::{self, CsrfToken},
        extract::{Json, Path, Query},
    },
};
use axum::{
    Extension,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
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
        .routes(routes!(login_code))
        .routes(routes!(get_login_codes, put_login_codes))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(register))
        .routes(routes!(list_organisations))
        .routes(routes!(approve))
        .routes(routes!(reject))
}

/// A CSRF token to send back in the `X-CSRF-Token` header.
#[derive(Serialize, ToSchema)]
pub struct CsrfResponse {
    /// The token.
    pub csrf_token: String,
}

/// Returns the caller's CSRF token: their session's, or before login the visitor's (setting the
/// `th_csrf` cookie if it was missing).
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
    /// The CSRF token of the new session: send it from now on.
    pub csrf_token: String,
}

/// Logs in; sets the session cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "accounts", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 202, description = "a login code was sent by SMS: give it to `/api/v1/session/code`", body = crate::accounts::codes::CodeChallenge),
        (status = 401, description = "login_failed", body = ErrorBody),
        (status = 403, description = "account_pending / account_disabled", body = ErrorBody),
        (status = 422, description = "validation_failed", body = ErrorBody),
        (status = 429, description = "login_throttled; `Retry-After` gives the seconds to wait", body = ErrorBody)
    ))]
async fn login(
    State(state): State<Accounts>,
    State(site): State<Site>,
    ClientAddr(addr): ClientAddr,
    Json(req): Json<LoginRequest>,
) -> AppResult<Response> {
    let li = match service::login(&state, &req.username, &req.password, &addr.to_string()).await? {
        LoginOutcome::Session(li) => li,
        LoginOutcome::Code(c) => return Ok((StatusCode::ACCEPTED, Json(c)).into_response()),
    };
    Ok(session_response(&state, &site, li))
}

fn session_response(state: &Accounts, site: &Site, li: service::LoggedIn) -> Response {
    let csrf_token = csrf::token(&site.csrf_key, csrf::Binding::Session(&li.token));
    let mut resp = Json(LoginResponse { user: li.actor, csrf_token }).into_response();
    let h = resp.headers_mut();
    h.append(header::SET_COOKIE, site.cookies.session_cookie(&li.token, state.security.session_hours));
    h.append(header::SET_COOKIE, site.cookies.csrf_cookie(&csrf::new_token()));
    resp
}

/// A login code, with the pending login it is for.
#[derive(Deserialize, ToSchema)]
pub struct CodeRequest {
    /// The `challenge` of the login's 202 answer.
    pub challenge: String,
    /// The 6 digits sent by SMS.
    pub code: String,
}

/// Gives the login code sent by SMS after the password; starts the session.
#[utoipa::path(post, path = "/api/v1/session/code", tag = "accounts", request_body = CodeRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "login_code_wrong (with the tries left) / login_code_expired", body = ErrorBody),
        (status = 429, description = "login_throttled; `Retry-After` gives the seconds to wait", body = ErrorBody)
    ))]
async fn login_code(
    State(state): State<Accounts>,
    State(site): State<Site>,
    ClientAddr(addr): ClientAddr,
    Json(req): Json<CodeRequest>,
) -> AppResult<Response> {
    let li = crate::accounts::codes::verify(&state, &req.challenge, &req.code, &addr.to_string()).await?;
    Ok(session_response(&state, &site, li))
}

/// Whether the caller gives login codes.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginCodes {
    /// On: every login asks for a code sent by SMS after the password.
    pub on: bool,
}

/// Whether the caller gives login codes (by its choice, or because the centre requires them of
/// staff).
#[utoipa::path(get, path = "/api/v1/me/login-codes", tag = "accounts",
    responses((status = 200, body = LoginCodes), (status = 401, description = "login_required", body = ErrorBody)))]
async fn get_login_codes(State(state): State<Accounts>, actor: Actor) -> AppResult<Json<LoginCodes>> {
    Ok(Json(LoginCodes { on: crate::accounts::codes::own(&state, &actor).await? }))
}

/// Turns the caller's login codes on or off.
#[utoipa::path(put, path = "/api/v1/me/login-codes", tag = "accounts", request_body = LoginCodes,
    responses((status = 200, body = LoginCodes), (status = 401, description = "login_required", body = ErrorBody),
              (status = 422, description = "phone_required / login_codes_required", body = ErrorBody),
              (status = 503, description = "sms_unavailable", body = ErrorBody)))]
async fn put_login_codes(
    State(state): State<Accounts>,
    actor: Actor,
    Json(req): Json<LoginCodes>,
) -> AppResult<Json<LoginCodes>> {
    crate::accounts::codes::set_own(&state, &actor, req.on).await?;
    Ok(Json(LoginCodes { on: crate::accounts::codes::own(&state, &actor).await? }))
}

/// Logs out: the session ends, and so do the live connections opened with it. Before another
/// state-changing request, get a new token (`GET /api/v1/csrf`).
#[utoipa::path(delete, path = "/api/v1/session", tag = "accounts", responses((status = 204, description = "logged out"), (status = 401, description = "login_required", body = ErrorBody)))]
async fn logout(
    State(state): State<Accounts>,
    State(site): State<Site>,
    actor: Actor,
    jar: CookieJar,
) -> AppResult<Response> {
    if let Some(token) = site.cookies.session_token(&jar) {
        service::logout(&state, &actor, token).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().append(header::SET_COOKIE, site.cookies.clear_session_cookie());
    resp.headers_mut().append(header::SET_COOKIE, site.cookies.csrf_cookie(&csrf::new_token()));
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
        (status = 422, description = "validation_failed: new_password too_short / too_long / weak, current_password wrong", body = ErrorBody),
        (status = 429, description = "login_throttled: too many wrong passwords for this user or from this address; `Retry-After` gives the seconds to wait", body = ErrorBody)
    ))]
async fn change_password(
    State(state): State<Accounts>,
    State(site): State<Site>,
    ClientAddr(addr): ClientAddr,
    actor: Actor,
    Json(req): Json<PasswordChange>,
) -> AppResult<Response> {
    service::change_password(&state, &actor, &req.current_password, &req.new_password, &addr.to_string()).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().append(header::SET_COOKIE, site.cookies.clear_session_cookie());
    Ok(resp)
}

/// A created object.
#[derive(Serialize, ToSchema)]
pub struct Created {
    /// Its public id.
    pub id: Uuid,
}

/// Registers a supplier (pending the centre's approval). A registration is answered the same
/// whether or not its user name is taken: the centre sees a taken name and rejects it.
#[utoipa::path(post, path = "/api/v1/registrations", tag = "accounts", request_body = Registration,
    responses(
        (status = 201, body = Created),
        (status = 422, description = "validation_failed", body = ErrorBody)
    ))]
async fn register(
    State(state): State<Accounts>,
    Json(req): Json<Registration>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let id = service::register_supplier(&state, req).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Organisations, those waiting for a decision first, 20 to a page (administrators).
#[utoipa::path(get, path = "/api/v1/organisations", tag = "accounts", params(OrgFilter),
    responses((status = 200, body = OrgPage), (status = 401, description = "login_required", body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, description = "validation_failed: kind, status or q", body = ErrorBody)))]
async fn list_organisations(
    State(state): State<Accounts>,
    _admin: Require<Admins>,
    Query(f): Query<OrgFilter>,
) -> AppResult<Json<OrgPage>> {
    Ok(Json(service::list_organisations(&state.db, &f).await?))
}

/// Approves a pending registration (administrators); the organisation is notified.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/approve", tag = "accounts", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, description = "login_required", body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "not_pending / username_taken (the registration asked for a taken user name: reject it)", body = ErrorBody)))]
async fn approve(State(state): State<Accounts>, admin: Require<Admins>, Path(id): Path<Uuid>) -> AppResult<StatusCode> {
    service::approve_registration(&state, &admin, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Why a registration is rejected.
#[derive(Deserialize, ToSchema)]
pub struct RejectRequest {
    /// The reason (required, at most 2,000 characters): recorded, sent to the applicant and shown
    /// to its users when they try to log in.
    pub reason: String,
}

/// Rejects a pending registration with a reason (administrators); the organisation is notified.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/reject", tag = "accounts", params(("id" = Uuid, Path)),
    request_body = RejectRequest,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "not_pending", body = ErrorBody),
              (status = 422, description = "validation_failed: reason required", body = ErrorBody)))]
async fn reject(
    State(state): State<Accounts>,
    admin: Require<Admins>,
    Path(id): Path<Uuid>,
    Json(req): Json<RejectRequest>,
) -> AppResult<StatusCode> {
    service::reject_registration(&state, &admin, id, &req.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}
