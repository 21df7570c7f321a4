//! The federation page `/admin/federation`: the peers with their links and the messages
//! exchanged, and the remote draws as host and as guest (the centre's staff, supervisors, the
//! administrator).

use super::{Federation, api::PeerView, draw::RemoteDrawView};
use crate::{
    accounts::model::Actor,
    error::AppResult,
    web::page::{PageCtx, render},
};
use askama::Template;
use axum::{Router, extract::State, response::Response, routing::get};

/// The page routes of this module.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Federation: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    Router::new().route("/admin/federation", get(page))
}

#[derive(Template)]
#[template(path = "federation/index.html")]
struct FederationPage {
    ctx: PageCtx,
    /// This deployment's name, if it is part of a federation.
    site: Option<String>,
    peers: Vec<PeerView>,
    draws: Vec<RemoteDrawView>,
}

async fn page(State(fed): State<Federation>, ctx: PageCtx, actor: Actor) -> AppResult<Response> {
    let peers = super::api::peer_views(&fed, &actor).await?;
    let draws = super::draw::list(&fed, &actor).await?;
    Ok(render(&FederationPage { ctx, site: fed.site().ok().map(str::to_string), peers, draws }))
}
