//! The evaluation criteria (评标办法) of a tender, set on its draft and fixed at publication:
//! the procurement category, the review items (资格审查, 符合性审查: pass or fail), the scoring
//! items (maximum points, step, objective or subjective, technical part or not), the price
//! weight, the small and micro enterprise price deduction (价格扣除) and whether the technical
//! part is evaluated anonymously (暗标).
//!
//! Points are held in hundredths (`4000` is 40.00 points), never as a float. The rules checked
//! here are those of 财政部令第87号 (art. 55: the price weight of goods at least 30 %, of
//! services at least 10 %; the scores of a comprehensive method add up to 100) and
//! 财库〔2022〕19号 (the price deduction of small and micro enterprises: 10–20 % for goods and
//! services, 3–5 % for works, none where the lot is reserved for them); each number is a
//! setting of `[evaluation]`.

use super::model::EvaluationMethod;
use crate::{accounts::model::string_enum, config::EvaluationSettings, error::FieldError};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use utoipa::ToSchema;

string_enum! {
    /// 采购品目类别: what the lot buys, which sets the least price weight.
    ProcurementCategory {
        /// 货物.
        Goods = "goods",
        /// 服务.
        Services = "services",
        /// 工程.
        Works = "works",
    }
}

/// 100.00 points, in hundredths.
pub const FULL_MARKS: i64 = 10_000;

/// A pass/fail item of the qualification or compliance review.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct ReviewItem {
    /// Machine key, unique within the criteria (`[a-z0-9_]`, at most 40).
    pub key: String,
    /// What the committee checks (Chinese, at most 200 characters).
    pub label: String,
}

/// A scoring item of the detailed evaluation (详细评审).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct ScoringItem {
    /// Machine key, unique within the criteria.
    pub key: String,
    /// What is scored (at most 200 characters).
    pub label: String,
    /// Highest score, in hundredths of a point.
    pub max: i64,
    /// The step a score moves by, in hundredths (50 is 0.5 point); the maximum is a multiple.
    pub step: i64,
    /// 客观分: scored from facts (certificates, references), so every expert must give the same.
    pub objective: bool,
    /// Part of the technical offer, which is anonymous when the criteria say so.
    #[serde(default)]
    pub technical: bool,
}

/// The criteria of a tender.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct Criteria {
    /// What the tender buys.
    pub category: ProcurementCategory,
    /// The weight of the price score in hundredths (3000 = 30 points of 100); zero under the
    /// lowest evaluated price method.
    pub price_weight: i64,
    /// The price deduction for small and micro enterprises, in per cent; zero when the lot is
    /// reserved for them.
    pub sme_deduction_percent: u32,
    /// 专门面向中小企业: the lot is reserved for small and micro enterprises (no deduction then).
    #[serde(default)]
    pub sme_reserved: bool,
    /// 暗标: the technical part is evaluated without the bidders' names.
    #[serde(default)]
    pub technical_anonymous: bool,
    /// 资格审查 items.
    pub qualification: Vec<ReviewItem>,
    /// 符合性审查 items.
    pub compliance: Vec<ReviewItem>,
    /// Scoring items (none under the lowest evaluated price method).
    pub scoring: Vec<ScoringItem>,
}

/// Most items of each list.
pub const MAX_REVIEW_ITEMS: usize = 30;
/// Most scoring items.
pub const MAX_SCORING_ITEMS: usize = 40;

fn review(key: &str, label: &str) -> ReviewItem {
    ReviewItem { key: key.into(), label: label.into() }
}

fn scoring(key: &str, label: &str, max: i64, step: i64, objective: bool, technical: bool) -> ScoringItem {
    ScoringItem { key: key.into(), label: label.into(), max, step, objective, technical }
}

