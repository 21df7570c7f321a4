//! E-mall catalogue search: 1,000,000 synthetic framework-agreement items indexed with
//! `CatalogueIndex` (CJK bigrams, tantivy) in a temporary directory, then typical buyer queries,
//! each run many times: p50, p99 and max latency per query and overall, against the goal of
//! p99 ≤ 50 ms. Baseline measured in the same run: a naive scan (`str::contains` over each
//! item's name, brand, model and spec, with the same filters) of the same items in memory. Run:
//!
//! ```sh
//! cargo bench --bench catalogue
//! # defaults: TENDERHALL_CATALOGUE_ITEMS=1000000 TENDERHALL_CATALOGUE_RUNS=200 TENDERHALL_CATALOGUE_SCAN_RUNS=5
//! ```
//!
//! The items are generated deterministically (fixed seed), so every run indexes the same
//! catalogue. Searches run one at a time on one thread.

use std::time::{Duration, Instant};
use tenderhall::mall::search::{CatalogueIndex, ItemDoc, SearchQuery, Sort};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// SplitMix64: small, fast and deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo).max(1) as u64) as i64
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A catalogue category and the words its items are made of.
struct Category {
    code: &'static str,
    /// Relative number of items.
    weight: u64,
    products: &'static [&'static str],
    brands: &'static [&'static str],
    models: &'static [&'static str],
    specs: &'static [&'static str],
    /// Price range in fen.
    price: (i64, i64),
}

