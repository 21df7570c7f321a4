//! The rules from the signed evaluation report to the contract: publishing the candidates,
//! challenges and complaints, the award with its default, the notices, the contract, and the
//! deadlines as jobs. Every change is one unit of work.

use super::{
    Awards,
    model::{
        AwardState, AwardView, Candidate, CandidateView, ChallengeActions, ChallengeState, ChallengeView, Decision,
        LotActions, LotAwardView, PublicResult, Regime,
    },
};
use crate::{
    accounts::model::{Actor, Role},
    audit::{Action, AuditActor, AuditEntry},
    calendar::WorkCalendar,
    entities::{
        award_lot, challenge, evaluation, lot, opening, opening_bid, organisation, procurement_result, tender, user,
    },
    error::{AppError, AppResult, FieldError},
    ids::{AwardLotId, ChallengeId, LotId, OrgId, UserId},
    jobs::{JobHandler, NewJob},
    money::Money,
    notify::{model::NoticeKind, service::Notice},
    opening::model::BidOutcome,
    tenders::{criteria::ProcurementCategory, model::TenderState, policy},
    uow::UnitOfWork,
};
use bytes::Bytes;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// The job kind of every award deadline; its arguments are `{"what": ..., "id": <row>}` with
/// `what` one of `decide` (the first candidate is taken), `decide_reminder`, `answer_reminder`,
/// `answer_overdue`, `complaint_reminder`,
/// `contract_reminder`, `contract_overdue`.
pub const DEADLINE_JOB: &str = "award.deadline";

fn platform() -> AuditActor {
    AuditActor { user_id: None, org_id: None, label: "platform (award)".into() }
}

fn job(what: &str, id: i64, due: DateTime<Utc>) -> NewJob {
    NewJob::new(DEADLINE_JOB, format!("{DEADLINE_JOB}:{what}:{id}"), due, json!({"what": what, "id": id}))
}

/// A deadline of a lot's award in its `round`: a later round's jobs have their own keys, and a
/// job of an earlier round finds the lot moved on and does nothing.
fn lot_job(what: &str, a: &award_lot::Model, round: i32, due: DateTime<Utc>) -> NewJob {
    let id = a.id.0;
    if round <= 1 {
        return job(what, id, due);
    }
    NewJob::new(
        DEADLINE_JOB,
        format!("{DEADLINE_JOB}:{what}:{id}:r{round}"),
        due,
        json!({"what": what, "id": id, "round": round}),
    )
}

/// Whether a lot's deadline job belongs to the lot's current round.
fn of_round(args: &Value, a: &award_lot::Model) -> bool {
    args["round"].as_i64().unwrap_or(1) == a.round as i64
}

// ---------------------------------------------------------------------------------------------
// Loading

async fn tender_by_public<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<tender::Model> {
    tender::Entity::find().filter(tender::Column::PublicId.eq(id)).one(db).await?.ok_or_else(AppError::not_found)
}

async fn award_lots<C: ConnectionTrait>(db: &C, t: &tender::Model) -> AppResult<Vec<award_lot::Model>> {
    Ok(award_lot::Entity::find()
        .filter(award_lot::Column::TenderId.eq(t.id))
        .order_by_asc(award_lot::Column::Id)
        .all(db)
        .await?)
}

