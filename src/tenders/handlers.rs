//! Tender pages.

use super::{
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
        extract::{Form, Multipart, Path, Query},
        flash::{self, Flash},
        local_input,
        page::{PageCtx, render, render_public},
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
        .route("/tenders/{id}/cancel", post(cancel))
        .route("/tenders/{id}/obtain", post(obtain))
        .route("/tenders/{id}/questions", post(ask))
        .route("/tenders/{id}/clarifications", post(clarify))
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

/// Values shown in the tender form.
pub struct FormValues {
    title: String,
    description: String,
    method: String,
    evaluation: String,
    bid_deadline: String,
    question_cutoff: String,
    min_valid_bids: String,
    lots: Vec<(String, String, String)>,
    items: Vec<String>,
    /// The procuring unit chosen (an agency's form), as its public id.
    procuring_org: String,
    qualification: String,
    contact_person: String,
    contact_phone: String,
    documents_from: String,
    documents_until: String,
    deposit: String,
}

#[derive(Template)]
#[template(path = "tenders/form.html")]
struct TenderFormPage {
    ctx: PageCtx,
    action: String,
    v: FormValues,
    units: Vec<(Uuid, String)>,
    choices: Choices,
    standard_items: Vec<BidFormField>,
    is_agency: bool,
    /// The largest deposit, in per cent of the budget.
    deposit_max_percent: i64,
}

impl TenderFormPage {
    fn item_checked(&self, key: &str) -> bool {
        self.v.items.iter().any(|k| k == key)
    }

    fn unit_chosen(&self, id: &Uuid) -> bool {
        self.v.procuring_org == id.to_string()
    }
}

async fn new_form(State(state): State<Tenders>, ctx: PageCtx, actor: Require<TenderManagers>) -> AppResult<Response> {
    let deadline = state.clock.now() + chrono::TimeDelta::days(state.rules.min_bidding_days + 1);
    let v = FormValues {
        title: String::new(),
        description: String::new(),
        method: "open_tender".into(),
        evaluation: "comprehensive_scoring".into(),
        bid_deadline: local_input(&deadline).split('T').next().map(|d| format!("{d}T09:30")).unwrap_or_default(),
        question_cutoff: String::new(),
        min_valid_bids: state.rules.min_valid_bids.to_string(),
        lots: (0..LOT_ROWS).map(|_| Default::default()).collect(),
        items: vec!["delivery_days".into()],
        procuring_org: String::new(),
        qualification: String::new(),
        contact_person: String::new(),
        contact_phone: String::new(),
        documents_from: String::new(),
        documents_until: String::new(),
        deposit: String::new(),
    };
    let is_agency = actor.role == Role::AgencyStaff;
    let units = if is_agency { service::procuring_units(&state.db).await? } else { Vec::new() };
    Ok(render(&TenderFormPage {
        ctx,
        action: "/tenders".into(),
        v,
        units,
        choices: choices(),
        standard_items: BidFormField::standard().into_iter().skip(1).collect(),
        is_agency,
        deposit_max_percent: state.rules.deposit_max_percent,
    }))
}

async fn create(
    State(state): State<Tenders>,
    actor: Require<TenderManagers>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = forms::parse(pairs)?;
    let id = service::create_draft(&state, &actor, input).await?;
    Ok(flash::to(&format!("/tenders/{id}"), Flash::TenderSaved))
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
    let mut lots: Vec<(String, String, String)> = d
        .lots
        .iter()
        .map(|l| (l.name.clone(), plain_yuan(l.budget), l.ceiling.map(plain_yuan).unwrap_or_default()))
        .collect();
    lots.resize(LOT_ROWS.max(lots.len()), Default::default());
    let custom = d.bid_form.iter().find(|f| f.key == "custom_1").map(|f| f.label_zh.clone());
    let v = FormValues {
        title: d.summary.title.clone(),
        description: d.description.clone(),
        method: d.summary.procurement_method.as_str().into(),
        evaluation: d.summary.evaluation_method.as_str().into(),
        bid_deadline: local_input(&d.summary.bid_deadline),
        question_cutoff: local_input(&d.question_cutoff),
        min_valid_bids: d.min_valid_bids.to_string(),
        lots,
        items: d.bid_form.iter().map(|f| f.key.clone()).chain(custom).collect(),
        procuring_org: d.summary.procuring_org_id.to_string(),
        qualification: d.qualification.clone(),
        contact_person: d.contact_person.clone(),
        contact_phone: d.contact_phone.clone(),
        documents_from: d.documents_from.as_ref().map(local_input).unwrap_or_default(),
        documents_until: d.documents_until.as_ref().map(local_input).unwrap_or_default(),
        deposit: d.deposit.map(plain_yuan).unwrap_or_default(),
    };
    // An agency may hand the draft to another procuring unit; a unit's own staff may not.
    let is_agency = actor.role == Role::AgencyStaff;
    let units = if is_agency { service::procuring_units(&state.db).await? } else { Vec::new() };
    Ok(render(&TenderFormPage {
        ctx,
        action: format!("/tenders/{id}/edit"),
        v,
        units,
        choices: choices(),
        standard_items: BidFormField::standard().into_iter().skip(1).collect(),
        is_agency,
        deposit_max_percent: state.rules.deposit_max_percent,
    }))
}

fn plain_yuan(m: crate::money::Money) -> String {
    format!("{}.{:02}", m.fen() / 100, m.fen() % 100)
}

async fn edit(
    State(state): State<Tenders>,
    actor: Require<TenderManagers>,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = forms::parse(pairs)?;
    service::update_draft(&state, &actor, id, input).await?;
    Ok(flash::to(&format!("/tenders/{id}"), Flash::TenderSaved))
}

#[derive(Template)]
#[template(path = "tenders/show.html")]
struct ShowPage {
    ctx: PageCtx,
    d: TenderDetail,
    min_deadline_after_amendment: String,
    /// Why a supplier cannot obtain the documents of an open tender now, if that is so.
    obtain_note: Option<&'static str>,
}

impl ShowPage {
    fn bid_label<'a>(&self, f: &'a BidFormField) -> &'a str {
        if self.ctx.t.is_en() && !f.label_en.is_empty() { &f.label_en } else { &f.label_zh }
    }
}

