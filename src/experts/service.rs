//! The pool's rules: experts created, changed, suspended and reactivated; their employments,
//! declared conflicts and unavailable days; the login bound to an expert; the list with its
//! search, and the expert's own record.
//!
//! Every change is one unit of work with its audit record. Identity numbers are checked with
//! their GB 11643 check character, unique in the pool, and shown masked only.

use super::{
    Experts,
    model::{ExpertStatus, mask_id_number, normalize_id_number, parse_day},
    policy::{require_manage, require_read},
    specialties,
};
use crate::{
    accounts::{
        model::{Actor, OrgKind, Role},
        service as accounts,
    },
    audit::{Action, AuditEntry},
    entities::{
        expert, expert_conflict, expert_employment, expert_specialty, expert_unavailable, organisation, site, user,
    },
    error::{AppError, AppResult, FieldError, check_text, is_phone},
    ids::{ExpertId, SiteId},
    uow::UnitOfWork,
};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::Query,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;
use utoipa::ToSchema;
use uuid::Uuid;

/// Experts per page of the list.
pub const PER_PAGE: u64 = 20;
/// The most specialties an expert may have.
pub const MAX_SPECIALTIES: usize = 10;
/// The most unavailable days added at once.
pub const MAX_DAYS_AT_ONCE: usize = 366;

