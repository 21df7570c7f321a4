//! The draw's rules: preparing it (the commitment), the request with its avoidance, the
//! supervisor's contribution that runs it, the experts' answers with replacements, publication
//! (the secret revealed), and reading it back: views by role, the record, its verification.
//!
//! Who may do what: the trading centre's staff (agency staff of the centre organisation) and the
//! platform administrator prepare, request and publish; a supervisor contributes; every one of
//! them sees the draw whole. The tender's procuring unit and agency see nothing of it until the
//! result is published, and then the committee's names only; suppliers never see it (404). An
//! expert sees its own invitations: date, time, site and duration, never the tender.

use super::{
    algorithm::{self, Call, Candidate, Draw, DrawError, Group, Inputs, Pick, Recorded, Request},
    avoidance::{self, Party, PartyRole, Profile, Reason, Rules, Verdict},
    model::{CallCause, DrawState, PickRole, PickStatus},
};
use crate::{
    accounts::model::{Actor, OrgKind, Role},
    audit::{Action, AuditActor, AuditEntry},
    config::DrawSettings,
    entities::{
        draw, draw_call, draw_exclusion, draw_pick, expert, lot, opening, opening_bid, organisation, site, tender,
    },
    error::{AppError, AppResult, FieldError},
    experts::pool::{self, PoolQuery},
    ids::{DrawId, ExpertId, OrgId, SiteId, TenderId, UserId},
    jobs::{JobHandler, NewJob},
    keys::VaultKey,
    money::Money,
    notify::{Notice, NoticeKind},
    tenders::{model::TenderState, policy},
    uow::{UnitOfWork, Writer},
    web::cst,
};
use chrono::{DateTime, TimeDelta, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;

/// What the draw's services use.
#[derive(Clone)]
pub struct Draws {
    pub(crate) writer: Writer,
    vault: Arc<VaultKey>,
    settings: DrawSettings,
}

impl std::fmt::Debug for Draws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Draws").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl Draws {
    /// The draw's services over the writer, the vault key (which seals each secret until it is
    /// revealed) and the settings.
    pub fn new(writer: Writer, vault: Arc<VaultKey>, settings: DrawSettings) -> Self {
        Self { writer, vault, settings }
    }

    /// The settings.
    pub fn settings(&self) -> &DrawSettings {
        &self.settings
    }
}

/// Whether the actor runs draws: the centre's staff and the administrator.
pub fn runs_draws(a: &Actor) -> bool {
    (a.role == Role::AgencyStaff && a.org_kind == OrgKind::Centre) || a.role == Role::PlatformAdmin
}

/// Whether the actor sees draws whole: those who run them and supervisors.
pub fn watches_draws(a: &Actor) -> bool {
    runs_draws(a) || a.role == Role::Supervisor
}

// ---------------------------------------------------------------------------------------------
// Views

/// A draw as its reader may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DrawView {
    /// Public id.
    pub id: Uuid,
    /// The tender (public id).
    pub tender: Uuid,
    /// The tender's code.
    pub tender_code: String,
    /// Where it stands.
    pub state: DrawState,
    /// SHA-256 of the platform's secret, hex: recorded before the request.
    pub commitment: String,
    /// The secret, hex, once published.
    pub secret: Option<String>,
    /// The supervisor's contribution, hex.
    pub contribution: Option<String>,
    /// The request.
    pub request: Option<Request>,
    /// When the evaluation session starts.
    pub session_at: Option<DateTime<Utc>>,
    /// Its expected duration, in minutes.
    pub duration_minutes: Option<i32>,
    /// Whether a representative of the procuring unit sits on the committee.
    pub purchaser_rep: bool,
    /// The committee's size: the experts drawn and the representative.
    pub committee_size: u32,
    /// SHA-256 of the request, hex.
    pub request_digest: Option<String>,
    /// SHA-256 of the eligible list, hex.
    pub eligible_digest: Option<String>,
    /// Eligible experts.
    pub eligible_count: u32,
    /// Experts excluded by avoidance.
    pub excluded_count: u32,
    /// The experts drawn, in order (for the tender's managers after publication: the confirmed
    /// committee only).
    pub picks: Vec<PickView>,
    /// The exclusions (to those who run and watch draws).
    pub exclusions: Vec<ExclusionView>,
    /// Groups that ran out of candidates while replacing (their seats stay open).
    pub exhausted_groups: Vec<u32>,
    /// Seats confirmed so far.
    pub seats_confirmed: u32,
    /// What the reader may do now.
    pub can: DrawActions,
}

/// One expert drawn.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PickView {
    /// Public id of the pick (for answers).
    pub id: Uuid,
    /// Position in the draw.
    pub seq: i32,
    /// Group (index into the request's groups).
    pub group: i32,
    /// The expert's public id.
    pub expert: Uuid,
    /// Name.
    pub name: String,
    /// Title.
    pub title: String,
    /// Site name.
    pub site: String,
    /// How it was drawn.
    pub role: PickRole,
    /// Where it stands.
    pub status: PickStatus,
    /// Must answer by.
    pub answer_by: Option<DateTime<Utc>>,
    /// Answered at.
    pub answered_at: Option<DateTime<Utc>>,
    /// A note with the answer (a decline's reason, "by phone").
    pub note: Option<String>,
}

/// One expert excluded, with one reason.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExclusionView {
    /// The expert's public id.
    pub expert: Uuid,
    /// Name.
    pub name: String,
    /// Why.
    pub reason: Reason,
    /// What in particular.
    pub detail: String,
}

/// What the reader may do with a draw now.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct DrawActions {
    /// Record the request.
    pub request: bool,
    /// Add the contribution (a supervisor).
    pub contribute: bool,
    /// Record answers on an expert's behalf.
    pub answer: bool,
    /// Publish the result.
    pub publish: bool,
    /// Verify the record.
    pub verify: bool,
}

/// The request as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestInput {
    /// The groups: a specialty code, a site (public id) and a count.
    pub groups: Vec<Group>,
    /// Reserves per group.
    #[serde(default)]
    pub reserve: u32,
    /// When the evaluation session starts.
    pub session_at: DateTime<Utc>,
    /// Its expected duration, in minutes.
    pub duration_minutes: u32,
    /// Whether a representative of the procuring unit sits on the committee (not drawn).
    #[serde(default)]
    pub purchaser_rep: bool,
}

/// The supervisor's contribution.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContributionInput {
    /// 32 random bytes as 64 hex digits.
    pub contribution: String,
}

/// An expert's answer, or the centre's record of one given by phone.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    /// Confirm (true) or decline (false).
    pub accept: bool,
    /// A note: the reason of a decline; required when the centre records an answer.
    #[serde(default)]
    pub note: Option<String>,
}

/// A draw's whole record: what `tenderhall draw verify` and the supervisor's page check.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecordExport {
    /// The format's version.
    pub version: u32,
    /// The draw's public id.
    pub draw: Uuid,
    /// The tender's public id.
    pub tender: Uuid,
    /// Where it stands.
    pub state: DrawState,
    /// What the draw is checked from: the inputs, the secret (empty until published), the
    /// digests, the picks, the replacements asked for and the committee.
    #[schema(value_type = Object)]
    pub recorded: Recorded,
    /// The experts excluded, each with every reason.
    pub exclusions: Vec<RecordExclusion>,
}

/// One exclusion in the record.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecordExclusion {
    /// The expert's public id.
    pub expert: Uuid,
    /// The reason's code.
    pub reason: String,
    /// What in particular.
    pub detail: String,
}

