//! Site pages: `/admin/sites` (the list, and the form that creates a site) and
//! `/admin/sites/{id}` (the site, its form, its staff and supervisors).

use super::{
    Sites,
    policy::can_manage,
    service::{self, Member, MemberInput, SiteInput, SiteSummary},
};
use crate::{
    accounts::model::{Actor, Role},
    error::{AppError, AppResult},
    web::{
        extract::Path,
        flash::{self, Flash},
        form::{FormState, Values},
        page::{PageCtx, render_form},
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

pub(super) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Sites: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/admin/sites", get(list_page).post(create))
        .route("/admin/sites/{id}", get(site_page).post(update))
        .route("/admin/sites/{id}/members", post(add_member))
        .route("/admin/sites/{id}/members/{user}/remove", post(remove_member))
}

/// The site form's values read into the service's input (seats as typed: a text that is not a
/// number is `seats` `invalid`).
fn site_input(values: &Values) -> AppResult<SiteInput> {
    let seats = values.get("seats").trim();
    let seats = if seats.is_empty() {
        return Err(AppError::invalid_field("seats", "required"));
    } else {
        seats.parse::<i64>().map_err(|_| AppError::invalid_field("seats", "invalid"))?
    };
    Ok(SiteInput { name: values.get("name").into(), city: values.get("city").into(), seats })
}

#[derive(Template)]
#[template(path = "sites/list.html")]
struct ListPage {
    ctx: PageCtx,
    sites: Vec<SiteSummary>,
    can_manage: bool,
    f: FormState,
}

async fn list_page(State(state): State<Sites>, ctx: PageCtx, actor: Actor) -> AppResult<Response> {
    list_form_page(&state, ctx, &actor, FormState::blank()).await
}

async fn list_form_page(state: &Sites, ctx: PageCtx, actor: &Actor, f: FormState) -> AppResult<Response> {
    let page = ListPage { sites: service::list(&state.db, actor).await?, can_manage: can_manage(actor), f, ctx };
    Ok(render_form(&page, &page.f))
}

async fn create(State(state): State<Sites>, ctx: PageCtx, actor: Actor, values: Values) -> AppResult<Response> {
    let done = match site_input(&values) {
        Ok(input) => service::create(&state, &actor, &input).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(id) => Ok(flash::to(&format!("/admin/sites/{id}"), Flash::SiteSaved)),
        Err(e) => {
            let f = FormState::refused("site", &ctx.t, values, e)?;
            list_form_page(&state, ctx, &actor, f).await
        }
    }
}

#[derive(Template)]
#[template(path = "sites/show.html")]
struct SitePage {
    ctx: PageCtx,
    site: SiteSummary,
    members: Vec<Member>,
    can_manage: bool,
    /// The centre's staff and supervisors, for the member form's choice.
    choices: Vec<(String, String, Role)>,
    /// The form that was sent and refused, if any.
    f: FormState,
    /// The site's form: as sent, or filled with the site.
    site_f: FormState,
}

async fn site_page(
    State(state): State<Sites>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    site_form_page(&state, ctx, &actor, id, FormState::blank()).await
}

async fn site_form_page(state: &Sites, ctx: PageCtx, actor: &Actor, id: Uuid, f: FormState) -> AppResult<Response> {
    let v = service::view(&state.db, actor, id).await?;
    let manage = can_manage(actor);
    let defaults = Values::from_pairs([
        ("name", v.site.name.clone()),
        ("city", v.site.city.clone()),
        ("seats", v.site.seats.to_string()),
    ]);
    let page = SitePage {
        site_f: f.or_filled("site", defaults),
        f,
        choices: if manage { service::member_choices(&state.db).await? } else { Vec::new() },
        site: v.site,
        members: v.member_list,
        can_manage: manage,
        ctx,
    };
    Ok(render_form(&page, &page.f))
}

async fn update(
    State(state): State<Sites>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let done = match site_input(&values) {
        Ok(input) => service::update(&state, &actor, id, &input).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => Ok(flash::to(&format!("/admin/sites/{id}"), Flash::SiteSaved)),
        Err(e) => {
            let f = FormState::refused("site", &ctx.t, values, e)?;
            site_form_page(&state, ctx, &actor, id, f).await
        }
    }
}

async fn add_member(
    State(state): State<Sites>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let input = MemberInput { username: values.get("username").into() };
    match service::add_member(&state, &actor, id, &input).await {
        Ok(()) => Ok(flash::to(&format!("/admin/sites/{id}#members"), Flash::SiteMemberAdded)),
        Err(e) => {
            let f = FormState::refused("member", &ctx.t, values, e)?;
            site_form_page(&state, ctx, &actor, id, f).await
        }
    }
}

async fn remove_member(
    State(state): State<Sites>,
    actor: Actor,
    Path((id, user)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    service::remove_member(&state, &actor, id, user).await?;
    Ok(flash::to(&format!("/admin/sites/{id}#members"), Flash::SiteMemberRemoved))
}