const CATEGORIES: &[Category] = &[
    Category {
        code: "A02010104",
        weight: 5,
        products: &["台式计算机", "台式电脑", "商用台式机", "一体机电脑", "图形工作站"],
        brands: &["联想", "戴尔", "惠普", "华为", "清华同方", "长城"],
        models: &["启天M437", "OptiPlex 7010", "ProDesk 480 G9", "擎云B730", "超翔TK630", "世恒TF7"],
        specs: &[
            "i5-12500/16G/512G SSD/23.8英寸",
            "i7-13700/32G/1T SSD/27英寸",
            "国产CPU/16G/512G/23.8英寸",
            "i3-12100/8G/256G SSD/21.5英寸",
        ],
        price: (350_000, 1_200_000),
    },
    Category {
        code: "A02010105",
        weight: 5,
        products: &["笔记本电脑", "轻薄笔记本电脑", "商务笔记本电脑", "二合一笔记本电脑", "移动工作站"],
        brands: &["联想", "华为", "戴尔", "惠普", "荣耀", "小米"],
        models: &["ThinkPad E14", "MateBook 14", "Latitude 5440", "ProBook 450 G10", "MagicBook X16", "昭阳K4e"],
        specs: &["14英寸 i5 16G 512G", "15.6英寸 i7 32G 1T", "13.3英寸 i5 8G 256G", "16英寸 R7 16G 1T"],
        price: (400_000, 1_500_000),
    },
    Category {
        code: "A02021001",
        weight: 8,
        products: &[
            "黑白激光打印机",
            "彩色激光打印机",
            "喷墨打印机",
            "针式打印机",
            "多功能一体打印机",
            "标签打印机",
            "票据打印机",
        ],
        brands: &["惠普", "佳能", "爱普生", "兄弟", "联想", "得力", "奔图", "震旦"],
        models: &[
            "M404dn",
            "M405d",
            "LBP2900",
            "L3256",
            "LJ2605DN",
            "DP-750",
            "HL-2260D",
            "P2500W",
            "M1136",
            "LaserJet Pro 4104dw",
        ],
        specs: &["A4 黑白 双面 网络", "A4 彩色 无线", "A3 黑白 40页/分钟", "A4 24页/分钟 USB"],
        price: (80_000, 1_500_000),
    },
    Category {
        code: "A02020100",
        weight: 2,
        products: &["数码复印机", "彩色数码复印机", "黑白复合机", "A3多功能复合机"],
        brands: &["佳能", "理光", "东芝", "京瓷", "夏普", "柯尼卡美能达", "震旦"],
        models: &[
            "iR-ADV C3930",
            "MP 2555SP",
            "e-STUDIO2829A",
            "TASKalfa 2554ci",
            "MX-C3082R",
            "bizhub C300i",
            "AD289s",
        ],
        specs: &["A3 彩色 35页/分钟 双面输稿器", "A3 黑白 45页/分钟", "A3 彩色 25页/分钟 含工作台"],
        price: (1_500_000, 6_000_000),
    },
    Category {
        code: "A02020600",
        weight: 2,
        products: &["投影仪", "商务投影仪", "激光投影仪", "教育投影仪", "短焦投影仪", "投影幕布"],
        brands: &["爱普生", "明基", "索尼", "极米", "NEC", "松下", "优派"],
        models: &["CB-X06", "MW560", "VPL-EX570", "H6", "NP-CD1100", "PT-WX3400", "PA503W"],
        specs: &["3800流明 1080P", "4000流明 WXGA", "5000流明 激光光源", "3300流明 XGA 短焦"],
        price: (300_000, 2_500_000),
    },
    Category {
        code: "A02061800",
        weight: 4,
        products: &["壁挂式空调", "柜式空调", "变频空调", "中央空调", "吸顶式空调", "空调扇"],
        brands: &["格力", "美的", "海尔", "海信", "奥克斯", "志高", "大金"],
        models: &["KFR-35GW/NhGc1B", "KFR-26GW/N8MJA1", "KFR-72LW/NhZaB1W", "KFR-50LW/BP3", "RFC280MXEN"],
        specs: &["1.5匹 一级能效 冷暖", "1匹 三级能效 冷暖", "3匹 二级能效 柜机", "5匹 一级能效 冷暖"],
        price: (200_000, 2_000_000),
    },
    Category {
        code: "A05010100",
        weight: 8,
        products: &[
            "人体工学办公椅",
            "职员办公椅",
            "网布办公椅",
            "皮质老板椅",
            "会议椅",
            "培训椅",
            "休闲椅",
            "办公转椅",
        ],
        brands: &["震旦", "圣奥", "永艺", "得力", "黑白调", "西昊", "恒林"],
        models: &["YZ-101", "HY-230", "XY-1808", "SA-66", "DL-4090", "M18"],
        specs: &["网布 可调扶手 带头枕", "皮面 五星脚 升降", "塑料 弓形 可叠放", "钢制 带写字板"],
        price: (20_000, 300_000),
    },
    Category {
        code: "A05010200",
        weight: 5,
        products: &["办公桌", "职员办公桌", "会议桌", "培训桌", "班台", "电脑桌", "屏风工作位"],
        brands: &["震旦", "圣奥", "得力", "美时", "冠美", "优比"],
        models: &["ZD-1400", "SA-1600", "MS-2412", "GM-1206", "YB-108"],
        specs: &["1400*700*750mm 钢木", "1600*800*760mm 实木贴皮", "2400*1200*760mm 板式", "1200*600*750mm E1级板材"],
        price: (50_000, 800_000),
    },
    Category {
        code: "A05010400",
        weight: 4,
        products: &["文件柜", "铁皮文件柜", "保密柜", "书柜", "更衣柜", "档案密集架"],
        brands: &["震旦", "圣奥", "得力", "虎丘", "新盛", "迪美"],
        models: &["WJG-1850", "BM-900", "HQ-5", "XS-390", "DM-2T"],
        specs: &["1850*900*390mm 钢制", "双开门 带锁", "0.8mm冷轧钢", "五节 玻璃门"],
        price: (40_000, 500_000),
    },
    Category {
        code: "A09010100",
        weight: 12,
        products: &["复印纸", "打印纸", "彩色复印纸", "针式打印纸", "档案纸", "牛皮纸", "相片纸"],
        brands: &["得力", "齐心", "晨光", "亚太森博", "APP", "天章", "百旺"],
        models: &["7391", "7401", "ZX-70", "APY-A4", "百旺241", "TZ-80"],
        specs: &[
            "A4 70g 500张/包",
            "A4 80g 500张/包",
            "A3 70g 500张/包",
            "A4 70g 8包/箱",
            "A4 80g 5包/箱",
            "241-1 二等分 1000页",
        ],
        price: (1_500, 30_000),
    },
    Category {
        code: "A09020000",
        weight: 12,
        products: &["碳粉", "硒鼓", "墨盒", "色带", "墨粉盒", "墨水", "鼓架"],
        brands: &["惠普", "佳能", "得力", "格之格", "天威", "莱盛", "爱普生", "兄弟"],
        models: &["CF226A", "CRG-328", "T6641", "TN-2325", "CF410A", "LC-3617", "CC388A", "PG-845"],
        specs: &[
            "适用 M402/M426 约3100页",
            "适用 LBP2900 约2000页",
            "黑色 70ml",
            "适用 HL-2260 约2600页",
            "彩色 四色套装",
        ],
        price: (3_000, 120_000),
    },
    Category {
        code: "A09030000",
        weight: 20,
        products: &[
            "订书机",
            "订书钉",
            "签字笔",
            "中性笔",
            "文件夹",
            "档案盒",
            "计算器",
            "剪刀",
            "胶带",
            "便利贴",
            "笔记本",
            "橡皮擦",
            "回形针",
            "修正带",
            "白板笔",
            "印台",
        ],
        brands: &["得力", "晨光", "齐心", "真彩", "三木", "国誉", "百乐", "斑马"],
        models: &["0414", "K35", "GP-1280", "5601", "ABS91639", "33128", "BX-V5", "JJ15"],
        specs: &["12号 可订20页", "0.5mm 黑色 12支/盒", "A4 55mm 蓝色", "12位 太阳能双电源", "24/6 1000枚/盒"],
        price: (100, 20_000),
    },
    Category {
        code: "A02061900",
        weight: 5,
        products: &["冰箱", "洗衣机", "电热水壶", "饮水机", "微波炉", "电风扇", "空气净化器", "除湿机"],
        brands: &["海尔", "美的", "格力", "海信", "西门子", "小米", "苏泊尔", "九阳"],
        models: &["BCD-470WDPG", "MG100V11D", "SWF17E", "YR1726S-X", "M1-L213B", "FS40-13C", "KJ500G"],
        specs: &["470升 风冷无霜", "10公斤 滚筒", "1.7L 304不锈钢", "立式 温热型", "20L 转盘式"],
        price: (5_000, 800_000),
    },
    Category {
        code: "A02010200",
        weight: 4,
        products: &["交换机", "路由器", "无线AP", "防火墙", "光纤收发器"],
        brands: &["华为", "华三", "锐捷", "TP-LINK", "思科", "中兴"],
        models: &["S5735-L24T4S", "ER3200G2", "AP4050DN", "USG6510E", "S1730S-L8T", "RG-S2910"],
        specs: &["24口千兆 4光口", "8口 企业级", "双频 室内型", "千兆 机架式"],
        price: (10_000, 2_000_000),
    },
    Category {
        code: "A02021100",
        weight: 4,
        products: &["扫描仪", "碎纸机", "装订机", "考勤机", "点钞机", "保险柜"],
        brands: &["富士通", "爱普生", "得力", "科密", "齐心", "惠朗", "中崎"],
        models: &["fi-7160", "DS-530II", "9904", "C-310", "3910", "BGX-5/D1"],
        specs: &["A4 双面 60页/分钟", "5级保密 碎段", "热熔 50mm", "人脸识别 指纹", "A类 点验钞"],
        price: (20_000, 600_000),
    },
];

