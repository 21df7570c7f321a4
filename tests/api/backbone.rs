//! The backbone for live work: jobs that run at their time whether or not anyone looks, one
//! runner per process that never runs a job twice, failures retried and shown, and reads that
//! change nothing.

use crate::bids::{bidder, deadline_of, first_lot};
use crate::client::{Client, expect_error};
use crate::opening::{cmd, events, hall, ok, release, submit};
use crate::support::{Options, TestApp, spawn_app, spawn_app_with};
use chrono::TimeDelta;
use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, JsonValue, QueryFilter, Statement};
use serde_json::{Value, json};
use std::{
    sync::{Arc, Mutex},
    time::Duration,
};
use tenderhall::{
    audit::{AuditEntry, AuditLog},
    entities::{audit_record, opening, tender},
    error::AppResult,
    jobs::{JobHandler, NewJob, Registry, Runner},
    uow::{UnitOfWork, Writer},
};

/// Waits (up to 15 s) until `check` holds.
async fn eventually<F: std::future::Future<Output = bool>>(mut check: impl FnMut() -> F) -> bool {
    for _ in 0..300 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn nobody_looks_and_the_deadline_opens_the_hall_on_time() {
    // The process's own runner, as in production.
    let app = spawn_app_with(Options {
        settings: Some(Box::new(|s| {
            s.jobs.run = true;
            s.jobs.poll_ms = 50;
        })),
        ..Default::default()
    })
    .await;
    let agency = Client::login(&app, "agency_x").await;
    let id = crate::tenders::published_tender(&app, &agency).await;
    for user in ["supplier_1", "supplier_2"] {
        let b = bidder(&app, user, &id).await;
        let lot = first_lot(&b.client, &id).await;
        submit(&b, &id, &lot, "1000000.00").await;
    }
    let deadline = deadline_of(&agency, &id).await;
    let uuid: uuid::Uuid = id.parse().expect("uuid");
    let db = app.state.db.clone();
    let find_tender = || tender::Entity::find().filter(tender::Column::PublicId.eq(uuid)).one(&db);
    let t = find_tender().await.expect("db").expect("tender");
    let mut live = app.state.writer.hub().subscribe();

    // Before the deadline the runner leaves it alone.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(opening::Entity::find().filter(opening::Column::TenderId.eq(t.id)).one(&db).await.expect("db").is_none());

    // The deadline passes; no page is opened by anyone.
    app.clock.set(deadline + TimeDelta::seconds(1));
    let opened = eventually(|| async {
        opening::Entity::find().filter(opening::Column::TenderId.eq(t.id)).one(&db).await.ok().flatten().is_some()
    })
    .await;
    assert!(opened, "the hall opened at the deadline by itself");
    assert_eq!(find_tender().await.expect("db").expect("tender").state.as_str(), "closed_for_bidding");
    let records = audit_record::Entity::find()
        .filter(audit_record::Column::Action.eq("opening.open"))
        .filter(audit_record::Column::ObjectId.eq(id.clone()))
        .all(&db)
        .await
        .expect("db");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].actor_label, "platform clock");
    let first = tokio::time::timeout(Duration::from_secs(5), live.recv()).await.expect("published").expect("event");
    assert_eq!((first.event.seq, first.event.kind.as_str()), (1, "opened"));
    assert_eq!(first.event.data["bids"].as_array().map(Vec::len), Some(2));
    // The public lists show the tender's new state.
    let listed = Client::anonymous(&app).await.get_json(&format!("/api/v1/tenders/{id}")).await;
    assert_eq!(listed["state"], "closed_for_bidding");
}