/// An employer of an expert.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct EmploymentInput {
    /// The employer's name (required, at most 100 characters).
    pub employer: String,
    /// Its unified social credit code (18 digits and capital letters), if known.
    #[serde(default)]
    pub credit_code: Option<String>,
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD`; none or empty for the current employer.
    #[serde(default)]
    pub until: Option<String>,
}

/// An organisation an expert declared a conflict of interest with.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ConflictInput {
    /// Its unified social credit code (18 digits and capital letters).
    pub credit_code: String,
    /// Its name (required, at most 100 characters).
    pub org_name: String,
}

/// A new expert.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ExpertInput {
    /// Name (required, at most 50 characters).
    pub name: String,
    /// 18-digit identity number (居民身份证号码) with its GB 11643 check character; unique in
    /// the pool; never shown whole again.
    pub id_number: String,
    /// Telephone number (a mobile or landline of mainland China).
    pub phone: String,
    /// Title (职称), at most 50 characters.
    pub title: String,
    /// The site (public id) the expert evaluates at.
    pub site: Uuid,
    /// Specialty codes of the catalogue (`GET /api/v1/experts/specialties`), 1 to 10.
    pub specialties: Vec<String>,
    /// Employers of the last years, the current one with no `until`.
    #[serde(default)]
    pub employments: Vec<EmploymentInput>,
    /// Days (`YYYY-MM-DD`, China time) the expert cannot evaluate.
    #[serde(default)]
    pub unavailable: Vec<String>,
    /// Declared conflicts of interest.
    #[serde(default)]
    pub conflicts: Vec<ConflictInput>,
}

/// A change of an expert's record.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ExpertUpdate {
    /// Name.
    pub name: String,
    /// A corrected identity number; none or empty keeps the stored one.
    #[serde(default)]
    pub id_number: Option<String>,
    /// Telephone number.
    pub phone: String,
    /// Title (职称).
    pub title: String,
    /// The site (public id).
    pub site: Uuid,
    /// Specialty codes, 1 to 10.
    pub specialties: Vec<String>,
}

/// Why an expert is suspended.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SuspendInput {
    /// The reason (required, at most 500 characters), recorded.
    pub reason: String,
}

/// Days an expert cannot evaluate.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct DaysInput {
    /// Days, `YYYY-MM-DD` (China time), 1 to 366.
    pub days: Vec<String>,
}

/// A login for an expert.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AccountInput {
    /// Login name (3–40 letters, digits, `_`, `-`, `.`).
    pub username: String,
    /// The initial password (8+ characters, letters and digits).
    pub password: String,
}

/// A site as an expert's record names it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SiteRef {
    /// Public id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// City.
    pub city: String,
}

/// An expert in the list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExpertSummary {
    /// Public id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// The identity number masked (`110***********123X`); the whole number is never sent.
    pub id_number_masked: String,
    /// Telephone number.
    pub phone: String,
    /// Title (职称).
    pub title: String,
    /// Site.
    pub site: SiteRef,
    /// Status.
    pub status: ExpertStatus,
    /// Specialty codes.
    pub specialties: Vec<String>,
    /// Whether a login is bound to the record.
    pub has_account: bool,
}

/// An employment as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EmploymentView {
    /// Public id.
    pub id: Uuid,
    /// Employer.
    pub employer: String,
    /// Its credit code, if known.
    pub credit_code: Option<String>,
    /// First day.
    pub from: NaiveDate,
    /// Last day; none for the current employer.
    pub until: Option<NaiveDate>,
}

/// A declared conflict as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConflictView {
    /// Public id.
    pub id: Uuid,
    /// The organisation's credit code.
    pub credit_code: String,
    /// The organisation's name.
    pub org_name: String,
    /// When it was declared.
    pub created_at: DateTime<Utc>,
}

/// An expert's whole record (with the identity number masked).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExpertView {
    /// The summary.
    #[serde(flatten)]
    pub summary: ExpertSummary,
    /// Why the expert is suspended, if it is.
    pub status_reason: Option<String>,
    /// Employers, the newest first.
    pub employments: Vec<EmploymentView>,
    /// Days the expert cannot evaluate, in order.
    pub unavailable: Vec<NaiveDate>,
    /// Declared conflicts.
    pub conflicts: Vec<ConflictView>,
    /// The ratings after its sessions, newest first.
    pub ratings: Vec<super::ratings::RatingView>,
    /// The login bound to the record, if any.
    pub username: Option<String>,
    /// When added.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

/// The filters of the list.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ExpertFilter {
    /// Part of the name.
    pub q: Option<String>,
    /// A specialty code: experts whose specialty is it or lies under it.
    pub specialty: Option<String>,
    /// A site's public id.
    pub site: Option<String>,
    /// `active` or `suspended`.
    pub status: Option<String>,
    /// Page, from 1 (20 to a page, at most 10,000).
    pub page: Option<u64>,
}

/// A page of experts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExpertPage {
    /// The experts, by name.
    pub items: Vec<ExpertSummary>,
    /// How many match.
    pub total: u64,
    /// This page, from 1.
    pub page: u64,
    /// Number of pages.
    pub pages: u64,
}

// ---------------------------------------------------------------------------------------------
// Checking input

/// A specialty code list checked against the catalogue: trimmed, unique, 1 to 10.
pub fn check_specialties(fields: &mut Vec<FieldError>, name: &'static str, codes: &[String]) -> Vec<String> {
    let mut out = BTreeSet::new();
    for c in codes {
        let c = c.trim();
        if c.is_empty() {
            continue;
        }
        if specialties::find(c).is_none() {
            fields.push(FieldError::new(name, "specialty_unknown"));
            return Vec::new();
        }
        out.insert(c.to_string());
    }
    if out.is_empty() {
        fields.push(FieldError::new(name, "required"));
    } else if out.len() > MAX_SPECIALTIES {
        fields.push(FieldError::new(name, "too_many").with_arg("max", MAX_SPECIALTIES));
    }
    out.into_iter().collect()
}

/// A credit code as stored (trimmed, capitals), if it has the form of one.
pub fn normalize_credit_code(s: &str) -> Option<String> {
    let s = s.trim().to_ascii_uppercase();
    accounts::check_credit_code(&s).then_some(s)
}

/// A checked employment.
#[derive(Debug, Clone)]
pub struct Employment {
    /// Employer.
    pub employer: String,
    /// Credit code.
    pub credit_code: Option<String>,
    /// First day.
    pub from: NaiveDate,
    /// Last day, none if current.
    pub until: Option<NaiveDate>,
}

/// Checks an employment; field names are `prefix.employer`, `prefix.credit_code`, `prefix.from`,
/// `prefix.until`.
pub fn check_employment(fields: &mut Vec<FieldError>, prefix: &str, e: &EmploymentInput) -> Option<Employment> {
    let before = fields.len();
    let f = |name: &str| format!("{prefix}{name}");
    let n = e.employer.trim().chars().count();
    if e.employer.chars().any(crate::error::is_forbidden_control) {
        fields.push(FieldError::new(f("employer"), "control_character"));
    } else if n == 0 {
        fields.push(FieldError::new(f("employer"), "required"));
    } else if n > 100 {
        fields.push(FieldError::new(f("employer"), "too_long").with_arg("max", 100));
    }
    let credit_code = match e.credit_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(c) => {
            let n = normalize_credit_code(c);
            if n.is_none() {
                fields.push(FieldError::new(f("credit_code"), "credit_code_invalid"));
            }
            n
        }
        None => None,
    };
    let from = if e.from.trim().is_empty() {
        fields.push(FieldError::new(f("from"), "required"));
        None
    } else {
        let d = parse_day(&e.from);
        if d.is_none() {
            fields.push(FieldError::new(f("from"), "date_invalid"));
        }
        d
    };
    let until = match e.until.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(u) => match parse_day(u) {
            Some(d) => Some(d),
            None => {
                fields.push(FieldError::new(f("until"), "date_invalid"));
                None
            }
        },
        None => None,
    };
    if let (Some(a), Some(b)) = (from, until)
        && b < a
    {
        fields.push(FieldError::new(f("until"), "before_start"));
    }
    (fields.len() == before).then(|| Employment {
        employer: e.employer.trim().to_string(),
        credit_code,
        from: from.unwrap_or_default(),
        until,
    })
}

/// Checks a declared conflict; field names `prefix.credit_code`, `prefix.org_name`.
pub fn check_conflict(fields: &mut Vec<FieldError>, prefix: &str, c: &ConflictInput) -> Option<(String, String)> {
    let before = fields.len();
    let code = normalize_credit_code(&c.credit_code);
    if code.is_none() {
        let what = if c.credit_code.trim().is_empty() { "required" } else { "credit_code_invalid" };
        fields.push(FieldError::new(format!("{prefix}credit_code"), what));
    }
    let n = c.org_name.trim().chars().count();
    if c.org_name.chars().any(crate::error::is_forbidden_control) {
        fields.push(FieldError::new(format!("{prefix}org_name"), "control_character"));
    } else if n == 0 {
        fields.push(FieldError::new(format!("{prefix}org_name"), "required"));
    } else if n > 100 {
        fields.push(FieldError::new(format!("{prefix}org_name"), "too_long").with_arg("max", 100));
    }
    (fields.len() == before).then(|| (code.unwrap_or_default(), c.org_name.trim().to_string()))
}

/// Checks the days; field name `name`.
pub fn check_days(fields: &mut Vec<FieldError>, name: &'static str, days: &[String]) -> Vec<NaiveDate> {
    let mut out = BTreeSet::new();
    for d in days {
        if d.trim().is_empty() {
            continue;
        }
        match parse_day(d) {
            Some(d) => {
                out.insert(d);
            }
            None => {
                fields.push(FieldError::new(name, "date_invalid"));
                return Vec::new();
            }
        }
    }
    if out.len() > MAX_DAYS_AT_ONCE {
        fields.push(FieldError::new(name, "too_many").with_arg("max", MAX_DAYS_AT_ONCE));
    }
    out.into_iter().collect()
}

/// The checked fields of an expert's own record.
#[derive(Debug, Clone)]
pub struct Person {
    /// Name.
    pub name: String,
    /// The identity number, normalized; none when an update keeps the stored one.
    pub id_number: Option<String>,
    /// Phone.
    pub phone: String,
    /// Title.
    pub title: String,
    /// Specialties.
    pub specialties: Vec<String>,
}

/// Checks name, identity number (required unless `id_optional`), phone, title and specialties.
pub fn check_person(
    fields: &mut Vec<FieldError>,
    name: &str,
    id_number: Option<&str>,
    id_optional: bool,
    phone: &str,
    title: &str,
    codes: &[String],
) -> Person {
    check_text(fields, "name", name, 1, 50);
    let id = id_number.map(str::trim).filter(|s| !s.is_empty());
    let id_number = match id {
        Some(v) => {
            let n = normalize_id_number(v);
            if n.is_none() {
                fields.push(FieldError::new("id_number", "id_number_invalid"));
            }
            n
        }
        None => {
            if !id_optional {
                fields.push(FieldError::new("id_number", "required"));
            }
            None
        }
    };
    if phone.trim().is_empty() {
        fields.push(FieldError::new("phone", "required"));
    } else if phone.chars().count() > 30 || !is_phone(phone) {
        fields.push(FieldError::new("phone", "phone_invalid"));
    }
    check_text(fields, "title", title, 0, 50);
    let specialties = check_specialties(fields, "specialties", codes);
    Person {
        name: name.trim().to_string(),
        id_number,
        phone: phone.trim().to_string(),
        title: title.trim().to_string(),
        specialties,
    }
}

fn id_number_taken(field: &'static str) -> AppError {
    AppError::conflict("duplicate_id_number", "an expert with this identity number is in the pool")
        .with_field(field, "duplicate_id_number")
}

// ---------------------------------------------------------------------------------------------
// Writing

/// A checked new expert, ready to store ([`insert`]): what the form, the API and the import give.
#[derive(Debug, Clone)]
pub struct NewExpert {
    /// The person; `id_number` is set.
    pub person: Person,
    /// Site.
    pub site: SiteId,
    /// Employments.
    pub employments: Vec<Employment>,
    /// Unavailable days.
    pub unavailable: Vec<NaiveDate>,
    /// Conflicts: credit code and name.
    pub conflicts: Vec<(String, String)>,
}

/// Stores a checked expert with its specialties, employments, days and conflicts (in the
/// caller's unit of work; the caller records).
pub async fn insert(uow: &UnitOfWork, e: &NewExpert) -> AppResult<expert::Model> {
    let now = uow.now();
    let row = expert::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        name: Set(e.person.name.clone()),
        id_number: Set(e.person.id_number.clone().unwrap_or_default()),
        phone: Set(e.person.phone.clone()),
        title: Set(e.person.title.clone()),
        site_id: Set(e.site),
        status: Set(ExpertStatus::Active),
        status_reason: Set(None),
        user_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(uow)
    .await?;
    set_specialties(uow, row.id, &e.person.specialties).await?;
    for emp in &e.employments {
        insert_employment(uow, row.id, emp).await?;
    }
    for d in &e.unavailable {
        expert_unavailable::ActiveModel { expert_id: Set(row.id), day: Set(*d), ..Default::default() }
            .insert(uow)
            .await?;
    }
    let mut seen = BTreeSet::new();
    for (code, name) in &e.conflicts {
        if seen.insert(code.clone()) {
            insert_conflict(uow, row.id, code, name).await?;
        }
    }
    Ok(row)
}

async fn set_specialties(uow: &UnitOfWork, id: ExpertId, codes: &[String]) -> AppResult<()> {
    expert_specialty::Entity::delete_many().filter(expert_specialty::Column::ExpertId.eq(id)).exec(uow).await?;
    for c in codes {
        expert_specialty::ActiveModel { expert_id: Set(id), code: Set(c.clone()), ..Default::default() }
            .insert(uow)
            .await?;
    }
    Ok(())
}

async fn insert_employment(uow: &UnitOfWork, id: ExpertId, e: &Employment) -> AppResult<expert_employment::Model> {
    Ok(expert_employment::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        expert_id: Set(id),
        employer: Set(e.employer.clone()),
        credit_code: Set(e.credit_code.clone()),
        from_date: Set(e.from),
        until_date: Set(e.until),
        ..Default::default()
    }
    .insert(uow)
    .await?)
}

async fn insert_conflict(uow: &UnitOfWork, id: ExpertId, code: &str, name: &str) -> AppResult<expert_conflict::Model> {
    Ok(expert_conflict::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        expert_id: Set(id),
        credit_code: Set(code.to_string()),
        org_name: Set(name.to_string()),
        created_at: Set(uow.now()),
        ..Default::default()
    }
    .insert(uow)
    .await?)
}

/// Whether the pool already holds this identity number.
pub async fn id_number_exists<C: ConnectionTrait>(db: &C, id_number: &str) -> AppResult<bool> {
    Ok(expert::Entity::find().filter(expert::Column::IdNumber.eq(id_number)).count(db).await? > 0)
}

/// Checks a new expert's input (collecting every field error).
pub async fn check_new<C: ConnectionTrait>(db: &C, input: &ExpertInput) -> AppResult<NewExpert> {
    let mut fields = Vec::new();
    let person = check_person(
        &mut fields,
        &input.name,
        Some(&input.id_number),
        false,
        &input.phone,
        &input.title,
        &input.specialties,
    );
    let site = site::Entity::find().filter(site::Column::PublicId.eq(input.site)).one(db).await?;
    if site.is_none() {
        fields.push(FieldError::new("site", "site_unknown"));
    }
    let mut employments = Vec::new();
    for (i, e) in input.employments.iter().enumerate() {
        if let Some(e) = check_employment(&mut fields, &format!("employments[{i}]."), e) {
            employments.push(e);
        }
    }
    let unavailable = check_days(&mut fields, "unavailable", &input.unavailable);
    let mut conflicts = Vec::new();
    for (i, c) in input.conflicts.iter().enumerate() {
        if let Some(c) = check_conflict(&mut fields, &format!("conflicts[{i}]."), c) {
            conflicts.push(c);
        }
    }
    match site {
        Some(site) if fields.is_empty() => Ok(NewExpert { person, site: site.id, employments, unavailable, conflicts }),
        _ => Err(AppError::validation(fields)),
    }
}

/// Adds an expert to the pool (the centre's staff, the administrator). Refusals: field errors
/// (`name`, `title` `required`/`too_long`; `id_number` `required`/`id_number_invalid`; `phone`
/// `phone_invalid`; `site` `site_unknown`; `specialties` `required`/`specialty_unknown`/
/// `too_many`; `employments[i].*`, `conflicts[i].*`, `unavailable` `date_invalid`,
/// `credit_code_invalid`, `before_start`), 409 `duplicate_id_number`.
pub async fn create(state: &Experts, actor: &Actor, input: &ExpertInput) -> AppResult<Uuid> {
    require_manage(actor)?;
    let checked = check_new(&state.db, input).await?;
    let mut uow = state.writer.begin().await?;
    let id_number = checked.person.id_number.clone().unwrap_or_default();
    if id_number_exists(&uow, &id_number).await? {
        return Err(id_number_taken("id_number"));
    }
    let row = insert(&uow, &checked).await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::ExpertCreate,
            row.public_id,
            json!({"name": row.name, "id_number": mask_id_number(&row.id_number), "specialties": checked.person.specialties,
                   "employments": checked.employments.len(), "conflicts": checked.conflicts.len(), "unavailable": checked.unavailable.len()}),
        ),
    )
    .await?;
    uow.commit().await?;
    Ok(row.public_id)
}

/// The expert with this public id.
pub async fn find<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<expert::Model> {
    expert::Entity::find().filter(expert::Column::PublicId.eq(id)).one(db).await?.ok_or_else(AppError::not_found)
}

/// Changes an expert's record (the centre's staff, the administrator); the refusals of
/// [`create`] for these fields.
pub async fn update(state: &Experts, actor: &Actor, id: Uuid, input: &ExpertUpdate) -> AppResult<()> {
    require_manage(actor)?;
    let mut fields = Vec::new();
    let person = check_person(
        &mut fields,
        &input.name,
        input.id_number.as_deref(),
        true,
        &input.phone,
        &input.title,
        &input.specialties,
    );
    let mut uow = state.writer.begin().await?;
    let e = find(&uow, id).await?;
    let site = site::Entity::find().filter(site::Column::PublicId.eq(input.site)).one(&uow).await?;
    if site.is_none() {
        fields.push(FieldError::new("site", "site_unknown"));
    }
    let Some(site) = site.filter(|_| fields.is_empty()) else {
        return Err(AppError::validation(fields));
    };
    if let Some(n) = &person.id_number
        && *n != e.id_number
        && id_number_exists(&uow, n).await?
    {
        return Err(id_number_taken("id_number"));
    }
    let id_changed = person.id_number.as_ref().is_some_and(|n| *n != e.id_number);
    expert::ActiveModel {
        id: Set(e.id),
        name: Set(person.name.clone()),
        id_number: Set(person.id_number.clone().unwrap_or(e.id_number.clone())),
        phone: Set(person.phone.clone()),
        title: Set(person.title.clone()),
        site_id: Set(site.id),
        updated_at: Set(uow.now()),
        ..Default::default()
    }
    .update(&uow)
    .await?;
    set_specialties(&uow, e.id, &person.specialties).await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::ExpertUpdate,
            e.public_id,
            json!({"name": person.name, "phone": person.phone, "title": person.title, "site": site.public_id,
                   "specialties": person.specialties, "id_number_changed": id_changed,
                   "id_number": mask_id_number(person.id_number.as_deref().unwrap_or(&e.id_number))}),
        ),
    )
    .await?;
    uow.commit().await?;
    Ok(())
}

/// Suspends an expert with a reason (recorded, shown on its record); a suspended expert is not
/// drawn. 409 `already_suspended`; `reason` `required`/`too_long`.
pub async fn suspend(state: &Experts, actor: &Actor, id: Uuid, input: &SuspendInput) -> AppResult<()> {
    require_manage(actor)?;
    let reason = crate::error::required_text("reason", &input.reason, 500)?;
    let mut uow = state.writer.begin().await?;
    let e = find(&uow, id).await?;
    if e.status == ExpertStatus::Suspended {
        return Err(AppError::conflict("already_suspended", "this expert is suspended already"));
    }
    set_status(&uow, &e, ExpertStatus::Suspended, Some(reason.to_string())).await?;
    uow.record(&actor.audit(), AuditEntry::new(Action::ExpertSuspend, e.public_id, json!({"reason": reason}))).await?;
    uow.commit().await?;
    Ok(())
}

/// Reactivates a suspended expert. 409 `not_suspended`.
pub async fn reactivate(state: &Experts, actor: &Actor, id: Uuid) -> AppResult<()> {
    require_manage(actor)?;
    let mut uow = state.writer.begin().await?;
    let e = find(&uow, id).await?;
    if e.status != ExpertStatus::Suspended {
        return Err(AppError::conflict("not_suspended", "this expert is not suspended"));
    }
    set_status(&uow, &e, ExpertStatus::Active, None).await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(Action::ExpertReactivate, e.public_id, json!({"suspended_for": e.status_reason})),
    )
    .await?;
    uow.commit().await?;
    Ok(())
}

/// Suspends an expert inside the caller's unit of work (a rating under the threshold); the
/// caller records why.
pub(crate) async fn suspend_within(uow: &UnitOfWork, e: &expert::Model, reason: &str) -> AppResult<()> {
    set_status(uow, e, ExpertStatus::Suspended, Some(reason.to_string())).await
}

async fn set_status(
    uow: &UnitOfWork,
    e: &expert::Model,
    status: ExpertStatus,
    reason: Option<String>,
) -> AppResult<()> {
    expert::ActiveModel {
        id: Set(e.id),
        status: Set(status),
        status_reason: Set(reason),
        updated_at: Set(uow.now()),
        ..Default::default()
    }
    .update(uow)
    .await?;
    Ok(())
}

async fn touch(uow: &UnitOfWork, e: &expert::Model) -> AppResult<()> {
    expert::ActiveModel { id: Set(e.id), updated_at: Set(uow.now()), ..Default::default() }.update(uow).await?;
    Ok(())
}

/// Adds an employment. Field errors of [`check_employment`] (without a prefix).
pub async fn add_employment(state: &Experts, actor: &Actor, id: Uuid, input: &EmploymentInput) -> AppResult<Uuid> {
    require_manage(actor)?;
    let mut fields = Vec::new();
    let emp = check_employment(&mut fields, "", input);
    let Some(emp) = emp.filter(|_| fields.is_empty()) else { return Err(AppError::validation(fields)) };
    let mut uow = state.writer.begin().await?;
    let e = find(&uow, id).await?;
    let row = insert_employment(&uow, e.id, &emp).await?;
    touch(&uow, &e).await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::ExpertEmploymentAdd,
            e.public_id,
            json!({"employer": emp.employer, "credit_code": emp.credit_code, "from": emp.from, "until": emp.until}),
        ),
    )
    .await?;
    uow.commit().await?;
    Ok(row.public_id)
}

/// Removes an employment (404 if it is not this expert's).
pub async fn remove_employment(state: &Experts, actor: &Actor, id: Uuid, employment: Uuid) -> AppResult<()> {
    require_manage(actor)?;
    let mut uow = state.writer.begin().await?;
    let e = find(&uow, id).await?;
    let row = expert_employment::Entity::find()
        .filter(expert_employment::Column::PublicId.eq(employment))
        .filter(expert_employment::Column::ExpertId.eq(e.id))
        .one(&uow)
        .await?
        .ok_or_else(AppError::not_found)?;
    expert_employment::Entity::delete_by_id(row.id).exec(&uow).await?;
    touch(&uow, &e).await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::ExpertEmploymentRemove,
            e.public_id,
            json!({"employer": row.employer, "credit_code": row.credit_code, "from": row.from_date, "until": row.until_date}),
        ),
    )
    .await?;
    uow.commit().await?;
    Ok(())
}

/// Declares a conflict with an organisation. 409 `conflict_declared` if it is declared already.
pub async fn add_conflict(state: &Experts, actor: &Actor, id: Uuid, input: &ConflictInput) -> AppResult<Uuid> {
    require_manage(actor)?;
    let mut fields = Vec::new();
    let c = check_conflict(&mut fields, "", input);
    let Some((code, name)) = c.filter(|_| fields.is_empty()) else { return Err(AppError::validation(fields)) };
    let mut uow = state.writer.begin().await?;
    let e = find(&uow, id).await?;
    let exists = expert_conflict::Entity::find()
        .filter(expert_conflict::Column::ExpertId.eq(e.id))
        .filter(expert_conflict::Column::CreditCode.eq(&code))
        .count(&uow)
        .await?
        > 0;
    if exists {
        return Err(AppError::conflict("conflict_declared", "a conflict with this organisation is declared already")
            .with_field("credit_code", "conflict_declared"));
    }
    let row = insert_conflict(&uow, e.id, &code, &name).await?;
    touch(&uow, &e).await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(Action::ExpertConflictAdd, e.public_id, json!({"credit_code": code, "org_name": name})),
    )
    .await?;
    uow.commit().await?;
    Ok(row.public_id)
}

/// Removes a declared conflict (404 if it is not this expert's).
pub async fn remove_conflict(state: &Experts, actor: &Actor, id: Uuid, conflict: Uuid) -> AppResult<()> {
    require_manage(actor)?;
    let mut uow = state.writer.begin().await?;
    let e = find(&uow, id).await?;
    let row = expert_conflict::Entity::find()
        .filter(expert_conflict::Column::PublicId.eq(conflict))
        .filter(expert_conflict::Column::ExpertId.eq(e.id))
        .one(&uow)
        .await?
        .ok_or_else(AppError::not_found)?;
    expert_conflict::Entity::delete_by_id(row.id).exec(&uow).await?;
    touch(&uow, &e).await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::ExpertConflictRemove,
            e.public_id,
            json!({"credit_code": row.credit_code, "org_name": row.org_name}),
        ),
    )
    .await?;
    uow.commit().await?;
    Ok(())
}

/// Adds days the expert cannot evaluate (days already noted are kept once). `days`
/// `required`/`date_invalid`/`too_many`.
pub async fn add_unavailable(state: &Experts, actor: &Actor, id: Uuid, input: &DaysInput) -> AppResult<usize> {
    require_manage(actor)?;
    let mut fields = Vec::new();
    let days = check_days(&mut fields, "days", &input.days);
    if days.is_empty() && fields.is_empty() {
        fields.push(FieldError::new("days", "required"));
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let mut uow = state.writer.begin().await?;
    let e = find(&uow, id).await?;
    let have: BTreeSet<NaiveDate> = expert_unavailable::Entity::find()
        .filter(expert_unavailable::Column::ExpertId.eq(e.id))
        .all(&uow)
        .await?
        .into_iter()
        .map(|d| d.day)
        .collect();
    let new: Vec<NaiveDate> = days.into_iter().filter(|d| !have.contains(d)).collect();
    for d in &new {
        expert_unavailable::ActiveModel { expert_id: Set(e.id), day: Set(*d), ..Default::default() }
            .insert(&uow)
            .await?;
    }
    if !new.is_empty() {
        touch(&uow, &e).await?;
        uow.record(&actor.audit(), AuditEntry::new(Action::ExpertUnavailableAdd, e.public_id, json!({"days": new})))
            .await?;
    }
    uow.commit().await?;
    Ok(new.len())
}

/// Removes an unavailable day (404 if it is not noted).
pub async fn remove_unavailable(state: &Experts, actor: &Actor, id: Uuid, day: &str) -> AppResult<()> {
    require_manage(actor)?;
    let day = parse_day(day).ok_or_else(|| AppError::invalid_field("day", "date_invalid"))?;
    let mut uow = state.writer.begin().await?;
    let e = find(&uow, id).await?;
    let row = expert_unavailable::Entity::find()
        .filter(expert_unavailable::Column::ExpertId.eq(e.id))
        .filter(expert_unavailable::Column::Day.eq(day))
        .one(&uow)
        .await?
        .ok_or_else(AppError::not_found)?;
    expert_unavailable::Entity::delete_by_id(row.id).exec(&uow).await?;
    touch(&uow, &e).await?;
    uow.record(&actor.audit(), AuditEntry::new(Action::ExpertUnavailableRemove, e.public_id, json!({"day": day})))
        .await?;
    uow.commit().await?;
    Ok(())
}

/// The organisation expert logins belong to: the first expert pool, or a new one.
async fn pool_org(uow: &mut UnitOfWork, actor: &Actor) -> AppResult<organisation::Model> {
    let found = organisation::Entity::find()
        .filter(organisation::Column::Kind.eq(OrgKind::ExpertPool))
        .order_by_asc(organisation::Column::Id)
        .one(&*uow)
        .await?;
    match found {
        Some(o) => Ok(o),
        None => accounts::create_organisation(uow, &actor.audit(), "评标专家库", OrgKind::ExpertPool, None, None).await,
    }
}

/// Creates the login of an expert (role `expert`, in the expert pool organisation) with an
/// initial password set by the centre, and binds it to the record. Refusals: `username`
/// `invalid`, `password` the password policy, 409 `username_taken`, 409 `account_exists`.
pub async fn create_account(state: &Experts, actor: &Actor, id: Uuid, input: &AccountInput) -> AppResult<Uuid> {
    require_manage(actor)?;
    let username = input.username.trim();
    let mut fields = Vec::new();
    if let Err(e) = accounts::check_username("username", username) {
        fields.push(e);
    }
    if let Err(e) = accounts::check_new_password("password", &input.password) {
        fields.extend(e.fields);
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let hash = accounts::hash_password(&input.password)?;
    let mut uow = state.writer.begin().await?;
    let e = find(&uow, id).await?;
    if e.user_id.is_some() {
        return Err(AppError::conflict("account_exists", "this expert has a login already"));
    }
    if user::Entity::find().filter(user::Column::Username.eq(username)).count(&uow).await? > 0 {
        return Err(AppError::conflict("username_taken", "this user name is taken").with_field("username", "taken"));
    }
    let org = pool_org(&mut uow, actor).await?;
    let u = accounts::create_user(&mut uow, &actor.audit(), &org, username, &e.name, Role::Expert, &hash).await?;
    expert::ActiveModel { id: Set(e.id), user_id: Set(Some(u.id)), updated_at: Set(uow.now()), ..Default::default() }
        .update(&uow)
        .await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(Action::ExpertAccountCreate, e.public_id, json!({"username": username, "user": u.public_id})),
    )
    .await?;
    uow.commit().await?;
    Ok(u.public_id)
}

// ---------------------------------------------------------------------------------------------
// Reading

async fn summaries<C: ConnectionTrait>(db: &C, rows: Vec<expert::Model>) -> AppResult<Vec<ExpertSummary>> {
    let sites = crate::sites::service::by_id(db).await?;
    let ids: Vec<ExpertId> = rows.iter().map(|e| e.id).collect();
    let mut codes: std::collections::HashMap<ExpertId, Vec<String>> = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        for s in expert_specialty::Entity::find()
            .filter(expert_specialty::Column::ExpertId.is_in(chunk.to_vec()))
            .order_by_asc(expert_specialty::Column::Code)
            .all(db)
            .await?
        {
            codes.entry(s.expert_id).or_default().push(s.code);
        }
    }
    Ok(rows
        .into_iter()
        .map(|e| {
            let site = sites.get(&e.site_id);
            ExpertSummary {
                id: e.public_id,
                id_number_masked: mask_id_number(&e.id_number),
                phone: e.phone,
                title: e.title,
                site: SiteRef {
                    id: site.map(|s| s.public_id).unwrap_or_default(),
                    name: site.map(|s| s.name.clone()).unwrap_or_default(),
                    city: site.map(|s| s.city.clone()).unwrap_or_default(),
                },
                status: e.status,
                specialties: codes.remove(&e.id).unwrap_or_default(),
                has_account: e.user_id.is_some(),
                name: e.name,
            }
        })
        .collect())
}

/// The experts matching `f`, 20 to a page, by name (those who read the pool; anyone else
/// 404). `q` `too_long`, `specialty` `specialty_unknown`, `site` `site_unknown`, `status`
/// `invalid`, `page` `out_of_range`.
pub async fn list<C: ConnectionTrait>(db: &C, actor: &Actor, f: &ExpertFilter) -> AppResult<ExpertPage> {
    require_read(actor)?;
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let mut fields = Vec::new();
    let mut cond = Condition::all();
    if let Some(q) = given(&f.q) {
        if q.chars().count() > 50 {
            fields.push(FieldError::new("q", "too_long").with_arg("max", 50));
        }
        cond = cond.add(expert::Column::Name.contains(&q));
    }
    if let Some(code) = given(&f.specialty) {
        if specialties::find(&code).is_none() {
            fields.push(FieldError::new("specialty", "specialty_unknown"));
        } else {
            let sub = Query::select()
                .column(expert_specialty::Column::ExpertId)
                .from(expert_specialty::Entity)
                .and_where(expert_specialty::Column::Code.like(format!("{code}%")))
                .to_owned();
            cond = cond.add(expert::Column::Id.in_subquery(sub));
        }
    }
    if let Some(s) = given(&f.site) {
        match Uuid::parse_str(&s) {
            Ok(id) => match site::Entity::find().filter(site::Column::PublicId.eq(id)).one(db).await? {
                Some(site) => cond = cond.add(expert::Column::SiteId.eq(site.id)),
                None => fields.push(FieldError::new("site", "site_unknown")),
            },
            Err(_) => fields.push(FieldError::new("site", "site_unknown")),
        }
    }
    if let Some(st) = given(&f.status) {
        match ExpertStatus::parse(&st) {
            Some(st) => cond = cond.add(expert::Column::Status.eq(st)),
            None => fields.push(FieldError::new("status", "invalid")),
        }
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let query = expert::Entity::find().filter(cond).order_by_asc(expert::Column::Name).order_by_asc(expert::Column::Id);
    let total = query.clone().count(db).await?;
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = crate::bounds::page(f.page, crate::bounds::MAX_PAGE)?.min(pages);
    let rows = query.offset((page - 1) * PER_PAGE).limit(PER_PAGE).all(db).await?;
    Ok(ExpertPage { items: summaries(db, rows).await?, total, page, pages })
}

/// An expert's whole record, without the permission check (the callers check).
async fn full_view<C: ConnectionTrait>(db: &C, e: expert::Model) -> AppResult<ExpertView> {
    let employments = expert_employment::Entity::find()
        .filter(expert_employment::Column::ExpertId.eq(e.id))
        .order_by_desc(expert_employment::Column::FromDate)
        .all(db)
        .await?
        .into_iter()
        .map(|r| EmploymentView {
            id: r.public_id,
            employer: r.employer,
            credit_code: r.credit_code,
            from: r.from_date,
            until: r.until_date,
        })
        .collect();
    let unavailable = expert_unavailable::Entity::find()
        .filter(expert_unavailable::Column::ExpertId.eq(e.id))
        .order_by_asc(expert_unavailable::Column::Day)
        .all(db)
        .await?
        .into_iter()
        .map(|d| d.day)
        .collect();
    let conflicts = expert_conflict::Entity::find()
        .filter(expert_conflict::Column::ExpertId.eq(e.id))
        .order_by_asc(expert_conflict::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|c| ConflictView {
            id: c.public_id,
            credit_code: c.credit_code,
            org_name: c.org_name,
            created_at: c.created_at,
        })
        .collect();
    let username = match e.user_id {
        Some(u) => user::Entity::find_by_id(u).one(db).await?.map(|u| u.username),
        None => None,
    };
    let (status_reason, created_at, updated_at) = (e.status_reason.clone(), e.created_at, e.updated_at);
    let ratings = super::ratings::of_expert(db, e.id).await?;
    let summary = summaries(db, vec![e]).await?.pop().ok_or_else(AppError::not_found)?;
    Ok(ExpertView {
        summary,
        status_reason,
        employments,
        unavailable,
        conflicts,
        ratings,
        username,
        created_at,
        updated_at,
    })
}

/// One expert's record (those who read the pool; anyone else 404).
pub async fn view<C: ConnectionTrait>(db: &C, actor: &Actor, id: Uuid) -> AppResult<ExpertView> {
    require_read(actor)?;
    full_view(db, find(db, id).await?).await
}

/// The logged-in expert's own record ("我的专家信息"); 404 for anyone whose login is bound to
/// no record.
pub async fn own<C: ConnectionTrait>(db: &C, actor: &Actor) -> AppResult<ExpertView> {
    if actor.role != Role::Expert {
        return Err(AppError::not_found());
    }
    let e = expert::Entity::find()
        .filter(expert::Column::UserId.eq(actor.user_id))
        .one(db)
        .await?
        .ok_or_else(AppError::not_found)?;
    full_view(db, e).await
}

/// A specialty of the catalogue with its labels.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SpecialtyEntry {
    /// Code.
    pub code: String,
    /// Chinese label.
    pub zh: String,
    /// English label.
    pub en: String,
    /// The parent's code, none for a class.
    pub parent: Option<String>,
}

/// The specialty catalogue.
pub fn catalogue() -> Vec<SpecialtyEntry> {
    specialties::all()
        .iter()
        .map(|s| SpecialtyEntry {
            code: s.code.clone(),
            zh: s.zh.clone(),
            en: s.en.clone(),
            parent: specialties::parent(&s.code).map(str::to_string),
        })
        .collect()
}
