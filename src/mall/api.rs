//! E-mall endpoints of the JSON API. Handlers only read the request and call the services.

use super::{
    agreements::{self, AgreementInput, ItemInput, PriceInput},
    catalogue::{self, CataloguePage, CatalogueQuery},
    export,
    model::*,
    orders::{self, DirectPurchase, OrderFilter, OrderPage, StepInput},
    quotations::{self, QuotationInput, QuoteInput},
    reports::{self, Report, ReportQuery, ResultInput},
};
use crate::{
    accounts::model::Actor,
    error::{AppResult, ErrorBody},
    mall::Mall,
    web::{
        Site,
        extract::{Json, Path, Query},
        page::ReaderLang,
    },
};
use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

/// Routes of this module under `/api/v1`.
pub fn api_routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    super::Mall: axum::extract::FromRef<S>,
    crate::web::Site: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(item))
        .routes(routes!(set_price))
        .routes(routes!(list_agreements, create_agreement))
        .routes(routes!(agreement))
        .routes(routes!(add_item))
        .routes(routes!(suspend))
        .routes(routes!(resume))
        .routes(routes!(list_orders, direct_purchase))
        .routes(routes!(order))
        .routes(routes!(order_step))
        .routes(routes!(list_quotations, create_quotation))
        .routes(routes!(quotation))
        .routes(routes!(submit_quote))
        .routes(routes!(cancel_quotation))
        .routes(routes!(price_flags))
        .routes(routes!(resolve_flag))
        .routes(routes!(report))
        .routes(routes!(report_csv))
        .routes(routes!(report_xlsx))
        .routes(routes!(record_result))
}

/// A created object.
#[derive(Serialize, ToSchema)]
pub struct Created {
    /// Its public id.
    pub id: Uuid,
}

/// Searches the catalogue (no login needed).
#[utoipa::path(get, path = "/api/v1/mall/items", tag = "mall", params(CatalogueQuery),
    responses((status = 200, body = CataloguePage), (status = 422, description = "validation_failed: category unknown; size, min_price, max_price invalid; page out_of_range", body = ErrorBody)))]
async fn search(State(state): State<Mall>, Query(q): Query<CatalogueQuery>) -> AppResult<Json<CataloguePage>> {
    Ok(Json(catalogue::search(&state, &q).await?))
}

/// An item with its price history.
#[derive(Serialize, ToSchema)]
pub struct ItemDetail {
    /// The item.
    pub item: ItemView,
    /// Its agreement prices, oldest first.
    pub history: Vec<PricePoint>,
}

/// One catalogue item with its price history (no login needed).
#[utoipa::path(get, path = "/api/v1/mall/items/{id}", tag = "mall", params(("id" = Uuid, Path, description = "the item's public id")),
    responses((status = 200, body = ItemDetail), (status = 404, description = "not_found", body = ErrorBody)))]
async fn item(State(state): State<Mall>, Path(id): Path<Uuid>) -> AppResult<Json<ItemDetail>> {
    let item = agreements::item_view(&state, id).await?;
    let history = agreements::price_history(&state, id).await?;
    Ok(Json(ItemDetail { item, history }))
}

/// Changes an item's agreement price (the centre or the item's supplier); flagged if above the
/// market reference or raised by more than the configured share.
#[utoipa::path(put, path = "/api/v1/mall/items/{id}/price", tag = "mall", params(("id" = Uuid, Path, description = "the item's public id")),
    request_body = PriceInput,
    responses(
        (status = 200, body = ItemView),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden / not_your_item", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 422, description = "validation_failed: price, market_price not_positive or too_large", body = ErrorBody)
    ))]
async fn set_price(
    State(state): State<Mall>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<PriceInput>,
) -> AppResult<Json<ItemView>> {
    Ok(Json(agreements::set_price(&state, &actor, id, input).await?))
}

/// Framework agreements (a supplier sees its own).
#[utoipa::path(get, path = "/api/v1/mall/agreements", tag = "mall", responses((status = 200, body = Vec<AgreementView>), (status = 401, description = "login_required", body = ErrorBody)))]
async fn list_agreements(State(state): State<Mall>, actor: Actor) -> AppResult<Json<Vec<AgreementView>>> {
    Ok(Json(agreements::list(&state, &actor).await?))
}

/// Sets up a framework agreement (the centre's staff).
#[utoipa::path(post, path = "/api/v1/mall/agreements", tag = "mall", request_body = AgreementInput,
    responses(
        (status = 201, body = AgreementView),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "centre_only", body = ErrorBody),
        (status = 422, description = "supplier_not_admitted; validation_failed", body = ErrorBody)
    ))]
