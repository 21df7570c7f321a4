//! Tender rules: drafting, publishing, cancelling, documents, questions and clarifications.
//!
//! Every function that changes something opens a writing transaction, checks the policy and the
//! state machine, makes the change, records it in the audit chain and notifies whom it concerns,
//! all in that one transaction.

use super::{
    criteria::Criteria,
    model::*,
    policy::{self, is_manager, state_of},
};
use crate::{
    accounts::model::{Actor, OrgKind, Role, Status},
    audit::{Action, AuditEntry},
    bounds,
    entities::{clarification, document_obtained, lot, organisation, question, tender, tender_document},
    error::{AppError, AppResult, FieldError, check_text, is_phone, required_text},
    ids::{OrgId, TenderId},
    jobs::NewJob,
    money::Money,
    notify::{Notice, NoticeKind},
    tenders::Tenders,
};
use bytes::Bytes;
use chrono::{DateTime, Datelike, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// A lot as entered.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct LotInput {
    /// Name.
    pub name: String,
    /// 预算金额, fen.
    #[schema(value_type = i64)]
    pub budget: Money,
    /// 最高限价, fen (at most the budget).
    #[schema(value_type = Option<i64>)]
    pub ceiling: Option<Money>,
}

/// A tender as entered when drafting or editing.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TenderInput {
    /// Title.
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// The procuring unit: required when an agency drafts or edits (and it may change it while
    /// the tender is a draft); ignored for procuring unit staff, who tender for their own unit.
    pub procuring_org: Option<Uuid>,
    /// Procurement method.
    pub procurement_method: ProcurementMethod,
    /// Evaluation method.
    pub evaluation_method: EvaluationMethod,
    /// Bid deadline, which is also the opening time.
    pub bid_deadline: DateTime<Utc>,
    /// When questions close (default: `tenders.question_cutoff_days` before the deadline).
    pub question_cutoff: Option<DateTime<Utc>>,
    /// Items of the bid form; `total_price` is added if missing.
    #[serde(default)]
    pub bid_form: Vec<BidFormField>,
    /// Least valid bids (default `tenders.min_valid_bids`).
    pub min_valid_bids: Option<i32>,
    /// Lots (at least one).
    pub lots: Vec<LotInput>,
    /// 资格要求: what a supplier must be or have to bid. Needed to publish.
    #[serde(default)]
    pub qualification: String,
    /// 联系人 of the notice. Needed to publish.
    #[serde(default)]
    pub contact_person: String,
    /// 项目所在地区: where the work is done or the goods delivered (`南京市江宁区`); optional, at
    /// most 40 characters. Suppliers' subscriptions by region match it.
    #[serde(default)]
    pub region: String,
    /// 联系电话 of the notice: a mainland China mobile, landline or 400/800 number. Needed to
    /// publish.
    #[serde(default)]
    pub contact_phone: String,
    /// When suppliers may start obtaining the documents (获取招标文件). Needed to publish.
    pub documents_from: Option<DateTime<Utc>>,
    /// Until when they may obtain them: after `documents_from`, at the latest the bid deadline.
    /// Needed to publish.
    pub documents_until: Option<DateTime<Utc>>,
    /// 投标保证金, fen: none if absent; at most `tenders.deposit_max_percent` per cent of the
    /// budget (the sum of the lots' budgets).
    #[schema(value_type = Option<i64>)]
    pub deposit: Option<Money>,
}

/// Most characters of the qualification requirements.
const MAX_QUALIFICATION: usize = 10_000;

/// Whether `deposit` is within `percent` per cent of `budget`.
fn deposit_within(deposit: Money, budget: i128, percent: i64) -> bool {
    i128::from(deposit.fen()) * 100 <= budget * i128::from(percent)
}

/// The fields of the notice a draft may leave out but publishing needs, as field errors.
fn notice_gaps(t: &tender::Model) -> Vec<FieldError> {
    let mut gaps = Vec::new();
    for (field, missing) in [
        ("qualification", t.qualification.trim().is_empty()),
        ("contact_person", t.contact_person.trim().is_empty()),
        ("contact_phone", t.contact_phone.trim().is_empty()),
        ("documents_from", t.documents_from.is_none()),
        ("documents_until", t.documents_until.is_none()),
    ] {
        if missing {
            gaps.push(FieldError::new(field, "required"));
        }
    }
    gaps
}

