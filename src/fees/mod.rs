//! Expert fees (专家劳务费, 即评即走): when a session's report is signed, each expert's fee is
//! computed from the sites' rate tables and the time spent (sign-in to signature), and a payment
//! instruction goes at once to the centre's payment endpoint over HTTP: a documented JSON
//! protocol (docs/award.md, "Expert fees"), signed with the platform key, carrying an idempotency
//! key fixed when the fee is created, retried with backoff until acknowledged. The payment
//! service pays a key once however often it is sent, so no expert is ever paid twice.
//!
//! Owns the tables `fee_rates` and `expert_fees`; the job `fees.compute` (scheduled by the
//! evaluation's last signature), the payer (`pay_due`, run in the background of a serving
//! process and outside any transaction: the HTTP call never holds the write lock), the rate
//! API (`/api/v1/admin/sites/{id}/fee-rates`), the expert's fees and statement PDF.

pub mod api;
mod handlers;

use crate::{
    accounts::model::{Actor, Role},
    audit::{Action, AuditActor, AuditEntry},
    calendar::WorkCalendar,
    entities::{evaluation, evaluation_member, expert, expert_fee, fee_rate, site, tender},
    error::{AppError, AppResult, FieldError},
    evaluation::model::MemberStatus,
    ids::{EvaluationId, SiteId},
    jobs::{JobHandler, NewJob},
    money::Money,
    uow::UnitOfWork,
};
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;

pub use api::api_routes;
pub use handlers::router;

crate::column::string_enum! {
    /// Where a fee's payment stands.
    FeeStatus stored in crate::entities::expert_fee::Entity {
        /// The instruction is sent until the payment service acknowledges it.
        Pending = "pending",
        /// Acknowledged: the payment service holds it under its reference.
        Paid = "paid",
    }
}

/// What the fee services use.
#[derive(Clone)]
pub struct Fees {
    /// The database (reads).
    pub db: sea_orm::DatabaseConnection,
    /// Starts units of work.
    pub writer: crate::uow::Writer,
    /// The endpoint, retries, default rates.
    pub settings: crate::config::FeeSettings,
    /// Signs the instructions.
    pub key: Arc<crate::keys::PlatformKey>,
    /// The HTTP client of the payment endpoint.
    pub http: reqwest::Client,
    /// The texts of the fee statement.
    pub texts: Arc<crate::web::i18n::I18n>,
}

impl std::fmt::Debug for Fees {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fees").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// A site's rate table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Rate {
    /// The fee for the first `base_hours` hours, fen.
    #[schema(value_type = i64)]
    pub base: Money,
    /// Hours the base covers.
    pub base_hours: i32,
    /// Each further hour begun, fen.
    #[schema(value_type = i64)]
    pub hourly: Money,
    /// At most this much a day, fen.
    #[schema(value_type = i64)]
    pub daily_cap: Money,
    /// An expert who came and had to withdraw (a declared conflict), fen.
    #[schema(value_type = i64)]
    pub withdrawn: Money,
    /// On a day off (weekend or listed holiday) the fee is multiplied by this.
    pub holiday_factor: i32,
}

/// One expert's fee under one rate: the withdrawn fee, or the base and the further hours begun
/// up to the daily cap; multiplied on a day off.
pub fn fee(rate: &Rate, minutes: i64, holiday: bool, withdrawn: bool) -> Money {
    let fen = if withdrawn {
        rate.withdrawn.fen()
    } else {
        let hours = (minutes.max(0) + 59) / 60;
        let extra = (hours - rate.base_hours as i64).max(0);
        (rate.base.fen().saturating_add(extra.saturating_mul(rate.hourly.fen()))).min(rate.daily_cap.fen())
    };
    Money::from_fen(if holiday { fen.saturating_mul(rate.holiday_factor.max(1) as i64) } else { fen })
}

impl Rate {
    fn of(r: &fee_rate::Model) -> Self {
        Rate {
            base: r.base_fen,
            base_hours: r.base_hours,
            hourly: r.hourly_fen,
            daily_cap: r.daily_cap_fen,
            withdrawn: r.withdrawn_fen,
            holiday_factor: r.holiday_factor,
        }
    }
}

