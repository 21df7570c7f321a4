//! Expert pool pages: the list with its search (`/experts`), a new expert (`/experts/new`), an
//! expert's record with its forms (`/experts/{id}`), the CSV import (`/experts/import`), and the
//! expert's own record (`/expert`, 我的专家信息).

use super::{
    Experts,
    import::{self, ImportError, RowProblem},
    policy::{can_manage, require_manage},
    service::{
        self, AccountInput, ConflictInput, DaysInput, EmploymentInput, ExpertFilter, ExpertInput, ExpertPage,
        ExpertUpdate, ExpertView, SuspendInput,
    },
    specialties,
};
use crate::{
    accounts::model::Actor,
    entities::site,
    error::{AppError, AppResult, FieldError},
    web::{
        extract::{Multipart, Path, Query},
        flash::{self, Flash},
        form::{FormState, Values},
        page::{PageCtx, percent_encode, render, render_form},
    },
};
use askama::Template;
use axum::{
    Router,
    extract::{DefaultBodyLimit, State},
    response::Response,
    routing::{get, post},
};
use chrono::NaiveDate;
use uuid::Uuid;

pub(super) fn routes<S>(upload_limit: usize) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Experts: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/experts", get(list_page).post(create))
        .route("/experts/new", get(new_page))
        .route("/experts/import", get(import_page).post(import_submit).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/experts/{id}", get(expert_page).post(update))
        .route("/experts/{id}/suspend", post(suspend))
        .route("/experts/{id}/reactivate", post(reactivate))
        .route("/experts/{id}/employments", post(add_employment))
        .route("/experts/{id}/employments/{employment}/remove", post(remove_employment))
        .route("/experts/{id}/conflicts", post(add_conflict))
        .route("/experts/{id}/conflicts/{conflict}/remove", post(remove_conflict))
        .route("/experts/{id}/unavailable", post(add_unavailable))
        .route("/experts/{id}/unavailable/{day}/remove", post(remove_unavailable))
        .route("/experts/{id}/account", post(create_account))
        .route("/expert", get(own_page))
}

/// Reads the `file` field of a multipart upload, refusing more than `max` bytes
/// (`import_too_large`) without reading further.
pub(super) async fn read_upload(Multipart(mut multipart): Multipart, max: usize) -> AppResult<(String, Vec<u8>)> {
    let refused = |e: axum::extract::multipart::MultipartError| {
        if e.status().as_u16() == 413 {
            AppError::too_large("import_too_large", "the file is too large").with_arg("max", max)
        } else {
            AppError::bad_request("multipart_invalid", e.body_text())
        }
    };
    loop {
        let Some(mut field) = multipart.next_field().await.map_err(refused)? else {
            return Err(AppError::invalid_field("file", "required"));
        };
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("experts.csv").to_string();
        let mut data = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(refused)? {
            if data.len() + chunk.len() > max {
                return Err(AppError::too_large("import_too_large", format!("the file is larger than {max} bytes"))
                    .with_arg("max", max));
            }
            data.extend_from_slice(&chunk);
        }
        return Ok((name, data));
    }
}

/// A choice of a select: value, label, and whether it is indented (a specialty's level).
pub struct Choice {
    value: String,
    label: String,
}

fn specialty_choices(ctx: &PageCtx) -> Vec<Choice> {
    specialties::all()
        .iter()
        .map(|s| {
            let depth = (s.code.len() - 1) / 2;
            Choice {
                value: s.code.clone(),
                label: format!("{}{} {}", "　".repeat(depth), s.code, if ctx.t.is_en() { &s.en } else { &s.zh }),
            }
        })
        .collect()
}

async fn site_choices(state: &Experts) -> AppResult<Vec<Choice>> {
    Ok(crate::sites::service::all(&state.db)
        .await?
        .into_iter()
        .map(|s: site::Model| Choice { value: s.public_id.to_string(), label: format!("{}（{}）", s.name, s.city) })
        .collect())
}