/// The outcome of verifying a record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerifyReport {
    /// Whether the record verifies.
    pub ok: bool,
    /// Why not.
    pub error: Option<String>,
    /// Picks checked.
    pub picks: u32,
    /// Replacements checked.
    pub calls: u32,
    /// The committee as the draw gives it (expert public ids).
    pub committee: Vec<Uuid>,
}

/// An invitation as its expert sees it: never the tender, its parties or its bidders.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvitationView {
    /// Public id (of the pick).
    pub id: Uuid,
    /// When the session starts.
    pub session_at: Option<DateTime<Utc>>,
    /// Its expected duration, in minutes.
    pub duration_minutes: Option<i32>,
    /// The site to evaluate from.
    pub site: String,
    /// Its city.
    pub city: String,
    /// Where the invitation stands.
    pub status: PickStatus,
    /// Must answer by.
    pub answer_by: Option<DateTime<Utc>>,
    /// Whether it can still be answered.
    pub open: bool,
    /// The tender whose evaluation room the expert enters (public id): once its seat is
    /// confirmed and the session is open, when the tender's title is shown to it anyway.
    pub room: Option<Uuid>,
}

// ---------------------------------------------------------------------------------------------
// Loading

async fn load_by_public<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<draw::Model> {
    draw::Entity::find().filter(draw::Column::PublicId.eq(id)).one(db).await?.ok_or_else(AppError::not_found)
}

async fn tender_of<C: ConnectionTrait>(db: &C, id: TenderId) -> AppResult<tender::Model> {
    tender::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal(format!("draw of missing tender {id}")))
}

async fn picks_of<C: ConnectionTrait>(db: &C, id: DrawId) -> AppResult<Vec<draw_pick::Model>> {
    Ok(draw_pick::Entity::find()
        .filter(draw_pick::Column::DrawId.eq(id))
        .order_by_asc(draw_pick::Column::Seq)
        .all(db)
        .await?)
}

async fn calls_of<C: ConnectionTrait>(db: &C, id: DrawId) -> AppResult<Vec<draw_call::Model>> {
    Ok(draw_call::Entity::find()
        .filter(draw_call::Column::DrawId.eq(id))
        .order_by_asc(draw_call::Column::Seq)
        .all(db)
        .await?)
}

async fn experts_by_id<C: ConnectionTrait>(db: &C, ids: &[ExpertId]) -> AppResult<HashMap<ExpertId, expert::Model>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        for e in expert::Entity::find().filter(expert::Column::Id.is_in(chunk.to_vec())).all(db).await? {
            out.insert(e.id, e);
        }
    }
    Ok(out)
}

async fn experts_by_public<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> AppResult<HashMap<Uuid, expert::Model>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        for e in expert::Entity::find().filter(expert::Column::PublicId.is_in(chunk.to_vec())).all(db).await? {
            out.insert(e.public_id, e);
        }
    }
    Ok(out)
}

async fn sites<C: ConnectionTrait>(db: &C) -> AppResult<HashMap<SiteId, site::Model>> {
    Ok(site::Entity::find().all(db).await?.into_iter().map(|s| (s.id, s)).collect())
}

fn inputs_of(d: &draw::Model) -> AppResult<Inputs> {
    let request: Request = serde_json::from_str(d.request.as_deref().unwrap_or("null"))
        .map_err(|e| AppError::internal(format!("draws.request of row {}: {e}", d.id)))?;
    let eligible: Vec<Candidate> = serde_json::from_str(d.eligible.as_deref().unwrap_or("null"))
        .map_err(|e| AppError::internal(format!("draws.eligible of row {}: {e}", d.id)))?;
    Ok(Inputs {
        request,
        eligible,
        commitment: d.commitment.clone(),
        contribution: d.contribution.clone().unwrap_or_default(),
    })
}

impl Draws {
    fn secret_of(&self, d: &draw::Model) -> AppResult<[u8; 32]> {
        let plain = self
            .vault
            .open(&seal_context(d.public_id), &d.secret_sealed)
            .ok_or_else(|| AppError::internal(format!("the secret of draw {} does not open", d.id)))?;
        <[u8; 32]>::try_from(plain.as_slice())
            .map_err(|_| AppError::internal(format!("the secret of draw {} is not 32 bytes", d.id)))
    }
}

fn seal_context(draw: Uuid) -> String {
    format!("draw-secret:{draw}")
}

// ---------------------------------------------------------------------------------------------
// Preparing

/// Prepares the draw of a tender in evaluation: the platform chooses its secret and records
/// the secret's SHA-256 before any request is made. Returns the draw's public id.
pub async fn prepare(state: &Draws, actor: &Actor, tender_id: Uuid) -> AppResult<Uuid> {
    if !runs_draws(actor) {
        return Err(AppError::forbidden());
    }
    let mut uow = state.writer.begin().await?;
    let t = tender::Entity::find()
        .filter(tender::Column::PublicId.eq(tender_id))
        .one(&uow)
        .await?
        .ok_or_else(AppError::not_found)?;
    if policy::state_of(&t) != TenderState::Evaluating {
        return Err(AppError::conflict("wrong_state", "experts are drawn for a tender in evaluation"));
    }
    if draw::Entity::find().filter(draw::Column::TenderId.eq(t.id)).one(&uow).await?.is_some() {
        return Err(AppError::conflict("draw_exists", "this tender already has a draw"));
    }
    let mut secret = [0u8; 32];
    SystemRandom::new().fill(&mut secret).map_err(|_| AppError::internal("no randomness for the draw's secret"))?;
    let public_id = Uuid::new_v4();
    let commitment = algorithm::commitment(&secret);
    draw::ActiveModel {
        public_id: Set(public_id),
        tender_id: Set(t.id),
        state: Set(DrawState::Committed),
        commitment: Set(commitment.clone()),
        secret_sealed: Set(state.vault.seal(&seal_context(public_id), &secret)),
        secret: Set(None),
        contribution: Set(None),
        request: Set(None),
        session_at: Set(None),
        duration_minutes: Set(None),
        purchaser_rep: Set(false),
        eligible: Set(None),
        request_digest: Set(None),
        eligible_digest: Set(None),
        excluded_count: Set(0),
        created_by: Set(actor.user_id),
        created_at: Set(uow.now()),
        requested_at: Set(None),
        drawn_at: Set(None),
        published_at: Set(None),
        ..Default::default()
    }
    .insert(&uow)
    .await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(Action::DrawCommit, t.public_id, json!({"draw": public_id, "commitment": commitment})),
    )
    .await?;
    uow.commit().await?;
    Ok(public_id)
}

// ---------------------------------------------------------------------------------------------
// The request