impl Rate {
    /// Refuses a rate table out of bounds, each field with its code.
    pub fn check(&self) -> AppResult<()> {
        let rate = self;
        let mut fields = Vec::new();
        for (name, m) in
            [("base", rate.base), ("hourly", rate.hourly), ("daily_cap", rate.daily_cap), ("withdrawn", rate.withdrawn)]
        {
            crate::bounds::check_amount(&mut fields, name, m);
        }
        if !(0..=24).contains(&rate.base_hours) {
            fields.push(FieldError::new("base_hours", "out_of_range").with_arg("min", 0).with_arg("max", 24));
        }
        if !(1..=5).contains(&rate.holiday_factor) {
            fields.push(FieldError::new("holiday_factor", "out_of_range").with_arg("min", 1).with_arg("max", 5));
        }
        if rate.daily_cap < rate.base {
            fields.push(FieldError::new("daily_cap", "below_base"));
        }
        if fields.is_empty() { Ok(()) } else { Err(AppError::validation(fields)) }
    }
}

/// The rate of `site`: its table, or the settings' default.
async fn rate_of<C: ConnectionTrait>(db: &C, settings: &crate::config::FeeSettings, site: SiteId) -> AppResult<Rate> {
    Ok(match fee_rate::Entity::find().filter(fee_rate::Column::SiteId.eq(site)).one(db).await? {
        Some(r) => Rate::of(&r),
        None => settings.default_rate(),
    })
}

// ---------------------------------------------------------------------------------------------
// Rates

/// A site's rate table (the centre's staff, supervisors, the administrator; 404 otherwise).
pub async fn rates(state: &Fees, actor: &Actor, site_id: Uuid) -> AppResult<Rate> {
    crate::sites::policy::require_read(actor)?;
    let s = site::Entity::find()
        .filter(site::Column::PublicId.eq(site_id))
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    rate_of(&state.db, &state.settings, s.id).await
}

/// Sets a site's rate table (the centre's staff).
pub async fn set_rates(state: &Fees, actor: &Actor, site_id: Uuid, rate: Rate) -> AppResult<Rate> {
    crate::sites::policy::require_read(actor)?;
    if !crate::mall::policy::is_centre_staff(actor) {
        return Err(AppError::forbidden_because("centre_only", "only the centre's staff set the fee rates"));
    }
    rate.check()?;
    let mut uow = state.writer.begin().await?;
    let now = uow.now();
    let s = site::Entity::find()
        .filter(site::Column::PublicId.eq(site_id))
        .one(&uow)
        .await?
        .ok_or_else(AppError::not_found)?;
    let existing = fee_rate::Entity::find().filter(fee_rate::Column::SiteId.eq(s.id)).one(&uow).await?;
    let mut m: fee_rate::ActiveModel = match existing {
        Some(e) => e.into(),
        None => fee_rate::ActiveModel { site_id: Set(s.id), ..Default::default() },
    };
    m.base_fen = Set(rate.base);
    m.base_hours = Set(rate.base_hours);
    m.hourly_fen = Set(rate.hourly);
    m.daily_cap_fen = Set(rate.daily_cap);
    m.withdrawn_fen = Set(rate.withdrawn);
    m.holiday_factor = Set(rate.holiday_factor);
    m.set_by = Set(actor.user_id);
    m.set_at = Set(now);
    m.save(&uow).await?;
    uow.record(&actor.audit(), AuditEntry::new(Action::FeeRates, s.public_id, json!({"rate": rate}))).await?;
    uow.commit().await?;
    Ok(rate)
}

// ---------------------------------------------------------------------------------------------
// Computing the fees

/// The job that computes a signed session's fees; its arguments are `{"evaluation_id": <id>}`.
pub const COMPUTE_JOB: &str = "fees.compute";

/// The job computing `evaluation`'s fees, due at `now` (the evaluation's last signature).
pub fn compute_job(evaluation: EvaluationId, now: DateTime<Utc>) -> NewJob {
    NewJob::new(COMPUTE_JOB, format!("{COMPUTE_JOB}:{}", evaluation.0), now, json!({"evaluation_id": evaluation.0}))
}

