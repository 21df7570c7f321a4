//! Savings-rate accounting (节支率) of the e-mall and of centralized procurement, and the
//! supplier statistics, by period, procuring unit, category, supplier and month.
//!
//! Every amount is added up in integer fen by the database (`SUM` of `BIGINT`); rates are
//! computed from those sums in integers ([`percent`]). Periods are calendar days in China
//! Standard Time, converted to instants once, so the same query runs on SQLite and PostgreSQL
//! and uses the covering index `ix_mall_orders_report`. An e-mall order counts as a deal (成交)
//! once the supplier has confirmed it (confirmed, delivered, accepted, paid); its date is when
//! it was placed.

use super::{
    model::*,
    policy::{is_buyer, is_centre_staff, is_overseer, is_supplier},
};
use crate::{
    accounts::model::{Actor, OrgKind, SizeClass},
    bounds,
    entities::{mall_order, organisation, procurement_result},
    error::{AppError, AppResult},
    mall::Mall,
    money::{Money, Overflow},
};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// How a report is broken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// By procuring unit.
    #[default]
    Unit,
    /// By category.
    Category,
    /// By supplier.
    Supplier,
    /// By month.
    Month,
}

impl Group {
    /// Every grouping.
    pub const ALL: &'static [Group] = &[Group::Unit, Group::Category, Group::Supplier, Group::Month];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Unit => "unit",
            Group::Category => "category",
            Group::Supplier => "supplier",
            Group::Month => "month",
        }
    }
}

/// The period and breakdown asked for.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ReportQuery {
    /// First day (YYYY-MM-DD, China time); default: 1 January of this year.
    pub from: Option<String>,
    /// Last day, inclusive; default: today.
    pub to: Option<String>,
    /// Breakdown.
    pub group: Option<Group>,
}

/// One line of a report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SavingsRow {
    /// What the line is about (unit, category, supplier name or YYYY-MM).
    pub label: String,
    /// Deals or projects.
    pub count: i64,
    /// Budget and deal (or award) totals.
    pub savings: Savings,
    /// Savings.
    #[schema(value_type = i64)]
    pub saved: Money,
    /// Savings rate, per cent with two decimals.
    pub rate: String,
}

impl SavingsRow {
    fn new(label: String, t: Totals) -> Self {
        let savings = Savings { budget: t.budget, deal: t.deal };
        Self { label, count: t.count, saved: savings.saved(), rate: savings.rate_percent(2), savings }
    }
}

/// The running totals of a report line: deals (or projects) and their budget and deal (or award)
/// amounts. Every addition is checked: a total that does not fit is an error, never a wrapped,
/// negative one (amounts are bounded by [`Money::MAX`], so it takes more than 9,000 amounts at
/// the bound to get there).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Totals {
    count: i64,
    budget: Money,
    deal: Money,
}

impl Totals {
    fn add(&mut self, other: Totals) -> Result<(), Overflow> {
        self.count = self.count.checked_add(other.count).ok_or(Overflow)?;
        self.budget = self.budget.checked_add(other.budget).ok_or(Overflow)?;
        self.deal = self.deal.checked_add(other.deal).ok_or(Overflow)?;
        Ok(())
    }
}

/// Supplier statistics of the period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SupplierStats {
    /// Suppliers admitted (registration approved) in the period.
    pub new: u64,
    /// Of which small, medium or micro enterprises (中小微企业).
    pub new_sme: u64,
    /// Their share, per cent with two decimals.
    pub new_sme_percent: String,
    /// Suppliers admitted by the end of the period.
    pub total: u64,
}

