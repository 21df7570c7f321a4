//! E-mall types: categories, the order and quotation state machines, and the views handed to
//! pages and the API.

use crate::{accounts::model::string_enum, money::Money};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A catalogue category: code, Chinese and English name, and whether it is a service (定点服务).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Category {
    /// Stored code.
    pub code: &'static str,
    /// Chinese name.
    pub zh: &'static str,
    /// English name.
    pub en: &'static str,
    /// Bought under a service agreement (定点服务) rather than a goods agreement (协议供货).
    pub service: bool,
}

/// The categories of the catalogue.
pub const CATEGORIES: &[Category] = &[
    Category { code: "computers", zh: "计算机设备", en: "Computers", service: false },
    Category { code: "printers", zh: "打印及复印设备", en: "Printers and copiers", service: false },
    Category { code: "consumables", zh: "硒鼓墨盒耗材", en: "Toner and ink", service: false },
    Category { code: "paper", zh: "纸张", en: "Paper", service: false },
    Category { code: "office_supplies", zh: "办公用品", en: "Office supplies", service: false },
    Category { code: "furniture", zh: "办公家具", en: "Office furniture", service: false },
    Category { code: "appliances", zh: "空调及电器", en: "Air conditioners and appliances", service: false },
    Category { code: "av_equipment", zh: "视听设备", en: "Audio-visual equipment", service: false },
    Category { code: "network", zh: "网络设备", en: "Network equipment", service: false },
    Category { code: "printing_services", zh: "印刷服务", en: "Printing services", service: true },
    Category { code: "vehicle_repair", zh: "车辆维修保养", en: "Vehicle repair", service: true },
    Category { code: "conference_services", zh: "会议服务", en: "Conference services", service: true },
];

/// The category with this code.
pub fn category(code: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.code == code)
}

/// A category's name in the language (`zh` or `en`); the code itself if unknown.
pub fn category_name(code: &str, lang: &str) -> String {
    match category(code) {
        Some(c) if lang == "en" => c.en.to_string(),
        Some(c) => c.zh.to_string(),
        None => code.to_string(),
    }
}

string_enum! {
    /// 协议供货 (goods) or 定点服务 (services).
    AgreementKind stored in crate::entities::mall_agreement::Entity {
        /// 协议供货.
        Goods = "goods",
        /// 定点服务.
        Services = "services",
    }
}

string_enum! {
    /// Whether an agreement sells.
    AgreementStatus stored in crate::entities::mall_agreement::Entity {
        /// In force (it sells between its validity dates).
        Active = "active",
        /// Suspended by the centre, with a reason; sells nothing until resumed.
        Suspended = "suspended",
    }
}

string_enum! {
    /// How an order came about.
    OrderKind stored in crate::entities::mall_order::Entity {
        /// 直购: bought from the catalogue at or below the agreement price.
        Direct = "direct",
        /// 竞价: the winning quote of a competitive quotation.
        Quotation = "quotation",
        /// An order of the past, entered in bulk by the centre.
        Recorded = "recorded",
    }
}

string_enum! {
    /// Where an order is.
    OrderStatus stored in crate::entities::mall_order::Entity, crate::entities::mall_order_step::Entity {
        /// 已提交: waiting for the supplier.
        Submitted = "submitted",
        /// 待调整: the supplier asked the unit to change something.
        AdjustmentRequested = "adjustment_requested",
        /// 已确认: the supplier accepted the order (a deal).
        Confirmed = "confirmed",
        /// 已拒绝 by the supplier, with a reason.
        Rejected = "rejected",
        /// 已发货/已履约.
        Delivered = "delivered",
        /// 已验收, with an acceptance record.
        Accepted = "accepted",
        /// 已付款.
        Paid = "paid",
        /// 已取消 before delivery, with a reason.
        Cancelled = "cancelled",
    }
}

/// The statuses in which an order is a deal (成交) and counts in the savings reports.
pub const DEAL_STATUSES: &[OrderStatus] =
    &[OrderStatus::Confirmed, OrderStatus::Delivered, OrderStatus::Accepted, OrderStatus::Paid];

