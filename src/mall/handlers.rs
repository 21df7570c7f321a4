//! E-mall pages: the catalogue, items and direct purchases, orders, quotations, agreements, the
//! savings report and price monitoring.
//!
//! Handlers read the form or query, call the services and redirect (POST-redirect-GET) or
//! render. What a page shows beyond the service's view (translated labels, which forms appear)
//! is worked out here, so the templates only place it.

use super::{
    agreements::{self, AgreementInput, ItemInput, PriceInput},
    catalogue::{self, CataloguePage, CatalogueQuery},
    chart,
    model::*,
    orders::{self, DirectPurchase, LineInput, OrderFilter, OrderPage, StepInput},
    policy::{is_buyer, is_centre_staff, is_overseer, is_supplier},
    quotations::{self, QuotationInput, QuoteInput},
    reports::{self, Group, Report, ReportQuery, ResultInput, SavingsRow},
    search::Sort,
};
use crate::{
    accounts::model::Actor,
    error::{AppError, AppResult, FieldError},
    mall::Mall,
    money::Money,
    web::{
        cst,
        extract::{Form, Path, Query},
        flash::{self, Flash},
        form::{FormState, Values},
        local_input,
        page::{PageCtx, percent_encode, public, render, render_form, render_public},
        parse_local_time,
    },
};
use askama::Template;
use axum::{
    Router,
    extract::State,
    response::Response,
    routing::{get, post},
};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Deserialize;
use uuid::Uuid;

/// Page routes of this module.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    super::Mall: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/mall", get(catalogue_page))
        .route("/mall/items/{id}", get(item_page))
        .route("/mall/items/{id}/price", post(set_price))
        .route("/mall/orders", get(orders_page).post(direct_purchase))
        .route("/mall/orders/{id}", get(order_page))
        .route("/mall/orders/{id}/steps", post(order_step))
        .route("/mall/quotations", get(quotations_page).post(create_quotation))
        .route("/mall/quotations/{id}", get(quotation_page))
        .route("/mall/quotations/{id}/quote", post(submit_quote))
        .route("/mall/quotations/{id}/cancel", post(cancel_quotation))
        .route("/mall/agreements", get(agreements_page).post(create_agreement))
        .route("/mall/agreements/{id}", get(agreement_page))
        .route("/mall/agreements/{id}/items", post(add_item))
        .route("/mall/agreements/{id}/suspend", post(suspend_agreement))
        .route("/mall/agreements/{id}/resume", post(resume_agreement))
        .route("/mall/reports", get(reports_page))
        .route("/mall/reports/results", post(record_result))
        .route("/mall/price-flags", get(flags_page))
        .route("/mall/price-flags/{id}/resolve", post(resolve_flag))
}

/// Redirects to `path` with the message of what succeeded.
fn to(path: String, done: Flash) -> Response {
    flash::to(&path, done)
}

/// The message after an order step.
fn step_flash(action: OrderAction) -> Flash {
    match action {
        OrderAction::Confirm => Flash::OrderConfirmed,
        OrderAction::RequestAdjustment => Flash::OrderAdjustmentRequested,
        OrderAction::Reject => Flash::OrderRejected,
        OrderAction::Resubmit => Flash::OrderResubmitted,
        OrderAction::Cancel => Flash::OrderCancelled,
        OrderAction::Deliver => Flash::OrderDelivered,
        OrderAction::Accept => Flash::OrderAccepted,
        OrderAction::Pay => Flash::OrderPaid,
    }
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

/// The e-mall's own navigation: which sections the viewer sees, and which one is open.
pub struct MallNav {
    current: &'static str,
    orders: bool,
    quotations: bool,
    agreements: bool,
    reports: bool,
    flags: bool,
}

fn nav(ctx: &PageCtx, current: &'static str) -> MallNav {
    let user = ctx.user.as_ref();
    let party = user.is_some_and(|a| is_buyer(a) || is_supplier(a) || is_centre_staff(a) || is_overseer(a));
    MallNav {
        current,
        orders: party,
        quotations: party,
        agreements: user.is_some(),
        reports: party,
        flags: user.is_some_and(|a| is_centre_staff(a) || is_overseer(a)),
    }
}

/// A value and its label, for select boxes and checkboxes.
pub struct Choice {
    value: String,
    label: String,
}

fn lang(ctx: &PageCtx) -> &'static str {
    if ctx.t.is_en() { "en" } else { "zh" }
}

fn category_choices(ctx: &PageCtx, only: Option<&[String]>) -> Vec<Choice> {
    CATEGORIES
        .iter()
        .filter(|c| only.is_none_or(|o| o.iter().any(|x| x == c.code)))
        .map(|c| Choice { value: c.code.into(), label: category_name(c.code, lang(ctx)) })
        .collect()
}

fn enum_choices(ctx: &PageCtx, prefix: &str, values: impl Iterator<Item = &'static str>) -> Vec<Choice> {
    values.map(|v| Choice { value: v.into(), label: ctx.t.of(prefix, v) }).collect()
}