impl Criteria {
    /// The criteria a new draft starts from, which its managers then adapt: the usual review
    /// items and, for comprehensive scoring, goods scored 30 on price and 70 on the offer.
    pub fn template(method: EvaluationMethod, rules: &EvaluationSettings) -> Criteria {
        let qualification = vec![
            review("legal_entity", "具有独立承担民事责任的能力（营业执照等证明文件）"),
            review("tax_and_social_security", "依法缴纳税收和社会保障资金的证明"),
            review("no_bad_record", "参加政府采购活动前三年内在经营活动中没有重大违法记录"),
        ];
        let compliance = vec![
            review("signed_and_sealed", "投标文件按招标文件要求签署、盖章"),
            review("validity_period", "投标有效期满足招标文件要求"),
            review("no_major_deviation", "无重大偏离，满足招标文件实质性要求"),
        ];
        let (price_weight, scoring_items) = match method {
            EvaluationMethod::LowestPrice => (0, Vec::new()),
            EvaluationMethod::ComprehensiveScoring => (
                rules.goods_min_price_weight * 100,
                vec![
                    scoring("technical_solution", "技术方案的完整性与可行性", 3000, 50, false, true),
                    scoring("implementation_plan", "实施方案与进度安排", 2000, 50, false, true),
                    scoring("after_sales", "售后服务承诺", 1000, 50, false, false),
                    scoring("references", "近三年同类项目业绩（每项2分，最多5项）", 1000, 200, true, false),
                ],
            ),
        };
        Criteria {
            category: ProcurementCategory::Goods,
            price_weight,
            sme_deduction_percent: rules.sme_min_percent,
            sme_reserved: false,
            technical_anonymous: false,
            qualification,
            compliance,
            scoring: scoring_items,
        }
    }

    /// The scoring item of `key`.
    pub fn scoring_item(&self, key: &str) -> Option<&ScoringItem> {
        self.scoring.iter().find(|i| i.key == key)
    }

    /// The least price weight of the category, in hundredths.
    pub fn min_price_weight(category: ProcurementCategory, rules: &EvaluationSettings) -> i64 {
        100 * match category {
            ProcurementCategory::Goods => rules.goods_min_price_weight,
            ProcurementCategory::Services => rules.services_min_price_weight,
            ProcurementCategory::Works => rules.works_min_price_weight,
        }
    }

    /// The range of the small and micro enterprise deduction of the category, in per cent.
    pub fn sme_range(category: ProcurementCategory, rules: &EvaluationSettings) -> (u32, u32) {
        match category {
            ProcurementCategory::Works => (rules.works_sme_min_percent, rules.works_sme_max_percent),
            _ => (rules.sme_min_percent, rules.sme_max_percent),
        }
    }