/// Checks a tender's fields and fills the defaults; returns the bid form and question cut-off.
fn validate(state: &Tenders, input: &mut TenderInput, now: DateTime<Utc>) -> AppResult<()> {
    let mut fields = Vec::new();
    check_text(&mut fields, "title", &input.title, 1, 200);
    check_text(&mut fields, "description", &input.description, 0, 20_000);
    // Times out of range are refused before anything is computed from them.
    bounds::check_time(&mut fields, "bid_deadline", input.bid_deadline);
    if let Some(c) = input.question_cutoff {
        bounds::check_time(&mut fields, "question_cutoff", c);
    }
    if fields.iter().any(|f| f.code == "out_of_range") {
        return Err(AppError::validation(fields));
    }
    if input.bid_deadline <= now {
        // Said with the rule publishing will apply.
        fields.push(FieldError::new("bid_deadline", "in_past").with_arg("days", state.rules.min_bidding_days));
    }
    let cutoff =
        input.question_cutoff.unwrap_or_else(|| input.bid_deadline - TimeDelta::days(state.rules.question_cutoff_days));
    if cutoff >= input.bid_deadline {
        fields.push(FieldError::new("question_cutoff", "after_deadline"));
    }
    input.question_cutoff = Some(cutoff);
    let min_bids = input.min_valid_bids.unwrap_or(state.rules.min_valid_bids);
    if !(1..=50).contains(&min_bids) {
        fields.push(FieldError::new("min_valid_bids", "out_of_range").with_arg("min", 1).with_arg("max", 50));
    }
    input.min_valid_bids = Some(min_bids);
    if input.lots.is_empty() {
        fields.push(FieldError::new("lots", "required"));
    }
    if input.lots.len() > 50 {
        fields.push(FieldError::new("lots", "too_many").with_arg("max", 50));
    }
    for l in &input.lots {
        check_text(&mut fields, "lot_name", &l.name, 1, 200);
        bounds::check_amount(&mut fields, "budget", l.budget);
        if let Some(c) = l.ceiling {
            if c.fen() <= 0 {
                fields.push(FieldError::new("ceiling", "not_positive"));
            } else if c > l.budget {
                fields.push(FieldError::new("ceiling", "above_budget"));
            }
        }
    }
    if !input.bid_form.iter().any(|f| f.key == TOTAL_PRICE) {
        input.bid_form.insert(0, BidFormField::total_price());
    }
    let mut keys = std::collections::HashSet::new();
    for f in &input.bid_form {
        let key_ok = !f.key.is_empty()
            && f.key.len() <= 40
            && f.key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok || !keys.insert(f.key.clone()) {
            fields.push(FieldError::new("bid_form", "bad_key"));
        }
        if f.label_zh.trim().is_empty() || f.label_zh.chars().count() > 60 || f.label_en.chars().count() > 80 {
            fields.push(FieldError::new("bid_form", "bad_label"));
        }
        if f.key == TOTAL_PRICE && (f.kind != FieldKind::Money || !f.required) {
            fields.push(FieldError::new("bid_form", "total_price_must_be_required_money"));
        }
    }
    if input.bid_form.len() > 20 {
        fields.push(FieldError::new("bid_form", "too_many").with_arg("max", 20));
    }
    check_text(&mut fields, "qualification", &input.qualification, 0, MAX_QUALIFICATION);
    check_text(&mut fields, "contact_person", &input.contact_person, 0, 60);
    check_text(&mut fields, "region", &input.region, 0, 40);
    let phone = input.contact_phone.trim();
    if phone.chars().count() > 30 {
        fields.push(FieldError::new("contact_phone", "too_long").with_arg("max", 30));
    } else if !phone.is_empty() && !is_phone(phone) {
        fields.push(FieldError::new("contact_phone", "invalid"));
    }
    if let Some(t) = input.documents_from {
        bounds::check_time(&mut fields, "documents_from", t);
    }
    if let Some(t) = input.documents_until {
        bounds::check_time(&mut fields, "documents_until", t);
    }
    match (input.documents_from, input.documents_until) {
        (Some(from), Some(until)) => {
            if until <= from {
                fields.push(FieldError::new("documents_until", "before_start"));
            }
            if until > input.bid_deadline {
                fields.push(FieldError::new("documents_until", "after_deadline"));
            }
        }
        (Some(_), None) => fields.push(FieldError::new("documents_until", "required")),
        (None, Some(_)) => fields.push(FieldError::new("documents_from", "required")),
        (None, None) => {}
    }
    if let Some(d) = input.deposit {
        let budget: i128 = input.lots.iter().map(|l| i128::from(l.budget.fen())).sum();
        let before = fields.len();
        bounds::check_amount(&mut fields, "deposit", d);
        if fields.len() == before && !deposit_within(d, budget, state.rules.deposit_max_percent) {
            fields.push(FieldError::new("deposit", "above_limit").with_arg("percent", state.rules.deposit_max_percent));
        }
    }
    fields.dedup();
    if fields.is_empty() { Ok(()) } else { Err(AppError::validation(fields)) }
}

async fn org_by_public<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<Option<organisation::Model>> {
    Ok(organisation::Entity::find().filter(organisation::Column::PublicId.eq(id)).one(db).await?)
}

/// Which organisations run a new tender drafted by `actor`.
async fn parties<C: ConnectionTrait>(db: &C, actor: &Actor, input: &TenderInput) -> AppResult<(OrgId, Option<OrgId>)> {
    match actor.role {
        Role::ProcuringStaff => Ok((actor.org_id, None)),
        Role::AgencyStaff => {
            let id = input.procuring_org.ok_or_else(|| AppError::invalid_field("procuring_org", "required"))?;
            let org = org_by_public(db, id)
                .await?
                .filter(|o| o.kind == OrgKind::ProcuringUnit && o.status == Status::Active)
                .ok_or_else(|| AppError::invalid_field("procuring_org", "not_a_procuring_unit"))?;
            Ok((org.id, Some(actor.org_id)))
        }
        _ => Err(AppError::forbidden()),
    }
}

async fn next_code<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> AppResult<String> {
    let year = now.with_timezone(&crate::web::cst()).year();
    let prefix = format!("TH{year}-");
    let n = tender::Entity::find().filter(tender::Column::Code.starts_with(&prefix)).count(db).await?;
    Ok(format!("{prefix}{:05}", n + 1))
}

