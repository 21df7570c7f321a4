//! The web layer shared by all domain modules: who is asking (sessions, client certificates),
//! CSRF protection, websocket origins, caching of personal answers, languages, page context and
//! rendering, forms shown again with what was typed and the errors (`form`), HTML error pages, static assets, redirects to targets named by the request, and
//! the message shown once after an action (`flash`), and `Connection: close` on answers that
//! leave the request body unread (`unread_body`).
//!
//! It holds no business rules; domain modules own their routes and call into their services.

pub mod assets;
pub mod auth;
pub mod cache;
pub mod client;
pub mod csrf;
pub mod errors;
pub mod extract;
pub mod flash;
pub mod form;
pub mod i18n;
pub mod origin;
pub mod page;
pub mod public_pages;
pub mod redirect;
pub mod site;
pub mod unread_body;

pub use site::Site;

use chrono::{DateTime, FixedOffset, Utc};

/// China Standard Time (UTC+8), in which the platform shows times.
pub fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"))
}

/// A time shown as `2026-11-21 14:30` in China Standard Time.
pub fn fmt_time(t: &DateTime<Utc>) -> String {
    t.with_timezone(&cst()).format("%Y-%m-%d %H:%M").to_string()
}

/// Reads a `datetime-local` form value (`2026-12-01T09:30`) as China Standard Time.
pub fn parse_local_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
        .ok()?;
    naive.and_local_timezone(cst()).single().map(|t| t.with_timezone(&Utc))
}

/// A time as a `datetime-local` form value in China Standard Time.
pub fn local_input(t: &DateTime<Utc>) -> String {
    t.with_timezone(&cst()).format("%Y-%m-%dT%H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_are_china_standard_time() {
        let t = parse_local_time("2026-12-01T09:30").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-01T01:30:00+00:00");
        assert_eq!(fmt_time(&t), "2026-12-01 09:30");
        assert_eq!(local_input(&t), "2026-12-01T09:30");
        assert!(parse_local_time("yesterday").is_none());
    }
}
