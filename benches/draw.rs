//! The random draw over a large pool: avoidance over every expert, the eligible list sorted and
//! digested, the seed derived and the committee with its reserves drawn — against a plain
//! Fisher–Yates shuffle of the same list with the same random primitive (SHA-256 in counter
//! mode), measured in the same run. The pool is built in memory: the figures are the draw's own
//! work, not the database reads that feed it.
//!
//! `cargo bench --bench draw` (`TENDERHALL_DRAW_POOL`, default 100000; `TENDERHALL_DRAW_EXCLUDED`,
//! default 10000; `TENDERHALL_DRAW_RUNS`, default 50).

use chrono::NaiveDate;
use ring::digest::{Context, SHA256};
use std::time::{Duration, Instant};
use tenderhall::draw::algorithm::{Candidate, Draw, Group, Inputs, Request, commitment};
use tenderhall::draw::avoidance::{self, Employment, Party, PartyRole, Profile, Rules, Verdict};
use uuid::Uuid;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

const RULES: Rules = Rules { employment_years: 3, max_per_unit: 2, unit_window_days: 90 };

fn pool(n: usize, excluded: usize, sites: &[Uuid]) -> Vec<Profile> {
    let day = NaiveDate::from_ymd_opt(2026, 12, 20).unwrap_or_default();
    (0..n)
        .map(|i| {
            let mut p = Profile {
                expert: Uuid::from_u128(0x1000_0000 + i as u128 * 7919),
                site: sites[i % sites.len()],
                specialties: vec![["B0101", "B0102", "B01"][i % 3].to_string()],
                suspended: false,
                employments: vec![Employment {
                    employer: format!("单位{}", i % 5000),
                    credit_code: None,
                    from: NaiveDate::from_ymd_opt(2015, 1, 1).unwrap_or_default(),
                    until: None,
                }],
                conflicts: Vec::new(),
                unavailable: Vec::new(),
                recent_for_unit: 0,
            };
            // Every (n / excluded)-th expert is excluded, by one rule or another.
            if excluded > 0 && i % (n / excluded).max(1) == 0 {
                match (i / (n / excluded).max(1)) % 4 {
                    0 => p.suspended = true,
                    1 => p.unavailable.push(day),
                    2 => p.employments[0].employer = "供应商一有限公司".into(),
                    _ => p.recent_for_unit = 2,
                }
            }
            p
        })
        .collect()
}

fn parties() -> Vec<Party> {
    vec![
        Party { role: PartyRole::Bidder, name: "供应商一有限公司".into(), credit_code: None },
        Party { role: PartyRole::ProcuringUnit, name: "甲采购单位".into(), credit_code: None },
    ]
}

/// The draw's work for one request.
fn draw_once(profiles: &[Profile], request: &Request, secret: &[u8; 32], day: NaiveDate) -> (usize, usize) {
    let parties = parties();
    let mut eligible = Vec::new();
    let mut excluded = 0;
    for p in profiles {
        match avoidance::check(p, request, &parties, day, RULES) {
            Verdict::Eligible => {
                eligible.push(Candidate { expert: p.expert, specialties: p.specialties.clone(), site: p.site })
            }
            Verdict::Excluded(_) => excluded += 1,
            Verdict::NotAsked => {}
        }
    }
    eligible.sort_by_key(|c| c.expert);
    let inputs = Inputs {
        request: request.clone(),
        eligible,
        commitment: commitment(secret),
        contribution: hex::encode([0x5au8; 32]),
    };
    let picks = Draw::start(&inputs, secret).map(|d| d.picks().len()).unwrap_or(0);
    (picks, excluded)
}

/// The baseline: a whole Fisher–Yates shuffle of the same list, SHA-256 in counter mode.
fn shuffle_once(profiles: &[Profile], seed: &[u8; 32]) -> usize {
    let mut items: Vec<Uuid> = profiles.iter().map(|p| p.expert).collect();
    let mut block = 0u64;
    let mut buf = [0u8; 32];
    let mut used = 32;
    let mut next = || {
        if used == 32 {
            let mut ctx = Context::new(&SHA256);
            ctx.update(seed);
            ctx.update(&block.to_be_bytes());
            buf.copy_from_slice(ctx.finish().as_ref());
            block += 1;
            used = 0;
        }
        let mut b = [0u8; 8];
        b.copy_from_slice(&buf[used..used + 8]);
        used += 8;
        u64::from_be_bytes(b)
    };
    for k in (1..items.len()).rev() {
        let n = (k + 1) as u64;
        let zone = u64::MAX - (u64::MAX % n);
        let j = loop {
            let x = next();
            if x < zone {
                break (x % n) as usize;
            }
        };
        items.swap(k, j);
    }
    items.len()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let n = env("TENDERHALL_DRAW_POOL", 100_000);
    let excluded = env("TENDERHALL_DRAW_EXCLUDED", 10_000);
    let runs = env("TENDERHALL_DRAW_RUNS", 50).max(2);
    let sites = [Uuid::from_u128(1), Uuid::from_u128(2)];
    let profiles = pool(n, excluded, &sites);
    let request = Request {
        groups: vec![
            Group { specialty: "B01".into(), site: sites[0], count: 4 },
            Group { specialty: "B01".into(), site: sites[1], count: 3 },
        ],
        reserve: 2,
    };
    let day = NaiveDate::from_ymd_opt(2026, 12, 20).unwrap_or_default();
    let (mut draws, mut shuffles) = (Vec::new(), Vec::new());
    let mut last = (0, 0);
    for r in 0..runs {
        let mut secret = [0u8; 32];
        secret[..8].copy_from_slice(&(r as u64).to_be_bytes());
        let t = Instant::now();
        last = draw_once(&profiles, &request, &secret, day);
        draws.push(t.elapsed());
        let t = Instant::now();
        std::hint::black_box(shuffle_once(&profiles, &secret));
        shuffles.push(t.elapsed());
    }
    draws.sort();
    shuffles.sort();
    let (d50, d99, s50, s99) =
        (percentile(&draws, 0.5), percentile(&draws, 0.99), percentile(&shuffles, 0.5), percentile(&shuffles, 0.99));
    println!(
        "pool {n} experts, {} excluded by avoidance, {} drawn (members and reserves), {runs} runs",
        last.1, last.0
    );
    println!("draw (avoidance, canonical order, digests, seed, picks): p50 {d50:?}, p99 {d99:?}");
    println!("plain shuffle of the same list:                         p50 {s50:?}, p99 {s99:?}");
    println!(
        "ratio draw / shuffle: p50 {:.2}x, p99 {:.2}x",
        d50.as_secs_f64() / s50.as_secs_f64().max(1e-9),
        d99.as_secs_f64() / s99.as_secs_f64().max(1e-9)
    );
}