impl OrderStatus {
    /// Whether the state machine allows moving from `self` to `to`.
    pub fn can_become(self, to: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, to),
            (Submitted, Confirmed)
                | (Submitted, AdjustmentRequested)
                | (Submitted, Rejected)
                | (Submitted, Cancelled)
                | (AdjustmentRequested, Submitted)
                | (AdjustmentRequested, Cancelled)
                | (Confirmed, Delivered)
                | (Confirmed, Cancelled)
                | (Delivered, Accepted)
                | (Accepted, Paid)
        )
    }
}

string_enum! {
    /// What a party does to an order.
    OrderAction {
        /// Supplier: accept the order.
        Confirm = "confirm",
        /// Supplier: ask the unit to change something (note required).
        RequestAdjustment = "request_adjustment",
        /// Supplier: refuse the order (reason required).
        Reject = "reject",
        /// Unit: send the order again after an adjustment request.
        Resubmit = "resubmit",
        /// Either side, before delivery (reason required).
        Cancel = "cancel",
        /// Supplier: the goods are delivered or the service done.
        Deliver = "deliver",
        /// Unit: 验收 with an acceptance record.
        Accept = "accept",
        /// Unit: paid.
        Pay = "pay",
    }
}

impl OrderAction {
    /// The status the action leads to.
    pub fn target(self) -> OrderStatus {
        match self {
            OrderAction::Confirm => OrderStatus::Confirmed,
            OrderAction::RequestAdjustment => OrderStatus::AdjustmentRequested,
            OrderAction::Reject => OrderStatus::Rejected,
            OrderAction::Resubmit => OrderStatus::Submitted,
            OrderAction::Cancel => OrderStatus::Cancelled,
            OrderAction::Deliver => OrderStatus::Delivered,
            OrderAction::Accept => OrderStatus::Accepted,
            OrderAction::Pay => OrderStatus::Paid,
        }
    }

    /// Whether the supplier (true) or the procuring unit (false) takes it; `None`: either.
    pub fn by_supplier(self) -> Option<bool> {
        match self {
            OrderAction::Confirm | OrderAction::RequestAdjustment | OrderAction::Reject | OrderAction::Deliver => {
                Some(true)
            }
            OrderAction::Resubmit | OrderAction::Accept | OrderAction::Pay => Some(false),
            OrderAction::Cancel => None,
        }
    }

    /// Whether the action needs a note (a reason, an adjustment request, a payment reference).
    pub fn needs_note(self) -> bool {
        matches!(self, OrderAction::RequestAdjustment | OrderAction::Reject | OrderAction::Cancel | OrderAction::Pay)
    }
}

string_enum! {
    /// What was done at a step of an order: its submission, or one of the [`OrderAction`]s.
    StepAction stored in crate::entities::mall_order_step::Entity {
        /// The procuring unit placed the order.
        Submit = "submit",
        /// [`OrderAction::Confirm`].
        Confirm = "confirm",
        /// [`OrderAction::RequestAdjustment`].
        RequestAdjustment = "request_adjustment",
        /// [`OrderAction::Reject`].
        Reject = "reject",
        /// [`OrderAction::Resubmit`].
        Resubmit = "resubmit",
        /// [`OrderAction::Cancel`].
        Cancel = "cancel",
        /// [`OrderAction::Deliver`].
        Deliver = "deliver",
        /// [`OrderAction::Accept`].
        Accept = "accept",
        /// [`OrderAction::Pay`].
        Pay = "pay",
    }
}

impl From<OrderAction> for StepAction {
    fn from(a: OrderAction) -> Self {
        match a {
            OrderAction::Confirm => StepAction::Confirm,
            OrderAction::RequestAdjustment => StepAction::RequestAdjustment,
            OrderAction::Reject => StepAction::Reject,
            OrderAction::Resubmit => StepAction::Resubmit,
            OrderAction::Cancel => StepAction::Cancel,
            OrderAction::Deliver => StepAction::Deliver,
            OrderAction::Accept => StepAction::Accept,
            OrderAction::Pay => StepAction::Pay,
        }
    }
}