#[tokio::test]
async fn windows_close_by_themselves_and_a_late_click_does_not_skip_a_phase() {
    let (app, tender, host, bidders) = hall(2).await;
    for (b, _) in &bidders {
        ok(&b.client, &tender, json!({"op": "sign_in"})).await;
    }
    ok(&host, &tender, json!({"op": "start_decryption"})).await;
    for (b, s) in &bidders[..2] {
        ok(&b.client, &tender, release(s)).await;
    }
    // Before its end the window job is not due.
    assert_eq!(app.tick().await, 0);
    let h = host.get_json(&format!("/api/v1/tenders/{tender}/opening")).await;
    let ends: chrono::DateTime<chrono::Utc> = h["window_ends_at"].as_str().expect("ends").parse().expect("time");
    app.clock.set(ends);
    // (Besides the window's job, the audit checkpoint's may be due.)
    assert!(app.tick().await >= 1, "the decryption window's job ran");
    let h = host.get_json(&format!("/api/v1/tenders/{tender}/opening")).await;
    assert_eq!(h["phase"], "objections");
    let all = events(&host, &tender, 0).await;
    let reading = all.iter().find(|e| e["kind"] == "reading").expect("reading");
    assert_eq!(reading["data"]["bids"].as_array().map(Vec::len), Some(2));
    assert_eq!(reading["data"]["not_opened"][0]["outcome"], "decrypt_failed");
    // The host's click that crossed the window's end names the phase it meant to leave.
    let r = cmd(&host, &tender, json!({"op": "advance", "from": "decryption"})).await;
    expect_error(r, 409, "out_of_turn").await;
    assert_eq!(host.get_json(&format!("/api/v1/tenders/{tender}/opening")).await["phase"], "objections");
    // The objection window closes by itself too; the job runs once.
    app.clock.advance(TimeDelta::minutes(11));
    assert!(app.tick().await >= 1);
    assert_eq!(app.tick().await, 0);
    let h = host.get_json(&format!("/api/v1/tenders/{tender}/opening")).await;
    assert_eq!(h["phase"], "confirmation");
    assert!(h["record_sha256"].as_str().is_some_and(|d| d.len() == 64));
    let kinds: Vec<String> =
        events(&host, &tender, 0).await.iter().map(|e| e["kind"].as_str().unwrap_or("").to_string()).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "confirmation_started").count(), 1);
}

/// The action the probe records: one that nothing else in these tests records (only the demo's
/// bulk import does), so that its records are the probe's.
const PROBE_ACTION: tenderhall::audit::Action = tenderhall::audit::Action::MallImport;

/// A job kind for the tests: writes an audit record naming its argument, and fails while the
/// shared counter of failures to make is above zero.
#[derive(Clone, Default)]
struct Probe {
    fail_first: Arc<Mutex<u32>>,
}

#[async_trait::async_trait]
impl JobHandler for Probe {
    async fn run(&self, uow: &mut UnitOfWork, args: &Value) -> AppResult<()> {
        {
            let mut left = self.fail_first.lock().expect("lock");
            if *left > 0 {
                *left -= 1;
                return Err(tenderhall::error::AppError::rule("probe_failed", "the probe was told to fail"));
            }
        }
        let n = args["n"].as_i64().unwrap_or(-1);
        uow.record(&tenderhall::audit::AuditActor::system(), AuditEntry::new(PROBE_ACTION, n, json!({}))).await?;
        Ok(())
    }
}

fn runner(app: &TestApp, writer: Writer, probe: Probe, f: impl FnOnce(&mut tenderhall::config::JobSettings)) -> Runner {
    let mut settings = app.state.settings.jobs.clone();
    f(&mut settings);
    Runner::new(writer, Registry::default().add("test.probe", probe), settings)
}

