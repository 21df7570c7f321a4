//! The savings report over 1,000,000 e-mall orders.
//!
//! `cargo bench --bench savings` — fills a fresh SQLite database (or the PostgreSQL database of
//! `TENDERHALL_BENCH_DATABASE_URL`, which it empties first) with 230 procuring units, 2,000
//! suppliers and 1,000,000 orders spread over one year, then asks for the centre's savings
//! report of the whole year by each breakdown (unit, category, supplier, month) 7 times each.
//! Baseline in the same run: one bare `SELECT COUNT(*), SUM(budget), SUM(amount)` over the
//! same orders (a single scan, no grouping, no names). Goal: a report in ≤ 1 s.

use chrono::{TimeDelta, TimeZone, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, Set, Statement};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use tenderhall::{
    accounts::model::{Actor, OrgKind, Role, SizeClass, Status},
    app::AppState,
    clock::ManualClock,
    config::Settings,
    entities::{mall_order, organisation},
    mall::{
        model::{CATEGORIES, OrderKind, OrderStatus},
        reports::{self, Group, ReportQuery},
    },
    money::Money,
};
use uuid::Uuid;

/// Orders loaded: 1,000,000, or `TENDERHALL_SAVINGS_ORDERS` (CI's short run uses a few).
fn orders() -> usize {
    std::env::var("TENDERHALL_SAVINGS_ORDERS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000)
}

const RUNS: usize = 7;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("dir");
    let mut settings = Settings::default();
    settings.database.url = match std::env::var("TENDERHALL_BENCH_DATABASE_URL") {
        Ok(u) => u,
        Err(_) => format!("sqlite://{}?mode=rwc", dir.path().join("db.sqlite").display()),
    };
    settings.storage.blob_dir = dir.path().join("blobs");
    settings.storage.key_dir = dir.path().join("keys");
    settings.storage.index_dir = dir.path().join("index");
    let now = Utc.with_ymd_and_hms(2026, 12, 31, 0, 0, 0).single().expect("time");
    let state = AppState::build(settings, Arc::new(ManualClock::new(now))).await.expect("state");
    let db = &state.db;
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared("DELETE FROM mall_order_lines; DELETE FROM mall_order_steps; DELETE FROM mall_orders")
            .await
            .expect("empty");
    }

    let t = Instant::now();
    let org = |i: usize, kind: OrgKind| organisation::ActiveModel {
        public_id: Set(Uuid::new_v4()),
        name: Set(format!("{}{i:05}", if kind == OrgKind::Supplier { "供应商" } else { "采购单位" })),
        kind: Set(kind),
        size_class: Set(Some(SizeClass::Small)),
        credit_code: Set(None),
        contact_phone: Set(None),
        status: Set(Status::Active),
        created_at: Set(now),
        approved_at: Set(Some(now - TimeDelta::days(i as i64 % 700))),
        ..Default::default()
    };
    let mut ids = Vec::new();
    for (n, kind) in [(230, OrgKind::ProcuringUnit), (2000, OrgKind::Supplier)] {
        let rows: Vec<_> = (0..n).map(|i| org(i, kind)).collect();
        for c in rows.chunks(500) {
            organisation::Entity::insert_many(c.to_vec()).exec(db).await.expect("orgs");
        }
        let found: Vec<tenderhall::ids::OrgId> = organisation::Entity::find()
            .all(db)
            .await
            .expect("orgs")
            .into_iter()
            .filter(|o| o.kind == kind)
            .map(|o| o.id)
            .collect();
        ids.push(found);
    }
    let (units, suppliers) = (&ids[0], &ids[1]);
    let start = Utc.with_ymd_and_hms(2025, 12, 31, 16, 0, 0).single().expect("time");
    let mut x: u64 = 7;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let txn = tenderhall::db::begin_write(db).await.expect("txn");
    let mut batch = Vec::with_capacity(1000);
    for i in 0..orders() {
        let budget = 100_000 + (rnd() % 5_000_000) as i64;
        let amount = budget - (rnd() % (budget as u64 / 6)) as i64;
        let placed = start + TimeDelta::seconds((rnd() % (365 * 86_400)) as i64);
        let status = [
            OrderStatus::Paid,
            OrderStatus::Paid,
            OrderStatus::Accepted,
            OrderStatus::Delivered,
            OrderStatus::Confirmed,
            OrderStatus::Submitted,
            OrderStatus::Cancelled,
        ][(rnd() % 7) as usize];
        batch.push(mall_order::ActiveModel {
            public_id: Set(Uuid::new_v4()),
            code: Set(format!("B{i:08}")),
            kind: Set(OrderKind::Recorded),
            procuring_org_id: Set(units[(rnd() % units.len() as u64) as usize]),
            supplier_org_id: Set(suppliers[(rnd() % suppliers.len() as u64) as usize]),
            agreement_id: Set(None),
            quotation_id: Set(None),
            category: Set(CATEGORIES[(rnd() % CATEGORIES.len() as u64) as usize].code.into()),
            budget_fen: Set(Money::from_fen(budget)),
            amount_fen: Set(Money::from_fen(amount)),
            status: Set(status),
            status_note: Set(None),
            acceptance: Set(None),
            created_by: Set(None),
            placed_at: Set(placed),
            updated_at: Set(placed),
            ..Default::default()
        });
        if batch.len() == 1000 {
            mall_order::Entity::insert_many(std::mem::take(&mut batch)).exec(&txn).await.expect("orders");
        }
    }
    txn.commit().await.expect("commit");
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared("VACUUM ANALYZE mall_orders").await.expect("analyze");
    } else {
        // After a bulk load the pages are in the write-ahead log; copy them into the database
        // file as a running server's checkpoints would.
        db.execute_unprepared("ANALYZE").await.expect("analyze");
        db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await.expect("checkpoint");
    }
    println!(
        "backend: {:?}; loaded {} orders in {:.1} s",
        db.get_database_backend(),
        orders(),
        t.elapsed().as_secs_f64()
    );

    let actor = Actor {
        user_id: tenderhall::ids::UserId(0),
        user_public_id: Uuid::nil(),
        username: "bench".into(),
        display_name: "bench".into(),
        role: Role::Supervisor,
        org_id: tenderhall::ids::OrgId(0),
        org_public_id: Uuid::nil(),
        org_name: "centre".into(),
        org_kind: OrgKind::Centre,
    };
    let baseline_sql =
        "SELECT COUNT(*), CAST(SUM(budget_fen) AS BIGINT), CAST(SUM(amount_fen) AS BIGINT) FROM mall_orders";
    let mut base = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        db.query_one_raw(Statement::from_string(db.get_database_backend(), baseline_sql)).await.expect("baseline");
        base.push(t.elapsed());
    }
    let base = median(base);
    println!("baseline (one bare aggregate scan): median {:.1} ms", ms(base));
    let mut worst = Duration::ZERO;
    for g in Group::ALL {
        let q = ReportQuery { from: Some("2026-01-01".into()), to: Some("2026-12-31".into()), group: Some(*g) };
        let mut runs = Vec::new();
        let mut deals = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            let r = reports::report(&state.mall, &actor, &q).await.expect("report");
            runs.push(t.elapsed());
            deals = r.mall_total.count;
        }
        let max = *runs.iter().max().expect("runs");
        worst = worst.max(max);
        let m = median(runs);
        println!(
            "report by {:<8} {deals} deals: median {:7.1} ms, max {:7.1} ms, ratio to baseline {:.2}",
            g.as_str(),
            ms(m),
            ms(max),
            m.as_secs_f64() / base.as_secs_f64()
        );
    }
    println!(
        "slowest report: {:.1} ms (goal ≤ 1000 ms: {})",
        ms(worst),
        if worst <= Duration::from_secs(1) { "met" } else { "NOT met" }
    );
}