string_enum! {
    /// Where a competitive quotation is.
    QuotationStatus stored in crate::entities::mall_quotation::Entity {
        /// 竞价中: suppliers may quote until it closes.
        Open = "open",
        /// 已成交: the lowest compliant quote won and became an order.
        Awarded = "awarded",
        /// 竞价失败, with a reason (too few quotes, none within budget).
        Failed = "failed",
        /// 已撤销 by the unit before it closed.
        Cancelled = "cancelled",
    }
}

string_enum! {
    /// Why a price was flagged.
    FlagKind stored in crate::entities::mall_price_flag::Entity {
        /// The agreement price is above the market reference price.
        AboveMarket = "above_market",
        /// The agreement price was raised by more than the configured share.
        Raised = "raised",
    }
}

/// Savings of an amount against its budget: exact fen and the rate in basis points of a
/// per cent (1/100 %), rounded half up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default, ToSchema)]
pub struct Savings {
    /// Budget.
    #[schema(value_type = i64)]
    pub budget: Money,
    /// Deal (or award) amount.
    #[schema(value_type = i64)]
    pub deal: Money,
}

impl Savings {
    /// Budget − deal.
    pub fn saved(self) -> Money {
        Money::from_fen(self.budget.fen() - self.deal.fen())
    }

    /// The savings rate in per cent with `decimals` decimals, rounded half away from zero,
    /// computed in integers ("5.37"). An empty budget has no rate ("—").
    pub fn rate_percent(self, decimals: u32) -> String {
        percent(self.saved().fen() as i128, self.budget.fen() as i128, decimals)
    }
}

/// `part / whole` in per cent with `decimals` decimals, rounded half away from zero, in
/// integer arithmetic. A zero whole gives "—".
pub fn percent(part: i128, whole: i128, decimals: u32) -> String {
    if whole == 0 {
        return "—".into();
    }
    let scale = 10i128.pow(decimals);
    let num = part * 100 * scale;
    let neg = (num < 0) != (whole < 0);
    let (n, d) = (num.abs(), whole.abs());
    let q = (2 * n + d) / (2 * d);
    let int = q / scale;
    let frac = q % scale;
    let sign = if neg && q != 0 { "-" } else { "" };
    if decimals == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac:0width$}", width = decimals as usize)
    }
}

/// A catalogue item as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemView {
    /// Public id.
    pub id: Uuid,
    /// Agreement public id.
    pub agreement_id: Uuid,
    /// Agreement code.
    pub agreement_code: String,
    /// Category code.
    pub category: String,
    /// Name.
    pub name: String,
    /// Brand.
    pub brand: String,
    /// Model.
    pub model: String,
    /// Specification.
    pub spec: String,
    /// Unit (台, 把, 包 ...).
    pub unit: String,
    /// Agreement price (a ceiling), fen.
    #[schema(value_type = i64)]
    pub price: Money,
    /// Market reference price, fen.
    #[schema(value_type = i64)]
    pub market_price: Money,
    /// Supplier public id.
    pub supplier_id: Uuid,
    /// Supplier name.
    pub supplier_name: String,
    /// Supplier size class.
    pub supplier_size: Option<String>,
    /// Whether it can be bought now (agreement in force and not suspended, item not withdrawn).
    pub sellable: bool,
}

/// One agreement price an item has had.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PricePoint {
    /// When it took effect.
    pub at: DateTime<Utc>,
    /// Agreement price.
    #[schema(value_type = i64)]
    pub price: Money,
    /// Market reference then.
    #[schema(value_type = i64)]
    pub market_price: Money,
}

