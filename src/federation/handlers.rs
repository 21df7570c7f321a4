//! The federation page `/admin/federation`: the peers with their links and the messages
//! exchanged, and the remote draws as host and as guest (the centre's staff, supervisors, the
//! administrator).

use super::{
    Federation,
    api::PeerView,
    draw::RemoteDrawView,
    session::{GuestSession, PageData},
};
use crate::{
    accounts::model::Actor,
    error::{AppError, AppResult},
    evaluation::handlers::{SessionLinks, member_page},
    web::{
        extract::Path,
        flash::{self, Flash},
        form::{FormState, Values},
        page::{PageCtx, render},
    },
};
use askama::Template;
use axum::{Router, extract::State, response::Response, routing::get};
use uuid::Uuid;

/// The page routes of this module.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Federation: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/admin/federation", get(page))
        .route("/admin/federation/draws/{id}/seat", axum::routing::post(seat))
        .route("/federation/sessions", get(sessions_page))
        .route("/federation/sessions/{id}", get(session_page))
        .route("/federation/sessions/{id}/act", axum::routing::post(act))
}

#[derive(Template)]
#[template(path = "federation/index.html")]
struct FederationPage {
    ctx: PageCtx,
    /// This deployment's name, if it is part of a federation.
    site: Option<String>,
    peers: Vec<PeerView>,
    draws: Vec<RemoteDrawView>,
    /// The reader seats guests' members (the centre's staff).
    can_seat: bool,
}

async fn page(State(fed): State<Federation>, ctx: PageCtx, actor: Actor) -> AppResult<Response> {
    let peers = super::api::peer_views(&fed, &actor).await?;
    let draws = super::draw::list(&fed, &actor).await?;
    let can_seat = crate::draw::service::runs_draws(&actor);
    Ok(render(&FederationPage { ctx, site: fed.site().ok().map(str::to_string), peers, draws, can_seat }))
}

/// Seats a verified remote draw's members in the tender's open session.
async fn seat(State(fed): State<Federation>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Response> {
    super::session::seat(&fed, &actor, id).await?;
    Ok(crate::web::flash::to("/admin/federation", crate::web::flash::Flash::RemoteSeated))
}

#[derive(Template)]
#[template(path = "federation/sessions.html")]
struct SessionsPage {
    ctx: PageCtx,
    sessions: Vec<GuestSession>,
}

/// The host sessions this deployment's experts take part in.
async fn sessions_page(State(fed): State<Federation>, ctx: PageCtx, actor: Actor) -> AppResult<Response> {
    let sessions = super::session::sessions(&fed, &actor).await?;
    Ok(render(&SessionsPage { ctx, sessions }))
}

#[derive(Template)]
#[template(path = "federation/session.html")]
struct SessionPage {
    ctx: PageCtx,
    d: PageData,
}

impl SessionPage {
    /// An event in words: its label and the member it is about, by name.
    fn describe(&self, e: &crate::live::Event) -> String {
        let label = self.ctx.t.get(&format!("federation.events.{}", e.kind)).to_string();
        let who = e.data["member"]
            .as_str()
            .and_then(|m| self.d.members.iter().find(|x| x.id.to_string() == m))
            .map(|m| m.name.clone());
        let detail = match e.kind.as_str() {
            "phase" => e.data["phase"].as_str().map(|p| self.ctx.t.get(&format!("session.phases.{p}")).to_string()),
            "progress" => Some(format!("{}/{}", e.data["done"], e.data["of"])),
            "command_result" => e.data["code"].as_str().map(str::to_string),
            _ => None,
        };
        [Some(label), who, detail].into_iter().flatten().collect::<Vec<_>>().join(" · ")
    }
}

/// A host's session as this deployment's supervisors and members follow it.
async fn session_page(
    State(fed): State<Federation>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    show(&fed, ctx, &actor, id, FormState::blank()).await
}

/// A member sees the host's session as on one site, with its forms, drawn from what the host
/// last sent of it; supervisors and staff (and a member before the host sent anything) see the
/// committee's progress and the events.
async fn show(fed: &Federation, ctx: PageCtx, actor: &Actor, id: Uuid, f: FormState) -> AppResult<Response> {
    if let Some((view, seq)) = super::session::member_view(fed, actor, id).await? {
        let links = SessionLinks {
            page: format!("/federation/sessions/{id}"),
            act: format!("/federation/sessions/{id}/act"),
            ws: Some(format!("/api/v1/federation/sessions/{id}/ws")),
            report: format!("/api/v1/federation/sessions/{id}/report.pdf"),
            seq,
        };
        return Ok(member_page(ctx, view, links, f));
    }
    let d = super::session::page(fed, actor, id).await?;
    Ok(render(&SessionPage { ctx, d }))
}

/// How long a member's form waits for the host's answer before saying that it is on its way.
const ANSWER_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A member's form: its commands go to the host in order, and the page waits a little for the
/// host's answer, to show a refusal as it would on one site. The commands run in their own
/// task, so that a browser leaving meanwhile does not cut a batch off halfway.
async fn act(
    State(fed): State<Federation>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    use super::session::Outcome;
    let back = format!("/federation/sessions/{id}");
    let result = async {
        let cmds = crate::evaluation::handlers::commands(&values)?
            .into_iter()
            .map(|c| serde_json::to_value(c).map_err(AppError::internal))
            .collect::<AppResult<Vec<_>>>()?;
        let (fed, actor) = (fed.clone(), actor.clone());
        tokio::spawn(async move { super::session::command_and_wait(&fed, &actor, id, cmds, ANSWER_WAIT).await })
            .await
            .map_err(AppError::internal)?
    }
    .await;
    let f = match result {
        Ok(Outcome::Applied) => return Ok(flash::to(&back, Flash::EvaluationSaved)),
        Ok(Outcome::Waiting) => return Ok(flash::to(&back, Flash::FederationQueued)),
        Ok(Outcome::Refused { code, message, fields }) => {
            FormState::refused_as("act", &ctx.t, values, &code, &message, &fields)
        }
        Err(e) => FormState::refused("act", &ctx.t, values, e)?,
    };
    show(&fed, ctx, &actor, id, f).await
}
