//! Exact money.
//!
//! Amounts are held as integer fen (分, 1/100 元) in an `i64`, never as a float. Parsing accepts
//! 元 with up to two decimals ("1234.5", "1,234.50"); formatting produces 元 with two decimals or
//! 万元 with four (four decimals of 万元 are whole 元, as the trading centres report them), and the
//! amount in Chinese capitals (大写金额, "壹佰贰拾陆万捌仟元整") as bid forms and opening records
//! print it beside the figures.
//!
//! `Money` is also a SeaORM column type, stored as `BIGINT` fen (the `*_fen` columns), and
//! serializes as the integer number of fen.
//!
//! Every amount the platform accepts is at most [`Money::MAX`] (10^15 fen, ten trillion 元),
//! so that every sum it makes fits an `i64` with room to spare: the lots of a tender (at most
//! 50), an order's lines, and the totals of a report, which would need more than 9,000 amounts
//! at the bound to reach the limit of an `i64`. Sums are still checked ([`Money::checked_sum`]):
//! one that does not fit is an error, never a wrapped (negative) total.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An exact amount of money in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Money(i64);

/// A sum of amounts that does not fit an `i64` of fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a sum of amounts overflows")]
pub struct Overflow;

/// Why a money string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not a decimal number of 元.
    #[error("not an amount in yuan")]
    Malformed,
    /// More than two decimals (smaller than one fen).
    #[error("amounts have at most two decimals")]
    TooPrecise,
    /// Larger than [`Money::MAX`].
    #[error("amount too large")]
    Overflow,
    /// Negative where not allowed.
    #[error("amount must not be negative")]
    Negative,
}