/// An expert's time in one session, which its fee is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendance {
    /// Signed in.
    pub signed_in_at: DateTime<Utc>,
    /// Signed the report (or the session was signed), or withdrew.
    pub until: DateTime<Utc>,
    /// Came and had to withdraw (a declared conflict).
    pub withdrawn: bool,
}

impl Attendance {
    /// A member's time in `ev`: from sign-in to its signature (or the session's, or `now`), or
    /// to its declaration if it withdrew; none if it never signed in.
    pub fn of_member(m: &evaluation_member::Model, ev: &evaluation::Model, now: DateTime<Utc>) -> Option<Attendance> {
        let signed_in = m.signed_in_at?;
        let withdrawn = m.status == MemberStatus::Withdrawn;
        let until =
            if withdrawn { m.declared_at.unwrap_or(signed_in) } else { m.signed_at.or(ev.signed_at).unwrap_or(now) };
        Some(Attendance { signed_in_at: signed_in, until, withdrawn })
    }

    fn minutes(&self) -> i64 {
        (self.until - self.signed_in_at).num_minutes().max(0)
    }
}

/// A fee worked out: the amount under the best of the rates offered, and where that rate is from.
struct Priced {
    amount: Money,
    minutes: i64,
    holiday: bool,
    rate: Rate,
    /// `{"site": <id>}` for a site of this deployment, `{"peer": <name>}` for a host's.
    from: Value,
}

/// The fee of `a` under each of `rates` (a rate and where it is from; the settings' default if
/// none), the highest taken; a day off by `cal`, on the day of the sign-in in China time.
fn price(
    cal: &WorkCalendar,
    settings: &crate::config::FeeSettings,
    a: &Attendance,
    rates: Vec<(Value, Rate)>,
) -> Priced {
    let minutes = a.minutes();
    let holiday = !cal.is_working(a.signed_in_at.with_timezone(&crate::web::cst()).date_naive());
    let rates = if rates.is_empty() { vec![(Value::Null, settings.default_rate())] } else { rates };
    rates
        .into_iter()
        .map(|(from, rate)| Priced { amount: fee(&rate, minutes, holiday, a.withdrawn), minutes, holiday, rate, from })
        .reduce(|best, p| if p.amount > best.amount { p } else { best })
        .expect("at least one rate")
}

/// Whom a fee row belongs to.
enum Owner {
    /// A member of one of this deployment's sessions.
    Member(EvaluationId, crate::ids::MemberId),
    /// An expert of a remote draw (`remote_draw_experts`), in a host's session.
    Remote(i64),
}

