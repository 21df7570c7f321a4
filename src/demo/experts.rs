//! The demo's sites and expert pool: the district centre as the host site (主场) and a
//! neighbouring city's centre as a guest site (客场), each with its staff and supervisor bound to
//! it, and thirty experts spread over both, made through the sites' and the pool's services.
//!
//! The pool is written out below, not generated at random, so every launch of a new demo makes
//! the same pool (dates are counted back from the day the demo data is created). Most experts
//! of the opening show's tender (office furniture, specialty `B04`) can be drawn; some are not,
//! each for one avoidance rule, so a draw on that tender shows its exclusions with their reasons:
//! an employee of a bidder, a former employee of the procuring unit, a declared conflict with
//! the agency or a bidder, a suspended expert, experts away on the coming days.
//! `expert1`…`expert7` are the logins of experts who can be drawn for it.

use super::actor;
use crate::{
    app::AppState,
    error::{AppError, AppResult},
    experts::{
        model::check_character,
        service::{self as experts, AccountInput, ConflictInput, EmploymentInput, ExpertInput, SuspendInput},
    },
    sites::service::{self as sites, MemberInput, SiteInput},
};
use chrono::{Datelike, Months, NaiveDate, TimeDelta};
use uuid::Uuid;

/// The host site: the demo's own trading centre.
pub const HOST_SITE: &str = "某区公共资源交易中心";
/// The guest site: the trading centre of a neighbouring city.
pub const GUEST_SITE: &str = "邻市公共资源交易中心";
/// The specialty of the opening show's tender (办公家具及用品).
pub const SHOW_SPECIALTY: &str = "B04";

/// The sites: name, city, evaluation seats, the centre users bound to it, and the area code
/// (the first six digits of its experts' identity numbers).
const SITES: &[(&str, &str, i64, &[&str], &str)] = &[
    (HOST_SITE, "某市", 24, &["centre", "supervisor"], "110105"),
    (GUEST_SITE, "邻市", 12, &["centre2", "supervisor2"], "120104"),
];

/// Credit codes of the demo's organisations that experts worked for or declared conflicts with.
const EDUCATION_BUREAU: (&str, &str) = ("某区教育局", "11110000MB0000002Y");
const HOSPITAL: (&str, &str) = ("某区人民医院", "12110000MB0000003A");
const AGENCY: (&str, &str) = ("华信招标代理有限公司", "91110000MA0000005C");
const SUPPLIER1: (&str, &str) = ("星辰科技有限公司", "91110000MA0000006D");
const SUPPLIER2: (&str, &str) = ("远达办公设备经营部", "92110000MA0000007E");
const SUPPLIER3: (&str, &str) = ("华北建设工程集团有限公司", "91110000MA0000008F");
const SUPPLIER4: (&str, &str) = ("蓝海信息技术股份有限公司", "91110000MA0000009G");

/// An employment, its dates in whole months before the day the data is made; `until` none for
/// the current employer.
struct Job {
    employer: &'static str,
    credit_code: Option<&'static str>,
    from: u32,
    until: Option<u32>,
}

const fn job(employer: &'static str, from: u32, until: Option<u32>) -> Job {
    Job { employer, credit_code: None, from, until }
}

const fn at_org(org: (&'static str, &'static str), from: u32, until: Option<u32>) -> Job {
    Job { employer: org.0, credit_code: Some(org.1), from, until }
}

/// One expert of the demo pool.
struct Person {
    name: &'static str,
    /// Index into [`SITES`].
    site: usize,
    male: bool,
    /// Birth date, `YYYYMMDD`.
    born: &'static str,
    title: &'static str,
    specialties: &'static [&'static str],
    jobs: &'static [Job],
    conflicts: &'static [(&'static str, &'static str)],
    /// Days from the day the data is made that the expert cannot evaluate.
    away: &'static [i64],
    suspended: Option<&'static str>,
    login: Option<&'static str>,
}

const HOST: usize = 0;
const GUEST: usize = 1;

