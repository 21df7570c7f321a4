//! The draw's pages: the centre's list of tenders awaiting a committee, a draw's page (request,
//! contribution, answers, publication, exclusions), its verification, and the expert's
//! invitations.

use super::{
    Draws,
    algorithm::Group,
    model::DrawState,
    service::{self, AnswerInput, ContributionInput, DrawView, InvitationView, RequestInput, VerifyReport},
};
use crate::{
    accounts::model::Actor,
    error::{AppError, AppResult, FieldError},
    web::{
        extract::Path,
        flash::{self, Flash},
        form::{FormState, Values},
        page::{PageCtx, render, render_form},
        parse_local_time,
    },
};
use askama::Template;
use axum::{
    Router,
    extract::State,
    response::Response,
    routing::{get, post},
};
use uuid::Uuid;

/// Rows of groups the request form offers.
pub const GROUP_ROWS: usize = 4;

/// Page routes.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Draws: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/draws", get(list))
        .route("/tenders/{id}/draw", post(prepare))
        .route("/draws/{id}", get(show))
        .route("/draws/{id}/request", post(request))
        .route("/draws/{id}/contribution", post(contribute))
        .route("/draws/{id}/answers/{pick}", post(answer_on_behalf))
        .route("/draws/{id}/publish", post(publish))
        .route("/draws/{id}/verify", get(verify))
        .route("/expert/invitations", get(invitations))
        .route("/expert/invitations/{pick}", post(answer_own))
}

#[derive(Template)]
#[template(path = "draws/list.html")]
struct ListPage {
    ctx: PageCtx,
    rows: Vec<service::AwaitingDraw>,
    runs: bool,
}

async fn list(State(state): State<Draws>, ctx: PageCtx, actor: Actor) -> AppResult<Response> {
    let rows = service::awaiting(&state, &actor).await?;
    Ok(render(&ListPage { runs: service::runs_draws(&actor), ctx, rows }))
}