fn labels(ctx: &PageCtx, codes: &[String]) -> String {
    codes.iter().map(|c| specialties::label(c, ctx.t.is_en())).collect::<Vec<_>>().join("、")
}

// ---------------------------------------------------------------------------------------------
// The list

/// A row of the list.
pub struct Row {
    e: service::ExpertSummary,
    specialties: String,
}

#[derive(Template)]
#[template(path = "experts/list.html")]
struct ListPage {
    ctx: PageCtx,
    list: ExpertPage,
    rows: Vec<Row>,
    q: String,
    specialty: String,
    site: String,
    status: String,
    specialty_choices: Vec<Choice>,
    sites: Vec<Choice>,
    statuses: Vec<&'static str>,
    prev: Option<String>,
    next: Option<String>,
    can_manage: bool,
}

fn list_link(f: &ExpertFilter, page: u64) -> String {
    let mut parts = Vec::new();
    for (k, v) in [("q", &f.q), ("specialty", &f.specialty), ("site", &f.site), ("status", &f.status)] {
        if let Some(v) = v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            parts.push(format!("{k}={}", percent_encode(v)));
        }
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() { "/experts".into() } else { format!("/experts?{}", parts.join("&")) }
}

async fn list_page(
    State(state): State<Experts>,
    ctx: PageCtx,
    actor: Actor,
    Query(f): Query<ExpertFilter>,
) -> AppResult<Response> {
    let list = service::list(&state.db, &actor, &f).await?;
    let text = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_string();
    let page = ListPage {
        rows: list.items.iter().map(|e| Row { specialties: labels(&ctx, &e.specialties), e: e.clone() }).collect(),
        prev: (list.page > 1).then(|| list_link(&f, list.page - 1)),
        next: (list.page < list.pages).then(|| list_link(&f, list.page + 1)),
        q: text(&f.q),
        specialty: text(&f.specialty),
        site: text(&f.site),
        status: text(&f.status),
        specialty_choices: specialty_choices(&ctx),
        sites: site_choices(&state).await?,
        statuses: super::model::ExpertStatus::ALL.iter().map(|s| s.as_str()).collect(),
        can_manage: can_manage(&actor),
        list,
        ctx,
    };
    Ok(render(&page))
}

// ---------------------------------------------------------------------------------------------
// A new expert

#[derive(Template)]
#[template(path = "experts/new.html")]
struct NewPage {
    ctx: PageCtx,
    specialty_choices: Vec<Choice>,
    sites: Vec<Choice>,
    f: FormState,
}

async fn new_page(State(state): State<Experts>, ctx: PageCtx, actor: Actor) -> AppResult<Response> {
    require_manage(&actor)?;
    new_form_page(&state, ctx, FormState::blank()).await
}

async fn new_form_page(state: &Experts, ctx: PageCtx, f: FormState) -> AppResult<Response> {
    let page = NewPage { specialty_choices: specialty_choices(&ctx), sites: site_choices(state).await?, f, ctx };
    Ok(render_form(&page, &page.f))
}

/// A site field's value as a public id; a value that is none is `site` `site_unknown`.
fn site_field(values: &Values) -> AppResult<Uuid> {
    Uuid::parse_str(values.get("site").trim()).map_err(|_| {
        let code = if values.get("site").trim().is_empty() { "required" } else { "site_unknown" };
        AppError::invalid_field("site", code)
    })
}

