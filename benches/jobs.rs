//! The job runner under load: 10,000 jobs due at once, claimed by two runner processes sharing
//! one PostgreSQL database (SQLite if no PostgreSQL is given). Checks that every job ran exactly
//! once (none twice, none missed), and reports the runners' throughput as a ratio to a bare loop
//! of `UPDATE jobs … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED) RETURNING id` run by two
//! processes on the same rows in the same run. Run:
//!
//! ```sh
//! TENDERHALL_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench jobs
//! # TENDERHALL_JOBS_COUNT=10000
//! ```
//!
//! The given server's database is only used to create a fresh database for the run, which is
//! dropped at the end. Each runner's job is a no-op, so the figure is the runner's own cost:
//! claiming, a unit of work per job (the write lock, marking it done, the commit).

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use std::{
    path::Path,
    sync::{Arc, Mutex},
    time::Instant,
};
use tenderhall::{
    audit::AuditLog,
    clock::{SharedClock, SystemClock},
    config::{DatabaseSettings, JobSettings},
    error::AppResult,
    jobs::{JobHandler, Registry, Runner},
    keys::PlatformKey,
    uow::{UnitOfWork, Writer},
};

const KIND: &str = "bench.noop";

/// Records which jobs this process ran.
struct Noop(Arc<Mutex<Vec<i64>>>);

#[async_trait::async_trait]
impl JobHandler for Noop {
    async fn run(&self, _uow: &mut UnitOfWork, args: &serde_json::Value) -> AppResult<()> {
        self.0.lock().expect("lock").push(args["n"].as_i64().unwrap_or(-1));
        Ok(())
    }
}

async fn connect(url: &str) -> sea_orm::DatabaseConnection {
    tenderhall::db::connect(&DatabaseSettings { url: url.to_string(), max_connections: 4 }).await.expect("connect")
}

/// A child process: runs the runner (or the bare loop) until nothing is left and writes the
/// numbers it handled to `out`, one a line.
async fn child(mode: &str, url: &str, key_dir: &Path, out: &Path) {
    let db = connect(url).await;
    let done: Vec<i64> = if mode == "runner" {
        let ran = Arc::new(Mutex::new(Vec::new()));
        let key = Arc::new(PlatformKey::load_or_create(key_dir).expect("key"));
        let clock: SharedClock = Arc::new(SystemClock);
        let writer = Writer::new(db, clock, AuditLog::new(key, 1_000_000), Default::default());
        let settings = JobSettings { run: false, ..JobSettings::default() };
        let runner = Runner::new(writer, Registry::default().add(KIND, Noop(ran.clone())), settings);
        runner.run_due().await.expect("run");
        ran.lock().expect("lock").clone()
    } else {
        let b = db.get_database_backend();
        let lock = if b == DbBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE jobs SET status = 'done' WHERE id = (SELECT id FROM jobs WHERE status = 'pending' \
             ORDER BY id LIMIT 1{lock}) RETURNING id"
        );
        let mut v = Vec::new();
        while let Some(row) = db.query_one_raw(Statement::from_string(b, sql.clone())).await.expect("update") {
            v.push(row.try_get::<i64>("", "id").expect("id"));
        }
        v
    };
    let text: String = done.iter().map(|n| format!("{n}\n")).collect();
    std::fs::write(out, text).expect("write");
}

fn read_ids(p: &Path) -> Vec<i64> {
    std::fs::read_to_string(p).expect("read").lines().filter_map(|l| l.parse().ok()).collect()
}

/// Runs two child processes of `mode` at once; returns the seconds taken and each one's numbers.
fn race(mode: &str, url: &str, dir: &Path) -> (f64, Vec<Vec<i64>>) {
    let exe = std::env::current_exe().expect("exe");
    // The platform key is made here, once: two processes starting together would both try to
    // create it.
    PlatformKey::load_or_create(&dir.join("keys")).expect("key");
    let start = Instant::now();
    let children: Vec<_> = (0..2)
        .map(|i| {
            let out = dir.join(format!("{mode}-{i}.txt"));
            let child = std::process::Command::new(&exe)
                .args(["--child", mode, url])
                .arg(dir.join("keys"))
                .arg(&out)
                .spawn()
                .expect("spawn");
            (child, out)
        })
        .collect();
    let mut lists = Vec::new();
    for (mut c, out) in children {
        assert!(c.wait().expect("wait").success(), "a {mode} process failed");
        lists.push(read_ids(&out));
    }
    (start.elapsed().as_secs_f64(), lists)
}