async fn create_agreement(
    State(state): State<Mall>,
    actor: Actor,
    Json(input): Json<AgreementInput>,
) -> AppResult<(StatusCode, Json<AgreementView>)> {
    Ok((StatusCode::CREATED, Json(agreements::create(&state, &actor, input).await?)))
}

/// An agreement with its items.
#[derive(Serialize, ToSchema)]
pub struct AgreementDetail {
    /// The agreement.
    pub agreement: AgreementView,
    /// Its items.
    pub items: Vec<ItemView>,
}

/// One agreement and its items (no login needed).
#[utoipa::path(get, path = "/api/v1/mall/agreements/{id}", tag = "mall", params(("id" = Uuid, Path, description = "the agreement's public id")),
    responses((status = 200, body = AgreementDetail), (status = 404, description = "not_found", body = ErrorBody)))]
async fn agreement(
    State(state): State<Mall>,
    actor: crate::web::auth::MaybeActor,
    Path(id): Path<Uuid>,
) -> AppResult<Json<AgreementDetail>> {
    let agreement = agreements::view(&state, actor.0.as_ref(), id).await?;
    let items = agreements::items_of(&state, id).await?;
    Ok(Json(AgreementDetail { agreement, items }))
}

/// Adds a catalogue item to an agreement (the centre's staff).
#[utoipa::path(post, path = "/api/v1/mall/agreements/{id}/items", tag = "mall", params(("id" = Uuid, Path, description = "the agreement's public id")),
    request_body = ItemInput,
    responses(
        (status = 201, body = ItemView),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "centre_only", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 422, description = "validation_failed: category not_in_agreement, price, market_price...", body = ErrorBody)
    ))]
async fn add_item(
    State(state): State<Mall>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<ItemInput>,
) -> AppResult<(StatusCode, Json<ItemView>)> {
    Ok((StatusCode::CREATED, Json(agreements::add_item(&state, &actor, id, input).await?)))
}

/// A reason.
#[derive(Deserialize, ToSchema)]
pub struct ReasonInput {
    /// Why.
    #[serde(default)]
    pub reason: String,
}

/// Suspends an agreement: it sells nothing until resumed (the centre's staff).
#[utoipa::path(post, path = "/api/v1/mall/agreements/{id}/suspend", tag = "mall", params(("id" = Uuid, Path, description = "the agreement's public id")),
    request_body = ReasonInput,
    responses(
        (status = 204, description = "suspended"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "centre_only", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state: already suspended", body = ErrorBody),
        (status = 422, description = "validation_failed: reason", body = ErrorBody)
    ))]
async fn suspend(
    State(state): State<Mall>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<ReasonInput>,
) -> AppResult<StatusCode> {
    agreements::set_suspended(&state, &actor, id, true, &input.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Resumes a suspended agreement (the centre's staff).
#[utoipa::path(post, path = "/api/v1/mall/agreements/{id}/resume", tag = "mall",
    params(("id" = Uuid, Path, description = "the agreement's public id")),
    responses(
        (status = 204, description = "resumed"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "centre_only", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state: not suspended", body = ErrorBody)
    ))]
async fn resume(State(state): State<Mall>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<StatusCode> {
    agreements::set_suspended(&state, &actor, id, false, "").await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's orders.
#[utoipa::path(get, path = "/api/v1/mall/orders", tag = "mall", params(OrderFilter), responses(
        (status = 200, body = OrderPage),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 422, description = "validation_failed: status invalid, page out_of_range", body = ErrorBody)
    ))]
async fn list_orders(
    State(state): State<Mall>,
    actor: Actor,
    Query(f): Query<OrderFilter>,
) -> AppResult<Json<OrderPage>> {
    Ok(Json(orders::list(&state, &actor, &f).await?))
}

/// Places a direct purchase (procuring unit staff).
#[utoipa::path(post, path = "/api/v1/mall/orders", tag = "mall", request_body = DirectPurchase,
    responses(
        (status = 201, body = OrderView),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "buyers_only", body = ErrorBody),
        (status = 422, description = "above_agreement_price / over_budget / over_direct_purchase_limit / over_small_purchase_ceiling / one_supplier_per_order / agreement_suspended / agreement_expired / agreement_not_in_force; validation_failed", body = ErrorBody)
    ))]