/// Writes one fee, pending payment at once; returns what the audit record says of it.
async fn record_fee(
    uow: &UnitOfWork,
    owner: Owner,
    expert_id: crate::ids::ExpertId,
    a: &Attendance,
    p: Priced,
) -> AppResult<Value> {
    let now = uow.now();
    let (evaluation_id, member_id, remote_expert_id) = match owner {
        Owner::Member(e, m) => (Some(e), Some(m), None),
        Owner::Remote(r) => (None, None, Some(r)),
    };
    let row = expert_fee::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        evaluation_id: Set(evaluation_id),
        member_id: Set(member_id),
        remote_expert_id: Set(remote_expert_id),
        expert_id: Set(expert_id),
        amount_fen: Set(p.amount),
        minutes: Set(p.minutes.min(i32::MAX as i64) as i32),
        holiday: Set(p.holiday),
        withdrawn: Set(a.withdrawn),
        breakdown: Set(json!({"rate": p.rate, "rate_from": p.from, "minutes": p.minutes, "holiday": p.holiday,
                              "withdrawn": a.withdrawn})
        .to_string()),
        status: Set(FeeStatus::Pending),
        idempotency_key: Set(Uuid::new_v4().to_string()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(uow)
    .await?;
    Ok(json!({"fee": row.public_id, "amount_fen": p.amount.fen(), "minutes": p.minutes, "holiday": p.holiday,
              "withdrawn": a.withdrawn, "key": row.idempotency_key, "rate_from": p.from}))
}

/// Computes the fees of a signed session ([`COMPUTE_JOB`]).
pub struct Compute(pub Fees);

#[async_trait::async_trait]
impl JobHandler for Compute {
    async fn run(&self, uow: &mut UnitOfWork, args: &Value) -> AppResult<()> {
        let id = EvaluationId(
            args["evaluation_id"].as_i64().ok_or_else(|| AppError::internal("fees.compute without an id"))?,
        );
        let Some(ev) = evaluation::Entity::find_by_id(id).one(&*uow).await? else { return Ok(()) };
        let Some(t) = tender::Entity::find_by_id(ev.tender_id).one(&*uow).await? else { return Ok(()) };
        let cal = WorkCalendar::load(&*uow).await?;
        let members = evaluation_member::Entity::find()
            .filter(evaluation_member::Column::EvaluationId.eq(ev.id))
            .order_by_asc(evaluation_member::Column::Seq)
            .all(&*uow)
            .await?;
        let now = uow.now();
        let mut made = Vec::new();
        for m in members {
            // A guest deployment's member has no expert here: its own deployment pays it.
            let (Some(expert_id), Some(a)) = (m.expert_id, Attendance::of_member(&m, &ev, now)) else { continue };
            if expert_fee::Entity::find().filter(expert_fee::Column::MemberId.eq(m.id)).one(&*uow).await?.is_some() {
                continue;
            }
            // A guest-site expert is paid the higher of its own site's rate and the host's.
            let mut sites: Vec<SiteId> = m.site_id.into_iter().chain(ev.host_site_id).collect();
            sites.dedup();
            let mut rates = Vec::new();
            for s in sites {
                rates.push((json!({"site": s.0}), rate_of(&*uow, &self.0.settings, s).await?));
            }
            let p = price(&cal, &self.0.settings, &a, rates);
            let mut entry = record_fee(uow, Owner::Member(ev.id, m.id), expert_id, &a, p).await?;
            entry["member"] = json!(m.public_id);
            made.push(entry);
        }
        if !made.is_empty() {
            uow.record(&platform(), AuditEntry::new(Action::FeeCompute, t.public_id, json!({"fees": made}))).await?;
        }
        Ok(())
    }
}

/// A host site's rate, as a guest deployment is told it with the signed report.
pub async fn host_rate<C: ConnectionTrait>(
    db: &C,
    settings: &crate::config::FeeSettings,
    host_site: Option<SiteId>,
) -> AppResult<Rate> {
    match host_site {
        Some(s) => rate_of(db, settings, s).await,
        None => Ok(settings.default_rate()),
    }
}

/// At a guest deployment: the fees of its experts who took part in a host's session (remote
/// draw `draw`), each by its own site's rate, or by the host's (`peer`'s `host_rate`) where that
/// is higher and the centres agreed so (`host_rate` given). An expert already paid for this
/// draw is not paid again.
pub async fn compute_guest(
    uow: &mut UnitOfWork,
    settings: &crate::config::FeeSettings,
    draw: &crate::entities::remote_draw::Model,
    peer: &str,
    attendance: &[(crate::entities::remote_draw_expert::Model, Attendance)],
    host_rate: Option<Rate>,
) -> AppResult<()> {
    let cal = WorkCalendar::load(&*uow).await?;
    let mut made = Vec::new();
    for (who, a) in attendance {
        if expert_fee::Entity::find().filter(expert_fee::Column::RemoteExpertId.eq(who.id)).one(&*uow).await?.is_some()
        {
            continue;
        }
        let Some(e) = expert::Entity::find_by_id(who.expert_id).one(&*uow).await? else { continue };
        let mut rates = vec![(json!({"site": e.site_id.0}), rate_of(&*uow, settings, e.site_id).await?)];
        rates.extend(host_rate.map(|r| (json!({"peer": peer}), r)));
        let p = price(&cal, settings, a, rates);
        let mut entry = record_fee(uow, Owner::Remote(who.id), who.expert_id, a, p).await?;
        entry["pseudonym"] = json!(who.pseudonym);
        made.push(entry);
    }
    if !made.is_empty() {
        uow.record(
            &platform(),
            AuditEntry::new(Action::FeeCompute, draw.public_id, json!({"peer": peer, "fees": made})),
        )
        .await?;
    }
    Ok(())
}

fn platform() -> AuditActor {
    AuditActor { user_id: None, org_id: None, label: "platform (fees)".into() }
}

// ---------------------------------------------------------------------------------------------
// Paying

/// The tender's code and the session's public id of a fee: this deployment's session, or the
/// remote draw of a host's session (its code as the host sent it, the draw's id).
async fn origin<C: ConnectionTrait>(db: &C, f: &expert_fee::Model) -> AppResult<(String, Uuid)> {
    use crate::entities::{remote_draw, remote_draw_expert};
    if let Some(id) = f.evaluation_id {
        let ev = evaluation::Entity::find_by_id(id).one(db).await?.ok_or_else(AppError::not_found)?;
        let t = tender::Entity::find_by_id(ev.tender_id).one(db).await?.ok_or_else(AppError::not_found)?;
        return Ok((t.code, ev.public_id));
    }
    let who = match f.remote_expert_id {
        Some(r) => remote_draw_expert::Entity::find_by_id(r).one(db).await?,
        None => None,
    }
    .ok_or_else(|| AppError::internal("a fee without its session"))?;
    let d = remote_draw::Entity::find_by_id(who.draw_id).one(db).await?.ok_or_else(AppError::not_found)?;
    Ok((d.tender_code, d.public_id))
}

/// The instruction's body for one fee (the protocol of docs/award.md).
async fn instruction<C: ConnectionTrait>(db: &C, f: &expert_fee::Model) -> AppResult<Value> {
    let e = expert::Entity::find_by_id(f.expert_id).one(db).await?.ok_or_else(AppError::not_found)?;
    let (tender_code, session) = origin(db, f).await?;
    Ok(json!({
        "version": 1,
        "instruction": f.public_id,
        "idempotency_key": f.idempotency_key,
        "payee": {"expert": e.public_id, "name": e.name, "id_number_masked": crate::experts::model::mask_id_number(&e.id_number), "phone": e.phone},
        "amount_fen": f.amount_fen.fen(),
        "currency": "CNY",
        "tender_code": tender_code,
        "session": session,
        "minutes": f.minutes,
        "issued_at": f.created_at,
    }))
}

/// Sends every payment instruction that is due, each outside any transaction, and records each
/// answer in its own unit of work: acknowledged (2xx with `payment_id`), or a failure with the
/// next attempt after the backoff. Returns how many were acknowledged.
pub async fn pay_due(state: &Fees) -> AppResult<usize> {
    let endpoint = state.settings.endpoint.trim();
    if endpoint.is_empty() {
        return Ok(0);
    }
    let now = state.writer.clock().now();
    let due = expert_fee::Entity::find()
        .filter(expert_fee::Column::Status.eq(FeeStatus::Pending))
        .filter(expert_fee::Column::NextAttemptAt.lte(now))
        .order_by_asc(expert_fee::Column::Id)
        .all(&state.db)
        .await?;
    let mut paid = 0;
    for f in due {
        let body = serde_json::to_vec(&instruction(&state.db, &f).await?).map_err(AppError::internal)?;
        let signature = hex::encode(state.key.sign(&body));
        let sent = state
            .http
            .post(endpoint)
            .timeout(std::time::Duration::from_secs(state.settings.timeout_seconds.max(1)))
            .header("content-type", "application/json")
            .header("idempotency-key", &f.idempotency_key)
            .header("x-tenderhall-key-id", state.key.key_id())
            .header("x-tenderhall-signature", signature)
            .body(body)
            .send()
            .await;
        let outcome: Result<String, String> = match sent {
            Ok(r) if r.status().is_success() => match r.json::<Value>().await {
                Ok(v) => v["payment_id"]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| "acknowledgement without payment_id".into()),
                Err(e) => Err(format!("acknowledgement unreadable: {e}")),
            },
            Ok(r) => Err(format!("HTTP {}", r.status())),
            Err(e) => Err(format!("not sent or no answer: {e}")),
        };
        let mut uow = state.writer.begin().await?;
        let now = uow.now();
        let Some(current) = expert_fee::Entity::find_by_id(f.id).one(&uow).await? else { continue };
        if current.status == FeeStatus::Paid {
            continue;
        }
        let mut m: expert_fee::ActiveModel = current.clone().into();
        m.attempts = Set(current.attempts + 1);
        match outcome {
            Ok(payment) => {
                m.status = Set(FeeStatus::Paid);
                m.payment_ref = Set(Some(payment.clone()));
                m.paid_at = Set(Some(now));
                m.last_error = Set(None);
                m.update(&uow).await?;
                let expert_public =
                    expert::Entity::find_by_id(f.expert_id).one(&uow).await?.map(|e| e.public_id).unwrap_or_default();
                uow.record(
                    &platform(),
                    AuditEntry::new(
                        Action::FeePaid,
                        expert_public,
                        json!({"fee": f.public_id, "payment_id": payment, "amount_fen": f.amount_fen.fen(), "key": f.idempotency_key, "attempts": current.attempts + 1}),
                    ),
                )
                .await?;
                paid += 1;
            }
            Err(e) => {
                let exp = current.attempts.clamp(0, 20) as u32;
                let wait = state
                    .settings
                    .backoff_seconds
                    .max(1)
                    .saturating_mul(1u64 << exp)
                    .min(state.settings.max_backoff_seconds.max(1));
                m.last_error = Set(Some(e.chars().take(500).collect()));
                m.next_attempt_at = Set(now + TimeDelta::seconds(wait as i64));
                m.update(&uow).await?;
            }
        }
        uow.commit().await?;
    }
    Ok(paid)
}