    /// Every rule these criteria break under `method`, as field errors (empty: they hold).
    pub fn check(&self, method: EvaluationMethod, rules: &EvaluationSettings) -> Vec<FieldError> {
        let mut fields = Vec::new();
        let mut keys = HashSet::new();
        let mut key_ok = |fields: &mut Vec<FieldError>, list: &'static str, key: &str| {
            let well_formed = !key.is_empty()
                && key.len() <= 40
                && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !well_formed {
                fields.push(FieldError::new(list, "bad_key"));
            } else if !keys.insert(key.to_string()) {
                fields.push(FieldError::new(list, "duplicate_key"));
            }
        };
        let label_ok = |fields: &mut Vec<FieldError>, list: &'static str, label: &str| {
            let n = label.trim().chars().count();
            if n == 0 {
                fields.push(FieldError::new(list, "label_required"));
            } else if n > 200 {
                fields.push(FieldError::new(list, "label_too_long").with_arg("max", 200));
            }
        };
        for (list, items) in [("qualification", &self.qualification), ("compliance", &self.compliance)] {
            if items.is_empty() {
                fields.push(FieldError::new(list, "required"));
            }
            if items.len() > MAX_REVIEW_ITEMS {
                fields.push(FieldError::new(list, "too_many").with_arg("max", MAX_REVIEW_ITEMS));
            }
            for i in items {
                key_ok(&mut fields, list, &i.key);
                label_ok(&mut fields, list, &i.label);
            }
        }
        if self.scoring.len() > MAX_SCORING_ITEMS {
            fields.push(FieldError::new("scoring", "too_many").with_arg("max", MAX_SCORING_ITEMS));
        }
        for i in &self.scoring {
            key_ok(&mut fields, "scoring", &i.key);
            label_ok(&mut fields, "scoring", &i.label);
            if i.max <= 0 || i.max > FULL_MARKS {
                fields.push(FieldError::new("scoring", "bad_max"));
            } else if i.step <= 0 || i.step > i.max || i.max % i.step != 0 {
                fields.push(FieldError::new("scoring", "bad_step"));
            }
        }
        match method {
            EvaluationMethod::LowestPrice => {
                if !self.scoring.is_empty() {
                    fields.push(FieldError::new("scoring", "not_for_lowest_price"));
                }
                if self.price_weight != 0 {
                    fields.push(FieldError::new("price_weight", "not_for_lowest_price"));
                }
            }
            EvaluationMethod::ComprehensiveScoring => {
                if self.scoring.is_empty() {
                    fields.push(FieldError::new("scoring", "required"));
                }
                let min = Self::min_price_weight(self.category, rules);
                if self.price_weight < min || self.price_weight >= FULL_MARKS {
                    fields.push(
                        FieldError::new("price_weight", "below_minimum")
                            .with_arg("min", min / 100)
                            .with_arg("category", self.category.as_str()),
                    );
                }
                let items: i64 = self.scoring.iter().map(|i| i.max.clamp(0, FULL_MARKS)).sum();
                if items + self.price_weight.clamp(0, FULL_MARKS) != FULL_MARKS {
                    fields.push(FieldError::new("scoring", "total_not_100"));
                }
            }
        }
        let (lo, hi) = Self::sme_range(self.category, rules);
        if self.sme_reserved {
            if self.sme_deduction_percent != 0 {
                fields.push(FieldError::new("sme_deduction_percent", "reserved_has_no_deduction"));
            }
        } else if !(lo..=hi).contains(&self.sme_deduction_percent) {
            fields
                .push(FieldError::new("sme_deduction_percent", "out_of_range").with_arg("min", lo).with_arg("max", hi));
        }
        if self.technical_anonymous && !self.scoring.iter().any(|i| i.technical) {
            fields.push(FieldError::new("technical_anonymous", "no_technical_items"));
        }
        fields.dedup();
        fields
    }
}

/// Reads the criteria page's form: `category`, `price_weight` and scores in points ("12.5"),
/// the check boxes, and rows `q_key_N`/`q_label_N`, `c_key_N`/`c_label_N`,
/// `s_key_N`/`s_label_N`/`s_max_N`/`s_step_N`/`s_objective_N`/`s_technical_N`; rows whose
/// label is blank are left out.
pub fn parse_form(pairs: Vec<(String, String)>) -> Result<Criteria, Vec<FieldError>> {
    let f: HashMap<String, String> = pairs.into_iter().map(|(k, v)| (k, v.trim().to_string())).collect();
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let mut errors = Vec::new();
    let category = ProcurementCategory::parse(&get("category")).unwrap_or_else(|| {
        errors.push(FieldError::new("category", "invalid"));
        ProcurementCategory::Goods
    });
    let points = |errors: &mut Vec<FieldError>, field: &'static str, text: &str| -> i64 {
        parse_points(text).unwrap_or_else(|| {
            errors.push(FieldError::new(field, "invalid_points"));
            0
        })
    };
    let price_weight = points(&mut errors, "price_weight", &get("price_weight"));
    let sme_deduction_percent = match get("sme_deduction_percent").as_str() {
        "" => 0,
        s => s.parse::<u32>().unwrap_or_else(|_| {
            errors.push(FieldError::new("sme_deduction_percent", "invalid"));
            0
        }),
    };
    let rows = |prefix: &str| -> Vec<usize> {
        let mut n: Vec<usize> = f
            .keys()
            .filter_map(|k| k.strip_prefix(prefix)?.strip_prefix("label_")?.parse::<usize>().ok())
            .filter(|n| *n <= MAX_SCORING_ITEMS + 10)
            .collect();
        n.sort_unstable();
        n
    };
    let reviews = |prefix: &str| -> Vec<ReviewItem> {
        rows(prefix)
            .into_iter()
            .filter(|n| !get(&format!("{prefix}label_{n}")).is_empty())
            .map(|n| ReviewItem { key: get(&format!("{prefix}key_{n}")), label: get(&format!("{prefix}label_{n}")) })
            .collect()
    };
    let qualification = reviews("q_");
    let compliance = reviews("c_");
    let mut scoring_items = Vec::new();
    for n in rows("s_") {
        let label = get(&format!("s_label_{n}"));
        if label.is_empty() {
            continue;
        }
        let max = points(&mut errors, "scoring", &get(&format!("s_max_{n}")));
        let step = points(&mut errors, "scoring", &get(&format!("s_step_{n}")));
        scoring_items.push(ScoringItem {
            key: get(&format!("s_key_{n}")),
            label,
            max,
            step,
            objective: f.contains_key(&format!("s_objective_{n}")),
            technical: f.contains_key(&format!("s_technical_{n}")),
        });
    }
    errors.dedup();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Criteria {
        category,
        price_weight,
        sme_deduction_percent,
        sme_reserved: f.contains_key("sme_reserved"),
        technical_anonymous: f.contains_key("technical_anonymous"),
        qualification,
        compliance,
        scoring: scoring_items,
    })
}

