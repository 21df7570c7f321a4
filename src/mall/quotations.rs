//! Competitive quotations (竞价 / 二次竞价).
//!
//! A procuring unit states its need, quantity and budget and a window of hours. Only suppliers
//! holding an agreement in force in that category may quote, once each (a quote may be replaced
//! inside the window). Quotes stay hidden from everyone but their supplier until the window
//! ends. Then the lowest compliant quote (within budget, from a supplier whose agreement is
//! still in force; the earliest wins a tie) becomes an order automatically; with fewer than
//! `min_quotes` compliant quotes the quotation fails with the reason. Closing is a job
//! ([`CLOSE_JOB`]) due at the window's end, scheduled when the quotation is started; reading a
//! quotation changes nothing.

use super::{
    agreements::categories_of,
    codes,
    model::*,
    orders::{NewLine, NewOrder, check_ceiling, insert_order},
    policy::{is_buyer, is_centre_staff, is_overseer, is_supplier, sells},
};
use crate::{
    accounts::model::Actor,
    audit::{Action, AuditActor, AuditEntry},
    bounds,
    entities::{mall_agreement, mall_order, mall_quotation, mall_quote},
    error::{AppError, AppResult, FieldError},
    ids::{OrgId, QuotationId},
    jobs::{JobHandler, NewJob},
    mall::Mall,
    money::Money,
    notify::{Notice, NoticeKind},
    uow::UnitOfWork,
};
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

/// A quotation as the unit enters it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct QuotationInput {
    /// Category code.
    pub category: String,
    /// Title (e.g. 采购激光打印机10台).
    pub title: String,
    /// The need: specification, delivery, service.
    pub requirement: String,
    /// Quantity.
    pub quantity: i64,
    /// Unit (台, 把 ...).
    pub unit: String,
    /// Budget (the most the unit pays in all), fen.
    #[schema(value_type = i64)]
    pub budget: Money,
    /// Window in hours (`mall.min_quotation_hours` to `mall.max_quotation_hours`).
    pub hours: i64,
}

/// A supplier's quote.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct QuoteInput {
    /// Unit price, fen; the total is quantity × unit price.
    #[schema(value_type = i64)]
    pub unit_price: Money,
    /// Brand offered.
    pub brand: String,
    /// Model offered.
    pub model: String,
    /// Note (delivery time, warranty).
    #[serde(default)]
    pub note: String,
}

