//! Avoidance (回避): which experts of the pool may not sit on a tender's committee, and why.
//!
//! Pure: the service loads each expert's profile and the tender's parties (the bidders whose
//! bids were opened, the procuring unit, the agency) and asks [`check`], which gives every
//! rule that excludes the expert, each with its reason code and a detail for the record. An
//! expert whose specialties the request does not ask for is not a candidate at all
//! ([`Verdict::NotAsked`]) and is not listed among the exclusions.

use super::algorithm::{Request, covers};
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

crate::column::string_enum! {
    /// Why an expert was excluded from a draw.
    Reason stored in crate::entities::draw_exclusion::Entity {
        /// Suspended in the pool.
        Suspended = "suspended",
        /// Declared unavailable on the day of the session.
        Unavailable = "unavailable",
        /// Employed now or within the look-back years by a bidder, the procuring unit or the agency.
        EmployedByParty = "employed_by_party",
        /// Declared a conflict with a bidder, the procuring unit or the agency.
        DeclaredConflict = "declared_conflict",
        /// Already evaluated the allowed number of times for the same procuring unit within the window.
        FrequentForUnit = "frequent_for_unit",
        /// At a site the request does not ask for.
        SiteNotRequested = "site_not_requested",
    }
}

/// Who a party of the tender is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartyRole {
    /// A bidder whose bid was opened.
    Bidder,
    /// The procuring unit.
    ProcuringUnit,
    /// The agency.
    Agency,
}

impl PartyRole {
    /// Its stable name in details.
    pub fn as_str(self) -> &'static str {
        match self {
            PartyRole::Bidder => "bidder",
            PartyRole::ProcuringUnit => "procuring_unit",
            PartyRole::Agency => "agency",
        }
    }
}

/// An organisation an expert must not be tied to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// What it is to the tender.
    pub role: PartyRole,
    /// Its name.
    pub name: String,
    /// Its 统一社会信用代码, if known.
    pub credit_code: Option<String>,
}

/// One employment of an expert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Employment {
    /// The employer's name.
    pub employer: String,
    /// Its credit code, if known.
    pub credit_code: Option<String>,
    /// From (China-time date).
    pub from: NaiveDate,
    /// Until, or `None` when current.
    pub until: Option<NaiveDate>,
}

/// What the rules read of an expert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The expert's public id.
    pub expert: Uuid,
    /// Its site's public id.
    pub site: Uuid,
    /// Its specialty codes.
    pub specialties: Vec<String>,
    /// Whether it is suspended.
    pub suspended: bool,
    /// Its employments.
    pub employments: Vec<Employment>,
    /// Its declared conflicts: credit code and name.
    pub conflicts: Vec<(String, String)>,
    /// The days it declared itself unavailable.
    pub unavailable: Vec<NaiveDate>,
    /// How many committees of the same procuring unit it sat on within the window.
    pub recent_for_unit: u32,
}

/// The numbers of the rules (settings `draw.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Employments this many years back count (3).
    pub employment_years: u32,
    /// At most this many committees for one procuring unit within the window (2).
    pub max_per_unit: u32,
    /// The window, in days (90).
    pub unit_window_days: u32,
}

/// One rule that excludes an expert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule.
    pub reason: Reason,
    /// What in particular: the party, the day, the count.
    pub detail: String,
}

/// The outcome for one expert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No group asks for its specialties: not a candidate, not recorded.
    NotAsked,
    /// May be drawn.
    Eligible,
    /// Excluded, with every rule that applies.
    Excluded(Vec<Finding>),
}

/// Whether an employer or a declared organisation is the party: the credit codes when both
/// are known, else the names (spaces around them ignored).
fn same_org(name: &str, code: Option<&str>, party: &Party) -> bool {
    match (code.map(str::trim).filter(|c| !c.is_empty()), party.credit_code.as_deref().map(str::trim)) {
        (Some(a), Some(b)) if !b.is_empty() => a.eq_ignore_ascii_case(b),
        _ => name.trim() == party.name.trim(),
    }
}