/// Points as typed ("12", "12.5", "12.50") in hundredths; none for anything else, negatives
/// and more than 100 points included.
pub fn parse_points(s: &str) -> Option<i64> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || whole.len() > 3 || frac.len() > 2 || !whole.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if !frac.chars().all(|c| c.is_ascii_digit()) || (s.contains('.') && frac.is_empty()) {
        return None;
    }
    let w: i64 = whole.parse().ok()?;
    let f: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().ok()? };
    let v = w * 100 + f;
    (v <= FULL_MARKS).then_some(v)
}

/// Hundredths of a point as shown ("12.5", "30").
pub fn show_points(v: i64) -> String {
    let (w, f) = (v / 100, (v % 100).abs());
    match f {
        0 => w.to_string(),
        f if f % 10 == 0 => format!("{w}.{}", f / 10),
        f => format!("{w}.{f:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> EvaluationSettings {
        EvaluationSettings::default()
    }

    fn codes(c: &Criteria, m: EvaluationMethod) -> Vec<String> {
        c.check(m, &rules()).into_iter().map(|f| format!("{}:{}", f.field, f.code)).collect()
    }

    #[test]
    fn the_templates_hold() {
        for m in EvaluationMethod::ALL {
            let c = Criteria::template(*m, &rules());
            assert_eq!(codes(&c, *m), Vec::<String>::new(), "{m}");
        }
    }

    #[test]
    fn goods_need_thirty_points_of_price_and_services_ten() {
        let mut c = Criteria::template(EvaluationMethod::ComprehensiveScoring, &rules());
        c.price_weight = 2000;
        c.scoring[0].max += 1000;
        assert!(codes(&c, EvaluationMethod::ComprehensiveScoring).contains(&"price_weight:below_minimum".into()));
        c.category = ProcurementCategory::Services;
        assert_eq!(codes(&c, EvaluationMethod::ComprehensiveScoring), Vec::<String>::new());
        c.price_weight = 900;
        c.scoring[0].max += 1100;
        c.scoring[0].step = 100;
        assert!(codes(&c, EvaluationMethod::ComprehensiveScoring).contains(&"price_weight:below_minimum".into()));
    }

    #[test]
    fn scores_must_add_up_to_a_hundred_in_whole_steps() {
        let mut c = Criteria::template(EvaluationMethod::ComprehensiveScoring, &rules());
        c.scoring[0].max -= 50;
        assert_eq!(codes(&c, EvaluationMethod::ComprehensiveScoring), vec!["scoring:total_not_100".to_string()]);
        c.scoring[0].max += 50;
        c.scoring[3].step = 300;
        assert_eq!(codes(&c, EvaluationMethod::ComprehensiveScoring), vec!["scoring:bad_step".to_string()]);
        c.scoring[3].step = 0;
        assert_eq!(codes(&c, EvaluationMethod::ComprehensiveScoring), vec!["scoring:bad_step".to_string()]);
        c.scoring[3].step = 200;
        c.scoring[3].max = -5;
        assert!(codes(&c, EvaluationMethod::ComprehensiveScoring).contains(&"scoring:bad_max".into()));
    }

    #[test]
    fn the_sme_deduction_follows_the_category() {
        let mut c = Criteria::template(EvaluationMethod::LowestPrice, &rules());
        c.sme_deduction_percent = 21;
        assert_eq!(codes(&c, EvaluationMethod::LowestPrice), vec!["sme_deduction_percent:out_of_range".to_string()]);
        c.sme_deduction_percent = 9;
        assert_eq!(codes(&c, EvaluationMethod::LowestPrice).len(), 1);
        c.category = ProcurementCategory::Works;
        c.sme_deduction_percent = 4;
        assert!(codes(&c, EvaluationMethod::LowestPrice).is_empty());
        c.sme_reserved = true;
        assert_eq!(
            codes(&c, EvaluationMethod::LowestPrice),
            vec!["sme_deduction_percent:reserved_has_no_deduction".to_string()]
        );
        c.sme_deduction_percent = 0;
        assert!(codes(&c, EvaluationMethod::LowestPrice).is_empty());
    }

    #[test]
    fn lists_keys_and_methods() {
        let mut c = Criteria::template(EvaluationMethod::LowestPrice, &rules());
        c.compliance.clear();
        c.qualification[1].key = c.qualification[0].key.clone();
        c.qualification[2].key = "Bad Key".into();
        let got = codes(&c, EvaluationMethod::LowestPrice);
        assert!(got.contains(&"compliance:required".into()), "{got:?}");
        assert!(got.contains(&"qualification:duplicate_key".into()), "{got:?}");
        assert!(got.contains(&"qualification:bad_key".into()), "{got:?}");
        let scored = Criteria::template(EvaluationMethod::ComprehensiveScoring, &rules());
        let got = codes(&scored, EvaluationMethod::LowestPrice);
        assert!(got.contains(&"scoring:not_for_lowest_price".into()), "{got:?}");
        let mut anonymous = Criteria::template(EvaluationMethod::ComprehensiveScoring, &rules());
        anonymous.technical_anonymous = true;
        assert!(codes(&anonymous, EvaluationMethod::ComprehensiveScoring).is_empty());
        anonymous.scoring.iter_mut().for_each(|i| i.technical = false);
        assert_eq!(
            codes(&anonymous, EvaluationMethod::ComprehensiveScoring),
            vec!["technical_anonymous:no_technical_items".to_string()]
        );
    }

    #[test]
    fn points_are_read_exactly() {
        assert_eq!(parse_points("12"), Some(1200));
        assert_eq!(parse_points("12.5"), Some(1250));
        assert_eq!(parse_points("0.05"), Some(5));
        assert_eq!(parse_points("100"), Some(10_000));
        for bad in ["", "-1", "1.", ".5", "1.234", "100.01", "1e2", "１２", "abc"] {
            assert_eq!(parse_points(bad), None, "{bad}");
        }
        assert_eq!(show_points(1250), "12.5");
        assert_eq!(show_points(1205), "12.05");
        assert_eq!(show_points(3000), "30");
    }

    #[test]
    fn the_form_reads_rows_and_leaves_blank_ones_out() {
        let pairs = [
            ("category", "services"),
            ("price_weight", "10"),
            ("sme_deduction_percent", "10"),
            ("q_key_1", "licence"),
            ("q_label_1", "营业执照"),
            ("q_label_2", ""),
            ("c_key_1", "sealed"),
            ("c_label_1", "盖章"),
            ("s_key_1", "plan"),
            ("s_label_1", "服务方案"),
            ("s_max_1", "90"),
            ("s_step_1", "0.5"),
            ("s_technical_1", "on"),
            ("s_label_2", " "),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .to_vec();
        let c = parse_form(pairs).expect("reads");
        assert_eq!(c.category, ProcurementCategory::Services);
        assert_eq!(c.qualification.len(), 1);
        assert_eq!(c.scoring, vec![scoring("plan", "服务方案", 9000, 50, false, true)]);
        assert!(c.check(EvaluationMethod::ComprehensiveScoring, &rules()).is_empty());
        let bad = parse_form(vec![("category".into(), "food".into()), ("price_weight".into(), "x".into())]);
        let codes: Vec<_> = bad.expect_err("refused").into_iter().map(|f| f.code).collect();
        assert_eq!(codes, vec!["invalid", "invalid_points"]);
    }
}
