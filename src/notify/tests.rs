//! Every kind of notice renders in both languages with exactly the arguments its raising code
//! gives it; templates, value formats and stored arguments.

use super::{
    model::{Arg, Args, Notice, NoticeKind},
    render::{MONEY_FORMAT, TIME_FORMAT, fill, placeholders, render, template_key},
};
use crate::{
    entities::{mall_agreement, mall_order, mall_quotation, tender},
    ids::{AgreementId, OrderId, OrgId, QuotationId, TenderId, UserId},
    mall::model::{AgreementKind, AgreementStatus, OrderAction, OrderKind, OrderStatus, QuotationStatus},
    money::Money,
    tenders::model::{ClarificationKind, EvaluationMethod, OpeningMode, ProcurementMethod, TenderState},
    web::i18n::{I18n, Lang},
};
use chrono::{DateTime, TimeZone, Utc};
use std::collections::BTreeSet;
use uuid::Uuid;

/// A time given in China Standard Time.
fn cst(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    crate::web::cst().with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("valid time").with_timezone(&Utc)
}

fn a_tender() -> tender::Model {
    let at = cst(2026, 11, 2, 10, 0);
    tender::Model {
        id: TenderId(7),
        public_id: Uuid::nil(),
        code: "ZB-2026-0007".into(),
        title: "教学设备采购".into(),
        description: String::new(),
        procuring_org_id: OrgId(1),
        agency_org_id: Some(OrgId(2)),
        created_by: UserId(3),
        procurement_method: ProcurementMethod::OpenTender,
        evaluation_method: EvaluationMethod::LowestPrice,
        opening_mode: OpeningMode::Remote,
        state: TenderState::Published,
        bid_deadline: cst(2026, 11, 23, 9, 30),
        question_cutoff: cst(2026, 11, 13, 9, 30),
        bid_form: "[]".into(),
        min_valid_bids: 3,
        cancel_reason: None,
        qualification: String::new(),
        contact_person: String::new(),
        region: "南京市江宁区".into(),
        contact_phone: String::new(),
        documents_from: None,
        documents_until: None,
        deposit_fen: None,
        published_at: Some(at),
        criteria: None,
        created_at: at,
        updated_at: at,
    }
}

fn a_quotation() -> mall_quotation::Model {
    let at = cst(2026, 11, 2, 10, 0);
    mall_quotation::Model {
        id: QuotationId(5),
        public_id: Uuid::nil(),
        code: "JJ-2026-0005".into(),
        procuring_org_id: OrgId(1),
        created_by: UserId(3),
        category: "printers".into(),
        title: "激光打印机".into(),
        requirement: String::new(),
        quantity: 10,
        unit: "台".into(),
        budget_fen: Money::from_fen(3_000_000),
        min_quotes: 3,
        opens_at: at,
        closes_at: cst(2026, 11, 4, 18, 0),
        status: QuotationStatus::Open,
        fail_reason: None,
        order_id: None,
        created_at: at,
    }
}

fn an_agreement() -> mall_agreement::Model {
    let at = cst(2026, 11, 2, 10, 0);
    mall_agreement::Model {
        id: AgreementId(4),
        public_id: Uuid::nil(),
        code: "XY-2026-0004".into(),
        title: "办公设备协议供货".into(),
        kind: AgreementKind::Goods,
        supplier_org_id: OrgId(9),
        centre_org_id: OrgId(8),
        categories: "[\"printers\"]".into(),
        service_area: "全市".into(),
        valid_from: at,
        valid_to: cst(2027, 11, 1, 0, 0),
        status: AgreementStatus::Active,
        status_reason: None,
        source_tender_id: None,
        created_at: at,
        updated_at: at,
    }
}

