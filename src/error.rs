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
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<Cow<'static, str>>, code: impl Into<Cow<'static, str>>) -> Self {
        Self { field: field.into(), code: code.into() }
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
}

/// Result type of services and handlers.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), fields: Vec::new() }
    }

    /// 404: the object does not exist, or the user may not know that it does.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "not found")
    }

    /// 401: a login is needed.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "login_required", "please log in")
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

    /// The same error with HTTP status 401 (a failed login).
    pub fn with_status_401(mut self) -> Self {
        self.status = StatusCode::UNAUTHORIZED;
        self
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

/// Checks a text's trimmed length, adding `required` (fewer than `min` characters) or `too_long`
/// (more than `max`) to `fields`, so that a form's problems are reported together.
pub fn check_text(fields: &mut Vec<FieldError>, name: &'static str, v: &str, min: usize, max: usize) {
    let n = v.trim().chars().count();
    if n < min {
        fields.push(FieldError::new(name, "required"));
    } else if n > max {
        fields.push(FieldError::new(name, "too_long"));
    }
}

/// A required, trimmed text of at most `max_chars` characters, or a field error.
pub fn required_text<'a>(field: &'static str, value: &'a str, max_chars: usize) -> AppResult<&'a str> {
    let v = value.trim();
    match v.chars().count() {
        0 => Err(AppError::invalid_field(field, "required")),
        n if n > max_chars => Err(AppError::invalid_field(field, "too_long")),
        _ => Ok(v),
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
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message.clone(),
                fields: self.fields.clone(),
            },
        };
        let mut resp = (self.status, Json(body)).into_response();
        resp.extensions_mut().insert(self);
        resp
    }
}