const NAME_PREFIXES: &[&str] = &["", "", "", "", "加厚", "经济型", "高端", "新款", "商用", "国产", "环保"];
const CITIES: &[&str] =
    &["北京", "上海", "广州", "杭州", "南京", "成都", "武汉", "西安", "郑州", "长沙", "合肥", "济南"];
const FIRMS: &[&str] = &["恒信", "华盛", "鑫达", "博远", "中科", "天成", "宏图", "金源", "瑞丰", "联创"];
const TRADES: &[&str] = &["商贸", "科技", "办公用品", "电子", "家具", "信息技术"];
const SIZES: &[&str] = &["large", "medium", "medium", "small", "small", "small", "small", "micro", "micro", ""];
const SUPPLIERS: u64 = 3_000;
/// 2023-01-01T00:00:00Z.
const EPOCH_2023: i64 = 1_672_531_200;
const DAY: i64 = 86_400;
/// 2024-06-01T00:00:00Z, "now" for the sellable queries.
const NOW: i64 = 1_717_200_000;

fn generate(n: usize) -> Vec<ItemDoc> {
    let mut rng = Rng(0x7E4D_E27A_11C0_FFEE);
    let total_weight: u64 = CATEGORIES.iter().map(|c| c.weight).sum();
    let suppliers: Vec<(String, &str)> = (0..SUPPLIERS)
        .map(|_| {
            let name = format!("{}{}{}有限公司", rng.pick(CITIES), rng.pick(FIRMS), rng.pick(TRADES));
            (name, rng.pick(SIZES))
        })
        .collect();
    (0..n)
        .map(|i| {
            let mut w = rng.below(total_weight);
            let category = CATEGORIES
                .iter()
                .find(|c| {
                    if w < c.weight {
                        true
                    } else {
                        w -= c.weight;
                        false
                    }
                })
                .unwrap_or(&CATEGORIES[0]);
            let brand = rng.pick(category.brands);
            let product = rng.pick(category.products);
            let prefix = rng.pick(NAME_PREFIXES);
            let name = if rng.chance(30) { format!("{brand} {prefix}{product}") } else { format!("{prefix}{product}") };
            let mut spec = rng.pick(category.specs).to_string();
            if rng.chance(20) {
                spec.push_str(" 含税含运 送货上门");
            }
            let supplier = rng.below(SUPPLIERS);
            let (supplier_name, supplier_size) = &suppliers[supplier as usize];
            let valid_from = EPOCH_2023 + rng.range(0, 730) * DAY;
            let valid_to = valid_from + rng.range(180, 730) * DAY;
            ItemDoc {
                id: i as i64 + 1,
                name,
                brand: brand.to_string(),
                model: rng.pick(category.models).to_string(),
                spec,
                category: category.code.to_string(),
                supplier_id: supplier as i64 + 1,
                supplier_name: supplier_name.clone(),
                supplier_size: supplier_size.to_string(),
                price_fen: rng.range(category.price.0, category.price.1),
                valid_from,
                valid_to,
                sellable: !rng.chance(5),
            }
        })
        .collect()
}

