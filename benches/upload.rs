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
use std::{io::Read, time::Instant};
use tenderhall::{bidder::KeyFile, envelope::BidIdentity};

#[path = "common/mod.rs"]
mod common;
use common::{Platform, vm};

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

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mib: u64 = std::env::var("TENDERHALL_BENCH_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(1024);
    let p = Platform::start(&[]).await;
    p.add_account("供应商", "supplier", "supplier", "supplier");
    let (base, dir, pid) = (p.base.clone(), &p.dir, p.pid());
    let tender = p.publish_tender(chrono::Utc::now() + chrono::TimeDelta::days(30), 1).await;

    // The supplier's key, reservation and sealed bid of the given size.
    let (sup, csrf) = p.client("supplier").await;
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
    drop(p);
}
