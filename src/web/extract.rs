//! Request extractors whose rejections are [`AppError`]s with stable codes, so malformed JSON,
//! forms, queries and paths get the same clear error shape as every other failure.
//! Handlers import these instead of axum's own.

use crate::error::AppError;
use axum::extract::{
    FromRequest, FromRequestParts,
    rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection},
};

/// JSON body.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

/// URL-encoded form body.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Form), rejection(AppError))]
pub struct Form<T>(pub T);

/// Query string.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

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