async fn prepare(State(state): State<Draws>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Response> {
    let draw = service::prepare(&state, &actor, id).await?;
    Ok(flash::to(&format!("/draws/{draw}"), Flash::DrawPrepared))
}

/// One row of the request form.
pub struct GroupRow {
    /// Its number (1, 2, ...), in field names.
    pub n: usize,
}

#[derive(Template)]
#[template(path = "draws/show.html")]
struct ShowPage {
    ctx: PageCtx,
    d: DrawView,
    f: FormState,
    rows: Vec<GroupRow>,
    specialties: Vec<(String, String)>,
    sites: Vec<(String, String)>,
}

impl ShowPage {
    fn group_label(&self, group: &i32) -> String {
        let Some(r) = &self.d.request else { return String::new() };
        let Some(g) = r.groups.get(*group as usize) else { return String::new() };
        let site = self.sites.iter().find(|(id, _)| *id == g.site.to_string()).map(|s| s.1.clone()).unwrap_or_default();
        format!("{} · {} · {}", g.specialty, crate::experts::specialties::label(&g.specialty, self.en()), site)
    }

    fn is_state(&self, s: &str) -> bool {
        self.d.state.as_str() == s
    }

    fn en(&self) -> bool {
        self.ctx.t.lang == crate::web::i18n::Lang::En
    }

    fn site_name(&self, site: &Uuid) -> String {
        self.sites.iter().find(|(id, _)| *id == site.to_string()).map(|s| s.1.clone()).unwrap_or_default()
    }

    fn specialty_label(&self, code: &str) -> String {
        crate::experts::specialties::label(code, self.en())
    }
}

async fn show_page(state: &Draws, ctx: PageCtx, actor: &Actor, id: Uuid, f: FormState) -> AppResult<Response> {
    let d = service::view(state, actor, id).await?;
    let en = ctx.t.lang == crate::web::i18n::Lang::En;
    let specialties = crate::experts::specialties::all()
        .iter()
        .map(|s| (s.code.to_string(), format!("{} {}", s.code, if en { &s.en } else { &s.zh })))
        .collect();
    let sites = service::site_choices(state).await?;
    let page = ShowPage { ctx, d, f, rows: (1..=GROUP_ROWS).map(|n| GroupRow { n }).collect(), specialties, sites };
    Ok(render_form(&page, &page.f))
}

async fn show(State(state): State<Draws>, ctx: PageCtx, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Response> {
    show_page(&state, ctx, &actor, id, FormState::blank()).await
}

/// A step taken from the draw's page: `done` on success, else the page with the form as sent.
async fn from_show_page(
    state: &Draws,
    ctx: PageCtx,
    actor: &Actor,
    id: Uuid,
    form: &'static str,
    values: Values,
    result: AppResult<Response>,
) -> AppResult<Response> {
    match result {
        Ok(done) => Ok(done),
        Err(e) => {
            let f = FormState::refused(form, &ctx.t, values, e)?;
            show_page(state, ctx, actor, id, f).await
        }
    }
}

/// The request form read into the service's input: the filled group rows, the session in
/// China time.
fn read_request(v: &Values) -> AppResult<RequestInput> {
    let mut fields = Vec::new();
    let mut groups = Vec::new();
    for n in 1..=GROUP_ROWS {
        let (specialty, site, count) =
            (v.get(&format!("specialty_{n}")), v.get(&format!("site_{n}")), v.get(&format!("count_{n}")));
        if specialty.is_empty() && count.trim().is_empty() {
            continue;
        }
        let site = match Uuid::parse_str(site) {
            Ok(s) => s,
            Err(_) => {
                fields.push(FieldError::new(format!("site_{n}"), "required"));
                continue;
            }
        };
        let count = match count.trim().parse::<u32>() {
            Ok(c) => c,
            Err(_) => {
                fields.push(FieldError::new(format!("count_{n}"), "invalid"));
                continue;
            }
        };
        groups.push(Group { specialty: specialty.to_string(), site, count });
    }
    let session_at = parse_local_time(v.get("session_at"));
    if session_at.is_none() {
        fields.push(FieldError::new("session_at", if v.get("session_at").is_empty() { "required" } else { "invalid" }));
    }
    let duration_minutes = v.get("duration_minutes").trim().parse::<u32>();
    if duration_minutes.is_err() {
        fields.push(FieldError::new("duration_minutes", "invalid"));
    }
    let reserve = match v.get("reserve").trim() {
        "" => Ok(0),
        r => r.parse::<u32>(),
    };
    if reserve.is_err() {
        fields.push(FieldError::new("reserve", "invalid"));
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    Ok(RequestInput {
        groups,
        reserve: reserve.unwrap_or(0),
        session_at: session_at.unwrap_or_default(),
        duration_minutes: duration_minutes.unwrap_or(0),
        purchaser_rep: v.has("purchaser_rep", "on"),
    })
}

async fn request(
    State(state): State<Draws>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let result = async {
        let input = read_request(&values)?;
        service::request(&state, &actor, id, input).await?;
        Ok(flash::to(&format!("/draws/{id}"), Flash::DrawRequested))
    }
    .await;
    from_show_page(&state, ctx, &actor, id, "request", values, result).await
}

async fn contribute(
    State(state): State<Draws>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let input = ContributionInput { contribution: values.get("contribution").to_string() };
    let result = service::contribute(&state, &actor, id, input)
        .await
        .map(|()| flash::to(&format!("/draws/{id}"), Flash::DrawRun));
    from_show_page(&state, ctx, &actor, id, "contribution", values, result).await
}

async fn answer_on_behalf(
    State(state): State<Draws>,
    ctx: PageCtx,
    actor: Actor,
    Path((id, pick)): Path<(Uuid, Uuid)>,
    values: Values,
) -> AppResult<Response> {
    let input = AnswerInput {
        accept: values.get("accept") == "yes",
        note: Some(values.get("note").to_string()).filter(|n| !n.trim().is_empty()),
    };
    let result = service::answer(&state, &actor, pick, input)
        .await
        .map(|()| flash::to(&format!("/draws/{id}"), Flash::DrawAnswered));
    let values = values.with("pick", pick.to_string());
    from_show_page(&state, ctx, &actor, id, "answer", values, result).await
}

async fn publish(
    State(state): State<Draws>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let result =
        service::publish(&state, &actor, id).await.map(|()| flash::to(&format!("/draws/{id}"), Flash::DrawPublished));
    from_show_page(&state, ctx, &actor, id, "publish", values, result).await
}

#[derive(Template)]
#[template(path = "draws/verify.html")]
struct VerifyPage {
    ctx: PageCtx,
    d: DrawView,
    report: VerifyReport,
}

async fn verify(State(state): State<Draws>, ctx: PageCtx, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Response> {
    let d = service::view(&state, &actor, id).await?;
    if d.state != DrawState::Published {
        return Err(AppError::conflict("not_published", "the secret is revealed when the result is published"));
    }
    let report = service::verify(&state, &actor, id).await?;
    Ok(render(&VerifyPage { ctx, d, report }))
}

#[derive(Template)]
#[template(path = "draws/invitations.html")]
struct InvitationsPage {
    ctx: PageCtx,
    items: Vec<InvitationView>,
    f: FormState,
}

async fn invitations_page(state: &Draws, ctx: PageCtx, actor: &Actor, f: FormState) -> AppResult<Response> {
    let items = service::my_invitations(state, actor).await?;
    let page = InvitationsPage { ctx, items, f };
    Ok(render_form(&page, &page.f))
}

async fn invitations(State(state): State<Draws>, ctx: PageCtx, actor: Actor) -> AppResult<Response> {
    invitations_page(&state, ctx, &actor, FormState::blank()).await
}

async fn answer_own(
    State(state): State<Draws>,
    ctx: PageCtx,
    actor: Actor,
    Path(pick): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let input = AnswerInput {
        accept: values.get("accept") == "yes",
        note: Some(values.get("note").to_string()).filter(|n| !n.trim().is_empty()),
    };
    match service::answer(&state, &actor, pick, input).await {
        Ok(()) => Ok(flash::to("/expert/invitations", Flash::InvitationAnswered)),
        Err(e) => {
            let f = FormState::refused("answer", &ctx.t, values.with("pick", pick.to_string()), e)?;
            invitations_page(&state, ctx, &actor, f).await
        }
    }
}
