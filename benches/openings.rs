//! Many openings at once: 50 halls, 20 bidders each, every bid 10 MiB. After the deadline the
//! hosts start all decryption windows and all 1,000 bidders release their keys at once; the
//! platform opens every envelope as a stream and checks every chunk and file. Reported: the time
//! until every hall has every bid decided and read out, none lost, as a ratio to opening the same
//! bytes with the same primitive in this process, one envelope after another. Run:
//!
//! ```sh
//! cargo bench --bench openings   # TENDERHALL_OPENINGS_HALLS=50, _BIDDERS=20, _MIB=10
//! ```

#[path = "common/mod.rs"]
mod common;

use common::env_usize;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tenderhall::{
    bidder::{KeyFile, client::PlatformClient},
    envelope::{self, payload},
};
use uuid::Uuid;

struct Bid {
    client: usize,
    tender: Uuid,
    b: common::SealedBid,
}

#[tokio::main]
async fn main() {
    let halls = env_usize("TENDERHALL_OPENINGS_HALLS", 50);
    let bidders = env_usize("TENDERHALL_OPENINGS_BIDDERS", 20);
    let mib = env_usize("TENDERHALL_OPENINGS_MIB", 10);
    let total = halls * bidders;
    let p = common::Platform::start(&[
        ("TENDERHALL_TENDERS__MIN_BIDDING_DAYS", "0"),
        ("TENDERHALL_TENDERS__MIN_VALID_BIDS", "3"),
        ("TENDERHALL_DATABASE__MAX_CONNECTIONS", "16"),
    ])
    .await;
    for i in 0..bidders {
        p.add_account(&format!("投标人{i:02}"), "supplier", &format!("b{i:02}"), "supplier");
    }
    // Sealing and uploading run at some 60 MiB/s here; the deadline leaves room for them.
    // TENDERHALL_OPENINGS_SETUP_SECS adds to it where sealing is slower (an unoptimised build).
    let allowance =
        Duration::from_secs(env_usize("TENDERHALL_OPENINGS_SETUP_SECS", 30) as u64 + (total * mib) as u64 / 40);
    let deadline = chrono::Utc::now() + chrono::TimeDelta::from_std(allowance).expect("delta");
    let mut tenders = Vec::new();
    for _ in 0..halls {
        tenders.push(p.publish_tender(deadline, 1).await.parse::<Uuid>().expect("uuid"));
    }
    let setup = Instant::now();
    let mut clients = Vec::new();
    let mut keys = Vec::new();
    for i in 0..bidders {
        let c = PlatformClient::new(&p.base, None)
            .expect("client")
            .login(&format!("b{i:02}"), common::PASSWORD)
            .await
            .expect("login");
        let k = KeyFile::generate().expect("key");
        c.register_key(&k.public_key).await.expect("register");
        clients.push(c);
        keys.push(k);
    }
    let file: Vec<u8> = (0..mib << 20).map(|i| (i * 7 % 251) as u8).collect();
    let mut bids = Vec::new();
    let mut envelopes_bytes = 0u64;
    for t in &tenders {
        let lot = clients[0].lots(*t).await.expect("lots")[0];
        for (i, c) in clients.iter().enumerate() {
            let b = common::seal_bid(c, &keys[i], *t, lot, format!("{}.00", 1_000_000 + i), &file).await;
            envelopes_bytes += b.bytes;
            bids.push(Bid { client: i, tender: *t, b });
        }
    }
    println!(
        "setup: {halls} halls x {bidders} bidders = {total} bids of {mib} MiB sealed and uploaded in {:.0} s",
        setup.elapsed().as_secs_f64()
    );

    // Baseline: the same envelopes opened one after another with the same primitive, here.
    let blobs = p.dir.path().join("blobs");
    let base_n = total.min(50);
    let t0 = Instant::now();
    for b in bids.iter().take(base_n) {
        let path = blobs.join(&b.b.sha[0..2]).join(&b.b.sha[2..4]).join(&b.b.sha);
        let f = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path).expect("blob"));
        let mut check = payload::PayloadCheck::new();
        envelope::open(&b.b.cek, &b.b.id, f, &mut check).expect("open");
        check.finish().expect("payload");
    }
    let per_bid = t0.elapsed() / base_n as u32;
    let baseline = per_bid * total as u32;

    let now = chrono::Utc::now();
    assert!(now < deadline, "setup overran the deadline");
    // A second past it, so that the deadline job is due.
    let wait = (deadline - now).to_std().unwrap_or_default() + Duration::from_secs(1);
    tokio::time::sleep(wait).await;
    let (host, csrf) = p.client("agency").await;
    for t in &tenders {
        p.wait_for_hall(&host, &t.to_string()).await;
    }
    for t in &tenders {
        let r = host
            .post(format!("{}/api/v1/tenders/{t}/opening/commands", p.base))
            .header("x-csrf-token", &csrf)
            .json(&json!({"op": "start_decryption"}))
            .send()
            .await
            .expect("start");
        assert_eq!(r.status().as_u16(), 204, "start {t}");
    }

    // Every bidder releases every key at once.
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for b in &bids {
        let c = clients[b.client].clone();
        let (tender, bid, key) = (b.tender, b.b.bid, hex::encode(b.b.cek.0));
        tasks.push(tokio::spawn(async move {
            c.hall_command(tender, &json!({"op": "release_key", "bid": bid, "key": key})).await
        }));
    }
    let mut failed = 0;
    for t in tasks {
        if t.await.expect("task").is_err() {
            failed += 1;
        }
    }
    let released = t0.elapsed();
    // Read out every hall and count what was read.
    let mut read = 0;
    for t in &tenders {
        let r = host
            .post(format!("{}/api/v1/tenders/{t}/opening/commands", p.base))
            .header("x-csrf-token", &csrf)
            .json(&json!({"op": "advance"}))
            .send()
            .await
            .expect("advance");
        assert_eq!(r.status().as_u16(), 204, "advance {t}");
        let events: Vec<Value> = host
            .get(format!("{}/api/v1/tenders/{t}/opening/events", p.base))
            .send()
            .await
            .expect("events")
            .json()
            .await
            .expect("json");
        let reading = events.iter().find(|e| e["kind"] == "reading").expect("reading");
        read += reading["data"]["bids"].as_array().map(Vec::len).unwrap_or(0);
    }
    let all = t0.elapsed();
    let gib = envelopes_bytes as f64 / (1u64 << 30) as f64;
    println!("openings: {total} keys released at once in {halls} halls; {failed} releases failed");
    println!(
        "  every envelope opened and checked in {:.1} s; with the {halls} readings {:.1} s",
        released.as_secs_f64(),
        all.as_secs_f64()
    );
    println!("  bids read out: {read} of {total} (lost: {})", total - read);
    println!(
        "  baseline, one after another in this process: {:.1} s ({:.0} MiB/s); ratio {:.2} ({:.0} MiB/s through the platform)",
        baseline.as_secs_f64(),
        gib * 1024.0 / baseline.as_secs_f64(),
        baseline.as_secs_f64() / released.as_secs_f64(),
        gib * 1024.0 / released.as_secs_f64()
    );
}