/// An amount as a form value: "2599.00", no separators.
fn plain_yuan(m: Money) -> String {
    format!(
        "{}{}.{:02}",
        if m.fen() < 0 { "-" } else { "" },
        m.fen().unsigned_abs() / 100,
        m.fen().unsigned_abs() % 100
    )
}

/// The China-time day of an instant.
fn day(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&cst()).date_naive()
}

/// Reads form fields, collecting every field error before refusing.
#[derive(Default)]
struct Fields(Vec<FieldError>);

impl Fields {
    fn money(&mut self, name: &'static str, v: &str) -> Money {
        if v.trim().is_empty() {
            self.0.push(FieldError::new(name, "required"));
            return Money::ZERO;
        }
        Money::parse_yuan(v).unwrap_or_else(|e| {
            self.0.push(FieldError::new(name, e.field_code()));
            Money::ZERO
        })
    }

    fn opt_money(&mut self, name: &'static str, v: &str) -> Option<Money> {
        if v.trim().is_empty() { None } else { Some(self.money(name, v)) }
    }

    fn int(&mut self, name: &'static str, v: &str) -> i64 {
        v.trim().parse().unwrap_or_else(|_| {
            self.0.push(FieldError::new(name, if v.trim().is_empty() { "required" } else { "invalid" }));
            0
        })
    }

    fn uuid(&mut self, name: &'static str, v: &str) -> Uuid {
        Uuid::parse_str(v.trim()).unwrap_or_else(|_| {
            self.0.push(FieldError::new(name, if v.trim().is_empty() { "required" } else { "invalid" }));
            Uuid::nil()
        })
    }

    fn date(&mut self, name: &'static str, v: &str) -> NaiveDate {
        match NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d") {
            Ok(d) => crate::bounds::day(name, d).unwrap_or_else(|e| {
                self.0.extend(e.fields);
                NaiveDate::default()
            }),
            Err(_) => {
                self.0.push(FieldError::new(name, if v.trim().is_empty() { "required" } else { "invalid" }));
                NaiveDate::default()
            }
        }
    }

    fn time(&mut self, name: &'static str, v: &str) -> DateTime<Utc> {
        parse_local_time(v).unwrap_or_else(|| {
            self.0.push(FieldError::new(name, if v.trim().is_empty() { "required" } else { "invalid" }));
            DateTime::<Utc>::default()
        })
    }

    fn done(self) -> AppResult<()> {
        if self.0.is_empty() { Ok(()) } else { Err(AppError::validation(self.0)) }
    }
}

/// A catalogue item with its translated labels.
pub struct ItemRow {
    item: ItemView,
    category: String,
    size: String,
}

fn item_row(ctx: &PageCtx, item: ItemView) -> ItemRow {
    ItemRow {
        category: category_name(&item.category, lang(ctx)),
        size: item.supplier_size.as_deref().map(|s| ctx.t.of("size", s)).unwrap_or_default(),
        item,
    }
}

// ---------------------------------------------------------------------------------------------
// Catalogue and items

fn sort_str(s: Sort) -> &'static str {
    match s {
        Sort::Relevance => "relevance",
        Sort::PriceAsc => "price_asc",
        Sort::PriceDesc => "price_desc",
    }
}

#[derive(Template)]
#[template(path = "mall/catalogue.html")]
struct CatalogueT {
    ctx: PageCtx,
    nav: MallNav,
    q: CatalogueQuery,
    result: CataloguePage,
    rows: Vec<ItemRow>,
    categories: Vec<Choice>,
    sizes: Vec<Choice>,
    sorts: Vec<Choice>,
    sort: &'static str,
    all: bool,
}

impl CatalogueT {
    fn qv<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }

    fn page_link(&self, page: u64) -> String {
        let mut parts = vec![format!("page={page}"), format!("sort={}", self.sort)];
        for (k, v) in [
            ("q", &self.q.q),
            ("category", &self.q.category),
            ("brand", &self.q.brand),
            ("size", &self.q.size),
            ("min_price", &self.q.min_price),
            ("max_price", &self.q.max_price),
        ] {
            if let Some(v) = v.as_deref().filter(|s| !s.is_empty()) {
                parts.push(format!("{k}={}", percent_encode(v)));
            }
        }
        if let Some(s) = self.q.supplier {
            parts.push(format!("supplier={s}"));
        }
        if self.all {
            parts.push("all=true".into());
        }
        format!("/mall?{}", parts.join("&"))
    }
}