/// Field errors of the page's current-employer fields under the names the form gives them.
fn renamed(mut e: AppError, names: &[(&str, &'static str)]) -> AppError {
    for f in &mut e.fields {
        if let Some((_, to)) = names.iter().find(|(from, _)| f.field == *from) {
            *f = FieldError { field: (*to).into(), ..f.clone() };
        }
    }
    e
}

async fn create(State(state): State<Experts>, ctx: PageCtx, actor: Actor, values: Values) -> AppResult<Response> {
    let done = async {
        require_manage(&actor)?;
        let site = site_field(&values)?;
        let employer = values.get("employer").trim();
        let employments = if employer.is_empty() {
            Vec::new()
        } else {
            vec![EmploymentInput {
                employer: employer.into(),
                credit_code: Some(values.get("employer_credit_code").into()),
                from: values.get("employer_since").into(),
                until: None,
            }]
        };
        let input = ExpertInput {
            name: values.get("name").into(),
            id_number: values.get("id_number").into(),
            phone: values.get("phone").into(),
            title: values.get("title").into(),
            site,
            specialties: values.all("specialties").map(str::to_string).collect(),
            employments,
            unavailable: Vec::new(),
            conflicts: Vec::new(),
        };
        service::create(&state, &actor, &input).await.map_err(|e| {
            renamed(
                e,
                &[
                    ("employments[0].employer", "employer"),
                    ("employments[0].credit_code", "employer_credit_code"),
                    ("employments[0].from", "employer_since"),
                ],
            )
        })
    }
    .await;
    match done {
        Ok(id) => Ok(flash::to(&format!("/experts/{id}"), Flash::ExpertCreated)),
        Err(e) => {
            let f = FormState::refused("expert", &ctx.t, values, e)?;
            new_form_page(&state, ctx, f).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// An expert's record

#[derive(Template)]
#[template(path = "experts/show.html")]
struct RecordPage {
    ctx: PageCtx,
    e: ExpertView,
    specialties: String,
    can_manage: bool,
    specialty_choices: Vec<Choice>,
    sites: Vec<Choice>,
    /// The form that was sent and refused, if any.
    f: FormState,
    /// The record's form: as sent, or filled with the record.
    edit: FormState,
}

impl RecordPage {
    fn is_suspended(&self) -> bool {
        self.e.summary.status == super::model::ExpertStatus::Suspended
    }
}

async fn expert_page(
    State(state): State<Experts>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    expert_form_page(&state, ctx, &actor, id, FormState::blank()).await
}

async fn expert_form_page(state: &Experts, ctx: PageCtx, actor: &Actor, id: Uuid, f: FormState) -> AppResult<Response> {
    let e = service::view(&state.db, actor, id).await?;
    let mut defaults = vec![
        ("name".to_string(), e.summary.name.clone()),
        ("phone".to_string(), e.summary.phone.clone()),
        ("title".to_string(), e.summary.title.clone()),
        ("site".to_string(), e.summary.site.id.to_string()),
    ];
    defaults.extend(e.summary.specialties.iter().map(|c| ("specialties".to_string(), c.clone())));
    let page = RecordPage {
        edit: f.or_filled("edit", Values::from_pairs(defaults)),
        specialties: labels(&ctx, &e.summary.specialties),
        can_manage: can_manage(actor),
        specialty_choices: specialty_choices(&ctx),
        sites: site_choices(state).await?,
        e,
        f,
        ctx,
    };
    Ok(render_form(&page, &page.f))
}

/// Which form of an expert's page was sent, and where its success leads.
struct Reply {
    /// The form's name.
    form: &'static str,
    /// The message after it.
    flash: Flash,
    /// The part of the page to return to (`#employments`, or empty).
    anchor: &'static str,
}

/// The replies of the expert page's forms.
const EDIT_REPLY: Reply = Reply { form: "edit", flash: Flash::ExpertSaved, anchor: "" };
const SUSPEND_REPLY: Reply = Reply { form: "suspend", flash: Flash::ExpertSuspended, anchor: "" };
const EMPLOYMENT_REPLY: Reply = Reply { form: "employment", flash: Flash::EmploymentSaved, anchor: "#employments" };
const CONFLICT_REPLY: Reply = Reply { form: "conflict", flash: Flash::ConflictSaved, anchor: "#conflicts" };
const UNAVAILABLE_REPLY: Reply = Reply { form: "unavailable", flash: Flash::UnavailableSaved, anchor: "#unavailable" };
const ACCOUNT_REPLY: Reply = Reply { form: "account", flash: Flash::ExpertAccountCreated, anchor: "#account" };

/// The answer to a form of an expert's page: the redirect with the reply's message, or the page
/// again with the form as it was sent.
async fn answered(
    state: &Experts,
    ctx: PageCtx,
    actor: &Actor,
    id: Uuid,
    values: Values,
    done: AppResult<()>,
    reply: Reply,
) -> AppResult<Response> {
    let Reply { form, flash, anchor } = reply;
    match done {
        Ok(()) => Ok(flash::to(&format!("/experts/{id}{anchor}"), flash)),
        Err(e) => {
            let f = FormState::refused(form, &ctx.t, values, e)?;
            expert_form_page(state, ctx, actor, id, f).await
        }
    }
}

async fn update(
    State(state): State<Experts>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let done = async {
        let site = site_field(&values)?;
        let input = ExpertUpdate {
            name: values.get("name").into(),
            id_number: Some(values.get("id_number").into()),
            phone: values.get("phone").into(),
            title: values.get("title").into(),
            site,
            specialties: values.all("specialties").map(str::to_string).collect(),
        };
        service::update(&state, &actor, id, &input).await
    }
    .await;
    answered(&state, ctx, &actor, id, values, done, EDIT_REPLY).await
}

async fn suspend(
    State(state): State<Experts>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let done = service::suspend(&state, &actor, id, &SuspendInput { reason: values.get("reason").into() }).await;
    answered(&state, ctx, &actor, id, values, done, SUSPEND_REPLY).await
}

async fn reactivate(State(state): State<Experts>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Response> {
    service::reactivate(&state, &actor, id).await?;
    Ok(flash::to(&format!("/experts/{id}"), Flash::ExpertReactivated))
}

async fn add_employment(
    State(state): State<Experts>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let input = EmploymentInput {
        employer: values.get("employer").into(),
        credit_code: Some(values.get("credit_code").into()),
        from: values.get("from").into(),
        until: Some(values.get("until").into()),
    };
    let done = service::add_employment(&state, &actor, id, &input).await.map(|_| ());
    answered(&state, ctx, &actor, id, values, done, EMPLOYMENT_REPLY).await
}

async fn remove_employment(
    State(state): State<Experts>,
    actor: Actor,
    Path((id, employment)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    service::remove_employment(&state, &actor, id, employment).await?;
    Ok(flash::to(&format!("/experts/{id}#employments"), Flash::EmploymentSaved))
}

async fn add_conflict(
    State(state): State<Experts>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let input =
        ConflictInput { credit_code: values.get("credit_code").into(), org_name: values.get("org_name").into() };
    let done = service::add_conflict(&state, &actor, id, &input).await.map(|_| ());
    answered(&state, ctx, &actor, id, values, done, CONFLICT_REPLY).await
}

async fn remove_conflict(
    State(state): State<Experts>,
    actor: Actor,
    Path((id, conflict)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    service::remove_conflict(&state, &actor, id, conflict).await?;
    Ok(flash::to(&format!("/experts/{id}#conflicts"), Flash::ConflictSaved))
}

/// The days from `from` to `until` (inclusive; `until` empty: `from` alone), as the service
/// takes them; `from`/`until` `required`/`date_invalid`/`before_start`/`too_many`.
fn day_range(values: &Values) -> AppResult<Vec<String>> {
    let from = values.get("from").trim();
    let until = values.get("until").trim();
    let day = |name: &'static str, v: &str| -> AppResult<NaiveDate> {
        if v.is_empty() {
            return Err(AppError::invalid_field(name, "required"));
        }
        super::model::parse_day(v).ok_or_else(|| AppError::invalid_field(name, "date_invalid"))
    };
    let start = day("from", from)?;
    let end = if until.is_empty() { start } else { day("until", until)? };
    if end < start {
        return Err(AppError::invalid_field("until", "before_start"));
    }
    if (end - start).num_days() >= service::MAX_DAYS_AT_ONCE as i64 {
        return Err(AppError::validation(vec![
            FieldError::new("until", "too_many").with_arg("max", service::MAX_DAYS_AT_ONCE),
        ]));
    }
    Ok(start.iter_days().take_while(|d| *d <= end).map(|d| d.to_string()).collect())
}

async fn add_unavailable(
    State(state): State<Experts>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let done = async {
        let days = day_range(&values)?;
        service::add_unavailable(&state, &actor, id, &DaysInput { days }).await.map(|_| ())
    }
    .await;
    answered(&state, ctx, &actor, id, values, done, UNAVAILABLE_REPLY).await
}

async fn remove_unavailable(
    State(state): State<Experts>,
    actor: Actor,
    Path((id, day)): Path<(Uuid, String)>,
) -> AppResult<Response> {
    service::remove_unavailable(&state, &actor, id, &day).await?;
    Ok(flash::to(&format!("/experts/{id}#unavailable"), Flash::UnavailableSaved))
}

async fn create_account(
    State(state): State<Experts>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let input = AccountInput { username: values.get("username").into(), password: values.get("password").into() };
    let done = service::create_account(&state, &actor, id, &input).await.map(|_| ());
    answered(&state, ctx, &actor, id, values, done, ACCOUNT_REPLY).await
}

// ---------------------------------------------------------------------------------------------
// The import

#[derive(Template)]
#[template(path = "experts/import.html")]
struct ImportPage {
    ctx: PageCtx,
    /// The refusal of the file as a whole, if it was refused so.
    f: FormState,
    /// The bad rows of a refused file.
    problems: Vec<RowProblem>,
    max_bytes: usize,
    max_rows: usize,
}

impl ImportPage {
    fn reason(&self, p: &RowProblem) -> String {
        self.ctx.t.of("importerr", &p.code)
    }

    fn column(&self, p: &RowProblem) -> String {
        if p.column.is_empty() { "—".into() } else { p.column.clone() }
    }
}

async fn import_page(State(state): State<Experts>, ctx: PageCtx, actor: Actor) -> AppResult<Response> {
    require_manage(&actor)?;
    import_form_page(&state, ctx, FormState::blank(), Vec::new())
}

fn import_form_page(state: &Experts, ctx: PageCtx, f: FormState, problems: Vec<RowProblem>) -> AppResult<Response> {
    let failed = !problems.is_empty();
    let page = ImportPage {
        ctx,
        f,
        problems,
        max_bytes: state.settings.import_max_bytes,
        max_rows: state.settings.import_max_rows,
    };
    let mut resp = render_form(&page, &page.f);
    if failed {
        *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

async fn import_submit(
    State(state): State<Experts>,
    ctx: PageCtx,
    actor: Actor,
    multipart: Multipart,
) -> AppResult<Response> {
    require_manage(&actor)?;
    let done = match read_upload(multipart, state.settings.import_max_bytes).await {
        Ok((name, data)) => import::import_csv(&state, &actor, &name, &data).await,
        Err(e) => Err(ImportError::Refused(e)),
    };
    match done {
        Ok(_) => Ok(flash::to("/experts", Flash::ExpertsImported)),
        Err(ImportError::Rows(rows)) => import_form_page(&state, ctx, FormState::blank(), rows),
        Err(ImportError::Refused(e)) => {
            let f = FormState::refused("import", &ctx.t, Values::default(), e)?;
            import_form_page(&state, ctx, f, Vec::new())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The expert's own record

#[derive(Template)]
#[template(path = "experts/own.html")]
struct OwnPage {
    ctx: PageCtx,
    e: Option<ExpertView>,
    specialties: String,
    fees: Vec<crate::fees::FeeView>,
}

async fn own_page(State(state): State<Experts>, ctx: PageCtx, actor: Actor) -> AppResult<Response> {
    if actor.role != crate::accounts::model::Role::Expert {
        return Err(AppError::not_found());
    }
    let e = match service::own(&state.db, &actor).await {
        Ok(e) => Some(e),
        Err(e) if e.status == axum::http::StatusCode::NOT_FOUND => None,
        Err(e) => return Err(e),
    };
    let specialties = e.as_ref().map(|e| labels(&ctx, &e.summary.specialties)).unwrap_or_default();
    let fees = crate::fees::own(&state.db, &actor).await?;
    Ok(render(&OwnPage { ctx, e, specialties, fees }))
}
