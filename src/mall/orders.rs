//! Orders: direct purchases (直购) from the catalogue and the order state machine
//! (submitted → confirmed / adjustment requested / rejected → delivered → accepted → paid,
//! cancellation with a reason before delivery).
//!
//! Each party sees only its own orders (the procuring unit and the supplier); the centre and
//! supervisors see all of them. Every step is audited, kept in the order's timeline, and
//! notified to the other party, in the step's transaction.

use super::{
    codes,
    model::*,
    policy::{is_buyer, is_centre_staff, is_overseer, sells},
};
use crate::{
    accounts::model::Actor,
    audit::{Action, AuditEntry},
    bounds,
    column::EmptyOr,
    entities::{mall_agreement, mall_item, mall_order, mall_order_line, mall_order_step},
    error::{AppError, AppResult, FieldError},
    ids::{AgreementId, ItemId, OrgId, QuotationId, UserId},
    mall::Mall,
    money::Money,
    notify::{Notice, NoticeKind},
    uow::UnitOfWork,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// One line of a direct purchase.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct LineInput {
    /// The catalogue item.
    pub item: Uuid,
    /// Quantity (at least 1).
    pub quantity: i64,
    /// Agreed unit price, fen: at most the agreement price (default: the agreement price).
    #[schema(value_type = Option<i64>)]
    pub unit_price: Option<Money>,
}

/// A direct purchase.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DirectPurchase {
    /// Lines, all from one agreement's items.
    pub lines: Vec<LineInput>,
    /// The purchase's budget (预算金额), fen: at least the order's total.
    #[schema(value_type = i64)]
    pub budget: Money,
    /// A note to the supplier (delivery address, time).
    #[serde(default)]
    pub note: String,
}

/// A step taken on an order.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct StepInput {
    /// The action.
    pub action: OrderAction,
    /// Reason, adjustment request, delivery note or payment reference (required for
    /// request_adjustment, reject, cancel and pay).
    #[serde(default)]
    pub note: String,
    /// For `accept`: who inspected (验收人).
    #[serde(default)]
    pub inspector: String,
}

/// The purchase thresholds, in fen.
pub(super) fn limits(state: &Mall) -> (i64, i64) {
    let m = &state.settings;
    (m.direct_purchase_limit_yuan.saturating_mul(100), m.small_purchase_ceiling_yuan.saturating_mul(100))
}

/// Refuses a purchase above the small-purchase ceiling: it must go to a tender.
pub(super) fn check_ceiling(state: &Mall, budget: Money) -> AppResult<()> {
    let (_, ceiling) = limits(state);
    if budget.fen() > ceiling {
        return Err(AppError::rule(
            "over_small_purchase_ceiling",
            format!(
                "a purchase of {} yuan is above the e-mall's small-purchase ceiling of {} yuan: it must go to a tender",
                budget,
                Money::from_fen(ceiling)
            ),
        )
        .with_arg("limit", Money::from_fen(ceiling).yuan_string()));
    }
    Ok(())
}

