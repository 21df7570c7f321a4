//! The arithmetic of the detailed evaluation, exact: points in hundredths, money in fen, every
//! division rounded half up at the stated place, nothing in floating point.
//!
//! - The evaluated price of a small or micro enterprise is its price less the deduction
//!   (财库〔2022〕19号), rounded half up to the fen.
//! - The price score is benchmark ÷ evaluated price × price weight (财政部令第87号 art. 55), the
//!   benchmark being the lowest evaluated price of the bids that passed, rounded half up to
//!   0.01 point.
//! - A committee's result on a pass/fail item is its majority; a score's mean is rounded half
//!   up to 0.01 point.
//! - Ranking (art. 65): the higher total first; equal totals by the lower evaluated price, then
//!   the higher technical score; bids equal in all three are ordered by a draw recorded in the
//!   session (SHA-256 of its key and the bid's id), which anyone holding the key can repeat.

use crate::money::Money;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Points in hundredths (`1250` is 12.50 points).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Points(i64);

/// Why a score could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a score: at most two decimals, from 0 to 10000")]
pub struct PointsError;

impl Points {
    /// Zero.
    pub const ZERO: Points = Points(0);
    /// The largest score read: 10,000 points.
    pub const MAX: Points = Points(1_000_000);

    /// From hundredths.
    pub const fn from_hundredths(h: i64) -> Self {
        Points(h)
    }

    /// In hundredths.
    pub const fn hundredths(self) -> i64 {
        self.0
    }

    /// Reads "12", "12.5" or "12.50"; refuses negatives, more than two decimals and anything
    /// above [`Points::MAX`].
    pub fn parse(s: &str) -> Result<Points, PointsError> {
        let s = s.trim();
        let (whole, frac) = match s.split_once('.') {
            Some((w, f)) if !f.is_empty() => (w, f),
            Some(_) => return Err(PointsError),
            None => (s, ""),
        };
        let digits = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
        if !digits(whole) || whole.len() > 5 || frac.len() > 2 || (!frac.is_empty() && !digits(frac)) {
            return Err(PointsError);
        }
        let w: i64 = whole.parse().map_err(|_| PointsError)?;
        let f: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().map_err(|_| PointsError)? };
        let p = Points(w * 100 + f);
        if p > Points::MAX { Err(PointsError) } else { Ok(p) }
    }

    /// The sum, or none past `i64`.
    pub fn checked_add(self, other: Points) -> Option<Points> {
        self.0.checked_add(other.0).map(Points)
    }
}

impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}{}.{:02}", self.0.abs() / 100, self.0.abs() % 100)
    }
}

/// Why a score is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScoreError {
    /// Below 0 or above the item's maximum.
    #[error("outside 0 to the item's maximum")]
    OutOfRange,
    /// Not a multiple of the item's step.
    #[error("not in the item's step")]
    OffStep,
}

impl ScoreError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ScoreError::OutOfRange => "score_out_of_range",
            ScoreError::OffStep => "score_off_step",
        }
    }
}

/// Whether `value` is a score of an item with `max` and `step`: within 0..=max and a multiple
/// of the step.
pub fn check_score(value: Points, max: Points, step: Points) -> Result<(), ScoreError> {
    if value < Points::ZERO || value > max {
        return Err(ScoreError::OutOfRange);
    }
    if step.0 <= 0 || value.0 % step.0 != 0 {
        return Err(ScoreError::OffStep);
    }
    Ok(())
}

/// `n / d` rounded half up (for non-negative `n`, positive `d`).
fn div_half_up(n: i128, d: i128) -> i128 {
    (2 * n + d) / (2 * d)
}

/// The evaluated price: less `deduction_percent` for a small or micro enterprise, rounded half
/// up to the fen; the price itself otherwise.
pub fn evaluated_price(price: Money, small_enterprise: bool, deduction_percent: u32) -> Money {
    if !small_enterprise || deduction_percent == 0 || price.fen() <= 0 {
        return price;
    }
    let kept = 100 - i128::from(deduction_percent.min(100));
    Money::from_fen(div_half_up(i128::from(price.fen()) * kept, 100) as i64)
}

