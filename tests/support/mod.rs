//! Test support: start the real server on port 0 with a fresh database and drive it over HTTP.
//!
//! With `TENDERHALL_TEST_DATABASE_URL=postgres://...` every app gets a fresh PostgreSQL
//! database (created here, dropped when the app is dropped); otherwise a new SQLite file.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{ConnectionTrait, Database};
use std::{
    net::SocketAddr,
    sync::{Arc, OnceLock},
};
use tenderhall::{
    accounts::{
        model::{OrgKind, Role, SizeClass},
        service as accounts,
    },
    app::AppState,
    audit::AuditActor,
    clock::ManualClock,
    config::Settings,
};

/// The password of every fixture user.
pub const PASSWORD: &str = "Passw0rd-test";

pub mod federation;
pub mod smtp;

/// The start time of every test clock: 2026-11-02 10:00 China Standard Time.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 2, 0, 0).single().expect("valid time")
}

fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| accounts::hash_password(PASSWORD).expect("hash"))
}

/// A running server.
pub struct TestApp {
    /// Base URL, `http://127.0.0.1:port`.
    pub base: String,
    /// Address.
    pub addr: SocketAddr,
    /// The server's state (database, settings...).
    pub state: AppState,
    /// The server's clock.
    pub clock: Arc<ManualClock>,
    /// Files of this app.
    pub dir: tempfile::TempDir,
    pg_drop: Option<(String, String)>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some((admin_url, name)) = self.pg_drop.take() {
            // The pool belongs to the test's runtime, which is blocked here; FORCE ends its
            // connections from the server side instead of closing them from this one.
            std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
                rt.block_on(async move {
                    if let Ok(admin) = Database::connect(&admin_url).await {
                        let _ =
                            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                        let _ = admin.close().await;
                    }
                });
            })
            .join()
            .ok();
        }
    }
}

/// A change to the settings before the app starts.
pub type SettingsHook = Box<dyn FnOnce(&mut Settings) + Send>;

