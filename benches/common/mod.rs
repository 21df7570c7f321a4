//! What the load programs share: the release `tenderhall` binary started as its own process on a
//! free port with a fresh SQLite database (or `TENDERHALL_BENCH_DATABASE_URL`), accounts made
//! with `tenderhall accounts add`, and a tender published through the API.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::process::{Child, Command};

/// The password of every account the load programs make.
pub const PASSWORD: &str = "bench12345";

/// A server process, killed when dropped.
pub struct Platform {
    child: Child,
    /// Base URL.
    pub base: String,
    /// Its files.
    pub dir: tempfile::TempDir,
    envs: Vec<(String, String)>,
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tenderhall")
}

impl Platform {
    /// Starts a server with `extra` settings (`TENDERHALL_…` variables) and the buyer and agency
    /// accounts, and waits until it is ready.
    pub async fn start(extra: &[(&str, &str)]) -> Platform {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
        let db = std::env::var("TENDERHALL_BENCH_DATABASE_URL")
            .unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", dir.path().join("db.sqlite").display()));
        let mut envs: Vec<(String, String)> = vec![
            ("TENDERHALL_DATABASE__URL".into(), db),
            ("TENDERHALL_STORAGE__BLOB_DIR".into(), dir.path().join("blobs").display().to_string()),
            ("TENDERHALL_STORAGE__KEY_DIR".into(), dir.path().join("keys").display().to_string()),
            ("TENDERHALL_SERVER__LISTEN".into(), format!("127.0.0.1:{port}")),
            ("TENDERHALL_NEW_PASSWORD".into(), PASSWORD.into()),
            ("RUST_LOG".into(), "warn".into()),
        ];
        envs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        add_account(&envs, dir.path(), "甲单位", "procuring_unit", "buyer", "procuring_staff");
        add_account(&envs, dir.path(), "代理", "agency", "agency", "agency_staff");
        let child =
            Command::new(bin()).arg("serve").envs(envs.iter().cloned()).current_dir(dir.path()).spawn().expect("serve");
        let setup = Platform { child, base: format!("http://127.0.0.1:{port}"), dir, envs };
        for _ in 0..400 {
            if let Ok(r) = reqwest::get(format!("{}/readyz", setup.base)).await
                && r.status().is_success()
            {
                return setup;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the server did not become ready");
    }

    /// The server's database.
    pub fn db_url(&self) -> String {
        self.envs.iter().find(|(k, _)| k == "TENDERHALL_DATABASE__URL").map(|(_, v)| v.clone()).unwrap_or_default()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Adds an account with `tenderhall accounts add` (password [`PASSWORD`]).
    pub fn add_account(&self, org: &str, kind: &str, user: &str, role: &str) {
        add_account(&self.envs, self.dir.path(), org, kind, user, role);
    }

    /// Runs `tenderhall` with the server's settings; returns success and the output.
    pub fn tool(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new(bin())
            .args(args)
            .envs(self.envs.iter().cloned())
            .current_dir(self.dir.path())
            .output()
            .expect("tenderhall");
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// A logged-in reqwest client and its CSRF token.
    pub async fn client(&self, user: &str) -> (reqwest::Client, String) {
        let c = reqwest::Client::builder().cookie_store(true).build().expect("client");
        let t: Value =
            c.get(format!("{}/api/v1/csrf", self.base)).send().await.expect("csrf").json().await.expect("json");
        let r: Value = c
            .post(format!("{}/api/v1/session", self.base))
            .header("x-csrf-token", t["csrf_token"].as_str().expect("t"))
            .json(&json!({"username": user, "password": PASSWORD}))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("json");
        (c, r["csrf_token"].as_str().expect("csrf").to_string())
    }

    /// Publishes a tender with `lots` lots and the given deadline as the agency, evaluated by
    /// the lowest price; returns its id.
    pub async fn publish_tender(&self, deadline: chrono::DateTime<chrono::Utc>, lots: usize) -> String {
        let lots: Vec<Value> = (1..=lots).map(|i| json!({"name": format!("lot {i}"), "budget": 100000})).collect();
        self.publish_tender_with(deadline, "lowest_price", lots, None).await
    }

    /// Publishes a tender with these lots, evaluation method and (when given) criteria, set on
    /// the draft before publication; returns its id.
    pub async fn publish_tender_with(
        &self,
        deadline: chrono::DateTime<chrono::Utc>,
        method: &str,
        lots: Vec<Value>,
        criteria: Option<&Value>,
    ) -> String {
        let base = &self.base;
        let (agency, csrf) = self.client("agency").await;
        let units: Value = agency
            .get(format!("{base}/api/v1/procuring-units"))
            .send()
            .await
            .expect("units")
            .json()
            .await
            .expect("json");
        // Questions close half a minute before the deadline, or half-way to it when it is near.
        let cutoff = deadline - (deadline - chrono::Utc::now()).min(chrono::TimeDelta::seconds(60)) / 2;
        let r = agency
            .post(format!("{base}/api/v1/tenders"))
            .header("x-csrf-token", &csrf)
            .json(&json!({"title": "bench", "procuring_org": units[0]["id"], "procurement_method": "open_tender",
                "evaluation_method": method, "bid_deadline": deadline,
                "question_cutoff": cutoff, "lots": lots,
                "qualification": "bench", "contact_person": "bench", "contact_phone": "010-68001234",
                "documents_from": chrono::Utc::now() - chrono::TimeDelta::minutes(1), "documents_until": deadline}))
            .send()
            .await
            .expect("create");
        let status = r.status();
        let t: Value = r.json().await.expect("json");
        assert!(status.is_success(), "create tender: {t}");
        let tender = t["id"].as_str().expect("id").to_string();
        if let Some(criteria) = criteria {
            let r = agency
                .put(format!("{base}/api/v1/tenders/{tender}/criteria"))
                .header("x-csrf-token", &csrf)
                .json(criteria)
                .send()
                .await
                .expect("criteria");
            let status = r.status();
            assert!(status.is_success(), "criteria: {status} {}", r.text().await.unwrap_or_default());
        }
        let part = reqwest::multipart::Part::bytes(tenderhall::pdf::sample("bench", 1)).file_name("t.pdf");
        let r = agency
            .post(format!("{base}/api/v1/tenders/{tender}/documents"))
            .header("x-csrf-token", &csrf)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .expect("upload");
        assert!(r.status().is_success());
        let r = agency
            .post(format!("{base}/api/v1/tenders/{tender}/publish"))
            .header("x-csrf-token", &csrf)
            .send()
            .await
            .expect("publish");
        let status = r.status();
        assert!(status.is_success(), "publish: {status} {}", r.text().await.unwrap_or_default());
        tender
    }

    /// The `cookie` header of a new session of `user`, for a websocket handshake.
    pub async fn session_cookie(&self, user: &str) -> String {
        let http = reqwest::Client::new();
        let csrf = http.get(format!("{}/api/v1/csrf", self.base)).send().await.expect("csrf");
        let mut cookies: Vec<String> = csrf
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
            .collect();
        let token = csrf.json::<Value>().await.expect("json")["csrf_token"].as_str().expect("token").to_string();
        let r = http
            .post(format!("{}/api/v1/session", self.base))
            .header("cookie", cookies.join("; "))
            .header("x-csrf-token", token)
            .json(&json!({"username": user, "password": PASSWORD}))
            .send()
            .await
            .expect("login");
        cookies.extend(
            r.headers()
                .get_all("set-cookie")
                .iter()
                .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string)),
        );
        cookies.join("; ")
    }
}

/// A bid sealed and uploaded by a bidder: what releasing its key needs.
pub struct SealedBid {
    /// The bid.
    pub bid: uuid::Uuid,
    /// What the envelope is bound to.
    pub id: tenderhall::envelope::BidIdentity,
    /// Its content key.
    pub cek: tenderhall::envelope::ContentKey,
    /// The envelope's SHA-256, from the receipt (its blob's name).
    pub sha: String,
    /// The envelope's size.
    pub bytes: u64,
}

/// Obtains the documents, reserves a bid on `lot`, seals a bid form with `total_price` and
/// `file` as `bid.pdf`, and uploads it.
pub async fn seal_bid(
    c: &tenderhall::bidder::client::PlatformClient,
    key: &tenderhall::bidder::KeyFile,
    tender: uuid::Uuid,
    lot: uuid::Uuid,
    total_price: String,
    file: &[u8],
) -> SealedBid {
    use tenderhall::envelope::{self, payload};
    c.obtain(tender).await.expect("obtain");
    let ticket = c.reserve(tender, lot).await.expect("reserve");
    let id = ticket.identity();
    let mut form = std::collections::BTreeMap::new();
    form.insert("total_price".to_string(), total_price);
    let manifest = payload::Manifest {
        form: payload::text_form(form),
        files: vec![payload::FileEntry {
            name: "bid.pdf".into(),
            size: file.len() as u64,
            sha256: hex::encode(ring::digest::digest(&ring::digest::SHA256, file)),
        }],
    };
    let plain = payload::head(&manifest).expect("payload head");
    let reader = std::io::Read::chain(plain.as_slice(), file);
    let mut env = Vec::with_capacity(file.len() + 4096);
    let sealed = envelope::seal(&key.bid_key, &id, reader, &mut env).expect("seal");
    let sig = key.sign_digest(&sealed.digest).expect("sign");
    let bytes = env.len() as u64;
    let receipt = c.upload_bytes(ticket.bid, env, &key.key_id(), &sig).await.expect("upload");
    SealedBid { bid: ticket.bid, id, cek: sealed.cek, sha: receipt.envelope_sha256, bytes }
}

/// The value at `p` (0..1) of sorted durations.
pub fn percentile(sorted: &[std::time::Duration], p: f64) -> std::time::Duration {
    if sorted.is_empty() {
        return std::time::Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// A numeric setting of a load program from the environment, or its default.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

impl Platform {
    /// Waits until the tender's opening hall has opened (its deadline job has run) and returns
    /// the hall's state as `client` sees it.
    pub async fn wait_for_hall(&self, client: &reqwest::Client, tender: &str) -> Value {
        for _ in 0..600 {
            let r = client.get(format!("{}/api/v1/tenders/{tender}/opening", self.base)).send().await.expect("hall");
            if r.status().is_success() {
                return r.json().await.expect("json");
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the hall of {tender} did not open within a minute of its deadline");
    }
}

fn add_account(envs: &[(String, String)], dir: &std::path::Path, org: &str, kind: &str, user: &str, role: &str) {
    let out = Command::new(bin())
        .args(["accounts", "add", "--org", org, "--kind", kind, "--username", user, "--display-name", user])
        .args(["--role", role])
        .envs(envs.iter().cloned())
        .current_dir(dir)
        .output()
        .expect("accounts add");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A field of /proc/PID/status, in KiB.
pub fn vm(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}