/// A savings report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
    /// Breakdown.
    pub group: Group,
    /// Whose orders: all, or the viewer's organisation only.
    pub scope: String,
    /// E-mall totals.
    pub mall_total: SavingsRow,
    /// E-mall by the breakdown, largest budget first.
    pub mall_rows: Vec<SavingsRow>,
    /// E-mall by month (for the chart).
    pub mall_months: Vec<SavingsRow>,
    /// Centralized procurement totals (projects awarded in the period).
    pub central_total: SavingsRow,
    /// Centralized procurement by the breakdown (supplier: by winning supplier).
    pub central_rows: Vec<SavingsRow>,
    /// Supplier statistics (all suppliers; shown to the centre and supervisors).
    pub suppliers: Option<SupplierStats>,
}

fn parse_day(name: &'static str, v: &Option<String>) -> AppResult<Option<NaiveDate>> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => {
            let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| AppError::invalid_field(name, "invalid"))?;
            bounds::day(name, d).map(Some)
        }
    }
}

/// The instant a China-time day starts.
pub fn day_start(d: NaiveDate) -> DateTime<Utc> {
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    crate::web::cst().from_local_datetime(&naive).single().map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

/// The period asked for, as days and as instants `[start, end)`.
pub fn period(q: &ReportQuery, now: DateTime<Utc>) -> AppResult<(NaiveDate, NaiveDate)> {
    let today = now.with_timezone(&crate::web::cst()).date_naive();
    let from =
        parse_day("from", &q.from)?.unwrap_or_else(|| NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today));
    let to = parse_day("to", &q.to)?.unwrap_or(today);
    if to < from {
        return Err(AppError::invalid_field("to", "before_start"));
    }
    if (to - from).num_days() > 366 * 10 {
        return Err(AppError::invalid_field("to", "too_long"));
    }
    Ok((from, to))
}

/// Whose orders the actor's report covers: `None` for everything.
fn scope_of(actor: &Actor) -> AppResult<Option<(bool, crate::ids::OrgId)>> {
    if is_centre_staff(actor) || is_overseer(actor) {
        Ok(None)
    } else if is_buyer(actor) {
        Ok(Some((false, actor.org_id)))
    } else if is_supplier(actor) {
        Ok(Some((true, actor.org_id)))
    } else {
        Err(AppError::forbidden())
    }
}

/// The months of the period, each as (label, start, end).
fn months(from: NaiveDate, to: NaiveDate) -> Vec<(String, DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    let mut m = NaiveDate::from_ymd_opt(from.year(), from.month(), 1).unwrap_or(from);
    let end = to.succ_opt().unwrap_or(to);
    while m < end {
        let next = m.checked_add_months(chrono::Months::new(1)).unwrap_or(end);
        let start = day_start(m.max(from));
        let stop = day_start(next.min(end));
        out.push((m.format("%Y-%m").to_string(), start, stop));
        m = next;
    }
    out
}

fn deal_condition(start: DateTime<Utc>, end: DateTime<Utc>, scope: Option<(bool, crate::ids::OrgId)>) -> Condition {
    let mut c = Condition::all()
        .add(mall_order::Column::PlacedAt.gte(start))
        .add(mall_order::Column::PlacedAt.lt(end))
        .add(mall_order::Column::Status.is_in(DEAL_STATUSES.iter().copied()));
    match scope {
        Some((true, org)) => c = c.add(mall_order::Column::SupplierOrgId.eq(org)),
        Some((false, org)) => c = c.add(mall_order::Column::ProcuringOrgId.eq(org)),
        None => {}
    }
    c
}

