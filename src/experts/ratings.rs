//! Rating the committee's experts after the session (专家评价): the tender's agency and the host
//! site's centre staff each rate every seated expert once, on punctuality, expertise and conduct
//! (1 to 5) with a note; the late arrival is recorded from the sign-in and the session's time.
//! The ratings are part of the expert's record; an expert whose mean falls under the threshold
//! (`[experts] rating_threshold_tenths`) is suspended from draws until the centre reactivates it.

use super::{Experts, model::ExpertStatus};
use crate::{
    accounts::model::{Actor, Role},
    audit::{Action, AuditActor, AuditEntry},
    entities::{draw, evaluation, evaluation_member, expert, expert_rating, organisation, site, site_member, tender},
    error::{AppError, AppResult, FieldError},
    evaluation::model::{MemberStatus, Phase},
};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// One rating as entered.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RatingInput {
    /// The committee member (public id).
    pub member: Uuid,
    /// 1 to 5.
    pub punctuality: i32,
    /// 1 to 5.
    pub expertise: i32,
    /// 1 to 5.
    pub conduct: i32,
    /// A note (at most 1,000 characters).
    #[serde(default)]
    pub note: String,
}

/// A rating as shown: on the expert's record, and the rater's own on the award page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RatingView {
    /// The tender's code.
    pub tender_code: String,
    /// Who rated (the organisation).
    pub rater: String,
    /// 1 to 5.
    pub punctuality: i32,
    /// 1 to 5.
    pub expertise: i32,
    /// 1 to 5.
    pub conduct: i32,
    /// The note.
    pub note: String,
    /// Minutes the expert signed in after the session's time (0: on time).
    pub late_minutes: i32,
    /// When.
    pub at: DateTime<Utc>,
}

/// A committee member to rate, with the caller's rating if given.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberToRate {
    /// The member (public id).
    pub member: Uuid,
    /// The expert (public id of its record).
    pub expert: Uuid,
    /// The expert's name.
    pub name: String,
    /// Its site.
    pub site: String,
    /// When it signed in.
    pub signed_in_at: Option<DateTime<Utc>>,
    /// Minutes after the session's time (0: on time).
    pub late_minutes: i32,
    /// The caller's organisation's rating, once given.
    pub mine: Option<RatingView>,
}

struct Session {
    t: tender::Model,
    ev: evaluation::Model,
    session_at: Option<DateTime<Utc>>,
}

async fn session<C: ConnectionTrait>(db: &C, tender_id: Uuid) -> AppResult<Session> {
    let t = tender::Entity::find()
        .filter(tender::Column::PublicId.eq(tender_id))
        .one(db)
        .await?
        .ok_or_else(AppError::not_found)?;
    let ev = evaluation::Entity::find()
        .filter(evaluation::Column::TenderId.eq(t.id))
        .one(db)
        .await?
        .ok_or_else(AppError::not_found)?;
    let session_at = draw::Entity::find_by_id(ev.draw_id).one(db).await?.and_then(|d| d.session_at);
    Ok(Session { t, ev, session_at })
}

/// Whether the actor rates this session's experts: staff of the tender's agency, or the centre's
/// staff bound to the session's host site.
async fn may_rate<C: ConnectionTrait>(db: &C, actor: &Actor, s: &Session) -> AppResult<bool> {
    if actor.role == Role::AgencyStaff && Some(actor.org_id) == s.t.agency_org_id {
        return Ok(true);
    }
    let Some(host) = s.ev.host_site_id.filter(|_| crate::mall::policy::is_centre_staff(actor)) else {
        return Ok(false);
    };
    Ok(site_member::Entity::find()
        .filter(site_member::Column::SiteId.eq(host))
        .filter(site_member::Column::UserId.eq(actor.user_id))
        .one(db)
        .await?
        .is_some())
}