/// The tender's parties for avoidance: every bidder of its opening, the procuring unit and the
/// agency.
/// The organisations a committee of `t` must avoid: the procuring unit, the agency and the
/// bidders whose bids were opened.
pub async fn parties<C: ConnectionTrait>(db: &C, t: &tender::Model) -> AppResult<Vec<Party>> {
    let mut orgs: Vec<(PartyRole, OrgId)> = vec![(PartyRole::ProcuringUnit, t.procuring_org_id)];
    if let Some(a) = t.agency_org_id {
        orgs.push((PartyRole::Agency, a));
    }
    if let Some(o) = opening::Entity::find().filter(opening::Column::TenderId.eq(t.id)).one(db).await? {
        for b in opening_bid::Entity::find().filter(opening_bid::Column::OpeningId.eq(o.id)).all(db).await? {
            orgs.push((PartyRole::Bidder, b.org_id));
        }
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (role, id) in orgs {
        if !seen.insert((role, id)) {
            continue;
        }
        if let Some(o) = organisation::Entity::find_by_id(id).one(db).await? {
            out.push(Party { role, name: o.name, credit_code: o.credit_code });
        }
    }
    Ok(out)
}

/// How many committees of the procuring unit each expert confirmed a seat on, with sessions in
/// the window before `session` (other draws than `except`).
async fn recent_for_unit<C: ConnectionTrait>(
    db: &C,
    unit: OrgId,
    session: DateTime<Utc>,
    window_days: u32,
    except: DrawId,
) -> AppResult<HashMap<ExpertId, u32>> {
    let tenders: Vec<TenderId> = tender::Entity::find()
        .filter(tender::Column::ProcuringOrgId.eq(unit))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    let mut counts = HashMap::new();
    if tenders.is_empty() {
        return Ok(counts);
    }
    let since = session - TimeDelta::days(window_days as i64);
    let mut draws = Vec::new();
    for chunk in tenders.chunks(500) {
        draws.extend(
            draw::Entity::find()
                .filter(draw::Column::TenderId.is_in(chunk.to_vec()))
                .filter(draw::Column::SessionAt.gte(since))
                .filter(draw::Column::SessionAt.lte(session))
                .filter(draw::Column::Id.ne(except))
                .all(db)
                .await?
                .into_iter()
                .map(|d| d.id),
        );
    }
    for chunk in draws.chunks(500) {
        for p in draw_pick::Entity::find()
            .filter(draw_pick::Column::DrawId.is_in(chunk.to_vec()))
            .filter(draw_pick::Column::Status.eq(PickStatus::Confirmed))
            .all(db)
            .await?
        {
            *counts.entry(p.expert_id).or_insert(0) += 1;
        }
    }
    Ok(counts)
}

/// The rules' numbers, from the settings.
/// The experts a request may draw, and those its avoidance rules exclude with their findings.
#[derive(Debug, Default)]
pub struct Screened {
    /// The eligible experts, in canonical order (ascending public id).
    pub eligible: Vec<Candidate>,
    /// The excluded experts of the specialties asked for, each with every rule that applies.
    pub excluded: Vec<(ExpertId, Vec<avoidance::Finding>)>,
}

/// Screens the pool of the specialties `req` asks for (only the experts of `only_sites`, when
/// given) against the avoidance rules for `parties` on `day`; `recent` counts each expert's
/// recent committees for the procuring unit.
#[allow(clippy::too_many_arguments)]
pub async fn screen<C: ConnectionTrait>(
    db: &C,
    all_sites: &HashMap<SiteId, site::Model>,
    req: &Request,
    parties: &[Party],
    day: chrono::NaiveDate,
    rules: Rules,
    recent: &HashMap<ExpertId, u32>,
    only_sites: Option<Vec<SiteId>>,
) -> AppResult<Screened> {
    let pool = pool::everyone_for(
        db,
        &PoolQuery {
            specialties: req.groups.iter().map(|g| g.specialty.clone()).collect(),
            sites: only_sites,
            available_on: None,
        },
    )
    .await?;
    let mut out = Screened::default();
    for e in &pool {
        let Some(site) = all_sites.get(&e.site_id) else { continue };
        let profile = Profile {
            expert: e.public_id,
            site: site.public_id,
            specialties: e.specialties.clone(),
            suspended: e.status != crate::experts::model::ExpertStatus::Active,
            employments: e
                .employments
                .iter()
                .map(|m| avoidance::Employment {
                    employer: m.employer.clone(),
                    credit_code: m.credit_code.clone(),
                    from: m.from_date,
                    until: m.until_date,
                })
                .collect(),
            conflicts: e.conflicts.iter().map(|c| (c.credit_code.clone(), c.org_name.clone())).collect(),
            unavailable: e.unavailable.clone(),
            recent_for_unit: recent.get(&e.id).copied().unwrap_or(0),
        };
        match avoidance::check(&profile, req, parties, day, rules) {
            Verdict::NotAsked => {}
            Verdict::Eligible => out.eligible.push(Candidate {
                expert: e.public_id,
                specialties: e.specialties.clone(),
                site: site.public_id,
            }),
            Verdict::Excluded(f) => out.excluded.push((e.id, f)),
        }
    }
    out.eligible.sort_by_key(|c| c.expert);
    Ok(out)
}

/// Refuses a request one of whose groups has fewer eligible experts than it asks for
/// (`not_enough_experts`, with the group, the count needed and the count available).
pub fn enough(req: &Request, eligible: &[Candidate]) -> AppResult<()> {
    for (i, g) in req.groups.iter().enumerate() {
        let available = eligible
            .iter()
            .filter(|c| c.site == g.site && c.specialties.iter().any(|s| algorithm::covers(&g.specialty, s)))
            .count() as u32;
        if available < g.count {
            return Err(AppError::rule("not_enough_experts", "a group has fewer eligible experts than it asks for")
                .with_arg("group", i + 1)
                .with_arg("needed", g.count)
                .with_arg("available", available));
        }
    }
    Ok(())
}

/// The field errors of a request's reserves, session time and duration: reserves up to
/// `max_reserve`, 30 minutes to a day, a session in the coming year.
pub fn session_fields(
    fields: &mut Vec<FieldError>,
    s: &DrawSettings,
    reserve: u32,
    session_at: DateTime<Utc>,
    duration_minutes: u32,
    now: DateTime<Utc>,
) {
    if reserve > s.max_reserve {
        fields.push(FieldError::new("reserve", "out_of_range").with_arg("min", 0).with_arg("max", s.max_reserve));
    }
    if !(30..=24 * 60).contains(&duration_minutes) {
        fields.push(FieldError::new("duration_minutes", "out_of_range").with_arg("min", 30).with_arg("max", 24 * 60));
    }
    if session_at <= now {
        fields.push(FieldError::new("session_at", "in_past"));
    } else if session_at > now + TimeDelta::days(366) {
        fields.push(FieldError::new("session_at", "out_of_range"));
    }
}

/// The avoidance rules of the settings.
pub fn rules(s: &DrawSettings) -> Rules {
    Rules { employment_years: s.employment_years, max_per_unit: s.max_per_unit, unit_window_days: s.unit_window_days }
}

/// Checks the request's own fields and the committee's size; returns the request as the draw
/// reads it (groups with their sites' public ids).
fn check_request(
    s: &DrawSettings,
    input: &RequestInput,
    now: DateTime<Utc>,
    known_sites: &HashSet<Uuid>,
    largest_budget: Money,
) -> AppResult<Request> {
    let mut fields = Vec::new();
    if input.groups.is_empty() {
        fields.push(FieldError::new("groups", "required"));
    }
    if input.groups.len() > s.max_groups as usize {
        fields.push(FieldError::new("groups", "too_many").with_arg("max", s.max_groups));
    }
    for (i, g) in input.groups.iter().enumerate() {
        let field = |name: &str| -> &'static str {
            // Field names are static texts; the group's position goes into the argument.
            match name {
                "specialty" => "groups.specialty",
                "site" => "groups.site",
                _ => "groups.count",
            }
        };
        if crate::experts::specialties::find(&g.specialty).is_none() {
            fields.push(FieldError::new(field("specialty"), "specialty_unknown").with_arg("group", i + 1));
        }
        if !known_sites.contains(&g.site) {
            fields.push(FieldError::new(field("site"), "site_unknown").with_arg("group", i + 1));
        }
        if g.count == 0 || g.count > s.max_group_count {
            fields.push(
                FieldError::new(field("count"), "out_of_range")
                    .with_arg("group", i + 1)
                    .with_arg("min", 1)
                    .with_arg("max", s.max_group_count),
            );
        }
    }
    session_fields(&mut fields, s, input.reserve, input.session_at, input.duration_minutes, now);
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let drawn: u32 = input.groups.iter().map(|g| g.count).sum();
    let size = drawn + u32::from(input.purchaser_rep);
    let min = if largest_budget.fen() >= s.large_budget_yuan.saturating_mul(100) {
        s.large_committee
    } else {
        s.min_committee
    };
    if size < min {
        return Err(AppError::rule("committee_too_small", format!("the committee needs at least {min} members"))
            .with_arg("min", min)
            .with_arg("size", size)
            .with_arg("budget", s.large_budget_yuan));
    }
    if size.is_multiple_of(2) {
        return Err(AppError::rule(
            "committee_even",
            format!("the committee has an odd number of members; this one would have {size}"),
        )
        .with_arg("size", size));
    }
    Ok(Request { groups: input.groups.clone(), reserve: input.reserve })
}

