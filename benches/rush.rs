//! The deadline rush: 1,000 bids of 1 MiB from concurrent clients in the last minute before the
//! deadline. Every bid must end receipted or refused (the ones that arrive after the deadline),
//! none lost: afterwards every receipt verifies, every receipted envelope is stored with its
//! digest, the platform counts exactly the receipted bids, and the audit chain verifies. Run:
//!
//! ```sh
//! cargo bench --bench rush      # TENDERHALL_RUSH_SUPPLIERS=100 x TENDERHALL_RUSH_LOTS=10 bids
//! ```
//!
//! The baseline, measured in the same run before the rush, is one 1 MiB bid at a time through
//! the same server (median of 20): the rush's p50 and p99 time to receipt are reported as
//! ratios to it. The clients use the resumable upload protocol of `tenderhall bidder`
//! (state, append, complete), each with its own session.

#[path = "common/mod.rs"]
mod common;

use common::{env_usize, percentile};

use chrono::{TimeDelta, Utc};
use common::Platform;
use std::{
    sync::{Arc, atomic::AtomicU64},
    time::{Duration, Instant},
};
use tenderhall::{
    bidder::{
        KeyFile,
        client::{ClientError, PlatformClient, Ticket},
    },
    bids::receipt::Receipt,
};

struct Prepared {
    client: PlatformClient,
    key_id: String,
    bids: Vec<(Ticket, std::path::PathBuf, String, String)>, // ticket, envelope file, signature, sha256
}

async fn prepare(p: &Platform, user: &str, tender: uuid::Uuid, lots: &[uuid::Uuid]) -> Prepared {
    let client =
        PlatformClient::new(&p.base, None).expect("client").login(user, common::PASSWORD).await.expect("login");
    client.obtain(tender).await.expect("obtain");
    let key = Arc::new(KeyFile::generate().expect("key"));
    client.register_key(&key.public_key).await.expect("register");
    let key_id = key.key_id();
    let mut bids = Vec::new();
    for lot in lots {
        let ticket = client.reserve(tender, *lot).await.expect("reserve");
        let path = p.dir.path().join(format!("{}.env", ticket.bid));
        let id = ticket.identity();
        let (k, out) = (key.clone(), path.clone());
        let (digest, sig) = tokio::task::spawn_blocking(move || {
            let payload: Vec<u8> = (0..1usize << 20).map(|i| (i * 7 % 251) as u8).collect();
            let mut env = Vec::with_capacity((1 << 20) + 256);
            let r = k.seal(&id, payload.as_slice(), &mut env).expect("seal");
            std::fs::write(&out, &env).expect("write envelope");
            r
        })
        .await
        .expect("seal");
        bids.push((ticket, path, sig, hex::encode(digest)));
    }
    Prepared { client, key_id, bids }
}