impl MoneyError {
    /// The field code of a form's amount that could not be read: `too_large` above
    /// [`Money::MAX`], otherwise `invalid_amount`.
    pub fn field_code(&self) -> &'static str {
        if *self == MoneyError::Overflow { "too_large" } else { "invalid_amount" }
    }
}

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// The largest amount the platform accepts anywhere: 10^15 fen (10,000,000,000,000.00 元).
    pub const MAX: Money = Money(1_000_000_000_000_000);

    /// From a number of fen.
    pub const fn from_fen(fen: i64) -> Self {
        Money(fen)
    }

    /// The number of fen.
    pub const fn fen(self) -> i64 {
        self.0
    }

    /// Whether the amount is at most [`Money::MAX`].
    pub fn within_bound(self) -> bool {
        self <= Money::MAX
    }

    /// Parses a non-negative amount of 元 ("12345.67", commas and surrounding spaces allowed), at
    /// most [`Money::MAX`].
    pub fn parse_yuan(s: &str) -> Result<Self, MoneyError> {
        let cleaned: String = s.trim().chars().filter(|c| *c != ',' && *c != '，').collect();
        if cleaned.starts_with('-') {
            return Err(MoneyError::Negative);
        }
        let (int, frac) = match cleaned.split_once('.') {
            Some((i, f)) => (i, f),
            None => (cleaned.as_str(), ""),
        };
        if int.is_empty() && frac.is_empty() {
            return Err(MoneyError::Malformed);
        }
        if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(MoneyError::Malformed);
        }
        if frac.len() > 2 {
            return Err(MoneyError::TooPrecise);
        }
        let int_v: i64 = if int.is_empty() { 0 } else { int.parse().map_err(|_| MoneyError::Overflow)? };
        let frac_v: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| MoneyError::Malformed)? * 10,
            _ => frac.parse::<i64>().map_err(|_| MoneyError::Malformed)?,
        };
        int_v
            .checked_mul(100)
            .and_then(|v| v.checked_add(frac_v))
            .map(Money)
            .filter(|m| m.within_bound())
            .ok_or(MoneyError::Overflow)
    }

    /// Adds, refusing overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// The sum of amounts, or [`Overflow`] if it does not fit (never a wrapped total).
    pub fn checked_sum<I: IntoIterator<Item = Money>>(amounts: I) -> Result<Money, Overflow> {
        amounts.into_iter().try_fold(Money::ZERO, |acc, m| acc.checked_add(m).ok_or(Overflow))
    }

    /// Subtracts, refusing overflow.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// "1,234,567.89" 元 with thousands separators.
    pub fn yuan_string(self) -> String {
        let neg = self.0 < 0;
        let abs = self.0.unsigned_abs();
        let int = (abs / 100).to_string();
        let mut grouped = String::new();
        for (i, ch) in int.chars().enumerate() {
            if i > 0 && (int.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        format!("{}{}.{:02}", if neg { "-" } else { "" }, grouped, abs % 100)
    }

    /// The amount in Chinese capitals (大写金额) as financial documents write it: "壹佰贰拾陆万捌仟元整",
    /// "壹仟零伍元零柒分", "伍角". 元 amounts end with 整; a zero 角 before 分 is written 零 (when there
    /// are 元); no 零元 before 角 and 分 alone; 拾 always has its digit (壹拾); negative amounts
    /// start with 负.
    pub fn capitals(self) -> String {
        let abs = self.0.unsigned_abs();
        let (yuan, jiao, fen) = (abs / 100, abs / 10 % 10, abs % 10);
        let mut out = String::new();
        if self.0 < 0 {
            out.push('负');
        }
        if yuan > 0 {
            out.push_str(&capitals_whole(yuan));
            out.push('元');
        }
        match (jiao, fen) {
            (0, 0) if yuan == 0 => out.push_str("零元整"),
            (0, 0) => out.push('整'),
            _ => {
                if jiao > 0 {
                    out.push(DIGITS[jiao as usize]);
                    out.push('角');
                } else if yuan > 0 {
                    out.push('零');
                }
                if fen > 0 {
                    out.push(DIGITS[fen as usize]);
                    out.push('分');
                }
            }
        }
        out
    }

    /// Reads an amount in Chinese capitals, as [`Money::capitals`] writes it (also with a
    /// leading 人民币, 圆 for 元 and 正 for 整): the amount in words of a bid form checked
    /// against its figures. Anything [`Money::capitals`] would not write the same way is
    /// refused as malformed ("壹佰元元", a missing unit, stray characters).
    pub fn parse_capitals(s: &str) -> Result<Money, MoneyError> {
        let text: String = s.trim().trim_start_matches("人民币").trim().replace('圆', "元").replace('正', "整");
        if text.is_empty() || text.chars().count() > 80 {
            return Err(MoneyError::Malformed);
        }
        let (neg, body) = match text.strip_prefix('负') {
            Some(rest) => (true, rest),
            None => (false, text.as_str()),
        };
        let digit = |c: char| DIGITS.iter().position(|d| *d == c).map(|d| d as u128);
        let (whole_text, cents_text) = match body.split_once('元') {
            Some((w, c)) => (w, c),
            None => ("", body),
        };
        let (mut total, mut section, mut number) = (0u128, 0u128, 0u128);
        for c in whole_text.chars() {
            match c {
                '拾' | '佰' | '仟' => {
                    let unit = match c {
                        '拾' => 10,
                        '佰' => 100,
                        _ => 1000,
                    };
                    section += number * unit;
                    number = 0;
                }
                '万' => {
                    section = (section + number) * 10_000;
                    number = 0;
                }
                '亿' => {
                    total = (total + section + number) * 100_000_000;
                    section = 0;
                    number = 0;
                }
                _ => number = digit(c).ok_or(MoneyError::Malformed)?,
            }
            if total > u128::from(u64::MAX) || section > u128::from(u64::MAX) {
                return Err(MoneyError::Overflow);
            }
        }
        let yuan = total + section + number;
        let (mut jiao, mut fen, mut pending) = (0u128, 0u128, None);
        for c in cents_text.chars() {
            match c {
                '角' => jiao = pending.take().ok_or(MoneyError::Malformed)?,
                '分' => fen = pending.take().ok_or(MoneyError::Malformed)?,
                '整' => {}
                _ => pending = Some(digit(c).ok_or(MoneyError::Malformed)?),
            }
        }
        let fen_total =
            yuan.checked_mul(100).and_then(|v| v.checked_add(jiao * 10 + fen)).ok_or(MoneyError::Overflow)?;
        let fen_total = i64::try_from(fen_total).map_err(|_| MoneyError::Overflow)?;
        let m = Money(if neg { -fen_total } else { fen_total });
        if !m.within_bound() {
            return Err(MoneyError::Overflow);
        }
        // Strict: the words must be exactly how the amount is written.
        if m.capitals() != text {
            return Err(MoneyError::Malformed);
        }
        Ok(m)
    }

    /// 万元 with four decimals, rounded half away from zero ("14701.8019").
    pub fn wan_string(self) -> String {
        // 1 万元 = 1,000,000 fen; four decimals of 万元 = 100 fen = 1 元.
        let neg = self.0 < 0;
        let abs = self.0.unsigned_abs();
        let yuan = (abs + 50) / 100;
        format!("{}{}.{:04}", if neg { "-" } else { "" }, yuan / 10_000, yuan % 10_000)
    }
}

/// The capital digits of 大写金额, 零 to 玖.
const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];