/// Places a direct purchase: a procuring unit's staff, items of one agreement in force, prices
/// at or below the agreement price, a budget that covers the total and is within the direct
/// purchase limit (above it a quotation is needed; above the small-purchase ceiling, a tender).
pub async fn direct_purchase(state: &Mall, actor: &Actor, input: DirectPurchase) -> AppResult<OrderView> {
    if !is_buyer(actor) {
        return Err(AppError::forbidden_because("buyers_only", "only a procuring unit's staff may buy"));
    }
    let mut fields = Vec::new();
    if input.lines.is_empty() {
        fields.push(FieldError::new("lines", "required"));
    }
    if input.lines.len() > 50 {
        fields.push(FieldError::new("lines", "too_many"));
    }
    if input.lines.iter().any(|l| !(1..=1_000_000).contains(&l.quantity)) {
        fields.push(FieldError::new("quantity", "out_of_range").with_arg("min", 1).with_arg("max", 1_000_000));
    }
    bounds::check_amount(&mut fields, "budget", input.budget);
    for l in &input.lines {
        if let Some(p) = l.unit_price {
            bounds::check_amount(&mut fields, "unit_price", p);
        }
    }
    fields.dedup();
    if input.note.chars().count() > 2000 {
        fields.push(FieldError::new("note", "too_long").with_arg("max", 2000));
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    check_ceiling(state, input.budget)?;
    let (direct_limit, _) = limits(state);
    if input.budget.fen() > direct_limit {
        return Err(AppError::rule(
            "over_direct_purchase_limit",
            format!(
                "a purchase of {} yuan is above the direct-purchase limit of {} yuan: start a competitive quotation",
                input.budget,
                Money::from_fen(direct_limit)
            ),
        )
        .with_arg("limit", Money::from_fen(direct_limit).yuan_string()));
    }
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let mut agreement: Option<mall_agreement::Model> = None;
    let mut lines = Vec::new();
    let mut total: i64 = 0;
    for l in &input.lines {
        let item = mall_item::Entity::find()
            .filter(mall_item::Column::PublicId.eq(l.item))
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::invalid_field("item", "unknown"))?;
        let a = match &agreement {
            Some(a) if a.id != item.agreement_id => {
                return Err(AppError::rule("one_supplier_per_order", "an order holds items of one agreement only"));
            }
            Some(a) => a.clone(),
            None => {
                let a = mall_agreement::Entity::find_by_id(item.agreement_id)
                    .one(&txn)
                    .await?
                    .ok_or_else(AppError::not_found)?;
                agreement = Some(a.clone());
                a
            }
        };
        if !item.active || !sells(&a, now) {
            let code = if a.status != AgreementStatus::Active {
                "agreement_suspended"
            } else if now >= a.valid_to || !item.active {
                "agreement_expired"
            } else {
                "agreement_not_in_force"
            };
            return Err(AppError::rule(code, format!("agreement {} does not sell \"{}\" now", a.code, item.name)));
        }
        let unit_price = l.unit_price.unwrap_or(item.price_fen);
        if unit_price.fen() <= 0 {
            return Err(AppError::invalid_field("unit_price", "not_positive"));
        }
        if unit_price > item.price_fen {
            return Err(AppError::rule(
                "above_agreement_price",
                format!(
                    "{} yuan is above the agreement price of {} yuan for \"{}\"",
                    unit_price, item.price_fen, item.name
                ),
            )
            .with_arg("price", item.price_fen.yuan_string()));
        }
        let line_total = unit_price
            .fen()
            .checked_mul(l.quantity)
            .ok_or_else(|| AppError::invalid_field("quantity", "out_of_range"))?;
        total = total.checked_add(line_total).ok_or_else(|| AppError::invalid_field("quantity", "out_of_range"))?;
        lines.push((item, l.quantity, unit_price, Money::from_fen(line_total)));
    }
    let Some(a) = agreement else { return Err(AppError::invalid_field("lines", "required")) };
    if total > input.budget.fen() {
        return Err(AppError::rule(
            "over_budget",
            format!(
                "the order's total of {} yuan is above its budget of {} yuan",
                Money::from_fen(total),
                input.budget
            ),
        )
        .with_arg("total", Money::from_fen(total).yuan_string()));
    }
    let category = lines.first().map(|l| l.0.category.clone()).unwrap_or_default();
    let order = insert_order(
        &txn,
        now,
        NewOrder {
            kind: OrderKind::Direct,
            procuring_org_id: actor.org_id,
            supplier_org_id: a.supplier_org_id,
            agreement_id: Some(a.id),
            quotation_id: None,
            category,
            budget: input.budget,
            amount: Money::from_fen(total),
            note: Some(input.note.trim().to_string()).filter(|s| !s.is_empty()),
            created_by: Some(actor.user_id),
        },
        lines.iter().map(|(item, qty, price, line_total)| NewLine {
            item_id: Some(item.id),
            name: item.name.clone(),
            brand: item.brand.clone(),
            model: item.model.clone(),
            unit: item.unit.clone(),
            quantity: *qty,
            unit_price: *price,
            agreement_price: item.price_fen,
            total: *line_total,
        }),
    )
    .await?;
    notify_order(&mut txn, &order, order.supplier_org_id, None).await?;
    let details = json!({"code": order.code, "agreement": a.public_id, "budget_fen": order.budget_fen,
        "amount_fen": order.amount_fen, "lines": lines.iter().map(|(i, q, p, t)| json!({"item": i.public_id, "quantity": q, "unit_price_fen": p, "total_fen": t})).collect::<Vec<_>>()});
    txn.record(&actor.audit(), AuditEntry::new(step_names(None).1, order.public_id, details)).await?;
    txn.commit().await?;
    view(state, actor, order.public_id).await
}

