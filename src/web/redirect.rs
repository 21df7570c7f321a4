//! Redirects to a target named by the request (the language switch's `back`, the login's
//! `next`): every one goes through [`local_target`], so that none leads off this site.
//!
//! A target is kept only if it is a plain local path: it starts with one `/` that is not
//! followed by another `/` or a `\`, and it holds no backslash, no control character and no
//! white space anywhere. The same holds for its path once percent-decoded (so `/%2F/evil` and
//! `/%09/evil` are refused too). A scheme (`https:`, `javascript:`) cannot appear, since the
//! target must start with `/`. Anything else is replaced by the caller's fallback. Browsers
//! read `//host`, `/\host`, `\\host` and paths with tabs or line breaks in them as another host,
//! and a control character cannot be put in a header at all.
//!
//! What is kept is written into the `Location` header with non-ASCII characters
//! percent-encoded, so the header is always valid.

use axum::response::{IntoResponse, Redirect, Response};

/// Longest target kept, in bytes.
const MAX_TARGET: usize = 2048;

/// Whether `target` is a plain local path (see the module documentation).
pub fn is_local_path(target: &str) -> bool {
    let ok = |s: &[u8]| s.first() == Some(&b'/') && !matches!(s.get(1), Some(b'/' | b'\\')) && !s.contains(&b'\\');
    if target.len() > MAX_TARGET
        || !ok(target.as_bytes())
        || target.chars().any(|c| c.is_control() || c.is_whitespace() || is_invisible(c))
    {
        return false;
    }
    // The path once decoded: no escaped slash or backslash at its start, no escaped backslash
    // or control character anywhere.
    let path = target.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_decode(path);
    ok(&decoded) && !decoded.iter().any(|b| b.is_ascii_control() || *b == 0x7f)
}

/// `target` if it is a local path, else `fallback`; non-ASCII characters percent-encoded.
pub fn local_target(target: Option<&str>, fallback: &'static str) -> String {
    match target {
        Some(t) if is_local_path(t) => encode_non_ascii(t),
        _ => fallback.to_string(),
    }
}

/// A redirect (303) to `target` if it is a local path, else to `fallback`.
pub fn to_local(target: Option<&str>, fallback: &'static str) -> Response {
    Redirect::to(&local_target(target, fallback)).into_response()
}

/// A redirect (303) to the login page that comes back to `path` afterwards, when `path` is
/// local (else the login page goes to the workspace).
pub fn to_login(path: &str) -> Response {
    if is_local_path(path) {
        Redirect::to(&format!("/login?next={}", super::page::percent_encode(path))).into_response()
    } else {
        Redirect::to("/login").into_response()
    }
}

/// Characters that display as nothing and that some software drops: a target holding one is
/// not what it looks like.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn encode_non_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_local_paths_only() {
        for good in ["/", "/tenders", "/tenders?q=a//b&page=2#x", "/mall/items/1", "/a%20b", "/tenders?q=%E6%95%99"] {
            assert!(is_local_path(good), "{good}");
            assert_eq!(local_target(Some(good), "/"), good);
        }
        assert_eq!(local_target(Some("/tenders?q=教学"), "/"), "/tenders?q=%E6%95%99%E5%AD%A6");
        for bad in [
            "",
            "//evil",
            "/\\evil",
            "\\\\evil",
            "/a\\b",
            "/\t/evil",
            "/\r\n",
            "/%09/evil",
            "/%2F/evil",
            "/%5cevil",
            "/a%0d%0ab",
            "https://evil",
            "javascript:alert(1)",
            "evil",
            " /x",
            "/\u{85}x",
            "/\u{200B}/evil",
        ] {
            assert!(!is_local_path(bad), "{bad:?}");
            assert_eq!(local_target(Some(bad), "/workspace"), "/workspace");
        }
        assert!(!is_local_path(&format!("/{}", "a".repeat(MAX_TARGET))));
        assert_eq!(local_target(None, "/"), "/");
    }
}