/// Records the request: the eligible experts in canonical order and every exclusion with its
/// reasons, and their digests. The secret is already committed; the supervisor contributes next.
pub async fn request(state: &Draws, actor: &Actor, id: Uuid, input: RequestInput) -> AppResult<()> {
    if !runs_draws(actor) {
        return Err(AppError::forbidden());
    }
    let mut uow = state.writer.begin().await?;
    let d = load_by_public(&uow, id).await?;
    if d.state != DrawState::Committed {
        return Err(AppError::conflict("wrong_state", "the request is recorded once, before the contribution"));
    }
    let t = tender_of(&uow, d.tender_id).await?;
    let all_sites = sites(&uow).await?;
    let known: HashSet<Uuid> = all_sites.values().map(|s| s.public_id).collect();
    let budgets = lot::Entity::find().filter(lot::Column::TenderId.eq(t.id)).all(&uow).await?;
    let largest = budgets.iter().map(|l| l.budget_fen).max().unwrap_or(Money::ZERO);
    let req = check_request(&state.settings, &input, uow.now(), &known, largest)?;

    let parties = parties(&uow, &t).await?;
    let recent =
        recent_for_unit(&uow, t.procuring_org_id, input.session_at, state.settings.unit_window_days, d.id).await?;
    let day = input.session_at.with_timezone(&cst()).date_naive();
    let Screened { eligible, excluded } =
        screen(&uow, &all_sites, &req, &parties, day, rules(&state.settings), &recent, None).await?;
    enough(&req, &eligible)?;
    let inputs = Inputs { request: req, eligible, commitment: d.commitment.clone(), contribution: String::new() };
    let request_digest = hex::encode(inputs.request_digest());
    let eligible_digest = hex::encode(inputs.eligible_digest());
    for (expert_id, findings) in &excluded {
        for f in findings {
            draw_exclusion::ActiveModel {
                draw_id: Set(d.id),
                expert_id: Set(*expert_id),
                reason: Set(f.reason),
                detail: Set(f.detail.clone()),
                ..Default::default()
            }
            .insert(&uow)
            .await?;
        }
    }
    let now = uow.now();
    let (eligible_count, excluded_count) = (inputs.eligible.len(), excluded.len());
    let mut m: draw::ActiveModel = d.clone().into();
    m.state = Set(DrawState::Requested);
    m.request = Set(Some(serde_json::to_string(&inputs.request).map_err(AppError::internal)?));
    m.eligible = Set(Some(serde_json::to_string(&inputs.eligible).map_err(AppError::internal)?));
    m.request_digest = Set(Some(request_digest.clone()));
    m.eligible_digest = Set(Some(eligible_digest.clone()));
    m.excluded_count = Set(excluded_count as i32);
    m.session_at = Set(Some(input.session_at));
    m.duration_minutes = Set(Some(input.duration_minutes as i32));
    m.purchaser_rep = Set(input.purchaser_rep);
    m.requested_at = Set(Some(now));
    m.update(&uow).await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::DrawRequest,
            t.public_id,
            json!({"draw": d.public_id, "request_digest": request_digest, "eligible_digest": eligible_digest,
                   "eligible": eligible_count, "excluded": excluded_count}),
        ),
    )
    .await?;
    uow.commit().await
}

// ---------------------------------------------------------------------------------------------
// The contribution: the draw runs

/// The job that closes an invitation nobody answered; its arguments are `{"pick_id": <id>}`.
pub const ANSWER_JOB: &str = "draw.answer_deadline";

fn answer_job(pick_id: i64, due: DateTime<Utc>) -> NewJob {
    NewJob::new(ANSWER_JOB, format!("{ANSWER_JOB}:{pick_id}"), due, json!({"pick_id": pick_id}))
}

/// Adds the supervisor's contribution and runs the draw: the members are invited (with their
/// answer deadline) and the reserves ranked behind them.
pub async fn contribute(state: &Draws, actor: &Actor, id: Uuid, input: ContributionInput) -> AppResult<()> {
    if actor.role != Role::Supervisor {
        return Err(AppError::forbidden());
    }
    let contribution = input.contribution.trim().to_ascii_lowercase();
    if algorithm::hex32(&contribution, "contribution").is_err() {
        return Err(AppError::invalid_field("contribution", "invalid").with_arg("digits", 64));
    }
    let mut uow = state.writer.begin().await?;
    let d = load_by_public(&uow, id).await?;
    if d.state != DrawState::Requested {
        return Err(AppError::conflict("wrong_state", "the contribution follows the request, once"));
    }
    let t = tender_of(&uow, d.tender_id).await?;
    let mut inputs = inputs_of(&d)?;
    inputs.contribution = contribution.clone();
    let secret = state.secret_of(&d)?;
    let drawn = Draw::start(&inputs, &secret).map_err(draw_refusal)?;
    let now = uow.now();
    let answer_by = now + TimeDelta::minutes(state.settings.answer_minutes as i64);
    let experts = experts_by_public(&uow, &drawn.picks().iter().map(|p| p.expert).collect::<Vec<_>>()).await?;
    let mut invited = Vec::new();
    for p in drawn.picks() {
        let e = experts.get(&p.expert).ok_or_else(|| AppError::internal("a drawn expert is not in the pool"))?;
        let member = p.role == algorithm::Role::Member;
        let row = draw_pick::ActiveModel {
            public_id: Set(Uuid::new_v4()),
            draw_id: Set(d.id),
            seq: Set(p.seq as i32),
            group_no: Set(p.group as i32),
            expert_id: Set(e.id),
            role: Set(p.role.into()),
            status: Set(if member { PickStatus::Invited } else { PickStatus::Standby }),
            invited_at: Set(member.then_some(now)),
            answer_by: Set(member.then_some(answer_by)),
            answered_at: Set(None),
            note: Set(None),
            ..Default::default()
        }
        .insert(&uow)
        .await?;
        if member {
            invited.push((row, e.clone()));
        }
    }
    let mut m: draw::ActiveModel = d.clone().into();
    m.state = Set(DrawState::Drawn);
    m.contribution = Set(Some(contribution.clone()));
    m.drawn_at = Set(Some(now));
    m.update(&uow).await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::DrawRun,
            t.public_id,
            json!({"draw": d.public_id, "contribution": contribution,
                   "picks": drawn.picks().iter().map(|p| json!({"seq": p.seq, "group": p.group, "expert": p.expert, "role": p.role})).collect::<Vec<_>>()}),
        ),
    )
    .await?;
    let all_sites = sites(&uow).await?;
    for (row, e) in invited {
        invite(&mut uow, &d, &row, &e, &all_sites).await?;
    }
    uow.commit().await
}

