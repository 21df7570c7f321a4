//! The `Origin` of websocket handshakes.
//!
//! A websocket handshake is a GET that browsers send with the page's cookies whatever site the
//! page came from, and the CSRF middleware checks only state-changing methods; so a page on
//! another site could open a participant's hall socket in their name (cross-site websocket
//! hijacking). Browsers always send `Origin` on a websocket handshake, and pages cannot forge
//! it: [`SameOrigin`] refuses a handshake whose `Origin` is not the platform's own with 403
//! `origin_not_allowed`, before the upgrade.
//!
//! The platform's own origin is `server.public_url` when it is set (exactly: scheme, host and
//! port); otherwise the host the request was sent to (its `Host`), in either scheme, since
//! behind a proxy that terminates TLS the server cannot know the scheme the browser used.
//! A handshake without `Origin` comes from a program, not from a browser page (the
//! `tenderhall bidder` tool, the load programs), and is let through: only a browser attaches a
//! victim's cookies to a request made by somebody else's page.

use crate::{error::AppError, web::Site};
use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};
use std::fmt;

/// A web origin: scheme, host and port (the scheme's default port is not written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// `host[:port]` (IPv6 in brackets), lower case, with the port dropped if it is `default`.
fn split_authority(authority: &str, default: Option<u16>) -> Option<(String, Option<u16>)> {
    if authority.is_empty() || authority.contains(['/', '@', '?', '#', ' ']) {
        return None;
    }
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => {
            let port: u16 = authority[i + 1..].parse().ok()?;
            (&authority[..i], Some(port))
        }
        _ => (authority, None),
    };
    if host.is_empty() {
        return None;
    }
    let port = port.filter(|p| Some(*p) != default);
    Some((host.to_ascii_lowercase(), port))
}

impl Origin {
    /// Parses `scheme://host[:port]` (http or https, nothing after the authority).
    pub fn parse(s: &str) -> Option<Self> {
        let (scheme, authority) = s.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let default = default_port(&scheme)?;
        let (host, port) = split_authority(authority, Some(default))?;
        Some(Self { scheme, host, port })
    }

    /// Whether this origin names the host `authority` (a `Host` header), in any scheme.
    pub fn names_host(&self, authority: &str) -> bool {
        split_authority(authority.trim(), default_port(&self.scheme))
            .is_some_and(|(host, port)| host == self.host && port == self.port)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

/// Proof that a request's `Origin` is the platform's own (or absent); see the module docs.
#[derive(Debug, Clone, Copy)]
pub struct SameOrigin;

/// Whether a request with `origin` (the header) sent to `host` is allowed, given the configured
/// public origin.
pub fn allowed(origin: Option<&str>, host: Option<&str>, public: Option<&str>) -> bool {
    let Some(origin) = origin else { return true };
    let Some(o) = Origin::parse(origin.trim()) else { return false };
    match public {
        Some(p) => o.to_string() == p,
        None => host.is_some_and(|h| o.names_host(h)),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SameOrigin
where
    Site: axum::extract::FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = <Site as axum::extract::FromRef<S>>::from_ref(state);
        let origin = match parts.headers.get(header::ORIGIN) {
            None => None,
            Some(v) => Some(v.to_str().map_err(|_| refused())?),
        };
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .or_else(|| parts.uri.authority().map(|a| a.as_str()));
        if allowed(origin, host, state.public_origin.as_deref()) { Ok(SameOrigin) } else { Err(refused()) }
    }
}

fn refused() -> AppError {
    AppError::forbidden_because("origin_not_allowed", "a websocket may only be opened from the platform's own pages")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_and_normalise() {
        assert_eq!(
            Origin::parse("HTTPS://Tender.Example:443").map(|o| o.to_string()).as_deref(),
            Some("https://tender.example")
        );
        assert_eq!(
            Origin::parse("http://127.0.0.1:8080").map(|o| o.to_string()).as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(Origin::parse("http://[::1]:8080").map(|o| o.to_string()).as_deref(), Some("http://[::1]:8080"));
        for bad in ["null", "", "ftp://x", "https://", "https://a/b", "https://a:99999", "https://u@a", "a.example"] {
            assert!(Origin::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn only_the_platforms_own_origin_is_allowed() {
        // No public address configured: the origin must name the host the request went to.
        assert!(allowed(Some("http://127.0.0.1:8080"), Some("127.0.0.1:8080"), None));
        assert!(allowed(Some("https://tender.example"), Some("tender.example:443"), None));
        assert!(allowed(Some("https://tender.example"), Some("tender.example"), None));
        assert!(!allowed(Some("https://evil.example"), Some("tender.example"), None));
        assert!(!allowed(Some("http://127.0.0.1:9999"), Some("127.0.0.1:8080"), None));
        assert!(!allowed(Some("null"), Some("127.0.0.1:8080"), None));
        assert!(!allowed(Some("http://127.0.0.1:8080"), None, None));
        // Programs send no Origin.
        assert!(allowed(None, Some("127.0.0.1:8080"), None));
        // With a public address, exactly that origin.
        let public = Some("https://tender.example");
        assert!(allowed(Some("https://tender.example"), Some("10.0.0.5:8080"), public));
        assert!(!allowed(Some("http://tender.example"), Some("tender.example"), public));
        assert!(!allowed(Some("http://10.0.0.5:8080"), Some("10.0.0.5:8080"), public));
    }
}
