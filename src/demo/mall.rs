//! The e-mall's demo data.
//!
//! Two parts. **The reference year**: a district centre's January–October 2022, entered as
//! recorded data (suppliers admitted over the years, 57 centralized procurement results and
//! 8,469 e-mall deals) whose totals are exactly the figures of the centre's published report
//! (`tests/fixtures/reference-figures.toml`): the amounts are drawn at random (fixed seed) and
//! then scaled in integers so that they add up to the fen. **The live mall**: agreements,
//! catalogue items, orders in several states and an open quotation, made through the same
//! services as real use.

use crate::{
    accounts::{
        model::{Actor, OrgKind, SizeClass, Status},
        service as accounts,
    },
    app::AppState,
    audit::{Action, AuditActor, AuditEntry},
    entities::{mall_order, mall_order_line, organisation, procurement_result},
    error::{AppError, AppResult},
    ids::{OrderId, OrgId, UserId},
    mall::{
        agreements::{self, AgreementInput, ItemInput},
        model::{AgreementKind, CATEGORIES, OrderAction, OrderKind, OrderStatus},
        orders::{self, DirectPurchase, LineInput, StepInput},
        quotations::{self, QuotationInput, QuoteInput},
    },
    money::Money,
};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

/// The reference figures (Jan–Oct 2022), in fen and counts.
pub mod reference {
    /// First day of the reference period.
    pub const FROM: (i32, u32, u32) = (2022, 1, 1);
    /// Last day of the reference period (inclusive).
    pub const TO: (i32, u32, u32) = (2022, 10, 31);
    /// Centralized procurement projects.
    pub const PROJECTS: usize = 57;
    /// Their budget: 14,701.8019 万元.
    pub const PROJECT_BUDGET_FEN: i64 = 14_701_801_900;
    /// Their award total: 13,912.7283 万元.
    pub const PROJECT_AWARD_FEN: i64 = 13_912_728_300;
    /// E-mall deals.
    pub const DEALS: usize = 8_469;
    /// Their budget: 27,042.03 万元.
    pub const DEAL_BUDGET_FEN: i64 = 27_042_030_000;
    /// Their deal total: 24,714.26 万元.
    pub const DEAL_TOTAL_FEN: i64 = 24_714_260_000;
    /// Suppliers admitted in the period.
    pub const SUPPLIERS_NEW: usize = 636;
    /// Of which small, medium or micro.
    pub const SUPPLIERS_NEW_SME: usize = 578;
    /// Suppliers admitted by the end of the period.
    pub const SUPPLIERS_TOTAL: usize = 2_127;
}

/// A small deterministic generator (SplitMix64): the demo is the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next() % v.len() as u64) as usize]
    }
}

/// Splits `total` into parts proportional to `weights`, exactly: each part is rounded down and
/// the remaining units go one each to the parts with the largest remainders.
pub fn apportion(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i128 = weights.iter().map(|w| *w as i128).sum();
    if sum == 0 {
        return vec![0; weights.len()];
    }
    let mut parts: Vec<(i64, i128, usize)> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let exact = total as i128 * *w as i128;
            ((exact / sum) as i64, exact % sum, i)
        })
        .collect();
    let assigned: i64 = parts.iter().map(|p| p.0).sum();
    let mut left = total - assigned;
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|a, b| parts[*b].1.cmp(&parts[*a].1).then(a.cmp(b)));
    for i in order {
        if left == 0 {
            break;
        }
        parts[i].0 += 1;
        left -= 1;
    }
    parts.into_iter().map(|p| p.0).collect()
}

fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    crate::mall::reports::day_start(NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default())
}

/// A random working-hours instant between `from` and `to` (China time).
fn instant(rng: &mut Rng, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
    let days = (to - from).num_days().max(1);
    from + TimeDelta::days(rng.range(0, days - 1)) + TimeDelta::minutes(rng.range(8 * 60 + 30, 17 * 60 + 30))
}