/// An order to insert.
pub(super) struct NewOrder {
    pub kind: OrderKind,
    pub procuring_org_id: OrgId,
    pub supplier_org_id: OrgId,
    pub agreement_id: Option<AgreementId>,
    pub quotation_id: Option<QuotationId>,
    pub category: String,
    pub budget: Money,
    pub amount: Money,
    pub note: Option<String>,
    pub created_by: Option<UserId>,
}

/// A line to insert.
pub(super) struct NewLine {
    pub item_id: Option<ItemId>,
    pub name: String,
    pub brand: String,
    pub model: String,
    pub unit: String,
    pub quantity: i64,
    pub unit_price: Money,
    pub agreement_price: Money,
    pub total: Money,
}

/// Inserts a submitted order with its lines and first step.
pub(super) async fn insert_order<C: ConnectionTrait>(
    txn: &C,
    now: DateTime<Utc>,
    o: NewOrder,
    lines: impl Iterator<Item = NewLine>,
) -> AppResult<mall_order::Model> {
    let order = mall_order::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        code: Set(codes::next_code(txn, codes::Series::Order, now, o.procuring_org_id).await?),
        kind: Set(o.kind),
        procuring_org_id: Set(o.procuring_org_id),
        supplier_org_id: Set(o.supplier_org_id),
        agreement_id: Set(o.agreement_id),
        quotation_id: Set(o.quotation_id),
        category: Set(o.category),
        budget_fen: Set(o.budget),
        amount_fen: Set(o.amount),
        status: Set(OrderStatus::Submitted),
        status_note: Set(o.note.clone()),
        acceptance: Set(None),
        created_by: Set(o.created_by),
        placed_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    for l in lines {
        mall_order_line::ActiveModel {
            order_id: Set(order.id),
            item_id: Set(l.item_id),
            name: Set(l.name),
            brand: Set(l.brand),
            model: Set(l.model),
            unit: Set(l.unit),
            quantity: Set(l.quantity),
            unit_price_fen: Set(l.unit_price),
            agreement_price_fen: Set(l.agreement_price),
            total_fen: Set(l.total),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    mall_order_step::ActiveModel {
        order_id: Set(order.id),
        action: Set(StepAction::Submit),
        from_status: Set(EmptyOr(None)),
        to_status: Set(OrderStatus::Submitted),
        org_id: Set(Some(o.procuring_org_id)),
        note: Set(o.note),
        at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(order)
}

/// How a step is named: its notice kind and its audit action. `None` is the order's submission.
fn step_names(action: Option<OrderAction>) -> (NoticeKind, Action) {
    match action {
        None => (NoticeKind::OrderSubmitted, Action::MallOrderSubmit),
        Some(OrderAction::Confirm) => (NoticeKind::OrderConfirm, Action::MallOrderConfirm),
        Some(OrderAction::RequestAdjustment) => {
            (NoticeKind::OrderRequestAdjustment, Action::MallOrderRequestAdjustment)
        }
        Some(OrderAction::Reject) => (NoticeKind::OrderReject, Action::MallOrderReject),
        Some(OrderAction::Resubmit) => (NoticeKind::OrderResubmit, Action::MallOrderResubmit),
        Some(OrderAction::Cancel) => (NoticeKind::OrderCancel, Action::MallOrderCancel),
        Some(OrderAction::Deliver) => (NoticeKind::OrderDeliver, Action::MallOrderDeliver),
        Some(OrderAction::Accept) => (NoticeKind::OrderAccept, Action::MallOrderAccept),
        Some(OrderAction::Pay) => (NoticeKind::OrderPay, Action::MallOrderPay),
    }
}

/// The notice of a step on `order` (`None`: its submission) to the other side.
pub(crate) fn order_notice(order: &mall_order::Model, action: Option<OrderAction>) -> Notice {
    Notice::new(step_names(action).0)
        .arg("code", &order.code)
        .arg_money("amount", order.amount_fen)
        .link(format!("/mall/orders/{}", order.public_id))
}

/// Tells organisation `to` about a step on the order (`None`: its submission).
async fn notify_order(
    uow: &mut UnitOfWork,
    order: &mall_order::Model,
    to: OrgId,
    action: Option<OrderAction>,
) -> AppResult<()> {
    uow.notify(&[to], order_notice(order, action)).await
}

fn side(actor: &Actor, o: &mall_order::Model) -> Option<bool> {
    if actor.org_id == o.supplier_org_id {
        Some(true)
    } else if actor.org_id == o.procuring_org_id {
        Some(false)
    } else {
        None
    }
}

fn can_see(actor: &Actor, o: &mall_order::Model) -> bool {
    side(actor, o).is_some() || is_centre_staff(actor) || is_overseer(actor)
}

/// What the actor may do to the order now.
fn actions_for(actor: &Actor, o: &mall_order::Model) -> Vec<OrderAction> {
    let Some(supplier_side) = side(actor, o) else { return vec![] };
    let status = o.status;
    if o.kind == OrderKind::Recorded {
        return vec![];
    }
    OrderAction::ALL
        .iter()
        .copied()
        .filter(|a| a.by_supplier().is_none_or(|s| s == supplier_side) && status.can_become(a.target()))
        .filter(|a| !(*a == OrderAction::Resubmit && status != OrderStatus::AdjustmentRequested))
        .collect()
}

/// Takes a step on an order.
pub async fn step(state: &Mall, actor: &Actor, id: Uuid, input: StepInput) -> AppResult<OrderView> {
    let note = input.note.trim().to_string();
    if note.chars().count() > 2000 {
        return Err(AppError::invalid_field("note", "too_long"));
    }
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let o = mall_order::Entity::find()
        .filter(mall_order::Column::PublicId.eq(id))
        .one(&txn)
        .await?
        .ok_or_else(AppError::not_found)?;
    let Some(supplier_side) = side(actor, &o) else {
        return Err(if can_see(actor, &o) {
            AppError::forbidden_because("not_a_party", "only the unit and the supplier act on an order")
        } else {
            AppError::not_found()
        });
    };
    if input.action.by_supplier().is_some_and(|s| s != supplier_side) {
        return Err(AppError::forbidden_because(
            "not_your_step",
            format!("the other party takes the step {}", input.action),
        ));
    }
    let from = o.status;
    let to = input.action.target();
    if !actions_for(actor, &o).contains(&input.action) {
        return Err(AppError::conflict("wrong_state", format!("an order that is {from} cannot be {to}")));
    }
    if input.action.needs_note() && note.is_empty() {
        return Err(AppError::invalid_field("note", "required"));
    }
    let acceptance = if input.action == OrderAction::Accept {
        let inspector = crate::error::required_text("inspector", &input.inspector, 100)?;
        Some(json!({"inspector": inspector, "note": note, "accepted_at": now, "amount_fen": o.amount_fen}).to_string())
    } else {
        o.acceptance.clone()
    };
    let o = mall_order::ActiveModel {
        id: Set(o.id),
        status: Set(to),
        status_note: Set(Some(note.clone()).filter(|s| !s.is_empty())),
        acceptance: Set(acceptance),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    mall_order_step::ActiveModel {
        order_id: Set(o.id),
        action: Set(input.action.into()),
        from_status: Set(EmptyOr(Some(from))),
        to_status: Set(to),
        org_id: Set(Some(actor.org_id)),
        note: Set(Some(note.clone()).filter(|s| !s.is_empty())),
        at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let other = if supplier_side { o.procuring_org_id } else { o.supplier_org_id };
    notify_order(&mut txn, &o, other, Some(input.action)).await?;
    let (_, action) = step_names(Some(input.action));
    let details = json!({"from": from, "to": to, "note": note, "inspector": input.inspector.trim()});
    txn.record(&actor.audit(), AuditEntry::new(action, o.public_id, details)).await?;
    txn.commit().await?;
    view(state, actor, o.public_id).await
}

/// One order with its lines and timeline.
pub async fn view(state: &Mall, actor: &Actor, id: Uuid) -> AppResult<OrderView> {
    let o = mall_order::Entity::find()
        .filter(mall_order::Column::PublicId.eq(id))
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !can_see(actor, &o) {
        return Err(AppError::not_found());
    }
    let lines = mall_order_line::Entity::find()
        .filter(mall_order_line::Column::OrderId.eq(o.id))
        .order_by_asc(mall_order_line::Column::Id)
        .all(&state.db)
        .await?;
    let items: HashMap<ItemId, Uuid> = mall_item::Entity::find()
        .filter(mall_item::Column::Id.is_in(lines.iter().filter_map(|l| l.item_id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|i| (i.id, i.public_id))
        .collect();
    let steps = mall_order_step::Entity::find()
        .filter(mall_order_step::Column::OrderId.eq(o.id))
        .order_by_asc(mall_order_step::Column::Id)
        .all(&state.db)
        .await?;
    let orgs = super::org_map(
        &state.db,
        [o.procuring_org_id, o.supplier_org_id].into_iter().chain(steps.iter().filter_map(|s| s.org_id)),
    )
    .await?;
    let actions = actions_for(actor, &o);
    let mut v = summary(&o, &orgs)?;
    v.actions = actions;
    v.lines = lines
        .into_iter()
        .map(|l| OrderLineView {
            item_id: l.item_id.and_then(|i| items.get(&i).copied()),
            name: l.name,
            brand: l.brand,
            model: l.model,
            unit: l.unit,
            quantity: l.quantity,
            unit_price: l.unit_price_fen,
            agreement_price: l.agreement_price_fen,
            total: l.total_fen,
        })
        .collect();
    v.steps = steps
        .into_iter()
        .map(|s| StepView {
            action: s.action.as_str().into(),
            from: s.from_status.stored().into(),
            to: s.to_status.as_str().into(),
            by: s.org_id.and_then(|o| orgs.get(&o).map(|o| o.name.clone())),
            note: s.note,
            at: s.at,
        })
        .collect();
    Ok(v)
}

fn summary(o: &mall_order::Model, orgs: &HashMap<OrgId, crate::entities::organisation::Model>) -> AppResult<OrderView> {
    let savings = Savings { budget: o.budget_fen, deal: o.amount_fen };
    Ok(OrderView {
        id: o.public_id,
        code: o.code.clone(),
        kind: o.kind,
        status: o.status,
        procuring_unit: orgs.get(&o.procuring_org_id).map(|x| x.name.clone()).unwrap_or_default(),
        supplier: orgs.get(&o.supplier_org_id).map(|x| x.name.clone()).unwrap_or_default(),
        category: o.category.clone(),
        saved: savings.saved(),
        savings_rate: savings.rate_percent(2),
        savings,
        status_note: o.status_note.clone(),
        acceptance: o
            .acceptance
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| AppError::internal(format!("mall_orders.acceptance of row {}: {e}", o.id)))?,
        placed_at: o.placed_at,
        lines: vec![],
        steps: vec![],
        actions: vec![],
    })
}

/// Filters of the order list.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct OrderFilter {
    /// Only orders in this status.
    pub status: Option<String>,
    /// Page, from 1 (at most 10,000).
    pub page: Option<u64>,
}

/// A page of orders.
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub struct OrderPage {
    /// Orders in all.
    pub total: u64,
    /// Page.
    pub page: u64,
    /// Pages.
    pub pages: u64,
    /// Orders of this page, newest first (without lines and steps).
    pub orders: Vec<OrderView>,
}

/// The actor's orders: a unit's or a supplier's own; all for the centre and supervisors.
pub async fn list(state: &Mall, actor: &Actor, f: &OrderFilter) -> AppResult<OrderPage> {
    let mut cond = Condition::all();
    if !(is_centre_staff(actor) || is_overseer(actor)) {
        cond = cond.add(
            Condition::any()
                .add(mall_order::Column::ProcuringOrgId.eq(actor.org_id))
                .add(mall_order::Column::SupplierOrgId.eq(actor.org_id)),
        );
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        let s = OrderStatus::parse(s).ok_or_else(|| AppError::invalid_field("status", "invalid"))?;
        cond = cond.add(mall_order::Column::Status.eq(s));
    }
    let per_page = 30u64;
    let page = bounds::page(f.page, bounds::MAX_PAGE)?;
    let q = mall_order::Entity::find().filter(cond);
    let total = q.clone().count(&state.db).await?;
    let rows = q
        .order_by_desc(mall_order::Column::PlacedAt)
        .order_by_desc(mall_order::Column::Id)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(&state.db)
        .await?;
    let orgs = super::org_map(&state.db, rows.iter().flat_map(|o| [o.procuring_org_id, o.supplier_org_id])).await?;
    let orders = rows
        .iter()
        .map(|o| {
            let mut v = summary(o, &orgs)?;
            v.actions = actions_for(actor, o);
            Ok(v)
        })
        .collect::<AppResult<_>>()?;
    Ok(OrderPage { total, page, pages: total.div_ceil(per_page), orders })
}