/// A number from 1 to 9999 in capitals: 仟, 佰, 拾 after their digits, one 零 for any run of
/// zeros between digits, nothing for trailing zeros ("壹仟零伍", "壹拾").
fn capitals_below_10k(n: u64) -> String {
    const UNITS: [&str; 4] = ["仟", "佰", "拾", ""];
    let digits = [n / 1000 % 10, n / 100 % 10, n / 10 % 10, n % 10];
    let mut out = String::new();
    let mut zero = false;
    for (d, unit) in digits.into_iter().zip(UNITS) {
        if d == 0 {
            zero = !out.is_empty();
            continue;
        }
        if zero {
            out.push('零');
            zero = false;
        }
        out.push(DIGITS[d as usize]);
        out.push_str(unit);
    }
    out
}

/// A whole number above zero in capitals, with 万 and 亿 (亿亿 beyond): a part below a 万 or 亿
/// whose highest place is empty is joined with one 零 ("壹亿零伍万", "壹拾万零壹").
fn capitals_whole(n: u64) -> String {
    const YI: u64 = 100_000_000;
    const WAN: u64 = 10_000;
    let join = |mut high: String, unit: &str, low: u64, full: u64| {
        high.push_str(unit);
        if low > 0 {
            if low < full / 10 {
                high.push('零');
            }
            high.push_str(&capitals_whole(low));
        }
        high
    };
    if n >= YI {
        join(capitals_whole(n / YI), "亿", n % YI, YI)
    } else if n >= WAN {
        join(capitals_below_10k(n / WAN), "万", n % WAN, WAN)
    } else {
        capitals_below_10k(n)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.yuan_string())
    }
}

impl From<Money> for sea_orm::Value {
    fn from(m: Money) -> Self {
        sea_orm::Value::BigInt(Some(m.0))
    }
}

impl sea_orm::TryGetable for Money {
    fn try_get_by<I: sea_orm::ColIdx>(res: &sea_orm::QueryResult, idx: I) -> Result<Self, sea_orm::TryGetError> {
        <i64 as sea_orm::TryGetable>::try_get_by(res, idx).map(Money)
    }
}

impl sea_orm::sea_query::ValueType for Money {
    fn try_from(v: sea_orm::Value) -> Result<Self, sea_orm::sea_query::ValueTypeErr> {
        <i64 as sea_orm::sea_query::ValueType>::try_from(v).map(Money)
    }

    fn type_name() -> String {
        "Money".to_owned()
    }

    fn array_type() -> sea_orm::sea_query::ArrayType {
        sea_orm::sea_query::ArrayType::BigInt
    }

    fn column_type() -> sea_orm::sea_query::ColumnType {
        sea_orm::sea_query::ColumnType::BigInteger
    }
}

impl sea_orm::sea_query::Nullable for Money {
    fn null() -> sea_orm::Value {
        sea_orm::Value::BigInt(None)
    }
}

impl sea_orm::sea_query::postgres_array::NotU8 for Money {}