/// A fixture organisation: name, kind, size, users with roles.
pub type FixtureOrg = (&'static str, OrgKind, Option<SizeClass>, &'static [(&'static str, Role)]);

/// Options of a test app.
#[derive(Default)]
pub struct Options {
    /// TLS: (cert, key, client CA) paths.
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf, Option<std::path::PathBuf>)>,
    /// Adjust settings before start.
    pub settings: Option<SettingsHook>,
    /// Start with an empty database (no fixture organisations and users).
    pub empty: bool,
}

/// Starts an app with the fixture organisations and users.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

/// Starts an app with options.
pub async fn spawn_app_with(opts: Options) -> TestApp {
    // reqwest and the TLS tests use rustls with ring, the platform's one crypto library.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = Settings::default();
    let mut pg_drop = None;
    match std::env::var("TENDERHALL_TEST_DATABASE_URL").ok().filter(|u| u.starts_with("postgres")) {
        Some(admin_url) => {
            let name = format!("th_test_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(&admin_url).await.expect("connect to PostgreSQL");
            admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
            admin.close().await.ok();
            let (base, _) = admin_url.rsplit_once('/').expect("database URL has a path");
            settings.database.url = format!("{base}/{name}");
            pg_drop = Some((admin_url, name));
        }
        None => settings.database.url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display()),
    }
    settings.database.max_connections = 5;
    settings.storage.blob_dir = dir.path().join("blobs");
    settings.storage.key_dir = dir.path().join("keys");
    settings.storage.index_dir = dir.path().join("index");
    settings.audit.checkpoint_every = 10;
    // Jobs run when a test says so ([`TestApp::tick`]), right after it moved the clock: a
    // background runner would race the test's next request. Tests of the runner turn it on.
    settings.jobs.run = false;
    settings.server.listen = "127.0.0.1:0".parse().expect("addr");
    if let Some((cert, key, ca)) = opts.tls {
        settings.tls.cert = Some(cert);
        settings.tls.key = Some(key);
        settings.tls.client_ca = ca;
    }
    if let Some(f) = opts.settings {
        f(&mut settings);
    }
    let clock = Arc::new(ManualClock::new(t0()));
    let state = AppState::build(settings, clock.clone()).await.expect("app state");
    if !opts.empty {
        seed(&state).await;
    }
    // As a deployment waits for /readyz: the catalogue index has caught up with the database.
    tenderhall::mall::catalogue::sync(&state.db, &state.catalogue).await.expect("catalogue index");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server_state = state.clone();
    tokio::spawn(async move {
        let _ = tenderhall::server::serve(server_state, listener, async move {
            let _ = rx.await;
        })
        .await;
    });
    let scheme = if state.settings.tls_enabled() { "https" } else { "http" };
    TestApp {
        base: format!("{scheme}://127.0.0.1:{}", addr.port()),
        addr,
        state,
        clock,
        dir,
        pg_drop,
        shutdown: Some(tx),
    }
}

impl TestApp {
    /// Runs every job that is due by the app's clock (as the runner would at once), and returns
    /// how many ran.
    pub async fn tick(&self) -> usize {
        self.state.jobs.run_due().await.expect("running due jobs")
    }

    /// A platform with nothing but the demo data, its opening windows short enough for
    /// [`TestApp::play_opening_show`].
    pub async fn with_demo_data() -> TestApp {
        Self::with_demo_data_and(|_| {}).await
    }

    /// As [`TestApp::with_demo_data`], with more settings changed by `more`.
    pub async fn with_demo_data_and(more: impl FnOnce(&mut tenderhall::config::Settings) + Send + 'static) -> TestApp {
        let app = spawn_app_with(Options {
            settings: Some(Box::new(move |s| {
                s.opening.decrypt_minutes = 3;
                s.opening.objection_minutes = 1;
                more(s);
            })),
            empty: true,
            ..Default::default()
        })
        .await;
        assert!(tenderhall::demo::seed(&app.state).await.expect("demo data"));
        app
    }

    /// Plays the demo's opening show (the demo data must be seeded) to the closed opening and
    /// returns its tender, now in evaluation. The clock moves on only when the show has done
    /// what a phase needs. The app's opening windows must be short (decryption 3 minutes,
    /// objections 1).
    pub async fn play_opening_show(&self) -> uuid::Uuid {
        let dir = self.dir.path().join("opening");
        let mut show = tenderhall::demo::opening::prepare(&self.state, &dir).await.expect("show");
        show.pace = std::time::Duration::from_millis(5);
        let tender = show.tender;
        let task = tenderhall::demo::opening::spawn(self.state.clone(), show);
        let agency = tenderhall::accounts::service::actor_by_username(&self.state.db, "agency")
            .await
            .expect("db")
            .expect("agency");
        self.clock.advance(chrono::TimeDelta::minutes(3) + chrono::TimeDelta::seconds(1));
        let mut closed = false;
        for _ in 0..2000 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            self.tick().await;
            let Ok((h, _, _)) = self.state.openings.hall_state(&agency, tender).await else { continue };
            let events = self.state.openings.events(&agency, tender, 0).await.expect("events");
            let count = |k: &str| events.iter().filter(|e| e.kind == k).count();
            match h.phase.as_str() {
                "decryption" if count("key_accepted") == 3 => self.clock.advance(chrono::TimeDelta::minutes(4)),
                "objections" if count("answer") == 1 => self.clock.advance(chrono::TimeDelta::minutes(2)),
                "closed" => {
                    closed = true;
                    break;
                }
                _ => {}
            }
        }
        assert!(closed, "the show closed its opening");
        task.await.expect("the show ends");
        tender
    }

    /// Plays the demo's evaluation show of `tender` (its opening closed, see
    /// [`TestApp::play_opening_show`]) to the signed report.
    pub async fn play_evaluation_show(&self, tender: uuid::Uuid) {
        use tenderhall::demo;
        let show = demo::evaluation::Show { tender, pace: std::time::Duration::from_millis(5) };
        let task = demo::evaluation::spawn(self.state.clone(), show);
        for _ in 0..3000 {
            if task.is_finished() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            // Time passes for the command allowance; the answers' deadline is far away.
            self.clock.advance(chrono::TimeDelta::seconds(1));
            self.tick().await;
        }
        assert!(task.is_finished(), "the show reached its end");
        task.await.expect("the show ends by itself");
    }

    /// Stops the in-process server but keeps its database and files, so that a server process
    /// can take over (see [`ServerProcess`]).
    pub fn stop_server(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// The environment that makes a `tenderhall` process use this app's database and files (and
    /// a catalogue index of its own).
    pub fn process_env(&self, port: u16) -> Vec<(String, String)> {
        let s = &self.state.settings;
        vec![
            ("TENDERHALL_DATABASE__URL".into(), s.database.url.clone()),
            ("TENDERHALL_STORAGE__BLOB_DIR".into(), s.storage.blob_dir.display().to_string()),
            ("TENDERHALL_STORAGE__KEY_DIR".into(), s.storage.key_dir.display().to_string()),
            // Each process keeps its own catalogue index (an index has one writer).
            (
                "TENDERHALL_STORAGE__INDEX_DIR".into(),
                self.dir.path().join(format!("index-{port}")).display().to_string(),
            ),
            ("TENDERHALL_SERVER__LISTEN".into(), format!("127.0.0.1:{port}")),
            ("RUST_LOG".into(), "warn".into()),
        ]
    }
}

/// The `tenderhall serve` binary as a separate process, which a test can kill.
pub struct ServerProcess {
    child: std::process::Child,
    /// Base URL.
    pub base: String,
}

impl ServerProcess {
    /// Starts `tenderhall serve` with `env` listening on `port`, and waits until it is ready.
    pub async fn start(env: &[(String, String)], port: u16, dir: &std::path::Path) -> Self {
        Self::spawn(env, port, dir, None).await
    }

    /// [`ServerProcess::start`] with the process's log (its standard error) written to `log`.
    pub async fn start_logging_to(
        env: &[(String, String)],
        port: u16,
        dir: &std::path::Path,
        log: &std::path::Path,
    ) -> Self {
        Self::spawn(env, port, dir, Some(log)).await
    }

    async fn spawn(env: &[(String, String)], port: u16, dir: &std::path::Path, log: Option<&std::path::Path>) -> Self {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tenderhall"));
        command.arg("serve").envs(env.iter().cloned()).current_dir(dir);
        if let Some(log) = log {
            command.stderr(std::fs::File::create(log).expect("log file"));
        }
        let child = command.spawn().expect("start tenderhall serve");
        // From here on, dropping the value kills and reaps the process.
        let server = Self { child, base: format!("http://127.0.0.1:{port}") };
        for _ in 0..400 {
            if let Ok(r) = reqwest::get(format!("{}/readyz", server.base)).await
                && r.status().is_success()
            {
                return server;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("tenderhall serve did not become ready");
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port()
}

/// Fixture organisations and their users.
pub const FIXTURE: &[FixtureOrg] = &[
    (
        "测试交易中心",
        OrgKind::Centre,
        None,
        &[("admin", Role::PlatformAdmin), ("supervisor", Role::Supervisor), ("centre_staff", Role::AgencyStaff)],
    ),
    ("甲采购单位", OrgKind::ProcuringUnit, None, &[("buyer_a", Role::ProcuringStaff)]),
    ("乙采购单位", OrgKind::ProcuringUnit, None, &[("buyer_b", Role::ProcuringStaff)]),
    ("X招标代理", OrgKind::Agency, None, &[("agency_x", Role::AgencyStaff)]),
    ("Y招标代理", OrgKind::Agency, None, &[("agency_y", Role::AgencyStaff)]),
    ("供应商一有限公司", OrgKind::Supplier, Some(SizeClass::Small), &[("supplier_1", Role::Supplier)]),
    ("供应商二有限公司", OrgKind::Supplier, Some(SizeClass::Micro), &[("supplier_2", Role::Supplier)]),
    ("供应商三有限公司", OrgKind::Supplier, Some(SizeClass::Large), &[("supplier_3", Role::Supplier)]),
    ("专家库", OrgKind::ExpertPool, None, &[("expert", Role::Expert)]),
];

async fn seed(state: &AppState) {
    let actor = AuditActor { user_id: None, org_id: None, label: "test fixture".into() };
    let mut txn = state.writer.begin().await.expect("txn");
    for (name, kind, size, users) in FIXTURE {
        let org = accounts::create_organisation(&mut txn, &actor, name, *kind, *size, None).await.expect("org");
        for (u, role) in *users {
            accounts::create_user(&mut txn, &actor, &org, u, u, *role, password_hash()).await.expect("user");
        }
    }
    txn.commit().await.expect("commit");
}

/// The public id of a fixture organisation.
pub async fn org_id(app: &TestApp, name: &str) -> uuid::Uuid {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    tenderhall::entities::organisation::Entity::find()
        .filter(tenderhall::entities::organisation::Column::Name.eq(name))
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("fixture organisation")
        .public_id
}

/// A minimal valid PDF.
pub fn pdf(title: &str, pages: usize) -> Vec<u8> {
    tenderhall::pdf::sample(title, pages)
}

/// How many migrations, from the one named `name` to the last, a test rolls back to see the
/// schema as it was before `name` (so that later migrations do not change what it tests).
pub fn migrations_from(name: &str) -> u32 {
    use tenderhall_migrations::{Migrator, MigratorTrait};
    let all = Migrator::migrations();
    let at = all.iter().position(|m| m.name() == name).unwrap_or_else(|| panic!("no migration {name}"));
    (all.len() - at) as u32
}

/// What the payment service records: every call, and the payments by idempotency key.
#[derive(Default)]
pub struct Ledger {
    /// Every call: its idempotency key, and whether its signature held.
    pub calls: std::sync::Mutex<Vec<(String, bool)>>,
    /// The payments by idempotency key: the payment's id, the amount in fen, the payee.
    pub payments: std::sync::Mutex<std::collections::HashMap<String, (String, i64, String)>>,
}

/// A payment service for the fee tests: HTTP/1.1, one request per connection. The first
/// `failing` calls answer 503 and the next one records the payment and closes the connection
/// without answering (with `failing` 0, none of that); every later call records (a key already
/// paid is answered with its first payment) and answers 200. The signature of every body is
/// checked with the platform's public key; an unsigned instruction gets 400.
pub async fn payment_service(
    listener: tokio::net::TcpListener,
    ledger: std::sync::Arc<Ledger>,
    key: tenderhall::keys::PublicKey,
    failing: usize,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    loop {
        let Ok((mut sock, _)) = listener.accept().await else { return };
        let (ledger, key) = (ledger.clone(), key.clone());
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head, body) = loop {
                let Ok(n) = sock.read(&mut chunk).await else { return };
                if n == 0 {
                    return;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..at]).to_string();
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    while buf.len() < at + 4 + len {
                        let Ok(n) = sock.read(&mut chunk).await else { return };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    break (head, buf[at + 4..at + 4 + len].to_vec());
                }
            };
            let header = |name: &str| {
                head.lines().find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    (k.trim().eq_ignore_ascii_case(name)).then(|| v.trim().to_string())
                })
            };
            let signed = header("x-tenderhall-signature")
                .and_then(|s| hex::decode(s).ok())
                .is_some_and(|sig| key.verify(&body, &sig));
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
            let k = header("idempotency-key").unwrap_or_default();
            let n = {
                let mut calls = ledger.calls.lock().expect("lock");
                calls.push((k.clone(), signed));
                calls.len()
            };
            if !signed || k.is_empty() || v["idempotency_key"] != k.as_str() {
                let _ =
                    sock.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
                return;
            }
            if n <= failing {
                let _ = sock
                    .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
                return;
            }
            let payment = {
                let mut p = ledger.payments.lock().expect("lock");
                let next = format!("PAY-{:04}", p.len() + 1);
                p.entry(k.clone())
                    .or_insert((
                        next,
                        v["amount_fen"].as_i64().unwrap_or(-1),
                        v["payee"]["name"].as_str().unwrap_or("").to_string(),
                    ))
                    .0
                    .clone()
            };
            if failing > 0 && n == failing + 1 {
                // Recorded, but the answer is lost.
                return;
            }
            let body = serde_json::json!({"payment_id": payment}).to_string();
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(answer.as_bytes()).await;
        });
    }
}
