//! The demonstration data set: a district trading centre with its procuring units, an agency,
//! suppliers of every size, a supervisor, tenders in several states, and the sites and expert
//! pool of the draw (with a neighbouring city's centre as a guest site) — all made through the
//! same services as real use, so the audit chain records every step.

pub mod award;
pub mod documents;
pub mod evaluation;
pub mod experts;
pub mod mall;
pub mod opening;
pub mod payee;

use crate::{
    accounts::{
        model::{OrgKind, Role, SizeClass},
        service::{self as accounts, Registration},
    },
    app::AppState,
    audit::AuditActor,
    entities::organisation,
    error::{AppError, AppResult},
    money::Money,
    tenders::{
        model::{BidFormField, ClarificationKind, EvaluationMethod, ProcurementMethod},
        service::{self as tenders, ClarificationInput, LotInput, TenderInput},
    },
};
use bytes::Bytes;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sea_orm::{EntityTrait, PaginatorTrait};

/// The password of every demo account.
pub const PASSWORD: &str = "Tender2026";

/// Demo accounts and what to try with each.
pub const ACCOUNTS: &[(&str, &str)] = &[
    ("agency", "招标代理 agency staff: draft, publish, answer questions (start here)"),
    ("buyer", "采购人 procuring unit staff (区教育局)"),
    ("supplier1", "供应商 supplier: find a tender, obtain documents, ask"),
    ("supplier2", "供应商 supplier (micro enterprise)"),
    ("supervisor", "监督 supervisor: everything read-only, the audit trail"),
    ("admin", "平台管理员 administrator: approve supplier registrations, sites"),
    ("centre", "交易中心 centre staff: framework agreements, price monitoring, savings report, expert pool, draws"),
    ("centre2", "客场 staff of the guest site's centre (邻市): its experts"),
    ("supervisor2", "监督 supervisor of the guest site"),
    ("expert1", "评标专家 expert at the host site: own record, invitations (expert2–expert5 likewise)"),
    ("expert6", "评标专家 expert at the guest site (expert7 likewise)"),
];

struct Org {
    name: &'static str,
    kind: OrgKind,
    size: Option<SizeClass>,
    code: Option<&'static str>,
    users: &'static [(&'static str, &'static str, Role)],
}

const ORGS: &[Org] = &[
    Org {
        name: "某区公共资源交易中心",
        kind: OrgKind::Centre,
        size: None,
        code: Some("12110000MB0000001X"),
        users: &[
            ("admin", "平台管理员", Role::PlatformAdmin),
            ("supervisor", "王监督", Role::Supervisor),
            ("centre", "集采中心 李经办", Role::AgencyStaff),
        ],
    },
    Org {
        name: "邻市公共资源交易中心",
        kind: OrgKind::Centre,
        size: None,
        code: Some("12120000MB0000011J"),
        users: &[("centre2", "邻市中心 孙经办", Role::AgencyStaff), ("supervisor2", "赵监督", Role::Supervisor)],
    },
    Org {
        name: "某区教育局",
        kind: OrgKind::ProcuringUnit,
        size: None,
        code: Some("11110000MB0000002Y"),
        users: &[("buyer", "张采购", Role::ProcuringStaff)],
    },
    Org {
        name: "某区人民医院",
        kind: OrgKind::ProcuringUnit,
        size: None,
        code: Some("12110000MB0000003A"),
        users: &[("hospital", "刘主任", Role::ProcuringStaff)],
    },
    Org {
        name: "某区城市管理局",
        kind: OrgKind::ProcuringUnit,
        size: None,
        code: Some("11110000MB0000004B"),
        users: &[],
    },
    Org {
        name: "华信招标代理有限公司",
        kind: OrgKind::Agency,
        size: None,
        code: Some("91110000MA0000005C"),
        users: &[("agency", "陈代理", Role::AgencyStaff)],
    },
    Org {
        name: "星辰科技有限公司",
        kind: OrgKind::Supplier,
        size: Some(SizeClass::Small),
        code: Some("91110000MA0000006D"),
        users: &[("supplier1", "赵经理", Role::Supplier)],
    },
    Org {
        name: "远达办公设备经营部",
        kind: OrgKind::Supplier,
        size: Some(SizeClass::Micro),
        code: Some("92110000MA0000007E"),
        users: &[("supplier2", "钱老板", Role::Supplier)],
    },
    Org {
        name: "华北建设工程集团有限公司",
        kind: OrgKind::Supplier,
        size: Some(SizeClass::Large),
        code: Some("91110000MA0000008F"),
        users: &[("supplier3", "孙工", Role::Supplier)],
    },
    Org {
        name: "蓝海信息技术股份有限公司",
        kind: OrgKind::Supplier,
        size: Some(SizeClass::Medium),
        code: Some("91110000MA0000009G"),
        users: &[("supplier4", "李总", Role::Supplier)],
    },
    Org {
        name: "评标专家库",
        kind: OrgKind::ExpertPool,
        size: None,
        code: None,
        // The experts' logins are made with their pool records (`experts`).
        users: &[],
    },
];