/// Applies every avoidance rule to one expert for a session on `day` (China time).
pub fn check(p: &Profile, request: &Request, parties: &[Party], day: NaiveDate, rules: Rules) -> Verdict {
    let asked = request.groups.iter().any(|g| p.specialties.iter().any(|s| covers(&g.specialty, s)));
    if !asked {
        return Verdict::NotAsked;
    }
    let mut found = Vec::new();
    if p.suspended {
        found.push(Finding { reason: Reason::Suspended, detail: String::new() });
    }
    if p.unavailable.contains(&day) {
        found.push(Finding { reason: Reason::Unavailable, detail: day.to_string() });
    }
    let since = day.checked_sub_months(Months::new(12 * rules.employment_years)).unwrap_or(NaiveDate::MIN);
    for e in &p.employments {
        let overlaps = e.from <= day && e.until.is_none_or(|u| u >= since);
        if !overlaps {
            continue;
        }
        for party in parties.iter().filter(|party| same_org(&e.employer, e.credit_code.as_deref(), party)) {
            let until = e.until.map(|u| u.to_string()).unwrap_or_default();
            found.push(Finding {
                reason: Reason::EmployedByParty,
                detail: format!("{}: {} ({}–{until})", party.role.as_str(), party.name, e.from),
            });
        }
    }
    for (code, name) in &p.conflicts {
        for party in parties.iter().filter(|party| same_org(name, Some(code), party)) {
            found.push(Finding {
                reason: Reason::DeclaredConflict,
                detail: format!("{}: {}", party.role.as_str(), party.name),
            });
        }
    }
    if p.recent_for_unit >= rules.max_per_unit {
        found.push(Finding {
            reason: Reason::FrequentForUnit,
            detail: format!("{} in {} days", p.recent_for_unit, rules.unit_window_days),
        });
    }
    let site_asked =
        request.groups.iter().any(|g| g.site == p.site && p.specialties.iter().any(|s| covers(&g.specialty, s)));
    if !site_asked {
        found.push(Finding { reason: Reason::SiteNotRequested, detail: String::new() });
    }
    if found.is_empty() { Verdict::Eligible } else { Verdict::Excluded(found) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draw::algorithm::Group;

    const RULES: Rules = Rules { employment_years: 3, max_per_unit: 2, unit_window_days: 90 };

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn host() -> Uuid {
        Uuid::from_u128(1)
    }

    fn request() -> Request {
        Request { groups: vec![Group { specialty: "A02".into(), site: host(), count: 5 }], reserve: 1 }
    }

    fn profile() -> Profile {
        Profile {
            expert: Uuid::from_u128(99),
            site: host(),
            specialties: vec!["A0201".into()],
            suspended: false,
            employments: vec![],
            conflicts: vec![],
            unavailable: vec![],
            recent_for_unit: 0,
        }
    }

    fn parties() -> Vec<Party> {
        vec![
            Party {
                role: PartyRole::Bidder, name: "供应商一".into(), credit_code: Some("91330100MA2AAAAA1X".into())
            },
            Party { role: PartyRole::ProcuringUnit, name: "甲采购单位".into(), credit_code: None },
        ]
    }

    fn reasons(v: Verdict) -> Vec<Reason> {
        match v {
            Verdict::Excluded(f) => f.into_iter().map(|f| f.reason).collect(),
            other => panic!("not excluded: {other:?}"),
        }
    }

    const SESSION: &str = "2026-12-20";

    #[test]
    fn an_expert_with_no_ties_is_eligible_and_one_not_asked_for_is_not_a_candidate() {
        assert_eq!(check(&profile(), &request(), &parties(), day(SESSION), RULES), Verdict::Eligible);
        let other = Profile { specialties: vec!["B01".into()], ..profile() };
        assert_eq!(check(&other, &request(), &parties(), day(SESSION), RULES), Verdict::NotAsked);
    }

    #[test]
    fn each_rule_excludes_with_its_reason() {
        let p = Profile { suspended: true, ..profile() };
        assert_eq!(reasons(check(&p, &request(), &parties(), day(SESSION), RULES)), vec![Reason::Suspended]);

        let p = Profile { unavailable: vec![day(SESSION)], ..profile() };
        assert_eq!(reasons(check(&p, &request(), &parties(), day(SESSION), RULES)), vec![Reason::Unavailable]);
        let p = Profile { unavailable: vec![day("2026-12-21")], ..profile() };
        assert_eq!(check(&p, &request(), &parties(), day(SESSION), RULES), Verdict::Eligible);

        let p = Profile { recent_for_unit: 2, ..profile() };
        assert_eq!(reasons(check(&p, &request(), &parties(), day(SESSION), RULES)), vec![Reason::FrequentForUnit]);
        let p = Profile { recent_for_unit: 1, ..profile() };
        assert_eq!(check(&p, &request(), &parties(), day(SESSION), RULES), Verdict::Eligible);

        let p = Profile { site: Uuid::from_u128(2), ..profile() };
        assert_eq!(reasons(check(&p, &request(), &parties(), day(SESSION), RULES)), vec![Reason::SiteNotRequested]);
    }

    #[test]
    fn employment_by_a_party_counts_now_and_within_three_years_by_code_or_name() {
        let job = |name: &str, code: Option<&str>, from: &str, until: Option<&str>| Employment {
            employer: name.into(),
            credit_code: code.map(Into::into),
            from: day(from),
            until: until.map(day),
        };
        // Current employer, matched by credit code even under another name.
        let p = Profile {
            employments: vec![job("供应商一（改名）", Some("91330100ma2aaaaa1x"), "2020-01-01", None)],
            ..profile()
        };
        let v = check(&p, &request(), &parties(), day(SESSION), RULES);
        let Verdict::Excluded(f) = v else { panic!("{v:?}") };
        assert_eq!(f[0].reason, Reason::EmployedByParty);
        assert!(f[0].detail.starts_with("bidder: 供应商一"), "{}", f[0].detail);
        // Left two years ago: still counts. Left more than three years ago: does not.
        let p =
            Profile { employments: vec![job("甲采购单位", None, "2015-01-01", Some("2024-12-01"))], ..profile() };
        assert_eq!(reasons(check(&p, &request(), &parties(), day(SESSION), RULES)), vec![Reason::EmployedByParty]);
        let p =
            Profile { employments: vec![job("甲采购单位", None, "2015-01-01", Some("2023-12-19"))], ..profile() };
        assert_eq!(check(&p, &request(), &parties(), day(SESSION), RULES), Verdict::Eligible);
        // A different code under the same name is another organisation.
        let p = Profile {
            employments: vec![job("供应商一", Some("91110000XXXXXXXX0Y"), "2020-01-01", None)],
            ..profile()
        };
        assert_eq!(check(&p, &request(), &parties(), day(SESSION), RULES), Verdict::Eligible);
    }

    #[test]
    fn a_declared_conflict_with_a_party_excludes() {
        let p = Profile { conflicts: vec![("91330100MA2AAAAA1X".into(), "供应商一".into())], ..profile() };
        assert_eq!(reasons(check(&p, &request(), &parties(), day(SESSION), RULES)), vec![Reason::DeclaredConflict]);
        let p = Profile { conflicts: vec![("91110000XXXXXXXX0Y".into(), "别的公司".into())], ..profile() };
        assert_eq!(check(&p, &request(), &parties(), day(SESSION), RULES), Verdict::Eligible);
    }

    #[test]
    fn every_rule_that_applies_is_recorded() {
        let p = Profile { suspended: true, unavailable: vec![day(SESSION)], recent_for_unit: 3, ..profile() };
        assert_eq!(
            reasons(check(&p, &request(), &parties(), day(SESSION), RULES)),
            vec![Reason::Suspended, Reason::Unavailable, Reason::FrequentForUnit]
        );
    }
}
