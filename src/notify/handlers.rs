//! The inbox page and its API.

use super::service::{self, NoticeView};
use crate::{
    accounts::model::Actor,
    error::{AppResult, ErrorBody},
    web::Site,
    web::{
        extract::Json,
        page::{PageCtx, ReaderLang, render},
    },
};
use askama::Template;
use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Page routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    crate::web::Site: axum::extract::FromRef<S>,
{
    Router::new().route("/notifications", get(inbox)).route("/notifications/read", post(read_all))
}

/// API routes.
pub fn api_routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    crate::web::Site: axum::extract::FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(read_all_api))
}

#[derive(Template)]
#[template(path = "notify/inbox.html")]
struct InboxPage {
    ctx: PageCtx,
    items: Vec<NoticeView>,
}

async fn inbox(State(state): State<Site>, ctx: PageCtx, actor: Actor) -> AppResult<Response> {
    let items = service::list(&state.db, &state.i18n, ctx.t.lang, actor.org_id, actor.user_id).await?;
    Ok(render(&InboxPage { ctx, items }))
}

async fn read_all(State(state): State<Site>, actor: Actor) -> AppResult<Response> {
    service::mark_all_read(&state.db, actor.org_id, actor.user_id, state.clock.now()).await?;
    Ok(Redirect::to("/notifications").into_response())
}

/// The notices of the caller's organisation, newest first, each as its kind and arguments and
/// rendered in the reader's language: `?lang=zh|en`, else the `lang` cookie, else
/// `Accept-Language`, else Chinese.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications",
    params(("lang" = Option<String>, Query, description = "zh or en")),
    responses((status = 200, body = Vec<NoticeView>), (status = 401, description = "login_required", body = ErrorBody)))]
async fn list(
    State(state): State<Site>,
    ReaderLang(lang): ReaderLang,
    actor: Actor,
) -> AppResult<Json<Vec<NoticeView>>> {
    Ok(Json(service::list(&state.db, &state.i18n, lang, actor.org_id, actor.user_id).await?))
}

/// Marks every notice of the caller's organisation read.
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "notifications", responses((status = 204, description = "all read"), (status = 401, description = "login_required", body = ErrorBody)))]
async fn read_all_api(State(state): State<Site>, actor: Actor) -> AppResult<StatusCode> {
    service::mark_all_read(&state.db, actor.org_id, actor.user_id, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
