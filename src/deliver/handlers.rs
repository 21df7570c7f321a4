//! The page of the one-click unsubscribe link that every e-mail carries.
//!
//! `GET /unsubscribe/{token}?kind=…` asks (a GET changes nothing); `POST` to the same address
//! mutes the kind, from the page's button or from the reader's mail program (RFC 8058:
//! `List-Unsubscribe=One-Click`, without cookies, which is why this address is outside the CSRF
//! check: the secret in the path is the authority, and no session is used).

use super::Deliveries;
use crate::{
    error::{AppError, AppResult},
    notify::NoticeKind,
    web::{
        extract::{Path, Query},
        page::{PageCtx, render},
    },
};
use askama::Template;
use axum::{Router, extract::State, response::Response, routing::get};
use serde::Deserialize;

/// The path under which the unsubscribe links are (outside the CSRF check).
pub const UNSUBSCRIBE_PREFIX: &str = "/unsubscribe/";

/// Page routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Deliveries: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    Router::new().route("/unsubscribe/{token}", get(ask).post(confirm))
}

#[derive(Debug, Deserialize)]
struct KindQuery {
    kind: Option<String>,
}

fn kind_of(q: &KindQuery) -> AppResult<Option<NoticeKind>> {
    match q.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        None => Ok(None),
        Some(k) => NoticeKind::parse(k).map(Some).ok_or_else(|| AppError::invalid_field("kind", "unknown_kind")),
    }
}

#[derive(Template)]
#[template(path = "deliver/unsubscribe.html")]
struct UnsubscribePage {
    ctx: PageCtx,
    token: String,
    kind: Option<String>,
    done: Option<String>,
}

async fn ask(
    State(state): State<Deliveries>,
    ctx: PageCtx,
    Path(token): Path<String>,
    Query(q): Query<KindQuery>,
) -> AppResult<Response> {
    let kind = kind_of(&q)?;
    if !super::token_known(&state, &token).await? {
        return Err(AppError::not_found());
    }
    Ok(render(&UnsubscribePage { ctx, token, kind: kind.map(|k| k.as_str().to_string()), done: None }))
}

async fn confirm(
    State(state): State<Deliveries>,
    ctx: PageCtx,
    Path(token): Path<String>,
    Query(q): Query<KindQuery>,
) -> AppResult<Response> {
    let kind = kind_of(&q)?;
    let name = super::unsubscribe(&state, &token, kind).await?;
    Ok(render(&UnsubscribePage { ctx, token, kind: kind.map(|k| k.as_str().to_string()), done: Some(name) }))
}