/// Starts a quotation.
pub async fn create(state: &Mall, actor: &Actor, input: QuotationInput) -> AppResult<QuotationView> {
    if !is_buyer(actor) {
        return Err(AppError::forbidden_because("buyers_only", "only a procuring unit's staff may start a quotation"));
    }
    let m = &state.settings;
    let mut fields = Vec::new();
    if category(&input.category).is_none() {
        fields.push(FieldError::new("category", "unknown"));
    }
    for (name, v, max) in
        [("title", &input.title, 200), ("requirement", &input.requirement, 5000), ("unit", &input.unit, 20)]
    {
        crate::error::check_text(&mut fields, name, v, 1, max);
    }
    if !(1..=1_000_000).contains(&input.quantity) {
        fields.push(FieldError::new("quantity", "out_of_range").with_arg("min", 1).with_arg("max", 1_000_000));
    }
    bounds::check_amount(&mut fields, "budget", input.budget);
    if !(m.min_quotation_hours..=m.max_quotation_hours).contains(&input.hours) {
        fields.push(
            FieldError::new("hours", "out_of_range")
                .with_arg("min", m.min_quotation_hours)
                .with_arg("max", m.max_quotation_hours),
        );
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    check_ceiling(state, input.budget)?;
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let q = mall_quotation::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        code: Set(codes::next_code(&txn, codes::Series::Quotation, now, actor.org_id).await?),
        procuring_org_id: Set(actor.org_id),
        created_by: Set(actor.user_id),
        category: Set(input.category.clone()),
        title: Set(input.title.trim().into()),
        requirement: Set(input.requirement.trim().into()),
        quantity: Set(input.quantity),
        unit: Set(input.unit.trim().into()),
        budget_fen: Set(input.budget),
        min_quotes: Set(m.min_quotes),
        opens_at: Set(now),
        closes_at: Set(now + TimeDelta::hours(input.hours)),
        status: Set(QuotationStatus::Open),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    // Invite every supplier with an agreement in force in the category.
    let invited: Vec<OrgId> =
        eligible_agreements(&txn, &q.category, now).await?.into_iter().map(|a| a.supplier_org_id).collect();
    txn.schedule(close_job(&q)).await?;
    txn.notify(&invited, invitation_notice(&q)).await?;
    let details = json!({"code": q.code, "category": q.category, "quantity": q.quantity, "budget_fen": q.budget_fen,
        "closes_at": q.closes_at, "invited": invited.len()});
    txn.record(&actor.audit(), AuditEntry::new(Action::MallQuotationCreate, q.public_id, details)).await?;
    txn.commit().await?;
    view(state, actor, q.public_id).await
}

/// Agreements in force at `now` covering the category.
async fn eligible_agreements<C: ConnectionTrait>(
    db: &C,
    cat: &str,
    now: DateTime<Utc>,
) -> AppResult<Vec<mall_agreement::Model>> {
    let mut found = Vec::new();
    for a in mall_agreement::Entity::find()
        .filter(mall_agreement::Column::Status.eq(AgreementStatus::Active))
        .filter(mall_agreement::Column::ValidFrom.lte(now))
        .filter(mall_agreement::Column::ValidTo.gt(now))
        .all(db)
        .await?
    {
        if categories_of(&a)?.iter().any(|c| c == cat) {
            found.push(a);
        }
    }
    Ok(found)
}

/// The supplier's agreement in force for the category, if any.
async fn agreement_of<C: ConnectionTrait>(
    db: &C,
    org: OrgId,
    cat: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<mall_agreement::Model>> {
    for a in mall_agreement::Entity::find().filter(mall_agreement::Column::SupplierOrgId.eq(org)).all(db).await? {
        if sells(&a, now) && categories_of(&a)?.iter().any(|c| c == cat) {
            return Ok(Some(a));
        }
    }
    Ok(None)
}

/// Quotes (or replaces the supplier's quote) while the window is open.
pub async fn quote(state: &Mall, actor: &Actor, id: Uuid, input: QuoteInput) -> AppResult<QuotationView> {
    if !is_supplier(actor) {
        return Err(AppError::forbidden_because("suppliers_only", "only suppliers quote"));
    }
    let mut fields = Vec::new();
    bounds::check_amount(&mut fields, "unit_price", input.unit_price);
    for (name, v, max) in [("brand", &input.brand, 100), ("model", &input.model, 100)] {
        crate::error::check_text(&mut fields, name, v, 1, max);
    }
    if input.note.chars().count() > 2000 {
        fields.push(FieldError::new("note", "too_long").with_arg("max", 2000));
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let q = mall_quotation::Entity::find()
        .filter(mall_quotation::Column::PublicId.eq(id))
        .one(&txn)
        .await?
        .ok_or_else(AppError::not_found)?;
    if q.status != QuotationStatus::Open || now >= q.closes_at {
        return Err(AppError::rule("quotation_closed", "this quotation no longer takes quotes"));
    }
    let Some(agreement) = agreement_of(&txn, actor.org_id, &q.category, now).await? else {
        return Err(AppError::forbidden_because(
            "no_agreement_in_category",
            "only suppliers holding a framework agreement in force for this category may quote",
        ));
    };
    let total = input
        .unit_price
        .fen()
        .checked_mul(q.quantity)
        .ok_or_else(|| AppError::invalid_field("unit_price", "out_of_range"))?;
    if total > q.budget_fen.fen() {
        return Err(AppError::rule(
            "quote_over_budget",
            format!("a total of {} yuan is above the budget of {} yuan", Money::from_fen(total), q.budget_fen),
        )
        .with_arg("total", Money::from_fen(total).yuan_string())
        .with_arg("budget", q.budget_fen.yuan_string()));
    }
    let existing = mall_quote::Entity::find()
        .filter(mall_quote::Column::QuotationId.eq(q.id))
        .filter(mall_quote::Column::SupplierOrgId.eq(actor.org_id))
        .one(&txn)
        .await?;
    let model = mall_quote::ActiveModel {
        quotation_id: Set(q.id),
        supplier_org_id: Set(actor.org_id),
        agreement_id: Set(agreement.id),
        unit_price_fen: Set(input.unit_price),
        total_fen: Set(Money::from_fen(total)),
        brand: Set(input.brand.trim().into()),
        model: Set(input.model.trim().into()),
        note: Set(input.note.trim().into()),
        submitted_at: Set(now),
        ..Default::default()
    };
    let saved = match &existing {
        Some(e) => mall_quote::ActiveModel { id: Set(e.id), ..model }.update(&txn).await?,
        None => mall_quote::ActiveModel { public_id: Set(Uuid::new_v4()), ..model }.insert(&txn).await?,
    };
    let action = if existing.is_some() { Action::MallQuoteReplace } else { Action::MallQuoteSubmit };
    // The price is in the audit chain (sealed from listings only by time: quotes are short).
    let details = json!({"quotation": q.public_id, "unit_price_fen": saved.unit_price_fen, "total_fen": total});
    txn.record(&actor.audit(), AuditEntry::new(action, saved.public_id, details)).await?;
    txn.commit().await?;
    view(state, actor, id).await
}

/// The unit cancels its open quotation with a reason.
pub async fn cancel(state: &Mall, actor: &Actor, id: Uuid, reason: &str) -> AppResult<QuotationView> {
    let reason = crate::error::required_text("reason", reason, 2000)?;
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let q = mall_quotation::Entity::find()
        .filter(mall_quotation::Column::PublicId.eq(id))
        .one(&txn)
        .await?
        .ok_or_else(AppError::not_found)?;
    if q.procuring_org_id != actor.org_id || !is_buyer(actor) {
        return Err(AppError::not_found());
    }
    // A window that has ended is being closed by its job: too late to cancel.
    if q.status != QuotationStatus::Open || now >= q.closes_at {
        return Err(AppError::conflict("wrong_state", "only an open quotation can be cancelled"));
    }
    mall_quotation::ActiveModel {
        id: Set(q.id),
        status: Set(QuotationStatus::Cancelled),
        fail_reason: Set(Some(reason.to_string())),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let quoted: Vec<OrgId> = mall_quote::Entity::find()
        .filter(mall_quote::Column::QuotationId.eq(q.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|x| x.supplier_org_id)
        .collect();
    txn.notify(&quoted, cancelled_notice(&q, reason)).await?;
    txn.record(&actor.audit(), AuditEntry::new(Action::MallQuotationCancel, q.public_id, json!({"reason": reason})))
        .await?;
    txn.commit().await?;
    view(state, actor, id).await
}

/// The job that closes a quotation when its window ends; its arguments are
/// `{"quotation_id": <internal id>}`.
pub const CLOSE_JOB: &str = "mall.quotation.close";

fn close_job(q: &mall_quotation::Model) -> NewJob {
    NewJob::new(CLOSE_JOB, format!("{CLOSE_JOB}:{}", q.id), q.closes_at, json!({"quotation_id": q.id}))
}

/// Closes a quotation when its window ends: awarded to the lowest compliant quote, or failed.
pub struct CloseQuotation;

#[async_trait::async_trait]
impl JobHandler for CloseQuotation {
    async fn run(&self, uow: &mut UnitOfWork, args: &serde_json::Value) -> AppResult<()> {
        let id = args["quotation_id"].as_i64().ok_or_else(|| AppError::internal("close job without quotation_id"))?;
        close_one(uow, QuotationId(id)).await
    }
}

async fn close_one(uow: &mut UnitOfWork, id: QuotationId) -> AppResult<()> {
    let now = uow.now();
    let Some(q) = mall_quotation::Entity::find_by_id(id).one(&*uow).await? else { return Ok(()) };
    if q.status != QuotationStatus::Open || q.closes_at > now {
        return Ok(()); // cancelled, or not due
    }
    let quotes = mall_quote::Entity::find()
        .filter(mall_quote::Column::QuotationId.eq(q.id))
        .order_by_asc(mall_quote::Column::TotalFen)
        .order_by_asc(mall_quote::Column::SubmittedAt)
        .order_by_asc(mall_quote::Column::Id)
        .all(&*uow)
        .await?;
    let mut compliant = Vec::new();
    for x in &quotes {
        let a = mall_agreement::Entity::find_by_id(x.agreement_id).one(&*uow).await?;
        // The agreement must still be in force when the quotation closes.
        if x.total_fen <= q.budget_fen && a.as_ref().is_some_and(|a| sells(a, q.closes_at - TimeDelta::seconds(1))) {
            compliant.push(x.clone());
        }
    }
    let system = AuditActor { user_id: None, org_id: None, label: "platform (quotation window ended)".into() };
    let parties: Vec<OrgId> =
        std::iter::once(q.procuring_org_id).chain(quotes.iter().map(|x| x.supplier_org_id)).collect();
    if (compliant.len() as i64) < q.min_quotes as i64 {
        let reason = format!(
            "too_few_quotes: {} compliant quote(s) of {} received, at least {} needed",
            compliant.len(),
            quotes.len(),
            q.min_quotes
        );
        mall_quotation::ActiveModel {
            id: Set(q.id),
            status: Set(QuotationStatus::Failed),
            fail_reason: Set(Some(reason.clone())),
            ..Default::default()
        }
        .update(&*uow)
        .await?;
        uow.notify(&parties, failed_notice(&q, compliant.len())).await?;
        uow.record(&system, AuditEntry::new(Action::MallQuotationFail, q.public_id, json!({"reason": reason}))).await?;
        return Ok(());
    }
    let win = &compliant[0];
    let order = insert_order(
        uow.txn(),
        now,
        NewOrder {
            kind: OrderKind::Quotation,
            procuring_org_id: q.procuring_org_id,
            supplier_org_id: win.supplier_org_id,
            agreement_id: Some(win.agreement_id),
            quotation_id: Some(q.id),
            category: q.category.clone(),
            budget: q.budget_fen,
            amount: win.total_fen,
            note: Some(format!("{} {}", q.code, q.title)),
            created_by: Some(q.created_by),
        },
        std::iter::once(NewLine {
            item_id: None,
            name: q.title.clone(),
            brand: win.brand.clone(),
            model: win.model.clone(),
            unit: q.unit.clone(),
            quantity: q.quantity,
            unit_price: win.unit_price_fen,
            agreement_price: win.unit_price_fen,
            total: win.total_fen,
        }),
    )
    .await?;
    mall_quotation::ActiveModel {
        id: Set(q.id),
        status: Set(QuotationStatus::Awarded),
        order_id: Set(Some(order.id)),
        ..Default::default()
    }
    .update(&*uow)
    .await?;
    // The unit learns the award; each quoter whether it won, and at what total the quotation went.
    uow.notify(&[q.procuring_org_id], awarded_notice(&q, win.total_fen, &order.code)).await?;
    let losers: Vec<OrgId> = quotes.iter().map(|x| x.supplier_org_id).filter(|o| *o != win.supplier_org_id).collect();
    uow.notify(&[win.supplier_org_id], result_notice(&q, true, win.total_fen)).await?;
    uow.notify(&losers, result_notice(&q, false, win.total_fen)).await?;
    let details = json!({"winner_quote": win.public_id, "total_fen": win.total_fen, "compliant": compliant.len(),
        "received": quotes.len(), "order": order.public_id});
    uow.record(&system, AuditEntry::new(Action::MallQuotationAward, q.public_id, details)).await?;
    Ok(())
}

/// The notice inviting the suppliers with an agreement in the category to quote on `q`.
pub(crate) fn invitation_notice(q: &mall_quotation::Model) -> Notice {
    Notice::new(NoticeKind::QuotationInvitation)
        .arg("title", &q.title)
        .arg("code", &q.code)
        .arg_time("closes", q.closes_at)
        .link(format!("/mall/quotations/{}", q.public_id))
}

/// The notice to the suppliers that quoted that `q` was cancelled for `reason`.
pub(crate) fn cancelled_notice(q: &mall_quotation::Model, reason: &str) -> Notice {
    Notice::new(NoticeKind::QuotationCancelled)
        .arg("title", &q.title)
        .arg("code", &q.code)
        .arg("reason", reason)
        .link(format!("/mall/quotations/{}", q.public_id))
}

/// The notice to the parties that `q` failed with only `compliant` compliant quotes.
pub(crate) fn failed_notice(q: &mall_quotation::Model, compliant: usize) -> Notice {
    Notice::new(NoticeKind::QuotationFailed)
        .arg("title", &q.title)
        .arg("code", &q.code)
        .arg("compliant", compliant.to_string())
        .arg("min", q.min_quotes.to_string())
        .link(format!("/mall/quotations/{}", q.public_id))
}

/// The notice to a quoter of `q` whether it `won`; `amount` is the winning total.
pub(crate) fn result_notice(q: &mall_quotation::Model, won: bool, amount: Money) -> Notice {
    Notice::new(NoticeKind::QuotationResult)
        .arg("title", &q.title)
        .arg("code", &q.code)
        .arg_key("outcome", if won { "notice.quotation.won" } else { "notice.quotation.lost" })
        .arg_money("amount", amount)
        .link(format!("/mall/quotations/{}", q.public_id))
}

/// The notice to the procuring unit that `q` was awarded at `amount`, making order `order`.
pub(crate) fn awarded_notice(q: &mall_quotation::Model, amount: Money, order: &str) -> Notice {
    Notice::new(NoticeKind::QuotationAwarded)
        .arg("title", &q.title)
        .arg("code", &q.code)
        .arg_money("amount", amount)
        .arg("order", order)
        .link(format!("/mall/quotations/{}", q.public_id))
}

fn can_see(actor: &Actor, q: &mall_quotation::Model, eligible: bool, quoted: bool) -> bool {
    actor.org_id == q.procuring_org_id
        || is_centre_staff(actor)
        || is_overseer(actor)
        || (is_supplier(actor) && (eligible || quoted))
}

/// One quotation, as the actor may see it.
pub async fn view(state: &Mall, actor: &Actor, id: Uuid) -> AppResult<QuotationView> {
    let q = mall_quotation::Entity::find()
        .filter(mall_quotation::Column::PublicId.eq(id))
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    describe(state, actor, q).await
}

/// A quotation row as the actor may see it; the caller has closed due quotations.
async fn describe(state: &Mall, actor: &Actor, q: mall_quotation::Model) -> AppResult<QuotationView> {
    let now = state.clock.now();
    let quotes = mall_quote::Entity::find()
        .filter(mall_quote::Column::QuotationId.eq(q.id))
        .order_by_asc(mall_quote::Column::TotalFen)
        .order_by_asc(mall_quote::Column::SubmittedAt)
        .order_by_asc(mall_quote::Column::Id)
        .all(&state.db)
        .await?;
    let mine = quotes.iter().find(|x| x.supplier_org_id == actor.org_id).cloned();
    let eligible = is_supplier(actor) && agreement_of(&state.db, actor.org_id, &q.category, now).await?.is_some();
    if !can_see(actor, &q, eligible, mine.is_some()) {
        return Err(AppError::not_found());
    }
    let order = match q.order_id {
        Some(o) => mall_order::Entity::find_by_id(o).one(&state.db).await?,
        None => None,
    };
    let orgs =
        super::org_map(&state.db, std::iter::once(q.procuring_org_id).chain(quotes.iter().map(|x| x.supplier_org_id)))
            .await?;
    let winner = order.as_ref().map(|o| o.supplier_org_id);
    let to_view = |x: &mall_quote::Model| QuoteView {
        id: x.public_id,
        supplier: orgs.get(&x.supplier_org_id).map(|o| o.name.clone()).unwrap_or_default(),
        unit_price: x.unit_price_fen,
        total: x.total_fen,
        brand: x.brand.clone(),
        model: x.model.clone(),
        note: x.note.clone(),
        submitted_at: x.submitted_at,
        winner: winner == Some(x.supplier_org_id),
    };
    let open = q.status == QuotationStatus::Open && now < q.closes_at;
    let sees_all =
        !open && (actor.org_id == q.procuring_org_id || is_centre_staff(actor) || is_overseer(actor) || mine.is_some());
    Ok(QuotationView {
        id: q.public_id,
        code: q.code.clone(),
        procuring_unit: orgs.get(&q.procuring_org_id).map(|o| o.name.clone()).unwrap_or_default(),
        category: q.category.clone(),
        title: q.title.clone(),
        requirement: q.requirement.clone(),
        quantity: q.quantity,
        unit: q.unit.clone(),
        budget: q.budget_fen,
        min_quotes: q.min_quotes,
        opens_at: q.opens_at,
        closes_at: q.closes_at,
        status: q.status,
        fail_reason: q.fail_reason.clone(),
        order_id: order.map(|o| o.public_id),
        quote_count: quotes.len() as u64,
        quotes: if sees_all { quotes.iter().map(to_view).collect() } else { vec![] },
        my_quote: mine.as_ref().map(to_view),
        can_quote: open && eligible,
        can_cancel: open && is_buyer(actor) && actor.org_id == q.procuring_org_id,
    })
}

/// Quotations the actor deals with: a unit's own, the open ones of a supplier's categories
/// plus those it quoted in, all for the centre and supervisors; newest first.
pub async fn list(state: &Mall, actor: &Actor) -> AppResult<Vec<QuotationView>> {
    let now = state.clock.now();
    let mut q = mall_quotation::Entity::find().order_by_desc(mall_quotation::Column::Id).limit(200);
    if is_buyer(actor) {
        q = q.filter(mall_quotation::Column::ProcuringOrgId.eq(actor.org_id));
    } else if is_supplier(actor) {
        let mut cats: Vec<String> = Vec::new();
        for a in mall_agreement::Entity::find()
            .filter(mall_agreement::Column::SupplierOrgId.eq(actor.org_id))
            .all(&state.db)
            .await?
        {
            if sells(&a, now) {
                cats.extend(categories_of(&a)?);
            }
        }
        let quoted: Vec<OrgId> = mall_quote::Entity::find()
            .filter(mall_quote::Column::SupplierOrgId.eq(actor.org_id))
            .select_only()
            .column(mall_quote::Column::QuotationId)
            .into_tuple()
            .all(&state.db)
            .await?;
        q = q.filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(mall_quotation::Column::Category.is_in(cats))
                        .add(mall_quotation::Column::Status.eq(QuotationStatus::Open)),
                )
                .add(mall_quotation::Column::Id.is_in(quoted)),
        );
    } else if !(is_centre_staff(actor) || is_overseer(actor)) {
        return Ok(vec![]);
    }
    let mut out = Vec::new();
    for row in q.all(&state.db).await? {
        out.push(describe(state, actor, row).await?);
    }
    Ok(out)
}
