//! CSRF protection for every state-changing request, in one middleware.
//!
//! The token is bound to what the request is made in: an HMAC-SHA256, under the platform's CSRF
//! key (`csrf.key` in the key directory), of
//!
//! - the **session** (the SHA-256 of the session cookie's token) when the request carries a
//!   session cookie, so that a token works only with the session it was made for: one taken
//!   from another session, or from before login, is refused;
//! - otherwise the visitor's **pre-session** value: a random `th_csrf` cookie every visitor gets
//!   (HttpOnly, SameSite=Lax), so that the login and registration forms work before there is a
//!   session.
//!
//! Every POST/PUT/PATCH/DELETE (but the one-click unsubscribe of an e-mail, `/unsubscribe/…`,
//! whose secret path is its authority and which uses no session) must carry the token in the `X-CSRF-Token` header (scripts, API
//! clients), in the `_csrf` field of a URL-encoded form, or in the `_csrf` query parameter
//! (multipart uploads, whose bodies are streamed, not buffered here). A request without it, or
//! with a token of another session or visitor, is refused with 403 `csrf_failed` before any
//! handler runs. Pages embed the token (`<meta name="csrf-token">` and the forms' `_csrf`
//! field); `GET /api/v1/csrf` and the login answer return it. The pre-session value is renewed
//! at login and logout. Over TLS the cookie is `__Host-th_csrf` (see [`super::auth::Cookies`]).

use crate::{error::AppError, keys::CsrfKey, web::Site};
use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use axum_extra::extract::CookieJar;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

/// Name of the form field and query parameter.
pub const CSRF_FIELD: &str = "_csrf";
/// Name of the header.
pub const CSRF_HEADER: &str = "x-csrf-token";
const MAX_FORM_BYTES: usize = 1024 * 1024;

/// The request's CSRF token, for forms to embed.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// A new random pre-session value.
pub fn new_token() -> String {
    crate::accounts::service::random_token()
}

/// What a token is bound to.
#[derive(Debug, Clone, Copy)]
pub enum Binding<'a> {
    /// A session, by its token (the session cookie's value).
    Session(&'a str),
    /// A visitor without a session, by their pre-session cookie's value.
    Visitor(&'a str),
}

impl Binding<'_> {
    fn message(&self) -> Vec<u8> {
        let (what, value) = match self {
            Binding::Session(token) => ("session", crate::accounts::service::hash_token(token)),
            Binding::Visitor(v) => ("visitor", (*v).to_string()),
        };
        format!("tenderhall-csrf-v1\0{what}\0{value}").into_bytes()
    }
}

/// The token for `binding`.
pub fn token(key: &CsrfKey, binding: Binding<'_>) -> String {
    URL_SAFE_NO_PAD.encode(key.sign(&binding.message()))
}

/// Whether `submitted` is the token for `binding`.
pub fn verify(key: &CsrfKey, binding: Binding<'_>, submitted: &str) -> bool {
    URL_SAFE_NO_PAD.decode(submitted.trim()).is_ok_and(|tag| key.verify(&binding.message(), &tag))
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

/// The middleware.
pub async fn protect(State(state): State<Site>, req: Request, next: Next) -> Response {
    let cookies = state.cookies;
    let jar = CookieJar::from_headers(req.headers());
    let session = cookies.session_token(&jar).map(str::to_string);
    let (visitor, fresh) = match jar.get(cookies.csrf).map(|c| c.value()).filter(|v| v.len() >= 32) {
        Some(v) => (v.to_string(), false),
        None => (new_token(), true),
    };
    let binding = match &session {
        Some(s) => Binding::Session(s),
        None => Binding::Visitor(&visitor),
    };
    let token = token(&state.csrf_key, binding);
    let mut req = req;
    // The one-click unsubscribe link of an e-mail is posted by the reader's mail program, with
    // no cookie: the secret in its path is its authority, and it uses no session.
    let one_click = req.uri().path().starts_with(crate::deliver::UNSUBSCRIBE_PREFIX);
    if !is_safe(req.method()) && !one_click {
        if session.is_none() && fresh {
            return AppError::forbidden_because("csrf_failed", "missing CSRF cookie; reload the page").into_response();
        }
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
        if !submitted.is_some_and(|s| verify(&state.csrf_key, binding, &s)) {
            return AppError::forbidden_because("csrf_failed", "missing or wrong CSRF token; reload the page")
                .into_response();
        }
    }
    // Static files are the same for everyone and cacheable: they set no cookie.
    let public = req.uri().path().starts_with("/static/");
    req.extensions_mut().insert(CsrfToken(token));
    let mut resp = next.run(req).await;
    if fresh
        && !public
        && !resp
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|h| h.as_bytes().starts_with(format!("{}=", cookies.csrf).as_bytes()))
    {
        resp.headers_mut().append(header::SET_COOKIE, cookies.csrf_cookie(&visitor));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_to_their_session_or_visitor() {
        let dir = tempfile::tempdir().expect("dir");
        let key = CsrfKey::load_or_create(dir.path()).expect("key");
        let (a, b) = (new_token(), new_token());
        let ta = token(&key, Binding::Session(&a));
        assert!(verify(&key, Binding::Session(&a), &ta));
        assert!(!verify(&key, Binding::Session(&b), &ta), "another session");
        assert!(!verify(&key, Binding::Visitor(&a), &ta), "a visitor with the same value");
        assert!(!verify(&key, Binding::Session(&a), &a), "the session token itself");
        assert!(!verify(&key, Binding::Session(&a), "not base64!"));
        let other = CsrfKey::load_or_create(tempfile::tempdir().expect("dir").path()).expect("key");
        assert!(!verify(&other, Binding::Session(&a), &ta), "another server's key");
    }
}