fn draw_refusal(e: DrawError) -> AppError {
    match e {
        DrawError::Exhausted { group, .. } => {
            AppError::rule("not_enough_experts", "a group has fewer eligible experts than it asks for")
                .with_arg("group", group + 1)
        }
        other => AppError::internal(format!("the draw does not run: {other}")),
    }
}

/// Schedules an invitation's deadline and tells the expert (if it has a login): the session's
/// time, site and duration, nothing of the tender.
async fn invite(
    uow: &mut UnitOfWork,
    d: &draw::Model,
    pick: &draw_pick::Model,
    e: &expert::Model,
    all_sites: &HashMap<SiteId, site::Model>,
) -> AppResult<()> {
    let due = pick.answer_by.ok_or_else(|| AppError::internal("an invitation without a deadline"))?;
    uow.schedule(answer_job(pick.id, due)).await?;
    if let Some(user) = e.user_id
        && let Some(u) = crate::entities::user::Entity::find_by_id(user).one(&*uow).await?
    {
        let site = all_sites.get(&e.site_id).map(|s| format!("{}（{}）", s.name, s.city)).unwrap_or_default();
        let notice = invitation_notice(d.session_at.unwrap_or(due), &site, d.duration_minutes.unwrap_or(0), due);
        uow.notify_users(&[(u.org_id, u.id)], notice).await?;
    }
    Ok(())
}

/// The notice of an invitation: when, where, how long, and by when to answer.
pub fn invitation_notice(session: DateTime<Utc>, site: &str, minutes: i32, answer_by: DateTime<Utc>) -> Notice {
    Notice::new(NoticeKind::ExpertInvited)
        .arg_time("session", session)
        .arg("site", site)
        .arg("minutes", minutes.to_string())
        .arg_time("answer_by", answer_by)
        .link("/expert/invitations")
}

/// The job that tells a confirmed expert, a day before, that its session is near; its
/// arguments are `{"pick_id": <id>, "session": <time>}`.
pub const SOON_JOB: &str = "draw.session_soon";

/// How long before its session a confirmed expert is reminded.
pub const SOON_HOURS: i64 = 24;

/// The reminder job of a pick confirmed for a session at `session`, if its time is ahead of `now`.
fn soon_job(pick_id: i64, session: DateTime<Utc>, now: DateTime<Utc>) -> Option<NewJob> {
    let due = session - TimeDelta::hours(SOON_HOURS);
    (due > now).then(|| {
        NewJob::new(SOON_JOB, format!("{SOON_JOB}:{pick_id}"), due, json!({"pick_id": pick_id, "session": session}))
    })
}

/// The notice a day before the session: when, where, how long; never the tender.
pub fn session_soon_notice(session: DateTime<Utc>, site: &str, minutes: i32) -> Notice {
    Notice::new(NoticeKind::EvaluationSoon)
        .arg_time("session", session)
        .arg("site", site)
        .arg("minutes", minutes.to_string())
        .link("/expert/invitations")
}

/// Reminds a confirmed expert of its session, if it is still confirmed for that time.
pub struct SessionSoon;

#[async_trait::async_trait]
impl JobHandler for SessionSoon {
    async fn run(&self, uow: &mut UnitOfWork, args: &serde_json::Value) -> AppResult<()> {
        let id = args["pick_id"].as_i64().ok_or_else(|| AppError::internal("a reminder without pick_id"))?;
        let Some(pick) = draw_pick::Entity::find_by_id(id).one(&*uow).await? else { return Ok(()) };
        let Some(d) = draw::Entity::find_by_id(pick.draw_id).one(&*uow).await? else { return Ok(()) };
        let session: Option<DateTime<Utc>> = serde_json::from_value(args["session"].clone()).ok();
        if pick.status != PickStatus::Confirmed
            || !matches!(d.state, DrawState::Drawn | DrawState::Published)
            || d.session_at != session
            || session.is_none_or(|s| s <= uow.now())
        {
            return Ok(());
        }
        let Some(e) = expert::Entity::find_by_id(pick.expert_id).one(&*uow).await? else { return Ok(()) };
        let Some(user) = e.user_id else { return Ok(()) };
        let Some(u) = crate::entities::user::Entity::find_by_id(user).one(&*uow).await? else { return Ok(()) };
        let site = site::Entity::find_by_id(e.site_id)
            .one(&*uow)
            .await?
            .map(|s| format!("{}（{}）", s.name, s.city))
            .unwrap_or_default();
        let notice = session_soon_notice(d.session_at.unwrap_or_default(), &site, d.duration_minutes.unwrap_or(0));
        uow.notify_users(&[(u.org_id, u.id)], notice).await
    }
}

// ---------------------------------------------------------------------------------------------
// Answers and replacements

/// An expert's answer to its invitation, or the centre's record of one given by phone (a note
/// required). A decline calls the replacement.
pub async fn answer(state: &Draws, actor: &Actor, pick_id: Uuid, input: AnswerInput) -> AppResult<()> {
    let note = input.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
    if let Some(n) = &note {
        let mut fields = Vec::new();
        crate::error::check_text(&mut fields, "note", n, 0, 500);
        if !fields.is_empty() {
            return Err(AppError::validation(fields));
        }
    }
    let mut uow = state.writer.begin().await?;
    let pick = draw_pick::Entity::find()
        .filter(draw_pick::Column::PublicId.eq(pick_id))
        .one(&uow)
        .await?
        .ok_or_else(AppError::not_found)?;
    let e = expert::Entity::find_by_id(pick.expert_id)
        .one(&uow)
        .await?
        .ok_or_else(|| AppError::internal("a pick of a missing expert"))?;
    let own = e.user_id == Some(actor.user_id);
    let on_behalf = !own && runs_draws(actor);
    if !own && !on_behalf {
        // Another expert's invitation is not found.
        return Err(AppError::not_found());
    }
    if on_behalf && note.is_none() {
        return Err(AppError::invalid_field("note", "required"));
    }
    let d = draw::Entity::find_by_id(pick.draw_id).one(&uow).await?.ok_or_else(AppError::not_found)?;
    // A replacement called at the session, after publication, answers like any other.
    if !matches!(d.state, DrawState::Drawn | DrawState::Published) || pick.status != PickStatus::Invited {
        return Err(AppError::conflict("not_invited", "this invitation is not open"));
    }
    let now = uow.now();
    if pick.answer_by.is_some_and(|by| now > by) {
        return Err(AppError::conflict("answer_too_late", "the time to answer has passed"));
    }
    let mut m: draw_pick::ActiveModel = pick.clone().into();
    m.status = Set(if input.accept { PickStatus::Confirmed } else { PickStatus::Declined });
    m.answered_at = Set(Some(now));
    m.note = Set(note.clone());
    let pick = m.update(&uow).await?;
    let t = tender_of(&uow, d.tender_id).await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::DrawAnswer,
            t.public_id,
            json!({"draw": d.public_id, "seq": pick.seq, "expert": e.public_id, "accept": input.accept,
                   "on_behalf": on_behalf, "note": note}),
        ),
    )
    .await?;
    if !input.accept {
        call_replacement(state, &mut uow, &d, &pick, &e, CallCause::Declined).await?;
    } else if let Some(job) = d.session_at.and_then(|at| soon_job(pick.id, at, now)) {
        uow.schedule(job).await?;
    }
    uow.commit().await
}

