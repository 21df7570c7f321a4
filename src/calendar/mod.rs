//! The working-day calendar (工作日历) the centre maintains: weekends are days off, except the
//! listed make-up working days (调休上班); weekdays are working days, except the listed holidays.
//! Every period a rule measures in working days (the challenge period, the answer to a
//! challenge, the award decision) is computed here, in China time.
//!
//! Owns: the `calendar_days` table and its API (`/api/v1/calendar`): everyone reads it, the
//! centre's staff change it.

pub mod api;

use crate::{
    accounts::model::Actor,
    audit::{Action, AuditEntry},
    entities::calendar_day,
    error::{AppError, AppResult},
};
use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::ToSchema;

pub use api::api_routes;

crate::column::string_enum! {
    /// What a listed day is.
    DayKind stored in crate::entities::calendar_day::Entity {
        /// 节假日: a weekday off.
        Holiday = "holiday",
        /// 调休上班: a weekend day worked.
        Workday = "workday",
    }
}

/// What the calendar's services use.
#[derive(Clone, Debug)]
pub struct Calendar {
    /// The database.
    pub db: sea_orm::DatabaseConnection,
    /// Starts units of work.
    pub writer: crate::uow::Writer,
}

/// The calendar as the rules read it: which days are working days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
}

/// The first day a day count may reach: a period is measured within a few months, so this only
/// bounds a loop over a calendar that lists every day as a holiday.
const MAX_DAYS_SCANNED: i64 = 3660;

impl WorkCalendar {
    /// A calendar with these listed holidays and make-up working days.
    pub fn new(holidays: impl IntoIterator<Item = NaiveDate>, workdays: impl IntoIterator<Item = NaiveDate>) -> Self {
        Self { holidays: holidays.into_iter().collect(), workdays: workdays.into_iter().collect() }
    }

    /// The calendar as stored.
    pub async fn load<C: ConnectionTrait>(db: &C) -> AppResult<Self> {
        let mut cal = Self::default();
        for d in calendar_day::Entity::find().all(db).await? {
            let day = parse_day(&d.day)
                .map_err(|_| AppError::internal(format!("calendar_days.day of row {}: {:?}", d.id, d.day)))?;
            match d.kind {
                DayKind::Holiday => cal.holidays.insert(day),
                DayKind::Workday => cal.workdays.insert(day),
            };
        }
        Ok(cal)
    }

    /// Whether `d` is a working day.
    pub fn is_working(&self, d: NaiveDate) -> bool {
        if self.workdays.contains(&d) {
            return true;
        }
        if self.holidays.contains(&d) {
            return false;
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The end (24:00 China time) of the `n`th working day after the day of `from`: "within `n`
    /// working days of `from`". With `n` = 0, the end of `from`'s own day.
    pub fn working_days_after(&self, from: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let mut day = from.with_timezone(&crate::web::cst()).date_naive();
        let mut left = n;
        let mut scanned = 0;
        while left > 0 && scanned < MAX_DAYS_SCANNED {
            day = day.succ_opt().unwrap_or(day);
            scanned += 1;
            if self.is_working(day) {
                left -= 1;
            }
        }
        end_of(day)
    }

    /// The end (24:00 China time) of the `n`th calendar day after the day of `from`.
    pub fn days_after(from: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let day = from.with_timezone(&crate::web::cst()).date_naive();
        end_of(day.checked_add_days(chrono::Days::new(n as u64)).unwrap_or(day))
    }

    /// The working days from the day after `from` to the day of `to`, both in China time.
    pub fn working_days_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> u32 {
        let cst = crate::web::cst();
        let (mut day, last) = (from.with_timezone(&cst).date_naive(), to.with_timezone(&cst).date_naive());
        let mut n = 0;
        let mut scanned = 0;
        while day < last && scanned < MAX_DAYS_SCANNED {
            day = day.succ_opt().unwrap_or(last);
            scanned += 1;
            if self.is_working(day) {
                n += 1;
            }
        }
        n
    }
}

/// 24:00 China time at the end of `day`, in UTC.
fn end_of(day: NaiveDate) -> DateTime<Utc> {
    let next = day.succ_opt().unwrap_or(day);
    crate::mall::reports::day_start(next)
}

fn parse_day(s: &str) -> Result<NaiveDate, chrono::ParseError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
}

/// A listed day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayView {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// `holiday` or `workday`.
    pub kind: DayKind,
    /// Its name (国庆节, 春节调休).
    pub name: String,
}

/// A day to list.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DayInput {
    /// `holiday` or `workday`.
    pub kind: String,
    /// Its name, 1–60 characters.
    pub name: String,
}

/// The listed days of `year` (all years without one), by date.
pub async fn list(db: &sea_orm::DatabaseConnection, year: Option<i32>) -> AppResult<Vec<DayView>> {
    let mut q = calendar_day::Entity::find().order_by_asc(calendar_day::Column::Day);
    if let Some(y) = year {
        if !(1970..=9999).contains(&y) {
            return Err(AppError::invalid_field("year", "out_of_range"));
        }
        q = q.filter(calendar_day::Column::Day.starts_with(format!("{y:04}-")));
    }
    Ok(q.all(db).await?.into_iter().map(|d| DayView { day: d.day, kind: d.kind, name: d.name }).collect())
}

fn centre_only(actor: &Actor) -> AppResult<()> {
    if crate::mall::policy::is_centre_staff(actor) {
        Ok(())
    } else {
        Err(AppError::forbidden_because("centre_only", "only the centre's staff keep the calendar"))
    }
}

