//! A short-lived cache of the public pages as anonymous visitors see them.
//!
//! The tender list and search, a tender's page, the catalogue and an item's page are the same
//! for every visitor who is not logged in, except for the visitor's CSRF token (in the page's
//! `<meta>` and its forms). A handler marks such an answer with [`Public`]
//! ([`super::page::render_public`]); this middleware keeps it, with the token cut out, and
//! answers the next anonymous request for the same address and language from it, with that
//! visitor's own token put back in. The profile in `docs/benchmarks.md` shows why: the
//! database reads behind a page cost far more than the rest of the request.
//!
//! An entry is used only while all of these hold:
//! - nothing was committed in this process since it was made ([`crate::uow::Changes`]), so a
//!   change made here shows at once;
//! - it is younger than `server.public_page_cache_ms` (default 1,000 ms) in real time, which
//!   bounds how long a change made by another process (a second server, a command) goes
//!   unseen, and the platform's clock has not moved more than that either (a state that
//!   follows from the time, such as a deadline passed, shows within the same bound).
//!
//! Requests with a session cookie or a flash message, and anything but a GET, are never
//! answered from the cache; nor are answers other than `200 OK`. At most
//! [`MAX_ENTRIES`] pages of at most [`MAX_PAGE_BYTES`] each are kept. It is a few dozen lines
//! over a `HashMap` rather than a caching crate: the rules above are the whole of it.

use super::{Site, csrf::CsrfToken, i18n::Lang, page::lang_of};
use crate::{error::AppError, uow::Changes};
use axum::{
    body::{Body, Bytes, to_bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use axum_extra::extract::CookieJar;
use chrono::{DateTime, TimeDelta, Utc};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// The most pages kept.
pub const MAX_ENTRIES: usize = 2_000;
/// The largest page kept.
pub const MAX_PAGE_BYTES: usize = 512 * 1024;

/// The header saying whether an answer came from the cache (`hit`) or was made (`miss`).
pub const CACHE_HEADER: HeaderName = HeaderName::from_static("x-page-cache");

/// Marks an answer as the same for every anonymous visitor but for the CSRF token.
#[derive(Debug, Clone, Copy)]
pub struct Public;

/// The cache; cloned handles share it.
#[derive(Clone, Debug)]
pub struct PublicPages {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    ttl: Duration,
    changes: Changes,
    entries: Mutex<HashMap<(Lang, String), Entry>>,
}

#[derive(Debug)]
struct Entry {
    change_count: u64,
    made: Instant,
    platform_time: DateTime<Utc>,
    headers: HeaderMap,
    /// The page's body cut where the visitor's token stood.
    pieces: Vec<Bytes>,
}

impl PublicPages {
    /// A cache whose entries live `ttl` (none: zero) and end at any change counted by `changes`.
    pub fn new(ttl: Duration, changes: Changes) -> Self {
        Self { inner: Arc::new(Inner { ttl, changes, entries: Mutex::default() }) }
    }

    fn fresh(&self, e: &Entry, now: DateTime<Utc>) -> bool {
        let ttl = TimeDelta::from_std(self.inner.ttl).unwrap_or(TimeDelta::MAX);
        e.change_count == self.inner.changes.count()
            && e.made.elapsed() < self.inner.ttl
            && now >= e.platform_time
            && now - e.platform_time < ttl
    }

    fn get(&self, key: &(Lang, String), now: DateTime<Utc>, token: &str) -> Option<(HeaderMap, Bytes)> {
        let entries = self.inner.entries.lock().ok()?;
        let e = entries.get(key).filter(|e| self.fresh(e, now))?;
        let mut body = Vec::with_capacity(e.pieces.iter().map(Bytes::len).sum::<usize>() + token.len() * 4);
        for (i, piece) in e.pieces.iter().enumerate() {
            if i > 0 {
                body.extend_from_slice(token.as_bytes());
            }
            body.extend_from_slice(piece);
        }
        Some((e.headers.clone(), Bytes::from(body)))
    }

    fn put(&self, key: (Lang, String), entry: Entry) {
        let Ok(mut entries) = self.inner.entries.lock() else { return };
        if entries.len() >= MAX_ENTRIES {
            let now = entry.platform_time;
            entries.retain(|_, e| self.fresh(e, now));
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, entry);
    }
}

/// The middleware; it sits inside the CSRF middleware, whose token it reads.
pub async fn serve(State(site): State<Site>, req: Request, next: Next) -> Response {
    let cache = site.public_pages.clone();
    if req.method() != Method::GET || cache.inner.ttl.is_zero() {
        return next.run(req).await;
    }
    let jar = CookieJar::from_headers(req.headers());
    let anonymous = site.cookies.session_token(&jar).is_none() && jar.get(site.cookies.flash).is_none();
    let token = req.extensions().get::<CsrfToken>().map(|t| t.0.clone()).filter(|t| !t.is_empty());
    let (true, Some(token)) = (anonymous, token) else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let key = (lang_of(&parts), parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default());
    let now = site.clock.now();
    if let Some((headers, body)) = cache.get(&key, now, &token) {
        return answer(StatusCode::OK, headers, body, "hit");
    }
    // Counted before the page is made: a change committed meanwhile makes the entry stale.
    let change_count = cache.inner.changes.count();
    let made = Instant::now();
    let resp = next.run(Request::from_parts(parts, body)).await;
    if resp.status() != StatusCode::OK || resp.extensions().get::<Public>().is_none() {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    // The page was made here, in memory: reading it whole costs nothing more.
    let body = match to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return AppError::internal(format!("public page body: {e}")).into_response(),
    };
    if body.len() <= MAX_PAGE_BYTES {
        let pieces = split(&body, token.as_bytes());
        cache.put(key, Entry { change_count, made, platform_time: now, headers: parts.headers.clone(), pieces });
    }
    answer(parts.status, parts.headers, body, "miss")
}

fn answer(status: StatusCode, headers: HeaderMap, body: Bytes, how: &'static str) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    resp.headers_mut().insert(CACHE_HEADER, HeaderValue::from_static(how));
    resp
}

/// `body` cut at each occurrence of `token`.
fn split(body: &Bytes, token: &[u8]) -> Vec<Bytes> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while !token.is_empty() && i + token.len() <= body.len() {
        if &body[i..i + token.len()] == token {
            pieces.push(body.slice(start..i));
            i += token.len();
            start = i;
        } else {
            i += 1;
        }
    }
    pieces.push(body.slice(start..));
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_cut_at_each_token_and_joined_with_another() {
        let body = Bytes::from_static(b"<meta content=\"TOK\"><input value=\"TOK\">end");
        let pieces = split(&body, b"TOK");
        assert_eq!(pieces.len(), 3);
        let joined: Vec<u8> = pieces.iter().enumerate().fold(Vec::new(), |mut out, (i, p)| {
            if i > 0 {
                out.extend_from_slice(b"OTHER");
            }
            out.extend_from_slice(p);
            out
        });
        assert_eq!(joined, b"<meta content=\"OTHER\"><input value=\"OTHER\">end");
        assert_eq!(split(&Bytes::from_static(b"no token"), b"TOK").len(), 1);
        assert_eq!(split(&Bytes::from_static(b"TOK"), b"TOK").len(), 2);
    }
}