/// benchmark ÷ evaluated × weight, rounded half up to 0.01 point (zero for a non-positive
/// evaluated price).
pub fn price_score(benchmark: Money, evaluated: Money, weight: Points) -> Points {
    if evaluated.fen() <= 0 || benchmark.fen() < 0 {
        return Points::ZERO;
    }
    let n = i128::from(benchmark.fen()) * i128::from(weight.0);
    Points(div_half_up(n, i128::from(evaluated.fen())) as i64)
}

/// The price scores of the bids that passed: the lowest evaluated price is the benchmark.
pub fn price_scores<K: Clone>(bids: &[(K, Money)], weight: Points) -> Vec<(K, Points)> {
    let Some(benchmark) = bids.iter().map(|(_, m)| *m).filter(|m| m.fen() > 0).min() else {
        return bids.iter().map(|(k, _)| (k.clone(), Points::ZERO)).collect();
    };
    bids.iter().map(|(k, m)| (k.clone(), price_score(benchmark, *m, weight))).collect()
}

/// The committee's result on a pass/fail item: more than half pass. An even split fails: a
/// committee has an odd number of members, and a bid must convince a majority.
pub fn majority_passes(votes: &[bool]) -> bool {
    let pass = votes.iter().filter(|v| **v).count();
    !votes.is_empty() && pass * 2 > votes.len()
}

/// The mean, rounded half up to 0.01 point; zero for none.
pub fn mean(scores: &[Points]) -> Points {
    if scores.is_empty() {
        return Points::ZERO;
    }
    let sum: i128 = scores.iter().map(|p| i128::from(p.0)).sum();
    Points(div_half_up(sum, scores.len() as i128) as i64)
}

/// A bid's total: its items' means and its price score.
pub fn bid_total(item_means: &[Points], price: Points) -> Points {
    Points(item_means.iter().map(|p| p.0).sum::<i64>() + price.0)
}

/// Whether the experts scored an objective item differently.
pub fn objective_disagrees(scores: &[Points]) -> bool {
    scores.windows(2).any(|w| w[0] != w[1])
}