async fn lots_of<C: ConnectionTrait>(db: &C, t: &tender::Model) -> AppResult<HashMap<crate::ids::LotId, lot::Model>> {
    Ok(lot::Entity::find()
        .filter(lot::Column::TenderId.eq(t.id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect())
}

/// A lot of the tender with its award, by the lot's public id; 404 when the lot has none.
async fn lot_award<C: ConnectionTrait>(
    db: &C,
    t: &tender::Model,
    lot_public: Uuid,
) -> AppResult<(lot::Model, award_lot::Model)> {
    let l = lot::Entity::find()
        .filter(lot::Column::PublicId.eq(lot_public))
        .filter(lot::Column::TenderId.eq(t.id))
        .one(db)
        .await?
        .ok_or_else(AppError::not_found)?;
    let a = award_lot::Entity::find()
        .filter(award_lot::Column::LotId.eq(l.id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::conflict("not_published", "the candidates of this lot are not published"))?;
    Ok((l, a))
}

fn candidates_of(a: &award_lot::Model) -> AppResult<Vec<Candidate>> {
    serde_json::from_str(&a.candidates)
        .map_err(|e| AppError::internal(format!("award_lots.candidates of row {}: {e}", a.id)))
}

async fn challenges_of<C: ConnectionTrait>(db: &C, a: AwardLotId) -> AppResult<Vec<challenge::Model>> {
    Ok(challenge::Entity::find()
        .filter(challenge::Column::AwardLotId.eq(a))
        .order_by_asc(challenge::Column::Id)
        .all(db)
        .await?)
}

/// The organisations whose bids counted at the opening of this lot (sorted, once each).
async fn bidders_of<C: ConnectionTrait>(db: &C, t: &tender::Model, lot: crate::ids::LotId) -> AppResult<Vec<OrgId>> {
    Ok(lot_bidders(db, t, lot).await?.0)
}

/// The organisations whose bids were opened in this lot (valid or not, but not left undecrypted):
/// the suppliers who may challenge its result.
async fn opened_bidders_of<C: ConnectionTrait>(
    db: &C,
    t: &tender::Model,
    lot: crate::ids::LotId,
) -> AppResult<Vec<OrgId>> {
    Ok(lot_bidders(db, t, lot).await?.1)
}

/// The lot's bidders at the opening, and those of them whose bids were opened: one read.
async fn lot_bidders<C: ConnectionTrait>(
    db: &C,
    t: &tender::Model,
    lot: crate::ids::LotId,
) -> AppResult<(Vec<OrgId>, Vec<OrgId>)> {
    let Some(o) = opening::Entity::find().filter(opening::Column::TenderId.eq(t.id)).one(db).await? else {
        return Ok((vec![], vec![]));
    };
    let rows = opening_bid::Entity::find()
        .filter(opening_bid::Column::OpeningId.eq(o.id))
        .filter(opening_bid::Column::LotId.eq(lot))
        .all(db)
        .await?;
    let sorted = |mut v: Vec<OrgId>| {
        v.sort();
        v.dedup();
        v
    };
    let opened = rows.iter().filter(|b| matches!(b.outcome, BidOutcome::Valid | BidOutcome::Invalid)).map(|b| b.org_id);
    Ok((sorted(rows.iter().map(|b| b.org_id).collect()), sorted(opened.collect())))
}

/// The tender's managers' organisations: its procuring unit and its agency.
fn managers_of(t: &tender::Model) -> Vec<OrgId> {
    let mut v = vec![t.procuring_org_id];
    v.extend(t.agency_org_id);
    v
}

/// Every active supervisor, with their organisation.
async fn supervisors<C: ConnectionTrait>(db: &C) -> AppResult<Vec<(OrgId, UserId)>> {
    Ok(user::Entity::find()
        .filter(user::Column::Role.eq(Role::Supervisor))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.org_id, u.id))
        .collect())
}

fn is_procuring_unit(actor: &Actor, t: &tender::Model) -> bool {
    actor.role == Role::ProcuringStaff && actor.org_id == t.procuring_org_id
}

fn text(field: &'static str, v: &str, max: usize) -> AppResult<String> {
    let mut fields = Vec::new();
    crate::error::check_text(&mut fields, field, v, 1, max);
    if fields.is_empty() { Ok(v.trim().to_string()) } else { Err(AppError::validation(fields)) }
}

fn lot_label(l: &lot::Model) -> String {
    format!("{} {}", l.lot_no, l.name)
}

// ---------------------------------------------------------------------------------------------
// Publishing the candidates

/// Publishes the candidates of every lot of a tender whose evaluation report is signed (the
/// tender's managers): up to three per lot in rank order, with the publicity's end, the
/// challenge period and the decision's due time computed on the calendar. Each lot's bidders
/// are told; a publication later than `publish_within_days` after the report is flagged.
pub async fn publish(state: &Awards, actor: &Actor, tender_id: Uuid) -> AppResult<()> {
    let mut uow = state.writer.begin().await?;
    let t = tender_by_public(&uow, tender_id).await?;
    if !policy::is_manager(actor, &t) {
        return Err(if policy::can_view(Some(actor), &t) { AppError::forbidden() } else { AppError::not_found() });
    }
    if t.state != TenderState::Evaluating {
        return Err(AppError::conflict(
            "wrong_state",
            "the candidates are published while the tender is in evaluation",
        ));
    }
    // After a re-evaluation only the lots given back are published again, in their next round.
    let existing = award_lots(&uow, &t).await?;
    let returned: HashMap<LotId, award_lot::Model> =
        existing.iter().filter(|a| a.state == AwardState::Returned).map(|a| (a.lot_id, a.clone())).collect();
    if !existing.is_empty() && returned.is_empty() {
        return Err(AppError::conflict("already_published", "the candidates are already published"));
    }
    let Some((signed_at, ranked)) = state.evaluations.signed_candidates(&uow, t.public_id).await? else {
        return Err(AppError::conflict("report_unsigned", "the evaluation report is not signed yet"));
    };
    if returned.values().any(|a| a.returned_at.is_some_and(|r| signed_at <= r)) {
        return Err(AppError::conflict("report_unsigned", "the re-evaluation's report is not signed yet"));
    }
    let criteria = crate::tenders::service::criteria_of(&t)?;
    let regime = match criteria.map(|c| c.category) {
        Some(ProcurementCategory::Works) => Regime::Tendering,
        _ => Regime::Procurement,
    };
    let s = &state.settings;
    let now = uow.now();
    let cal = WorkCalendar::load(&uow).await?;
    let publicity_until = match regime {
        _ if s.publicity_minutes > 0 => now + TimeDelta::minutes(s.publicity_minutes as i64),
        Regime::Tendering => WorkCalendar::days_after(now, s.publicity_days),
        Regime::Procurement => cal.working_days_after(now, s.announcement_working_days),
    };
    let challenge_until = match regime {
        Regime::Tendering => publicity_until,
        Regime::Procurement => cal.working_days_after(now, s.challenge_working_days).max(publicity_until),
    };
    let decide_by = cal.working_days_after(publicity_until - TimeDelta::seconds(1), s.decide_working_days);
    let late = now > WorkCalendar::days_after(signed_at, s.publish_within_days);
    let lots = lots_of(&uow, &t).await?;
    let mut by_lot: BTreeMap<i32, (lot::Model, Vec<Candidate>)> = BTreeMap::new();
    for r in ranked.into_iter().filter(|r| r.rank <= 3) {
        let Some(l) = lots.get(&r.lot_id) else { continue };
        if !returned.is_empty() && !returned.contains_key(&l.id) {
            continue;
        }
        by_lot.entry(l.lot_no).or_insert_with(|| (l.clone(), vec![])).1.push(Candidate {
            bid_id: r.bid_id,
            bid: r.bid,
            org_id: r.org_id,
            name: r.name,
            price: r.price,
            total: r.total,
            rank: r.rank,
        });
    }
    if by_lot.is_empty() {
        return Err(AppError::conflict("no_candidates", "no bid passed the evaluation"));
    }
    let mut details = Vec::new();
    for (l, mut cands) in by_lot.into_values() {
        cands.sort_by_key(|c| c.rank);
        let candidates = serde_json::to_string(&cands).map_err(AppError::internal)?;
        let row = match returned.get(&l.id) {
            Some(a) => {
                let mut am: award_lot::ActiveModel = a.clone().into();
                am.state = Set(AwardState::Publicity);
                am.candidates = Set(candidates);
                am.regime = Set(regime);
                am.report_signed_at = Set(signed_at);
                am.published_at = Set(now);
                am.published_late = Set(late);
                am.published_by = Set(actor.user_id);
                am.publicity_until = Set(publicity_until);
                am.challenge_until = Set(challenge_until);
                am.decide_by = Set(decide_by);
                am.contract_overdue = Set(false);
                am.choice_reason = Set(None);
                am.awarded_by = Set(None);
                am.round = Set(a.round + 1);
                am.update(&uow).await?
            }
            None => {
                award_lot::ActiveModel {
                    public_id: Set(Uuid::new_v4()),
                    tender_id: Set(t.id),
                    lot_id: Set(l.id),
                    state: Set(AwardState::Publicity),
                    candidates: Set(candidates),
                    regime: Set(regime),
                    report_signed_at: Set(signed_at),
                    published_at: Set(now),
                    published_late: Set(late),
                    published_by: Set(actor.user_id),
                    publicity_until: Set(publicity_until),
                    challenge_until: Set(challenge_until),
                    decide_by: Set(decide_by),
                    contract_overdue: Set(false),
                    ..Default::default()
                }
                .insert(&uow)
                .await?
            }
        };
        uow.schedule(lot_job("decide", &row, row.round, decide_by)).await?;
        let reminder = decide_by - TimeDelta::hours(s.reminder_hours as i64);
        if reminder > now {
            uow.schedule(lot_job("decide_reminder", &row, row.round, reminder)).await?;
        }
        let bidders = bidders_of(&uow, &t, l.id).await?;
        uow.notify(&bidders, candidates_notice(&t, &lot_label(&l), challenge_until)).await?;
        details.push(json!({"lot": l.public_id, "round": row.round, "candidates": cands.iter().map(|c| json!({"rank": c.rank, "bid": c.bid, "price_fen": c.price.fen(), "total": c.total})).collect::<Vec<_>>()}));
    }
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::AwardPublish,
            t.public_id,
            json!({"lots": details, "regime": regime, "publicity_until": publicity_until, "challenge_until": challenge_until,
                   "decide_by": decide_by, "late": late, "report_signed_at": signed_at}),
        ),
    )
    .await?;
    uow.commit().await
}

// ---------------------------------------------------------------------------------------------
// Challenges and complaints

/// A challenge as filed: the text and, optionally, a PDF of evidence.
#[derive(Debug, Clone)]
pub struct ChallengeInput {
    /// The lot challenged (public id).
    pub lot: Uuid,
    /// What is challenged and why.
    pub body: String,
    /// The evidence: file name and content.
    pub evidence: Option<(String, Bytes)>,
}

/// Files a challenge (质疑) of a lot's result: a supplier whose bid was opened in the lot, within
/// the challenge period. The evidence is checked like a tender document. The answer is due in
/// `answer_working_days`; a reminder and the overdue flag are jobs.
pub async fn file_challenge(state: &Awards, actor: &Actor, tender_id: Uuid, input: ChallengeInput) -> AppResult<Uuid> {
    if actor.role != Role::Supplier {
        return Err(AppError::forbidden_because("suppliers_only", "only a bidder of the lot may challenge it"));
    }
    let body = text("body", &input.body, state.settings.max_text_chars)?;
    let evidence = match input.evidence {
        Some((name, data)) if !data.is_empty() => {
            let name = crate::tenders::service::sanitize_file_name(&name);
            crate::pdf::check(data.clone(), &state.pdf).await?;
            let sha = state.blobs.put(data).await.map_err(AppError::internal)?;
            Some((if name.is_empty() { "evidence.pdf".to_string() } else { name }, sha))
        }
        _ => None,
    };
    let mut uow = state.writer.begin().await?;
    let now = uow.now();
    let t = tender_by_public(&uow, tender_id).await?;
    let (l, a) = lot_award(&uow, &t, input.lot).await?;
    if !opened_bidders_of(&uow, &t, l.id).await?.contains(&actor.org_id) {
        return Err(AppError::forbidden_because(
            "not_a_bidder",
            "only a supplier whose bid was opened in the lot may challenge it",
        ));
    }
    if now >= a.challenge_until {
        return Err(AppError::conflict("challenge_closed", "the challenge period of this lot is over")
            .with_arg("until", a.challenge_until.with_timezone(&crate::web::cst()).format("%Y-%m-%d %H:%M")));
    }
    if matches!(a.state, AwardState::Returned | AwardState::Rerun) {
        return Err(AppError::conflict("wrong_state", "this lot's result was set aside"));
    }
    if challenges_of(&uow, a.id).await?.iter().any(|c| c.org_id == actor.org_id && c.state.is_pending()) {
        return Err(AppError::conflict("challenge_exists", "your earlier challenge of this lot is still open"));
    }
    let cal = WorkCalendar::load(&uow).await?;
    let answer_by = cal.working_days_after(now, state.settings.answer_working_days);
    let c = challenge::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        tender_id: Set(t.id),
        award_lot_id: Set(a.id),
        org_id: Set(actor.org_id),
        user_id: Set(actor.user_id),
        state: Set(ChallengeState::Open),
        body: Set(body),
        evidence_sha256: Set(evidence.as_ref().map(|e| e.1.clone())),
        evidence_name: Set(evidence.as_ref().map(|e| e.0.clone())),
        filed_at: Set(now),
        answer_by: Set(answer_by),
        answer_overdue: Set(false),
        changes_result: Set(false),
        ..Default::default()
    }
    .insert(&uow)
    .await?;
    let reminder = answer_by - TimeDelta::hours(state.settings.reminder_hours as i64);
    if reminder > now {
        uow.schedule(job("answer_reminder", c.id.0, reminder)).await?;
    }
    uow.schedule(job("answer_overdue", c.id.0, answer_by)).await?;
    uow.notify(&managers_of(&t), challenge_filed_notice(&t, &lot_label(&l), answer_by)).await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::ChallengeFile,
            t.public_id,
            json!({"challenge": c.public_id, "lot": l.public_id, "answer_by": answer_by,
                   "evidence_sha256": c.evidence_sha256, "evidence_name": c.evidence_name}),
        ),
    )
    .await?;
    uow.commit().await?;
    Ok(c.public_id)
}