/// Sends due instructions in the background every `poll_ms`.
pub fn spawn_payer(state: Fees) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let poll = std::time::Duration::from_millis(state.settings.poll_ms.max(50));
        loop {
            if let Err(e) = pay_due(&state).await {
                tracing::warn!(error = %e.message, "fee payments: sending failed");
            }
            tokio::time::sleep(poll).await;
        }
    })
}

// ---------------------------------------------------------------------------------------------
// The expert's fees

/// A fee as its expert sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeeView {
    /// Public id.
    pub id: Uuid,
    /// The tender's code.
    pub tender_code: String,
    /// The fee, fen.
    #[schema(value_type = i64)]
    pub amount: Money,
    /// Minutes from sign-in to signature (or to the withdrawal).
    pub minutes: i32,
    /// On a day off.
    pub holiday: bool,
    /// Withdrew after coming (a declared conflict).
    pub withdrawn: bool,
    /// `pending` or `paid`.
    pub status: FeeStatus,
    /// Acknowledged.
    pub paid_at: Option<DateTime<Utc>>,
    /// The payment service's reference.
    pub payment_ref: Option<String>,
}

/// The logged-in expert's fees, newest first (empty for anyone else).
pub async fn own<C: ConnectionTrait>(db: &C, actor: &Actor) -> AppResult<Vec<FeeView>> {
    if actor.role != Role::Expert {
        return Ok(vec![]);
    }
    let Some(e) = expert::Entity::find().filter(expert::Column::UserId.eq(actor.user_id)).one(db).await? else {
        return Ok(vec![]);
    };
    let rows = expert_fee::Entity::find()
        .filter(expert_fee::Column::ExpertId.eq(e.id))
        .order_by_desc(expert_fee::Column::Id)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let (tender_code, _) = origin(db, &r).await?;
        out.push(FeeView {
            id: r.public_id,
            tender_code,
            amount: r.amount_fen,
            minutes: r.minutes,
            holiday: r.holiday,
            withdrawn: r.withdrawn,
            status: r.status,
            paid_at: r.paid_at,
            payment_ref: r.payment_ref,
        });
    }
    Ok(out)
}

