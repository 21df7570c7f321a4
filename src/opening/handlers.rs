//! The opening hall's page. The page is a shell: `frontend/static/hall.js` connects to the
//! hall's websocket and draws the phase, the countdown, the events and the controls of the
//! viewer's role.

use crate::{
    accounts::model::Actor,
    error::AppResult,
    opening::Openings,
    web::{
        extract::Path,
        page::{PageCtx, render},
    },
};
use askama::Template;
use axum::{Router, extract::State, response::Response, routing::get};
use uuid::Uuid;

/// Page routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    super::Openings: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    Router::new().route("/tenders/{id}/opening", get(hall))
}

#[derive(Template)]
#[template(path = "opening/hall.html")]
struct HallPage {
    ctx: PageCtx,
    tender: Uuid,
    title: String,
    role: String,
}

async fn hall(State(state): State<Openings>, ctx: PageCtx, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Response> {
    let (h, _, _) = state.hall_state(&actor, id).await?;
    Ok(render(&HallPage { ctx, tender: h.tender, title: h.title, role: h.role }))
}