/// One read of the period's deals, grouped by the breakdown's key and by month at once:
/// `(key, month index, totals)`. The month is a `CASE` over the month boundaries (bound values,
/// so China-time months come out right on either database). PostgreSQL sums `bigint` as
/// `numeric`, hence the casts. A `SUM` that did not fit a `BIGINT` would be an error on both
/// databases, never a wrapped value; with every amount at most [`Money::MAX`] and an order at
/// most the small-purchase ceiling, a group would need thousands of millions of orders for it.
async fn mall_pass(
    db: &DatabaseConnection,
    cond: Condition,
    group: Group,
    month_ends: &[DateTime<Utc>],
) -> AppResult<Vec<(String, usize, Totals)>> {
    let mut case = sea_orm::sea_query::CaseStatement::new();
    for (i, end) in month_ends.iter().enumerate() {
        case = case.case(mall_order::Column::PlacedAt.lt(*end), Expr::val(i as i32));
    }
    let month = Expr::Case(Box::new(case.finally(Expr::val(0i32))));
    // Grouping by `org + 0` rather than by the column keeps SQLite from walking the (org,
    // placed_at) index to avoid a sort, which reads every row from the table; this way the
    // period is read from the covering report index.
    let key = match group {
        Group::Unit | Group::Month => "procuring_org_id + 0",
        Group::Supplier => "supplier_org_id + 0",
        Group::Category => "category",
    };
    let q = mall_order::Entity::find()
        .select_only()
        .filter(cond)
        .column_as(month, "m")
        .column_as(Expr::cust("COUNT(*)"), "n")
        .column_as(Expr::cust("CAST(SUM(budget_fen) AS BIGINT)"), "b")
        .column_as(Expr::cust("CAST(SUM(amount_fen) AS BIGINT)"), "d");
    if group == Group::Category {
        let rows = q
            .column_as(Expr::cust(key), "k")
            .group_by(Expr::cust("1"))
            .group_by(Expr::cust("5"))
            .into_tuple::<(i32, i64, Option<i64>, Option<i64>, String)>()
            .all(db)
            .await?;
        return Ok(rows.into_iter().map(|(m, n, b, d, k)| (k, m.max(0) as usize, totals(n, b, d))).collect());
    }
    let q = if group == Group::Month {
        q.column_as(Expr::cust("CAST(0 AS BIGINT)"), "k")
    } else {
        q.column_as(Expr::cust(key), "k")
    };
    let rows = q
        .group_by(Expr::cust("1"))
        .group_by(Expr::cust("5"))
        .into_tuple::<(i32, i64, Option<i64>, Option<i64>, i64)>()
        .all(db)
        .await?;
    let names = if group == Group::Month {
        Default::default()
    } else {
        super::org_map(db, rows.iter().map(|r| crate::ids::OrgId(r.4))).await?
    };
    Ok(rows
        .into_iter()
        .map(|(m, n, b, d, k)| {
            (
                names.get(&crate::ids::OrgId(k)).map(|o| o.name.clone()).unwrap_or_default(),
                m.max(0) as usize,
                totals(n, b, d),
            )
        })
        .collect())
}

/// The totals of one group read by [`mall_pass`].
fn totals(count: i64, budget: Option<i64>, deal: Option<i64>) -> Totals {
    Totals { count, budget: Money::from_fen(budget.unwrap_or(0)), deal: Money::from_fen(deal.unwrap_or(0)) }
}

async fn central(
    db: &DatabaseConnection,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    group: Group,
    scope: Option<(bool, crate::ids::OrgId)>,
) -> AppResult<(SavingsRow, Vec<SavingsRow>)> {
    // Centralized procurement results are the centre's; a unit sees its own, a supplier none.
    let mut q = procurement_result::Entity::find()
        .filter(procurement_result::Column::AwardedAt.gte(start))
        .filter(procurement_result::Column::AwardedAt.lt(end));
    match scope {
        Some((true, _)) => return Ok((SavingsRow::new(String::new(), Totals::default()), vec![])),
        Some((false, org)) => q = q.filter(procurement_result::Column::ProcuringOrgId.eq(org)),
        None => {}
    }
    let rows = q.all(db).await?;
    let names = super::org_map(db, rows.iter().map(|r| r.procuring_org_id)).await?;
    let mut groups: std::collections::BTreeMap<String, Totals> = Default::default();
    let mut total = Totals::default();
    for r in &rows {
        let one = Totals { count: 1, budget: r.budget_fen, deal: r.award_fen };
        total.add(one)?;
        let key = match group {
            Group::Unit => names.get(&r.procuring_org_id).map(|o| o.name.clone()).unwrap_or_default(),
            Group::Category => r.category.clone(),
            Group::Supplier => r.supplier_name.clone(),
            Group::Month => r.awarded_at.with_timezone(&crate::web::cst()).format("%Y-%m").to_string(),
        };
        groups.entry(key).or_default().add(one)?;
    }
    let mut rows: Vec<SavingsRow> = groups.into_iter().map(|(k, t)| SavingsRow::new(k, t)).collect();
    if group != Group::Month {
        rows.sort_by(|x, y| y.savings.budget.cmp(&x.savings.budget).then(x.label.cmp(&y.label)));
    }
    Ok((SavingsRow::new(String::new(), total), rows))
}

