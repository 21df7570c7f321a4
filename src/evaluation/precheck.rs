//! 清标: the platform's checks of the opened bid forms, before the experts see anything. Each
//! finding is shown to the committee (and the supervisors) with its figures; none decides a
//! bid by itself: the committee does.

use crate::money::Money;
use serde::{Deserialize, Serialize};

/// What a lot allows.
#[derive(Debug, Clone, Copy)]
pub struct LotLimits {
    /// 预算金额.
    pub budget: Money,
    /// 最高限价, if set.
    pub ceiling: Option<Money>,
}

/// One line of a priced bill (分项报价).
#[derive(Debug, Clone)]
pub struct PriceLine {
    /// What the line is.
    pub item: String,
    /// Quantity.
    pub quantity: i64,
    /// Unit price.
    pub unit_price: Money,
    /// The line's stated total.
    pub line_total: Money,
}

/// An opened bid as the checks read it.
#[derive(Debug, Clone)]
pub struct OpenedBid<K> {
    /// The bid.
    pub key: K,
    /// Its total price.
    pub total_price: Money,
    /// The total in Chinese capitals, where the form gives it.
    pub total_in_words: Option<String>,
    /// Its priced lines, where the form gives them.
    pub lines: Vec<PriceLine>,
}

/// A finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Finding {
    /// The price is above the lot's ceiling.
    AboveCeiling {
        /// The ceiling, fen.
        ceiling: Money,
    },
    /// The price is above the lot's budget (a lot without a ceiling).
    AboveBudget {
        /// The budget, fen.
        budget: Money,
    },
    /// Unit price × quantity is not the line's total.
    LineTotalMismatch {
        /// The line.
        item: String,
        /// What the line should total, fen.
        expected: Money,
        /// What it says, fen.
        stated: Money,
    },
    /// The amount in words is not the figure.
    WordsMismatch {
        /// The words.
        words: String,
        /// What they read as, if they can be read.
        read_as: Option<Money>,
    },
    /// At least the setting's per cent below the mean of the other bids.
    AbnormallyLow {
        /// The others' mean, fen (rounded down).
        mean_of_others: Money,
        /// How far below it, in whole per cent (rounded down).
        percent_below: u32,
    },
    /// Other bids of the lot have the very same total.
    IdenticalPrice {
        /// How many others.
        with: usize,
    },
}

impl Finding {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Finding::AboveCeiling { .. } => "above_ceiling",
            Finding::AboveBudget { .. } => "above_budget",
            Finding::LineTotalMismatch { .. } => "line_total_mismatch",
            Finding::WordsMismatch { .. } => "words_mismatch",
            Finding::AbnormallyLow { .. } => "abnormally_low",
            Finding::IdenticalPrice { .. } => "identical_price",
        }
    }
}

