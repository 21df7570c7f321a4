//! Bounds on the numbers, amounts and times that come from outside.
//!
//! Whatever a request carries — a page number near the integer limits, an amount of billions of
//! billions of fen, a deadline hundreds of thousands of years away in either direction — is
//! checked here before any arithmetic is done with it, and refused with a field error naming
//! the field: `out_of_range` for pages and times, `not_positive` or `too_large` for amounts.
//! The services call these for every input, so pages and the JSON API refuse alike.
//!
//! Times are accepted from 1970-01-01T00:00:00Z to the end of the year 9999 in China Standard
//! Time (9999-12-31T15:59:59Z): every such time, and every time the platform derives from one
//! (a question cut-off days before a deadline, a job due at it), is inside the calendar chrono
//! computes with, and is written with a four-digit year both in UTC (RFC 3339 in the API) and
//! in China time (the pages).

use crate::{
    error::{AppError, AppResult, FieldError},
    money::Money,
};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

/// The most pages of a list a request may ask for.
pub const MAX_PAGE: u64 = 10_000;

/// The earliest time accepted: 1970-01-01T00:00:00Z.
pub fn earliest() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH
}

/// The latest time accepted: the last second of 9999 in China Standard Time.
pub fn latest() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(9999, 12, 31, 15, 59, 59).single().unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Whether a time is within [`earliest`] and [`latest`].
pub fn time_in_range(t: DateTime<Utc>) -> bool {
    (earliest()..=latest()).contains(&t)
}

/// Adds `out_of_range` for `name` to `fields` if the time is outside the bounds.
pub fn check_time(fields: &mut Vec<FieldError>, name: &'static str, t: DateTime<Utc>) {
    if !time_in_range(t) {
        fields.push(FieldError::new(name, "out_of_range"));
    }
}

/// The time, or `out_of_range` for `name`.
pub fn time(name: &'static str, t: DateTime<Utc>) -> AppResult<DateTime<Utc>> {
    if time_in_range(t) { Ok(t) } else { Err(AppError::invalid_field(name, "out_of_range")) }
}

/// The day (a China-time calendar day), or `out_of_range` for `name` outside 1970–9999.
pub fn day(name: &'static str, d: NaiveDate) -> AppResult<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN);
    let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX);
    if (first..=last).contains(&d) { Ok(d) } else { Err(AppError::invalid_field(name, "out_of_range")) }
}

/// Adds `not_positive` or `too_large` (above [`Money::MAX`]) for `name` to `fields`.
pub fn check_amount(fields: &mut Vec<FieldError>, name: &'static str, m: Money) {
    if m.fen() <= 0 {
        fields.push(FieldError::new(name, "not_positive"));
    } else if !m.within_bound() {
        fields.push(FieldError::new(name, "too_large"));
    }
}

/// The amount, or `not_positive` / `too_large` for `name`.
pub fn amount(name: &'static str, m: Money) -> AppResult<Money> {
    let mut fields = Vec::new();
    check_amount(&mut fields, name, m);
    if fields.is_empty() { Ok(m) } else { Err(AppError::validation(fields)) }
}

/// A page number from 1 (the first page when absent), at most `max`: otherwise `out_of_range`
/// for `page`.
pub fn page(p: Option<u64>, max: u64) -> AppResult<u64> {
    match p.unwrap_or(1) {
        n @ 1.. if n <= max => Ok(n),
        _ => Err(AppError::invalid_field("page", "out_of_range")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(e: AppError) -> String {
        e.fields.iter().map(|f| format!("{}:{}", f.field, f.code)).collect()
    }

    #[test]
    fn times_are_bounded_to_four_digit_years_in_utc_and_china_time() {
        assert!(time_in_range(earliest()) && time_in_range(latest()));
        assert_eq!(latest().to_rfc3339(), "9999-12-31T15:59:59+00:00");
        assert_eq!(latest().with_timezone(&crate::web::cst()).to_rfc3339(), "9999-12-31T23:59:59+08:00");
        for far in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, latest() + chrono::TimeDelta::seconds(1)] {
            assert!(!time_in_range(far), "{far}");
            assert_eq!(time("bid_deadline", far).map_err(code), Err("bid_deadline:out_of_range".into()));
        }
        assert_eq!(day("from", NaiveDate::MAX).map_err(code), Err("from:out_of_range".into()));
        assert!(day("from", NaiveDate::from_ymd_opt(2022, 1, 1).unwrap_or_default()).is_ok());
    }

    #[test]
    fn amounts_are_positive_and_at_most_the_bound() {
        assert_eq!(amount("budget", Money::MAX).ok(), Some(Money::MAX));
        assert_eq!(
            amount("budget", Money::from_fen(Money::MAX.fen() + 1)).map_err(code),
            Err("budget:too_large".into())
        );
        assert_eq!(amount("budget", Money::from_fen(i64::MAX)).map_err(code), Err("budget:too_large".into()));
        assert_eq!(amount("award", Money::from_fen(i64::MIN)).map_err(code), Err("award:not_positive".into()));
    }

    #[test]
    fn pages_are_from_one_to_the_most() {
        assert_eq!(page(None, 10).ok(), Some(1));
        assert_eq!(page(Some(10), 10).ok(), Some(10));
        for p in [0, 11, u64::MAX] {
            assert_eq!(page(Some(p), 10).map_err(code), Err("page:out_of_range".into()));
        }
    }
}