/// An agreement as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgreementView {
    /// Public id.
    pub id: Uuid,
    /// Code (协议编号).
    pub code: String,
    /// Title.
    pub title: String,
    /// Goods or services.
    pub kind: AgreementKind,
    /// Supplier public id.
    pub supplier_id: Uuid,
    /// Supplier name.
    pub supplier_name: String,
    /// Category codes.
    pub categories: Vec<String>,
    /// Service area (服务区域).
    pub service_area: String,
    /// First day in force.
    pub valid_from: DateTime<Utc>,
    /// In force until (exclusive).
    pub valid_to: DateTime<Utc>,
    /// Stored status.
    pub status: AgreementStatus,
    /// Reason for a suspension.
    pub status_reason: Option<String>,
    /// Whether it sells now (active and within its validity).
    pub in_force: bool,
    /// The tender it was awarded from, if any.
    pub source_tender_id: Option<Uuid>,
    /// Number of catalogue items.
    pub items: u64,
}

/// An order line as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderLineView {
    /// Item public id (none for recorded orders).
    pub item_id: Option<Uuid>,
    /// Name.
    pub name: String,
    /// Brand.
    pub brand: String,
    /// Model.
    pub model: String,
    /// Unit.
    pub unit: String,
    /// Quantity.
    pub quantity: i64,
    /// Deal unit price.
    #[schema(value_type = i64)]
    pub unit_price: Money,
    /// Agreement price when ordered.
    #[schema(value_type = i64)]
    pub agreement_price: Money,
    /// Quantity × unit price.
    #[schema(value_type = i64)]
    pub total: Money,
}

/// A step of an order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StepView {
    /// Action.
    pub action: String,
    /// Status before.
    pub from: String,
    /// Status after.
    pub to: String,
    /// Who (organisation name).
    pub by: Option<String>,
    /// Note (reason, adjustment, acceptance, payment reference).
    pub note: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// An order as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderView {
    /// Public id.
    pub id: Uuid,
    /// Code (订单编号).
    pub code: String,
    /// Direct, quotation or recorded.
    pub kind: OrderKind,
    /// Status.
    pub status: OrderStatus,
    /// Procuring unit.
    pub procuring_unit: String,
    /// Supplier.
    pub supplier: String,
    /// Category code.
    pub category: String,
    /// Budget and deal.
    pub savings: Savings,
    /// Savings, fen.
    #[schema(value_type = i64)]
    pub saved: Money,
    /// Savings rate, per cent with two decimals.
    pub savings_rate: String,
    /// The last note (reason, adjustment request).
    pub status_note: Option<String>,
    /// The acceptance record (验收记录), once accepted.
    pub acceptance: Option<serde_json::Value>,
    /// When placed.
    pub placed_at: DateTime<Utc>,
    /// Lines.
    pub lines: Vec<OrderLineView>,
    /// Steps, oldest first.
    pub steps: Vec<StepView>,
    /// What the viewer may do now.
    pub actions: Vec<OrderAction>,
}

/// A quotation as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuotationView {
    /// Public id.
    pub id: Uuid,
    /// Code.
    pub code: String,
    /// Procuring unit.
    pub procuring_unit: String,
    /// Category code.
    pub category: String,
    /// Title.
    pub title: String,
    /// The need: specification and service requirements.
    pub requirement: String,
    /// Quantity.
    pub quantity: i64,
    /// Unit.
    pub unit: String,
    /// Budget, fen.
    #[schema(value_type = i64)]
    pub budget: Money,
    /// Least quotes for success.
    pub min_quotes: i32,
    /// Opens.
    pub opens_at: DateTime<Utc>,
    /// Closes.
    pub closes_at: DateTime<Utc>,
    /// Status.
    pub status: QuotationStatus,
    /// Why it failed.
    pub fail_reason: Option<String>,
    /// The order made from the winning quote.
    pub order_id: Option<Uuid>,
    /// Number of quotes so far (shown to everyone; the quotes themselves only after closing).
    pub quote_count: u64,
    /// The quotes, lowest first: to the unit and overseers after closing.
    pub quotes: Vec<QuoteView>,
    /// The viewer's own quote, for a supplier.
    pub my_quote: Option<QuoteView>,
    /// Whether the viewer may quote now.
    pub can_quote: bool,
    /// Whether the viewer may cancel it now.
    pub can_cancel: bool,
}