impl sea_orm::IntoActiveValue<Money> for Money {
    fn into_active_value(self) -> sea_orm::ActiveValue<Money> {
        sea_orm::ActiveValue::Set(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_yuan_exactly() {
        assert_eq!(Money::parse_yuan("1234.5").unwrap().fen(), 123_450);
        assert_eq!(Money::parse_yuan(" 1,234.56 ").unwrap().fen(), 123_456);
        assert_eq!(Money::parse_yuan("0.01").unwrap().fen(), 1);
        assert_eq!(Money::parse_yuan("7").unwrap().fen(), 700);
        assert_eq!(Money::parse_yuan(".5").unwrap().fen(), 50);
    }

    #[test]
    fn refuses_bad_amounts() {
        assert_eq!(Money::parse_yuan("1.234"), Err(MoneyError::TooPrecise));
        assert_eq!(Money::parse_yuan("-1"), Err(MoneyError::Negative));
        assert_eq!(Money::parse_yuan("abc"), Err(MoneyError::Malformed));
        assert_eq!(Money::parse_yuan(""), Err(MoneyError::Malformed));
        assert_eq!(Money::parse_yuan("1e5"), Err(MoneyError::Malformed));
        assert_eq!(Money::parse_yuan("99999999999999999999"), Err(MoneyError::Overflow));
        // The bound: 10^15 fen is accepted, one fen more is not.
        assert_eq!(Money::parse_yuan("10000000000000.00"), Ok(Money::MAX));
        assert_eq!(Money::parse_yuan("10000000000000.01"), Err(MoneyError::Overflow));
    }

    #[test]
    fn sums_are_checked() {
        let max = Money::MAX;
        assert_eq!(Money::checked_sum([max, max]), Ok(Money::from_fen(2_000_000_000_000_000)));
        assert_eq!(Money::checked_sum([]), Ok(Money::ZERO));
        // Two amounts whose sum does not fit an i64 are an error, not a negative total.
        assert_eq!(Money::checked_sum([Money::from_fen(i64::MAX), Money::from_fen(1)]), Err(Overflow));
        // Every sum of up to 9,000 amounts at the bound fits.
        assert!(Money::checked_sum(std::iter::repeat_n(max, 9_000)).is_ok());
    }

    #[test]
    fn formats_yuan_and_wan() {
        let m = Money::from_fen(14_701_801_900);
        assert_eq!(m.wan_string(), "14701.8019");
        assert_eq!(m.yuan_string(), "147,018,019.00");
        assert_eq!(Money::from_fen(5).yuan_string(), "0.05");
        assert_eq!(Money::from_fen(-12_345).yuan_string(), "-123.45");
    }

    #[test]
    fn reads_amounts_in_chinese_capitals_back() {
        let mut values: Vec<i64> =
            vec![0, 1, 10, 100, 1_000, 10_000, 1_000_000, 100_000_101, 126_800_000, 10_000_000_001];
        let mut x: i64 = 7;
        for _ in 0..2_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            values.push((x.rem_euclid(Money::MAX.fen())) >> (x.rem_euclid(50) as u32));
        }
        values.push(Money::MAX.fen());
        for v in values {
            let m = Money(v);
            assert_eq!(Money::parse_capitals(&m.capitals()), Ok(m), "{}", m.capitals());
        }
        assert_eq!(Money::parse_capitals("人民币壹佰贰拾陆万捌仟圆正"), Ok(Money(126_800_000)));
        for bad in ["", "abc", "壹佰元元", "壹佰", "佰元整", "壹佰元零", "壹佰零元整", "壹角角", "壹佰元整x"]
        {
            assert!(Money::parse_capitals(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn writes_amounts_in_chinese_capitals() {
        let caps = |yuan: &str| Money::parse_yuan(yuan).expect("amount").capitals();
        // Whole amounts end with 整.
        assert_eq!(caps("1268000"), "壹佰贰拾陆万捌仟元整");
        assert_eq!(caps("100000000"), "壹亿元整");
        assert_eq!(caps("10"), "壹拾元整", "拾 keeps its digit");
        assert_eq!(caps("0"), "零元整");
        // One 零 for a run of zeros inside, none for trailing zeros.
        assert_eq!(caps("1005.07"), "壹仟零伍元零柒分");
        assert_eq!(caps("1050"), "壹仟零伍拾元整");
        assert_eq!(caps("10000001"), "壹仟万零壹元整");
        assert_eq!(caps("100050000"), "壹亿零伍万元整");
        assert_eq!(caps("100001"), "壹拾万零壹元整");
        assert_eq!(caps("107000.53"), "壹拾万柒仟元伍角叁分");
        assert_eq!(caps("3712345.67"), "叁佰柒拾壹万贰仟叁佰肆拾伍元陆角柒分");
        assert_eq!(caps("1234567890123"), "壹万贰仟叁佰肆拾伍亿陆仟柒佰捌拾玖万零壹佰贰拾叁元整");
        // 角 and 分 alone: no 零元, no 整.
        assert_eq!(caps("0.5"), "伍角");
        assert_eq!(caps("0.07"), "柒分");
        assert_eq!(caps("0.57"), "伍角柒分");
        assert_eq!(caps("1.50"), "壹元伍角");
        assert_eq!(Money::from_fen(-150).capitals(), "负壹元伍角");
        // The largest amount there is still reads.
        assert_eq!(
            Money::from_fen(i64::MAX).capitals(),
            "玖亿贰仟贰佰叁拾叁万柒仟贰佰零叁亿陆仟捌佰伍拾肆万柒仟柒佰伍拾捌元零柒分"
        );
        assert!(Money::from_fen(i64::MIN).capitals().starts_with('负'));
    }

    #[test]
    fn is_a_bigint_column_of_fen() {
        use sea_orm::sea_query::{ColumnType, Nullable, ValueType};
        let m = Money::from_fen(-12_345);
        assert_eq!(sea_orm::Value::from(m), sea_orm::Value::BigInt(Some(-12_345)));
        assert_eq!(<Money as ValueType>::try_from(sea_orm::Value::BigInt(Some(7))).ok(), Some(Money::from_fen(7)));
        assert!(<Money as ValueType>::try_from(sea_orm::Value::from("7")).is_err());
        assert_eq!(<Money as Nullable>::null(), sea_orm::Value::BigInt(None));
        assert_eq!(<Money as ValueType>::column_type(), ColumnType::BigInteger);
        // JSON stays the integer number of fen.
        assert_eq!(serde_json::to_string(&m).ok().as_deref(), Some("-12345"));
    }
}
