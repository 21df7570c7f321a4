//! Framework agreements (协议供货 / 定点服务), their catalogue items, prices and price monitoring.
//!
//! The centre (staff of the centralized procurement agency) sets up agreements with a supplier,
//! either directly or from a tender, and lists the catalogue items with their agreement prices
//! (ceilings) and market reference prices. The centre and the agreement's supplier may change a
//! price; every price is kept, and a price above its market reference or raised by more than
//! `mall.price_raise_flag_percent` is flagged for the centre.

use super::{
    catalogue,
    model::*,
    policy::{is_centre_staff, is_overseer, sells},
};
use crate::{
    accounts::model::{Actor, OrgKind, Status},
    audit::{Action, AuditEntry},
    bounds,
    entities::{mall_agreement, mall_item, mall_price_change, mall_price_flag, organisation, tender},
    error::{AppError, AppResult, FieldError, check_text},
    ids::{AgreementId, ItemId},
    mall::Mall,
    money::Money,
    notify::{Notice, NoticeKind},
};
use chrono::{DateTime, Datelike, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// An agreement as entered by the centre.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AgreementInput {
    /// Title (e.g. 2026年度办公设备协议供货).
    pub title: String,
    /// Goods or services.
    pub kind: AgreementKind,
    /// The supplier organisation (public id).
    pub supplier: Uuid,
    /// Category codes (at least one).
    pub categories: Vec<String>,
    /// Service area (服务区域).
    pub service_area: String,
    /// First instant in force.
    pub valid_from: DateTime<Utc>,
    /// In force until (exclusive).
    pub valid_to: DateTime<Utc>,
    /// The tender the agreement was awarded from, if any.
    pub source_tender: Option<Uuid>,
}

/// A catalogue item as entered.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ItemInput {
    /// Category code (one of the agreement's).
    pub category: String,
    /// Name (品名).
    pub name: String,
    /// Brand.
    pub brand: String,
    /// Model.
    pub model: String,
    /// Specification.
    #[serde(default)]
    pub spec: String,
    /// Unit (台, 把, 包 ...).
    pub unit: String,
    /// Agreement price, fen: the most a unit pays.
    #[schema(value_type = i64)]
    pub price: Money,
    /// Market reference price, fen.
    #[schema(value_type = i64)]
    pub market_price: Money,
}

/// A new price for an item.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PriceInput {
    /// New agreement price, fen.
    #[schema(value_type = i64)]
    pub price: Money,
    /// New market reference price, fen (unchanged if absent).
    #[schema(value_type = Option<i64>)]
    pub market_price: Option<Money>,
}

fn require_centre(actor: &Actor) -> AppResult<()> {
    if is_centre_staff(actor) {
        Ok(())
    } else {
        Err(AppError::forbidden_because("centre_only", "only the centre's staff manage framework agreements"))
    }
}

/// The next catalogue revision (callers hold the write lock, so it is unique).
pub(super) async fn next_revision<C: ConnectionTrait>(db: &C) -> AppResult<i64> {
    Ok(catalogue::max_revision(db).await? + 1)
}