fn an_order() -> mall_order::Model {
    let at = cst(2026, 11, 2, 10, 0);
    mall_order::Model {
        id: OrderId(6),
        public_id: Uuid::nil(),
        code: "DD-2026-0006".into(),
        kind: OrderKind::Direct,
        procuring_org_id: OrgId(1),
        supplier_org_id: OrgId(9),
        agreement_id: Some(AgreementId(4)),
        quotation_id: None,
        category: "printers".into(),
        budget_fen: Money::from_fen(300_000),
        amount_fen: Money::from_fen(123_456_789),
        status: OrderStatus::Submitted,
        status_note: None,
        acceptance: None,
        created_by: Some(UserId(3)),
        placed_at: at,
        updated_at: at,
    }
}

/// A notice as it is stored from the texts of an older version.
fn legacy() -> Notice {
    let mut n = Notice::new(NoticeKind::Legacy);
    n.args.insert("text".into(), Arg::Both { zh: "旧的消息".into(), en: "An old notice".into() });
    n
}

/// Every notice the services raise, built by the functions they raise them with.
pub(crate) fn raised() -> Vec<Notice> {
    use crate::{mall, tenders::service as tenders};
    let (t, q, a, o) = (a_tender(), a_quotation(), an_agreement(), an_order());
    let mut all = vec![tenders::cancelled_notice(&t, "需求变更"), tenders::question_notice(&t)];
    for kind in ClarificationKind::ALL {
        all.push(tenders::clarification_notice(&t, *kind, None));
        all.push(tenders::clarification_notice(&t, *kind, Some(cst(2026, 12, 1, 9, 30))));
    }
    all.extend([
        mall::quotations::invitation_notice(&q),
        mall::quotations::cancelled_notice(&q, "需求取消"),
        mall::quotations::failed_notice(&q, 1),
        mall::quotations::awarded_notice(&q, Money::from_fen(2_950_000), "DD-2026-0099"),
        mall::agreements::created_notice(&a),
        mall::agreements::status_notice(&a, true, "价格异常"),
        mall::agreements::status_notice(&a, false, ""),
        mall::orders::order_notice(&o, None),
    ]);
    all.extend(OrderAction::ALL.iter().map(|x| mall::orders::order_notice(&o, Some(*x))));
    all.push(crate::accounts::service::decision_notice("新锐数码科技工作室", None));
    all.push(crate::accounts::service::decision_notice("新锐数码科技工作室", Some("营业执照已过期")));
    all.push(crate::draw::service::invitation_notice(
        cst(2026, 12, 20, 9, 0),
        "杭州市公共资源交易中心（杭州）",
        240,
        cst(2026, 12, 18, 10, 30),
    ));
    {
        use crate::award::{model::Decision, service as award};
        let at = cst(2026, 12, 20, 9, 0);
        let lot = "1 办公桌椅";
        all.extend([
            award::candidates_notice(&t, lot, at),
            award::challenge_filed_notice(&t, lot, at),
            award::challenge_reminder_notice(&t, at),
            award::challenge_overdue_notice(&t, at),
            award::challenge_answered_notice(&t, lot, at),
            award::complaint_filed_notice(&t),
            award::award_won_notice(&t, lot, Money::from_fen(124_560_000), at),
            award::award_result_notice(&t, lot, "远达办公设备经营部", Money::from_fen(124_560_000)),
            award::other_candidate_notice(&t, lot, "第一名放弃中标"),
            award::contract_reminder_notice(&t, lot, at),
            award::decision_reminder_notice(&t, lot, at),
            award::complaint_reminder_notice(&t, lot, at),
            award::contract_overdue_notice(&t, lot, at),
        ]);
        all.extend(Decision::ALL.iter().map(|d| award::complaint_decided_notice(&t, lot, *d)));
        all.push(crate::evaluation::service::re_evaluation_notice(&t, lot, "价格分计算有误"));
    }
    all.push(crate::bids::service::receipt_notice(&t, "1 第一包", cst(2026, 11, 20, 16, 5), &"ab".repeat(32)));
    all.push(crate::tenders::reminders::deadline_notice(&t, 24));
    all.push(crate::tenders::invitations::invitation_notice(&t));
    {
        use crate::opening::notices as hall;
        let until = cst(2026, 11, 20, 9, 30);
        all.extend([
            hall::started_notice(&t),
            hall::window_notice(NoticeKind::DecryptionOpened, &t, until),
            hall::window_notice(NoticeKind::DecryptionClosing, &t, until),
            hall::failed_notice(&t, "1. 办公桌椅"),
            hall::answered_notice(&t),
        ]);
    }
    all.push(crate::draw::service::session_soon_notice(cst(2026, 12, 20, 9, 0), "杭州市公共资源交易中心（杭州）", 240));
    all.push(mall::quotations::result_notice(&q, true, Money::from_fen(2_950_000)));
    all.push(mall::quotations::result_notice(&q, false, Money::from_fen(2_950_000)));
    all.push(crate::subscriptions::match_notice(&t, "办公家具"));
    all.push(legacy());
    all
}