async fn direct_purchase(
    State(state): State<Mall>,
    actor: Actor,
    Json(input): Json<DirectPurchase>,
) -> AppResult<(StatusCode, Json<OrderView>)> {
    Ok((StatusCode::CREATED, Json(orders::direct_purchase(&state, &actor, input).await?)))
}

/// One order (its parties, the centre and supervisors).
#[utoipa::path(get, path = "/api/v1/mall/orders/{id}", tag = "mall", params(("id" = Uuid, Path, description = "the order's public id")),
    responses(
        (status = 200, body = OrderView),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody)
    ))]
async fn order(State(state): State<Mall>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Json<OrderView>> {
    Ok(Json(orders::view(&state, &actor, id).await?))
}

/// Takes a step on an order.
#[utoipa::path(post, path = "/api/v1/mall/orders/{id}/steps", tag = "mall", params(("id" = Uuid, Path, description = "the order's public id")),
    request_body = StepInput,
    responses(
        (status = 200, body = OrderView),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "not_your_step / not_a_party", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state", body = ErrorBody),
        (status = 422, description = "validation_failed: note, inspector", body = ErrorBody)
    ))]
async fn order_step(
    State(state): State<Mall>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<StepInput>,
) -> AppResult<Json<OrderView>> {
    Ok(Json(orders::step(&state, &actor, id, input).await?))
}

/// The caller's quotations.
#[utoipa::path(get, path = "/api/v1/mall/quotations", tag = "mall", responses((status = 200, body = Vec<QuotationView>), (status = 401, description = "login_required", body = ErrorBody)))]
async fn list_quotations(State(state): State<Mall>, actor: Actor) -> AppResult<Json<Vec<QuotationView>>> {
    Ok(Json(quotations::list(&state, &actor).await?))
}

/// Starts a competitive quotation (procuring unit staff).
#[utoipa::path(post, path = "/api/v1/mall/quotations", tag = "mall", request_body = QuotationInput,
    responses(
        (status = 201, body = QuotationView),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "buyers_only", body = ErrorBody),
        (status = 422, description = "over_small_purchase_ceiling; validation_failed", body = ErrorBody)
    ))]
async fn create_quotation(
    State(state): State<Mall>,
    actor: Actor,
    Json(input): Json<QuotationInput>,
) -> AppResult<(StatusCode, Json<QuotationView>)> {
    Ok((StatusCode::CREATED, Json(quotations::create(&state, &actor, input).await?)))
}

/// One quotation (quotes are shown after it closes).
#[utoipa::path(get, path = "/api/v1/mall/quotations/{id}", tag = "mall", params(("id" = Uuid, Path, description = "the quotation's public id")),
    responses(
        (status = 200, body = QuotationView),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody)
    ))]
async fn quotation(State(state): State<Mall>, actor: Actor, Path(id): Path<Uuid>) -> AppResult<Json<QuotationView>> {
    Ok(Json(quotations::view(&state, &actor, id).await?))
}

/// Quotes, or replaces the caller's quote (suppliers with an agreement in the category).
#[utoipa::path(put, path = "/api/v1/mall/quotations/{id}/quote", tag = "mall", params(("id" = Uuid, Path, description = "the quotation's public id")),
    request_body = QuoteInput,
    responses(
        (status = 200, body = QuotationView),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "suppliers_only / no_agreement_in_category", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 422, description = "quotation_closed / quote_over_budget; validation_failed", body = ErrorBody)
    ))]
async fn submit_quote(
    State(state): State<Mall>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<QuoteInput>,
) -> AppResult<Json<QuotationView>> {
    Ok(Json(quotations::quote(&state, &actor, id, input).await?))
}

/// Cancels an open quotation (its unit).
#[utoipa::path(post, path = "/api/v1/mall/quotations/{id}/cancel", tag = "mall", params(("id" = Uuid, Path, description = "the quotation's public id")),
    request_body = ReasonInput,
    responses(
        (status = 200, body = QuotationView),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "wrong_state: the quotation is closed", body = ErrorBody),
        (status = 422, description = "validation_failed: reason", body = ErrorBody)
    ))]
async fn cancel_quotation(
    State(state): State<Mall>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<ReasonInput>,
) -> AppResult<Json<QuotationView>> {
    Ok(Json(quotations::cancel(&state, &actor, id, &input.reason).await?))
}

/// Which flags.
#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlagFilter {
    /// Include resolved flags.
    #[serde(default)]
    pub all: bool,
}

/// Price flags (the centre and supervisors).
#[utoipa::path(get, path = "/api/v1/mall/price-flags", tag = "mall", params(FlagFilter), responses(
        (status = 200, body = Vec<FlagView>),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "centre_only", body = ErrorBody)
    ))]