fn checked_day(day: &str) -> AppResult<NaiveDate> {
    let d = parse_day(day).map_err(|_| AppError::invalid_field("day", "invalid_date"))?;
    if !(1970..=9999).contains(&d.year()) || d.format("%Y-%m-%d").to_string() != day {
        return Err(AppError::invalid_field("day", "invalid_date"));
    }
    Ok(d)
}

/// Lists a holiday or a make-up working day (replacing what the day was listed as). A holiday
/// may fall on a weekend (a holiday week is listed whole); a make-up working day on a weekday
/// changes nothing and is refused, as the likely mistake it is.
pub async fn set(state: &Calendar, actor: &Actor, day: &str, input: DayInput) -> AppResult<DayView> {
    centre_only(actor)?;
    let d = checked_day(day)?;
    let mut fields = Vec::new();
    let kind = DayKind::parse(input.kind.trim());
    if kind.is_none() {
        fields.push(crate::error::FieldError::new("kind", "unknown"));
    }
    crate::error::check_text(&mut fields, "name", &input.name, 1, 60);
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let kind = kind.unwrap_or(DayKind::Holiday);
    let weekend = matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
    if kind == DayKind::Workday && !weekend {
        return Err(AppError::invalid_field("kind", "changes_nothing"));
    }
    let mut uow = state.writer.begin().await?;
    let now = uow.now();
    let existing = calendar_day::Entity::find().filter(calendar_day::Column::Day.eq(day)).one(&uow).await?;
    let name = input.name.trim().to_string();
    match existing {
        Some(e) => {
            let mut m: calendar_day::ActiveModel = e.into();
            m.kind = Set(kind);
            m.name = Set(name.clone());
            m.set_by = Set(actor.user_id);
            m.set_at = Set(now);
            m.update(&uow).await?;
        }
        None => {
            calendar_day::ActiveModel {
                day: Set(day.to_string()),
                kind: Set(kind),
                name: Set(name.clone()),
                set_by: Set(actor.user_id),
                set_at: Set(now),
                ..Default::default()
            }
            .insert(&uow)
            .await?;
        }
    }
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::CalendarSet,
            actor.org_public_id,
            serde_json::json!({"day": day, "kind": kind, "name": name}),
        ),
    )
    .await?;
    uow.commit().await?;
    Ok(DayView { day: day.to_string(), kind, name })
}

/// Takes a day off the list: it is again what its weekday makes it.
pub async fn remove(state: &Calendar, actor: &Actor, day: &str) -> AppResult<()> {
    centre_only(actor)?;
    checked_day(day)?;
    let mut uow = state.writer.begin().await?;
    let e = calendar_day::Entity::find()
        .filter(calendar_day::Column::Day.eq(day))
        .one(&uow)
        .await?
        .ok_or_else(AppError::not_found)?;
    calendar_day::Entity::delete_by_id(e.id).exec(&uow).await?;
    uow.record(
        &actor.audit(),
        AuditEntry::new(Action::CalendarRemove, actor.org_public_id, serde_json::json!({"day": day, "was": e.kind})),
    )
    .await?;
    uow.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone};

    fn d(s: &str) -> NaiveDate {
        parse_day(s).unwrap()
    }

    fn at(s: &str, h: u32) -> DateTime<Utc> {
        crate::web::cst().from_local_datetime(&d(s).and_hms_opt(h, 0, 0).unwrap()).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn weekends_holidays_and_make_up_days() {
        // 2026-10-01 (Thu) to 10-07 are the National Day holiday; 2026-10-10 (Sat) is worked.
        let holidays = (1..=7).map(|i| d(&format!("2026-10-{i:02}")));
        let cal = WorkCalendar::new(holidays, [d("2026-10-10")]);
        assert!(!cal.is_working(d("2026-10-01")));
        assert!(cal.is_working(d("2026-10-08")));
        assert!(cal.is_working(d("2026-10-10")));
        assert!(!cal.is_working(d("2026-10-11")));
        assert!(!cal.is_working(d("2026-09-27")), "a Sunday");
        // From Wed 30 September, 7 working days: 8, 9, 10 (Sat, worked), 12, 13, 14, 15.
        assert_eq!(cal.working_days_after(at("2026-09-30", 15), 7), at("2026-10-16", 0));
        // Without the listed days the same count ends on Fri 9 October.
        assert_eq!(WorkCalendar::default().working_days_after(at("2026-09-30", 15), 7), at("2026-10-10", 0));
        assert_eq!(cal.working_days_after(at("2026-09-30", 15), 0), at("2026-10-01", 0));
        assert_eq!(cal.working_days_between(at("2026-09-30", 15), at("2026-10-16", 0) - TimeDelta::seconds(1)), 7);
    }

    #[test]
    fn a_friday_evening_counts_from_monday_and_calendar_days_ignore_the_list() {
        let cal = WorkCalendar::default();
        // Fri 4 December 2026, 23:30 China time (15:30 UTC): 1 working day ends at 24:00 Monday.
        let fri = at("2026-12-04", 23) + TimeDelta::minutes(30);
        assert_eq!(cal.working_days_after(fri, 1), at("2026-12-08", 0));
        assert_eq!(WorkCalendar::days_after(fri, 3), at("2026-12-08", 0));
        // The China day, not the UTC day: 07:00 China time on Saturday is Friday in UTC.
        assert_eq!(cal.working_days_after(at("2026-12-05", 7), 1), at("2026-12-08", 0));
    }

    #[test]
    fn a_calendar_of_nothing_but_holidays_ends() {
        let start = d("2026-01-01");
        let all = (0..4000).filter_map(|i| start.checked_add_days(chrono::Days::new(i)));
        let cal = WorkCalendar::new(all, []);
        let end = cal.working_days_after(at("2026-01-01", 9), 1);
        assert!(end > at("2026-01-01", 9));
    }
}
