//! Tender pages.

use super::{
    criteria::{self, Criteria},
    forms::{self, LOT_ROWS},
    model::{
        BidFormField, ClarificationKind, EvaluationMethod, ProcurementMethod, TenderDetail, TenderState, TenderSummary,
    },
    service::{self, ClarificationInput, SearchPage, SearchQuery},
};
use crate::{
    accounts::model::{Actor, Role},
    error::{AppError, AppResult},
    tenders::Tenders,
    web::{
        auth::{MaybeActor, Require, Suppliers, TenderManagers},
        extract::{Multipart, Path, Query},
        flash::{self, Flash},
        form::{FormState, Values},
        local_input,
        page::{PageCtx, public, render, render_form, render_public},
        parse_local_time,
    },
};
use askama::Template;
use axum::{
    Router,
    extract::{DefaultBodyLimit, State},
    http::header,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use bytes::Bytes;
use serde::Deserialize;
use uuid::Uuid;

/// Page routes of this module.
pub fn router<S>(upload_limit: usize) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    super::Tenders: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/", get(home))
        .route("/tenders", get(search).post(create))
        .route("/workspace", get(workspace))
        .route("/tenders/new", get(new_form))
        .route("/tenders/{id}", get(show))
        .route("/tenders/{id}/edit", get(edit_form).post(edit))
        .route("/tenders/{id}/documents", post(upload).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/tenders/{id}/documents/{doc}", get(download))
        .route("/tenders/{id}/documents/{doc}/delete", post(remove_document))
        .route("/tenders/{id}/publish", post(publish))
        .route("/tenders/{id}/invitations", post(invite))
        .route("/tenders/{id}/cancel", post(cancel))
        .route("/tenders/{id}/obtain", post(obtain))
        .route("/tenders/{id}/questions", post(ask))
        .route("/tenders/{id}/clarifications", post(clarify))
        .route("/tenders/{id}/criteria", get(criteria_page).post(save_criteria))
}

/// Blank rows the criteria form offers below the items it has.
const CRITERIA_BLANK_ROWS: usize = 3;

#[derive(Template)]
#[template(path = "tenders/criteria.html")]
struct CriteriaPage {
    ctx: PageCtx,
    d: TenderDetail,
    c: Criteria,
    editable: bool,
    f: FormState,
    categories: Vec<&'static str>,
    /// The review lists' row prefixes, names and row numbers in the form.
    review_rows: Vec<(&'static str, &'static str, Vec<usize>)>,
    /// The review lists' names and items, for reading.
    review_items: Vec<(&'static str, Vec<criteria::ReviewItem>)>,
    /// Row numbers of the scoring items in the form.
    s_rows: Vec<usize>,
}

impl CriteriaPage {
    fn v(&self, name: &str, row: &usize) -> &str {
        self.f.value(&format!("{name}_{row}"))
    }

    fn rv(&self, prefix: &str, name: &str, row: &usize) -> &str {
        self.f.value(&format!("{prefix}_{name}_{row}"))
    }

    fn list_title(&self, list: &str) -> String {
        self.ctx.t.get(&format!("criteria.{list}")).to_string()
    }

    fn checked(&self, name: &str, row: &usize) -> bool {
        self.f.values().sent(&format!("{name}_{row}"))
    }

    fn pts(&self, v: &i64) -> String {
        criteria::show_points(*v)
    }

    fn total(&self) -> String {
        criteria::show_points(self.c.price_weight + self.c.scoring.iter().map(|i| i.max).sum::<i64>())
    }
}

/// The criteria as the form's values.
fn criteria_values(c: &Criteria) -> Values {
    let mut pairs: Vec<(String, String)> = vec![
        ("category".into(), c.category.as_str().into()),
        ("price_weight".into(), criteria::show_points(c.price_weight)),
        ("sme_deduction_percent".into(), c.sme_deduction_percent.to_string()),
    ];
    if c.sme_reserved {
        pairs.push(("sme_reserved".into(), "on".into()));
    }
    if c.technical_anonymous {
        pairs.push(("technical_anonymous".into(), "on".into()));
    }
    for (prefix, items) in [("q", &c.qualification), ("c", &c.compliance)] {
        for (i, item) in items.iter().enumerate() {
            pairs.push((format!("{prefix}_key_{}", i + 1), item.key.clone()));
            pairs.push((format!("{prefix}_label_{}", i + 1), item.label.clone()));
        }
    }
    for (i, item) in c.scoring.iter().enumerate() {
        let n = i + 1;
        pairs.push((format!("s_key_{n}"), item.key.clone()));
        pairs.push((format!("s_label_{n}"), item.label.clone()));
        pairs.push((format!("s_max_{n}"), criteria::show_points(item.max)));
        pairs.push((format!("s_step_{n}"), criteria::show_points(item.step)));
        if item.objective {
            pairs.push((format!("s_objective_{n}"), "on".into()));
        }
        if item.technical {
            pairs.push((format!("s_technical_{n}"), "on".into()));
        }
    }
    Values::from_pairs(pairs)
}

/// Rows 1..=n of a list with `items` filled rows in the form, plus blank ones.
fn form_rows(f: &FormState, prefix: &str, items: usize) -> Vec<usize> {
    let sent = (1..=criteria::MAX_SCORING_ITEMS + 10)
        .filter(|n| f.values().sent(&format!("{prefix}_label_{n}")))
        .max()
        .unwrap_or(0);
    (1..=sent.max(items) + CRITERIA_BLANK_ROWS).collect()
}

async fn criteria_render(
    state: &Tenders,
    ctx: PageCtx,
    actor: Option<&Actor>,
    id: Uuid,
    f: Option<FormState>,
) -> AppResult<Response> {
    let d = service::detail(state, actor, id).await?;
    let c = service::criteria(state, actor, id).await?;
    let editable = d.permissions.edit;
    let f = f.unwrap_or_else(|| FormState::filled("criteria", criteria_values(&c)));
    let page = CriteriaPage {
        review_rows: vec![
            ("q", "qualification", form_rows(&f, "q", c.qualification.len())),
            ("c", "compliance", form_rows(&f, "c", c.compliance.len())),
        ],
        review_items: vec![("qualification", c.qualification.clone()), ("compliance", c.compliance.clone())],
        s_rows: form_rows(&f, "s", c.scoring.len()),
        categories: criteria::ProcurementCategory::ALL.iter().map(|c| c.as_str()).collect(),
        ctx,
        d,
        c,
        editable,
        f,
    };
    Ok(render_form(&page, &page.f))
}

async fn criteria_page(
    State(state): State<Tenders>,
    ctx: PageCtx,
    MaybeActor(actor): MaybeActor,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    criteria_render(&state, ctx, actor.as_ref(), id, None).await
}

async fn save_criteria(
    State(state): State<Tenders>,
    ctx: PageCtx,
    actor: Require<TenderManagers>,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let saved = match criteria::parse_form(values.to_pairs()) {
        Ok(c) => service::set_criteria(&state, &actor, id, c).await,
        Err(fields) => Err(AppError::validation(fields)),
    };
    match saved {
        Ok(()) => Ok(flash::to(&format!("/tenders/{id}"), Flash::CriteriaSaved)),
        Err(e) => {
            if !service::detail(&state, Some(&actor), id).await?.permissions.edit {
                return Err(e);
            }
            let f =
                FormState::refused("criteria", &ctx.t, values, e)?.placing(&["qualification", "compliance", "scoring"]);
            criteria_render(&state, ctx, Some(&actor), id, Some(f)).await
        }
    }
}

/// Options for select boxes.
pub struct Choices {
    methods: Vec<&'static str>,
    evaluations: Vec<&'static str>,
    states: Vec<&'static str>,
}

fn choices() -> Choices {
    Choices {
        methods: ProcurementMethod::ALL.iter().map(|m| m.as_str()).collect(),
        evaluations: EvaluationMethod::ALL.iter().map(|m| m.as_str()).collect(),
        states: TenderState::ALL.iter().filter(|s| s.is_public()).map(|s| s.as_str()).collect(),
    }
}

#[derive(Template)]
#[template(path = "tenders/home.html")]
struct HomePage {
    ctx: PageCtx,
    latest: SearchPage,
}

async fn home(State(state): State<Tenders>, ctx: PageCtx) -> AppResult<Response> {
    let latest =
        service::search_public(&state.db, &SearchQuery { state: Some("published".into()), ..Default::default() })
            .await?;
    Ok(render_public(&HomePage { ctx, latest }))
}

#[derive(Template)]
#[template(path = "tenders/search.html")]
struct SearchPageT {
    ctx: PageCtx,
    q: SearchQuery,
    result: SearchPage,
    choices: Choices,
}

impl SearchPageT {
    fn qv<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }

    fn page_link(&self, page: u64) -> String {
        let mut parts = vec![format!("page={page}")];
        for (k, v) in [
            ("q", &self.q.q),
            ("method", &self.q.method),
            ("state", &self.q.state),
            ("deadline_from", &self.q.deadline_from),
            ("deadline_to", &self.q.deadline_to),
        ] {
            if let Some(v) = v.as_deref().filter(|s| !s.is_empty()) {
                parts.push(format!("{k}={}", crate::web::page::percent_encode(v)));
            }
        }
        format!("/tenders?{}", parts.join("&"))
    }
}

async fn search(State(state): State<Tenders>, ctx: PageCtx, Query(q): Query<SearchQuery>) -> AppResult<Response> {
    let result = service::search_public(&state.db, &q).await?;
    Ok(render_public(&SearchPageT { ctx, q, result, choices: choices() }))
}

#[derive(Template)]
#[template(path = "tenders/workspace.html")]
struct WorkspacePage {
    ctx: PageCtx,
    items: Vec<TenderSummary>,
}

async fn workspace(State(state): State<Tenders>, ctx: PageCtx, actor: Actor) -> AppResult<Response> {
    let items = service::workspace(&state.db, &actor).await?;
    Ok(render(&WorkspacePage { ctx, items }))
}

/// The tender form's errors shown by its lot rows and bid form items rather than by a field of
/// their name.
const LOT_FIELDS: [&str; 4] = ["lots", "lot_name", "budget", "ceiling"];

#[derive(Template)]
#[template(path = "tenders/form.html")]
struct TenderFormPage {
    ctx: PageCtx,
    action: String,
    f: FormState,
    units: Vec<(Uuid, String)>,
    choices: Choices,
    standard_items: Vec<BidFormField>,
    is_agency: bool,
    /// The largest deposit, in per cent of the budget, stated under the field.
    deposit_hint: String,
    /// The least number of days from publication to the deadline, stated under the field.
    deadline_hint: String,
}

impl TenderFormPage {
    fn unit_chosen(&self, id: &Uuid) -> bool {
        self.f.value("procuring_org") == id.to_string()
    }

    /// The lot rows: as many as the page offers, or as the tender has.
    fn lot_rows(&self) -> Vec<usize> {
        let filled = (1..).take_while(|i| self.f.values().sent(&format!("lot_name_{i}"))).count();
        (1..=LOT_ROWS.max(filled)).collect()
    }

    fn lot_value(&self, what: &str, row: &usize) -> &str {
        self.f.value(&format!("lot_{what}_{row}"))
    }

    fn deposit_attrs(&self) -> String {
        format!("inputmode='decimal' placeholder='{}'", self.ctx.t.get("form.optional"))
    }

    fn custom_attrs(&self) -> String {
        format!("maxlength='60' placeholder='{}'", self.ctx.t.get("form.optional"))
    }
}

/// The tender form with the values of `f`.
async fn tender_form(
    state: &Tenders,
    ctx: PageCtx,
    actor: &Actor,
    action: String,
    f: FormState,
) -> AppResult<Response> {
    // An agency may hand the draft to another procuring unit; a unit's own staff may not.
    let is_agency = actor.role == Role::AgencyStaff;
    let units = if is_agency { service::procuring_units(&state.db).await? } else { Vec::new() };
    let rules = &state.rules;
    let page = TenderFormPage {
        deposit_hint: ctx
            .t
            .filled("form.deposit_hint", &[("percent", rules.deposit_max_percent.to_string())])
            .unwrap_or_default(),
        deadline_hint: ctx
            .t
            .filled("form.deadline_hint", &[("days", rules.min_bidding_days.to_string())])
            .unwrap_or_default(),
        ctx,
        action,
        f,
        units,
        choices: choices(),
        standard_items: BidFormField::standard().into_iter().skip(1).collect(),
        is_agency,
    };
    Ok(render_form(&page, &page.f))
}

async fn new_form(State(state): State<Tenders>, ctx: PageCtx, actor: Require<TenderManagers>) -> AppResult<Response> {
    let deadline = state.clock.now() + chrono::TimeDelta::days(state.rules.min_bidding_days + 1);
    let deadline = local_input(&deadline).split('T').next().map(|d| format!("{d}T09:30")).unwrap_or_default();
    let v = Values::from_pairs([
        ("procurement_method", "open_tender".to_string()),
        ("evaluation_method", "comprehensive_scoring".into()),
        ("bid_deadline", deadline),
        ("min_valid_bids", state.rules.min_valid_bids.to_string()),
        ("bid_item", "delivery_days".into()),
    ]);
    tender_form(&state, ctx, &actor, "/tenders".into(), FormState::filled("tender", v)).await
}

async fn create(
    State(state): State<Tenders>,
    ctx: PageCtx,
    actor: Require<TenderManagers>,
    values: Values,
) -> AppResult<Response> {
    let saved = match forms::parse(values.to_pairs()) {
        Ok(input) => service::create_draft(&state, &actor, input).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(id) => Ok(flash::to(&format!("/tenders/{id}"), Flash::TenderSaved)),
        Err(e) => {
            let f = FormState::refused("tender", &ctx.t, values, e)?.placing(&LOT_FIELDS).placing(&["bid_form"]);
            tender_form(&state, ctx, &actor, "/tenders".into(), f).await
        }
    }
}

async fn edit_form(
    State(state): State<Tenders>,
    ctx: PageCtx,
    actor: Require<TenderManagers>,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let d = service::detail(&state, Some(&actor), id).await?;
    if !d.permissions.edit {
        return Err(AppError::forbidden());
    }
    let mut v = vec![
        ("title", d.summary.title.clone()),
        ("description", d.description.clone()),
        ("procurement_method", d.summary.procurement_method.as_str().into()),
        ("evaluation_method", d.summary.evaluation_method.as_str().into()),
        ("bid_deadline", local_input(&d.summary.bid_deadline)),
        ("question_cutoff", local_input(&d.question_cutoff)),
        ("min_valid_bids", d.min_valid_bids.to_string()),
        ("procuring_org", d.summary.procuring_org_id.to_string()),
        ("qualification", d.qualification.clone()),
        ("contact_person", d.contact_person.clone()),
        ("region", d.region.clone()),
        ("contact_phone", d.contact_phone.clone()),
        ("documents_from", d.documents_from.as_ref().map(local_input).unwrap_or_default()),
        ("documents_until", d.documents_until.as_ref().map(local_input).unwrap_or_default()),
        ("deposit", d.deposit.map(plain_yuan).unwrap_or_default()),
    ];
    for f in &d.bid_form {
        if f.key == "custom_1" {
            v.push(("custom_item", f.label_zh.clone()));
        } else {
            v.push(("bid_item", f.key.clone()));
        }
    }
    let mut pairs: Vec<(String, String)> = v.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    for (i, l) in d.lots.iter().enumerate() {
        let row = i + 1;
        pairs.push((format!("lot_name_{row}"), l.name.clone()));
        pairs.push((format!("lot_budget_{row}"), plain_yuan(l.budget)));
        pairs.push((format!("lot_ceiling_{row}"), l.ceiling.map(plain_yuan).unwrap_or_default()));
    }
    let f = FormState::filled("tender", Values::from_pairs(pairs));
    tender_form(&state, ctx, &actor, format!("/tenders/{id}/edit"), f).await
}

fn plain_yuan(m: crate::money::Money) -> String {
    format!("{}.{:02}", m.fen() / 100, m.fen() % 100)
}

async fn edit(
    State(state): State<Tenders>,
    ctx: PageCtx,
    actor: Require<TenderManagers>,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let saved = match forms::parse(values.to_pairs()) {
        Ok(input) => service::update_draft(&state, &actor, id, input).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(()) => Ok(flash::to(&format!("/tenders/{id}"), Flash::TenderSaved)),
        Err(e) => {
            // The form again only for a draft the user may edit: others get the page's refusal.
            if !service::detail(&state, Some(&actor), id).await?.permissions.edit {
                return Err(AppError::forbidden());
            }
            let f = FormState::refused("tender", &ctx.t, values, e)?.placing(&LOT_FIELDS).placing(&["bid_form"]);
            tender_form(&state, ctx, &actor, format!("/tenders/{id}/edit"), f).await
        }
    }
}

#[derive(Template)]
#[template(path = "tenders/show.html")]
struct ShowPage {
    ctx: PageCtx,
    d: TenderDetail,
    min_deadline_after_amendment: String,
    /// The rule for moving the deadline, with its number of days.
    new_deadline_hint: String,
    /// Why a supplier cannot obtain the documents of an open tender now, if that is so.
    obtain_note: Option<&'static str>,
    /// The form of the page that was sent and refused (publish, cancel, question, answer,
    /// clarification), or none.
    f: FormState,
    /// The tender's way from its posting to the contract (none for a draft).
    timeline: Vec<super::model::TimelineStep>,
    /// The invited suppliers (its managers only).
    invited: Vec<super::invitations::Invited>,
    /// The suppliers its managers may invite while it is a draft.
    invite_choices: Vec<super::invitations::Invited>,
}

impl ShowPage {
    fn is_invited(&self, id: &Uuid) -> bool {
        self.invited.iter().any(|i| i.id == *id)
    }
}

impl ShowPage {
    fn bid_label<'a>(&self, f: &'a BidFormField) -> &'a str {
        if self.ctx.t.is_en() && !f.label_en.is_empty() { &f.label_en } else { &f.label_zh }
    }

    fn deadline_min(&self) -> String {
        format!("min='{}'", self.min_deadline_after_amendment)
    }

    /// The answer form of question `q`: the refused one if it was that question's.
    fn answer_form(&self, q: &Uuid) -> &FormState {
        let f = self.f.of("answer");
        if f.value("question") == q.to_string() { f } else { self.f.of("") }
    }
}