/// Calls the replacement of an expert who left its group: the draw replayed through the
/// replacements already called, then asked for one more.
async fn call_replacement(
    state: &Draws,
    uow: &mut UnitOfWork,
    d: &draw::Model,
    left: &draw_pick::Model,
    left_expert: &expert::Model,
    cause: CallCause,
) -> AppResult<()> {
    let calls = calls_of(&*uow, d.id).await?;
    let (inputs, secret) = (inputs_of(d)?, state.secret_of(d)?);
    let mut drawn = Draw::start(&inputs, &secret).map_err(|e| AppError::internal(format!("replaying a draw: {e}")))?;
    for c in &calls {
        drawn.replace(c.group_no as u32).map_err(|e| AppError::internal(format!("replaying a draw's calls: {e}")))?;
    }
    let t = tender_of(&*uow, d.tender_id).await?;
    let system = AuditActor { user_id: None, org_id: None, label: "platform (draw replacement)".into() };
    let next = match drawn.replace(left.group_no as u32) {
        Ok(p) => p,
        Err(DrawError::Exhausted { group, .. }) => {
            uow.record(
                &system,
                AuditEntry::new(Action::DrawExhausted, t.public_id, json!({"draw": d.public_id, "group": group})),
            )
            .await?;
            return Ok(());
        }
        Err(e) => return Err(AppError::internal(format!("replacing in a draw: {e}"))),
    };
    let now = uow.now();
    let answer_by = now + TimeDelta::minutes(state.settings.answer_minutes as i64);
    let experts = experts_by_public(&*uow, &[next.expert]).await?;
    let e = experts.get(&next.expert).ok_or_else(|| AppError::internal("a replacement is not in the pool"))?;
    let row = match next.role {
        algorithm::Role::Reserve => {
            let reserve = draw_pick::Entity::find()
                .filter(draw_pick::Column::DrawId.eq(d.id))
                .filter(draw_pick::Column::Seq.eq(next.seq as i32))
                .one(&*uow)
                .await?
                .ok_or_else(|| AppError::internal("a reserve not recorded"))?;
            let mut m: draw_pick::ActiveModel = reserve.into();
            m.status = Set(PickStatus::Invited);
            m.invited_at = Set(Some(now));
            m.answer_by = Set(Some(answer_by));
            m.update(&*uow).await?
        }
        _ => {
            draw_pick::ActiveModel {
                public_id: Set(Uuid::new_v4()),
                draw_id: Set(d.id),
                seq: Set(next.seq as i32),
                group_no: Set(next.group as i32),
                expert_id: Set(e.id),
                role: Set(next.role.into()),
                status: Set(PickStatus::Invited),
                invited_at: Set(Some(now)),
                answer_by: Set(Some(answer_by)),
                answered_at: Set(None),
                note: Set(None),
                ..Default::default()
            }
            .insert(&*uow)
            .await?
        }
    };
    draw_call::ActiveModel {
        draw_id: Set(d.id),
        seq: Set(calls.len() as i32 + 1),
        group_no: Set(left.group_no),
        left_expert_id: Set(left_expert.id),
        called_expert_id: Set(e.id),
        cause: Set(cause),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&*uow)
    .await?;
    uow.record(
        &system,
        AuditEntry::new(
            Action::DrawReplace,
            t.public_id,
            json!({"draw": d.public_id, "left": left_expert.public_id, "called": e.public_id,
                   "group": left.group_no, "cause": cause.as_str(), "seq": next.seq}),
        ),
    )
    .await?;
    let all_sites = sites(&*uow).await?;
    invite(uow, d, &row, e, &all_sites).await
}

/// A seat of a committee: its group, the expert now holding it and that expert's pick.
#[derive(Debug, Clone)]
pub struct Seat {
    /// The request's group.
    pub group_no: i32,
    /// The expert.
    pub expert: expert::Model,
    /// The expert's pick (its status says whether it confirmed).
    pub pick: draw_pick::Model,
}

/// The committee of a draw: every seat with whoever holds it after the replacements.
pub async fn committee<C: ConnectionTrait>(db: &C, draw_id: DrawId) -> AppResult<Vec<Seat>> {
    let picks = picks_of(db, draw_id).await?;
    let calls = calls_of(db, draw_id).await?;
    let mut out = Vec::new();
    for (group_no, expert_id) in seats(&picks, &calls) {
        let Some(pick) = picks.iter().rev().find(|p| p.expert_id == expert_id).cloned() else { continue };
        let expert = expert::Entity::find_by_id(expert_id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::internal("a seat of a missing expert"))?;
        out.push(Seat { group_no, expert, pick });
    }
    Ok(out)
}

/// An expert of the committee declared a conflict at the session: its pick is withdrawn and
/// the replacement is called from the same derivation (补抽), inside the session's unit of work.
pub async fn withdraw(state: &Draws, uow: &mut UnitOfWork, draw_id: DrawId, expert_id: ExpertId) -> AppResult<()> {
    let d = draw::Entity::find_by_id(draw_id).one(&*uow).await?.ok_or_else(AppError::not_found)?;
    let pick = picks_of(&*uow, d.id)
        .await?
        .into_iter()
        .rev()
        .find(|p| p.expert_id == expert_id && p.status == PickStatus::Confirmed)
        .ok_or_else(|| AppError::conflict("not_on_committee", "this expert holds no seat"))?;
    let e = expert::Entity::find_by_id(expert_id)
        .one(&*uow)
        .await?
        .ok_or_else(|| AppError::internal("a pick of a missing expert"))?;
    let now = uow.now();
    let mut m: draw_pick::ActiveModel = pick.into();
    m.status = Set(PickStatus::Withdrawn);
    m.answered_at = Set(Some(now));
    let pick = m.update(&*uow).await?;
    call_replacement(state, uow, &d, &pick, &e, CallCause::Withdrew).await
}

/// Closes an invitation nobody answered in time and calls the replacement.
pub struct AnswerDeadline(pub Draws);

#[async_trait::async_trait]
impl JobHandler for AnswerDeadline {
    async fn run(&self, uow: &mut UnitOfWork, args: &serde_json::Value) -> AppResult<()> {
        let id = args["pick_id"].as_i64().ok_or_else(|| AppError::internal("answer job without pick_id"))?;
        let Some(pick) = draw_pick::Entity::find_by_id(id).one(&*uow).await? else { return Ok(()) };
        let now = uow.now();
        if pick.status != PickStatus::Invited || pick.answer_by.is_none_or(|by| by > now) {
            return Ok(()); // answered, or not due
        }
        let Some(d) = draw::Entity::find_by_id(pick.draw_id).one(&*uow).await? else { return Ok(()) };
        if !matches!(d.state, DrawState::Drawn | DrawState::Published) {
            return Ok(());
        }
        let e = expert::Entity::find_by_id(pick.expert_id)
            .one(&*uow)
            .await?
            .ok_or_else(|| AppError::internal("a pick of a missing expert"))?;
        let mut m: draw_pick::ActiveModel = pick.into();
        m.status = Set(PickStatus::TimedOut);
        m.answered_at = Set(Some(now));
        let pick = m.update(&*uow).await?;
        call_replacement(&self.0, uow, &d, &pick, &e, CallCause::TimedOut).await
    }
}

// ---------------------------------------------------------------------------------------------
// Publication

/// The committee's seats: each member's seat, passed on to whoever each call brought in.
fn seats(picks: &[draw_pick::Model], calls: &[draw_call::Model]) -> Vec<(i32, ExpertId)> {
    let mut seats: Vec<(i32, ExpertId)> =
        picks.iter().filter(|p| p.role == PickRole::Member).map(|p| (p.group_no, p.expert_id)).collect();
    for c in calls {
        if let Some(s) = seats.iter_mut().find(|s| **s == (c.group_no, c.left_expert_id)) {
            s.1 = c.called_expert_id;
        }
    }
    seats
}