/// Sets up an agreement.
pub async fn create(state: &Mall, actor: &Actor, input: AgreementInput) -> AppResult<AgreementView> {
    require_centre(actor)?;
    let mut fields = Vec::new();
    check_text(&mut fields, "title", &input.title, 1, 200);
    check_text(&mut fields, "service_area", &input.service_area, 1, 200);
    if input.categories.is_empty() || input.categories.len() > CATEGORIES.len() {
        fields.push(FieldError::new("categories", "required"));
    }
    for c in &input.categories {
        match category(c) {
            None => fields.push(FieldError::new("categories", "unknown")),
            Some(cat) if cat.service != (input.kind == AgreementKind::Services) => {
                fields.push(FieldError::new("categories", "wrong_kind"))
            }
            _ => {}
        }
    }
    bounds::check_time(&mut fields, "valid_from", input.valid_from);
    bounds::check_time(&mut fields, "valid_to", input.valid_to);
    if input.valid_to <= input.valid_from {
        fields.push(FieldError::new("valid_to", "before_start"));
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let supplier = organisation::Entity::find()
        .filter(organisation::Column::PublicId.eq(input.supplier))
        .one(&txn)
        .await?
        .filter(|o| o.kind == OrgKind::Supplier)
        .ok_or_else(|| AppError::invalid_field("supplier", "unknown"))?;
    if supplier.status != Status::Active {
        return Err(AppError::rule("supplier_not_admitted", "the supplier's registration is not approved"));
    }
    let source_tender_id = match input.source_tender {
        Some(t) => Some(
            tender::Entity::find()
                .filter(tender::Column::PublicId.eq(t))
                .one(&txn)
                .await?
                .filter(|t| !matches!(t.state.as_str(), "draft" | "cancelled"))
                .ok_or_else(|| AppError::invalid_field("source_tender", "unknown"))?
                .id,
        ),
        None => None,
    };
    let year = now.with_timezone(&crate::web::cst()).year();
    let n = mall_agreement::Entity::find().count(&txn).await? + 1;
    let mut cats = input.categories.clone();
    cats.sort();
    cats.dedup();
    let a = mall_agreement::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        code: Set(format!("XY{year}-{n:05}")),
        title: Set(input.title.trim().into()),
        kind: Set(input.kind),
        supplier_org_id: Set(supplier.id),
        centre_org_id: Set(actor.org_id),
        categories: Set(serde_json::to_string(&cats).map_err(AppError::internal)?),
        service_area: Set(input.service_area.trim().into()),
        valid_from: Set(input.valid_from),
        valid_to: Set(input.valid_to),
        status: Set(AgreementStatus::Active),
        status_reason: Set(None),
        source_tender_id: Set(source_tender_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.notify(&[supplier.id], created_notice(&a)).await?;
    let details = json!({"code": a.code, "supplier": supplier.public_id, "categories": cats,
        "valid_from": a.valid_from, "valid_to": a.valid_to, "service_area": a.service_area});
    txn.record(&actor.audit(), AuditEntry::new(Action::MallAgreementCreate, a.public_id, details)).await?;
    txn.commit().await?;
    view(state, Some(actor), a.public_id).await
}

/// Suspends (with a reason) or resumes an agreement. A suspended agreement sells nothing.
pub async fn set_suspended(state: &Mall, actor: &Actor, id: Uuid, suspend: bool, reason: &str) -> AppResult<()> {
    require_centre(actor)?;
    let reason = reason.trim();
    if suspend && reason.is_empty() {
        return Err(AppError::invalid_field("reason", "required"));
    }
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let a = load(&txn, id).await?;
    let (from, to) = if suspend {
        (AgreementStatus::Active, AgreementStatus::Suspended)
    } else {
        (AgreementStatus::Suspended, AgreementStatus::Active)
    };
    if a.status != from {
        return Err(AppError::conflict("wrong_state", format!("the agreement is not {from}")));
    }
    mall_agreement::ActiveModel {
        id: Set(a.id),
        status: Set(to),
        status_reason: Set(suspend.then(|| reason.to_string())),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    // Every item of the agreement changes whether it sells: the index must hear of it.
    let rev = next_revision(&txn).await?;
    mall_item::Entity::update_many()
        .col_expr(mall_item::Column::Revision, sea_orm::sea_query::Expr::value(rev))
        .filter(mall_item::Column::AgreementId.eq(a.id))
        .exec(&txn)
        .await?;
    txn.notify(&[a.supplier_org_id], status_notice(&a, suspend, reason)).await?;
    let action = if suspend { Action::MallAgreementSuspend } else { Action::MallAgreementResume };
    txn.record(&actor.audit(), AuditEntry::new(action, a.public_id, json!({"reason": reason}))).await?;
    txn.commit().await?;
    catalogue::refresh(state).await;
    Ok(())
}

/// The notice to the supplier that agreement `a` is set up.
pub(crate) fn created_notice(a: &mall_agreement::Model) -> Notice {
    Notice::new(NoticeKind::AgreementCreated)
        .arg("title", &a.title)
        .arg("code", &a.code)
        .link(format!("/mall/agreements/{}", a.public_id))
}

/// The notice to the supplier that agreement `a` was suspended for `reason`, or resumed.
pub(crate) fn status_notice(a: &mall_agreement::Model, suspend: bool, reason: &str) -> Notice {
    let notice = if suspend {
        Notice::new(NoticeKind::AgreementSuspended).arg("reason", reason)
    } else {
        Notice::new(NoticeKind::AgreementResumed)
    };
    notice.arg("title", &a.title).link(format!("/mall/agreements/{}", a.public_id))
}

async fn load<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<mall_agreement::Model> {
    mall_agreement::Entity::find()
        .filter(mall_agreement::Column::PublicId.eq(id))
        .one(db)
        .await?
        .ok_or_else(AppError::not_found)
}

/// Parses the stored category list; a list that does not read is an error naming the row.
pub(super) fn categories_of(a: &mall_agreement::Model) -> AppResult<Vec<String>> {
    serde_json::from_str(&a.categories)
        .map_err(|e| AppError::internal(format!("mall_agreements.categories of row {}: {e}", a.id)))
}

async fn to_view<C: ConnectionTrait>(
    db: &C,
    actor: Option<&Actor>,
    a: mall_agreement::Model,
    now: DateTime<Utc>,
) -> AppResult<AgreementView> {
    let supplier =
        organisation::Entity::find_by_id(a.supplier_org_id).one(db).await?.ok_or_else(AppError::not_found)?;
    let items = mall_item::Entity::find().filter(mall_item::Column::AgreementId.eq(a.id)).count(db).await?;
    let source_tender_id = match a.source_tender_id {
        Some(t) => tender::Entity::find_by_id(t).one(db).await?.map(|t| t.public_id),
        None => None,
    };
    let insider = actor.is_some_and(|x| is_centre_staff(x) || is_overseer(x) || x.org_id == a.supplier_org_id);
    Ok(AgreementView {
        id: a.public_id,
        in_force: sells(&a, now),
        categories: categories_of(&a)?,
        code: a.code,
        title: a.title,
        kind: a.kind,
        supplier_id: supplier.public_id,
        supplier_name: supplier.name,
        service_area: a.service_area,
        valid_from: a.valid_from,
        valid_to: a.valid_to,
        status: a.status,
        status_reason: if insider { a.status_reason } else { None },
        source_tender_id,
        items,
    })
}

/// One agreement. Agreements are public in the e-mall (who sells what, where, until when);
/// the reason for a suspension is shown only to the centre, supervisors and the supplier.
pub async fn view(state: &Mall, actor: Option<&Actor>, id: Uuid) -> AppResult<AgreementView> {
    let a = load(&state.db, id).await?;
    to_view(&state.db, actor, a, state.clock.now()).await
}

/// Agreements: a supplier sees its own, everyone else all of them; newest first.
pub async fn list(state: &Mall, actor: &Actor) -> AppResult<Vec<AgreementView>> {
    let mut q = mall_agreement::Entity::find().order_by_desc(mall_agreement::Column::Id).limit(500);
    if actor.org_kind == OrgKind::Supplier {
        q = q.filter(mall_agreement::Column::SupplierOrgId.eq(actor.org_id));
    }
    let now = state.clock.now();
    let mut out = Vec::new();
    for a in q.all(&state.db).await? {
        out.push(to_view(&state.db, Some(actor), a, now).await?);
    }
    Ok(out)
}

fn check_prices(fields: &mut Vec<FieldError>, price: Money, market: Money) {
    bounds::check_amount(fields, "price", price);
    bounds::check_amount(fields, "market_price", market);
}

/// Adds a catalogue item to an agreement.
pub async fn add_item(state: &Mall, actor: &Actor, agreement: Uuid, input: ItemInput) -> AppResult<ItemView> {
    require_centre(actor)?;
    let mut fields = Vec::new();
    check_text(&mut fields, "name", &input.name, 1, 200);
    check_text(&mut fields, "brand", &input.brand, 1, 100);
    check_text(&mut fields, "model", &input.model, 1, 100);
    check_text(&mut fields, "spec", &input.spec, 0, 2000);
    check_text(&mut fields, "unit", &input.unit, 1, 20);
    check_prices(&mut fields, input.price, input.market_price);
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let a = load(&txn, agreement).await?;
    if !categories_of(&a)?.contains(&input.category) {
        return Err(AppError::invalid_field("category", "not_in_agreement"));
    }
    let revision = next_revision(&txn).await?;
    let item = mall_item::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        agreement_id: Set(a.id),
        supplier_org_id: Set(a.supplier_org_id),
        category: Set(input.category.clone()),
        name: Set(input.name.trim().into()),
        brand: Set(input.brand.trim().into()),
        model: Set(input.model.trim().into()),
        spec: Set(input.spec.trim().into()),
        unit: Set(input.unit.trim().into()),
        price_fen: Set(input.price),
        market_price_fen: Set(input.market_price),
        active: Set(true),
        revision: Set(revision),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record_price(state, &txn, &item, None, now).await?;
    let details = json!({"agreement": a.public_id, "name": item.name, "brand": item.brand, "model": item.model,
        "price_fen": item.price_fen, "market_price_fen": item.market_price_fen});
    txn.record(&actor.audit(), AuditEntry::new(Action::MallItemCreate, item.public_id, details)).await?;
    txn.commit().await?;
    catalogue::refresh(state).await;
    item_view(state, item.public_id).await
}

/// Keeps the price in the history and flags it if it is above the market reference or raised
/// by more than the configured share.
async fn record_price<C: ConnectionTrait>(
    state: &Mall,
    txn: &C,
    item: &mall_item::Model,
    old: Option<Money>,
    now: DateTime<Utc>,
) -> AppResult<u32> {
    mall_price_change::ActiveModel {
        item_id: Set(item.id),
        old_price_fen: Set(old),
        new_price_fen: Set(item.price_fen),
        market_price_fen: Set(item.market_price_fen),
        changed_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let mut flags = Vec::new();
    if item.price_fen > item.market_price_fen {
        flags.push((FlagKind::AboveMarket, item.market_price_fen));
    }
    if let Some(old) = old {
        let pct = state.settings.price_raise_flag_percent as i128;
        let (new, old_fen) = (item.price_fen.fen() as i128, old.fen() as i128);
        if (new - old_fen) * 100 > pct * old_fen {
            flags.push((FlagKind::Raised, old));
        }
    }
    for (kind, reference) in &flags {
        mall_price_flag::ActiveModel {
            public_id: Set(Uuid::new_v4()),
            item_id: Set(item.id),
            kind: Set(*kind),
            price_fen: Set(item.price_fen),
            reference_fen: Set(*reference),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(flags.len() as u32)
}

/// Changes an item's agreement price (and optionally its market reference): the centre, or the
/// agreement's supplier.
pub async fn set_price(state: &Mall, actor: &Actor, item: Uuid, input: PriceInput) -> AppResult<ItemView> {
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let it = mall_item::Entity::find()
        .filter(mall_item::Column::PublicId.eq(item))
        .one(&txn)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !(is_centre_staff(actor) || actor.org_id == it.supplier_org_id) {
        return Err(AppError::forbidden_because(
            "not_your_item",
            "only the centre or the item's supplier may change its price",
        ));
    }
    let market = input.market_price.unwrap_or(it.market_price_fen);
    let mut fields = Vec::new();
    check_prices(&mut fields, input.price, market);
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let old = it.price_fen;
    let revision = next_revision(&txn).await?;
    let it = mall_item::ActiveModel {
        id: Set(it.id),
        price_fen: Set(input.price),
        market_price_fen: Set(market),
        revision: Set(revision),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let flagged = record_price(state, &txn, &it, Some(old), now).await?;
    let details = json!({"old_fen": old, "new_fen": it.price_fen, "market_fen": it.market_price_fen, "flags": flagged});
    txn.record(&actor.audit(), AuditEntry::new(Action::MallItemPrice, it.public_id, details)).await?;
    txn.commit().await?;
    catalogue::refresh(state).await;
    item_view(state, it.public_id).await
}

/// Items as shown, in the order of `items`, with their agreements and suppliers.
pub async fn item_views(
    db: &DatabaseConnection,
    items: Vec<mall_item::Model>,
    now: DateTime<Utc>,
) -> AppResult<Vec<ItemView>> {
    let agreement_ids: Vec<AgreementId> = items.iter().map(|i| i.agreement_id).collect();
    let agreements: HashMap<AgreementId, mall_agreement::Model> = mall_agreement::Entity::find()
        .filter(mall_agreement::Column::Id.is_in(agreement_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let orgs = super::org_map(db, items.iter().map(|i| i.supplier_org_id)).await?;
    Ok(items
        .into_iter()
        .filter_map(|i| {
            let a = agreements.get(&i.agreement_id)?;
            let o = orgs.get(&i.supplier_org_id)?;
            Some(ItemView {
                id: i.public_id,
                agreement_id: a.public_id,
                agreement_code: a.code.clone(),
                sellable: i.active && sells(a, now),
                category: i.category,
                name: i.name,
                brand: i.brand,
                model: i.model,
                spec: i.spec,
                unit: i.unit,
                price: i.price_fen,
                market_price: i.market_price_fen,
                supplier_id: o.public_id,
                supplier_name: o.name.clone(),
                supplier_size: o.size_class.map(|s| s.as_str().into()),
            })
        })
        .collect())
}

/// One item.
pub async fn item_view(state: &Mall, id: Uuid) -> AppResult<ItemView> {
    let it = mall_item::Entity::find()
        .filter(mall_item::Column::PublicId.eq(id))
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    item_views(&state.db, vec![it], state.clock.now()).await?.pop().ok_or_else(AppError::not_found)
}

/// The items of an agreement.
pub async fn items_of(state: &Mall, agreement: Uuid) -> AppResult<Vec<ItemView>> {
    let a = load(&state.db, agreement).await?;
    let items = mall_item::Entity::find()
        .filter(mall_item::Column::AgreementId.eq(a.id))
        .order_by_asc(mall_item::Column::Id)
        .limit(1000)
        .all(&state.db)
        .await?;
    item_views(&state.db, items, state.clock.now()).await
}

/// An item's price history, oldest first.
pub async fn price_history(state: &Mall, id: Uuid) -> AppResult<Vec<PricePoint>> {
    let it = mall_item::Entity::find()
        .filter(mall_item::Column::PublicId.eq(id))
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(mall_price_change::Entity::find()
        .filter(mall_price_change::Column::ItemId.eq(it.id))
        .order_by_asc(mall_price_change::Column::ChangedAt)
        .order_by_asc(mall_price_change::Column::Id)
        .limit(500)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|p| PricePoint { at: p.changed_at, price: p.new_price_fen, market_price: p.market_price_fen })
        .collect())
}

/// Price flags for the centre and supervisors: open ones, or all.
pub async fn flags(state: &Mall, actor: &Actor, open_only: bool) -> AppResult<Vec<FlagView>> {
    if !(is_centre_staff(actor) || is_overseer(actor)) {
        return Err(AppError::forbidden_because("centre_only", "price monitoring is for the centre and supervisors"));
    }
    let mut q = mall_price_flag::Entity::find().order_by_desc(mall_price_flag::Column::Id).limit(500);
    if open_only {
        q = q.filter(mall_price_flag::Column::ResolvedAt.is_null());
    }
    let flags = q.all(&state.db).await?;
    let items: HashMap<ItemId, mall_item::Model> = mall_item::Entity::find()
        .filter(mall_item::Column::Id.is_in(flags.iter().map(|f| f.item_id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    let orgs = super::org_map(&state.db, items.values().map(|i| i.supplier_org_id)).await?;
    Ok(flags
        .into_iter()
        .filter_map(|f| {
            let it = items.get(&f.item_id)?;
            Some(FlagView {
                id: f.public_id,
                kind: f.kind,
                item_id: it.public_id,
                item_name: format!("{} {} {}", it.brand, it.name, it.model),
                supplier: orgs.get(&it.supplier_org_id).map(|o| o.name.clone()).unwrap_or_default(),
                price: f.price_fen,
                reference: f.reference_fen,
                excess_percent: percent(
                    f.price_fen.fen() as i128 - f.reference_fen.fen() as i128,
                    f.reference_fen.fen() as i128,
                    2,
                ),
                created_at: f.created_at,
                resolution: f.resolution,
            })
        })
        .collect())
}

/// The centre resolves a flag with a note (price corrected, explained, ...).
pub async fn resolve_flag(state: &Mall, actor: &Actor, id: Uuid, note: &str) -> AppResult<()> {
    require_centre(actor)?;
    let note = crate::error::required_text("note", note, 2000)?;
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let f = mall_price_flag::Entity::find()
        .filter(mall_price_flag::Column::PublicId.eq(id))
        .one(&txn)
        .await?
        .ok_or_else(AppError::not_found)?;
    if f.resolved_at.is_some() {
        return Err(AppError::conflict("already_resolved", "this flag is already resolved"));
    }
    mall_price_flag::ActiveModel {
        id: Set(f.id),
        resolved_at: Set(Some(now)),
        resolved_by: Set(Some(actor.user_id)),
        resolution: Set(Some(note.to_string())),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    txn.record(&actor.audit(), AuditEntry::new(Action::MallFlagResolve, f.public_id, json!({"note": note}))).await?;
    txn.commit().await?;
    Ok(())
}

/// Active supplier organisations as (public id, name), for the centre's agreement form.
pub async fn supplier_choices(db: &DatabaseConnection) -> AppResult<Vec<(Uuid, String)>> {
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Kind.eq(OrgKind::Supplier))
        .filter(organisation::Column::Status.eq(Status::Active))
        .order_by_asc(organisation::Column::Name)
        .limit(2000)
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.public_id, o.name))
        .collect())
}