async fn price_flags(
    State(state): State<Mall>,
    actor: Actor,
    Query(f): Query<FlagFilter>,
) -> AppResult<Json<Vec<FlagView>>> {
    Ok(Json(agreements::flags(&state, &actor, !f.all).await?))
}

/// A note.
#[derive(Deserialize, ToSchema)]
pub struct NoteInput {
    /// The note.
    #[serde(default)]
    pub note: String,
}

/// Resolves a price flag (the centre's staff).
#[utoipa::path(post, path = "/api/v1/mall/price-flags/{id}/resolve", tag = "mall", params(("id" = Uuid, Path, description = "the price flag's public id")),
    request_body = NoteInput,
    responses(
        (status = 204, description = "resolved"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "centre_only", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "already_resolved", body = ErrorBody),
        (status = 422, description = "validation_failed: note", body = ErrorBody)
    ))]
async fn resolve_flag(
    State(state): State<Mall>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(input): Json<NoteInput>,
) -> AppResult<StatusCode> {
    agreements::resolve_flag(&state, &actor, id, &input.note).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The savings report (everything for the centre and supervisors; own orders for others).
#[utoipa::path(get, path = "/api/v1/mall/reports/savings", tag = "mall", params(ReportQuery), responses(
        (status = 200, body = Report),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 422, description = "validation_failed: from, to invalid, out_of_range, before_start or too_long", body = ErrorBody)
    ))]
async fn report(State(state): State<Mall>, actor: Actor, Query(q): Query<ReportQuery>) -> AppResult<Json<Report>> {
    Ok(Json(reports::report(&state, &actor, &q).await?))
}

fn download(bytes: Vec<u8>, content_type: &'static str, name: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response()
}

/// The savings report as CSV.
#[utoipa::path(get, path = "/api/v1/mall/reports/savings.csv", tag = "mall", params(ReportQuery), responses(
        (status = 200, description = "the report", content_type = "text/csv"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 422, description = "validation_failed: from, to", body = ErrorBody)
    ))]
async fn report_csv(
    State(state): State<Mall>,
    State(site): State<Site>,
    ReaderLang(lang): ReaderLang,
    actor: Actor,
    Query(q): Query<ReportQuery>,
) -> AppResult<Response> {
    report_file(&state, &site, lang, &actor, &q, Export::Csv).await
}

/// The savings report as an XLSX workbook.
#[utoipa::path(get, path = "/api/v1/mall/reports/savings.xlsx", tag = "mall", params(ReportQuery),
    responses(
        (status = 200, description = "the report", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 422, description = "validation_failed: from, to", body = ErrorBody)
    ))]
async fn report_xlsx(
    State(state): State<Mall>,
    State(site): State<Site>,
    ReaderLang(lang): ReaderLang,
    actor: Actor,
    Query(q): Query<ReportQuery>,
) -> AppResult<Response> {
    report_file(&state, &site, lang, &actor, &q, Export::Xlsx).await
}

/// A file format of the savings report.
#[derive(Clone, Copy)]
enum Export {
    Csv,
    Xlsx,
}

/// The savings report for `actor` as a download in `format`, its headers in `lang`.
async fn report_file(
    state: &Mall,
    site: &Site,
    lang: crate::web::i18n::Lang,
    actor: &Actor,
    q: &ReportQuery,
    format: Export,
) -> AppResult<Response> {
    let r = reports::report(state, actor, q).await?;
    let (bytes, content_type, ext) = match format {
        Export::Csv => (export::csv(&r, &site.i18n, lang)?, "text/csv; charset=utf-8", "csv"),
        Export::Xlsx => (
            export::xlsx(&r, &site.i18n, lang)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    Ok(download(bytes, content_type, format!("savings-{}-{}.{ext}", r.from, r.to)))
}

/// Records a centralized procurement result (the centre's staff).
#[utoipa::path(post, path = "/api/v1/procurement/results", tag = "mall", request_body = ResultInput,
    responses(
        (status = 201, body = Created),
        (status = 401, description = "login_required", body = ErrorBody),
        (status = 403, description = "centre_only", body = ErrorBody),
        (status = 409, description = "code_taken", body = ErrorBody),
        (status = 422, description = "validation_failed", body = ErrorBody)
    ))]
async fn record_result(
    State(state): State<Mall>,
    actor: Actor,
    Json(input): Json<ResultInput>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let id = reports::record_result(&state, &actor, input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}