async fn show(
    State(state): State<Tenders>,
    ctx: PageCtx,
    MaybeActor(actor): MaybeActor,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    show_page(&state, ctx, actor.as_ref(), id, FormState::blank()).await
}

/// The tender page, with the form `f` as it was sent.
async fn show_page(
    state: &Tenders,
    ctx: PageCtx,
    actor: Option<&Actor>,
    id: Uuid,
    f: FormState,
) -> AppResult<Response> {
    let d = service::detail(state, actor, id).await?;
    let now = state.clock.now();
    let min_deadline_after_amendment =
        local_input(&(now + chrono::TimeDelta::days(state.rules.amendment_min_days) + chrono::TimeDelta::hours(1)));
    let open = d.summary.state == TenderState::Published && now < d.summary.bid_deadline;
    let waiting = actor.is_some_and(|a| a.role == Role::Supplier) && open && !d.permissions.obtained;
    let obtain_note = match (d.documents_from, d.documents_until) {
        (Some(from), _) if waiting && now < from => Some("tender.obtain_not_started"),
        (_, Some(until)) if waiting && now >= until => Some("tender.obtain_period_over"),
        _ => None,
    };
    let days = [("days", state.rules.amendment_min_days.to_string())];
    let new_deadline_hint = ctx.t.filled("tender.new_deadline_hint", &days).unwrap_or_default();
    let timeline =
        if d.summary.state == TenderState::Draft { Vec::new() } else { state.progress.timeline(actor, id).await? };
    // Only its managers see whom a tender invites.
    let managed = match actor {
        Some(a) => service::load_managed(&state.db, a, id).await.ok(),
        None => None,
    };
    let (invited, invite_choices) = match managed {
        Some(t) => {
            let choices = if d.permissions.edit { super::invitations::choices(&state.db).await? } else { Vec::new() };
            (super::invitations::list(&state.db, t.id).await?, choices)
        }
        None => (Vec::new(), Vec::new()),
    };
    let page = ShowPage {
        ctx,
        d,
        min_deadline_after_amendment,
        new_deadline_hint,
        obtain_note,
        f,
        timeline,
        invited,
        invite_choices,
    };
    Ok(public(render_form(&page, &page.f)))
}