/// Publishes the result once every seat is confirmed: the secret is revealed, so the record
/// can be verified by anyone holding it, and the tender's managers see the committee.
pub async fn publish(state: &Draws, actor: &Actor, id: Uuid) -> AppResult<()> {
    if !runs_draws(actor) {
        return Err(AppError::forbidden());
    }
    let mut uow = state.writer.begin().await?;
    let d = load_by_public(&uow, id).await?;
    if d.state != DrawState::Drawn {
        return Err(AppError::conflict("wrong_state", "only a draw whose experts have answered is published"));
    }
    let picks = picks_of(&uow, d.id).await?;
    let calls = calls_of(&uow, d.id).await?;
    let status: HashMap<ExpertId, PickStatus> = picks.iter().map(|p| (p.expert_id, p.status)).collect();
    let seats = seats(&picks, &calls);
    let open = seats.iter().filter(|s| status.get(&s.1) != Some(&PickStatus::Confirmed)).count();
    if open > 0 {
        return Err(AppError::conflict("seats_open", "every seat must be confirmed first").with_arg("open", open));
    }
    let secret = hex::encode(state.secret_of(&d)?);
    let t = tender_of(&uow, d.tender_id).await?;
    let mut m: draw::ActiveModel = d.clone().into();
    m.state = Set(DrawState::Published);
    m.secret = Set(Some(secret.clone()));
    m.published_at = Set(Some(uow.now()));
    m.update(&uow).await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(Action::DrawPublish, t.public_id, json!({"draw": d.public_id, "secret": secret})),
    )
    .await?;
    uow.commit().await
}

// ---------------------------------------------------------------------------------------------
// Reading

/// What the reader is to this draw.
enum Reader {
    /// Runs or watches draws: sees everything.
    Watcher,
    /// Manages the tender: sees the committee once published.
    Manager,
}

async fn reader_of<C: ConnectionTrait>(db: &C, actor: &Actor, d: &draw::Model) -> AppResult<(Reader, tender::Model)> {
    let t = tender_of(db, d.tender_id).await?;
    if watches_draws(actor) {
        return Ok((Reader::Watcher, t));
    }
    if policy::is_manager(actor, &t) && d.state == DrawState::Published {
        return Ok((Reader::Manager, t));
    }
    Err(AppError::not_found())
}

/// The draw of a tender (by its public id), if the reader may see it (`None` when there is none
/// or it is hidden).
pub async fn of_tender(state: &Draws, actor: &Actor, tender: Uuid) -> AppResult<Option<DrawView>> {
    let db = state.writer.db();
    let Some(t) = tender::Entity::find().filter(tender::Column::PublicId.eq(tender)).one(db).await? else {
        return Ok(None);
    };
    let Some(d) = draw::Entity::find().filter(draw::Column::TenderId.eq(t.id)).one(db).await? else {
        return Ok(None);
    };
    match view_of(state, actor, &d).await {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.status == axum::http::StatusCode::NOT_FOUND => Ok(None),
        Err(e) => Err(e),
    }
}

/// A draw as the reader may see it.
pub async fn view(state: &Draws, actor: &Actor, id: Uuid) -> AppResult<DrawView> {
    let d = load_by_public(state.writer.db(), id).await?;
    view_of(state, actor, &d).await
}

async fn view_of(state: &Draws, actor: &Actor, d: &draw::Model) -> AppResult<DrawView> {
    let db = state.writer.db();
    let (reader, t) = reader_of(db, actor, d).await?;
    let picks = picks_of(db, d.id).await?;
    let calls = calls_of(db, d.id).await?;
    let all_sites = sites(db).await?;
    let ids: Vec<ExpertId> = picks.iter().map(|p| p.expert_id).collect();
    let experts = experts_by_id(db, &ids).await?;
    let request: Option<Request> = d.request.as_deref().and_then(|r| serde_json::from_str(r).ok());
    let eligible_count = d
        .eligible
        .as_deref()
        .and_then(|e| serde_json::from_str::<Vec<Candidate>>(e).ok())
        .map(|e| e.len() as u32)
        .unwrap_or(0);
    let drawn: u32 = request.as_ref().map(|r| r.groups.iter().map(|g| g.count).sum()).unwrap_or(0);
    let seats = seats(&picks, &calls);
    let status: HashMap<ExpertId, PickStatus> = picks.iter().map(|p| (p.expert_id, p.status)).collect();
    let seats_confirmed = seats.iter().filter(|s| status.get(&s.1) == Some(&PickStatus::Confirmed)).count() as u32;
    let watcher = matches!(reader, Reader::Watcher);
    let seated: HashSet<ExpertId> = seats.iter().map(|s| s.1).collect();
    let picks_view: Vec<PickView> = picks
        .iter()
        .filter(|p| watcher || (seated.contains(&p.expert_id) && p.status == PickStatus::Confirmed))
        .filter_map(|p| {
            let e = experts.get(&p.expert_id)?;
            Some(PickView {
                id: p.public_id,
                seq: p.seq,
                group: p.group_no,
                expert: e.public_id,
                name: e.name.clone(),
                title: e.title.clone(),
                site: all_sites.get(&e.site_id).map(|s| s.name.clone()).unwrap_or_default(),
                role: p.role,
                status: p.status,
                answer_by: p.answer_by,
                answered_at: p.answered_at,
                note: if watcher { p.note.clone() } else { None },
            })
        })
        .collect();
    let exclusions = if watcher {
        let rows = draw_exclusion::Entity::find()
            .filter(draw_exclusion::Column::DrawId.eq(d.id))
            .order_by_asc(draw_exclusion::Column::Id)
            .all(db)
            .await?;
        let ex = experts_by_id(db, &rows.iter().map(|r| r.expert_id).collect::<Vec<_>>()).await?;
        rows.into_iter()
            .map(|r| ExclusionView {
                expert: ex.get(&r.expert_id).map(|e| e.public_id).unwrap_or_default(),
                name: ex.get(&r.expert_id).map(|e| e.name.clone()).unwrap_or_default(),
                reason: r.reason,
                detail: r.detail,
            })
            .collect()
    } else {
        Vec::new()
    };
    // A group whose seat stays open with nobody invited has run out of candidates.
    let invited: HashSet<ExpertId> =
        picks.iter().filter(|p| p.status == PickStatus::Invited).map(|p| p.expert_id).collect();
    let mut exhausted: Vec<u32> = seats
        .iter()
        .filter(|s| !matches!(status.get(&s.1), Some(PickStatus::Confirmed)) && !invited.contains(&s.1))
        .map(|s| s.0 as u32)
        .collect();
    exhausted.sort_unstable();
    exhausted.dedup();
    let runs = runs_draws(actor);
    let can = DrawActions {
        request: runs && d.state == DrawState::Committed,
        contribute: actor.role == Role::Supervisor && d.state == DrawState::Requested,
        answer: runs && d.state == DrawState::Drawn,
        publish: runs && d.state == DrawState::Drawn && seats_confirmed as usize == seats.len() && !seats.is_empty(),
        verify: watcher && d.state == DrawState::Published,
    };
    Ok(DrawView {
        id: d.public_id,
        tender: t.public_id,
        tender_code: t.code.clone(),
        state: d.state,
        commitment: d.commitment.clone(),
        secret: d.secret.clone(),
        contribution: d.contribution.clone(),
        request: if watcher { request } else { None },
        session_at: d.session_at,
        duration_minutes: d.duration_minutes,
        purchaser_rep: d.purchaser_rep,
        committee_size: drawn + u32::from(d.purchaser_rep),
        request_digest: d.request_digest.clone(),
        eligible_digest: d.eligible_digest.clone(),
        eligible_count,
        excluded_count: d.excluded_count as u32,
        picks: picks_view,
        exclusions,
        exhausted_groups: exhausted,
        seats_confirmed,
        can,
    })
}