const NAME_A: &[&str] = &[
    "华", "鑫", "恒", "瑞", "嘉", "博", "宏", "盛", "永", "天", "正", "诚", "安", "广", "信", "泰", "卓", "鼎", "汇",
    "金",
];
const NAME_B: &[&str] = &[
    "通", "达", "源", "联", "创", "康", "明", "兴", "远", "宇", "辰", "海", "利", "丰", "升", "晟", "德", "润", "川",
    "航",
];
const TRADE: &[&str] = &[
    "办公设备",
    "信息技术",
    "科技",
    "商贸",
    "文化用品",
    "家具",
    "电子",
    "印务",
    "汽车服务",
    "电器",
    "网络工程",
    "会务服务",
];
const FORM: &[&str] = &["有限公司", "有限责任公司", "经营部", "股份有限公司", "商行"];

/// The `i`-th demo supplier's name: a trade name of two characters and a trade, different for
/// every `i` below `NAME_A × NAME_B × TRADE` (the indices are spread by a step prime to that
/// count, so neighbours do not share their first character), with a company form.
fn supplier_name(i: usize, form: &str) -> String {
    let n = NAME_A.len() * NAME_B.len() * TRADE.len();
    let k = (i * 1_009) % n;
    let (a, rest) = (k % NAME_A.len(), k / NAME_A.len());
    let (b, t) = (rest % NAME_B.len(), rest / NAME_B.len());
    format!("{}{}{}{}", NAME_A[a], NAME_B[b], TRADE[t], form)
}
const UNITS: &[&str] = &[
    "某区财政局",
    "某区发展和改革委员会",
    "某区卫生健康委员会",
    "某区第一中学",
    "某区第二中学",
    "某区实验小学",
    "某区中医医院",
    "某区妇幼保健院",
    "某区疾病预防控制中心",
    "某区公安分局",
    "某区人民法院",
    "某区人民检察院",
    "某区市场监督管理局",
    "某区交通运输局",
    "某区水务局",
    "某区农业农村局",
    "某区文化和旅游局",
    "某区图书馆",
    "某区档案馆",
    "某区应急管理局",
    "某区民政局",
    "某区退役军人事务局",
    "某区税务局",
    "某区住房和城乡建设局",
    "某区生态环境分局",
    "某区体育中心",
    "某区职业高级中学",
    "某区幼儿园",
    "某区社区卫生服务中心",
    "某区融媒体中心",
];
const METHODS: &[&str] = &["公开招标", "竞争性磋商", "竞争性谈判", "询价", "单一来源"];

