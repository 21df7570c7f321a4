//! `Cache-Control: no-store` on every answer that depends on who asks, in one middleware.
//!
//! An answer is personal when the request carries one of the platform's cookies (a session, or
//! the visitor's pre-session CSRF value that every page embeds as its token) or when the answer
//! sets one (login, logout, a first visit): pages of the workspace, API answers with the
//! caller's data, downloads of bids, receipts and records, error pages alike. Such answers must
//! not be kept by the browser's cache or any shared cache on the way, where the next user of the
//! machine, or of the proxy, would find them. Static files (`/static/`) are the same for
//! everyone, set no cookie, and stay cacheable; answers to requests without any cookie (a
//! program reading the public API) are left as their handlers made them.

use crate::web::Site;
use axum::{
    extract::{Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};
use axum_extra::extract::CookieJar;

/// The middleware.
pub async fn no_store(State(state): State<Site>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/static/") {
        return next.run(req).await;
    }
    let jar = CookieJar::from_headers(req.headers());
    let personal = jar.get(state.cookies.session).is_some() || jar.get(state.cookies.csrf).is_some();
    let mut resp = next.run(req).await;
    if personal || resp.headers().contains_key(header::SET_COOKIE) {
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}
