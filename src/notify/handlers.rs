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
    super::live::Inbox: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(read_all_api))
        .routes(routes!(unread))
        .routes(routes!(inbox_ws))
}

/// The number of the caller's unread notices.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Unread {
    /// How many.
    pub unread: u64,
}

/// How many of the caller's notices are unread (what the badge on every page shows).
#[utoipa::path(get, path = "/api/v1/notifications/unread", tag = "notifications",
    responses((status = 200, body = Unread), (status = 401, description = "login_required", body = ErrorBody)))]
async fn unread(State(state): State<Site>, actor: Actor) -> AppResult<Json<Unread>> {
    Ok(Json(Unread { unread: service::unread_count(&state.db, actor.org_id, actor.user_id).await? }))
}

/// Where the inbox's websocket starts.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxAfter {
    /// Events after this number; absent: only those to come.
    pub after: Option<i64>,
}

/// The caller's inbox, live: a `notice` event whenever a notice reaches the caller (the page
/// then reads `/api/v1/notifications/unread`); `hello` carries the unread count. No commands.
#[utoipa::path(get, path = "/api/v1/notifications/ws", tag = "notifications", params(InboxAfter),
    responses(
        (status = 101, description = "Switching Protocols: the websocket; JSON text frames (`hello`, `event`, `clock`, `error`) as in docs/api.md"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "origin_not_allowed", body = ErrorBody),
        (status = 426, description = "websocket_required", body = ErrorBody)))]
async fn inbox_ws(
    State(inbox): State<super::live::Inbox>,
    origin: crate::web::origin::SameOrigin,
    participant: crate::web::auth::SessionActor,
    crate::web::extract::Query(q): crate::web::extract::Query<InboxAfter>,
    ws: Result<axum::extract::WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> AppResult<Response> {
    let ws = ws.map_err(|_| crate::error::AppError::websocket_required())?;
    let me = participant.actor.user_public_id;
    let after = match q.after {
        Some(a) => a,
        None => crate::live::store::newest_seq(inbox.writer.db(), super::live::room(participant.actor.user_id)).await?,
    };
    crate::live::ws::upgrade(inbox.clone(), inbox.wiring(), origin, participant, me, after, ws).await
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