/// Every number 0..n exactly once across the lists.
fn exactly_once(lists: &[Vec<i64>], n: usize) -> (usize, usize) {
    let mut seen = vec![0u32; n];
    for l in lists {
        for &i in l {
            seen[usize::try_from(i).expect("index")] += 1;
        }
    }
    (seen.iter().filter(|c| **c == 0).count(), seen.iter().filter(|c| **c > 1).count())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let (mode, url, keys, out) = (&args[i + 1], &args[i + 2], &args[i + 3], &args[i + 4]);
        child(mode, url, Path::new(keys), Path::new(out)).await;
        return;
    }
    let n: usize = std::env::var("TENDERHALL_JOBS_COUNT").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("dir");
    let (url, drop_db) = match std::env::var("TENDERHALL_BENCH_DATABASE_URL").ok().filter(|u| u.starts_with("postgres"))
    {
        Some(admin_url) => {
            let name = format!("th_bench_jobs_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(&admin_url).await.expect("connect to PostgreSQL");
            admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create database");
            let (base, _) = admin_url.rsplit_once('/').expect("database URL has a path");
            (format!("{base}/{name}"), Some((admin, name)))
        }
        None => (format!("sqlite://{}?mode=rwc", dir.path().join("jobs.db").display()), None),
    };
    let db = connect(&url).await;
    tenderhall::db::migrate(&db).await.expect("migrate");
    let backend = db.get_database_backend();
    println!("jobs: {n} due at once, two processes, on {backend:?}");
    let now = chrono::Utc::now() - chrono::TimeDelta::seconds(1);
    let fill = |kind: &'static str| {
        let db = db.clone();
        async move {
            use sea_orm::{EntityTrait, Set};
            use tenderhall::{entities::job, jobs::JobStatus};
            db.execute_unprepared("DELETE FROM jobs").await.expect("empty");
            for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
                let rows = chunk.iter().map(|i| job::ActiveModel {
                    kind: Set(kind.into()),
                    args: Set(format!("{{\"n\":{i}}}")),
                    due_at: Set(now),
                    status: Set(JobStatus::Pending),
                    attempts: Set(0),
                    idempotency_key: Set(format!("{kind}:{i}")),
                    created_at: Set(now),
                    ..Default::default()
                });
                job::Entity::insert_many(rows).exec(&db).await.expect("insert");
            }
        }
    };
    // The ids of the bare loop are row ids: make them 0..n.
    fill("bare").await;
    let first: i64 = db
        .query_one_raw(Statement::from_string(backend, "SELECT MIN(id) AS id FROM jobs"))
        .await
        .expect("min")
        .and_then(|r| r.try_get::<i64>("", "id").ok())
        .unwrap_or(0);
    let (bare_s, bare) = race("bare", &url, dir.path());
    let bare: Vec<Vec<i64>> = bare.into_iter().map(|l| l.into_iter().map(|id| id - first).collect()).collect();
    let (missed, twice) = exactly_once(&bare, n);
    println!(
        "  bare UPDATE … RETURNING loop: {bare_s:.2} s ({:.0} jobs/s), missed {missed}, twice {twice}",
        n as f64 / bare_s
    );

    fill(KIND).await;
    let (runner_s, ran) = race("runner", &url, dir.path());
    let (missed, twice) = exactly_once(&ran, n);
    let per: Vec<usize> = ran.iter().map(Vec::len).collect();
    let left: i64 = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS c FROM jobs WHERE status <> 'done' OR attempts <> 1",
        ))
        .await
        .expect("count")
        .and_then(|r| r.try_get::<i64>("", "c").ok())
        .unwrap_or(-1);
    println!(
        "  two runners: {runner_s:.2} s ({:.0} jobs/s), per process {per:?}, missed {missed}, twice {twice}, \
         rows not done once: {left}",
        n as f64 / runner_s
    );
    println!("  throughput ratio runner / bare loop: {:.2}", bare_s / runner_s);
    assert_eq!((missed, twice, left), (0, 0, 0), "every job exactly once");
    drop(db);
    if let Some((admin, name)) = drop_db {
        let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
    }
}