async fn challenge_by_public<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<(challenge::Model, tender::Model)> {
    let c = challenge::Entity::find()
        .filter(challenge::Column::PublicId.eq(id))
        .one(db)
        .await?
        .ok_or_else(AppError::not_found)?;
    let t = tender::Entity::find_by_id(c.tender_id).one(db).await?.ok_or_else(AppError::not_found)?;
    Ok((c, t))
}

/// Whether the actor may read the challenge: its challenger, the tender's managers, the centre's
/// staff and the overseers. Everyone else gets 404, as if it did not exist.
fn may_read(actor: &Actor, c: &challenge::Model, t: &tender::Model) -> bool {
    actor.org_id == c.org_id && actor.role == Role::Supplier
        || policy::is_manager(actor, t)
        || policy::is_overseer(actor)
        || crate::mall::policy::is_centre_staff(actor)
}

/// The answer to a challenge.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct AnswerInput {
    /// The answer.
    pub answer: String,
    /// Whether the answer changes the result (then it is published with the result).
    #[serde(default)]
    pub changes_result: bool,
}

/// Answers a challenge (the tender's managers), once; the challenger is told, with the end of
/// the complaint period.
pub async fn answer(state: &Awards, actor: &Actor, id: Uuid, input: AnswerInput) -> AppResult<()> {
    let mut uow = state.writer.begin().await?;
    let now = uow.now();
    let (c, t) = challenge_by_public(&uow, id).await?;
    if !may_read(actor, &c, &t) {
        return Err(AppError::not_found());
    }
    if !policy::is_manager(actor, &t) {
        return Err(AppError::forbidden_because("managers_only", "the tender's agency answers challenges"));
    }
    if c.state != ChallengeState::Open {
        return Err(AppError::conflict("already_answered", "this challenge is answered"));
    }
    let text = text("answer", &input.answer, state.settings.max_text_chars)?;
    let cal = WorkCalendar::load(&uow).await?;
    let until = cal.working_days_after(now, state.settings.complaint_working_days);
    let mut m: challenge::ActiveModel = c.clone().into();
    m.state = Set(ChallengeState::Answered);
    m.answer = Set(Some(text));
    m.changes_result = Set(input.changes_result);
    m.answered_at = Set(Some(now));
    m.complaint_until = Set(Some(until));
    m.update(&uow).await?;
    let reminder = until - TimeDelta::hours(state.settings.reminder_hours as i64);
    if reminder > now {
        uow.schedule(job("complaint_reminder", c.id.0, reminder)).await?;
    }
    let a = award_lot::Entity::find_by_id(c.award_lot_id).one(&uow).await?.ok_or_else(AppError::not_found)?;
    let l = lot::Entity::find_by_id(a.lot_id).one(&uow).await?.ok_or_else(AppError::not_found)?;
    uow.notify(&[c.org_id], challenge_answered_notice(&t, &lot_label(&l), until)).await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::ChallengeAnswer,
            t.public_id,
            json!({"challenge": c.public_id, "changes_result": input.changes_result, "late": now > c.answer_by, "complaint_until": until}),
        ),
    )
    .await?;
    uow.commit().await
}

/// A complaint to the supervisors.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct ComplaintInput {
    /// What is complained of.
    pub complaint: String,
}

/// Complains to the supervisors (投诉): the challenger, after the answer (or after the answer's
/// due time passed without one), within the complaint period.
pub async fn complain(state: &Awards, actor: &Actor, id: Uuid, input: ComplaintInput) -> AppResult<()> {
    let mut uow = state.writer.begin().await?;
    let now = uow.now();
    let (c, t) = challenge_by_public(&uow, id).await?;
    if !may_read(actor, &c, &t) {
        return Err(AppError::not_found());
    }
    if !(actor.role == Role::Supplier && actor.org_id == c.org_id) {
        return Err(AppError::forbidden_because("challenger_only", "only the challenger may complain"));
    }
    let until = match c.state {
        ChallengeState::Answered => c.complaint_until,
        ChallengeState::Open if now >= c.answer_by => {
            Some(WorkCalendar::load(&uow).await?.working_days_after(c.answer_by, state.settings.complaint_working_days))
        }
        ChallengeState::Open => {
            return Err(AppError::conflict("not_answered", "a complaint follows the answer, or its due time"));
        }
        _ => return Err(AppError::conflict("already_complained", "this challenge went to the supervisors")),
    };
    if until.is_none_or(|u| now >= u) {
        return Err(AppError::conflict("complaint_closed", "the complaint period is over"));
    }
    let text = text("complaint", &input.complaint, state.settings.max_text_chars)?;
    let mut m: challenge::ActiveModel = c.clone().into();
    m.state = Set(ChallengeState::Complained);
    m.complaint = Set(Some(text));
    m.complained_at = Set(Some(now));
    m.update(&uow).await?;
    let sups = supervisors(&uow).await?;
    uow.notify_users(&sups, complaint_filed_notice(&t)).await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(Action::ChallengeComplain, t.public_id, json!({"challenge": c.public_id})),
    )
    .await?;
    uow.commit().await
}

/// A supervisor's decision on a complaint.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct DecisionInput {
    /// `rejected`, `re_evaluate` or `rerun`.
    pub decision: String,
    /// Why.
    pub reason: String,
}

/// Decides a complaint (a supervisor). Rejected, the result stands; upheld, the lot goes back to
/// its committee (`re_evaluate`) or is run again (`rerun`): an award already made is set aside
/// and its result taken out of the savings figures.
pub async fn decide(state: &Awards, actor: &Actor, id: Uuid, input: DecisionInput) -> AppResult<()> {
    if actor.role != Role::Supervisor {
        return Err(AppError::forbidden_because("supervisors_only", "supervisors decide complaints"));
    }
    let decision =
        Decision::parse(input.decision.trim()).ok_or_else(|| AppError::invalid_field("decision", "unknown"))?;
    let reason = text("reason", &input.reason, state.settings.max_text_chars)?;
    let mut uow = state.writer.begin().await?;
    let now = uow.now();
    let (c, t) = challenge_by_public(&uow, id).await?;
    if c.state != ChallengeState::Complained {
        return Err(AppError::conflict("no_complaint", "there is no complaint to decide"));
    }
    let a = award_lot::Entity::find_by_id(c.award_lot_id).one(&uow).await?.ok_or_else(AppError::not_found)?;
    if decision != Decision::Rejected && a.state == AwardState::Contracted {
        return Err(AppError::conflict(
            "contracted",
            "the lot's contract is signed; the remedy is outside this platform",
        ));
    }
    let mut m: challenge::ActiveModel = c.clone().into();
    m.state = Set(ChallengeState::Decided);
    m.decision = Set(Some(decision));
    m.decision_reason = Set(Some(reason.clone()));
    m.decided_at = Set(Some(now));
    m.update(&uow).await?;
    if decision != Decision::Rejected {
        let mut am: award_lot::ActiveModel = a.clone().into();
        am.state = Set(if decision == Decision::Rerun { AwardState::Rerun } else { AwardState::Returned });
        am.winner_bid_id = Set(None);
        am.winner_org_id = Set(None);
        am.award_fen = Set(None);
        am.winner_rank = Set(None);
        am.awarded_at = Set(None);
        am.contract_due = Set(None);
        am.returned_at = Set(Some(now));
        am.update(&uow).await?;
        procurement_result::Entity::delete_many()
            .filter(procurement_result::Column::Code.eq(result_code(&uow, &a).await?))
            .exec(&uow)
            .await?;
    }
    let l = lot::Entity::find_by_id(a.lot_id).one(&uow).await?.ok_or_else(AppError::not_found)?;
    if decision == Decision::ReEvaluate {
        // Back to the same committee: the session's next round, and the tender in evaluation
        // again if every lot had been awarded.
        state.evaluations.give_back(&mut uow, t.public_id, &l, &reason, &actor.audit()).await?;
        crate::tenders::service::move_state(&uow, &t, TenderState::Evaluating, now).await?;
    }
    let mut to = managers_of(&t);
    to.push(c.org_id);
    uow.notify(&to, complaint_decided_notice(&t, &lot_label(&l), decision)).await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::ChallengeDecide,
            t.public_id,
            json!({"challenge": c.public_id, "decision": decision, "reason": reason, "set_aside": a.winner_bid_id.is_some() && decision != Decision::Rejected}),
        ),
    )
    .await?;
    uow.commit().await
}