async fn catalogue_page(
    State(state): State<Mall>,
    ctx: PageCtx,
    Query(q): Query<CatalogueQuery>,
) -> AppResult<Response> {
    let result = catalogue::search(&state, &q).await?;
    let rows = result.items.iter().cloned().map(|i| item_row(&ctx, i)).collect();
    let mut sizes = enum_choices(&ctx, "size", ["large", "medium", "small", "micro"].into_iter());
    sizes.push(Choice { value: "sme".into(), label: ctx.t.get("mall.sme").into() });
    let page = CatalogueT {
        nav: nav(&ctx, "catalogue"),
        categories: category_choices(&ctx, None),
        sizes,
        sorts: enum_choices(&ctx, "sort", [Sort::Relevance, Sort::PriceAsc, Sort::PriceDesc].into_iter().map(sort_str)),
        sort: sort_str(q.sort.unwrap_or_default()),
        all: q.all.unwrap_or(false),
        rows,
        result,
        q,
        ctx,
    };
    Ok(render_public(&page))
}

#[derive(Template)]
#[template(path = "mall/item.html")]
struct ItemT {
    ctx: PageCtx,
    nav: MallNav,
    row: ItemRow,
    history: Vec<PricePoint>,
    chart: String,
    can_buy: bool,
    can_set_price: bool,
    /// The direct purchase form.
    buy: FormState,
    /// The form changing the price.
    price_form: FormState,
}

async fn item_page(State(state): State<Mall>, ctx: PageCtx, Path(id): Path<Uuid>) -> AppResult<Response> {
    item_form_page(&state, ctx, id, FormState::blank()).await
}

/// The item page, with the form `f` (`buy` or `price`) as it was sent.
async fn item_form_page(state: &Mall, ctx: PageCtx, id: Uuid, f: FormState) -> AppResult<Response> {
    let item = agreements::item_view(state, id).await?;
    let history = agreements::price_history(state, id).await?;
    let user = ctx.user.as_ref();
    let page = ItemT {
        nav: nav(&ctx, "catalogue"),
        chart: chart::price_line(&history),
        can_buy: item.sellable && user.is_some_and(is_buyer),
        can_set_price: user.is_some_and(|a| is_centre_staff(a) || a.org_public_id == item.supplier_id),
        buy: f.or_filled(
            "buy",
            Values::from_pairs([("quantity", "1".to_string()), ("unit_price", plain_yuan(item.price))]),
        ),
        price_form: f.or_filled(
            "price",
            Values::from_pairs([("price", plain_yuan(item.price)), ("market_price", plain_yuan(item.market_price))]),
        ),
        row: item_row(&ctx, item),
        history,
        ctx,
    };
    Ok(public(render_form(&page, &f)))
}

/// What a form sent from a page led to.
enum Sent {
    /// It was taken: the redirect.
    Done(Response),
    /// It was refused: the form to show again on its page.
    Again(FormState),
}

/// The answer to a form sent from a page: `done` on success, else the form `form` as it was
/// sent with the refusal, or the refusal itself for the error page when it is not about the
/// form.
fn sent(ctx: &PageCtx, form: &'static str, values: Values, done: AppResult<Response>) -> AppResult<Sent> {
    match done {
        Ok(r) => Ok(Sent::Done(r)),
        Err(e) => FormState::refused(form, &ctx.t, values, e).map(Sent::Again),
    }
}

#[derive(Deserialize)]
struct PriceForm {
    price: String,
    #[serde(default)]
    market_price: String,
}

async fn set_price(
    State(state): State<Mall>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let done = async {
        let f: PriceForm = values.parse()?;
        let mut fields = Fields::default();
        let price = fields.money("price", &f.price);
        let market_price = fields.opt_money("market_price", &f.market_price);
        fields.done()?;
        agreements::set_price(&state, &actor, id, PriceInput { price, market_price }).await?;
        Ok(to(format!("/mall/items/{id}"), Flash::PriceSaved))
    }
    .await;
    match sent(&ctx, "price", values, done)? {
        Sent::Done(r) => Ok(r),
        Sent::Again(f) => item_form_page(&state, ctx, id, f).await,
    }
}

#[derive(Deserialize)]
struct BuyForm {
    item: Uuid,
    quantity: String,
    #[serde(default)]
    unit_price: String,
    budget: String,
    #[serde(default)]
    note: String,
}

async fn direct_purchase(State(state): State<Mall>, ctx: PageCtx, actor: Actor, values: Values) -> AppResult<Response> {
    let done = async {
        let f: BuyForm = values.parse()?;
        let mut fields = Fields::default();
        let quantity = fields.int("quantity", &f.quantity);
        let unit_price = fields.opt_money("unit_price", &f.unit_price);
        let budget = fields.money("budget", &f.budget);
        fields.done()?;
        let input =
            DirectPurchase { lines: vec![LineInput { item: f.item, quantity, unit_price }], budget, note: f.note };
        let order = orders::direct_purchase(&state, &actor, input).await?;
        Ok(to(format!("/mall/orders/{}", order.id), Flash::OrderPlaced))
    }
    .await;
    // The form is the item page's; an item that is not there leaves the error page.
    let item = Uuid::parse_str(values.get("item").trim()).map_err(|_| AppError::invalid_field("item", "invalid"));
    match sent(&ctx, "buy", values, done)? {
        Sent::Done(r) => Ok(r),
        Sent::Again(f) => item_form_page(&state, ctx, item?, f).await,
    }
}

