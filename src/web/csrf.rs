//! CSRF protection for every state-changing request, in one middleware.
//!
//! Double-submit cookie: every visitor gets a random `th_csrf` cookie (HttpOnly, SameSite=Lax,
//! Secure under TLS). Every POST/PUT/PATCH/DELETE must carry the same value, in the
//! `X-CSRF-Token` header (scripts, API clients), in the `_csrf` field of a URL-encoded form, or
//! in the `_csrf` query parameter (multipart uploads, whose bodies are streamed, not buffered
//! here). A request without it is refused with 403 `csrf_failed` before any handler runs.
//! The token is renewed at login and logout.

use crate::error::AppError;
use axum::{
    body::{Body, to_bytes},
    extract::Request,
    http::{HeaderValue, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use axum_extra::extract::CookieJar;

/// Name of the CSRF cookie.
pub const CSRF_COOKIE: &str = "th_csrf";
/// Name of the form field and query parameter.
pub const CSRF_FIELD: &str = "_csrf";
/// Name of the header.
pub const CSRF_HEADER: &str = "x-csrf-token";
const MAX_FORM_BYTES: usize = 1024 * 1024;

/// The request's CSRF token, for forms to embed.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// A new random token.
pub fn new_token() -> String {
    crate::accounts::service::random_token()
}

/// The `Set-Cookie` value for a CSRF token.
pub fn cookie_header(token: &str, secure: bool) -> HeaderValue {
    let v = format!("{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{}", if secure { "; Secure" } else { "" });
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("th_csrf=; Path=/"))
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn from_query(q: Option<&str>) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(q?)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v)
}

/// Compares two secrets without leaking where they differ: the SHA-256 digests are compared,
/// so timing reveals nothing about the expected value.
fn same_secret(a: &str, b: &str) -> bool {
    let da = ring::digest::digest(&ring::digest::SHA256, a.as_bytes());
    let db = ring::digest::digest(&ring::digest::SHA256, b.as_bytes());
    da.as_ref() == db.as_ref()
}

/// The middleware.
pub async fn protect(req: Request, next: Next) -> Response {
    let jar = CookieJar::from_headers(req.headers());
    let existing = jar.get(CSRF_COOKIE).map(|c| c.value().to_string()).filter(|v| v.len() >= 32);
    let secure = req.extensions().get::<crate::web::auth::OverTls>().is_some();
    let (token, fresh) = match &existing {
        Some(t) => (t.clone(), false),
        None => (new_token(), true),
    };
    let mut req = req;
    if !is_safe(req.method()) {
        let Some(expected) = existing.as_deref() else {
            return AppError::forbidden_because("csrf_failed", "missing CSRF cookie; reload the page").into_response();
        };
        let mut submitted = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| from_query(req.uri().query()));
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        if submitted.is_none() && is_form {
            let (parts, body) = req.into_parts();
            let bytes = match to_bytes(body, MAX_FORM_BYTES).await {
                Ok(b) => b,
                Err(_) => return AppError::too_large("form_too_large", "form too large").into_response(),
            };
            submitted = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
                .ok()
                .and_then(|fields| fields.into_iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v));
            req = Request::from_parts(parts, Body::from(bytes));
        }
        let ok = submitted.is_some_and(|s| same_secret(&s, expected));
        if !ok {
            return AppError::forbidden_because("csrf_failed", "missing or wrong CSRF token; reload the page")
                .into_response();
        }
    }
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut resp = next.run(req).await;
    if fresh
        && !resp.headers().get_all(header::SET_COOKIE).iter().any(|v| v.as_bytes().starts_with(CSRF_COOKIE.as_bytes()))
    {
        resp.headers_mut().append(header::SET_COOKIE, cookie_header(&token, secure));
    }
    resp
}
