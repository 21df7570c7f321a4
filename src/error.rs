//! One error type for the whole application.
//!
//! Every failure a user can cause has a stable, machine-readable `code` (documented in
//! `docs/api.md`) and an English message; the web pages show the Chinese or English text for
//! the code (`frontend/i18n`). Client errors may carry field details. Server errors are logged
//! with their cause and answered with a generic message: internals never leak.
//!
//! [`AppError`] turns itself into a JSON response and also leaves a copy of itself in the
//! response's extensions, so that the page layer can render the same error as an HTML page in
//! the user's language (see `web::html_errors`).

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use std::borrow::Cow;

/// A problem with one input field.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// The field's name as submitted.
    pub field: Cow<'static, str>,
    /// A stable code for the problem (`required`, `too_long`, `invalid`, ...).
    pub code: Cow<'static, str>,
    /// The numbers of the rule that refused the value (`max` characters, `min` and `max` of a
    /// range, ...), for the pages to state it (`rule.field.<code>` in the catalogues); not part
    /// of the JSON answer.
    #[serde(skip)]
    #[schema(ignore)]
    pub args: Vec<(&'static str, String)>,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<Cow<'static, str>>, code: impl Into<Cow<'static, str>>) -> Self {
        Self { field: field.into(), code: code.into(), args: Vec::new() }
    }

    /// The same error with a number of its rule (`max`, `min`, `days`, ...).
    pub fn with_arg(mut self, name: &'static str, value: impl std::fmt::Display) -> Self {
        self.args.push((name, value.to_string()));
        self
    }
}

/// An error answered to a request.
#[derive(Debug, Clone)]
pub struct AppError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// English explanation.
    pub message: String,
    /// Field details for validation errors.
    pub fields: Vec<FieldError>,
    /// For a refusal to go faster: seconds after which the same request may succeed (sent as
    /// `Retry-After`).
    pub retry_after: Option<u64>,
    /// A text of the case that the answer passes on as it is, in every language (the reason
    /// an administrator gave for rejecting a registration), shown after the translated message.
    pub detail: Option<String>,
    /// The numbers of the rule that refused the request (the `days` a deadline must be away),
    /// for the pages to state it (`rule.error.<code>` in the catalogues); not part of the JSON
    /// answer, whose English message states them. (Boxed, and absent without numbers: errors
    /// are returned everywhere and stay small.)
    pub args: Option<Box<Vec<(&'static str, String)>>>,
}

/// Result type of services and handlers.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), fields: Vec::new(), retry_after: None, detail: None, args: None }
    }

    /// 404: the object does not exist, or the user may not know that it does.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "not found")
    }

    /// 401: a login is needed.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "login_required", "please log in")
    }

    /// 426 `websocket_required`: a request to a websocket's address that is not a websocket
    /// handshake.
    pub fn websocket_required() -> Self {
        Self::new(StatusCode::UPGRADE_REQUIRED, "websocket_required", "this address takes a websocket handshake only")
    }

    /// 403: logged in, but not allowed.
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "not allowed for your role or organisation")
    }

    /// 403 with a specific code (`csrf_failed`, `account_pending`, ...).
    pub fn forbidden_because(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 422: the input is malformed; `fields` say where.
    pub fn validation(fields: Vec<FieldError>) -> Self {
        let message = fields.iter().map(|f| format!("{}: {}", f.field, f.code)).collect::<Vec<_>>().join(", ");
        Self { fields, ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", message) }
    }

    /// 422 for a single field.
    pub fn invalid_field(field: &'static str, code: &'static str) -> Self {
        Self::validation(vec![FieldError::new(field, code)])
    }

    /// 409: the request conflicts with the state of the object (wrong state, duplicate).
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 422: a business rule refuses the request (too late, too early, ...).
    pub fn rule(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 400: the request could not be read at all.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 413: too large.
    pub fn too_large(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, code, message)
    }

    /// 429: slow down.
    pub fn too_many(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, code, message)
    }

    /// 429 `rate_limited`: too many commands in too short a time; the same may be sent again
    /// after `retry_after` seconds.
    pub fn rate_limited(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::too_many("rate_limited", format!("too many commands; try again in {retry_after} s"))
        }
    }

    /// The same error with `Retry-After` (and `retry_after` in the body): the seconds to wait.
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// 503: a service the request needs (the SMS gateway) is not there.
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    /// The same error with HTTP status 401 (a failed login).
    pub fn with_status_401(mut self) -> Self {
        self.status = StatusCode::UNAUTHORIZED;
        self
    }

    /// The same error with a text of the case (see [`AppError::detail`]).
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The same error with a number of its rule (see [`AppError::args`]).
    pub fn with_arg(mut self, name: &'static str, value: impl std::fmt::Display) -> Self {
        self.args.get_or_insert_default().push((name, value.to_string()));
        self
    }

    /// The numbers of the rule that refused the request (see [`AppError::args`]).
    pub fn rule_args(&self) -> &[(&'static str, String)] {
        self.args.as_deref().map(Vec::as_slice).unwrap_or(&[])
    }

    /// A single field's error carrying a number of its rule (`too_long` with its `max`).
    pub fn field_with(
        field: &'static str,
        code: &'static str,
        arg: &'static str,
        value: impl std::fmt::Display,
    ) -> Self {
        Self::validation(vec![FieldError::new(field, code).with_arg(arg, value)])
    }

    /// The same error with a field detail added.
    pub fn with_field(mut self, field: &'static str, code: &'static str) -> Self {
        self.fields.push(FieldError::new(field, code));
        self
    }

    /// 500: logs `cause` and answers a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let id = uuid::Uuid::new_v4();
        tracing::error!(error_id = %id, "internal error: {cause}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", format!("internal error (reference {id})"))
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status.as_u16(), self.message)
    }
}