// ---------------------------------------------------------------------------------------------
// Orders

/// An order with its translated labels.
pub struct OrderRow {
    o: OrderView,
    kind: String,
    status: String,
    category: String,
}

fn order_row(ctx: &PageCtx, o: OrderView) -> OrderRow {
    OrderRow {
        kind: ctx.t.of("orderkind", o.kind.as_str()),
        status: ctx.t.of("orderstatus", o.status.as_str()),
        category: category_name(&o.category, lang(ctx)),
        o,
    }
}

#[derive(Template)]
#[template(path = "mall/orders.html")]
struct OrdersT {
    ctx: PageCtx,
    nav: MallNav,
    page: OrderPage,
    rows: Vec<OrderRow>,
    status: String,
    statuses: Vec<Choice>,
}

impl OrdersT {
    fn page_link(&self, page: u64) -> String {
        if self.status.is_empty() {
            format!("/mall/orders?page={page}")
        } else {
            format!("/mall/orders?status={}&page={page}", percent_encode(&self.status))
        }
    }
}

async fn orders_page(
    State(state): State<Mall>,
    ctx: PageCtx,
    actor: Actor,
    Query(f): Query<OrderFilter>,
) -> AppResult<Response> {
    let page = orders::list(&state, &actor, &f).await?;
    let rows = page.orders.iter().cloned().map(|o| order_row(&ctx, o)).collect();
    let t = OrdersT {
        nav: nav(&ctx, "orders"),
        statuses: enum_choices(&ctx, "orderstatus", OrderStatus::ALL.iter().map(|s| s.as_str())),
        status: f.status.unwrap_or_default(),
        rows,
        page,
        ctx,
    };
    Ok(render(&t))
}

/// A step of the order's timeline, labelled.
pub struct StepRow {
    at: DateTime<Utc>,
    action: String,
    status: String,
    by: String,
    note: String,
}

/// One form for one action the viewer may take.
pub struct ActionForm {
    action: &'static str,
    label: String,
    /// Label of the note field.
    note_label: String,
    note_required: bool,
    inspector: bool,
    /// The question to answer before the step is taken, for a step that cannot be undone.
    confirm: Option<String>,
}

/// The acceptance record (验收记录).
pub struct Acceptance {
    inspector: String,
    note: String,
    at: Option<DateTime<Utc>>,
}

#[derive(Template)]
#[template(path = "mall/order.html")]
struct OrderT {
    ctx: PageCtx,
    nav: MallNav,
    row: OrderRow,
    steps: Vec<StepRow>,
    /// The steps that move the order on.
    forms: Vec<ActionForm>,
    /// The steps that end it (cancel, reject): shown apart, below, and asked about first.
    danger_forms: Vec<ActionForm>,
    acceptance: Option<Acceptance>,
}

fn action_form(ctx: &PageCtx, a: OrderAction) -> ActionForm {
    ActionForm {
        action: a.as_str(),
        label: ctx.t.of("orderaction", a.as_str()),
        note_required: a.needs_note(),
        inspector: a == OrderAction::Accept,
        confirm: match a {
            OrderAction::Cancel => Some(ctx.t.get("confirm.cancel_order").to_string()),
            OrderAction::Reject => Some(ctx.t.get("confirm.reject_order").to_string()),
            _ => None,
        },
        note_label: ctx.t.of("ordernote", a.as_str()),
    }
}

async fn order_page(
    State(state): State<Mall>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let o = orders::view(&state, &actor, id).await?;
    let steps = o
        .steps
        .iter()
        .map(|s| StepRow {
            at: s.at,
            action: ctx.t.of("orderaction", &s.action),
            status: ctx.t.of("orderstatus", &s.to),
            by: s.by.clone().unwrap_or_default(),
            note: s.note.clone().unwrap_or_default(),
        })
        .collect();
    let ends = |a: &OrderAction| matches!(a, OrderAction::Reject | OrderAction::Cancel);
    let forms = o.actions.iter().filter(|a| !ends(a)).map(|a| action_form(&ctx, *a)).collect();
    let danger_forms = o.actions.iter().filter(|a| ends(a)).map(|a| action_form(&ctx, *a)).collect();
    let acceptance = o.acceptance.as_ref().map(|v| Acceptance {
        inspector: v["inspector"].as_str().unwrap_or_default().to_string(),
        note: v["note"].as_str().unwrap_or_default().to_string(),
        at: v["accepted_at"].as_str().and_then(|s| s.parse().ok()),
    });
    let t = OrderT { nav: nav(&ctx, "orders"), row: order_row(&ctx, o), steps, forms, danger_forms, acceptance, ctx };
    Ok(render(&t))
}

#[derive(Deserialize)]
struct StepForm {
    action: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    inspector: String,
}

