//! Tender types: the state machine, methods, the bid form, and the views handed to pages and
//! the API.

use crate::{accounts::model::string_enum, money::Money};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

string_enum! {
    /// Where a tender is in its life.
    TenderState stored in crate::entities::tender::Entity {
        /// 草稿: being prepared, visible only to its managers and supervisors.
        Draft = "draft",
        /// 已发布: open for bidding until the deadline.
        Published = "published",
        /// 投标截止: the deadline has passed, waiting for the opening.
        ClosedForBidding = "closed_for_bidding",
        /// 开标中.
        Opening = "opening",
        /// 评标中.
        Evaluating = "evaluating",
        /// 已定标.
        Awarded = "awarded",
        /// 流标/废标.
        Failed = "failed",
        /// 已终止, with a reason.
        Cancelled = "cancelled",
    }
}

impl TenderState {
    /// Whether the state machine allows moving from `self` to `to`.
    pub fn can_become(self, to: TenderState) -> bool {
        use TenderState::*;
        matches!(
            (self, to),
            (Draft, Published)
                | (Draft, Cancelled)
                | (Published, ClosedForBidding)
                | (Published, Cancelled)
                | (ClosedForBidding, Opening)
                | (ClosedForBidding, Cancelled)
                | (Opening, Evaluating)
                | (Opening, Failed)
                | (Evaluating, Awarded)
                | (Evaluating, Failed)
                // An upheld complaint gives a lot back to its committee (重新评审).
                | (Awarded, Evaluating)
        )
    }

    /// Whether the public may see the tender.
    pub fn is_public(self) -> bool {
        self != TenderState::Draft
    }
}

string_enum! {
    /// 采购方式.
    ProcurementMethod stored in crate::entities::tender::Entity {
        /// 公开招标.
        OpenTender = "open_tender",
        /// 邀请招标.
        InvitedTender = "invited_tender",
        /// 竞争性谈判.
        CompetitiveNegotiation = "competitive_negotiation",
        /// 竞争性磋商.
        CompetitiveConsultation = "competitive_consultation",
        /// 询价.
        Inquiry = "inquiry",
        /// 单一来源.
        SingleSource = "single_source",
    }
}

string_enum! {
    /// 评标方法.
    EvaluationMethod stored in crate::entities::tender::Entity {
        /// 综合评分法.
        ComprehensiveScoring = "comprehensive_scoring",
        /// 最低评标价法.
        LowestPrice = "lowest_price",
    }
}

string_enum! {
    /// 开标方式.
    OpeningMode stored in crate::entities::tender::Entity {
        /// 不见面开标 (remote).
        Remote = "remote",
    }
}

string_enum! {
    /// What a published notice to bidders is.
    ClarificationKind stored in crate::entities::clarification::Entity {
        /// 答疑: an answer to a supplier's question.
        Answer = "answer",
        /// 澄清: a clarification of the documents.
        Clarification = "clarification",
        /// 补遗/修改: an amendment.
        Amendment = "amendment",
    }
}

string_enum! {
    /// The kind of value a bid form item takes.
    FieldKind {
        /// An amount of money in 元.
        Money = "money",
        /// A whole number of days (delivery, construction, warranty period).
        Days = "days",
        /// Free text (a commitment).
        Text = "text",
    }
}

/// Key of the bid form item every tender has.
pub const TOTAL_PRICE: &str = "total_price";

/// One item of the bid form (开标一览表): read out at the opening.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct BidFormField {
    /// Machine key (`total_price`, `delivery_days`, ...).
    pub key: String,
    /// Label in Chinese.
    pub label_zh: String,
    /// Label in English.
    pub label_en: String,
    /// Kind of value.
    pub kind: FieldKind,
    /// Whether a bid must fill it.
    pub required: bool,
}

impl BidFormField {
    /// The total price item.
    pub fn total_price() -> Self {
        Self {
            key: TOTAL_PRICE.into(),
            label_zh: "投标总价（元）".into(),
            label_en: "Total bid price (yuan)".into(),
            kind: FieldKind::Money,
            required: true,
        }
    }

    /// The standard items offered when drafting a tender.
    pub fn standard() -> Vec<BidFormField> {
        vec![
            Self::total_price(),
            Self {
                key: "delivery_days".into(),
                label_zh: "交货期/工期（日历天）".into(),
                label_en: "Delivery / construction period (days)".into(),
                kind: FieldKind::Days,
                required: true,
            },
            Self {
                key: "warranty_days".into(),
                label_zh: "质保期（日历天）".into(),
                label_en: "Warranty period (days)".into(),
                kind: FieldKind::Days,
                required: false,
            },
            Self {
                key: "quality_commitment".into(),
                label_zh: "质量承诺".into(),
                label_en: "Quality commitment".into(),
                kind: FieldKind::Text,
                required: false,
            },
        ]
    }
}

/// A lot as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LotView {
    /// Public id.
    pub id: Uuid,
    /// Number within the tender, from 1.
    pub lot_no: i32,
    /// Name.
    pub name: String,
    /// 预算金额, fen.
    #[schema(value_type = i64)]
    pub budget: Money,
    /// 最高限价, fen.
    #[schema(value_type = Option<i64>)]
    pub ceiling: Option<Money>,
}

/// A tender document as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentView {
    /// Public id.
    pub id: Uuid,
    /// File name.
    pub file_name: String,
    /// SHA-256, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// Pages.
    pub pages: i32,
    /// When uploaded.
    pub uploaded_at: DateTime<Utc>,
}

