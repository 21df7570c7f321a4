//! A 1 GiB bid uploaded through a running server, against writing the same bytes to the same
//! disk with fsync, and the server's peak memory above idle. Run:
//!
//! ```sh
//! cargo bench --bench upload            # TENDERHALL_BENCH_MIB=1024 by default
//! ```
//!
//! It starts the release `tenderhall` binary on a free port with a fresh SQLite database in a
//! temporary directory, makes the accounts with `tenderhall accounts add`, publishes a tender
//! through the API, seals a bid of the given size with the bidder's code into a file, and
//! uploads it with a streaming HTTP body. Memory is the server's VmHWM (peak resident set) from
//! /proc, before and after the upload.

use base64::{Engine, engine::general_purpose::STANDARD as B64};
use serde_json::{Value, json};
use std::{io::Read, process::Command, time::Instant};
use tenderhall::{bidder::KeyFile, envelope::BidIdentity};

struct Pattern(u64);

impl Read for Pattern {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.0) as usize;
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = (i % 251) as u8;
        }
        self.0 -= n as u64;
        Ok(n)
    }
}

fn vm(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn client(base: &str, user: &str) -> (reqwest::Client, String) {
    let c = reqwest::Client::builder().cookie_store(true).build().expect("client");
    let t: Value = c.get(format!("{base}/api/v1/csrf")).send().await.expect("csrf").json().await.expect("json");
    let r: Value = c
        .post(format!("{base}/api/v1/session"))
        .header("x-csrf-token", t["csrf_token"].as_str().expect("t"))
        .json(&json!({"username": user, "password": "bench12345"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    (c, r["csrf_token"].as_str().expect("csrf").to_string())
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mib: u64 = std::env::var("TENDERHALL_BENCH_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(1024);
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let bin = env!("CARGO_BIN_EXE_tenderhall");
    let envs = [
        ("TENDERHALL_DATABASE__URL", format!("sqlite://{}?mode=rwc", dir.path().join("db.sqlite").display())),
        ("TENDERHALL_STORAGE__BLOB_DIR", dir.path().join("blobs").display().to_string()),
        ("TENDERHALL_STORAGE__KEY_DIR", dir.path().join("keys").display().to_string()),
        ("TENDERHALL_SERVER__LISTEN", format!("127.0.0.1:{port}")),
        ("TENDERHALL_NEW_PASSWORD", "bench12345".to_string()),
        ("RUST_LOG", "warn".to_string()),
    ];
    for (org, kind, user, role) in [
        ("甲单位", "procuring_unit", "buyer", "procuring_staff"),
        ("代理", "agency", "agency", "agency_staff"),
        ("供应商", "supplier", "supplier", "supplier"),
    ] {
        let st = Command::new(bin)
            .args([
                "accounts",
                "add",
                "--org",
                org,
                "--kind",
                kind,
                "--username",
                user,
                "--display-name",
                user,
                "--role",
                role,
            ])
            .envs(envs.iter().cloned())
            .current_dir(dir.path())
            .output()
            .expect("accounts add");
        assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    }
    let child =
        Command::new(bin).arg("serve").envs(envs.iter().cloned()).current_dir(dir.path()).spawn().expect("serve");
    let server = Server(child);
    let pid = server.0.id();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // A published tender.
    let (agency, csrf) = client(&base, "agency").await;
    let units: Value =
        agency.get(format!("{base}/api/v1/procuring-units")).send().await.expect("units").json().await.expect("json");
    let deadline = chrono::Utc::now() + chrono::TimeDelta::days(30);
    let t: Value = agency
        .post(format!("{base}/api/v1/tenders"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"title": "bench", "procuring_org": units[0]["id"], "procurement_method": "open_tender",
            "evaluation_method": "lowest_price", "bid_deadline": deadline, "lots": [{"name": "lot", "budget": 100000}]}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let tender = t["id"].as_str().expect("id").to_string();
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
    assert!(r.status().is_success(), "publish: {}", r.status());

    // The supplier's key, reservation and sealed bid of the given size.
    let (sup, csrf) = client(&base, "supplier").await;
    sup.post(format!("{base}/api/v1/tenders/{tender}/obtain"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .expect("obtain");
    let key = KeyFile::generate().expect("key");
    let k: Value = sup
        .post(format!("{base}/api/v1/me/bidder-keys"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"public_key": B64.encode(&key.public_key)}))
        .send()
        .await
        .expect("key")
        .json()
        .await
        .expect("json");
    let detail: Value =
        sup.get(format!("{base}/api/v1/tenders/{tender}")).send().await.expect("detail").json().await.expect("json");
    let lot = detail["lots"][0]["id"].as_str().expect("lot").to_string();
    let ticket: Value = sup
        .post(format!("{base}/api/v1/tenders/{tender}/lots/{lot}/bids"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .expect("reserve")
        .json()
        .await
        .expect("json");
    let uuid = |k: &str| ticket[k].as_str().expect("id").parse().expect("uuid");
    let id = BidIdentity { tender: uuid("tender"), lot: uuid("lot"), bidder: uuid("bidder"), bid: uuid("bid") };
    let env_path = dir.path().join("bid.env");
    let t0 = Instant::now();
    let out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&env_path).expect("env file"));
    let (_, signature) = key.seal(&id, Pattern(mib << 20), out).expect("seal");
    let seal_time = t0.elapsed();
    let size = std::fs::metadata(&env_path).expect("meta").len();

    // Baseline: the same bytes written to the same disk with fsync.
    let t0 = Instant::now();
    {
        use std::io::Write;
        let mut src = std::fs::File::open(&env_path).expect("open");
        let mut dst = std::fs::File::create(dir.path().join("copy.env")).expect("create");
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = src.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            dst.write_all(&buf[..n]).expect("write");
        }
        dst.sync_all().expect("fsync");
    }
    let disk_time = t0.elapsed();
    let _ = std::fs::remove_file(dir.path().join("copy.env"));

    let idle_rss = vm(pid, "VmRSS:");
    let idle_hwm = vm(pid, "VmHWM:");
    let t0 = Instant::now();
    let file = tokio::fs::File::open(&env_path).await.expect("open");
    let r = sup
        .put(format!("{base}/api/v1/bids/{}/envelope", ticket["bid"].as_str().expect("bid")))
        .header("x-csrf-token", &csrf)
        .header("x-bidder-key", k["key_id"].as_str().expect("key id"))
        .header("x-bid-signature", signature)
        .body(reqwest::Body::from(file))
        .send()
        .await
        .expect("upload");
    let upload_time = t0.elapsed();
    let status = r.status();
    let receipt: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(status.as_u16(), 201, "{receipt}");
    assert_eq!(receipt["size"].as_u64(), Some(size));
    let peak_hwm = vm(pid, "VmHWM:");

    let mibs = |secs: f64| size as f64 / (1 << 20) as f64 / secs;
    println!(
        "envelope {:.0} MiB (payload {mib} MiB); sealed in {:.1} s",
        size as f64 / (1 << 20) as f64,
        seal_time.as_secs_f64()
    );
    println!("write + fsync to the same disk  {:>7.0} MiB/s", mibs(disk_time.as_secs_f64()));
    println!(
        "upload through the server       {:>7.0} MiB/s   ratio {:.2}",
        mibs(upload_time.as_secs_f64()),
        disk_time.as_secs_f64() / upload_time.as_secs_f64()
    );
    println!(
        "server memory: idle RSS {} MiB (peak so far {} MiB), peak during upload {} MiB: {} MiB above idle (goal <= 64)",
        idle_rss / 1024,
        idle_hwm / 1024,
        peak_hwm / 1024,
        peak_hwm.saturating_sub(idle_rss) / 1024
    );
    drop(server);
}