async fn schedule(app: &TestApp, jobs: impl IntoIterator<Item = NewJob>) {
    let mut uow = app.state.writer.begin().await.expect("begin");
    for j in jobs {
        uow.schedule(j).await.expect("schedule");
    }
    uow.commit().await.expect("commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_runners_on_one_database_run_each_job_once() {
    let app = spawn_app().await;
    let now = app.state.clock.now();
    let n = 200;
    schedule(&app, (0..n).map(|i| NewJob::new("test.probe", format!("probe:{i}"), now, json!({"n": i})))).await;
    // A second pool on the same database, as a second process would have.
    let other = tenderhall::db::connect(&app.state.settings.database).await.expect("second pool");
    let audit = AuditLog::new(app.state.key.clone(), app.state.settings.audit.checkpoint_every);
    let second = Writer::new(other, app.state.clock.clone(), audit, Default::default());
    let small = |s: &mut tenderhall::config::JobSettings| s.batch = 3;
    let a = runner(&app, app.state.writer.clone(), Probe::default(), small);
    let b = runner(&app, second, Probe::default(), small);
    let (ra, rb) = tokio::join!(a.run_due(), b.run_due());
    let (ra, rb) = (ra.expect("runner a"), rb.expect("runner b"));
    assert_eq!(ra + rb, n as usize, "every job ran, none twice ({ra} + {rb})");
    assert!(ra > 0 && rb > 0, "both runners took part ({ra} + {rb})");
    let records = audit_record::Entity::find()
        .filter(audit_record::Column::Action.eq(PROBE_ACTION.code()))
        .all(&app.state.db)
        .await
        .expect("db");
    let mut ids: Vec<i64> = records.iter().map(|r| r.object_id.parse().expect("n")).collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..n).collect::<Vec<_>>(), "each job's effect once");
    // Scheduling a done job's key again does not bring it back.
    schedule(&app, [NewJob::new("test.probe", "probe:0", now, json!({"n": 0}))]).await;
    assert_eq!(a.run_due().await.expect("run"), 0);
    let report = tenderhall::audit::verify(&app.state.db, &app.state.key.public()).await.expect("verify");
    assert!(report.ok(), "{:?}", report.problems);
}

#[tokio::test]
async fn a_failing_job_is_retried_with_backoff_then_shown_to_staff() {
    let app = spawn_app().await;
    let probe = Probe { fail_first: Arc::new(Mutex::new(10)) };
    let r = runner(&app, app.state.writer.clone(), probe.clone(), |s| {
        s.max_attempts = 3;
        s.backoff_seconds = 5;
    });
    schedule(&app, [NewJob::new("test.probe", "probe:retry", app.state.clock.now(), json!({"n": 7}))]).await;
    assert_eq!(r.run_due().await.expect("run"), 1);
    // Not again before the backoff: 5 s, then 10 s.
    assert_eq!(r.run_due().await.expect("run"), 0);
    app.clock.advance(TimeDelta::seconds(5));
    assert_eq!(r.run_due().await.expect("run"), 1);
    app.clock.advance(TimeDelta::seconds(9));
    assert_eq!(r.run_due().await.expect("run"), 0);
    app.clock.advance(TimeDelta::seconds(1));
    assert_eq!(r.run_due().await.expect("run"), 1);
    // Three attempts: failed for good, and never run again.
    app.clock.advance(TimeDelta::hours(1));
    assert_eq!(r.run_due().await.expect("run"), 0);
    let supervisor = Client::login(&app, "supervisor").await;
    let failed = supervisor.get_json("/api/v1/admin/jobs").await;
    let job = failed.as_array().and_then(|a| a.iter().find(|j| j["key"] == "probe:retry")).expect("listed");
    assert_eq!((job["status"].as_str(), job["attempts"].as_i64()), (Some("failed"), Some(3)));
    assert!(job["last_error"].as_str().is_some_and(|e| e.contains("probe_failed")), "{job}");
    let page = supervisor.get("/admin/jobs").await.text().await.expect("page");
    assert!(page.contains("probe:retry") && page.contains("probe_failed"));
    expect_error(Client::login(&app, "supplier_1").await.get("/api/v1/admin/jobs").await, 403, "forbidden").await;
    expect_error(Client::anonymous(&app).await.get("/api/v1/admin/jobs").await, 401, "login_required").await;
    // A job of a kind nobody registered fails at once with the reason, and is shown too.
    schedule(&app, [NewJob::new("no.such.kind", "ghost", app.state.clock.now(), json!({}))]).await;
    let r1 = runner(&app, app.state.writer.clone(), probe, |s| s.max_attempts = 1);
    assert_eq!(r1.run_due().await.expect("run"), 1);
    let failed = supervisor.get_json("/api/v1/admin/jobs?status=failed").await;
    let ghost = failed.as_array().and_then(|a| a.iter().find(|j| j["key"] == "ghost")).expect("listed");
    assert!(ghost["last_error"].as_str().is_some_and(|e| e.contains("unknown job kind")), "{ghost}");
    expect_error(supervisor.get("/api/v1/admin/jobs?status=exploded").await, 400, "query_invalid").await;
}