async fn order_step(
    State(state): State<Mall>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Form(f): Form<StepForm>,
) -> AppResult<Response> {
    let action = OrderAction::parse(&f.action).ok_or_else(|| AppError::invalid_field("action", "invalid"))?;
    orders::step(&state, &actor, id, StepInput { action, note: f.note, inspector: f.inspector }).await?;
    Ok(to(format!("/mall/orders/{id}"), step_flash(action)))
}

// ---------------------------------------------------------------------------------------------
// Quotations

/// A quotation with its translated labels.
pub struct QuotationRow {
    q: QuotationView,
    status: String,
    category: String,
}

fn quotation_row(ctx: &PageCtx, q: QuotationView) -> QuotationRow {
    QuotationRow {
        status: ctx.t.of("quotationstatus", q.status.as_str()),
        category: category_name(&q.category, lang(ctx)),
        q,
    }
}

#[derive(Template)]
#[template(path = "mall/quotations.html")]
struct QuotationsT {
    ctx: PageCtx,
    nav: MallNav,
    rows: Vec<QuotationRow>,
    can_create: bool,
    categories: Vec<Choice>,
    min_hours: i64,
    max_hours: i64,
    /// The form starting a quotation.
    f: FormState,
}

impl QuotationsT {
    fn hours_attrs(&self) -> String {
        format!("min='{}' max='{}' required", self.min_hours, self.max_hours)
    }

    fn hours_hint(&self) -> String {
        format!("{}–{}", self.min_hours, self.max_hours)
    }
}

async fn quotations_page(State(state): State<Mall>, ctx: PageCtx, actor: Actor) -> AppResult<Response> {
    quotations_form_page(&state, ctx, &actor, FormState::blank()).await
}

/// The quotations page, with the form starting one as it was sent (`f`).
async fn quotations_form_page(state: &Mall, ctx: PageCtx, actor: &Actor, f: FormState) -> AppResult<Response> {
    let list = quotations::list(state, actor).await?;
    let m = &state.settings;
    let t = QuotationsT {
        nav: nav(&ctx, "quotations"),
        rows: list.into_iter().map(|q| quotation_row(&ctx, q)).collect(),
        can_create: is_buyer(actor),
        categories: category_choices(&ctx, None),
        min_hours: m.min_quotation_hours,
        max_hours: m.max_quotation_hours,
        f: f.or_filled("quotation", Values::from_pairs([("hours", m.min_quotation_hours.to_string())])),
        ctx,
    };
    Ok(render_form(&t, &t.f))
}

#[derive(Deserialize)]
struct QuotationForm {
    category: String,
    title: String,
    #[serde(default)]
    requirement: String,
    quantity: String,
    unit: String,
    budget: String,
    hours: String,
}

async fn create_quotation(
    State(state): State<Mall>,
    ctx: PageCtx,
    actor: Actor,
    values: Values,
) -> AppResult<Response> {
    let done = start_quotation(&state, &actor, &values).await;
    match sent(&ctx, "quotation", values, done)? {
        Sent::Done(r) => Ok(r),
        Sent::Again(f) => quotations_form_page(&state, ctx, &actor, f).await,
    }
}

async fn start_quotation(state: &Mall, actor: &Actor, values: &Values) -> AppResult<Response> {
    let f: QuotationForm = values.parse()?;
    let mut fields = Fields::default();
    let quantity = fields.int("quantity", &f.quantity);
    let budget = fields.money("budget", &f.budget);
    let hours = fields.int("hours", &f.hours);
    fields.done()?;
    let input = QuotationInput {
        category: f.category,
        title: f.title,
        requirement: f.requirement,
        quantity,
        unit: f.unit,
        budget,
        hours,
    };
    let q = quotations::create(state, actor, input).await?;
    Ok(to(format!("/mall/quotations/{}", q.id), Flash::QuotationStarted))
}

#[derive(Template)]
#[template(path = "mall/quotation.html")]
struct QuotationT {
    ctx: PageCtx,
    nav: MallNav,
    row: QuotationRow,
    remaining: String,
    open: bool,
    fail_text: String,
    /// The quote or cancel form as it was sent.
    f: FormState,
}

/// "（剩余 0 天 1 小时 0 分）" until `deadline`, or that it has passed: the countdown's first
/// text, in the words the page's script goes on with (`countdown.*`).
fn remaining_text(ctx: &PageCtx, deadline: DateTime<Utc>) -> String {
    let left = deadline - ctx.now;
    let text = if left <= TimeDelta::zero() {
        ctx.t.get("countdown.passed").to_string()
    } else {
        let mins = left.num_minutes();
        ctx.t
            .get("countdown.left")
            .replace("{d}", &(mins / 1440).to_string())
            .replace("{h}", &(mins % 1440 / 60).to_string())
            .replace("{m}", &(mins % 60).to_string())
    };
    ctx.t.get("countdown.wrap").replace("{t}", &text)
}