/// A step taken from the tender page: `done` on success, else the page again with the form
/// `form` as it was sent and the refusal.
async fn from_show_page(
    state: &Tenders,
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
            show_page(state, ctx, Some(actor), id, f).await
        }
    }
}

async fn upload(
    State(state): State<Tenders>,
    actor: Require<TenderManagers>,
    Path(id): Path<Uuid>,
    multipart: Multipart,
) -> AppResult<Response> {
    let (name, data) = read_file_field(multipart).await?;
    service::upload_document(&state, &actor, id, &name, data).await?;
    Ok(flash::to(&format!("/tenders/{id}#documents"), Flash::DocumentUploaded))
}

/// Reads the `file` field of a multipart upload.
pub async fn read_file_field(Multipart(mut multipart): Multipart) -> AppResult<(String, Bytes)> {
    loop {
        let field = multipart.next_field().await.map_err(|e| {
            if e.status().as_u16() == 413 {
                AppError::too_large("pdf_too_large", "the file is too large")
            } else {
                AppError::bad_request("multipart_invalid", e.body_text())
            }
        })?;
        let Some(field) = field else {
            return Err(AppError::invalid_field("file", "required"));
        };
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("document.pdf").to_string();
            let data = field.bytes().await.map_err(|e| {
                if e.status().as_u16() == 413 {
                    AppError::too_large("pdf_too_large", "the file is too large")
                } else {
                    AppError::bad_request("multipart_invalid", e.body_text())
                }
            })?;
            return Ok((name, data));
        }
    }
}