/// A demo user as the actor the services take.
pub(crate) async fn actor(state: &AppState, name: &str) -> AppResult<crate::accounts::model::Actor> {
    crate::accounts::service::actor_by_username(&state.db, name)
        .await?
        .ok_or_else(|| AppError::internal(format!("demo user {name} missing")))
}

/// Seeds the demo data unless the database already has organisations. Returns whether it did.
pub async fn seed(state: &AppState) -> AppResult<bool> {
    if organisation::Entity::find().count(&state.db).await? > 0 {
        return Ok(false);
    }
    let system = AuditActor { user_id: None, org_id: None, label: "demo data".into() };
    let hash = accounts::hash_password(PASSWORD)?;
    let mut txn = state.writer.begin().await?;
    for o in ORGS {
        let org = accounts::create_organisation(&mut txn, &system, o.name, o.kind, o.size, o.code).await?;
        for (username, display, role) in o.users {
            accounts::create_user(&mut txn, &system, &org, username, display, *role, &hash).await?;
        }
    }
    txn.commit().await?;
    accounts::register_supplier(
        &state.accounts,
        Registration {
            org_name: "新锐数码科技工作室".into(),
            credit_code: "92110000MA000010XH".into(),
            size_class: SizeClass::Micro,
            contact_phone: "010-12345678".into(),
            username: "newcomer".into(),
            display_name: "吴新锐".into(),
            password: PASSWORD.into(),
        },
    )
    .await?;

    let actor = |name: &'static str| async move {
        accounts::actor_by_username(&state.db, name)
            .await?
            .ok_or_else(|| AppError::internal(format!("demo user {name} missing")))
    };
    let agency = actor("agency").await?;
    let buyer = actor("buyer").await?;
    let hospital = actor("hospital").await?;
    let supplier1 = actor("supplier1").await?;
    let supplier2 = actor("supplier2").await?;
    // Supplier 1 subscribes to goods in 江宁区 before the tenders are published: the first
    // one reaches its inbox as a subscribed notice.
    crate::subscriptions::create(
        &state.subscriptions,
        &supplier1,
        crate::subscriptions::SubscriptionInput {
            name: "江宁区教学设备".into(),
            categories: vec!["goods".into()],
            regions: vec!["江宁区".into()],
            keywords: vec!["教学".into(), "平板".into(), "计算机".into()],
        },
    )
    .await?;
    let now = state.clock.now();
    // Deadlines are days after the legal minimum between publication and the deadline.
    let min = state.settings.tenders.min_bidding_days;
    let day = |d: i64| -> DateTime<Utc> {
        let t = now + TimeDelta::days(min + d - 20);
        t.duration_trunc(TimeDelta::hours(1)).unwrap_or(t) + TimeDelta::minutes(30)
    };
    let units = tenders::procuring_units(&state.db).await?;
    let unit = |name: &str| units.iter().find(|(_, n)| n == name).map(|(id, _)| *id);
    let form = {
        let mut f = BidFormField::standard();
        f.truncate(3);
        f
    };
    let yuan = |s: &str| Money::parse_yuan(s).unwrap_or(Money::ZERO);

    // 1. Published by the agency for the education bureau, obtained, asked and answered.
    let t1 = tenders::create_draft(
        &state.tenders,
        &agency,
        TenderInput {
            title: "某区教育局2027年中小学多媒体教学设备采购项目".into(),
            description: "为全区32所中小学采购交互式智能平板、实物展台及配套安装服务。供应商须具备相关产品的售后服务能力，详见招标文件。".into(),
            procuring_org: unit("某区教育局"),
            procurement_method: ProcurementMethod::OpenTender,
            evaluation_method: EvaluationMethod::ComprehensiveScoring,
            bid_deadline: day(26),
            question_cutoff: None,
            bid_form: form.clone(),
            min_valid_bids: None,
            lots: vec![
                LotInput { name: "第一包：交互式智能平板".into(), budget: yuan("3860000"), ceiling: Some(yuan("3800000")) },
                LotInput { name: "第二包：实物展台及安装".into(), budget: yuan("420000"), ceiling: None },
            ],
            qualification: "具有独立承担民事责任的能力；具有良好的商业信誉和健全的财务会计制度；参加政府采购活动前三年内在经营活动中没有重大违法记录；本项目专门面向中小企业采购。".into(),
            region: "南京市江宁区".into(),
            contact_person: "王工".into(),
            contact_phone: "010-68001234".into(),
            documents_from: Some(now),
            documents_until: Some(day(26) - TimeDelta::days(5)),
            deposit: Some(yuan("50000")),
        },
    )
    .await?;
    tenders::upload_document(
        &state.tenders,
        &agency,
        t1,
        "招标文件-多媒体教学设备.pdf",
        Bytes::from(documents::tender_document(
            "某区教育局2027年中小学多媒体教学设备采购项目",
            "公开招标",
            &[("第一包：交互式智能平板", "3,860,000.00"), ("第二包：实物展台及安装", "420,000.00")],
        )?),
    )
    .await?;
    tenders::publish(&state.tenders, &agency, t1).await?;
    tenders::obtain(&state.tenders, &supplier1, t1).await?;
    tenders::obtain(&state.tenders, &supplier2, t1).await?;
    let q =
        tenders::ask(&state.tenders, &supplier1, t1, "第一包智能平板的屏幕尺寸是否接受86英寸及以上的产品？").await?;
    tenders::clarify(
        &state.tenders,
        &agency,
        t1,
        ClarificationInput {
            kind: ClarificationKind::Answer,
            body: "接受。屏幕尺寸不小于75英寸即满足要求，86英寸产品同样响应。".into(),
            substantive: false,
            question: Some(q),
            new_deadline: None,
        },
    )
    .await?;

    // 2. Published by the hospital itself.
    let t2 = tenders::create_draft(
        &state.tenders,
        &hospital,
        TenderInput {
            title: "某区人民医院医用耗材集中配送服务项目".into(),
            description: "为期两年的医用耗材集中配送服务，含院内物流与信息系统对接。".into(),
            procuring_org: None,
            procurement_method: ProcurementMethod::CompetitiveConsultation,
            evaluation_method: EvaluationMethod::ComprehensiveScoring,
            bid_deadline: day(31),
            question_cutoff: None,
            bid_form: BidFormField::standard(),
            min_valid_bids: None,
            lots: vec![LotInput {
                name: "医用耗材集中配送".into(),
                budget: yuan("2150000.00"),
                ceiling: Some(yuan("2100000")),
            }],
            qualification:
                "具有医疗器械经营许可证（第三类）；近三年具有医用耗材配送服务业绩；未被列入失信被执行人名单。".into(),
            region: "南京市鼓楼区".into(),
            contact_person: "刘主任".into(),
            contact_phone: "010-63005678-8012".into(),
            documents_from: Some(now),
            documents_until: Some(day(31) - TimeDelta::days(5)),
            deposit: Some(yuan("40000")),
        },
    )
    .await?;
    tenders::upload_document(
        &state.tenders,
        &hospital,
        t2,
        "磋商文件-医用耗材配送.pdf",
        Bytes::from(documents::tender_document(
            "某区人民医院医用耗材集中配送服务项目",
            "竞争性磋商",
            &[("医用耗材集中配送", "2,150,000.00")],
        )?),
    )
    .await?;
    tenders::publish(&state.tenders, &hospital, t2).await?;

    // 3. A draft the agency is still preparing.
    let t3 = tenders::create_draft(
        &state.tenders,
        &agency,
        TenderInput {
            title: "某区城市管理局环卫作业车辆采购项目".into(),
            description: "采购洗扫车、压缩式垃圾车等环卫作业车辆。".into(),
            procuring_org: unit("某区城市管理局"),
            procurement_method: ProcurementMethod::OpenTender,
            evaluation_method: EvaluationMethod::LowestPrice,
            bid_deadline: day(40),
            question_cutoff: None,
            bid_form: form.clone(),
            min_valid_bids: None,
            lots: vec![
                LotInput { name: "第一包：洗扫车".into(), budget: yuan("1680000"), ceiling: None },
                LotInput { name: "第二包：压缩式垃圾车".into(), budget: yuan("960000"), ceiling: None },
            ],
            qualification:
                "具有独立承担民事责任的能力；所投车辆须列入工业和信息化部《道路机动车辆生产企业及产品公告》。".into(),
            region: "南京市江宁区".into(),
            contact_person: "王工".into(),
            contact_phone: "13812345678".into(),
            documents_from: Some(now),
            documents_until: Some(day(40) - TimeDelta::days(5)),
            deposit: None,
        },
    )
    .await?;
    let _ = t3;

    // 4. Published by the education bureau itself, then cancelled.
    let t4 = tenders::create_draft(
        &state.tenders,
        &buyer,
        TenderInput {
            title: "某区教育局办公家具采购项目".into(),
            description: "办公桌椅、文件柜等办公家具。".into(),
            procuring_org: None,
            procurement_method: ProcurementMethod::Inquiry,
            evaluation_method: EvaluationMethod::LowestPrice,
            bid_deadline: day(22),
            question_cutoff: None,
            bid_form: vec![BidFormField::total_price()],
            min_valid_bids: None,
            lots: vec![LotInput { name: "办公家具".into(), budget: yuan("186500"), ceiling: None }],
            qualification: "具有独立承担民事责任的能力；近三年内在经营活动中没有重大违法记录。".into(),
            region: "南京市浦口区".into(),
            contact_person: "李老师".into(),
            contact_phone: "010-68005566".into(),
            documents_from: Some(now),
            documents_until: Some(day(22) - TimeDelta::days(5)),
            deposit: None,
        },
    )
    .await?;
    tenders::upload_document(
        &state.tenders,
        &buyer,
        t4,
        "询价文件-办公家具.pdf",
        Bytes::from(documents::tender_document("某区教育局办公家具采购项目", "询价", &[("办公家具", "186,500.00")])?),
    )
    .await?;
    tenders::publish(&state.tenders, &buyer, t4).await?;
    tenders::cancel(&state.tenders, &buyer, t4, "采购需求发生重大变化，本项目终止，将另行组织采购。").await?;

    // The e-mall: the reference year's recorded figures and the live mall.
    mall::seed_reference_year(state).await?;
    let centre = actor("centre").await?;
    mall::seed_live(state, &centre, &buyer).await?;

    // The sites and the expert pool the draw needs.
    experts::seed(state).await?;

    let mut uow = state.writer.begin().await?;
    uow.checkpoint().await?;
    uow.commit().await?;
    Ok(true)
}