/// Every kind the platform registers has a label of its own in both catalogues, and the jobs page
/// shows a job by its label with the kind's code beside it.
#[tokio::test]
async fn every_registered_job_kind_is_shown_by_a_label_in_both_languages() {
    use tenderhall::web::i18n::Lang;
    let app = spawn_app().await;
    let kinds = app.state.jobs.kinds();
    for k in ["tender.deadline", "opening.window", "mall.quotation.close", "bids.abandoned_uploads", "audit.checkpoint"]
    {
        assert!(kinds.contains(&k), "{k} is registered: {kinds:?}");
    }
    let i18n = &app.state.site.i18n;
    let mut labels = std::collections::HashMap::new();
    for lang in [Lang::Zh, Lang::En] {
        let mut seen = std::collections::HashSet::new();
        for kind in &kinds {
            let key = format!("jobs.kinds.{kind}");
            let label = i18n.lookup(lang, &key).unwrap_or_else(|| panic!("{key} is missing in {lang:?}"));
            assert!(!label.trim().is_empty() && label != *kind, "{key} in {lang:?}: {label:?}");
            assert!(seen.insert(label), "{key} in {lang:?} repeats another kind's label {label:?}");
            labels.insert((lang, *kind), label.to_string());
        }
    }

    // A waiting job of every kind, and one of a kind nobody registered, on the page in both
    // languages.
    let due = app.state.clock.now() + TimeDelta::days(400);
    schedule(&app, kinds.iter().map(|k| NewJob::new(k, format!("label:{k}"), due, json!({})))).await;
    schedule(&app, [NewJob::new("no.such.kind", "label:ghost", due, json!({}))]).await;
    let supervisor = Client::login(&app, "supervisor").await;
    for lang in [Lang::Zh, Lang::En] {
        assert_eq!(supervisor.get(&format!("/lang/{}?back=/", lang.code())).await.status(), 303);
        let page = supervisor.get("/admin/jobs?status=pending").await.text().await.expect("page");
        for kind in &kinds {
            let cell = format!("{} <code class=\"small muted\">{kind}</code>", labels[&(lang, *kind)]);
            assert!(page.contains(&cell), "{lang:?}: {cell} in {page}");
        }
        assert!(page.contains("no.such.kind <code class=\"small muted\">no.such.kind</code>"), "{page}");
    }
    let page = supervisor.get("/admin/jobs?status=pending").await.text().await.expect("page");
    assert!(!page.contains("审计链签名检查点"), "the English page has no Chinese label");
    assert_eq!(Client::login(&app, "supplier_1").await.get("/admin/jobs").await.status(), 403);
}

#[tokio::test]
async fn the_audit_checkpoint_is_a_recurring_job() {
    let app = spawn_app().await;
    let checkpoints =
        || async { tenderhall::entities::audit_checkpoint::Entity::find().all(&app.state.db).await.expect("db").len() };
    // A record since the last checkpoint; the first checkpoint job is due at the next ten minutes.
    let mut uow = app.state.writer.begin().await.expect("begin");
    uow.record(&tenderhall::audit::AuditActor::system(), AuditEntry::new(PROBE_ACTION, 1, json!({})))
        .await
        .expect("record");
    uow.commit().await.expect("commit");
    let before = checkpoints().await;
    assert_eq!(app.tick().await, 0);
    app.clock.advance(TimeDelta::minutes(10));
    assert_eq!(app.tick().await, 1);
    assert_eq!(checkpoints().await, before + 1);
    // Nothing new: the next one signs nothing, and a day later there is still one job to run.
    app.clock.advance(TimeDelta::minutes(10));
    assert_eq!(app.tick().await, 1);
    assert_eq!(checkpoints().await, before + 1);
    app.clock.advance(TimeDelta::days(1));
    // One run of each recurring job (the checkpoint and the hourly clean-up of abandoned
    // uploads), not one per missed interval.
    assert_eq!(app.tick().await, 2, "one run per recurring job, not one per missed interval");
}