const fn person(
    name: &'static str,
    site: usize,
    male: bool,
    born: &'static str,
    title: &'static str,
    specialties: &'static [&'static str],
    jobs: &'static [Job],
) -> Person {
    Person { name, site, male, born, title, specialties, jobs, conflicts: &[], away: &[], suspended: None, login: None }
}

const POOL: &[Person] = &[
    // The host site: office furniture, with logins, all of them drawable for the show's tender.
    Person {
        login: Some("expert1"),
        ..person(
            "周明远",
            HOST,
            true,
            "19680412",
            "正高级工程师",
            &["B04", "D01"],
            &[job("某市家具质量监督检验站", 180, None), job("某市第二轻工业局", 300, Some(181))],
        )
    },
    Person {
        login: Some("expert2"),
        ..person(
            "林静怡",
            HOST,
            false,
            "19750903",
            "高级工程师",
            &["B04"],
            &[job("某大学设计学院", 144, None), job("某市家具制造有限公司", 240, Some(145))],
        )
    },
    Person {
        login: Some("expert3"),
        ..person("郑国华", HOST, true, "19631120", "高级经济师", &["B04", "D02"], &[job("某市政府采购协会", 96, None)])
    },
    Person {
        login: Some("expert4"),
        ..person(
            "何雅琴",
            HOST,
            false,
            "19800214",
            "高级工程师",
            &["B04", "B0102"],
            &[job("某区教师发展中心", 60, None), job("某市教育装备中心", 132, Some(61))],
        )
    },
    Person {
        login: Some("expert5"),
        ..person("马建军", HOST, true, "19710708", "高级工艺美术师", &["B04"], &[job("某市轻工业研究所", 200, None)])
    },
    // The host site: office furniture, each kept off the show's committee by one rule.
    person("孙德海", HOST, true, "19660530", "高级经济师", &["B04"], &[at_org(SUPPLIER2, 84, None)]),
    person(
        "吴秀兰",
        HOST,
        false,
        "19721201",
        "高级会计师",
        &["B04", "D02"],
        &[job("某会计师事务所", 17, None), at_org(EDUCATION_BUREAU, 150, Some(18))],
    ),
    Person {
        conflicts: &[AGENCY],
        ..person("杨志强", HOST, true, "19690322", "高级工程师", &["B04"], &[job("某市建筑装饰设计院", 156, None)])
    },
    Person {
        suspended: Some("年度考核不合格：两次接受抽取后无故缺席评标，暂停抽取六个月。"),
        ..person("黄丽华", HOST, false, "19650816", "高级工程师", &["B04"], &[job("某市家具行业协会", 120, None)])
    },
    Person {
        away: &[1, 2, 3, 4, 5, 6, 7],
        ..person(
            "陈卫东",
            HOST,
            true,
            "19701009",
            "高级工程师",
            &["B04"],
            &[job("某市室内装饰工程有限公司", 108, None)],
        )
    },
    // Worked for a bidder, but more than three years ago: drawable.
    person(
        "刘晓峰",
        HOST,
        true,
        "19780625",
        "高级工程师",
        &["B04", "B0101"],
        &[job("某市标准化研究院", 54, None), at_org(SUPPLIER1, 130, Some(66))],
    ),
    // The host site: other specialties.
    person("赵丽娜", HOST, false, "19820118", "高级工程师", &["B0101", "C02"], &[job("某大学信息中心", 100, None)]),
    person(
        "钱文博",
        HOST,
        true,
        "19760404",
        "正高级工程师",
        &["B0101"],
        &[job("某市大数据中心", 25, None), at_org(SUPPLIER4, 110, Some(26))],
    ),
    person("王芳", HOST, false, "19790727", "副教授", &["B0102"], &[job("某师范大学教育技术学院", 120, None)]),
    person("冯志明", HOST, true, "19670211", "主任医师", &["B0201", "B0202"], &[at_org(HOSPITAL, 240, None)]),
    person("蒋红梅", HOST, false, "19740519", "主任药师", &["B0201", "C0101"], &[job("某市第一人民医院", 150, None)]),
    Person {
        away: &[30, 31],
        ..person(
            "韩立新",
            HOST,
            true,
            "19640929",
            "高级工程师",
            &["B0301", "B0302"],
            &[job("某市机动车检测中心", 200, None)],
        )
    },
    person("曹慧敏", HOST, false, "19771106", "高级会计师", &["D02"], &[job("某会计师事务所", 90, None)]),
    person("邓建平", HOST, true, "19621224", "一级律师", &["D03"], &[job("某律师事务所", 220, None)]),
    // The guest site: office furniture, with logins, drawable for the show's tender.
    Person {
        login: Some("expert6"),
        ..person("许文涛", GUEST, true, "19730315", "高级工程师", &["B04"], &[job("邻市家具产品质量检验所", 130, None)])
    },
    Person {
        login: Some("expert7"),
        ..person(
            "罗春燕",
            GUEST,
            false,
            "19810821",
            "高级工程师",
            &["B04", "D02"],
            &[job("邻市职业技术学院", 70, None), job("邻市华美家具有限公司", 160, Some(71))],
        )
    },
    person("谢宏伟", GUEST, true, "19680602", "正高级工程师", &["B04"], &[job("邻市轻工设计院", 180, None)]),
    // The guest site: office furniture, kept off the show's committee.
    Person {
        conflicts: &[SUPPLIER4],
        ..person("宋雨婷", GUEST, false, "19851212", "工程师", &["B04"], &[job("邻市办公用品行业协会", 48, None)])
    },
    person(
        "唐振华",
        GUEST,
        true,
        "19660130",
        "高级工程师",
        &["B04"],
        &[job("邻市建筑装饰工程有限公司", 24, None), at_org(SUPPLIER3, 120, Some(25))],
    ),
    Person {
        away: &[2, 3, 4],
        ..person("潘静", GUEST, false, "19761010", "高级工程师", &["B04"], &[job("邻市质量技术监督研究院", 110, None)])
    },
    // The guest site: other specialties.
    person(
        "袁世杰",
        GUEST,
        true,
        "19700417",
        "正高级工程师",
        &["A0101", "A0102"],
        &[job("邻市建筑设计研究院", 260, None)],
    ),
    person(
        "邹海燕",
        GUEST,
        false,
        "19780905",
        "高级工程师",
        &["A0201", "A0202"],
        &[job("邻市市政工程设计院", 150, None)],
    ),
    person("彭博", GUEST, true, "19830228", "高级工程师", &["B0101", "C02"], &[job("邻市信息中心", 60, None)]),
    person("卢敏", GUEST, false, "19740713", "高级会计师", &["D02"], &[job("邻市正信会计师事务所", 140, None)]),
    person("蔡永康", GUEST, true, "19611111", "高级工程师", &["A03"], &[job("邻市水利勘测设计院", 300, None)]),
];

