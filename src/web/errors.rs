//! Turns errors on page routes (everything outside `/api/`) into HTML pages in the user's language.
//!
//! Handlers return [`AppError`]s, which answer JSON; for pages this middleware swaps the body
//! for a page: 401 becomes a redirect to the login page, anything else an error page with the
//! translated message for its code.

use super::page::{T, lang_of};
use crate::{error::AppError, web::Site};
use askama::Template;
use axum::{
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::Response,
};

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    t: T,
    status: u16,
    message: String,
    code: String,
    fields: Vec<String>,
    detail: Option<String>,
}

/// The middleware.
pub async fn html_errors(State(state): State<Site>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let lang = lang_of(&parts);
    let path = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let resp = next.run(Request::from_parts(parts, body)).await;
    let Some(err) = resp.extensions().get::<AppError>().cloned() else {
        return resp;
    };
    if err.status == StatusCode::UNAUTHORIZED {
        return super::redirect::to_login(&path);
    }
    let t = T::new(state.i18n.clone(), lang);
    let fields = err.fields.iter().map(|f| format!("{}: {}", t.of("field", &f.field), t.field_error(f))).collect();
    let page = ErrorPage {
        message: t.error_of(&err),
        code: err.code.to_string(),
        status: err.status.as_u16(),
        fields,
        detail: err.detail.clone(),
        t,
    };
    let mut out = super::page::render(&page);
    *out.status_mut() = err.status;
    out
}