fn texts() -> I18n {
    I18n::load().expect("i18n files parse")
}

#[test]
fn every_kind_renders_in_both_languages_with_the_arguments_it_is_raised_with() {
    let i18n = texts();
    let mut problems = Vec::new();
    let mut kinds = BTreeSet::new();
    for n in raised() {
        kinds.insert(n.kind.as_str());
        for lang in [Lang::Zh, Lang::En] {
            let r = render(&i18n, lang, n.kind, &n.args);
            problems.extend(r.problems);
            assert!(!r.text.is_empty() && !r.text.contains("notice."), "{lang:?} {}: {}", n.kind, r.text);
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    let all: BTreeSet<&str> = NoticeKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(kinds, all, "every kind is raised somewhere");
}

#[test]
fn texts_are_filled_in_with_the_readers_formats() {
    let i18n = texts();
    let both =
        |n: &Notice| (render(&i18n, Lang::Zh, n.kind, &n.args).text, render(&i18n, Lang::En, n.kind, &n.args).text);
    let t = a_tender();
    let moved =
        crate::tenders::service::clarification_notice(&t, ClarificationKind::Amendment, Some(cst(2026, 12, 1, 9, 30)));
    assert_eq!(
        both(&moved),
        (
            "项目【教学设备采购】发布了补遗（修改），投标截止时间顺延至 2026-12-01 09:30".into(),
            "New amendment on \"教学设备采购\"; the bid deadline moves to 2026-12-01 09:30 (UTC+8)".into()
        )
    );
    let kept = crate::tenders::service::clarification_notice(&t, ClarificationKind::Answer, None);
    assert_eq!(
        both(&kept),
        (
            "项目【教学设备采购】发布了答疑，投标截止时间仍为 2026-11-23 09:30".into(),
            "New answer on \"教学设备采购\"; the bid deadline remains 2026-11-23 09:30 (UTC+8)".into()
        )
    );
    let awarded = crate::mall::quotations::awarded_notice(&a_quotation(), Money::from_fen(2_950_005), "DD-1");
    assert_eq!(
        both(&awarded),
        (
            "竞价【激光打印机】（JJ-2026-0005）已成交，成交金额 29,500.05 元，订单 DD-1".into(),
            "Quotation \"激光打印机\" (JJ-2026-0005) awarded at 29,500.05 yuan, order DD-1".into()
        )
    );
    let order = crate::mall::orders::order_notice(&an_order(), Some(OrderAction::Pay));
    assert_eq!(
        both(&order),
        ("订单已付款：DD-2026-0006（1,234,567.89 元）".into(), "Order paid: DD-2026-0006 (1,234,567.89 yuan)".into())
    );
    assert_eq!(both(&legacy()), ("旧的消息".into(), "An old notice".into()));
}

#[test]
fn every_notice_template_is_of_a_kind_and_every_format_has_its_placeholder() {
    let i18n = texts();
    for lang in [Lang::Zh, Lang::En] {
        let mut stray: Vec<&str> = i18n
            .keys(lang)
            .filter_map(|k| k.strip_prefix("notice."))
            .filter(|k| !k.contains('.') && NoticeKind::parse(k).is_none())
            .collect();
        stray.sort();
        assert!(stray.is_empty(), "{lang:?}: templates of no kind: {stray:?}");
        for kind in NoticeKind::ALL {
            assert!(i18n.lookup(lang, &template_key(*kind)).is_some(), "{lang:?}: no template for {kind}");
        }
        for (key, name) in [(TIME_FORMAT, "time"), (MONEY_FORMAT, "amount")] {
            let format = i18n.lookup(lang, key).unwrap_or_else(|| panic!("{lang:?}: no {key}"));
            assert_eq!(placeholders(format), vec![name.to_string()], "{lang:?} {key}");
        }
    }
}

#[test]
fn a_missing_or_unused_argument_or_text_is_a_problem_and_shows() {
    let i18n = texts();
    let mut args = Args::new();
    args.insert("title".into(), Arg::Text("T".into()));
    args.insert("extra".into(), Arg::Text("x".into()));
    let r = render(&i18n, Lang::En, NoticeKind::TenderCancelled, &args);
    assert_eq!(r.text, "Tender \"T\" ({code}) was cancelled: {reason}");
    assert_eq!(
        r.problems,
        [
            "En notice.tender_cancelled: no argument for {code}",
            "En notice.tender_cancelled: no argument for {reason}",
            "En notice.tender_cancelled: argument extra is not in the template",
        ]
    );
    let mut args = Args::new();
    args.insert("title".into(), Arg::Text("T".into()));
    args.insert("what".into(), Arg::Key("clarification.kind.nothing".into()));
    args.insert("change".into(), Arg::Key("notice.deadline.kept".into()));
    args.insert("deadline".into(), Arg::Time(cst(2026, 12, 1, 9, 30)));
    let r = render(&i18n, Lang::Zh, NoticeKind::ClarificationIssued, &args);
    assert_eq!(r.text, "项目【T】发布了clarification.kind.nothing，投标截止时间仍为 2026-12-01 09:30");
    assert_eq!(r.problems, ["Zh: no text clarification.kind.nothing"]);
}

#[test]
fn placeholders_are_names_in_braces() {
    let args = |n: &str| (n == "a").then(|| "A".to_string());
    assert_eq!(fill("{a}-{b}-{A}-{}-{a b}-{", args), "A-{b}-{A}-{}-{a b}-{");
    assert_eq!(fill("【{a}】（{a}）", args), "【A】（A）");
    assert_eq!(placeholders("x {one} {two_2} {Three} {"), ["one", "two_2"]);
}

#[test]
fn arguments_are_stored_as_tagged_values() {
    let n = Notice::new(NoticeKind::QuotationAwarded)
        .arg("title", "打印机")
        .arg_time("closes", cst(2026, 12, 1, 9, 30))
        .arg_money("amount", Money::from_fen(105))
        .arg_key("what", "clarification.kind.answer");
    let stored = serde_json::to_value(&n.args).expect("json");
    assert_eq!(
        stored,
        serde_json::json!({
            "amount": {"type": "fen", "value": 105},
            "closes": {"type": "time", "value": "2026-12-01T01:30:00Z"},
            "title": {"type": "text", "value": "打印机"},
            "what": {"type": "key", "value": "clarification.kind.answer"},
        })
    );
    let back: Args = serde_json::from_value(stored).expect("reads back");
    assert_eq!(back, n.args);
    let old: Args =
        serde_json::from_str(r#"{"text": {"type": "both", "value": {"zh": "中", "en": "E"}}}"#).expect("legacy");
    assert_eq!(old["text"], Arg::Both { zh: "中".into(), en: "E".into() });
}