/// The naive baseline: every item's text in one lowercased string, and its filter values.
struct ScanItem {
    id: i64,
    text: String,
    category: String,
    brand: String,
    supplier_id: i64,
    supplier_size: String,
    price_fen: i64,
    valid_from: i64,
    valid_to: i64,
    sellable: bool,
}

fn scan_item(d: &ItemDoc) -> ScanItem {
    ScanItem {
        id: d.id,
        text: format!("{} {} {} {}", d.name, d.brand, d.model, d.spec).to_lowercase(),
        category: d.category.clone(),
        brand: d.brand.clone(),
        supplier_id: d.supplier_id,
        supplier_size: d.supplier_size.clone(),
        price_fen: d.price_fen,
        valid_from: d.valid_from,
        valid_to: d.valid_to,
        sellable: d.sellable,
    }
}

/// Scans all items: total and the first page (by price for price sorts, else in id order).
fn scan(items: &[ScanItem], q: &SearchQuery) -> (usize, Vec<i64>) {
    let lowered = q.text.to_lowercase();
    let words: Vec<&str> = lowered.split_whitespace().collect();
    let mut hits: Vec<&ScanItem> = items
        .iter()
        .filter(|it| {
            words.iter().all(|w| it.text.contains(w))
                && q.category.as_ref().is_none_or(|c| &it.category == c)
                && q.brand.as_ref().is_none_or(|b| &it.brand == b)
                && q.supplier_id.is_none_or(|s| it.supplier_id == s)
                && (q.supplier_sizes.is_empty() || q.supplier_sizes.contains(&it.supplier_size))
                && q.min_price_fen.is_none_or(|p| it.price_fen >= p)
                && q.max_price_fen.is_none_or(|p| it.price_fen <= p)
                && q.sellable_at.is_none_or(|t| it.sellable && it.valid_from <= t && t < it.valid_to)
        })
        .collect();
    match q.sort {
        Sort::PriceAsc => hits.sort_by_key(|it| it.price_fen),
        Sort::PriceDesc => hits.sort_by_key(|it| std::cmp::Reverse(it.price_fen)),
        Sort::Relevance => {}
    }
    (hits.len(), hits.iter().skip(q.offset).take(q.limit).map(|it| it.id).collect())
}

fn queries() -> Vec<(&'static str, SearchQuery)> {
    let t = |text: &str| SearchQuery { text: text.to_string(), limit: 20, ..SearchQuery::default() };
    vec![
        ("打印机", t("打印机")),
        ("办公椅", t("办公椅")),
        ("笔记本电脑", t("笔记本电脑")),
        ("复印纸 A4", t("复印纸 A4")),
        ("得力 订书机", t("得力 订书机")),
        ("碳粉", t("碳粉")),
        ("空调", t("空调")),
        ("投影仪", t("投影仪")),
        ("椅 (one ideograph)", t("椅")),
        ("M404 (model prefix)", t("M404")),
        ("柜 + category A05010400", SearchQuery { category: Some("A05010400".into()), ..t("柜") }),
        (
            "打印机 1000-3000 yuan",
            SearchQuery { min_price_fen: Some(100_000), max_price_fen: Some(300_000), ..t("打印机") },
        ),
        ("复印纸 by price asc", SearchQuery { sort: Sort::PriceAsc, ..t("复印纸") }),
        ("办公椅 sellable now", SearchQuery { sellable_at: Some(NOW), ..t("办公椅") }),
        (
            "得力 small/micro suppliers",
            SearchQuery { supplier_sizes: vec!["small".into(), "micro".into()], ..t("得力") },
        ),
        (
            "browse category, sellable, by price",
            SearchQuery { category: Some("A02021001".into()), sellable_at: Some(NOW), sort: Sort::PriceAsc, ..t("") },
        ),
        ("browse all", t("")),
        ("browse all, sellable now", SearchQuery { sellable_at: Some(NOW), ..t("") }),
    ]
}