impl std::error::Error for AppError {}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        AppError::internal(format!("database: {e}"))
    }
}

impl From<crate::money::Overflow> for AppError {
    /// A sum that does not fit: inputs are bounded so that it cannot happen, so it is a fault.
    fn from(e: crate::money::Overflow) -> Self {
        AppError::internal(e)
    }
}

impl<E: std::fmt::Display> From<sea_orm::TransactionError<E>> for AppError
where
    AppError: From<E>,
{
    fn from(e: sea_orm::TransactionError<E>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(inner) => inner.into(),
        }
    }
}

/// Whether `c` is a control character a text may not carry: the C0 controls (U+0000–U+001F)
/// other than tab, line feed and carriage return. PostgreSQL refuses U+0000 in text outright,
/// and the others have no place in a notice, a name or an objection.
pub fn is_forbidden_control(c: char) -> bool {
    c < '\u{20}' && !matches!(c, '\t' | '\n' | '\r')
}

/// Checks a text's trimmed length, adding `required` (fewer than `min` characters) or `too_long`
/// (more than `max`) to `fields`, so that a form's problems are reported together; a text with a
/// control character (see [`is_forbidden_control`]) is `control_character`.
pub fn check_text(fields: &mut Vec<FieldError>, name: &'static str, v: &str, min: usize, max: usize) {
    let n = v.trim().chars().count();
    if v.chars().any(is_forbidden_control) {
        fields.push(FieldError::new(name, "control_character"));
    } else if n < min {
        fields.push(FieldError::new(name, "required"));
    } else if n > max {
        fields.push(FieldError::new(name, "too_long").with_arg("max", max));
    }
}

/// A required, trimmed text of at most `max_chars` characters without control characters, or a
/// field error.
pub fn required_text<'a>(field: &'static str, value: &'a str, max_chars: usize) -> AppResult<&'a str> {
    let v = value.trim();
    if v.chars().any(is_forbidden_control) {
        return Err(AppError::invalid_field(field, "control_character"));
    }
    match v.chars().count() {
        0 => Err(AppError::invalid_field(field, "required")),
        n if n > max_chars => Err(AppError::field_with(field, "too_long", "max", max_chars)),
        _ => Ok(v),
    }
}

