//! Request extractors whose rejections are [`AppError`]s with stable codes, so malformed JSON,
//! forms, queries and paths get the same clear error shape as every other failure.
//! Handlers import these instead of axum's own.
//!
//! JSON bodies, forms and query strings that carry a control character in a text (U+0000–U+001F
//! other than tab and line breaks, escaped or percent-encoded) are refused as a whole with
//! `control_character` before anything reads them: no text with one reaches a service or the
//! database (PostgreSQL refuses U+0000 in text), whichever field it is in.

use crate::error::{AppError, is_forbidden_control};
use axum::{
    body::{Body, Bytes},
    extract::{
        FromRequest, FromRequestParts, Request,
        rejection::{BytesRejection, FormRejection, JsonRejection, PathRejection, QueryRejection},
    },
    http::request::Parts,
};
use serde::de::DeserializeOwned;

/// JSON body.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let (parts, bytes) = buffered(req, state).await?;
        if json_has_control(&bytes) {
            return Err(control_character());
        }
        let req = Request::from_parts(parts, Body::from(bytes));
        Ok(Json(axum::Json::<T>::from_request(req, state).await?.0))
    }
}

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

/// URL-encoded form body (or, for a GET, the query string).
#[derive(Debug)]
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let (parts, bytes) = buffered(req, state).await?;
        if urlencoded_has_control(parts.uri.query().unwrap_or("").as_bytes()) || urlencoded_has_control(&bytes) {
            return Err(control_character());
        }
        let req = Request::from_parts(parts, Body::from(bytes));
        Ok(Form(axum::Form::<T>::from_request(req, state).await?.0))
    }
}

/// Query string.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        if urlencoded_has_control(parts.uri.query().unwrap_or("").as_bytes()) {
            return Err(control_character());
        }
        Ok(Query(axum::extract::Query::<T>::from_request_parts(parts, state).await?.0))
    }
}

/// The request's head and its whole body (within the body limit: `body_too_large` beyond it).
async fn buffered<S: Send + Sync>(req: Request, state: &S) -> Result<(Parts, Bytes), AppError> {
    let (parts, body) = req.into_parts();
    let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state).await.map_err(body_rejection)?;
    Ok((parts, bytes))
}

fn body_rejection(r: BytesRejection) -> AppError {
    if r.status().as_u16() == 413 {
        AppError::too_large("body_too_large", "request body too large")
    } else {
        AppError::bad_request("body_unreadable", r.body_text())
    }
}

fn control_character() -> AppError {
    AppError::bad_request(
        "control_character",
        "texts may not contain control characters (U+0000 to U+001F other than tab and line breaks)",
    )
}

/// Whether JSON text has, inside a string, an escaped control character that
/// [`is_forbidden_control`] refuses (`\u0000`, `\b`, `\f`, …). Unescaped control characters are
/// not valid JSON and are refused by the parser itself; a backslash only ever begins an escape.
fn json_has_control(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'b' | b'f') => return true,
            Some(b'u') => {
                let code = bytes
                    .get(i + 2..i + 6)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u32::from_str_radix(h, 16).ok());
                if code.and_then(char::from_u32).is_some_and(is_forbidden_control) {
                    return true;
                }
            }
            _ => {}
        }
        i += 2;
    }
    false
}

/// Whether URL-encoded text has a control character [`is_forbidden_control`] refuses, raw or
/// percent-encoded.
fn urlencoded_has_control(bytes: &[u8]) -> bool {
    let control = |b: u8| is_forbidden_control(char::from(b));
    bytes.iter().enumerate().any(|(i, &b)| {
        control(b)
            || (b == b'%'
                && bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .is_some_and(control))
    })
}

/// A `multipart/form-data` body (uploads). A body that is not one (no boundary, another content
/// type) is `multipart_invalid`.
#[derive(Debug)]
pub struct Multipart(pub axum::extract::Multipart);

impl<S: Send + Sync> FromRequest<S> for Multipart {
    type Rejection = AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        axum::extract::Multipart::from_request(req, state)
            .await
            .map(Multipart)
            .map_err(|r| AppError::bad_request("multipart_invalid", r.body_text()))
    }
}

/// Path parameters.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => {
                AppError::bad_request("json_content_type", "expected Content-Type: application/json")
            }
            JsonRejection::JsonSyntaxError(e) => AppError::bad_request("json_malformed", e.body_text()),
            JsonRejection::JsonDataError(e) => AppError::rule("json_invalid", e.body_text()),
            JsonRejection::BytesRejection(e) if e.status().as_u16() == 413 => {
                AppError::too_large("body_too_large", "request body too large")
            }
            other => AppError::bad_request("json_malformed", other.body_text()),
        }
    }
}

impl From<FormRejection> for AppError {
    fn from(r: FormRejection) -> Self {
        match r {
            FormRejection::FailedToDeserializeForm(e) => AppError::rule("form_invalid", e.body_text()),
            FormRejection::FailedToDeserializeFormBody(e) => AppError::rule("form_invalid", e.body_text()),
            other => AppError::bad_request("form_malformed", other.body_text()),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(r: QueryRejection) -> Self {
        AppError::bad_request("query_invalid", r.body_text())
    }
}

impl From<PathRejection> for AppError {
    fn from(r: PathRejection) -> Self {
        match r {
            PathRejection::FailedToDeserializePathParams(_) => AppError::not_found(),
            other => AppError::bad_request("path_invalid", other.body_text()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_control_characters_in_json_are_found_and_escaped_backslashes_are_not() {
        assert!(json_has_control(br#"{"title":"\u0000"}"#));
        assert!(json_has_control(br#"{"title":"a\u001Fb"}"#));
        assert!(json_has_control(br#"{"title":"\b"}"#));
        assert!(json_has_control(br#"{"title":"\f"}"#));
        assert!(!json_has_control(br#"{"title":"\\u0000"}"#), "a backslash followed by the letters u0000");
        assert!(!json_has_control(br#"{"title":"line\nnext\ttab\r"}"#));
        assert!(!json_has_control(br#"{"title":"\u4e2d\u0020\\"}"#));
        assert!(!json_has_control(br#"{"title":"\u00"}"#), "a cut escape is the parser's to refuse");
    }

    #[test]
    fn control_characters_in_url_encoded_text_are_found_raw_or_percent_encoded() {
        assert!(urlencoded_has_control(b"q=%00"));
        assert!(urlencoded_has_control(b"q=a%1fb"));
        assert!(urlencoded_has_control(b"q=\x01"));
        assert!(!urlencoded_has_control(b"q=a%0D%0Ab%09c+d"));
        assert!(!urlencoded_has_control(b"q=%E4%B8%AD%20"));
        assert!(!urlencoded_has_control(b"q=100%"));
    }
}