/// Seeds the reference year.
pub async fn seed_reference_year(state: &AppState) -> AppResult<()> {
    use reference::*;
    let mut rng = Rng(20_221_031);
    let now = state.clock.now();
    let from = day(FROM.0, FROM.1, FROM.2);
    let end = day(TO.0, TO.1, TO.2) + TimeDelta::days(1);
    let mut txn = state.writer.begin_at(now).await?;

    // Procuring units: the demo's own and thirty more.
    let mut units: Vec<OrgId> = organisation::Entity::find()
        .filter(organisation::Column::Kind.eq(OrgKind::ProcuringUnit))
        .all(&txn)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();
    let unit_rows: Vec<organisation::ActiveModel> = UNITS
        .iter()
        .enumerate()
        .map(|(i, n)| organisation::ActiveModel {
            public_id: Set(Uuid::new_v4()),
            name: Set((*n).into()),
            kind: Set(OrgKind::ProcuringUnit),
            size_class: Set(None),
            credit_code: Set(Some(format!("11110000MB{:07}X", 100 + i))),
            contact_phone: Set(None),
            status: Set(Status::Active),
            created_at: Set(day(2018, 3, 1)),
            approved_at: Set(Some(day(2018, 3, 1))),
            ..Default::default()
        })
        .collect();
    organisation::Entity::insert_many(unit_rows).exec(&txn).await?;
    units.extend(
        organisation::Entity::find()
            .filter(organisation::Column::Name.is_in(UNITS.iter().copied()))
            .all(&txn)
            .await?
            .into_iter()
            .map(|o| o.id),
    );

    // Suppliers: 1,491 admitted before 2022 and 636 in the period, 578 of them SMEs.
    let before = SUPPLIERS_TOTAL - SUPPLIERS_NEW;
    let mut sizes_new: Vec<SizeClass> = (0..SUPPLIERS_NEW)
        .map(|i| {
            if i < SUPPLIERS_NEW_SME {
                *rng.pick(&[SizeClass::Medium, SizeClass::Small, SizeClass::Small, SizeClass::Micro])
            } else {
                SizeClass::Large
            }
        })
        .collect();
    // Mix the large ones in rather than leaving them at the end.
    for i in (1..sizes_new.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        sizes_new.swap(i, j);
    }
    let mut rows = Vec::with_capacity(SUPPLIERS_TOTAL);
    let mut codes = Vec::with_capacity(SUPPLIERS_TOTAL);
    for i in 0..SUPPLIERS_TOTAL {
        let (size, approved) = if i < before {
            let size =
                *rng.pick(&[SizeClass::Large, SizeClass::Medium, SizeClass::Small, SizeClass::Small, SizeClass::Micro]);
            (size, instant(&mut rng, day(2017, 1, 1), from))
        } else {
            (sizes_new[i - before], instant(&mut rng, from, end))
        };
        let form: &&str = rng.pick(FORM);
        let name = supplier_name(i, form);
        let code = format!("91110000MA{:07}{}", 200_000 + i, (b'A' + (i % 26) as u8) as char);
        codes.push(code.clone());
        rows.push(organisation::ActiveModel {
            public_id: Set(Uuid::new_v4()),
            name: Set(name),
            kind: Set(OrgKind::Supplier),
            size_class: Set(Some(size)),
            credit_code: Set(Some(code)),
            contact_phone: Set(None),
            status: Set(Status::Active),
            created_at: Set(approved - TimeDelta::days(rng.range(1, 20))),
            approved_at: Set(Some(approved)),
            ..Default::default()
        });
    }
    for chunk in rows.chunks(500) {
        organisation::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    let mut suppliers: Vec<OrgId> = Vec::new();
    for chunk in codes.chunks(500) {
        suppliers.extend(
            organisation::Entity::find()
                .filter(organisation::Column::CreditCode.is_in(chunk.to_vec()))
                .all(&txn)
                .await?
                .into_iter()
                .map(|o| o.id),
        );
    }
    // About 300 of them sold in the e-mall that year.
    let sellers: Vec<OrgId> = suppliers.iter().copied().step_by(7).collect();

    // Centralized procurement: 57 projects, budgets and awards to the 元.
    let budget_w: Vec<i64> = (0..PROJECTS).map(|_| rng.range(300, 9_000)).collect();
    let budgets = apportion(PROJECT_BUDGET_FEN / 100, &budget_w);
    let saving_w: Vec<i64> = budgets.iter().map(|b| b * rng.range(0, 1_100) / 10_000).collect();
    let savings = apportion((PROJECT_BUDGET_FEN - PROJECT_AWARD_FEN) / 100, &saving_w);
    let results: Vec<procurement_result::ActiveModel> = (0..PROJECTS)
        .map(|i| {
            let cat = rng.pick(CATEGORIES);
            procurement_result::ActiveModel {
                public_id: Set(Uuid::new_v4()),
                code: Set(format!("JC2022-{:03}", i + 1)),
                title: Set(format!("{}{}集中采购项目", rng.pick(UNITS), cat.zh)),
                procuring_org_id: Set(*rng.pick(&units)),
                category: Set(cat.code.into()),
                method: Set((*rng.pick(METHODS)).into()),
                budget_fen: Set(Money::from_fen(budgets[i] * 100)),
                award_fen: Set(Money::from_fen((budgets[i] - savings[i]) * 100)),
                supplier_name: Set(format!(
                    "{}{}{}{}",
                    rng.pick(NAME_A),
                    rng.pick(NAME_B),
                    rng.pick(TRADE),
                    rng.pick(FORM)
                )),
                awarded_at: Set(instant(&mut rng, from, end)),
                tender_id: Set(None),
                recorded_by: Set(UserId(0)),
                created_at: Set(now),
                ..Default::default()
            }
        })
        .collect();
    procurement_result::Entity::insert_many(results).exec(&txn).await?;

    // E-mall deals: 8,469 paid orders; budgets to the 元, savings to the fen.
    let budget_w: Vec<i64> = (0..DEALS).map(|_| rng.range(500, 12_000)).collect();
    let budgets = apportion(DEAL_BUDGET_FEN / 100, &budget_w);
    let saving_w: Vec<i64> = budgets.iter().map(|b| b * rng.range(0, 1_700)).collect();
    let savings = apportion(DEAL_BUDGET_FEN - DEAL_TOTAL_FEN, &saving_w);
    let goods: Vec<_> = CATEGORIES.iter().collect();
    let mut orders = Vec::with_capacity(DEALS);
    let mut lines = Vec::with_capacity(DEALS);
    for i in 0..DEALS {
        let cat = rng.pick(&goods);
        let budget = budgets[i] * 100;
        let amount = budget - savings[i];
        let placed = instant(&mut rng, from, end);
        let code = format!("LS2022{:06}", i + 1);
        orders.push(mall_order::ActiveModel {
            public_id: Set(Uuid::new_v4()),
            code: Set(code),
            kind: Set(OrderKind::Recorded),
            procuring_org_id: Set(*rng.pick(&units)),
            supplier_org_id: Set(*rng.pick(&sellers)),
            agreement_id: Set(None),
            quotation_id: Set(None),
            category: Set(cat.code.into()),
            budget_fen: Set(Money::from_fen(budget)),
            amount_fen: Set(Money::from_fen(amount)),
            status: Set(OrderStatus::Paid),
            status_note: Set(None),
            acceptance: Set(None),
            created_by: Set(None),
            placed_at: Set(placed),
            updated_at: Set(placed),
            ..Default::default()
        });
        lines.push((cat.zh, amount));
    }
    for chunk in orders.chunks(500) {
        mall_order::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    let ids: Vec<(String, OrderId)> = mall_order::Entity::find()
        .filter(mall_order::Column::Kind.eq(OrderKind::Recorded))
        .all(&txn)
        .await?
        .into_iter()
        .map(|o| (o.code, o.id))
        .collect();
    let by_code: std::collections::HashMap<String, OrderId> = ids.into_iter().collect();
    let line_rows: Vec<mall_order_line::ActiveModel> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, (name, amount))| {
            let order_id = *by_code.get(&format!("LS2022{:06}", i + 1))?;
            Some(mall_order_line::ActiveModel {
                order_id: Set(order_id),
                item_id: Set(None),
                name: Set(format!("{name}（历史订单）")),
                brand: Set(String::new()),
                model: Set(String::new()),
                unit: Set("批".into()),
                quantity: Set(1),
                unit_price_fen: Set(Money::from_fen(*amount)),
                agreement_price_fen: Set(Money::from_fen(*amount)),
                total_fen: Set(Money::from_fen(*amount)),
                ..Default::default()
            })
        })
        .collect();
    for chunk in line_rows.chunks(500) {
        mall_order_line::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    let system = AuditActor { user_id: None, org_id: None, label: "demo data (recorded 2022 figures)".into() };
    let details = json!({"period": [from, end], "suppliers": SUPPLIERS_TOTAL, "procurement_results": PROJECTS,
        "orders": DEALS, "order_budget_fen": DEAL_BUDGET_FEN, "order_amount_fen": DEAL_TOTAL_FEN,
        "project_budget_fen": PROJECT_BUDGET_FEN, "project_award_fen": PROJECT_AWARD_FEN});
    txn.record(&system, AuditEntry::new(Action::MallImport, "reference-2022", details)).await?;
    txn.commit().await?;
    Ok(())
}

/// A catalogue item of the live mall: category, name, brand, model, spec, unit, price 元, market 元.
type DemoItem =
    (&'static str, &'static str, &'static str, &'static str, &'static str, &'static str, &'static str, &'static str);

/// Catalogue items of the live mall.
const ITEMS: &[DemoItem] = &[
    ("printers", "黑白激光打印机", "惠普", "M404dn", "A4 黑白 38页/分钟 自动双面 有线网络", "台", "2599.00", "2899.00"),
    ("printers", "彩色激光打印机", "惠普", "M255dw", "A4 彩色 21页/分钟 无线 双面", "台", "3299.00", "3499.00"),
    (
        "printers",
        "黑白激光多功能一体机",
        "佳能",
        "MF445dw",
        "打印/复印/扫描/传真 A4 38页/分钟",
        "台",
        "3899.00",
        "4199.00",
    ),
    ("printers", "喷墨打印机", "爱普生", "L4268", "墨仓式 A4 彩色 无线 双面", "台", "1499.00", "1599.00"),
    ("printers", "针式打印机", "爱普生", "LQ-630KII", "82列 平推 发票打印", "台", "1899.00", "1999.00"),
    (
        "printers",
        "A3黑白数码复合机",
        "佳能",
        "iR 2625",
        "A3 25页/分钟 复印/打印/扫描 双纸盒",
        "台",
        "15800.00",
        "16800.00",
    ),
    ("consumables", "黑色硒鼓", "惠普", "CF277A", "适用M404/M428 约2600页", "支", "599.00", "649.00"),
    ("consumables", "原装墨水套装", "爱普生", "T01V", "四色 适用L系列", "套", "219.00", "239.00"),
    ("consumables", "碳粉盒", "佳能", "NPG-59", "适用iR 2625 约10200页", "支", "329.00", "359.00"),
    ("paper", "复印纸", "得力", "A4 70g", "A4 70g 500张/包 8包/箱", "箱", "165.00", "178.00"),
    ("paper", "复印纸", "晨光", "A4 80g", "A4 80g 500张/包 5包/箱", "箱", "139.00", "149.00"),
    ("paper", "复印纸", "得力", "A3 70g", "A3 70g 500张/包 4包/箱", "箱", "175.00", "189.00"),
    ("office_supplies", "订书机", "得力", "0414", "12号 订书量25页", "个", "18.50", "22.00"),
    ("office_supplies", "重型订书机", "得力", "0395", "可订240页", "个", "68.00", "75.00"),
    ("office_supplies", "中性笔", "晨光", "GP-1008", "0.5mm 黑色 12支/盒", "盒", "14.80", "16.00"),
    ("office_supplies", "文件柜标签夹", "齐心", "A1245", "A4 强力夹 10个/包", "包", "29.90", "32.00"),
    ("office_supplies", "碎纸机", "得力", "9935", "4级保密 单次8张 23L", "台", "459.00", "499.00"),
    ("furniture", "人体工学办公椅", "震旦", "CHA-2101", "网布靠背 可调扶手 头枕", "把", "899.00", "1080.00"),
    ("furniture", "职员办公椅", "震旦", "CHA-1508", "黑色网布 固定扶手", "把", "399.00", "450.00"),
    ("furniture", "会议椅", "震旦", "CHM-320", "弓形 皮面 免安装", "把", "329.00", "360.00"),
    ("furniture", "办公桌", "震旦", "DSK-1400", "1400×700×750mm 钢木结构 带锁边柜", "张", "1290.00", "1450.00"),
    ("furniture", "钢制文件柜", "震旦", "FC-1850", "1850×900×400mm 双开门 五层", "组", "980.00", "1100.00"),
    ("computers", "台式计算机", "联想", "开天M90z", "国产CPU 16G/512G SSD 23.8英寸一体机", "台", "6299.00", "6599.00"),
    ("computers", "便携式计算机", "华为", "MateBook 14", "i5/16G/512G 14英寸 2.5K", "台", "5799.00", "5999.00"),
    ("computers", "便携式计算机", "联想", "ThinkPad E14", "i5/16G/512G 14英寸", "台", "5199.00", "5499.00"),
    ("computers", "台式计算机", "戴尔", "OptiPlex 7010", "i7/16G/1T SSD 含23.8英寸显示器", "台", "6899.00", "7199.00"),
    ("appliances", "壁挂式空调", "格力", "KFR-35GW", "1.5匹 一级能效 变频冷暖", "台", "3299.00", "3599.00"),
    ("appliances", "立柜式空调", "美的", "KFR-72LW", "3匹 一级能效 变频冷暖", "台", "7699.00", "7999.00"),
    ("appliances", "饮水机", "美的", "YR1226S", "立式 冷热型", "台", "699.00", "749.00"),
    ("av_equipment", "投影仪", "爱普生", "CB-X50", "3600流明 XGA 标清", "台", "4599.00", "4899.00"),
    ("av_equipment", "会议平板", "海信", "86MR6DE", "86英寸 4K 触控 含移动支架", "台", "18900.00", "19900.00"),
    ("network", "千兆交换机", "华为", "S1730S-L24T", "24口千兆 非网管", "台", "899.00", "990.00"),
    ("network", "无线路由器", "华为", "AX3 Pro", "Wi-Fi 6 千兆", "台", "329.00", "349.00"),
];

/// Agreements of the live mall: (supplier user, title, categories).
const LIVE_AGREEMENTS: &[(&str, &str, &[&str])] = &[
    ("supplier1", "办公设备协议供货（星辰科技）", &["printers", "consumables", "computers", "network"]),
    (
        "supplier2",
        "办公用品及设备协议供货（远达办公）",
        &["printers", "consumables", "paper", "office_supplies", "furniture"],
    ),
    (
        "supplier4",
        "信息化设备协议供货（蓝海信息）",
        &["printers", "computers", "av_equipment", "network", "appliances"],
    ),
];

/// Seeds the live mall through the services.
pub async fn seed_live(state: &AppState, centre: &Actor, buyer: &Actor) -> AppResult<()> {
    let now = state.clock.now();
    let actor = |name: &'static str| async move {
        accounts::actor_by_username(&state.db, name)
            .await?
            .ok_or_else(|| AppError::internal(format!("demo user {name} missing")))
    };
    let yuan = |s: &str| Money::parse_yuan(s).unwrap_or(Money::ZERO);
    let mut first_items: Vec<(&str, Uuid)> = Vec::new();
    for (k, (user, title, cats)) in LIVE_AGREEMENTS.iter().enumerate() {
        let supplier = actor(user).await?;
        let a = agreements::create(
            &state.mall,
            centre,
            AgreementInput {
                title: (*title).into(),
                kind: AgreementKind::Goods,
                supplier: supplier.org_public_id,
                categories: cats.iter().map(|c| c.to_string()).collect(),
                service_area: "某区全域".into(),
                valid_from: now - TimeDelta::days(200),
                valid_to: now + TimeDelta::days(165),
                source_tender: None,
            },
        )
        .await?;
        for (i, it) in ITEMS.iter().enumerate().filter(|(_, it)| cats.contains(&it.0)) {
            // Each supplier's price differs a little from the others'.
            let price = Money::from_fen(yuan(it.6).fen() - (k as i64 * 2_000) % (yuan(it.6).fen() / 20).max(1));
            let v = agreements::add_item(
                &state.mall,
                centre,
                a.id,
                ItemInput {
                    category: it.0.into(),
                    name: it.1.into(),
                    brand: it.2.into(),
                    model: it.3.into(),
                    spec: it.4.into(),
                    unit: it.5.into(),
                    price,
                    market_price: yuan(it.7),
                },
            )
            .await?;
            if i < 2 || it.1 == "复印纸" || it.1 == "人体工学办公椅" {
                first_items.push((user, v.id));
            }
        }
    }
    // A price raised too far, and one above the market: the centre sees both flagged.
    if let Some((user, id)) = first_items.first() {
        let supplier = actor(user).await?;
        agreements::set_price(
            &state.mall,
            &supplier,
            *id,
            agreements::PriceInput { price: yuan("2999.00"), market_price: None },
        )
        .await?;
    }
    // Orders in several states.
    let supplier_of = |u: &str| first_items.iter().filter(|(s, _)| *s == u).map(|(_, id)| *id).collect::<Vec<_>>();
    let steps: &[&[OrderAction]] = &[
        &[],
        &[OrderAction::Confirm],
        &[OrderAction::Confirm, OrderAction::Deliver],
        &[OrderAction::Confirm, OrderAction::Deliver, OrderAction::Accept, OrderAction::Pay],
    ];
    let mut n = 0;
    for user in ["supplier2", "supplier1", "supplier4"] {
        let supplier = actor(user).await?;
        for item in supplier_of(user) {
            let it = agreements::item_view(&state.mall, item).await?;
            let qty = 3;
            let unit_price = Money::from_fen(it.price.fen() * 97 / 100);
            let budget = Money::from_fen(((it.price.fen() * qty) / 10_000 + 1) * 10_000);
            if budget.fen() > state.settings.mall.direct_purchase_limit_yuan * 100 {
                continue;
            }
            let o = orders::direct_purchase(
                &state.mall,
                buyer,
                DirectPurchase {
                    lines: vec![LineInput { item, quantity: qty, unit_price: Some(unit_price) }],
                    budget,
                    note: "送至区教育局办公室".into(),
                },
            )
            .await?;
            for a in steps[n % steps.len()] {
                let by = if a.by_supplier() == Some(true) { &supplier } else { buyer };
                let note = match a {
                    OrderAction::Pay => "国库集中支付 2026-0001".to_string(),
                    _ => String::new(),
                };
                orders::step(&state.mall, by, o.id, StepInput { action: *a, note, inspector: "张采购".into() }).await?;
            }
            n += 1;
        }
    }
    // An open quotation with two quotes so far.
    let q = quotations::create(
        &state.mall,
        buyer,
        QuotationInput {
            category: "printers".into(),
            title: "采购黑白激光打印机20台".into(),
            requirement: "A4 黑白激光，≥35页/分钟，自动双面，有线网络，原厂三年上门保修，15日内送货到区教育局。".into(),
            quantity: 20,
            unit: "台".into(),
            budget: yuan("56000.00"),
            hours: 48,
        },
    )
    .await?;
    for (user, price) in [("supplier1", "2480.00"), ("supplier4", "2455.00")] {
        let s = actor(user).await?;
        quotations::quote(
            &state.mall,
            &s,
            q.id,
            QuoteInput {
                unit_price: yuan(price),
                brand: "惠普".into(),
                model: "M404dn".into(),
                note: "三年原厂上门保修".into(),
            },
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_supplier_names_are_distinct_and_carry_no_numbers() {
        let names: std::collections::HashSet<String> =
            (0..reference::SUPPLIERS_TOTAL).map(|i| supplier_name(i, "有限公司")).collect();
        assert_eq!(names.len(), reference::SUPPLIERS_TOTAL);
        assert!(names.iter().all(|n| !n.chars().any(|c| c.is_ascii_digit())));
        assert!(NAME_A.len() * NAME_B.len() * TRADE.len() >= reference::SUPPLIERS_TOTAL);
    }

    #[test]
    fn apportion_is_exact() {
        let parts = apportion(1_000, &[1, 1, 1]);
        assert_eq!(parts.iter().sum::<i64>(), 1_000);
        assert_eq!(parts, vec![334, 333, 333]);
        let w: Vec<i64> = (1..=8469).collect();
        assert_eq!(apportion(reference::DEAL_BUDGET_FEN, &w).iter().sum::<i64>(), reference::DEAL_BUDGET_FEN);
        assert_eq!(apportion(5, &[0, 0]), vec![0, 0]);
    }
}