/// A quote as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuoteView {
    /// Public id.
    pub id: Uuid,
    /// Supplier.
    pub supplier: String,
    /// Unit price.
    #[schema(value_type = i64)]
    pub unit_price: Money,
    /// Total.
    #[schema(value_type = i64)]
    pub total: Money,
    /// Brand offered.
    pub brand: String,
    /// Model offered.
    pub model: String,
    /// Note.
    pub note: String,
    /// When.
    pub submitted_at: DateTime<Utc>,
    /// Whether it won.
    pub winner: bool,
}

/// A price flag as shown to the centre.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlagView {
    /// Public id.
    pub id: Uuid,
    /// Kind.
    pub kind: FlagKind,
    /// Item public id.
    pub item_id: Uuid,
    /// Item name.
    pub item_name: String,
    /// Supplier.
    pub supplier: String,
    /// The flagged price.
    #[schema(value_type = i64)]
    pub price: Money,
    /// The market reference or the previous price.
    #[schema(value_type = i64)]
    pub reference: Money,
    /// Excess over the reference, per cent with two decimals.
    pub excess_percent: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Resolution, once resolved.
    pub resolution: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_round_half_up_in_integers() {
        let s = |b: i64, d: i64| Savings { budget: Money::from_fen(b), deal: Money::from_fen(d) };
        // The reference figures: 789.0736 / 14,701.8019 万元 = 5.3672… %.
        assert_eq!(s(14_701_801_900, 13_912_728_300).rate_percent(2), "5.37");
        // 2,327.77 / 27,042.03 万元 = 8.6080… %.
        assert_eq!(s(27_042_030_000, 24_714_260_000).rate_percent(1), "8.6");
        assert_eq!(s(27_042_030_000, 24_714_260_000).rate_percent(2), "8.61");
        // Exactly half a unit of the last decimal rounds up: 1/800 = 0.125 %.
        assert_eq!(percent(1, 800, 2), "0.13");
        assert_eq!(percent(1, 800, 1), "0.1");
        assert_eq!(percent(-1, 800, 2), "-0.13");
        assert_eq!(percent(578, 636, 2), "90.88");
        assert_eq!(percent(0, 5, 2), "0.00");
        assert_eq!(percent(1, 0, 2), "—");
        assert_eq!(s(100, 100).rate_percent(2), "0.00");
        // A deal above budget is negative savings.
        assert_eq!(s(10_000, 10_050).saved().fen(), -50);
        assert_eq!(s(10_000, 10_050).rate_percent(2), "-0.50");
    }

    #[test]
    fn a_step_is_stored_with_its_action_text() {
        for a in OrderAction::ALL {
            assert_eq!(StepAction::from(*a).as_str(), a.as_str());
        }
        // Every step but the submission is an order action.
        assert_eq!(StepAction::ALL.len(), OrderAction::ALL.len() + 1);
        assert_eq!(StepAction::Submit.as_str(), "submit");
    }

    #[test]
    fn order_state_machine() {
        use OrderStatus::*;
        assert!(Submitted.can_become(Confirmed));
        assert!(Confirmed.can_become(Cancelled));
        assert!(!Delivered.can_become(Cancelled), "no cancellation after delivery");
        assert!(!Submitted.can_become(Paid));
        assert!(!Paid.can_become(Submitted));
        for a in OrderAction::ALL {
            assert!(OrderStatus::ALL.iter().any(|s| s.can_become(a.target())), "{a} leads somewhere");
        }
    }

    #[test]
    fn categories_are_unique() {
        let mut codes: Vec<_> = CATEGORIES.iter().map(|c| c.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), CATEGORIES.len());
        assert_eq!(category_name("paper", "zh"), "纸张");
    }
}