/// The experts whose subjective score is more than `percent` % of `max` away from the mean of
/// the other experts' scores, compared exactly: |score × (n − 1) − Σ others| × 100 >
/// percent × max × (n − 1). Fewer than two experts: none.
pub fn subjective_outliers<K: Clone>(scores: &[(K, Points)], max: Points, percent: u32) -> Vec<K> {
    let n = scores.len() as i128;
    if n < 2 {
        return Vec::new();
    }
    let total: i128 = scores.iter().map(|(_, p)| i128::from(p.0)).sum();
    scores
        .iter()
        .filter(|(_, p)| {
            let mine = i128::from(p.0);
            let others = total - mine;
            (mine * (n - 1) - others).abs() * 100 > i128::from(percent) * i128::from(max.0) * (n - 1)
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// A bid's standing for the comprehensive ranking.
#[derive(Debug, Clone)]
pub struct Standing<K> {
    /// The bid.
    pub key: K,
    /// Its total.
    pub total: Points,
    /// Its evaluated price.
    pub evaluated_price: Money,
    /// Its technical score (the sum of its technical items' means).
    pub technical: Points,
}

/// A place in a ranking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranked<K> {
    /// The bid.
    pub key: K,
    /// 1 for the first candidate; no two bids share one.
    pub rank: u32,
    /// The recorded draw decided between this bid and an equal one.
    pub tie_broken_by_draw: bool,
}

/// Keys whose bytes feed the tie-breaking draw.
pub trait DrawKey {
    /// The bytes (a bid's public id).
    fn draw_bytes(&self) -> Vec<u8>;
}

impl DrawKey for uuid::Uuid {
    fn draw_bytes(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
}

impl DrawKey for u32 {
    fn draw_bytes(&self) -> Vec<u8> {
        self.to_be_bytes().to_vec()
    }
}

fn lot_of<K: DrawKey>(key: &[u8; 32], k: &K) -> [u8; 32] {
    let mut h = ring::digest::Context::new(&ring::digest::SHA256);
    h.update(b"tenderhall.rank.v1");
    h.update(key);
    h.update(&k.draw_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(h.finish().as_ref());
    out
}

fn ranked<K: Clone + DrawKey, T: Ord + Clone>(items: Vec<(K, T)>, draw_key: &[u8; 32]) -> Vec<Ranked<K>> {
    let mut items: Vec<(K, T, [u8; 32])> =
        items.into_iter().map(|(k, t)| (k.clone(), t, lot_of(draw_key, &k))).collect();
    items.sort_by(|a, b| a.1.cmp(&b.1).then(a.2.cmp(&b.2)));
    let mut out = Vec::with_capacity(items.len());
    for (i, (k, t, _)) in items.iter().enumerate() {
        let tied = (i > 0 && items[i - 1].1 == *t) || items.get(i + 1).is_some_and(|n| n.1 == *t);
        out.push(Ranked { key: k.clone(), rank: i as u32 + 1, tie_broken_by_draw: tied });
    }
    out
}

/// The comprehensive ranking: total descending, evaluated price ascending, technical score
/// descending, then the recorded draw.
pub fn rank_comprehensive<K: Clone + DrawKey>(bids: &[Standing<K>], draw_key: &[u8; 32]) -> Vec<Ranked<K>> {
    ranked(
        bids.iter()
            .map(|s| (s.key.clone(), (std::cmp::Reverse(s.total), s.evaluated_price, std::cmp::Reverse(s.technical))))
            .collect(),
        draw_key,
    )
}

/// The lowest evaluated price ranking: price ascending, then the recorded draw.
pub fn rank_lowest_price<K: Clone + DrawKey>(bids: &[(K, Money)], draw_key: &[u8; 32]) -> Vec<Ranked<K>> {
    ranked(bids.to_vec(), draw_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Points {
        Points::parse(s).expect(s)
    }

    fn yuan(s: &str) -> Money {
        Money::parse_yuan(s).expect(s)
    }

    #[test]
    fn points_are_read_exactly_and_refused_otherwise() {
        assert_eq!(p("12").hundredths(), 1200);
        assert_eq!(p("12.5").hundredths(), 1250);
        assert_eq!(p("0.05").hundredths(), 5);
        assert_eq!(p("12.5").to_string(), "12.50");
        for bad in ["", "-1", "1.", ".5", "1.234", "10000.01", "1e2", "abc", "1 2"] {
            assert_eq!(Points::parse(bad), Err(PointsError), "{bad}");
        }
    }

    #[test]
    fn scores_keep_to_range_and_step() {
        let (max, step) = (p("10"), p("0.5"));
        assert_eq!(check_score(p("0"), max, step), Ok(()));
        assert_eq!(check_score(p("10"), max, step), Ok(()));
        assert_eq!(check_score(p("7.5"), max, step), Ok(()));
        assert_eq!(check_score(p("7.3"), max, step), Err(ScoreError::OffStep));
        assert_eq!(check_score(p("10.5"), max, step), Err(ScoreError::OutOfRange));
        assert_eq!(check_score(Points::from_hundredths(-50), max, step), Err(ScoreError::OutOfRange));
        assert_eq!(ScoreError::OffStep.code(), "score_off_step");
    }

    #[test]
    fn the_price_score_is_benchmark_over_price_times_weight_half_up() {
        assert_eq!(price_score(yuan("900000"), yuan("1000000"), p("30")), p("27"));
        // 1/3 × 10 = 3.333… → 3.33; 2/3 × 10 = 6.666… → 6.67; 0.5 × 0.01 … half up.
        assert_eq!(price_score(yuan("1"), yuan("3"), p("10")), p("3.33"));
        assert_eq!(price_score(yuan("2"), yuan("3"), p("10")), p("6.67"));
        assert_eq!(price_score(yuan("1"), yuan("8"), p("0.1")), Points::from_hundredths(1), "1.25 hundredths → 1");
        assert_eq!(price_score(yuan("3"), yuan("8"), p("0.1")), Points::from_hundredths(4), "3.75 hundredths → 4");
        let scores = price_scores(&[(1u32, yuan("3650000")), (2, yuan("3712345.67"))], p("30"));
        assert_eq!(scores, vec![(1, p("30")), (2, p("29.5"))]);
        assert!(price_scores::<u32>(&[], p("30")).is_empty());
    }

    #[test]
    fn the_small_enterprise_deduction_rounds_half_up_to_the_fen() {
        assert_eq!(evaluated_price(yuan("1000000.01"), true, 10), Money::from_fen(90_000_001), "90,000,000.9 fen");
        assert_eq!(evaluated_price(yuan("0.05"), true, 10), Money::from_fen(5), "4.5 fen → 5");
        assert_eq!(evaluated_price(yuan("1000000.01"), false, 10), yuan("1000000.01"));
        assert_eq!(evaluated_price(yuan("3712345.67"), true, 10), Money::from_fen(334_111_110));
    }

    #[test]
    fn majorities_means_and_totals() {
        assert!(majority_passes(&[true, true, false]));
        assert!(!majority_passes(&[true, false, false]));
        assert!(!majority_passes(&[true, false]), "an even split fails");
        assert!(!majority_passes(&[]));
        assert_eq!(mean(&[p("10"), p("25"), p("25"), p("25"), p("25")]), p("22"));
        assert_eq!(mean(&[p("1"), p("1"), p("2")]), p("1.33"));
        assert_eq!(mean(&[p("0.01"), p("0.02")]), p("0.02"), "1.5 hundredths → 2");
        assert_eq!(bid_total(&[p("22"), p("15.5")], p("30")), p("67.5"));
    }

    #[test]
    fn consistency_flags() {
        assert!(objective_disagrees(&[p("8"), p("8"), p("6")]));
        assert!(!objective_disagrees(&[p("8"), p("8"), p("8")]));
        // Others' mean 25; 30 % of 30 is 9: 16 is exactly 9 away (not flagged), 15.5 is flagged.
        let at = [(1u32, p("16")), (2, p("25")), (3, p("25")), (4, p("25")), (5, p("25"))];
        assert!(!subjective_outliers(&at, p("30"), 30).contains(&1));
        let past = [(1u32, p("15.5")), (2, p("25")), (3, p("25")), (4, p("25")), (5, p("25"))];
        assert_eq!(subjective_outliers(&past, p("30"), 30), vec![1]);
        assert!(subjective_outliers(&[(1u32, p("0"))], p("30"), 30).is_empty());
    }

    #[test]
    fn ties_go_to_the_lower_price_then_the_technical_score_then_the_draw() {
        let key = [7u8; 32];
        let s = |k: u32, total: &str, price: &str, tech: &str| Standing {
            key: k,
            total: p(total),
            evaluated_price: yuan(price),
            technical: p(tech),
        };
        let r = rank_comprehensive(&[s(1, "80", "100", "40"), s(2, "85", "120", "40"), s(3, "80", "90", "30")], &key);
        assert_eq!(r.iter().map(|r| r.key).collect::<Vec<_>>(), vec![2, 3, 1]);
        assert!(r.iter().all(|r| !r.tie_broken_by_draw));
        let r = rank_comprehensive(&[s(1, "80", "100", "30"), s(2, "80", "100", "40")], &key);
        assert_eq!(r[0].key, 2);
        // Equal in everything: the draw decides, the same whatever the order given.
        let a = rank_comprehensive(&[s(1, "80", "100", "40"), s(2, "80", "100", "40")], &key);
        let b = rank_comprehensive(&[s(2, "80", "100", "40"), s(1, "80", "100", "40")], &key);
        assert_eq!(a, b);
        assert!(a.iter().all(|r| r.tie_broken_by_draw));
        assert_eq!(a.iter().map(|r| r.rank).collect::<Vec<_>>(), vec![1, 2]);
        let low = rank_lowest_price(&[(1u32, yuan("100")), (2, yuan("90"))], &key);
        assert_eq!(low[0].key, 2);
    }
}