async fn show(
    State(state): State<Tenders>,
    ctx: PageCtx,
    MaybeActor(actor): MaybeActor,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let d = service::detail(&state, actor.as_ref(), id).await?;
    let now = state.clock.now();
    let min_deadline_after_amendment =
        local_input(&(now + chrono::TimeDelta::days(state.rules.amendment_min_days) + chrono::TimeDelta::hours(1)));
    let open = d.summary.state == TenderState::Published && now < d.summary.bid_deadline;
    let waiting = actor.as_ref().is_some_and(|a| a.role == Role::Supplier) && open && !d.permissions.obtained;
    let obtain_note = match (d.documents_from, d.documents_until) {
        (Some(from), _) if waiting && now < from => Some("tender.obtain_not_started"),
        (_, Some(until)) if waiting && now >= until => Some("tender.obtain_period_over"),
        _ => None,
    };
    Ok(render_public(&ShowPage { ctx, d, min_deadline_after_amendment, obtain_note }))
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
    actor: Require<TenderManagers>,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    service::publish(&state, &actor, id).await?;
    Ok(flash::to(&format!("/tenders/{id}"), Flash::TenderPublished))
}

#[derive(Deserialize)]
struct ReasonForm {
    reason: String,
}

async fn cancel(
    State(state): State<Tenders>,
    actor: Require<TenderManagers>,
    Path(id): Path<Uuid>,
    Form(f): Form<ReasonForm>,
) -> AppResult<Response> {
    service::cancel(&state, &actor, id, &f.reason).await?;
    Ok(flash::to(&format!("/tenders/{id}"), Flash::TenderCancelled))
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
    actor: Require<Suppliers>,
    Path(id): Path<Uuid>,
    Form(f): Form<QuestionForm>,
) -> AppResult<Response> {
    service::ask(&state, &actor, id, &f.body).await?;
    Ok(flash::to(&format!("/tenders/{id}#questions"), Flash::QuestionAsked))
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
    actor: Require<TenderManagers>,
    Path(id): Path<Uuid>,
    Form(f): Form<ClarificationForm>,
) -> AppResult<Response> {
    let kind = ClarificationKind::parse(&f.kind).ok_or_else(|| AppError::invalid_field("kind", "invalid"))?;
    let question = match f.question.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(q) => Some(Uuid::parse_str(q).map_err(|_| AppError::invalid_field("question", "invalid"))?),
        None => None,
    };
    let new_deadline = match f.new_deadline.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(d) => Some(parse_local_time(d).ok_or_else(|| AppError::invalid_field("new_deadline", "invalid"))?),
        None => None,
    };
    let input = ClarificationInput { kind, body: f.body, substantive: f.substantive.is_some(), question, new_deadline };
    service::clarify(&state, &actor, id, input).await?;
    Ok(flash::to(&format!("/tenders/{id}#clarifications"), Flash::ClarificationPublished))
}