fn dir_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Peak resident memory of this process, from /proc (Linux only).
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

fn main() {
    let n = env_usize("TENDERHALL_CATALOGUE_ITEMS", 1_000_000);
    let runs = env_usize("TENDERHALL_CATALOGUE_RUNS", 200);
    let scan_runs = env_usize("TENDERHALL_CATALOGUE_SCAN_RUNS", 5);
    let chunk = 10_000;

    let started = Instant::now();
    let items = generate(n);
    println!("catalogue: {n} items generated in {:.1} s", started.elapsed().as_secs_f64());

    let dir = tempfile::tempdir().expect("temp dir");
    let index = CatalogueIndex::open_in_dir(dir.path()).expect("open index");
    let started = Instant::now();
    let mut chunk_times = Vec::new();
    for (i, docs) in items.chunks(chunk).enumerate() {
        let t = Instant::now();
        index.apply(docs.to_vec(), i as i64 + 1).expect("apply");
        chunk_times.push(t.elapsed());
    }
    let build = started.elapsed();
    chunk_times.sort();
    println!(
        "build: {n} items in chunks of {chunk}: {:.1} s ({:.0} items/s), chunk p50 {:.0} ms, max {:.0} ms; index {:.0} MiB on disk",
        build.as_secs_f64(),
        n as f64 / build.as_secs_f64(),
        ms(percentile(&chunk_times, 0.5)),
        ms(percentile(&chunk_times, 1.0)),
        dir_size(dir.path()) as f64 / (1024.0 * 1024.0),
    );

    // An ordinary update: 1,000 existing items change price (upsert with deletes).
    let mut rng = Rng(42);
    let updates: Vec<ItemDoc> = (0..1_000)
        .map(|_| {
            let mut d = items[rng.below(n as u64) as usize].clone();
            d.price_fen += 100;
            d
        })
        .collect();
    let t = Instant::now();
    index.apply(updates, index.revision() + 1).expect("update");
    println!("update: 1000 existing items upserted and committed in {:.0} ms", ms(t.elapsed()));

    let scan_items: Vec<ScanItem> = items.iter().map(scan_item).collect();
    drop(items);

    println!();
    println!(
        "{:<38} {:>8} {:>8} {:>9} {:>9} {:>9} {:>10} {:>7}",
        "query", "hits", "scan", "p50 ms", "p99 ms", "max ms", "scan p50", "ratio"
    );
    let mut all = Vec::new();
    let mut all_scan = Vec::new();
    for (label, q) in queries() {
        let hits = index.search(&q).expect("search");
        for _ in 0..20 {
            index.search(&q).expect("search");
        }
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            let h = index.search(&q).expect("search");
            times.push(t.elapsed());
            std::hint::black_box(h);
        }
        let mut scan_times = Vec::with_capacity(scan_runs);
        let mut scan_total = 0;
        for _ in 0..scan_runs {
            let t = Instant::now();
            let (total, ids) = scan(&scan_items, &q);
            scan_times.push(t.elapsed());
            scan_total = total;
            std::hint::black_box(ids);
        }
        times.sort();
        scan_times.sort();
        let p50 = percentile(&times, 0.5);
        let scan_p50 = percentile(&scan_times, 0.5);
        println!(
            "{:<38} {:>8} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>10.1} {:>7.4}",
            label,
            hits.total,
            scan_total,
            ms(p50),
            ms(percentile(&times, 0.99)),
            ms(percentile(&times, 1.0)),
            ms(scan_p50),
            p50.as_secs_f64() / scan_p50.as_secs_f64(),
        );
        all.extend(times);
        all_scan.extend(scan_times);
    }
    all.sort();
    all_scan.sort();
    let p99 = percentile(&all, 0.99);
    println!();
    println!(
        "overall: {} searches, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; naive scan p50 {:.1} ms; ratio index/scan at p50 {:.4}",
        all.len(),
        ms(percentile(&all, 0.5)),
        ms(p99),
        ms(percentile(&all, 1.0)),
        ms(percentile(&all_scan, 0.5)),
        percentile(&all, 0.5).as_secs_f64() / percentile(&all_scan, 0.5).as_secs_f64(),
    );
    println!(
        "goal: p99 <= 50 ms over {n} items: p99 {:.2} ms, {}",
        ms(p99),
        if p99 <= Duration::from_millis(50) { "met" } else { "NOT met" }
    );
    if let Some(rss) = peak_rss_mib() {
        println!("peak resident memory of the process (items for the scan included): {rss} MiB");
    }
}