/// How many experts the demo pool has.
pub const POOL_SIZE: usize = POOL.len();

/// The logins bound to pool records, with the site each expert evaluates at.
pub fn expert_logins() -> Vec<(&'static str, &'static str)> {
    POOL.iter().filter_map(|p| p.login.map(|l| (l, SITES[p.site].0))).collect()
}

/// A valid 18-digit identity number: area code, birth date, a sequence number (odd for men,
/// even for women) and the GB 11643 check character.
fn id_number(area: &str, born: &str, seq: u32, male: bool) -> AppResult<String> {
    let seq = (seq * 2 + u32::from(male)) % 1000;
    let body = format!("{area}{born}{seq:03}");
    let check = check_character(&body).ok_or_else(|| AppError::internal(format!("identity number body {body}")))?;
    Ok(format!("{body}{check}"))
}

fn day_string(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The first day of the month `months` before `today`.
fn months_before(today: NaiveDate, months: u32) -> String {
    let d = today.checked_sub_months(Months::new(months)).unwrap_or(today);
    day_string(d.with_day(1).unwrap_or(d))
}

/// Makes the two sites with their members and the expert pool with its logins.
pub async fn seed(state: &AppState) -> AppResult<()> {
    let admin = actor(state, "admin").await?;
    let mut site_ids: Vec<Uuid> = Vec::new();
    for (name, city, seats, members, _) in SITES {
        let id = sites::create(
            &state.sites,
            &admin,
            &SiteInput { name: name.to_string(), city: city.to_string(), seats: *seats },
        )
        .await?;
        for m in *members {
            sites::add_member(&state.sites, &admin, id, &MemberInput { username: m.to_string() }).await?;
        }
        site_ids.push(id);
    }
    let staff = [actor(state, "centre").await?, actor(state, "centre2").await?];
    let today = state.clock.now().with_timezone(&crate::web::cst()).date_naive();
    for (n, p) in POOL.iter().enumerate() {
        let by = &staff[p.site];
        let input = ExpertInput {
            name: p.name.into(),
            id_number: id_number(SITES[p.site].4, p.born, 50 + n as u32, p.male)?,
            phone: format!("{}{:04}", if p.site == HOST { "1391000" } else { "1382000" }, 1001 + n),
            title: p.title.into(),
            site: site_ids[p.site],
            specialties: p.specialties.iter().map(|s| s.to_string()).collect(),
            employments: p
                .jobs
                .iter()
                .map(|j| EmploymentInput {
                    employer: j.employer.into(),
                    credit_code: j.credit_code.map(str::to_string),
                    from: months_before(today, j.from),
                    until: j.until.map(|m| months_before(today, m)),
                })
                .collect(),
            unavailable: p.away.iter().map(|d| day_string(today + TimeDelta::days(*d))).collect(),
            conflicts: p
                .conflicts
                .iter()
                .map(|(name, code)| ConflictInput { credit_code: code.to_string(), org_name: name.to_string() })
                .collect(),
        };
        let id = experts::create(&state.experts, by, &input).await?;
        if let Some(reason) = p.suspended {
            experts::suspend(&state.experts, by, id, &SuspendInput { reason: reason.into() }).await?;
        }
        if let Some(login) = p.login {
            experts::create_account(
                &state.experts,
                by,
                id,
                &AccountInput { username: login.into(), password: crate::demo::PASSWORD.into() },
            )
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_is_well_formed() {
        let mut ids = std::collections::BTreeSet::new();
        for (n, p) in POOL.iter().enumerate() {
            let id = id_number(SITES[p.site].4, p.born, 50 + n as u32, p.male).expect("id");
            assert_eq!(crate::experts::model::normalize_id_number(&id).as_deref(), Some(id.as_str()), "{}", p.name);
            assert_eq!((id.as_bytes()[16] - b'0') % 2 == 1, p.male, "{}", p.name);
            assert!(ids.insert(id), "{} has a unique identity number", p.name);
            for s in p.specialties {
                assert!(crate::experts::specialties::find(s).is_some(), "{s}");
            }
        }
        assert_eq!(POOL_SIZE, 30);
        let logins = expert_logins();
        assert_eq!(
            logins.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
            (1..=7).map(|n| format!("expert{n}")).collect::<Vec<_>>()
        );
        assert!(logins[..5].iter().all(|(_, s)| *s == HOST_SITE) && logins[5..].iter().all(|(_, s)| *s == GUEST_SITE));
        // The demo's evaluation show asks the host site for one cost expert: always expert1.
        let cost: Vec<_> = POOL
            .iter()
            .filter(|p| p.site == HOST && p.specialties.iter().any(|s| s.starts_with("D01")))
            .map(|p| p.login)
            .collect();
        assert_eq!(cost, vec![Some(crate::demo::evaluation::NEWCOMER)]);
        for p in POOL.iter().filter(|p| p.login.is_some()) {
            assert!(p.specialties.contains(&SHOW_SPECIALTY) && p.suspended.is_none() && p.conflicts.is_empty());
            assert!(p.away.is_empty() && p.jobs.iter().all(|j| j.credit_code.is_none()), "{}", p.name);
        }
    }
}