async fn quotation_page(
    State(state): State<Mall>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    quotation_form_page(&state, ctx, &actor, id, FormState::blank()).await
}

/// The quotation page, with the form `f` (`quote` or `cancel`) as it was sent.
async fn quotation_form_page(state: &Mall, ctx: PageCtx, actor: &Actor, id: Uuid, f: FormState) -> AppResult<Response> {
    let q = quotations::view(state, actor, id).await?;
    let open = q.status == QuotationStatus::Open;
    let fail_text = match (&q.status, &q.fail_reason) {
        (QuotationStatus::Failed, Some(r)) if r.starts_with("too_few_quotes") => {
            format!("{} {} ({})", ctx.t.get("mall.too_few_quotes"), q.min_quotes, r)
        }
        (_, Some(r)) => r.clone(),
        (_, None) => String::new(),
    };
    let t = QuotationT {
        nav: nav(&ctx, "quotations"),
        remaining: remaining_text(&ctx, q.closes_at),
        open,
        fail_text,
        row: quotation_row(&ctx, q),
        f,
        ctx,
    };
    Ok(render_form(&t, &t.f))
}

#[derive(Deserialize)]
struct QuoteForm {
    unit_price: String,
    brand: String,
    model: String,
    #[serde(default)]
    note: String,
}

async fn submit_quote(
    State(state): State<Mall>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let done = async {
        let f: QuoteForm = values.parse()?;
        let mut fields = Fields::default();
        let unit_price = fields.money("unit_price", &f.unit_price);
        fields.done()?;
        quotations::quote(&state, &actor, id, QuoteInput { unit_price, brand: f.brand, model: f.model, note: f.note })
            .await?;
        Ok(to(format!("/mall/quotations/{id}"), Flash::QuoteSubmitted))
    }
    .await;
    match sent(&ctx, "quote", values, done)? {
        Sent::Done(r) => Ok(r),
        Sent::Again(f) => quotation_form_page(&state, ctx, &actor, id, f).await,
    }
}

#[derive(Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn cancel_quotation(
    State(state): State<Mall>,
    ctx: PageCtx,
    actor: Actor,
    Path(id): Path<Uuid>,
    values: Values,
) -> AppResult<Response> {
    let done = async {
        let f: ReasonForm = values.parse()?;
        quotations::cancel(&state, &actor, id, &f.reason).await?;
        Ok(to(format!("/mall/quotations/{id}"), Flash::QuotationCancelled))
    }
    .await;
    match sent(&ctx, "cancel", values, done)? {
        Sent::Done(r) => Ok(r),
        Sent::Again(f) => quotation_form_page(&state, ctx, &actor, id, f).await,
    }
}

// ---------------------------------------------------------------------------------------------
// Agreements

/// An agreement with its translated labels and its validity as days.
pub struct AgreementRow {
    a: AgreementView,
    kind: String,
    status: String,
    categories: String,
    /// Active (not suspended).
    active: bool,
    /// First day in force.
    from: NaiveDate,
    /// Last day in force.
    until: NaiveDate,
}

fn agreement_row(ctx: &PageCtx, a: AgreementView) -> AgreementRow {
    let sep = if ctx.t.is_en() { ", " } else { "、" };
    AgreementRow {
        kind: ctx.t.of("agreementkind", a.kind.as_str()),
        status: ctx.t.of("agreementstatus", a.status.as_str()),
        categories: a.categories.iter().map(|c| category_name(c, lang(ctx))).collect::<Vec<_>>().join(sep),
        active: a.status == AgreementStatus::Active,
        from: day(a.valid_from),
        until: day(a.valid_to - TimeDelta::seconds(1)),
        a,
    }
}

/// A category for the agreement form, with its kind.
pub struct CategoryBox {
    code: &'static str,
    label: String,
    service: bool,
}

#[derive(Template)]
#[template(path = "mall/agreements.html")]
struct AgreementsT {
    ctx: PageCtx,
    nav: MallNav,
    rows: Vec<AgreementRow>,
    can_create: bool,
    suppliers: Vec<(Uuid, String)>,
    kinds: Vec<Choice>,
    categories: Vec<CategoryBox>,
    default_from: NaiveDate,
    default_until: NaiveDate,
}

async fn agreements_page(State(state): State<Mall>, ctx: PageCtx, actor: Actor) -> AppResult<Response> {
    let list = agreements::list(&state, &actor).await?;
    let can_create = is_centre_staff(&actor);
    let suppliers = if can_create { agreements::supplier_choices(&state.db).await? } else { vec![] };
    let today = day(ctx.now);
    let t = AgreementsT {
        nav: nav(&ctx, "agreements"),
        rows: list.into_iter().map(|a| agreement_row(&ctx, a)).collect(),
        can_create,
        suppliers,
        kinds: enum_choices(&ctx, "agreementkind", AgreementKind::ALL.iter().map(|k| k.as_str())),
        categories: CATEGORIES
            .iter()
            .map(|c| CategoryBox { code: c.code, label: category_name(c.code, lang(&ctx)), service: c.service })
            .collect(),
        default_from: today,
        default_until: today.checked_add_months(chrono::Months::new(12)).and_then(|d| d.pred_opt()).unwrap_or(today),
        ctx,
    };
    Ok(render(&t))
}