/// Supplier statistics: admitted in the period, of which SMEs, and admitted by its end.
pub async fn supplier_stats(
    db: &DatabaseConnection,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> AppResult<SupplierStats> {
    let suppliers = || {
        organisation::Entity::find()
            .filter(organisation::Column::Kind.eq(OrgKind::Supplier))
            .filter(organisation::Column::ApprovedAt.is_not_null())
    };
    let in_period = || {
        suppliers().filter(organisation::Column::ApprovedAt.gte(start)).filter(organisation::Column::ApprovedAt.lt(end))
    };
    let new = in_period().count(db).await?;
    let sme = [SizeClass::Medium, SizeClass::Small, SizeClass::Micro];
    let new_sme = in_period().filter(organisation::Column::SizeClass.is_in(sme)).count(db).await?;
    let total = suppliers().filter(organisation::Column::ApprovedAt.lt(end)).count(db).await?;
    Ok(SupplierStats { new, new_sme, new_sme_percent: percent(new_sme as i128, new as i128, 2), total })
}

/// The savings report for the actor: everything for the centre and supervisors, the viewer's
/// own orders for a unit or a supplier.
pub async fn report(state: &Mall, actor: &Actor, q: &ReportQuery) -> AppResult<Report> {
    let scope = scope_of(actor)?;
    let (from, to) = period(q, state.clock.now())?;
    let group = q.group.unwrap_or_default();
    let (start, end) = (day_start(from), day_start(to.succ_opt().unwrap_or(to)));
    let db = &state.db;
    let month_ranges = months(from, to);
    let ends: Vec<DateTime<Utc>> = month_ranges.iter().map(|m| m.2).collect();
    let rows = mall_pass(db, deal_condition(start, end, scope), group, &ends).await?;
    let mut per_month = vec![Totals::default(); month_ranges.len()];
    let mut per_key: std::collections::HashMap<String, Totals> = Default::default();
    let mut total = Totals::default();
    for (k, m, t) in rows {
        if let Some(e) = per_month.get_mut(m) {
            e.add(t)?;
        }
        per_key.entry(k).or_default().add(t)?;
        total.add(t)?;
    }
    let mall_months: Vec<SavingsRow> =
        month_ranges.iter().zip(per_month).map(|((label, _, _), t)| SavingsRow::new(label.clone(), t)).collect();
    let mall_total = SavingsRow::new(String::new(), total);
    let mut mall_rows: Vec<SavingsRow> = if group == Group::Month {
        mall_months.clone()
    } else {
        per_key
            .into_iter()
            .map(|(k, t)| {
                let label = if group == Group::Category { category_name(&k, "zh") } else { k };
                SavingsRow::new(label, t)
            })
            .collect()
    };
    if group != Group::Month {
        mall_rows.sort_by(|x, y| y.savings.budget.cmp(&x.savings.budget).then(x.label.cmp(&y.label)));
    }
    let (central_total, mut central_rows) = central(db, start, end, group, scope).await?;
    if group == Group::Category {
        for r in &mut central_rows {
            r.label = category_name(&r.label, "zh");
        }
    }
    let suppliers = if scope.is_none() { Some(supplier_stats(db, start, end).await?) } else { None };
    Ok(Report {
        from,
        to,
        group,
        scope: match scope {
            None => "all".into(),
            Some(_) => actor.org_name.clone(),
        },
        mall_total,
        mall_rows,
        mall_months,
        central_total,
        central_rows,
        suppliers,
    })
}

/// A centralized procurement result as the centre records it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ResultInput {
    /// Project code (项目编号), unique.
    pub code: String,
    /// Project title.
    pub title: String,
    /// The procuring unit (public id).
    pub procuring_org: uuid::Uuid,
    /// Category code.
    pub category: String,
    /// Procurement method (公开招标, 竞争性谈判 ...).
    pub method: String,
    /// Budget, fen.
    #[schema(value_type = i64)]
    pub budget: Money,
    /// Award amount, fen.
    #[schema(value_type = i64)]
    pub award: Money,
    /// Winning supplier's name.
    pub supplier_name: String,
    /// When awarded.
    pub awarded_at: DateTime<Utc>,
}