/// Every table's rows, in a form that compares.
async fn snapshot(app: &TestApp) -> Vec<(String, Vec<JsonValue>)> {
    let db = &app.state.db;
    let backend = db.get_database_backend();
    let tables_sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1",
    };
    let tables =
        JsonValue::find_by_statement(Statement::from_string(backend, tables_sql)).all(db).await.expect("tables");
    let mut out = Vec::new();
    for t in tables {
        let name = t["name"].as_str().expect("name").to_string();
        let rows =
            JsonValue::find_by_statement(Statement::from_string(backend, format!("SELECT * FROM {name} ORDER BY 1")))
                .all(db)
                .await
                .expect("rows");
        out.push((name, rows));
    }
    out
}

#[tokio::test]
async fn no_get_changes_anything_for_any_role() {
    let app = spawn_app_with(Options { empty: true, ..Default::default() }).await;
    assert!(tenderhall::demo::seed(&app.state).await.expect("demo data"));
    let show = tenderhall::demo::opening::prepare(&app.state, &app.dir.path().join("opening")).await.expect("show");
    // Past the show's deadline and the open quotation's window, with no job run: a read that
    // opened the hall or closed the quotation would show here.
    app.clock.advance(TimeDelta::days(4));
    let mut users: Vec<Client> = Vec::new();
    for (user, _) in tenderhall::demo::ACCOUNTS.iter().chain(&[("centre", ""), ("hospital", "")]) {
        users.push(Client::with_password(&app, user, tenderhall::demo::PASSWORD).await);
    }
    users.push(Client::anonymous(&app).await);
    let doc: Value = users[0].get_json("/api/v1/openapi.json").await;
    let mut paths: Vec<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .filter(|(_, ops)| ops.get("get").is_some())
        .map(|(p, _)| p.clone())
        .collect();
    paths.extend(
        [
            "/",
            "/login",
            "/register",
            "/account",
            "/workspace",
            "/notifications",
            "/notifications/settings",
            "/notifications/subscriptions",
            "/tenders",
            "/tenders/new",
            "/tenders/{id}",
            "/tenders/{id}/edit",
            "/tenders/{id}/opening",
            "/tenders/{id}/documents/{doc}",
            "/audit",
            "/audit/verify",
            "/admin/organisations",
            "/admin/staff",
            "/admin/jobs",
            "/mall",
            "/mall/agreements",
            "/mall/agreements/{id}",
            "/mall/items/{id}",
            "/mall/orders",
            "/mall/orders/{id}",
            "/mall/price-flags",
            "/mall/quotations",
            "/mall/quotations/{id}",
            "/mall/reports",
            "/lang/en",
            "/lang/zh",
            "/.well-known/tenderhall/platform-key",
            "/healthz",
            "/readyz",
            "/static/app.css",
        ]
        .map(String::from),
    );
    let ids = ObjectIds::load(&app, show.tender).await;
    let urls: Vec<String> = paths.iter().flat_map(|p| ids.fill(p)).collect();
    assert!(urls.len() > 60, "{} GET requests", urls.len());
    let before = snapshot(&app).await;
    let mut statuses = std::collections::BTreeMap::new();
    for u in &users {
        for url in &urls {
            let r = u.get(url).await;
            *statuses.entry(r.status().as_u16()).or_insert(0) += 1;
        }
    }
    assert!(statuses.get(&200).copied().unwrap_or(0) > 100, "{statuses:?}");
    let after = snapshot(&app).await;
    for ((table, a), (_, b)) in before.iter().zip(&after) {
        assert_eq!(a.len(), b.len(), "rows of {table} changed in number");
        for (x, y) in a.iter().zip(b) {
            assert_eq!(x, y, "a row of {table} changed");
        }
    }
    assert_eq!(before.len(), after.len());
}

/// Public ids of objects of each kind, to fill path parameters with.
struct ObjectIds {
    by_segment: std::collections::HashMap<&'static str, Vec<String>>,
}