/// The fee statement (劳务费确认单) of one of the expert's own fees as a PDF, with the
/// instruction as JSON attached.
pub async fn statement_pdf(state: &Fees, actor: &Actor, id: Uuid) -> AppResult<Vec<u8>> {
    let mine = own(&state.db, actor).await?;
    let v = mine.into_iter().find(|f| f.id == id).ok_or_else(AppError::not_found)?;
    let row = expert_fee::Entity::find()
        .filter(expert_fee::Column::PublicId.eq(id))
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    let body = serde_json::to_vec(&instruction(&state.db, &row).await?).map_err(AppError::internal)?;
    let texts = state.texts.clone();
    let name = actor.display_name.clone();
    tokio::task::spawn_blocking(move || {
        let tx = |k: &str| texts.both(k);
        let mut doc = crate::pdf::writer::Document::new(&tx("fees.pdf.title"));
        doc.footer(&format!("Tenderhall · {} · {}", v.tender_code, v.id));
        let status = texts.both(&format!("fees.status.{}", v.status.as_str()));
        let paid = v.paid_at.map(|t| crate::web::fmt_time(&t)).unwrap_or_default();
        doc.key_values(&[
            (&tx("fees.pdf.expert"), &name),
            (&tx("report.code"), &v.tender_code),
            (&tx("fees.pdf.minutes"), &v.minutes.to_string()),
            (&tx("fees.pdf.amount"), &format!("{} 元 ({})", v.amount.yuan_string(), v.amount.capitals())),
            (&tx("fees.pdf.status"), &status),
            (&tx("fees.pdf.paid_at"), &paid),
            (&tx("fees.pdf.reference"), v.payment_ref.as_deref().unwrap_or("")),
        ]);
        doc.attach("instruction.json", "application/json", "payment instruction", &body);
        doc.finish().map_err(AppError::internal)
    })
    .await
    .map_err(AppError::internal)?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate() -> Rate {
        Rate {
            base: Money::from_fen(60_000),
            base_hours: 3,
            hourly: Money::from_fen(10_000),
            daily_cap: Money::from_fen(100_000),
            withdrawn: Money::from_fen(20_000),
            holiday_factor: 2,
        }
    }

    #[test]
    fn the_fee_table_cases() {
        let r = rate();
        // Within the first three hours: the base.
        assert_eq!(fee(&r, 0, false, false), Money::from_fen(60_000));
        assert_eq!(fee(&r, 180, false, false), Money::from_fen(60_000));
        // Each further hour begun.
        assert_eq!(fee(&r, 181, false, false), Money::from_fen(70_000));
        assert_eq!(fee(&r, 300, false, false), Money::from_fen(80_000));
        // The daily cap.
        assert_eq!(fee(&r, 12 * 60, false, false), Money::from_fen(100_000));
        // Double on a day off, after the cap.
        assert_eq!(fee(&r, 300, true, false), Money::from_fen(160_000));
        assert_eq!(fee(&r, 12 * 60, true, false), Money::from_fen(200_000));
        // Came and had to withdraw: the lower fee, whatever the time.
        assert_eq!(fee(&r, 400, false, true), Money::from_fen(20_000));
        assert_eq!(fee(&r, 10, true, true), Money::from_fen(40_000));
        // A negative span (clock trouble) counts as none.
        assert_eq!(fee(&r, -30, false, false), Money::from_fen(60_000));
    }

    #[test]
    fn a_guest_expert_takes_the_higher_of_the_two_rates() {
        let host = rate();
        let guest = Rate { base: Money::from_fen(80_000), hourly: Money::from_fen(5_000), ..rate() };
        // 5 hours: host 800.00, guest 900.00; 2 hours: host 600.00, guest 800.00; 10 hours: both capped at 1,000.00.
        let best = |m| fee(&host, m, false, false).max(fee(&guest, m, false, false));
        assert_eq!(best(300), Money::from_fen(90_000));
        assert_eq!(best(120), Money::from_fen(80_000));
        assert_eq!(best(600), Money::from_fen(100_000));
    }
}