/// A question as shown to its reader.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuestionView {
    /// Public id.
    pub id: Uuid,
    /// The question.
    pub body: String,
    /// When asked.
    pub asked_at: DateTime<Utc>,
    /// Who asked: shown only to supervisors and the asker (agencies answer without knowing).
    pub asked_by: Option<String>,
    /// Whether an answer has been published.
    pub answered: bool,
}

/// A published clarification, answer or amendment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClarificationView {
    /// Public id.
    pub id: Uuid,
    /// Kind.
    pub kind: ClarificationKind,
    /// Whether it changes the substance of the documents.
    pub substantive: bool,
    /// Text.
    pub body: String,
    /// The question answered, if any.
    pub question: Option<String>,
    /// The deadline before, if this moved it.
    pub old_deadline: Option<DateTime<Utc>>,
    /// The deadline after, if this moved it.
    pub new_deadline: Option<DateTime<Utc>>,
    /// When published.
    pub published_at: DateTime<Utc>,
}

/// A tender in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TenderSummary {
    /// Public id.
    pub id: Uuid,
    /// 项目编号.
    pub code: String,
    /// Title.
    pub title: String,
    /// State.
    pub state: TenderState,
    /// Procurement method.
    pub procurement_method: ProcurementMethod,
    /// Evaluation method.
    pub evaluation_method: EvaluationMethod,
    /// 投标截止/开标时间.
    pub bid_deadline: DateTime<Utc>,
    /// Procuring unit.
    pub procuring_org: String,
    /// The procuring unit's public id.
    pub procuring_org_id: Uuid,
    /// Agency, if any.
    pub agency_org: Option<String>,
    /// Sum of the lots' budgets, fen.
    #[schema(value_type = i64)]
    pub total_budget: Money,
    /// When published.
    pub published_at: Option<DateTime<Utc>>,
}

/// Everything about a tender that the reader may see.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TenderDetail {
    /// The summary.
    #[serde(flatten)]
    pub summary: TenderSummary,
    /// Description.
    pub description: String,
    /// Questions close at.
    pub question_cutoff: DateTime<Utc>,
    /// 开标方式.
    pub opening_mode: OpeningMode,
    /// Least valid bids for the opening to go on.
    pub min_valid_bids: i32,
    /// The bid form.
    pub bid_form: Vec<BidFormField>,
    /// 资格要求: what a supplier must be or have to bid.
    pub qualification: String,
    /// 联系人 of the notice.
    pub contact_person: String,
    /// 项目所在地区 (empty if not given).
    pub region: String,
    /// 联系电话 of the notice.
    pub contact_phone: String,
    /// From when suppliers may obtain the documents.
    pub documents_from: Option<DateTime<Utc>>,
    /// Until when they may obtain them.
    pub documents_until: Option<DateTime<Utc>>,
    /// 投标保证金, fen; none if the tender asks for none.
    #[schema(value_type = Option<i64>)]
    pub deposit: Option<Money>,
    /// Lots.
    pub lots: Vec<LotView>,
    /// Documents.
    pub documents: Vec<DocumentView>,
    /// Clarifications (to those who obtained the documents, managers and supervisors).
    pub clarifications: Vec<ClarificationView>,
    /// Questions the reader may see.
    pub questions: Vec<QuestionView>,
    /// Reason of cancellation.
    pub cancel_reason: Option<String>,
    /// What the reader may do.
    pub permissions: Permissions,
    /// Number of organisations that obtained the documents (managers and supervisors only).
    pub obtained_count: Option<u64>,
}

/// What the reader may do with a tender; computed by the policy, shown as buttons.
#[derive(Debug, Clone, Copy, Serialize, Default, ToSchema)]
pub struct Permissions {
    /// Edit the draft, upload documents, publish, cancel, answer questions.
    pub manage: bool,
    /// Obtain the documents.
    pub obtain: bool,
    /// Has obtained the documents.
    pub obtained: bool,
    /// Download the documents.
    pub download: bool,
    /// Ask a question now.
    pub ask: bool,
    /// Publish clarifications now.
    pub clarify: bool,
    /// Publish now.
    pub publish: bool,
    /// Cancel now.
    pub cancel: bool,
    /// Edit now (draft).
    pub edit: bool,
    /// Submit a sealed bid now.
    pub bid: bool,
    /// See its own organisation's bids on this tender (我的投标): a supplier that obtained the
    /// documents. Says nothing about whether there are any.
    pub my_bids: bool,
    /// Enter the opening hall (the deadline has passed).
    pub hall: bool,
}

/// One step of a tender's timeline.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TimelineStep {
    /// What (a key of the catalogues' `[timeline]`: `published`, `deadline`, `opening`,
    /// `evaluation`, `publicity`, `challenges`, `award`, `contract`, `cancelled`, `failed`).
    pub step: &'static str,
    /// Done, under way now, or still to come.
    pub status: &'static str,
    /// When it happened or began (or is due).
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it ended (or ends).
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// A count or a name shown with it (challenges filed, the winners).
    pub note: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_machine_allows_only_its_edges() {
        use TenderState::*;
        assert!(Draft.can_become(Published));
        assert!(Published.can_become(Cancelled));
        assert!(!Published.can_become(Draft));
        assert!(!Cancelled.can_become(Published));
        assert!(!Awarded.can_become(Cancelled));
        assert!(!Draft.can_become(Opening));
        for s in TenderState::ALL {
            assert!(!s.can_become(*s), "{s} to itself");
        }
    }
}