impl ObjectIds {
    async fn load(app: &TestApp, show: uuid::Uuid) -> Self {
        let db = &app.state.db;
        let backend = db.get_database_backend();
        let mut by_segment = std::collections::HashMap::new();
        for (segment, table) in [
            ("tenders", "tenders"),
            ("documents", "tender_documents"),
            ("lots", "lots"),
            ("bids", "bids"),
            ("orders", "mall_orders"),
            ("quotations", "mall_quotations"),
            ("items", "mall_items"),
            ("agreements", "mall_agreements"),
            ("organisations", "organisations"),
            ("notifications", "notifications"),
            ("flags", "mall_price_flags"),
        ] {
            let sql = format!("SELECT public_id FROM {table} ORDER BY id DESC LIMIT 2");
            let rows = JsonValue::find_by_statement(Statement::from_string(backend, sql)).all(db).await;
            let mut ids: Vec<String> =
                rows.unwrap_or_default().iter().filter_map(|r| r["public_id"].as_str().map(str::to_string)).collect();
            if segment == "tenders" {
                ids.push(show.to_string());
            }
            by_segment.insert(segment, ids);
        }
        Self { by_segment }
    }

    /// The path with each `{param}` replaced by the ids of the kind named before it.
    fn fill(&self, path: &str) -> Vec<String> {
        let mut out = vec![String::new()];
        let mut prev = "";
        for seg in path.split('/').skip(1) {
            let choices: Vec<String> = if seg.starts_with('{') {
                let ids = self.by_segment.get(prev).cloned().unwrap_or_default();
                if ids.is_empty() { vec![uuid::Uuid::nil().to_string()] } else { ids }
            } else {
                vec![seg.to_string()]
            };
            out = out.iter().flat_map(|o| choices.iter().map(move |c| format!("{o}/{c}"))).collect();
            prev = seg;
        }
        out.into_iter().map(|p| if p.is_empty() { "/".into() } else { p }).collect()
    }
}

#[tokio::test]
async fn an_older_database_is_upgraded_with_its_hall_events_and_its_due_work() {
    use sea_orm::PaginatorTrait;
    use tenderhall_migrations::{Migrator, MigratorTrait};
    let (app, tender, host, _) = hall(2).await;
    ok(&host, &tender, json!({"op": "start_decryption"})).await;
    let before = events(&host, &tender, 0).await;
    let waiting = crate::tenders::published_tender(&app, &host).await;
    let db = &app.state.db;
    // Back to the schema before the backbone (hall events in `hall_events`, no jobs), and up again.
    Migrator::down(db, Some(crate::support::migrations_from("m20261201_000001_backbone"))).await.expect("down");
    // The older schema numbers the hall's next event from the opening's own last number.
    let backend = db.get_database_backend();
    let row = JsonValue::find_by_statement(Statement::from_string(backend, "SELECT last_seq FROM openings"))
        .one(db)
        .await
        .expect("read")
        .expect("the opening");
    assert_eq!(row["last_seq"].as_i64(), Some(before.len() as i64));
    Migrator::up(db, None).await.expect("up");
    assert_eq!(events(&host, &tender, 0).await, before, "the hall's events, numbered as before");
    let jobs = tenderhall::entities::job::Entity::find().all(db).await.expect("jobs");
    let keys: Vec<&str> = jobs.iter().map(|j| j.idempotency_key.as_str()).collect();
    let t = tender::Entity::find().filter(tender::Column::PublicId.eq(waiting.parse::<uuid::Uuid>().expect("id")));
    let t = t.one(db).await.expect("db").expect("tender");
    assert!(keys.contains(&format!("tender.deadline:{}", t.id).as_str()), "{keys:?}");
    let o = opening::Entity::find().one(db).await.expect("db").expect("opening");
    assert!(keys.contains(&format!("opening.window:{}:decryption", o.id).as_str()), "{keys:?}");
    assert_eq!(tenderhall::entities::room_event::Entity::find().count(db).await.expect("count"), before.len() as u64);
    // The restored deadline job opens the waiting tender's hall when its time comes.
    app.clock.set(t.bid_deadline + TimeDelta::seconds(1));
    app.tick().await;
    assert!(opening::Entity::find().filter(opening::Column::TenderId.eq(t.id)).one(db).await.expect("db").is_some());
}