/// The draw's whole record (the secret empty until published), to those who watch draws and,
/// once published, to the tender's managers.
pub async fn record(state: &Draws, actor: &Actor, id: Uuid) -> AppResult<RecordExport> {
    let db = state.writer.db();
    let d = load_by_public(db, id).await?;
    let (_, t) = reader_of(db, actor, &d).await?;
    if d.request.is_none() {
        return Err(AppError::conflict("wrong_state", "the draw has no request yet"));
    }
    let picks = picks_of(db, d.id).await?;
    let calls = calls_of(db, d.id).await?;
    let mut ids: Vec<ExpertId> = picks.iter().map(|p| p.expert_id).collect();
    ids.extend(calls.iter().map(|c| c.left_expert_id));
    let rows = draw_exclusion::Entity::find()
        .filter(draw_exclusion::Column::DrawId.eq(d.id))
        .order_by_asc(draw_exclusion::Column::Id)
        .all(db)
        .await?;
    ids.extend(rows.iter().map(|r| r.expert_id));
    let experts = experts_by_id(db, &ids).await?;
    let public = |id: ExpertId| experts.get(&id).map(|e| e.public_id).unwrap_or_default();
    let seats = seats(&picks, &calls);
    let recorded = Recorded {
        inputs: inputs_of(&d)?,
        secret: d.secret.clone().unwrap_or_default(),
        request_digest: d.request_digest.clone().unwrap_or_default(),
        eligible_digest: d.eligible_digest.clone().unwrap_or_default(),
        picks: picks
            .iter()
            .map(|p| Pick {
                seq: p.seq as u32,
                group: p.group_no as u32,
                expert: public(p.expert_id),
                role: p.role.into(),
            })
            .collect(),
        calls: calls
            .iter()
            .map(|c| Call {
                left: public(c.left_expert_id),
                group: c.group_no as u32,
                expert: public(c.called_expert_id),
            })
            .collect(),
        committee: seats.iter().map(|s| public(s.1)).collect(),
    };
    Ok(RecordExport {
        version: algorithm::VERSION,
        draw: d.public_id,
        tender: t.public_id,
        state: d.state,
        recorded,
        exclusions: rows
            .into_iter()
            .map(|r| RecordExclusion {
                expert: public(r.expert_id),
                reason: r.reason.as_str().into(),
                detail: r.detail,
            })
            .collect(),
    })
}

/// Verifies a record: the draw run again from it.
pub fn verify_export(export: &RecordExport) -> VerifyReport {
    if export.recorded.secret.trim().is_empty() {
        return VerifyReport {
            ok: false,
            error: Some("the secret is not revealed: the draw's result is not published".into()),
            picks: export.recorded.picks.len() as u32,
            calls: export.recorded.calls.len() as u32,
            committee: Vec::new(),
        };
    }
    match algorithm::verify(&export.recorded) {
        Ok(picks) => VerifyReport {
            ok: true,
            error: None,
            picks: picks.len() as u32,
            calls: export.recorded.calls.len() as u32,
            committee: export.recorded.committee.clone(),
        },
        Err(e) => VerifyReport {
            ok: false,
            error: Some(e.to_string()),
            picks: export.recorded.picks.len() as u32,
            calls: export.recorded.calls.len() as u32,
            committee: Vec::new(),
        },
    }
}

/// Verifies the stored record of a published draw.
pub async fn verify(state: &Draws, actor: &Actor, id: Uuid) -> AppResult<VerifyReport> {
    let export = record(state, actor, id).await?;
    if export.state != DrawState::Published {
        return Err(AppError::conflict("not_published", "the secret is revealed when the result is published"));
    }
    Ok(verify_export(&export))
}

/// The invitations of the expert bound to the actor, newest first.
pub async fn my_invitations(state: &Draws, actor: &Actor) -> AppResult<Vec<InvitationView>> {
    if actor.role != Role::Expert {
        return Err(AppError::forbidden());
    }
    let db = state.writer.db();
    let Some(e) = expert::Entity::find().filter(expert::Column::UserId.eq(actor.user_id)).one(db).await? else {
        return Ok(Vec::new());
    };
    let all_sites = sites(db).await?;
    let site = all_sites.get(&e.site_id);
    let now = state.writer.clock().now();
    let mut out = Vec::new();
    for p in draw_pick::Entity::find()
        .filter(draw_pick::Column::ExpertId.eq(e.id))
        .filter(draw_pick::Column::Status.ne(PickStatus::Standby))
        .order_by_desc(draw_pick::Column::Id)
        .all(db)
        .await?
    {
        let Some(d) = draw::Entity::find_by_id(p.draw_id).one(db).await? else { continue };
        let room = if p.status == PickStatus::Confirmed
            && crate::entities::evaluation::Entity::find()
                .filter(crate::entities::evaluation::Column::DrawId.eq(d.id))
                .one(db)
                .await?
                .is_some()
        {
            Some(tender_of(db, d.tender_id).await?.public_id)
        } else {
            None
        };
        out.push(InvitationView {
            id: p.public_id,
            session_at: d.session_at,
            duration_minutes: d.duration_minutes,
            site: site.map(|s| s.name.clone()).unwrap_or_default(),
            city: site.map(|s| s.city.clone()).unwrap_or_default(),
            status: p.status,
            answer_by: p.answer_by,
            open: p.status == PickStatus::Invited
                && d.state == DrawState::Drawn
                && p.answer_by.is_some_and(|by| by >= now),
            room,
        });
    }
    Ok(out)
}

/// A tender in evaluation as the centre's list shows it, with its draw if it has one.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AwaitingDraw {
    /// The tender's public id.
    pub tender: Uuid,
    /// Its code.
    pub code: String,
    /// Its title.
    pub title: String,
    /// Its draw: public id and state.
    pub draw: Option<(Uuid, DrawState)>,
}

/// The tenders in evaluation and those with a draw, newest first, for those who run and watch
/// draws.
pub async fn awaiting(state: &Draws, actor: &Actor) -> AppResult<Vec<AwaitingDraw>> {
    if !watches_draws(actor) {
        return Err(AppError::forbidden());
    }
    let db = state.writer.db();
    let draws: HashMap<TenderId, draw::Model> =
        draw::Entity::find().all(db).await?.into_iter().map(|d| (d.tender_id, d)).collect();
    let tenders = tender::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(tender::Column::State.eq(TenderState::Evaluating))
                .add(tender::Column::Id.is_in(draws.keys().copied().collect::<Vec<_>>())),
        )
        .order_by_desc(tender::Column::Id)
        .all(db)
        .await?;
    Ok(tenders
        .into_iter()
        .map(|t| AwaitingDraw {
            tender: t.public_id,
            code: t.code.clone(),
            title: t.title.clone(),
            draw: draws.get(&t.id).map(|d| (d.public_id, d.state)),
        })
        .collect())
}

/// The sites as choices of the request form: public id and "name（city）".
pub async fn site_choices(state: &Draws) -> AppResult<Vec<(String, String)>> {
    let mut all: Vec<site::Model> = sites(state.writer.db()).await?.into_values().collect();
    all.sort_by_key(|s| s.id);
    Ok(all.into_iter().map(|s| (s.public_id.to_string(), format!("{}（{}）", s.name, s.city))).collect())
}

/// The user bound to an expert, for tests and the demo.
pub async fn user_of_expert<C: ConnectionTrait>(db: &C, expert: Uuid) -> AppResult<Option<UserId>> {
    Ok(expert::Entity::find().filter(expert::Column::PublicId.eq(expert)).one(db).await?.and_then(|e| e.user_id))
}