async fn create_agreement(
    State(state): State<Mall>,
    actor: Actor,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    let mut fields = Fields::default();
    let kind = AgreementKind::parse(field("kind"));
    if kind.is_none() {
        fields.0.push(FieldError::new("kind", "invalid"));
    }
    let supplier = fields.uuid("supplier", field("supplier"));
    let from = fields.date("valid_from", field("valid_from"));
    let until = fields.date("valid_to", field("valid_to"));
    fields.done()?;
    let input = AgreementInput {
        title: field("title").into(),
        kind: kind.unwrap_or(AgreementKind::Goods),
        supplier,
        categories: pairs.iter().filter(|(k, _)| k == "categories").map(|(_, v)| v.clone()).collect(),
        service_area: field("service_area").into(),
        valid_from: reports::day_start(from),
        // The form names the last day in force; the agreement holds the instant it ends.
        valid_to: reports::day_start(until.succ_opt().unwrap_or(until)),
        source_tender: None,
    };
    let a = agreements::create(&state, &actor, input).await?;
    Ok(to(format!("/mall/agreements/{}", a.id), Flash::AgreementCreated))
}

#[derive(Template)]
#[template(path = "mall/agreement.html")]
struct AgreementT {
    ctx: PageCtx,
    nav: MallNav,
    row: AgreementRow,
    items: Vec<ItemRow>,
    is_centre: bool,
    categories: Vec<Choice>,
}

async fn agreement_page(State(state): State<Mall>, ctx: PageCtx, Path(id): Path<Uuid>) -> AppResult<Response> {
    let a = agreements::view(&state, ctx.user.as_ref(), id).await?;
    let items = agreements::items_of(&state, id).await?;
    let t = AgreementT {
        nav: nav(&ctx, "agreements"),
        is_centre: ctx.user.as_ref().is_some_and(is_centre_staff),
        categories: category_choices(&ctx, Some(&a.categories)),
        items: items.into_iter().map(|i| item_row(&ctx, i)).collect(),
        row: agreement_row(&ctx, a),
        ctx,
    };
    Ok(render(&t))
}

#[derive(Deserialize)]
struct ItemForm {
    category: String,
    name: String,
    brand: String,
    model: String,
    #[serde(default)]
    spec: String,
    unit: String,
    price: String,
    market_price: String,
}

async fn add_item(
    State(state): State<Mall>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Form(f): Form<ItemForm>,
) -> AppResult<Response> {
    let mut fields = Fields::default();
    let price = fields.money("price", &f.price);
    let market_price = fields.money("market_price", &f.market_price);
    fields.done()?;
    let input = ItemInput {
        category: f.category,
        name: f.name,
        brand: f.brand,
        model: f.model,
        spec: f.spec,
        unit: f.unit,
        price,
        market_price,
    };
    agreements::add_item(&state, &actor, id, input).await?;
    Ok(to(format!("/mall/agreements/{id}#items"), Flash::ItemAdded))
}

async fn suspend_agreement(
    State(state): State<Mall>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Form(f): Form<ReasonForm>,
) -> AppResult<Response> {
    agreements::set_suspended(&state, &actor, id, true, &f.reason).await?;
    Ok(to(format!("/mall/agreements/{id}"), Flash::AgreementSuspended))
}