/// Whether `s` is a telephone number of mainland China as a notice prints it: a mobile number
/// (11 digits, `1[3-9]…`), a landline with its area code (`010-12345678`, `0755 8888 6666`,
/// `(021)62345678`), optionally with an extension (`-8012`, `转8012`), or a `400`/`800` service
/// number; `+86` or `86` may come first. Spaces and hyphens between digit groups are allowed.
pub fn is_phone(s: &str) -> bool {
    let s = s.trim();
    let s = s.strip_prefix("+86").or_else(|| s.strip_prefix("86 ")).unwrap_or(s);
    // The extension, if any, is the digits after 转 or after a hyphen that follows a full number.
    let (main, ext) = match s.split_once('转') {
        Some((m, e)) => (m, Some(e)),
        None => (s, None),
    };
    if let Some(e) = ext.map(str::trim)
        && !((1..=6).contains(&e.len()) && e.chars().all(|c| c.is_ascii_digit()))
    {
        return false;
    }
    if main.chars().any(|c| !(c.is_ascii_digit() || " -()（）".contains(c))) {
        return false;
    }
    // An area code in brackets counts as a group of its own.
    let groups: Vec<String> =
        main.split([' ', '-', '(', ')', '（', '）']).filter(|g| !g.is_empty()).map(str::to_string).collect();
    let digits: String = groups.concat();
    let mobile = |d: &str| d.len() == 11 && d.starts_with('1') && matches!(d.as_bytes()[1], b'3'..=b'9');
    let service = |d: &str| d.len() == 10 && (d.starts_with("400") || d.starts_with("800"));
    let landline = |area: &str, local: &str| {
        area.starts_with('0')
            && (3..=4).contains(&area.len())
            && (7..=8).contains(&local.len())
            && !local.starts_with('0')
    };
    if ext.is_none() && (mobile(&digits) || service(&digits)) {
        return true;
    }
    match groups.as_slice() {
        // 01012345678: area code and number written together (3- or 4-digit area codes).
        [one] if one.starts_with('0') => {
            (10..=12).contains(&one.len()) && (landline(&one[..3], &one[3..]) || landline(&one[..4], &one[4..]))
        }
        [area, local] => landline(area, local),
        // 0755 8888 6666, or 010-12345678-8012 (the last group an extension).
        [area, a, b] if ext.is_none() && landline(area, &format!("{a}{b}")) && a.len() + b.len() <= 8 => true,
        [area, local, e] if ext.is_none() => landline(area, local) && (1..=6).contains(&e.len()),
        _ => false,
    }
}

/// The JSON body of an error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Details of an error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code.
    pub code: String,
    /// English explanation.
    pub message: String,
    /// Problems with individual fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// Seconds to wait before trying again (`rate_limited`, `login_throttled`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// A text of the case, as it was entered (for `account_rejected`, the reason given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message.clone(),
                fields: self.fields.clone(),
                retry_after: self.retry_after,
                detail: self.detail.clone(),
            },
        };
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(s) = self.retry_after {
            resp.headers_mut().insert(axum::http::header::RETRY_AFTER, s.into());
        }
        resp.extensions_mut().insert(self);
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_with_control_characters_other_than_tab_and_line_breaks_are_refused() {
        for bad in ["\u{0}", "标题\u{1b}", "\u{7}响铃"] {
            let code = required_text("title", bad, 100).map_err(|e| e.fields[0].code.to_string());
            assert_eq!(code, Err("control_character".to_string()));
            let mut fields = Vec::new();
            check_text(&mut fields, "title", bad, 1, 100);
            assert_eq!(fields.len(), 1);
            assert_eq!(fields[0].code, "control_character");
        }
        assert_eq!(required_text("title", " 第一行\r\n第二行\t ", 100).ok(), Some("第一行\r\n第二行"));
        let mut fields = Vec::new();
        check_text(&mut fields, "title", "第一行\n第二行", 1, 100);
        assert!(fields.is_empty());
    }

    #[test]
    fn phone_numbers_of_mainland_china() {
        for ok in [
            "13912345678",
            "139 1234 5678",
            "+86 139-1234-5678",
            "010-12345678",
            "0755-8888666",
            "0755 8888 6666",
            "(021)62345678",
            "（021）62345678",
            "01062345678",
            "010-62345678-8012",
            "010-62345678转8012",
            "400-810-8888",
        ] {
            assert!(is_phone(ok), "{ok} is a phone number");
        }
        for bad in [
            "",
            "12345",
            "12912345678",
            "139123456789",
            "010-1234",
            "10-12345678",
            "010-01234567",
            "phone: 010-12345678",
            "010-12345678转",
            "010-12345678-1234567",
            "１３９１２３４５６７８",
        ] {
            assert!(!is_phone(bad), "{bad} is not a phone number");
        }
    }
}