/// Records the result of a centralized procurement project (a tender run elsewhere or before
/// the platform); tenders awarded on the platform are recorded by the award itself.
pub async fn record_result(state: &Mall, actor: &Actor, input: ResultInput) -> AppResult<uuid::Uuid> {
    use sea_orm::{ActiveModelTrait, Set};
    if !is_centre_staff(actor) {
        return Err(AppError::forbidden_because("centre_only", "only the centre records procurement results"));
    }
    let mut fields = Vec::new();
    for (name, v, max) in [
        ("code", &input.code, 60),
        ("title", &input.title, 200),
        ("method", &input.method, 60),
        ("supplier_name", &input.supplier_name, 200),
    ] {
        crate::error::check_text(&mut fields, name, v, 1, max);
    }
    if category(&input.category).is_none() {
        fields.push(crate::error::FieldError::new("category", "unknown"));
    }
    bounds::check_amount(&mut fields, "budget", input.budget);
    bounds::check_amount(&mut fields, "award", input.award);
    bounds::check_time(&mut fields, "awarded_at", input.awarded_at);
    if input.awarded_at > state.clock.now() {
        fields.push(crate::error::FieldError::new("awarded_at", "in_future"));
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let now = state.clock.now();
    let mut txn = state.writer.begin_at(now).await?;
    let unit = organisation::Entity::find()
        .filter(organisation::Column::PublicId.eq(input.procuring_org))
        .one(&txn)
        .await?
        .filter(|o| o.kind == OrgKind::ProcuringUnit)
        .ok_or_else(|| AppError::invalid_field("procuring_org", "unknown"))?;
    if procurement_result::Entity::find()
        .filter(procurement_result::Column::Code.eq(input.code.trim()))
        .count(&txn)
        .await?
        > 0
    {
        return Err(AppError::conflict("code_taken", "a result with this project code is already recorded")
            .with_field("code", "taken"));
    }
    let r = procurement_result::ActiveModel {
        public_id: Set(uuid::Uuid::new_v4()),
        code: Set(input.code.trim().into()),
        title: Set(input.title.trim().into()),
        procuring_org_id: Set(unit.id),
        category: Set(input.category.clone()),
        method: Set(input.method.trim().into()),
        budget_fen: Set(input.budget),
        award_fen: Set(input.award),
        supplier_name: Set(input.supplier_name.trim().into()),
        awarded_at: Set(input.awarded_at),
        tender_id: Set(None),
        recorded_by: Set(actor.user_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let details = serde_json::json!({"code": r.code, "budget_fen": r.budget_fen, "award_fen": r.award_fen, "awarded_at": r.awarded_at});
    txn.record(
        &actor.audit(),
        crate::audit::AuditEntry::new(crate::audit::Action::ProcurementResultRecord, r.public_id, details),
    )
    .await?;
    txn.commit().await?;
    Ok(r.public_id)
}