async fn resume_agreement(State(state): State<Mall>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Response> {
    agreements::set_suspended(&state, &actor, id, false, "").await?;
    Ok(to(format!("/mall/agreements/{id}"), Flash::AgreementResumed))
}

// ---------------------------------------------------------------------------------------------
// Reports

#[derive(Template)]
#[template(path = "mall/reports.html")]
struct ReportsT {
    ctx: PageCtx,
    nav: MallNav,
    r: Report,
    group: &'static str,
    groups: Vec<Choice>,
    group_label: String,
    mall_rows: Vec<SavingsRow>,
    central_rows: Vec<SavingsRow>,
    monthly_chart: String,
    top_chart: String,
    csv_link: String,
    xlsx_link: String,
    scope: String,
    can_record: bool,
    units: Vec<(Uuid, String)>,
    categories: Vec<Choice>,
    default_awarded: String,
}

/// Category rows come labelled in Chinese; an English page shows the English names.
fn relabel(ctx: &PageCtx, group: Group, rows: &[SavingsRow]) -> Vec<SavingsRow> {
    rows.iter()
        .cloned()
        .map(|mut r| {
            if group == Group::Category
                && ctx.t.is_en()
                && let Some(c) = CATEGORIES.iter().find(|c| c.zh == r.label)
            {
                r.label = c.en.to_string();
            }
            r
        })
        .collect()
}

impl ReportsT {
    /// A rate with its per-cent sign; an empty total has no rate ("—").
    fn pct(&self, rate: &str) -> String {
        if rate.starts_with('—') { rate.to_string() } else { format!("{rate}%") }
    }
}

async fn reports_page(
    State(state): State<Mall>,
    ctx: PageCtx,
    actor: Actor,
    Query(q): Query<ReportQuery>,
) -> AppResult<Response> {
    let r = reports::report(&state, &actor, &q).await?;
    let group = r.group.as_str();
    let mall_rows = relabel(&ctx, r.group, &r.mall_rows);
    let central_rows = relabel(&ctx, r.group, &r.central_rows);
    let mut by_savings = mall_rows.clone();
    by_savings.sort_by(|a, b| b.saved.cmp(&a.saved).then(a.label.cmp(&b.label)));
    let params = format!("from={}&to={}&group={group}", r.from, r.to);
    let can_record = is_centre_staff(&actor);
    let units = if can_record { crate::tenders::service::procuring_units(&state.db).await? } else { vec![] };
    let t = ReportsT {
        nav: nav(&ctx, "reports"),
        groups: enum_choices(&ctx, "reportgroup", Group::ALL.iter().map(|g| g.as_str())),
        group_label: ctx.t.of("reportgroup", group),
        monthly_chart: chart::monthly_bars(
            &r.mall_months,
            ctx.t.get("mall.budget"),
            ctx.t.get("mall.deal"),
            ctx.t.is_en(),
        ),
        top_chart: if by_savings.is_empty() {
            String::new()
        } else {
            chart::savings_bars(&by_savings, 10, ctx.t.is_en())
        },
        csv_link: format!("/api/v1/mall/reports/savings.csv?{params}"),
        xlsx_link: format!("/api/v1/mall/reports/savings.xlsx?{params}"),
        scope: if r.scope == "all" { ctx.t.get("mall.scope_all").to_string() } else { r.scope.clone() },
        can_record,
        units,
        categories: category_choices(&ctx, None),
        default_awarded: local_input(&ctx.now),
        mall_rows,
        central_rows,
        group,
        r,
        ctx,
    };
    Ok(render(&t))
}

#[derive(Deserialize)]
struct ResultForm {
    code: String,
    title: String,
    procuring_org: String,
    category: String,
    method: String,
    budget: String,
    award: String,
    supplier_name: String,
    awarded_at: String,
}

async fn record_result(State(state): State<Mall>, actor: Actor, Form(f): Form<ResultForm>) -> AppResult<Response> {
    let mut fields = Fields::default();
    let procuring_org = fields.uuid("procuring_org", &f.procuring_org);
    let budget = fields.money("budget", &f.budget);
    let award = fields.money("award", &f.award);
    let awarded_at = fields.time("awarded_at", &f.awarded_at);
    fields.done()?;
    let input = ResultInput {
        code: f.code,
        title: f.title,
        procuring_org,
        category: f.category,
        method: f.method,
        budget,
        award,
        supplier_name: f.supplier_name,
        awarded_at,
    };
    reports::record_result(&state, &actor, input).await?;
    // Back to the report of the year the project was awarded in, up to today.
    let from = day(awarded_at).format("%Y-01-01");
    Ok(to(format!("/mall/reports?from={from}&to={}", day(state.clock.now())), Flash::ResultRecorded))
}

// ---------------------------------------------------------------------------------------------
// Price monitoring

/// A price flag with its translated kind.
pub struct FlagRow {
    f: FlagView,
    kind: String,
}

#[derive(Template)]
#[template(path = "mall/flags.html")]
struct FlagsT {
    ctx: PageCtx,
    nav: MallNav,
    rows: Vec<FlagRow>,
    all: bool,
    can_resolve: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FlagQuery {
    all: Option<bool>,
}

async fn flags_page(
    State(state): State<Mall>,
    ctx: PageCtx,
    actor: Actor,
    Query(q): Query<FlagQuery>,
) -> AppResult<Response> {
    let all = q.all.unwrap_or(false);
    let flags = agreements::flags(&state, &actor, !all).await?;
    let t = FlagsT {
        nav: nav(&ctx, "flags"),
        rows: flags.into_iter().map(|f| FlagRow { kind: ctx.t.of("flagkind", f.kind.as_str()), f }).collect(),
        all,
        can_resolve: is_centre_staff(&actor),
        ctx,
    };
    Ok(render(&t))
}

#[derive(Deserialize)]
struct NoteForm {
    #[serde(default)]
    note: String,
}

async fn resolve_flag(
    State(state): State<Mall>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Form(f): Form<NoteForm>,
) -> AppResult<Response> {
    agreements::resolve_flag(&state, &actor, id, &f.note).await?;
    Ok(to("/mall/price-flags".into(), Flash::FlagResolved))
}