/// The findings of a lot's opened bids, bid by bid in the order given, each bid's in the order
/// of [`Finding`]. A price is abnormally low when it is at least `abnormal_low_percent` % below
/// the mean of the other bids of the lot (with at least one other bid), compared exactly.
pub fn precheck<K: Clone + Eq>(
    limits: &LotLimits,
    bids: &[OpenedBid<K>],
    abnormal_low_percent: u32,
) -> Vec<(K, Finding)> {
    let mut out = Vec::new();
    for b in bids {
        match limits.ceiling {
            Some(c) if b.total_price > c => out.push((b.key.clone(), Finding::AboveCeiling { ceiling: c })),
            None if b.total_price > limits.budget => {
                out.push((b.key.clone(), Finding::AboveBudget { budget: limits.budget }))
            }
            _ => {}
        }
        for l in &b.lines {
            let expected = i128::from(l.unit_price.fen()) * i128::from(l.quantity);
            if expected != i128::from(l.line_total.fen()) {
                let expected = i64::try_from(expected).map(Money::from_fen).unwrap_or(Money::ZERO);
                out.push((
                    b.key.clone(),
                    Finding::LineTotalMismatch { item: l.item.clone(), expected, stated: l.line_total },
                ));
            }
        }
        if let Some(w) = b.total_in_words.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
            let read = Money::parse_capitals(w).ok();
            if read != Some(b.total_price) {
                out.push((b.key.clone(), Finding::WordsMismatch { words: w.to_string(), read_as: read }));
            }
        }
        let others: Vec<i128> =
            bids.iter().filter(|o| o.key != b.key).map(|o| i128::from(o.total_price.fen())).collect();
        if !others.is_empty() {
            let n = others.len() as i128;
            let sum: i128 = others.iter().sum();
            let mine = i128::from(b.total_price.fen());
            // mine ≤ mean × (100 − p) / 100  ⇔  mine × 100 × n ≤ sum × (100 − p)
            let p = i128::from(abnormal_low_percent.min(100));
            if sum > 0 && mine * 100 * n <= sum * (100 - p) {
                let below = ((sum - mine * n) * 100 / sum).clamp(0, 100) as u32;
                out.push((
                    b.key.clone(),
                    Finding::AbnormallyLow {
                        mean_of_others: Money::from_fen(i64::try_from(sum / n).unwrap_or(i64::MAX)),
                        percent_below: below,
                    },
                ));
            }
        }
        let same = bids.iter().filter(|o| o.key != b.key && o.total_price == b.total_price).count();
        if same > 0 {
            out.push((b.key.clone(), Finding::IdenticalPrice { with: same }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yuan(s: &str) -> Money {
        Money::parse_yuan(s).expect(s)
    }

    fn bid(k: u32, price: &str) -> OpenedBid<u32> {
        OpenedBid { key: k, total_price: yuan(price), total_in_words: None, lines: Vec::new() }
    }

    fn codes(f: &[(u32, Finding)]) -> Vec<(u32, &'static str)> {
        f.iter().map(|(k, f)| (*k, f.code())).collect()
    }

    #[test]
    fn prices_above_the_ceiling_or_the_budget() {
        let with_ceiling = LotLimits { budget: yuan("1000"), ceiling: Some(yuan("900")) };
        let bids = [bid(1, "900"), bid(2, "900.01"), bid(3, "800")];
        assert_eq!(codes(&precheck(&with_ceiling, &bids, 40)), vec![(2, "above_ceiling")]);
        let budget_only = LotLimits { budget: yuan("1000"), ceiling: None };
        let bids = [bid(1, "1000"), bid(2, "1000.01"), bid(3, "950")];
        assert_eq!(codes(&precheck(&budget_only, &bids, 40)), vec![(2, "above_budget")]);
    }

    #[test]
    fn line_totals_and_words_must_match_the_figures() {
        let limits = LotLimits { budget: yuan("100000"), ceiling: None };
        let mut b = bid(1, "1268000");
        b.total_in_words = Some("壹佰贰拾陆万捌仟元整".into());
        b.lines = vec![
            PriceLine { item: "平板".into(), quantity: 3, unit_price: yuan("100.10"), line_total: yuan("300.30") },
            PriceLine { item: "展台".into(), quantity: 2, unit_price: yuan("50"), line_total: yuan("90") },
        ];
        let limits = LotLimits { budget: yuan("2000000"), ..limits };
        let f = precheck(&limits, &[b.clone()], 40);
        assert_eq!(
            f,
            vec![(1, Finding::LineTotalMismatch { item: "展台".into(), expected: yuan("100"), stated: yuan("90") })]
        );
        b.total_in_words = Some("壹佰贰拾陆万玖仟元整".into());
        b.lines.clear();
        assert_eq!(
            precheck(&limits, &[b.clone()], 40),
            vec![(
                1,
                Finding::WordsMismatch {
                    words: "壹佰贰拾陆万玖仟元整".into(), read_as: Some(yuan("1269000"))
                }
            )]
        );
        b.total_in_words = Some("一百万".into());
        assert_eq!(codes(&precheck(&limits, &[b], 40)), vec![(1, "words_mismatch")]);
    }

    #[test]
    fn abnormally_low_is_forty_per_cent_below_the_others_mean_exactly() {
        let limits = LotLimits { budget: yuan("100000"), ceiling: None };
        // Others' mean 1000: 600 is exactly 40 % below (flagged), 600.01 is not.
        let f = precheck(&limits, &[bid(1, "600"), bid(2, "990"), bid(3, "1010")], 40);
        assert_eq!(f, vec![(1, Finding::AbnormallyLow { mean_of_others: yuan("1000"), percent_below: 40 })]);
        assert!(precheck(&limits, &[bid(1, "600.01"), bid(2, "990"), bid(3, "1010")], 40).iter().all(|(k, _)| *k != 1));
        assert!(precheck(&limits, &[bid(1, "1")], 40).is_empty(), "no others: no comparison");
    }

    #[test]
    fn identical_prices_are_shown_on_each_bid() {
        let limits = LotLimits { budget: yuan("100000"), ceiling: None };
        let f = precheck(&limits, &[bid(1, "900"), bid(2, "900"), bid(3, "950")], 40);
        assert_eq!(codes(&f), vec![(1, "identical_price"), (2, "identical_price")]);
    }
}