fn late_minutes(m: &evaluation_member::Model, session_at: Option<DateTime<Utc>>) -> i32 {
    match (m.signed_in_at, session_at) {
        (Some(i), Some(s)) if i > s => ((i - s).num_seconds() / 60).min(i32::MAX as i64) as i32,
        _ => 0,
    }
}

fn view_of(r: &expert_rating::Model, tender_code: &str, rater: &str) -> RatingView {
    RatingView {
        tender_code: tender_code.to_string(),
        rater: rater.to_string(),
        punctuality: r.punctuality,
        expertise: r.expertise,
        conduct: r.conduct,
        note: r.note.clone(),
        late_minutes: r.late_minutes,
        at: r.at,
    }
}

/// The seated experts of a tender's signed session with the caller's ratings, when the caller
/// rates them; `None` for anyone else, and before the report is signed.
pub async fn to_rate<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    tender_id: Uuid,
) -> AppResult<Option<Vec<MemberToRate>>> {
    let Ok(s) = session(db, tender_id).await else { return Ok(None) };
    if s.ev.phase != Phase::Signed || !may_rate(db, actor, &s).await? {
        return Ok(None);
    }
    let members = evaluation_member::Entity::find()
        .filter(evaluation_member::Column::EvaluationId.eq(s.ev.id))
        .filter(evaluation_member::Column::Status.eq(MemberStatus::Seated))
        .order_by_asc(evaluation_member::Column::Seq)
        .all(db)
        .await?;
    let experts: HashMap<crate::ids::ExpertId, expert::Model> = expert::Entity::find()
        .filter(expert::Column::Id.is_in(members.iter().filter_map(|m| m.expert_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let sites: HashMap<crate::ids::SiteId, String> =
        site::Entity::find().all(db).await?.into_iter().map(|s| (s.id, s.name)).collect();
    let mine: HashMap<crate::ids::MemberId, expert_rating::Model> = expert_rating::Entity::find()
        .filter(expert_rating::Column::EvaluationId.eq(s.ev.id))
        .filter(expert_rating::Column::RaterOrgId.eq(actor.org_id))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.member_id, r))
        .collect();
    let mut out = Vec::new();
    for m in members {
        let Some(e) = m.expert_id.and_then(|id| experts.get(&id)) else { continue };
        out.push(MemberToRate {
            member: m.public_id,
            expert: e.public_id,
            name: e.name.clone(),
            site: m.site_id.and_then(|id| sites.get(&id).cloned()).unwrap_or_default(),
            signed_in_at: m.signed_in_at,
            late_minutes: late_minutes(&m, s.session_at),
            mine: mine.get(&m.id).map(|r| view_of(r, &s.t.code, &actor.org_name)),
        });
    }
    Ok(Some(out))
}

/// Rates one seated expert of a tender's signed session, once per rating organisation. An
/// expert whose mean falls under the threshold is suspended, with the reason recorded.
pub async fn rate(state: &Experts, actor: &Actor, tender_id: Uuid, input: RatingInput) -> AppResult<()> {
    let mut fields = Vec::new();
    for (name, v) in [("punctuality", input.punctuality), ("expertise", input.expertise), ("conduct", input.conduct)] {
        if !(1..=5).contains(&v) {
            fields.push(FieldError::new(name, "out_of_range").with_arg("min", 1).with_arg("max", 5));
        }
    }
    crate::error::check_text(&mut fields, "note", &input.note, 0, 1000);
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let mut uow = state.writer.begin().await?;
    let now = uow.now();
    let s = session(&uow, tender_id).await?;
    if !may_rate(&uow, actor, &s).await? {
        return Err(AppError::forbidden_because(
            "raters_only",
            "the tender's agency and the host site's staff rate the experts",
        ));
    }
    if s.ev.phase != Phase::Signed {
        return Err(AppError::conflict("out_of_turn", "experts are rated once the report is signed"));
    }
    let m = evaluation_member::Entity::find()
        .filter(evaluation_member::Column::PublicId.eq(input.member))
        .filter(evaluation_member::Column::EvaluationId.eq(s.ev.id))
        .filter(evaluation_member::Column::Status.eq(MemberStatus::Seated))
        .one(&uow)
        .await?
        .ok_or_else(|| AppError::invalid_field("member", "unknown"))?;
    let e = match m.expert_id {
        Some(id) => expert::Entity::find_by_id(id).one(&uow).await?.ok_or_else(AppError::not_found)?,
        None => return Err(AppError::invalid_field("member", "not_an_expert")),
    };
    if expert_rating::Entity::find()
        .filter(expert_rating::Column::MemberId.eq(m.id))
        .filter(expert_rating::Column::RaterOrgId.eq(actor.org_id))
        .one(&uow)
        .await?
        .is_some()
    {
        return Err(AppError::conflict("already_rated", "your organisation has rated this expert for this session"));
    }
    let late = late_minutes(&m, s.session_at);
    expert_rating::ActiveModel {
        evaluation_id: Set(s.ev.id),
        member_id: Set(m.id),
        expert_id: Set(e.id),
        rater_org_id: Set(actor.org_id),
        rater_user_id: Set(actor.user_id),
        punctuality: Set(input.punctuality),
        expertise: Set(input.expertise),
        conduct: Set(input.conduct),
        note: Set(input.note.trim().to_string()),
        late_minutes: Set(late),
        at: Set(now),
        ..Default::default()
    }
    .insert(&uow)
    .await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::ExpertRate,
            e.public_id,
            json!({"tender": s.t.public_id, "member": m.public_id, "punctuality": input.punctuality,
                   "expertise": input.expertise, "conduct": input.conduct, "late_minutes": late}),
        ),
    )
    .await?;
    // The expert's mean over every rating, in tenths, compared exactly.
    let all = expert_rating::Entity::find().filter(expert_rating::Column::ExpertId.eq(e.id)).all(&uow).await?;
    let marks: i64 = all.iter().map(|r| (r.punctuality + r.expertise + r.conduct) as i64).sum();
    let count = all.len() as i64;
    let threshold = state.settings.rating_threshold_tenths as i64;
    let under = count >= state.settings.rating_min_count.max(1) as i64 && marks * 10 < threshold * 3 * count;
    if under && e.status == ExpertStatus::Active {
        let mean_tenths = marks * 10 / (3 * count);
        let reason = format!(
            "评价均分 {}.{} 低于 {}.{}（{} 次评价） / mean rating {}.{} under {}.{} ({} ratings)",
            mean_tenths / 10,
            mean_tenths % 10,
            threshold / 10,
            threshold % 10,
            count,
            mean_tenths / 10,
            mean_tenths % 10,
            threshold / 10,
            threshold % 10,
            count
        );
        super::service::suspend_within(&uow, &e, &reason).await?;
        uow.record(
            &AuditActor { user_id: None, org_id: None, label: "platform (ratings)".into() },
            AuditEntry::new(Action::ExpertSuspend, e.public_id, json!({"reason": reason, "by_rating": true})),
        )
        .await?;
    }
    uow.commit().await
}

/// An expert's ratings, newest first (for its record).
pub async fn of_expert<C: ConnectionTrait>(db: &C, id: crate::ids::ExpertId) -> AppResult<Vec<RatingView>> {
    let rows = expert_rating::Entity::find()
        .filter(expert_rating::Column::ExpertId.eq(id))
        .order_by_desc(expert_rating::Column::Id)
        .all(db)
        .await?;
    let orgs: HashMap<crate::ids::OrgId, String> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(rows.iter().map(|r| r.rater_org_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let codes = crate::evaluation::service::tender_codes(db, rows.iter().map(|r| r.evaluation_id)).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let code = codes.get(&r.evaluation_id).cloned().unwrap_or_default();
            view_of(r, &code, orgs.get(&r.rater_org_id).map(String::as_str).unwrap_or_default())
        })
        .collect())
}