// ---------------------------------------------------------------------------------------------
// The award

/// The procuring unit's choice of a lot's winner.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct AwardInput {
    /// The candidate's bid (public id).
    pub bid: Uuid,
    /// Why, when another than the first candidate is chosen.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The project code a lot's result is counted under in the savings report.
async fn result_code<C: ConnectionTrait>(db: &C, a: &award_lot::Model) -> AppResult<String> {
    let t = tender::Entity::find_by_id(a.tender_id).one(db).await?.ok_or_else(AppError::not_found)?;
    let l = lot::Entity::find_by_id(a.lot_id).one(db).await?.ok_or_else(AppError::not_found)?;
    Ok(format!("{}-{}", t.code, l.lot_no))
}

/// Chooses a lot's winner (the procuring unit): after the publicity, with no challenge of the lot
/// pending, once. Another than the first candidate needs a written reason and is flagged to the
/// supervisors.
pub async fn award(
    state: &Awards,
    actor: &Actor,
    tender_id: Uuid,
    lot_public: Uuid,
    input: AwardInput,
) -> AppResult<()> {
    let mut uow = state.writer.begin().await?;
    let t = tender_by_public(&uow, tender_id).await?;
    if !policy::can_view(Some(actor), &t) {
        return Err(AppError::not_found());
    }
    if !is_procuring_unit(actor, &t) {
        return Err(AppError::forbidden_because("procuring_unit_only", "the procuring unit chooses the winner"));
    }
    let (l, a) = lot_award(&uow, &t, lot_public).await?;
    let cands = candidates_of(&a)?;
    let chosen =
        cands.iter().find(|c| c.bid == input.bid).ok_or_else(|| AppError::invalid_field("bid", "not_a_candidate"))?;
    let reason = match input.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => Some(text("reason", r, state.settings.max_text_chars)?),
        None if chosen.rank != 1 => return Err(AppError::invalid_field("reason", "required_for_other_candidate")),
        None => None,
    };
    decide_award(state, &mut uow, &t, &l, &a, chosen, reason, &actor.audit()).await?;
    uow.commit().await
}