async fn remove_document(
    State(state): State<Tenders>,
    actor: Require<TenderManagers>,
    Path((id, doc)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    service::remove_document(&state, &actor, id, doc).await?;
    Ok(flash::to(&format!("/tenders/{id}#documents"), Flash::DocumentRemoved))
}

/// Answers a stored PDF as a download.
pub fn pdf_response(name: &str, data: Bytes) -> Response {
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' { c } else { '_' })
        .collect();
    let disposition =
        format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", crate::web::page::percent_encode(name));
    ([(header::CONTENT_TYPE, "application/pdf".to_string()), (header::CONTENT_DISPOSITION, disposition)], data)
        .into_response()
}

async fn download(
    State(state): State<Tenders>,
    actor: Actor,
    Path((id, doc)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let (name, data) = service::read_document(&state, &actor, id, doc).await?;
    Ok(pdf_response(&name, data))
}

async fn publish(
    State(state): State<Tenders>,
    ctx: PageCtx,
    actor: Require<TenderManagers>,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let done = service::publish(&state, &actor, id)
        .await
        .map(|()| flash::to(&format!("/tenders/{id}"), Flash::TenderPublished));
    from_show_page(&state, ctx, &actor, id, "publish", Values::default(), done).await
}

/// Sets the invited suppliers from the page's checkboxes (`supplier.<id>`).
async fn invite(
    State(state): State<Tenders>,
    ctx: PageCtx,
    actor: Require<TenderManagers>,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let suppliers: Vec<Uuid> =
        values.pairs().iter().filter_map(|(n, _)| n.strip_prefix("supplier.")).filter_map(|u| u.parse().ok()).collect();
    let done = super::invitations::set(&state, &actor, id, super::invitations::InvitationsInput { suppliers })
        .await
        .map(|_| flash::to(&format!("/tenders/{id}#invitations"), Flash::InvitationsSaved));
    from_show_page(&state, ctx, &actor, id, "invitations", values, done).await
}

#[derive(Deserialize)]
struct ReasonForm {
    reason: String,
}

async fn cancel(
    State(state): State<Tenders>,
    ctx: PageCtx,
    actor: Require<TenderManagers>,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let done = match values.parse::<ReasonForm>() {
        Ok(f) => service::cancel(&state, &actor, id, &f.reason).await,
        Err(e) => Err(e),
    };
    let done = done.map(|()| flash::to(&format!("/tenders/{id}"), Flash::TenderCancelled));
    from_show_page(&state, ctx, &actor, id, "cancel", values, done).await
}

async fn obtain(State(state): State<Tenders>, actor: Require<Suppliers>, Path(id): Path<Uuid>) -> AppResult<Response> {
    service::obtain(&state, &actor, id).await?;
    Ok(flash::to(&format!("/tenders/{id}#documents"), Flash::DocumentsObtained))
}

#[derive(Deserialize)]
struct QuestionForm {
    body: String,
}

async fn ask(
    State(state): State<Tenders>,
    ctx: PageCtx,
    actor: Require<Suppliers>,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let done = match values.parse::<QuestionForm>() {
        Ok(f) => service::ask(&state, &actor, id, &f.body).await,
        Err(e) => Err(e),
    };
    let done = done.map(|_| flash::to(&format!("/tenders/{id}#questions"), Flash::QuestionAsked));
    from_show_page(&state, ctx, &actor, id, "question", values, done).await
}

#[derive(Deserialize)]
struct ClarificationForm {
    kind: String,
    body: String,
    #[serde(default)]
    substantive: Option<String>,
    #[serde(default)]
    question: Option<String>,
    #[serde(default)]
    new_deadline: Option<String>,
}

async fn clarify(
    State(state): State<Tenders>,
    ctx: PageCtx,
    actor: Require<TenderManagers>,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let done = match values.parse::<ClarificationForm>().and_then(clarification_input) {
        Ok(input) => service::clarify(&state, &actor, id, input).await,
        Err(e) => Err(e),
    };
    let done = done.map(|_| flash::to(&format!("/tenders/{id}#clarifications"), Flash::ClarificationPublished));
    // Answers are sent from the form under their question, clarifications from their own.
    let form = if values.get("kind") == "answer" { "answer" } else { "clarification" };
    from_show_page(&state, ctx, &actor, id, form, values, done).await
}

fn clarification_input(f: ClarificationForm) -> AppResult<ClarificationInput> {
    let kind = ClarificationKind::parse(&f.kind).ok_or_else(|| AppError::invalid_field("kind", "invalid"))?;
    let question = match f.question.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(q) => Some(Uuid::parse_str(q).map_err(|_| AppError::invalid_field("question", "invalid"))?),
        None => None,
    };
    let new_deadline = match f.new_deadline.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(d) => Some(parse_local_time(d).ok_or_else(|| AppError::invalid_field("new_deadline", "invalid"))?),
        None => None,
    };
    Ok(ClarificationInput { kind, body: f.body, substantive: f.substantive.is_some(), question, new_deadline })
}