#[tokio::main]
async fn main() {
    let suppliers = env_usize("TENDERHALL_RUSH_SUPPLIERS", 100);
    let lots = env_usize("TENDERHALL_RUSH_LOTS", 10);
    let window = Duration::from_secs(env_usize("TENDERHALL_RUSH_WINDOW_SECS", 60) as u64);
    // The last 5 % of the window falls after the deadline: those bids must be refused.
    let late = window / 20;
    let p = Platform::start(&[
        ("TENDERHALL_TENDERS__MIN_BIDDING_DAYS", "0"),
        ("TENDERHALL_DATABASE__MAX_CONNECTIONS", "16"),
    ])
    .await;
    let setup_started = Instant::now();
    for i in 0..suppliers {
        p.add_account(&format!("供应商{i:04}"), "supplier", &format!("s{i:04}"), "supplier");
    }
    // Setup must end before the window opens; the deadline leaves room for it.
    let setup_allowance = Duration::from_secs(30 + (suppliers * lots) as u64 / 25);
    let deadline = Utc::now() + TimeDelta::from_std(setup_allowance + window - late).expect("delta");
    let deadline = deadline - TimeDelta::nanoseconds(deadline.timestamp_subsec_nanos() as i64 % 1000);
    let tender: uuid::Uuid = p.publish_tender(deadline, lots).await.parse().expect("uuid");
    let first =
        PlatformClient::new(&p.base, None).expect("client").login("s0000", common::PASSWORD).await.expect("login");
    let lot_ids = first.lots(tender).await.expect("lots");

    let mut prepared = Vec::new();
    for chunk in (0..suppliers).collect::<Vec<_>>().chunks(4) {
        let users: Vec<String> = chunk.iter().map(|i| format!("s{i:04}")).collect();
        let batch = users.iter().map(|u| prepare(&p, u, tender, &lot_ids));
        prepared.extend(futures_util::future::join_all(batch).await);
    }
    println!(
        "setup: {suppliers} suppliers x {lots} lots = {} sealed bids of 1 MiB in {:.0} s",
        suppliers * lots,
        setup_started.elapsed().as_secs_f64()
    );

    // Baseline: 1 MiB bids one at a time (a spare supplier's reservations on the same tender).
    p.add_account("基准供应商", "supplier", "baseline", "supplier");
    let base = prepare(&p, "baseline", tender, &[lot_ids[0]; 20]).await;
    let mut single = Vec::new();
    for (t, path, sig, _) in &base.bids {
        let t0 = Instant::now();
        base.client
            .upload_envelope(t.bid, path, &base.key_id, sig, 3, Arc::new(AtomicU64::new(0)))
            .await
            .expect("baseline upload");
        single.push(t0.elapsed());
    }
    single.sort();
    let baseline = percentile(&single, 0.5);

    // The rush: every bid starts at its own moment, spread evenly over the window, which ends
    // `late` after the deadline.
    let now = Utc::now();
    let window_start = deadline - TimeDelta::from_std(window - late).expect("delta");
    assert!(now < window_start, "setup took longer than its allowance; raise it");
    tokio::time::sleep((window_start - now).to_std().expect("wait")).await;
    let total = suppliers * lots;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    let mut n = 0usize;
    for prep in &prepared {
        for (ticket, path, sig, sha) in &prep.bids {
            // Interleave suppliers so every moment has different clients.
            let slot = (n % suppliers) * lots + n / suppliers;
            n += 1;
            let at = window.mul_f64(slot as f64 / total as f64);
            let (client, key_id) = (prep.client.clone(), prep.key_id.clone());
            let (bid, path, sig, sha) = (ticket.bid, path.clone(), sig.clone(), sha.clone());
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep_until(tokio::time::Instant::from_std(started + at)).await;
                let sent_at = Utc::now();
                let t0 = Instant::now();
                let r = client.upload_envelope(bid, &path, &key_id, &sig, 5, Arc::new(AtomicU64::new(0))).await;
                (bid, sha, sent_at, t0.elapsed(), r)
            }));
        }
    }
    let mut receipted: Vec<(Duration, Receipt, String)> = Vec::new();
    let (mut refused_late, mut refused_early, mut failed) = (0, 0, Vec::new());
    for t in tasks {
        let (bid, sha, sent_at, took, r) = t.await.expect("task");
        match r {
            Ok(receipt) => {
                assert_eq!(receipt.bid, bid);
                receipted.push((took, receipt, sha));
            }
            Err(ClientError::Refused { code, .. }) if code == "deadline_passed" => {
                if sent_at >= deadline - TimeDelta::seconds(2) {
                    refused_late += 1;
                } else {
                    refused_early += 1;
                }
            }
            Err(e) => failed.push(format!("{bid}: {e}")),
        }
    }
    let rush_time = started.elapsed();

    // None lost: receipts verify, envelopes are stored under their digests, the platform counts
    // exactly the receipted bids, and the audit chain verifies.
    let (ok, key_out) = p.tool(&["audit", "verify"]);
    let public = {
        let key: serde_json::Value = reqwest::get(format!("{}/.well-known/tenderhall/platform-key", p.base))
            .await
            .expect("key")
            .json()
            .await
            .expect("json");
        tenderhall::keys::PublicKey::from_bytes(hex::decode(key["public_key_hex"].as_str().expect("hex")).expect("hex"))
    };
    let mut bad = 0;
    for (_, r, sha) in &receipted {
        let stored = p.dir.path().join("blobs").join(&sha[0..2]).join(&sha[2..4]).join(sha);
        if !r.verify(&public) || r.envelope_sha256 != *sha || !stored.exists() || r.received_at >= deadline {
            bad += 1;
        }
    }
    let mut counted = 0;
    for prep in &prepared {
        let mine = prep.client.my_bids(tender).await.expect("my bids");
        counted += mine.iter().filter(|b| b["status"] == "submitted").count();
    }

    let mut times: Vec<Duration> = receipted.iter().map(|r| r.0).collect();
    times.sort();
    let (p50, p99, max) =
        (percentile(&times, 0.5), percentile(&times, 0.99), times.last().copied().unwrap_or_default());
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "rush: {total} bids of 1 MiB over {:.0} s (deadline {:.0} s into the window)",
        rush_time.as_secs_f64(),
        (window - late).as_secs_f64()
    );
    println!(
        "  receipted {} | refused after the deadline {refused_late} | refused early {refused_early} | failed {}",
        receipted.len(),
        failed.len()
    );
    println!(
        "  lost: {} (receipted {} = counted by the platform {counted}; bad receipts or missing envelopes {bad})",
        total - receipted.len() - refused_late - refused_early,
        receipted.len()
    );
    println!("  audit chain: {}", if ok { "verifies" } else { "FAILED" });
    println!("  baseline, one 1 MiB bid at a time: p50 {:.1} ms", ms(baseline));
    println!(
        "  time to receipt in the rush: p50 {:.1} ms ({:.2}x baseline), p99 {:.1} ms ({:.2}x baseline), max {:.1} ms",
        ms(p50),
        p50.as_secs_f64() / baseline.as_secs_f64(),
        ms(p99),
        p99.as_secs_f64() / baseline.as_secs_f64(),
        ms(max)
    );
    for f in failed.iter().take(10) {
        println!("  failure: {f}");
    }
    if !ok {
        println!("{key_out}");
    }
}