/// The checks and the change of an award, by the procuring unit or by the decision's deadline.
#[allow(clippy::too_many_arguments)]
async fn decide_award(
    state: &Awards,
    uow: &mut UnitOfWork,
    t: &tender::Model,
    l: &lot::Model,
    a: &award_lot::Model,
    chosen: &Candidate,
    reason: Option<String>,
    by: &AuditActor,
) -> AppResult<()> {
    let now = uow.now();
    match a.state {
        AwardState::Publicity => {}
        AwardState::Awarded | AwardState::Contracted => {
            return Err(AppError::conflict("already_awarded", "this lot is awarded"));
        }
        AwardState::Returned | AwardState::Rerun => {
            return Err(AppError::conflict("set_aside", "this lot's result was set aside by a complaint's decision"));
        }
    }
    if now < a.publicity_until {
        return Err(AppError::conflict("publicity_running", "the award follows the publicity")
            .with_arg("until", a.publicity_until.with_timezone(&crate::web::cst()).format("%Y-%m-%d %H:%M")));
    }
    if challenges_of(&*uow, a.id).await?.iter().any(|c| c.state.is_pending()) {
        return Err(AppError::conflict("challenge_pending", "a challenge of this lot is not settled"));
    }
    let contract_due = WorkCalendar::days_after(now, state.settings.contract_days);
    let mut m: award_lot::ActiveModel = a.clone().into();
    m.state = Set(AwardState::Awarded);
    m.winner_bid_id = Set(Some(chosen.bid_id));
    m.winner_org_id = Set(Some(chosen.org_id));
    m.award_fen = Set(Some(chosen.price));
    m.winner_rank = Set(Some(chosen.rank as i32));
    m.choice_reason = Set(reason.clone());
    m.awarded_by = Set(by.user_id);
    m.awarded_at = Set(Some(now));
    m.contract_due = Set(Some(contract_due));
    m.update(&*uow).await?;
    let code = result_code(&*uow, a).await?;
    procurement_result::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        code: Set(code.clone()),
        title: Set(format!("{} · {}", t.title, lot_label(l))),
        procuring_org_id: Set(t.procuring_org_id),
        category: Set(crate::tenders::service::criteria_of(t)?
            .map(|c| c.category.as_str().to_string())
            .unwrap_or_default()),
        method: Set(t.procurement_method.as_str().to_string()),
        budget_fen: Set(l.budget_fen),
        award_fen: Set(chosen.price),
        supplier_name: Set(chosen.name.clone()),
        awarded_at: Set(now),
        tender_id: Set(Some(t.id)),
        recorded_by: Set(by.user_id.unwrap_or(a.published_by)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&*uow)
    .await?;
    let reminder = contract_due - TimeDelta::hours(state.settings.reminder_hours as i64);
    uow.schedule(lot_job("contract_reminder", a, a.round, reminder.max(now))).await?;
    uow.schedule(lot_job("contract_overdue", a, a.round, contract_due)).await?;
    uow.notify(&[chosen.org_id], award_won_notice(t, &lot_label(l), chosen.price, contract_due)).await?;
    let others: Vec<OrgId> = bidders_of(&*uow, t, l.id).await?.into_iter().filter(|o| *o != chosen.org_id).collect();
    uow.notify(&others, award_result_notice(t, &lot_label(l), &chosen.name, chosen.price)).await?;
    if let Some(r) = &reason {
        let sups = supervisors(&*uow).await?;
        uow.notify_users(&sups, other_candidate_notice(t, &lot_label(l), r)).await?;
    }
    uow.record(
        by,
        AuditEntry::new(
            Action::AwardDecide,
            t.public_id,
            json!({"lot": l.public_id, "bid": chosen.bid, "rank": chosen.rank, "award_fen": chosen.price.fen(),
                   "budget_fen": l.budget_fen.fen(), "reason": reason, "flagged": chosen.rank != 1,
                   "by_default": by.user_id.is_none(), "contract_due": contract_due, "result_code": code}),
        ),
    )
    .await?;
    // The tender is awarded once no lot waits for a decision.
    let all = award_lots(&*uow, t).await?;
    if all
        .iter()
        .all(|x| x.id == a.id || matches!(x.state, AwardState::Awarded | AwardState::Contracted | AwardState::Rerun))
    {
        crate::tenders::service::move_state(&*uow, t, TenderState::Awarded, now).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The contract

/// A contract as recorded.
#[derive(Debug, Clone)]
pub struct ContractInput {
    /// The amount, in 元 as typed.
    pub amount: String,
    /// The date it was signed, `YYYY-MM-DD` (China time).
    pub signed_on: String,
    /// The contract PDF: file name and content.
    pub file: Option<(String, Bytes)>,
}

/// Records a lot's contract (the procuring unit): its amount, its date (from the award notice's
/// day to `contract_days` after it, never in the future) and its PDF.
pub async fn record_contract(
    state: &Awards,
    actor: &Actor,
    tender_id: Uuid,
    lot_public: Uuid,
    input: ContractInput,
) -> AppResult<()> {
    let mut fields = Vec::new();
    let amount = match Money::parse_yuan(&input.amount) {
        Ok(m) if m.fen() > 0 => Some(m),
        Ok(_) => {
            fields.push(FieldError::new("amount", "not_positive"));
            None
        }
        Err(_) => {
            fields.push(FieldError::new("amount", "invalid_amount"));
            None
        }
    };
    let signed_on = NaiveDate::parse_from_str(input.signed_on.trim(), "%Y-%m-%d").ok();
    if signed_on.is_none() {
        fields.push(FieldError::new("signed_on", "invalid_date"));
    }
    let file = input.file.filter(|(_, d)| !d.is_empty());
    if file.is_none() {
        fields.push(FieldError::new("file", "required"));
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let (amount, signed_on, (name, data)) = match (amount, signed_on, file) {
        (Some(a), Some(s), Some(f)) => (a, s, f),
        _ => return Err(AppError::internal("checked above")),
    };
    {
        let t = tender_by_public(&state.db, tender_id).await?;
        if !policy::can_view(Some(actor), &t) {
            return Err(AppError::not_found());
        }
        if !is_procuring_unit(actor, &t) {
            return Err(AppError::forbidden_because("procuring_unit_only", "the procuring unit records the contract"));
        }
    }
    crate::pdf::check(data.clone(), &state.pdf).await?;
    let sha = state.blobs.put(data).await.map_err(AppError::internal)?;
    let mut uow = state.writer.begin().await?;
    let now = uow.now();
    let t = tender_by_public(&uow, tender_id).await?;
    let (l, a) = lot_award(&uow, &t, lot_public).await?;
    let (Some(awarded_at), Some(due)) = (a.awarded_at, a.contract_due) else {
        return Err(AppError::conflict("not_awarded", "the contract follows the award"));
    };
    if a.state == AwardState::Contracted {
        return Err(AppError::conflict("already_recorded", "this lot's contract is recorded"));
    }
    let cst = crate::web::cst();
    let (first, last) =
        (awarded_at.with_timezone(&cst).date_naive(), (due - TimeDelta::seconds(1)).with_timezone(&cst).date_naive());
    if signed_on < first {
        return Err(AppError::invalid_field("signed_on", "before_award"));
    }
    if signed_on > now.with_timezone(&cst).date_naive() {
        return Err(AppError::invalid_field("signed_on", "in_future"));
    }
    if signed_on > last {
        return Err(
            AppError::invalid_field("signed_on", "contract_late").with_arg("days", state.settings.contract_days)
        );
    }
    if !amount.within_bound() {
        return Err(AppError::invalid_field("amount", "too_large"));
    }
    let mut m: award_lot::ActiveModel = a.clone().into();
    m.state = Set(AwardState::Contracted);
    m.contract_fen = Set(Some(amount));
    m.contract_signed_on = Set(Some(signed_on.format("%Y-%m-%d").to_string()));
    m.contract_sha256 = Set(Some(sha.clone()));
    m.contract_recorded_at = Set(Some(now));
    m.update(&uow).await?;
    let name = crate::tenders::service::sanitize_file_name(&name);
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::AwardContract,
            t.public_id,
            json!({"lot": l.public_id, "amount_fen": amount.fen(), "award_fen": a.award_fen.map(Money::fen),
                   "signed_on": signed_on.format("%Y-%m-%d").to_string(), "sha256": sha, "file_name": name}),
        ),
    )
    .await?;
    uow.commit().await
}

/// The contract PDF of a lot: the procuring unit, the winner, the agency, the centre's staff and
/// overseers.
pub async fn contract_pdf(state: &Awards, actor: &Actor, tender_id: Uuid, lot_public: Uuid) -> AppResult<Bytes> {
    let t = tender_by_public(&state.db, tender_id).await?;
    let (_, a) = lot_award(&state.db, &t, lot_public).await.map_err(|_| AppError::not_found())?;
    let reader = policy::is_manager(actor, &t)
        || policy::is_overseer(actor)
        || crate::mall::policy::is_centre_staff(actor)
        || (actor.role == Role::Supplier && a.winner_org_id == Some(actor.org_id));
    let Some(sha) = a.contract_sha256.filter(|_| reader) else { return Err(AppError::not_found()) };
    state.blobs.get(&sha).await.map_err(AppError::internal)
}

/// A challenge's evidence PDF, for those who may read the challenge.
pub async fn evidence_pdf(state: &Awards, actor: &Actor, id: Uuid) -> AppResult<(String, Bytes)> {
    let (c, t) = challenge_by_public(&state.db, id).await?;
    if !may_read(actor, &c, &t) {
        return Err(AppError::not_found());
    }
    let (Some(name), Some(sha)) = (c.evidence_name, c.evidence_sha256) else { return Err(AppError::not_found()) };
    Ok((name, state.blobs.get(&sha).await.map_err(AppError::internal)?))
}

// ---------------------------------------------------------------------------------------------
// The notices

/// The award notice (中标通知书) for the winner, or the result notice (结果通知书) for another
/// bidder of the lot, as a PDF in both languages; the tender's managers and overseers get the
/// award notice. Everyone else: 404.
pub async fn notice_pdf(state: &Awards, actor: &Actor, tender_id: Uuid, lot_public: Uuid) -> AppResult<Vec<u8>> {
    let db = &state.db;
    let t = tender_by_public(db, tender_id).await?;
    let (l, a) = lot_award(db, &t, lot_public).await.map_err(|_| AppError::not_found())?;
    let (Some(winner_org), Some(amount), Some(awarded_at)) = (a.winner_org_id, a.award_fen, a.awarded_at) else {
        return Err(AppError::not_found());
    };
    let is_winner = actor.role == Role::Supplier && actor.org_id == winner_org;
    let other_bidder =
        actor.role == Role::Supplier && !is_winner && bidders_of(db, &t, l.id).await?.contains(&actor.org_id);
    if !(is_winner || other_bidder || policy::is_manager(actor, &t) || policy::is_overseer(actor)) {
        return Err(AppError::not_found());
    }
    let winner = candidates_of(&a)?
        .into_iter()
        .find(|c| Some(c.bid_id) == a.winner_bid_id)
        .ok_or_else(|| AppError::internal("winner not among the candidates"))?;
    let orgs: HashMap<OrgId, String> = organisation::Entity::find()
        .filter(
            organisation::Column::Id
                .is_in([Some(t.procuring_org_id), t.agency_org_id, Some(actor.org_id)].into_iter().flatten()),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let texts = state.texts.clone();
    let to = if other_bidder { actor.org_name.clone() } else { winner.name.clone() };
    let unit = orgs.get(&t.procuring_org_id).cloned().unwrap_or_default();
    let agency = t.agency_org_id.and_then(|o| orgs.get(&o).cloned()).unwrap_or_default();
    let due = a
        .contract_due
        .map(|d| (d - TimeDelta::seconds(1)).with_timezone(&crate::web::cst()).format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let when = awarded_at.with_timezone(&crate::web::cst()).format("%Y-%m-%d %H:%M").to_string();
    let body = json!({"tender": t.public_id, "code": t.code, "lot": l.public_id, "winner": winner.name, "amount_fen": amount.fen(), "awarded_at": awarded_at, "to": to});
    let json_bytes = serde_json::to_vec(&body).map_err(AppError::internal)?;
    let sig = hex::encode(state.key.sign(&json_bytes));
    tokio::task::spawn_blocking(move || {
        let tx = |k: &str| texts.both(k);
        let title = if other_bidder { tx("award.pdf.result_title") } else { tx("award.pdf.title") };
        let mut doc = crate::pdf::writer::Document::new(&title);
        doc.footer(&format!("Tenderhall · {} · Ed25519 {}", t.code, &sig[..32]));
        doc.key_values(&[
            (&tx("award.pdf.to"), &to),
            (&tx("report.code"), &t.code),
            (&tx("report.tender_title"), &t.title),
            (&tx("award.pdf.lot"), &format!("{} {}", l.lot_no, l.name)),
            (&tx("award.pdf.winner"), &winner.name),
            (&tx("award.pdf.amount"), &format!("{} 元 ({})", amount.yuan_string(), amount.capitals())),
            (&tx("award.pdf.awarded_at"), &when),
            (&tx("award.pdf.unit"), &unit),
            (&tx("award.pdf.agency"), &agency),
        ]);
        doc.paragraph(&if other_bidder {
            tx("award.pdf.result_body")
        } else {
            tx("award.pdf.body").replace("{due}", &due)
        });
        doc.attach("notice.json", "application/json", "signed notice", &json_bytes);
        doc.finish().map_err(AppError::internal)
    })
    .await
    .map_err(AppError::internal)?
}

// ---------------------------------------------------------------------------------------------
// Views

/// A tender's award as the reader may see it: the lots' candidates and results to everyone who
/// may see the tender; challenges only to those who may read them.
pub async fn view(state: &Awards, actor: Option<&Actor>, tender_id: Uuid) -> AppResult<AwardView> {
    let db = &state.db;
    let t = tender_by_public(db, tender_id).await?;
    if !policy::can_view(actor, &t) {
        return Err(AppError::not_found());
    }
    let now = state.writer.clock().now();
    let lots = lots_of(db, &t).await?;
    let rows = award_lots(db, &t).await?;
    // Once, after the report is signed; again for the lots given back, after the
    // re-evaluation's report is signed.
    let returned: Vec<&award_lot::Model> = rows.iter().filter(|a| a.state == AwardState::Returned).collect();
    let can_publish = (rows.is_empty() || !returned.is_empty())
        && t.state == TenderState::Evaluating
        && actor.is_some_and(|a| policy::is_manager(a, &t))
        && state
            .evaluations
            .signed_candidates(db, t.public_id)
            .await
            .ok()
            .flatten()
            .is_some_and(|(at, _)| returned.iter().all(|a| a.returned_at.is_none_or(|r| at > r)));
    let mut challenges_by_lot: HashMap<AwardLotId, Vec<challenge::Model>> = HashMap::new();
    for a in &rows {
        challenges_by_lot.insert(a.id, challenges_of(db, a.id).await?);
    }
    let org_names: HashMap<OrgId, String> = {
        organisation::Entity::find()
            .filter(organisation::Column::Id.is_in(challenges_by_lot.values().flatten().map(|c| c.org_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect()
    };
    let mut out = Vec::new();
    for a in rows {
        let Some(l) = lots.get(&a.lot_id) else { continue };
        let cands = candidates_of(&a)?;
        let (bidders, opened) = lot_bidders(db, &t, l.id).await?;
        let all = challenges_by_lot.remove(&a.id).unwrap_or_default();
        let pending = all.iter().any(|c| c.state.is_pending());
        let mut challenges = Vec::new();
        for c in &all {
            let readable = actor.is_some_and(|ac| may_read(ac, c, &t));
            if !(readable || (c.changes_result && c.answer.is_some())) {
                continue;
            }
            let ac = actor.filter(|_| readable);
            let complaint_open = match c.state {
                ChallengeState::Answered => c.complaint_until.is_some_and(|u| now < u),
                ChallengeState::Open => now >= c.answer_by,
                _ => false,
            };
            challenges.push(ChallengeView {
                id: c.public_id,
                lot: l.public_id,
                challenger: if readable {
                    org_names.get(&c.org_id).cloned().unwrap_or_default()
                } else {
                    String::new()
                },
                state: c.state,
                body: if readable { c.body.clone() } else { String::new() },
                evidence_name: if readable { c.evidence_name.clone() } else { None },
                filed_at: c.filed_at,
                answer_by: c.answer_by,
                answer_overdue: c.answer_overdue,
                answer: c.answer.clone(),
                changes_result: c.changes_result,
                answered_at: c.answered_at,
                complaint_until: c.complaint_until,
                complaint: if readable { c.complaint.clone() } else { None },
                decision: c.decision,
                decision_reason: c.decision_reason.clone(),
                can: ChallengeActions {
                    answer: ac.is_some_and(|x| policy::is_manager(x, &t)) && c.state == ChallengeState::Open,
                    complain: ac.is_some_and(|x| x.role == Role::Supplier && x.org_id == c.org_id) && complaint_open,
                    decide: ac.is_some_and(|x| x.role == Role::Supervisor) && c.state == ChallengeState::Complained,
                },
            });
        }
        let winner = cands.iter().find(|c| Some(c.bid_id) == a.winner_bid_id);
        let savings = a.award_fen.map(|f| crate::mall::model::Savings { budget: l.budget_fen, deal: f });
        let bidder = actor.is_some_and(|x| x.role == Role::Supplier && bidders.contains(&x.org_id));
        let awarded = matches!(a.state, AwardState::Awarded | AwardState::Contracted);
        out.push(LotAwardView {
            lot: l.public_id,
            lot_no: l.lot_no,
            name: l.name.clone(),
            budget: l.budget_fen,
            state: a.state,
            round: a.round,
            returned_at: a.returned_at,
            regime: a.regime,
            candidates: cands
                .iter()
                .map(|c| CandidateView {
                    bid: c.bid,
                    rank: c.rank,
                    name: c.name.clone(),
                    price: c.price,
                    total: c.total,
                })
                .collect(),
            published_at: a.published_at,
            published_late: a.published_late,
            publicity_until: a.publicity_until,
            challenge_until: a.challenge_until,
            decide_by: a.decide_by,
            winner: winner.map(|w| w.name.clone()),
            winner_rank: a.winner_rank,
            choice_reason: a.choice_reason.clone(),
            award: a.award_fen,
            savings: savings.map(|s| s.saved()),
            savings_rate: savings.map(|s| s.rate_percent(2)),
            awarded_at: a.awarded_at,
            contract_due: a.contract_due,
            contract_amount: a.contract_fen,
            contract_signed_on: a.contract_signed_on.clone(),
            contract_overdue: a.contract_overdue,
            challenges,
            can: LotActions {
                challenge: actor.is_some_and(|x| x.role == Role::Supplier && opened.contains(&x.org_id))
                    && now < a.challenge_until
                    && !matches!(a.state, AwardState::Returned | AwardState::Rerun)
                    && !all.iter().any(|c| actor.is_some_and(|x| x.org_id == c.org_id) && c.state.is_pending()),
                award: actor.is_some_and(|x| is_procuring_unit(x, &t))
                    && a.state == AwardState::Publicity
                    && now >= a.publicity_until
                    && !pending,
                contract: actor.is_some_and(|x| is_procuring_unit(x, &t)) && a.state == AwardState::Awarded,
                notice: awarded && actor.is_some_and(|x| bidder || policy::is_manager(x, &t) || policy::is_overseer(x)),
            },
        });
    }
    let ratings = match actor {
        Some(a) => crate::experts::ratings::to_rate(db, a, t.public_id).await?,
        None => None,
    };
    let timeline = timeline(db, actor, &t, &out, now).await?;
    Ok(AwardView { tender: t.public_id, code: t.code, title: t.title, lots: out, can_publish, ratings, timeline })
}

#[async_trait::async_trait]
impl crate::tenders::Progress for Awards {
    async fn timeline(&self, actor: Option<&Actor>, tender: Uuid) -> AppResult<Vec<super::model::TimelineStep>> {
        Ok(view(self, actor, tender).await?.timeline)
    }
}

/// The tender's way from its posting to the contract, each step as far as the reader may see
/// it: the challenges' count only for those who read challenges.
async fn timeline(
    db: &sea_orm::DatabaseConnection,
    actor: Option<&Actor>,
    t: &tender::Model,
    lots: &[LotAwardView],
    now: DateTime<Utc>,
) -> AppResult<Vec<super::model::TimelineStep>> {
    use super::model::TimelineStep;
    let step =
        |step: &'static str, at: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>, done: bool, note: String| {
            let status = if done {
                "done"
            } else if at.is_some_and(|a| a <= now) {
                "current"
            } else {
                "upcoming"
            };
            TimelineStep { step, status, at, until, note }
        };
    let mut out = vec![
        step("published", t.published_at, None, t.published_at.is_some(), String::new()),
        step("deadline", Some(t.bid_deadline), None, now >= t.bid_deadline, String::new()),
    ];
    let o = opening::Entity::find().filter(opening::Column::TenderId.eq(t.id)).one(db).await?;
    let closed = o.as_ref().filter(|o| o.phase == crate::opening::model::Phase::Closed).map(|o| o.phase_started_at);
    out.push(step("opening", o.as_ref().map(|o| o.created_at), closed, closed.is_some(), String::new()));
    let ev = evaluation::Entity::find().filter(evaluation::Column::TenderId.eq(t.id)).one(db).await?;
    out.push(step(
        "evaluation",
        ev.as_ref().map(|e| e.opened_at),
        ev.as_ref().and_then(|e| e.signed_at),
        ev.as_ref().is_some_and(|e| e.signed_at.is_some()),
        String::new(),
    ));
    let published = lots.iter().map(|l| l.published_at).min();
    let publicity_end = lots.iter().map(|l| l.publicity_until).max();
    out.push(step("publicity", published, publicity_end, publicity_end.is_some_and(|e| now >= e), String::new()));
    if actor
        .is_some_and(|a| policy::is_manager(a, t) || policy::is_overseer(a) || crate::mall::policy::is_centre_staff(a))
    {
        let filed: usize = lots.iter().map(|l| l.challenges.len()).sum();
        let open = lots.iter().flat_map(|l| &l.challenges).filter(|c| c.state.is_pending()).count();
        if filed > 0 {
            let first = lots.iter().flat_map(|l| &l.challenges).map(|c| c.filed_at).min();
            out.push(step("challenges", first, None, open == 0, format!("{filed} / {open}")));
        }
    }
    let awarded: Vec<&LotAwardView> = lots.iter().filter(|l| l.awarded_at.is_some()).collect();
    let all_awarded = !lots.is_empty() && awarded.len() == lots.len();
    out.push(step(
        "award",
        awarded.iter().filter_map(|l| l.awarded_at).min(),
        None,
        all_awarded,
        awarded.iter().filter_map(|l| l.winner.clone()).collect::<Vec<_>>().join("、"),
    ));
    let contracted = lots.iter().filter(|l| l.contract_signed_on.is_some()).count();
    let due = lots.iter().filter_map(|l| l.contract_due).max();
    out.push(step(
        "contract",
        due.filter(|_| contracted < lots.len()),
        None,
        !lots.is_empty() && contracted == lots.len(),
        lots.iter().filter_map(|l| l.contract_signed_on.clone()).collect::<Vec<_>>().join("、"),
    ));
    match t.state {
        TenderState::Cancelled => {
            out.push(step("cancelled", Some(t.updated_at), None, true, t.cancel_reason.clone().unwrap_or_default()))
        }
        TenderState::Failed => out.push(step("failed", Some(t.updated_at), None, true, String::new())),
        _ => {}
    }
    Ok(out)
}

/// Which public list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicList {
    /// 结果公示: the candidates published, newest first.
    Candidates,
    /// 中标公告: the awards, newest first.
    Awards,
}

/// The public lists of results: the candidates' publicity (结果公示) and the award announcements
/// (中标公告), newest first, at most 200 lines.
pub async fn public_list(state: &Awards, which: PublicList) -> AppResult<Vec<PublicResult>> {
    let db = &state.db;
    let mut q = award_lot::Entity::find();
    q = match which {
        PublicList::Candidates => q.order_by_desc(award_lot::Column::PublishedAt),
        PublicList::Awards => q
            .filter(award_lot::Column::State.is_in([AwardState::Awarded.as_str(), AwardState::Contracted.as_str()]))
            .order_by_desc(award_lot::Column::AwardedAt),
    };
    let rows = sea_orm::QuerySelect::limit(q, 200).all(db).await?;
    let tenders: HashMap<crate::ids::TenderId, tender::Model> = tender::Entity::find()
        .filter(tender::Column::Id.is_in(rows.iter().map(|a| a.tender_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let lots: HashMap<crate::ids::LotId, lot::Model> = lot::Entity::find()
        .filter(lot::Column::Id.is_in(rows.iter().map(|a| a.lot_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let mut out = Vec::new();
    for a in rows {
        let (Some(t), Some(l)) = (tenders.get(&a.tender_id), lots.get(&a.lot_id)) else { continue };
        let cands = candidates_of(&a)?;
        let pick = match which {
            PublicList::Candidates => cands.first(),
            PublicList::Awards => cands.iter().find(|c| Some(c.bid_id) == a.winner_bid_id),
        };
        let Some(c) = pick else { continue };
        out.push(PublicResult {
            tender: t.public_id,
            code: t.code.clone(),
            title: t.title.clone(),
            lot: lot_label(l),
            supplier: c.name.clone(),
            amount: a.award_fen.filter(|_| which == PublicList::Awards).unwrap_or(c.price),
            at: if which == PublicList::Awards { a.awarded_at.unwrap_or(a.published_at) } else { a.published_at },
            until: (which == PublicList::Candidates).then_some(a.publicity_until),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Deadlines

/// The award's deadlines ([`DEADLINE_JOB`]).
pub struct Deadlines(pub Awards);

#[async_trait::async_trait]
impl JobHandler for Deadlines {
    async fn run(&self, uow: &mut UnitOfWork, args: &Value) -> AppResult<()> {
        let what = args["what"].as_str().unwrap_or_default();
        let id = args["id"].as_i64().ok_or_else(|| AppError::internal("award.deadline without an id"))?;
        match what {
            "decide" => self.decide(uow, AwardLotId(id), args).await,
            "decide_reminder" => self.decide_reminder(uow, AwardLotId(id), args).await,
            "complaint_reminder" => self.complaint_reminder(uow, ChallengeId(id)).await,
            "answer_reminder" | "answer_overdue" => {
                self.answer_due(uow, ChallengeId(id), what == "answer_overdue").await
            }
            "contract_reminder" | "contract_overdue" => {
                self.contract_due(uow, AwardLotId(id), args, what == "contract_overdue").await
            }
            other => Err(AppError::internal(format!("award.deadline: unknown step {other:?}"))),
        }
    }
}

impl Deadlines {
    /// No decision by the due time: the first candidate is taken, unless a challenge is pending,
    /// when the job looks again a working day later.
    async fn decide(&self, uow: &mut UnitOfWork, id: AwardLotId, args: &Value) -> AppResult<()> {
        let Some(a) = award_lot::Entity::find_by_id(id).one(&*uow).await? else { return Ok(()) };
        if a.state != AwardState::Publicity || !of_round(args, &a) {
            return Ok(());
        }
        let now = uow.now();
        if challenges_of(&*uow, a.id).await?.iter().any(|c| c.state.is_pending()) || now < a.publicity_until {
            let again = WorkCalendar::load(&*uow).await?.working_days_after(now, 1);
            return uow
                .schedule(NewJob::new(
                    DEADLINE_JOB,
                    format!("{DEADLINE_JOB}:decide:{}:{}", a.id.0, again.timestamp()),
                    again,
                    json!({"what": "decide", "id": a.id.0, "round": a.round}),
                ))
                .await;
        }
        let t = tender::Entity::find_by_id(a.tender_id).one(&*uow).await?.ok_or_else(AppError::not_found)?;
        let l = lot::Entity::find_by_id(a.lot_id).one(&*uow).await?.ok_or_else(AppError::not_found)?;
        let cands = candidates_of(&a)?;
        let Some(first) = cands.iter().find(|c| c.rank == 1) else { return Ok(()) };
        decide_award(&self.0, uow, &t, &l, &a, first, None, &platform()).await
    }

    /// A day before the decision is due, the procuring unit is reminded (unless it decided).
    async fn decide_reminder(&self, uow: &mut UnitOfWork, id: AwardLotId, args: &Value) -> AppResult<()> {
        let Some(a) = award_lot::Entity::find_by_id(id).one(&*uow).await? else { return Ok(()) };
        if a.state != AwardState::Publicity || !of_round(args, &a) {
            return Ok(());
        }
        let t = tender::Entity::find_by_id(a.tender_id).one(&*uow).await?.ok_or_else(AppError::not_found)?;
        let l = lot::Entity::find_by_id(a.lot_id).one(&*uow).await?.ok_or_else(AppError::not_found)?;
        uow.notify(&[t.procuring_org_id], decision_reminder_notice(&t, &lot_label(&l), a.decide_by)).await
    }

    /// A day before the complaint period ends, the challenger is reminded (unless it complained).
    async fn complaint_reminder(&self, uow: &mut UnitOfWork, id: ChallengeId) -> AppResult<()> {
        let Some(c) = challenge::Entity::find_by_id(id).one(&*uow).await? else { return Ok(()) };
        let Some(until) = c.complaint_until.filter(|_| c.state == ChallengeState::Answered) else { return Ok(()) };
        let a = award_lot::Entity::find_by_id(c.award_lot_id).one(&*uow).await?.ok_or_else(AppError::not_found)?;
        let t = tender::Entity::find_by_id(c.tender_id).one(&*uow).await?.ok_or_else(AppError::not_found)?;
        let l = lot::Entity::find_by_id(a.lot_id).one(&*uow).await?.ok_or_else(AppError::not_found)?;
        uow.notify(&[c.org_id], complaint_reminder_notice(&t, &lot_label(&l), until)).await
    }

    async fn answer_due(&self, uow: &mut UnitOfWork, id: ChallengeId, overdue: bool) -> AppResult<()> {
        let Some(c) = challenge::Entity::find_by_id(id).one(&*uow).await? else { return Ok(()) };
        if c.state != ChallengeState::Open {
            return Ok(());
        }
        let t = tender::Entity::find_by_id(c.tender_id).one(&*uow).await?.ok_or_else(AppError::not_found)?;
        if !overdue {
            return uow.notify(&managers_of(&t), challenge_reminder_notice(&t, c.answer_by)).await;
        }
        let mut m: challenge::ActiveModel = c.clone().into();
        m.answer_overdue = Set(true);
        m.update(&*uow).await?;
        let sups = supervisors(&*uow).await?;
        uow.notify_users(&sups, challenge_overdue_notice(&t, c.answer_by)).await?;
        uow.record(
            &platform(),
            AuditEntry::new(
                Action::AwardOverdue,
                t.public_id,
                json!({"challenge": c.public_id, "answer_by": c.answer_by}),
            ),
        )
        .await?;
        Ok(())
    }

    async fn contract_due(&self, uow: &mut UnitOfWork, id: AwardLotId, args: &Value, overdue: bool) -> AppResult<()> {
        let Some(a) = award_lot::Entity::find_by_id(id).one(&*uow).await? else { return Ok(()) };
        let Some(due) = a.contract_due.filter(|_| a.state == AwardState::Awarded && of_round(args, &a)) else {
            return Ok(());
        };
        let t = tender::Entity::find_by_id(a.tender_id).one(&*uow).await?.ok_or_else(AppError::not_found)?;
        let l = lot::Entity::find_by_id(a.lot_id).one(&*uow).await?.ok_or_else(AppError::not_found)?;
        if !overdue {
            let mut to = vec![t.procuring_org_id];
            to.extend(a.winner_org_id);
            return uow.notify(&to, contract_reminder_notice(&t, &lot_label(&l), due)).await;
        }
        let mut m: award_lot::ActiveModel = a.clone().into();
        m.contract_overdue = Set(true);
        m.update(&*uow).await?;
        let sups = supervisors(&*uow).await?;
        uow.notify_users(&sups, contract_overdue_notice(&t, &lot_label(&l), due)).await?;
        uow.record(
            &platform(),
            AuditEntry::new(Action::AwardOverdue, t.public_id, json!({"lot": l.public_id, "contract_due": due})),
        )
        .await?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The notices' arguments

/// A notice about a tender's award, with its title, linked to its award page.
fn about(kind: NoticeKind, t: &tender::Model) -> Notice {
    Notice::new(kind).arg("title", &t.title).about_tender(t.id).link(format!("/tenders/{}/award", t.public_id))
}

/// To a lot's bidders: its candidates are published; challenges until `until`.
pub fn candidates_notice(t: &tender::Model, lot: &str, until: DateTime<Utc>) -> Notice {
    about(NoticeKind::CandidatesPublished, t).arg("code", &t.code).arg("lot", lot).arg_time("until", until)
}

/// To the tender's managers: a challenge of `lot`, to answer by `answer_by`.
pub fn challenge_filed_notice(t: &tender::Model, lot: &str, answer_by: DateTime<Utc>) -> Notice {
    about(NoticeKind::ChallengeFiled, t).arg("lot", lot).arg_time("answer_by", answer_by)
}

/// To the tender's managers: a challenge is to be answered by `answer_by`.
pub fn challenge_reminder_notice(t: &tender::Model, answer_by: DateTime<Utc>) -> Notice {
    about(NoticeKind::ChallengeReminder, t).arg_time("answer_by", answer_by)
}

/// To supervisors: a challenge was not answered by `answer_by`.
pub fn challenge_overdue_notice(t: &tender::Model, answer_by: DateTime<Utc>) -> Notice {
    about(NoticeKind::ChallengeOverdue, t).arg("code", &t.code).arg_time("answer_by", answer_by)
}

/// To the challenger: answered; a complaint may follow until `until`.
pub fn challenge_answered_notice(t: &tender::Model, lot: &str, until: DateTime<Utc>) -> Notice {
    about(NoticeKind::ChallengeAnswered, t).arg("lot", lot).arg_time("until", until)
}

/// To supervisors: a complaint waits for their decision.
pub fn complaint_filed_notice(t: &tender::Model) -> Notice {
    about(NoticeKind::ComplaintFiled, t).arg("code", &t.code)
}

/// To the challenger and the tender's managers: the complaint about `lot` is decided.
pub fn complaint_decided_notice(t: &tender::Model, lot: &str, decision: Decision) -> Notice {
    let key = match decision {
        Decision::Rejected => "award.decisions.rejected",
        Decision::ReEvaluate => "award.decisions.re_evaluate",
        Decision::Rerun => "award.decisions.rerun",
    };
    about(NoticeKind::ComplaintDecided, t).arg("lot", lot).arg_key("decision", key)
}

/// To the winner: it won `lot` at `amount`; the contract is due by `due`.
pub fn award_won_notice(t: &tender::Model, lot: &str, amount: Money, due: DateTime<Utc>) -> Notice {
    about(NoticeKind::AwardWon, t).arg("lot", lot).arg_money("amount", amount).arg_time("due", due)
}

/// To the lot's other bidders: `winner` won it at `amount`.
pub fn award_result_notice(t: &tender::Model, lot: &str, winner: &str, amount: Money) -> Notice {
    about(NoticeKind::AwardResult, t).arg("lot", lot).arg("winner", winner).arg_money("amount", amount)
}

/// To supervisors: another than the first candidate was chosen, for `reason`.
pub fn other_candidate_notice(t: &tender::Model, lot: &str, reason: &str) -> Notice {
    about(NoticeKind::AwardOtherCandidate, t).arg("code", &t.code).arg("lot", lot).arg("reason", reason)
}

/// To the challenger: a complaint about `lot` may be made until `until`.
pub fn complaint_reminder_notice(t: &tender::Model, lot: &str, until: DateTime<Utc>) -> Notice {
    about(NoticeKind::ComplaintReminder, t).arg("lot", lot).arg_time("until", until)
}

/// To the procuring unit: the winner of `lot` is to be chosen by `due`, else the first
/// candidate is taken.
pub fn decision_reminder_notice(t: &tender::Model, lot: &str, due: DateTime<Utc>) -> Notice {
    about(NoticeKind::DecisionReminder, t).arg("lot", lot).arg_time("due", due)
}

/// To the procuring unit and the winner: the contract of `lot` is due by `due`.
pub fn contract_reminder_notice(t: &tender::Model, lot: &str, due: DateTime<Utc>) -> Notice {
    about(NoticeKind::ContractReminder, t).arg("lot", lot).arg_time("due", due)
}

/// To supervisors: no contract of `lot` was recorded by `due`.
pub fn contract_overdue_notice(t: &tender::Model, lot: &str, due: DateTime<Utc>) -> Notice {
    about(NoticeKind::ContractOverdue, t).arg("code", &t.code).arg("lot", lot).arg_time("due", due)
}