async fn insert_lots<C: ConnectionTrait>(db: &C, tender_id: TenderId, lots: &[LotInput]) -> AppResult<()> {
    for (i, l) in lots.iter().enumerate() {
        lot::ActiveModel {
            public_id: Set(Uuid::new_v4()),
            tender_id: Set(tender_id),
            lot_no: Set(i as i32 + 1),
            name: Set(l.name.trim().to_string()),
            budget_fen: Set(l.budget),
            ceiling_fen: Set(l.ceiling),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

fn criteria_json(c: &Criteria) -> AppResult<String> {
    serde_json::to_string(c).map_err(AppError::internal)
}

/// The stored criteria of a tender; none for a tender drafted before criteria existed.
pub fn criteria_of(t: &tender::Model) -> AppResult<Option<Criteria>> {
    t.criteria
        .as_deref()
        .map(|json| {
            serde_json::from_str(json).map_err(|e| AppError::internal(format!("tenders.criteria of row {}: {e}", t.id)))
        })
        .transpose()
}

/// The criteria of a tender the actor may see (they are part of the published documents).
pub async fn criteria(state: &Tenders, actor: Option<&Actor>, id: Uuid) -> AppResult<Criteria> {
    let t = load_visible(&state.db, actor, id).await?;
    criteria_of(&t)?.ok_or_else(AppError::not_found)
}

/// Sets the criteria of a draft, refusing criteria that break a rule with every broken rule.
#[tracing::instrument(skip_all, fields(user = %actor.username))]
pub async fn set_criteria(state: &Tenders, actor: &Actor, id: Uuid, c: Criteria) -> AppResult<()> {
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let t = load_managed(&txn, actor, id).await?;
    require_state(&t, &[TenderState::Draft])?;
    let mut c = c;
    for i in c.qualification.iter_mut().chain(c.compliance.iter_mut()) {
        i.label = i.label.trim().to_string();
    }
    for i in &mut c.scoring {
        i.label = i.label.trim().to_string();
    }
    let broken = c.check(t.evaluation_method, &state.evaluation);
    if !broken.is_empty() {
        return Err(AppError::validation(broken));
    }
    tender::ActiveModel {
        id: Set(t.id),
        criteria: Set(Some(criteria_json(&c)?)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let details = json!({
        "category": c.category, "price_weight": c.price_weight, "sme_deduction_percent": c.sme_deduction_percent,
        "sme_reserved": c.sme_reserved, "technical_anonymous": c.technical_anonymous,
        "qualification": c.qualification.len(), "compliance": c.compliance.len(),
        "scoring": c.scoring.iter().map(|i| json!({"key": i.key, "max": i.max, "step": i.step, "objective": i.objective})).collect::<Vec<_>>(),
    });
    txn.record(&actor.audit(), AuditEntry::new(Action::TenderCriteria, t.public_id, details)).await?;
    txn.commit().await?;
    Ok(())
}

fn bid_form_json(f: &[BidFormField]) -> AppResult<String> {
    serde_json::to_string(f).map_err(AppError::internal)
}

/// Creates a draft tender.
#[tracing::instrument(skip_all, fields(user = %actor.username))]
pub async fn create_draft(state: &Tenders, actor: &Actor, mut input: TenderInput) -> AppResult<Uuid> {
    let now = state.clock.now();
    validate(state, &mut input, now)?;
    let mut txn = state.writer.begin_at(now).await?;
    let (procuring, agency) = parties(&txn, actor, &input).await?;
    let code = next_code(&txn, now).await?;
    let t = tender::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        code: Set(code.clone()),
        title: Set(input.title.trim().to_string()),
        description: Set(input.description.trim().to_string()),
        procuring_org_id: Set(procuring),
        agency_org_id: Set(agency),
        created_by: Set(actor.user_id),
        procurement_method: Set(input.procurement_method),
        evaluation_method: Set(input.evaluation_method),
        opening_mode: Set(OpeningMode::Remote),
        state: Set(TenderState::Draft),
        bid_deadline: Set(input.bid_deadline),
        question_cutoff: Set(input.question_cutoff.unwrap_or(input.bid_deadline)),
        bid_form: Set(bid_form_json(&input.bid_form)?),
        min_valid_bids: Set(input.min_valid_bids.unwrap_or(3)),
        qualification: Set(input.qualification.trim().to_string()),
        contact_person: Set(input.contact_person.trim().to_string()),
        region: Set(input.region.trim().to_string()),
        contact_phone: Set(input.contact_phone.trim().to_string()),
        documents_from: Set(input.documents_from),
        documents_until: Set(input.documents_until),
        deposit_fen: Set(input.deposit),
        criteria: Set(Some(criteria_json(&Criteria::template(input.evaluation_method, &state.evaluation))?)),
        cancel_reason: Set(None),
        published_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    insert_lots(&txn, t.id, &input.lots).await?;
    let details = json!({
        "code": code, "title": t.title, "bid_deadline": t.bid_deadline, "procurement_method": t.procurement_method,
        "procuring_org": input.procuring_org, "documents_from": t.documents_from, "documents_until": t.documents_until,
        "deposit_fen": t.deposit_fen.map(Money::fen),
        "lots": input.lots.iter().map(|l| json!({"name": l.name, "budget_fen": l.budget.fen(), "ceiling_fen": l.ceiling.map(Money::fen)})).collect::<Vec<_>>(),
    });
    txn.record(&actor.audit(), AuditEntry::new(Action::TenderCreate, t.public_id, details)).await?;
    txn.commit().await?;
    Ok(t.public_id)
}

/// Loads a tender by public id, answering 404 if the actor may not see it.
pub async fn load_visible<C: ConnectionTrait>(db: &C, actor: Option<&Actor>, id: Uuid) -> AppResult<tender::Model> {
    let t = tender::Entity::find()
        .filter(tender::Column::PublicId.eq(id))
        .one(db)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !policy::can_view(actor, &t) {
        return Err(AppError::not_found());
    }
    Ok(t)
}

/// Loads a tender the actor manages (404 if invisible, 403 if visible but not theirs).
pub(super) async fn load_managed<C: ConnectionTrait>(db: &C, actor: &Actor, id: Uuid) -> AppResult<tender::Model> {
    let t = load_visible(db, Some(actor), id).await?;
    if !is_manager(actor, &t) {
        return Err(AppError::forbidden());
    }
    Ok(t)
}

pub(super) fn require_state(t: &tender::Model, allowed: &[TenderState]) -> AppResult<TenderState> {
    let s = state_of(t);
    if allowed.contains(&s) {
        Ok(s)
    } else {
        Err(AppError::conflict("wrong_state", format!("not possible while the tender is {s}")))
    }
}

/// Replaces a draft's fields and lots.
pub async fn update_draft(state: &Tenders, actor: &Actor, id: Uuid, mut input: TenderInput) -> AppResult<()> {
    let now = state.clock.now();
    validate(state, &mut input, now)?;
    let mut txn = state.writer.begin_at(now).await?;
    let t = load_managed(&txn, actor, id).await?;
    require_state(&t, &[TenderState::Draft])?;
    // An agency names the procuring unit every time (it may change it while drafting); the
    // unit's own staff cannot hand its tender to another unit.
    let procuring =
        if actor.role == Role::AgencyStaff { parties(&txn, actor, &input).await?.0 } else { t.procuring_org_id };
    // Criteria that do not fit a changed evaluation method start again from its template;
    // criteria that fit are kept.
    let criteria_reset = input.evaluation_method != t.evaluation_method
        && criteria_of(&t)?.is_none_or(|c| !c.check(input.evaluation_method, &state.evaluation).is_empty());
    let criteria = if criteria_reset {
        Set(Some(criteria_json(&Criteria::template(input.evaluation_method, &state.evaluation))?))
    } else {
        sea_orm::ActiveValue::NotSet
    };
    tender::ActiveModel {
        id: Set(t.id),
        criteria,
        title: Set(input.title.trim().to_string()),
        description: Set(input.description.trim().to_string()),
        procuring_org_id: Set(procuring),
        procurement_method: Set(input.procurement_method),
        evaluation_method: Set(input.evaluation_method),
        bid_deadline: Set(input.bid_deadline),
        question_cutoff: Set(input.question_cutoff.unwrap_or(input.bid_deadline)),
        bid_form: Set(bid_form_json(&input.bid_form)?),
        min_valid_bids: Set(input.min_valid_bids.unwrap_or(3)),
        qualification: Set(input.qualification.trim().to_string()),
        contact_person: Set(input.contact_person.trim().to_string()),
        region: Set(input.region.trim().to_string()),
        contact_phone: Set(input.contact_phone.trim().to_string()),
        documents_from: Set(input.documents_from),
        documents_until: Set(input.documents_until),
        deposit_fen: Set(input.deposit),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    lot::Entity::delete_many().filter(lot::Column::TenderId.eq(t.id)).exec(&txn).await?;
    insert_lots(&txn, t.id, &input.lots).await?;
    let details = json!({
        "title": input.title.trim(), "bid_deadline": input.bid_deadline, "lots": input.lots.len(),
        "procuring_org_changed": procuring != t.procuring_org_id, "documents_from": input.documents_from,
        "documents_until": input.documents_until, "deposit_fen": input.deposit.map(Money::fen),
        "criteria_reset": criteria_reset,
    });
    txn.record(&actor.audit(), AuditEntry::new(Action::TenderUpdate, t.public_id, details)).await?;
    txn.commit().await?;
    Ok(())
}

/// Checks and stores a tender document (PDF) of a draft.
pub async fn upload_document(
    state: &Tenders,
    actor: &Actor,
    id: Uuid,
    file_name: &str,
    data: Bytes,
) -> AppResult<Uuid> {
    let name = sanitize_file_name(file_name);
    if name.is_empty() {
        return Err(AppError::invalid_field("file", "required"));
    }
    {
        let t = load_managed(&state.db, actor, id).await?;
        require_state(&t, &[TenderState::Draft])?;
    }
    let size = data.len() as i64;
    let info = crate::pdf::check(data.clone(), &state.pdf).await?;
    let sha = state.blobs.put(data).await.map_err(AppError::internal)?;
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let t = load_managed(&txn, actor, id).await?;
    require_state(&t, &[TenderState::Draft])?;
    let doc = tender_document::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        tender_id: Set(t.id),
        file_name: Set(name.clone()),
        sha256: Set(sha.clone()),
        size_bytes: Set(size),
        pages: Set(info.pages as i32),
        uploaded_by: Set(actor.user_id),
        uploaded_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let details =
        json!({"document": doc.public_id, "file_name": name, "sha256": sha, "size": size, "pages": info.pages});
    txn.record(&actor.audit(), AuditEntry::new(Action::TenderDocumentUpload, t.public_id, details)).await?;
    txn.commit().await?;
    Ok(doc.public_id)
}

/// Removes a document from a draft.
pub async fn remove_document(state: &Tenders, actor: &Actor, id: Uuid, doc_id: Uuid) -> AppResult<()> {
    let mut txn = state.writer.begin().await?;
    let t = load_managed(&txn, actor, id).await?;
    require_state(&t, &[TenderState::Draft])?;
    let doc = tender_document::Entity::find()
        .filter(tender_document::Column::PublicId.eq(doc_id))
        .filter(tender_document::Column::TenderId.eq(t.id))
        .one(&txn)
        .await?
        .ok_or_else(AppError::not_found)?;
    tender_document::Entity::delete_by_id(doc.id).exec(&txn).await?;
    let details = json!({"document": doc.public_id, "file_name": doc.file_name, "sha256": doc.sha256});
    txn.record(&actor.audit(), AuditEntry::new(Action::TenderDocumentRemove, t.public_id, details)).await?;
    txn.commit().await?;
    Ok(())
}

/// Keeps a file name printable and short; drops any directory part.
pub fn sanitize_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    base.chars()
        .filter(|c| !c.is_control() && !"<>:\"|?*".contains(*c))
        .take(120)
        .collect::<String>()
        .trim()
        .to_string()
}

/// The job due at a published tender's bid deadline (the opening hall opens then); its
/// arguments are `{"tender_id": <internal id>}`. The opening module handles it.
pub const DEADLINE_JOB: &str = "tender.deadline";

/// The deadline job of a tender, due at `deadline`; scheduling it again moves it.
pub fn deadline_job(tender_id: TenderId, deadline: DateTime<Utc>) -> NewJob {
    NewJob::new(DEADLINE_JOB, format!("{DEADLINE_JOB}:{tender_id}"), deadline, json!({"tender_id": tender_id}))
}

/// Publishes a draft.
pub async fn publish(state: &Tenders, actor: &Actor, id: Uuid) -> AppResult<()> {
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let t = load_managed(&txn, actor, id).await?;
    require_state(&t, &[TenderState::Draft])?;
    if lot::Entity::find().filter(lot::Column::TenderId.eq(t.id)).count(&txn).await? == 0 {
        return Err(AppError::rule("no_lots", "a tender needs at least one lot"));
    }
    if tender_document::Entity::find().filter(tender_document::Column::TenderId.eq(t.id)).count(&txn).await? == 0 {
        return Err(AppError::rule("no_documents", "upload the tender documents (PDF) before publishing"));
    }
    let min_days = state.rules.min_bidding_days;
    if t.bid_deadline < now + TimeDelta::days(min_days) {
        return Err(AppError::rule(
            "deadline_too_soon",
            format!("the bid deadline must be at least {min_days} days after publication"),
        )
        .with_arg("days", min_days)
        .with_arg("deadline", crate::web::fmt_time(&t.bid_deadline)));
    }
    if t.question_cutoff <= now {
        return Err(AppError::rule("question_cutoff_passed", "the question cut-off has already passed"));
    }
    let gaps = notice_gaps(&t);
    if !gaps.is_empty() {
        let mut e = AppError::rule(
            "notice_incomplete",
            format!(
                "the notice needs {} before publishing",
                gaps.iter().map(|f| f.field.as_ref()).collect::<Vec<_>>().join(", ")
            ),
        );
        e.fields = gaps;
        return Err(e);
    }
    if t.documents_until.is_some_and(|until| until <= now) {
        return Err(AppError::rule("obtain_period_over", "the period for obtaining the documents has already ended"));
    }
    let Some(criteria) = criteria_of(&t)? else {
        return Err(AppError::rule("criteria_missing", "set the evaluation criteria before publishing"));
    };
    let broken = criteria.check(t.evaluation_method, &state.evaluation);
    if !broken.is_empty() {
        let mut e = AppError::rule(
            "criteria_invalid",
            format!(
                "the evaluation criteria break the rules: {}",
                broken.iter().map(|f| format!("{}: {}", f.field, f.code)).collect::<Vec<_>>().join(", ")
            ),
        );
        e.fields = broken;
        return Err(e);
    }
    let invitees = super::invitations::check_publish(&txn, &t).await?;
    if let Some(d) = t.deposit_fen {
        let budget: i128 = lot::Entity::find()
            .filter(lot::Column::TenderId.eq(t.id))
            .all(&txn)
            .await?
            .iter()
            .map(|l| i128::from(l.budget_fen.fen()))
            .sum();
        if !deposit_within(d, budget, state.rules.deposit_max_percent) {
            return Err(AppError::field_with("deposit", "above_limit", "percent", state.rules.deposit_max_percent));
        }
    }
    tender::ActiveModel {
        id: Set(t.id),
        state: Set(TenderState::Published),
        published_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    txn.schedule(deadline_job(t.id, t.bid_deadline)).await?;
    super::reminders::schedule(&mut txn, t.id, t.bid_deadline).await?;
    txn.notify(&invitees, super::invitations::invitation_notice(&t)).await?;
    // The suppliers whose subscriptions it matches hear of it, each once.
    for (org, user, name) in crate::subscriptions::matching(&txn, &t, Some(criteria.category)).await? {
        txn.notify_users(&[(org, user)], crate::subscriptions::match_notice(&t, &name)).await?;
    }
    let details = json!({"from": "draft", "to": "published", "bid_deadline": t.bid_deadline});
    txn.record(&actor.audit(), AuditEntry::new(Action::TenderPublish, t.public_id, details)).await?;
    txn.commit().await?;
    Ok(())
}

/// Moves a tender along its state machine inside the caller's transaction (the opening moves
/// it past `published`); refuses a move the state machine does not allow. The caller records
/// the audit entry of the action that caused it.
pub async fn move_state<C: ConnectionTrait>(
    db: &C,
    t: &tender::Model,
    to: TenderState,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let from = state_of(t);
    if from == to {
        return Ok(());
    }
    if !from.can_become(to) {
        return Err(AppError::conflict("wrong_state", format!("a {from} tender cannot become {to}")));
    }
    tender::ActiveModel { id: Set(t.id), state: Set(to), updated_at: Set(now), ..Default::default() }
        .update(db)
        .await?;
    Ok(())
}

/// Cancels a tender with a reason; those who obtained the documents are told.
pub async fn cancel(state: &Tenders, actor: &Actor, id: Uuid, reason: &str) -> AppResult<()> {
    let reason = required_text("reason", reason, 2000)?;
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let t = load_managed(&txn, actor, id).await?;
    let from = state_of(&t);
    if !from.can_become(TenderState::Cancelled) {
        return Err(AppError::conflict("wrong_state", format!("a tender that is {from} cannot be cancelled")));
    }
    tender::ActiveModel {
        id: Set(t.id),
        state: Set(TenderState::Cancelled),
        cancel_reason: Set(Some(reason.to_string())),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let orgs = obtainers(&txn, t.id).await?;
    txn.notify(&orgs, cancelled_notice(&t, reason)).await?;
    let details = json!({"from": from, "to": "cancelled", "reason": reason, "notified": orgs.len()});
    txn.record(&actor.audit(), AuditEntry::new(Action::TenderCancel, t.public_id, details)).await?;
    txn.commit().await?;
    Ok(())
}

pub(super) async fn obtainers<C: ConnectionTrait>(db: &C, tender_id: TenderId) -> AppResult<Vec<OrgId>> {
    Ok(document_obtained::Entity::find()
        .filter(document_obtained::Column::TenderId.eq(tender_id))
        .all(db)
        .await?
        .into_iter()
        .map(|o| o.org_id)
        .collect())
}

async fn has_obtained<C: ConnectionTrait>(db: &C, tender_id: TenderId, org_id: OrgId) -> AppResult<bool> {
    Ok(document_obtained::Entity::find()
        .filter(document_obtained::Column::TenderId.eq(tender_id))
        .filter(document_obtained::Column::OrgId.eq(org_id))
        .count(db)
        .await?
        > 0)
}

/// A supplier obtains the tender documents (获取招标文件); recorded once per organisation.
pub async fn obtain(state: &Tenders, actor: &Actor, id: Uuid) -> AppResult<()> {
    if actor.role != Role::Supplier {
        return Err(AppError::forbidden());
    }
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let t = load_visible(&txn, Some(actor), id).await?;
    require_state(&t, &[TenderState::Published])?;
    if now >= t.bid_deadline {
        return Err(AppError::rule("deadline_passed", "the bid deadline has passed"));
    }
    super::invitations::check_obtain(&txn, &t, actor.org_id).await?;
    if has_obtained(&txn, t.id, actor.org_id).await? {
        txn.rollback().await?;
        return Ok(());
    }
    if t.documents_from.is_some_and(|from| now < from) {
        return Err(AppError::rule("obtain_not_started", "the period for obtaining the documents has not begun"));
    }
    if t.documents_until.is_some_and(|until| now >= until) {
        return Err(AppError::rule("obtain_period_over", "the period for obtaining the documents has ended"));
    }
    document_obtained::ActiveModel {
        tender_id: Set(t.id),
        org_id: Set(actor.org_id),
        user_id: Set(actor.user_id),
        obtained_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.record(
        &actor.audit(),
        AuditEntry::new(Action::TenderDocumentsObtained, t.public_id, json!({"org": actor.org_public_id})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Reads a document, if the actor may.
pub async fn read_document(state: &Tenders, actor: &Actor, id: Uuid, doc_id: Uuid) -> AppResult<(String, Bytes)> {
    let t = load_visible(&state.db, Some(actor), id).await?;
    let obtained = has_obtained(&state.db, t.id, actor.org_id).await?;
    if !policy::permissions(Some(actor), &t, obtained, state.clock.now()).download {
        return Err(AppError::forbidden_because("obtain_first", "obtain the tender documents first"));
    }
    let doc = tender_document::Entity::find()
        .filter(tender_document::Column::PublicId.eq(doc_id))
        .filter(tender_document::Column::TenderId.eq(t.id))
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    let data = state.blobs.get(&doc.sha256).await.map_err(AppError::internal)?;
    Ok((doc.file_name, data))
}

/// A supplier who obtained the documents asks a question before the cut-off.
pub async fn ask(state: &Tenders, actor: &Actor, id: Uuid, body: &str) -> AppResult<Uuid> {
    if actor.role != Role::Supplier {
        return Err(AppError::forbidden());
    }
    let body = required_text("body", body, 4000)?;
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let t = load_visible(&txn, Some(actor), id).await?;
    require_state(&t, &[TenderState::Published])?;
    if !has_obtained(&txn, t.id, actor.org_id).await? {
        return Err(AppError::forbidden_because("obtain_first", "obtain the tender documents before asking"));
    }
    if now >= t.question_cutoff {
        return Err(AppError::rule("questions_closed", "the period for questions has ended"));
    }
    let q = question::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        tender_id: Set(t.id),
        org_id: Set(actor.org_id),
        user_id: Set(actor.user_id),
        body: Set(body.to_string()),
        asked_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut managers = vec![t.procuring_org_id];
    managers.extend(t.agency_org_id);
    txn.notify(&managers, question_notice(&t)).await?;
    txn.record(
        &actor.audit(),
        AuditEntry::new(Action::TenderQuestion, t.public_id, json!({"question": q.public_id, "body": body})),
    )
    .await?;
    txn.commit().await?;
    Ok(q.public_id)
}

/// A clarification, answer or amendment to publish.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ClarificationInput {
    /// Kind.
    pub kind: ClarificationKind,
    /// Text.
    pub body: String,
    /// Whether it changes the substance of the documents (always true for amendments).
    #[serde(default)]
    pub substantive: bool,
    /// The question answered (for answers).
    pub question: Option<Uuid>,
    /// A later bid deadline, needed when a substantive change comes too close to the deadline.
    pub new_deadline: Option<DateTime<Utc>>,
}

/// Publishes a clarification to everyone who obtained the documents.
///
/// A substantive one less than `tenders.amendment_min_days` before the deadline is refused
/// unless it moves the deadline to at least that many days away.
pub async fn clarify(state: &Tenders, actor: &Actor, id: Uuid, input: ClarificationInput) -> AppResult<Uuid> {
    let body = required_text("body", &input.body, 20_000)?;
    let substantive = input.substantive || input.kind == ClarificationKind::Amendment;
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let t = load_managed(&txn, actor, id).await?;
    require_state(&t, &[TenderState::Published])?;
    if now >= t.bid_deadline {
        return Err(AppError::rule("deadline_passed", "the bid deadline has passed"));
    }
    let question_id = match (input.kind, input.question) {
        (ClarificationKind::Answer, None) => return Err(AppError::invalid_field("question", "required")),
        (_, Some(qid)) => Some(
            question::Entity::find()
                .filter(question::Column::PublicId.eq(qid))
                .filter(question::Column::TenderId.eq(t.id))
                .one(&txn)
                .await?
                .ok_or_else(|| AppError::invalid_field("question", "not_found"))?
                .id,
        ),
        (_, None) => None,
    };
    let min_days = state.rules.amendment_min_days;
    let earliest = now + TimeDelta::days(min_days);
    let mut new_deadline = None;
    if let Some(d) = input.new_deadline {
        bounds::time("new_deadline", d)?;
        if d <= t.bid_deadline {
            return Err(AppError::invalid_field("new_deadline", "not_later"));
        }
        if substantive && d < earliest {
            return Err(AppError::rule(
                "amendment_too_late",
                format!("the new deadline must be at least {min_days} days after a substantive amendment"),
            )
            .with_arg("days", min_days));
        }
        new_deadline = Some(d);
    } else if substantive && t.bid_deadline < earliest {
        return Err(AppError::rule(
            "amendment_too_late",
            format!("a substantive amendment less than {min_days} days before the deadline must move the deadline"),
        )
        .with_arg("days", min_days));
    }
    let c = clarification::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        tender_id: Set(t.id),
        question_id: Set(question_id),
        kind: Set(input.kind),
        substantive: Set(substantive),
        body: Set(body.to_string()),
        old_deadline: Set(new_deadline.map(|_| t.bid_deadline)),
        new_deadline: Set(new_deadline),
        published_by: Set(actor.user_id),
        published_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if let Some(d) = new_deadline {
        let shift = d - t.bid_deadline;
        tender::ActiveModel {
            id: Set(t.id),
            bid_deadline: Set(d),
            question_cutoff: Set(t.question_cutoff + shift),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        // The hall opens at the new deadline.
        txn.schedule(deadline_job(t.id, d)).await?;
        // And its reminders come before the new deadline (the old deadline's do nothing).
        super::reminders::schedule(&mut txn, t.id, d).await?;
    }
    let orgs = obtainers(&txn, t.id).await?;
    txn.notify(&orgs, clarification_notice(&t, input.kind, new_deadline)).await?;
    let details = json!({
        "clarification": c.public_id, "kind": input.kind, "substantive": substantive, "body_sha256": hex::encode(ring::digest::digest(&ring::digest::SHA256, body.as_bytes())),
        "old_deadline": c.old_deadline, "new_deadline": new_deadline, "notified": orgs.len(),
    });
    txn.record(&actor.audit(), AuditEntry::new(Action::TenderClarification, t.public_id, details)).await?;
    txn.commit().await?;
    Ok(c.public_id)
}

/// The notice to those who obtained the documents that tender `t` was cancelled for `reason`.
pub(crate) fn cancelled_notice(t: &tender::Model, reason: &str) -> Notice {
    Notice::new(NoticeKind::TenderCancelled)
        .arg("title", &t.title)
        .arg("code", &t.code)
        .arg("reason", reason)
        .about_tender(t.id)
        .link(format!("/tenders/{}", t.public_id))
}

/// The notice to the managers of tender `t` that a supplier asked a question.
pub(crate) fn question_notice(t: &tender::Model) -> Notice {
    Notice::new(NoticeKind::QuestionReceived)
        .arg("title", &t.title)
        .about_tender(t.id)
        .link(format!("/tenders/{}#questions", t.public_id))
}

/// The notice to those who obtained the documents of tender `t` (as it was before the
/// clarification) that a clarification of `kind` was published, moving the bid deadline to
/// `new_deadline` if there is one.
pub(crate) fn clarification_notice(
    t: &tender::Model,
    kind: ClarificationKind,
    new_deadline: Option<DateTime<Utc>>,
) -> Notice {
    let what = match kind {
        ClarificationKind::Answer => "clarification.kind.answer",
        ClarificationKind::Clarification => "clarification.kind.clarification",
        ClarificationKind::Amendment => "clarification.kind.amendment",
    };
    let (change, deadline) = match new_deadline {
        Some(d) => ("notice.deadline.moved", d),
        None => ("notice.deadline.kept", t.bid_deadline),
    };
    Notice::new(NoticeKind::ClarificationIssued)
        .arg("title", &t.title)
        .arg_key("what", what)
        .arg_key("change", change)
        .arg_time("deadline", deadline)
        .about_tender(t.id)
        .link(format!("/tenders/{}#clarifications", t.public_id))
}

/// Filters of the public tender search.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words in the title or code.
    pub q: Option<String>,
    /// Procurement method.
    pub method: Option<String>,
    /// State (`published`, `cancelled`, ...; never `draft`).
    pub state: Option<String>,
    /// Deadline on or after (YYYY-MM-DD, UTC+8).
    pub deadline_from: Option<String>,
    /// Deadline on or before (YYYY-MM-DD, UTC+8).
    pub deadline_to: Option<String>,
    /// Page, from 1.
    pub page: Option<u64>,
}

/// A search filter's day (China time) as the instant it starts, or with `end` the last second
/// of it: `invalid` if it is not a day, `out_of_range` outside the years 1970–9999.
fn parse_day(name: &'static str, s: &str, end: bool) -> AppResult<DateTime<Utc>> {
    let invalid = || AppError::invalid_field(name, "invalid");
    let d = bounds::day(name, chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| invalid())?)?;
    let t = if end { d.and_hms_opt(23, 59, 59) } else { d.and_hms_opt(0, 0, 0) }.ok_or_else(invalid)?;
    t.and_local_timezone(crate::web::cst()).single().map(|t| t.with_timezone(&Utc)).ok_or_else(invalid)
}

/// A page of search results.
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub struct SearchPage {
    /// Results.
    pub items: Vec<TenderSummary>,
    /// Total matches.
    pub total: u64,
    /// This page, from 1.
    pub page: u64,
    /// Number of pages.
    pub pages: u64,
}

/// Page size of lists.
pub const PAGE_SIZE: u64 = 20;

/// Searches the public (non-draft) tenders.
pub async fn search_public(db: &DatabaseConnection, q: &SearchQuery) -> AppResult<SearchPage> {
    let mut cond = Condition::all().add(tender::Column::State.ne(TenderState::Draft));
    if let Some(words) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if words.chars().count() > 100 {
            return Err(AppError::invalid_field("q", "too_long"));
        }
        for w in words.split_whitespace() {
            cond =
                cond.add(Condition::any().add(tender::Column::Title.contains(w)).add(tender::Column::Code.contains(w)));
        }
    }
    if let Some(m) = q.method.as_deref().filter(|s| !s.is_empty()) {
        let m = ProcurementMethod::parse(m).ok_or_else(|| AppError::invalid_field("method", "invalid"))?;
        cond = cond.add(tender::Column::ProcurementMethod.eq(m));
    }
    if let Some(s) = q.state.as_deref().filter(|s| !s.is_empty()) {
        let s = TenderState::parse(s)
            .filter(|s| s.is_public())
            .ok_or_else(|| AppError::invalid_field("state", "invalid"))?;
        cond = cond.add(tender::Column::State.eq(s));
    }
    if let Some(d) = q.deadline_from.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(tender::Column::BidDeadline.gte(parse_day("deadline_from", d, false)?));
    }
    if let Some(d) = q.deadline_to.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(tender::Column::BidDeadline.lte(parse_day("deadline_to", d, true)?));
    }
    let page = bounds::page(q.page, bounds::MAX_PAGE)?;
    let query = tender::Entity::find()
        .filter(cond)
        .order_by_desc(tender::Column::PublishedAt)
        .order_by_desc(tender::Column::Id);
    let total = query.clone().count(db).await?;
    let rows = query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE).all(db).await?;
    Ok(SearchPage { items: summaries(db, rows).await?, total, page, pages: total.div_ceil(PAGE_SIZE).max(1) })
}

/// The tenders on the actor's desk: those their organisation runs (drafts included), those it
/// obtained documents of (suppliers), or all (overseers).
pub async fn workspace(db: &DatabaseConnection, actor: &Actor) -> AppResult<Vec<TenderSummary>> {
    let q = tender::Entity::find().order_by_desc(tender::Column::UpdatedAt).limit(200);
    let rows = match actor.role {
        Role::AgencyStaff | Role::ProcuringStaff => {
            q.filter(
                Condition::any()
                    .add(tender::Column::ProcuringOrgId.eq(actor.org_id))
                    .add(tender::Column::AgencyOrgId.eq(actor.org_id)),
            )
            .all(db)
            .await?
        }
        Role::Supplier => {
            let ids: Vec<TenderId> = document_obtained::Entity::find()
                .filter(document_obtained::Column::OrgId.eq(actor.org_id))
                .all(db)
                .await?
                .into_iter()
                .map(|o| o.tender_id)
                .collect();
            q.filter(tender::Column::Id.is_in(ids)).all(db).await?
        }
        Role::Supervisor | Role::PlatformAdmin => q.all(db).await?,
        Role::Expert => Vec::new(),
    };
    summaries(db, rows).await
}

async fn org_names<C: ConnectionTrait>(db: &C, ids: Vec<OrgId>) -> AppResult<HashMap<OrgId, String>> {
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

async fn summaries<C: ConnectionTrait>(db: &C, rows: Vec<tender::Model>) -> AppResult<Vec<TenderSummary>> {
    let ids: Vec<TenderId> = rows.iter().map(|t| t.id).collect();
    let mut budgets: HashMap<TenderId, Vec<Money>> = HashMap::new();
    for l in lot::Entity::find().filter(lot::Column::TenderId.is_in(ids)).all(db).await? {
        budgets.entry(l.tender_id).or_default().push(l.budget_fen);
    }
    let mut org_ids: Vec<OrgId> = rows.iter().map(|t| t.procuring_org_id).collect();
    org_ids.extend(rows.iter().filter_map(|t| t.agency_org_id));
    let orgs = orgs_of(db, org_ids).await?;
    rows.into_iter()
        .map(|t| {
            let budget = Money::checked_sum(budgets.remove(&t.id).unwrap_or_default())?;
            Ok(summary(&t, &orgs, budget))
        })
        .collect()
}

/// The organisations with these ids: their public ids and names.
async fn orgs_of<C: ConnectionTrait>(db: &C, ids: Vec<OrgId>) -> AppResult<HashMap<OrgId, (Uuid, String)>> {
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, (o.public_id, o.name)))
        .collect())
}

fn summary(t: &tender::Model, orgs: &HashMap<OrgId, (Uuid, String)>, budget: Money) -> TenderSummary {
    let name = |id: &OrgId| orgs.get(id).map(|(_, n)| n.clone());
    TenderSummary {
        id: t.public_id,
        code: t.code.clone(),
        title: t.title.clone(),
        state: state_of(t),
        procurement_method: t.procurement_method,
        evaluation_method: t.evaluation_method,
        bid_deadline: t.bid_deadline,
        procuring_org: name(&t.procuring_org_id).unwrap_or_default(),
        procuring_org_id: orgs.get(&t.procuring_org_id).map(|(id, _)| *id).unwrap_or_default(),
        agency_org: t.agency_org_id.and_then(|id| name(&id)),
        total_budget: budget,
        published_at: t.published_at,
    }
}

/// Everything the actor may see of a tender.
pub async fn detail(state: &Tenders, actor: Option<&Actor>, id: Uuid) -> AppResult<TenderDetail> {
    let db = &state.db;
    let t = load_visible(db, actor, id).await?;
    let obtained = match actor {
        Some(a) => has_obtained(db, t.id, a.org_id).await?,
        None => false,
    };
    let now = state.clock.now();
    let permissions = policy::permissions(actor, &t, obtained, now);
    let oversees = actor.is_some_and(|a| policy::is_overseer(a) || is_manager(a, &t));
    let lots =
        lot::Entity::find().filter(lot::Column::TenderId.eq(t.id)).order_by_asc(lot::Column::LotNo).all(db).await?;
    let docs = tender_document::Entity::find()
        .filter(tender_document::Column::TenderId.eq(t.id))
        .order_by_asc(tender_document::Column::Id)
        .all(db)
        .await?;
    let see_clarifications = oversees || obtained;
    let questions_all = question::Entity::find()
        .filter(question::Column::TenderId.eq(t.id))
        .order_by_asc(question::Column::Id)
        .all(db)
        .await?;
    // One read serves both the answered marks on questions and, for those who may see them, the list.
    let all_clarifications = clarification::Entity::find()
        .filter(clarification::Column::TenderId.eq(t.id))
        .order_by_asc(clarification::Column::Id)
        .all(db)
        .await?;
    let answered: std::collections::HashSet<i64> = all_clarifications.iter().filter_map(|c| c.question_id).collect();
    let clarifications = if see_clarifications { all_clarifications } else { Vec::new() };
    let q_text: HashMap<i64, String> = questions_all.iter().map(|q| (q.id, q.body.clone())).collect();
    let sees_askers = actor.is_some_and(policy::sees_askers);
    let asker_names = if sees_askers {
        org_names(db, questions_all.iter().map(|q| q.org_id).collect()).await?
    } else {
        HashMap::new()
    };
    let questions = questions_all
        .into_iter()
        .filter(|q| oversees || actor.is_some_and(|a| a.org_id == q.org_id))
        .map(|q| QuestionView {
            id: q.public_id,
            asked_by: if sees_askers || actor.is_some_and(|a| a.org_id == q.org_id) {
                asker_names.get(&q.org_id).cloned().or_else(|| actor.map(|a| a.org_name.clone()))
            } else {
                None
            },
            answered: answered.contains(&q.id),
            body: q.body,
            asked_at: q.asked_at,
        })
        .collect();
    let obtained_count = if oversees {
        Some(document_obtained::Entity::find().filter(document_obtained::Column::TenderId.eq(t.id)).count(db).await?)
    } else {
        None
    };
    let bid_form: Vec<BidFormField> = serde_json::from_str(&t.bid_form)
        .map_err(|e| AppError::internal(format!("tenders.bid_form of row {}: {e}", t.id)))?;
    let orgs = orgs_of(db, [Some(t.procuring_org_id), t.agency_org_id].into_iter().flatten().collect()).await?;
    let budget = Money::checked_sum(lots.iter().map(|l| l.budget_fen))?;
    Ok(TenderDetail {
        summary: summary(&t, &orgs, budget),
        qualification: t.qualification.clone(),
        contact_person: t.contact_person.clone(),
        region: t.region.clone(),
        contact_phone: t.contact_phone.clone(),
        documents_from: t.documents_from,
        documents_until: t.documents_until,
        deposit: t.deposit_fen,
        description: t.description.clone(),
        question_cutoff: t.question_cutoff,
        opening_mode: t.opening_mode,
        min_valid_bids: t.min_valid_bids,
        bid_form,
        lots: lots
            .into_iter()
            .map(|l| LotView {
                id: l.public_id,
                lot_no: l.lot_no,
                name: l.name,
                budget: l.budget_fen,
                ceiling: l.ceiling_fen,
            })
            .collect(),
        documents: docs
            .into_iter()
            .map(|d| DocumentView {
                id: d.public_id,
                file_name: d.file_name,
                sha256: d.sha256,
                size_bytes: d.size_bytes,
                pages: d.pages,
                uploaded_at: d.uploaded_at,
            })
            .collect(),
        clarifications: clarifications
            .into_iter()
            .map(|c| ClarificationView {
                id: c.public_id,
                kind: c.kind,
                substantive: c.substantive,
                question: c.question_id.and_then(|q| q_text.get(&q).cloned()),
                body: c.body,
                old_deadline: c.old_deadline,
                new_deadline: c.new_deadline,
                published_at: c.published_at,
            })
            .collect(),
        questions,
        cancel_reason: t.cancel_reason.clone(),
        permissions,
        obtained_count,
    })
}

/// Active procuring units, for an agency drafting a tender.
pub async fn procuring_units(db: &DatabaseConnection) -> AppResult<Vec<(Uuid, String)>> {
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Kind.eq(OrgKind::ProcuringUnit))
        .filter(organisation::Column::Status.eq(Status::Active))
        .order_by_asc(organisation::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.public_id, o.name))
        .collect())
}
