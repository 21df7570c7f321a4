//! Resumable envelope uploads: a broken connection keeps what arrived, the upload resumes where
//! it stopped, every refusal, the bidder tool submitting over HTTP, and a server killed during an
//! upload (no receipt without a stored envelope, no counted envelope without a receipt).

use crate::bids::{Bidder, bidder, field, first_lot, sealed_bid, setup, tool};
use crate::client::{Client, expect_error};
use crate::support::{ServerProcess, free_port};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use bytes::Bytes;
use chrono::TimeDelta;
use reqwest::Method;
use ring::rand::SystemRandom;
use serde_json::Value;
use tenderhall::{
    bids::receipt::Receipt,
    envelope::{self, BidIdentity},
};

fn sha(b: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, b))
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

async fn patch(c: &Client, bid: &str, offset: u64, body: reqwest::Body) -> reqwest::Response {
    c.req(Method::PATCH, &format!("/api/v1/bids/{bid}/upload"))
        .header("upload-offset", offset.to_string())
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .expect("send")
}

async fn complete(b: &Bidder, bid: &str, env: &[u8]) -> reqwest::Response {
    let sig =
        b.signing.sign(&SystemRandom::new(), ring::digest::digest(&ring::digest::SHA256, env).as_ref()).expect("sign");
    b.client
        .req(Method::POST, &format!("/api/v1/bids/{bid}/upload/complete"))
        .header("x-bidder-key", &b.key_id)
        .header("x-bid-signature", B64.encode(sig.as_ref()))
        .send()
        .await
        .expect("send")
}

/// The upload's state once no request is appending to it any more: the server may still be
/// receiving (or not yet have started on) a request the client already gave up, so the state
/// must be free and unchanged over several reads.
async fn settled_state(c: &Client, bid: &str) -> Value {
    let mut previous: Option<Value> = None;
    let mut same = 0;
    for _ in 0..400 {
        let r = c.get(&format!("/api/v1/bids/{bid}/upload")).await;
        if r.status() == 200 {
            let v: Value = r.json().await.expect("json");
            if previous.as_ref() == Some(&v) {
                same += 1;
                if same >= 3 {
                    return v;
                }
            } else {
                same = 0;
            }
            previous = Some(v);
        } else {
            expect_error(r, 409, "upload_busy").await;
            same = 0;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the upload did not settle");
}

#[tokio::test]
async fn an_interrupted_upload_resumes_where_it_stopped() {
    let (app, tender, _) = setup().await;
    let b = bidder(&app, "supplier_1", &tender).await;
    let lot = first_lot(&b.client, &tender).await;
    let payload = pattern(3 << 20);
    let (bid, env, cek) = sealed_bid(&b, &tender, &lot, &payload).await;

    let st = b.client.get_json(&format!("/api/v1/bids/{bid}/upload")).await;
    assert_eq!((st["offset"].as_u64(), st["sha256"].as_str()), (Some(0), Some(sha(b"").as_str())));
    let first = 1 << 20;
    let r = patch(&b.client, &bid, 0, env[..first].to_vec().into()).await;
    assert_eq!(r.status(), 200);
    let st: Value = r.json().await.expect("json");
    assert_eq!((st["offset"].as_u64(), st["sha256"].as_str()), (Some(first as u64), Some(sha(&env[..first]).as_str())));

    // The connection breaks half-way through the next part.
    let half = Bytes::copy_from_slice(&env[first..first + (512 << 10)]);
    let broken = futures_util::stream::iter(vec![Ok(half), Err(std::io::Error::other("network lost"))]);
    let sent = b
        .client
        .req(Method::PATCH, &format!("/api/v1/bids/{bid}/upload"))
        .header("upload-offset", first.to_string())
        .body(reqwest::Body::wrap_stream(broken))
        .send()
        .await;
    assert!(sent.is_err(), "the request broke off");
    let st = settled_state(&b.client, &bid).await;
    let offset = st["offset"].as_u64().expect("offset") as usize;
    assert!((first..=first + (512 << 10)).contains(&offset), "kept what arrived: {offset}");
    assert_eq!(st["sha256"], sha(&env[..offset]), "what is kept is exactly the start of the envelope");
    assert_eq!(b.client.get_json(&format!("/api/v1/tenders/{tender}/my-bids")).await[0]["status"], "reserved");

    // Resuming at any other place is refused and changes nothing.
    expect_error(patch(&b.client, &bid, 0, env[..10].to_vec().into()).await, 409, "upload_offset_mismatch").await;
    expect_error(
        patch(&b.client, &bid, offset as u64 + 1, env[offset + 1..].to_vec().into()).await,
        409,
        "upload_offset_mismatch",
    )
    .await;
    assert_eq!(settled_state(&b.client, &bid).await["offset"].as_u64(), Some(offset as u64));

    let r = patch(&b.client, &bid, offset as u64, env[offset..].to_vec().into()).await;
    assert_eq!(r.status(), 200);
    let r = complete(&b, &bid, &env).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let receipt: Receipt = r.json().await.expect("receipt");
    assert_eq!((receipt.envelope_sha256.as_str(), receipt.size), (sha(&env).as_str(), env.len() as u64));
    let stored = app.state.blobs.get(&receipt.envelope_sha256).await.expect("stored");
    let id = BidIdentity { tender: receipt.tender, lot: receipt.lot, bidder: receipt.bidder, bid: receipt.bid };
    let mut plain = Vec::new();
    envelope::open(&cek, &id, stored.as_ref(), &mut plain).expect("the resumed envelope opens");
    assert_eq!(plain, payload);
    assert_eq!(b.client.get_json(&format!("/api/v1/tenders/{tender}/my-bids")).await[0]["status"], "submitted");
    // Nothing more can be appended to a receipted bid.
    expect_error(patch(&b.client, &bid, 0, env[..10].to_vec().into()).await, 409, "bid_not_reserved").await;
}

#[tokio::test]
async fn resumable_uploads_refuse_what_the_rules_forbid() {
    let (app, tender, agency) = setup().await;
    let b = bidder(&app, "supplier_1", &tender).await;
    let other = bidder(&app, "supplier_2", &tender).await;
    let lot = first_lot(&b.client, &tender).await;
    let (bid, env, _) = sealed_bid(&b, &tender, &lot, b"price 100").await;

    // Another supplier, the agency and the public learn nothing about the bid.
    expect_error(other.client.get(&format!("/api/v1/bids/{bid}/upload")).await, 404, "not_found").await;
    expect_error(patch(&other.client, &bid, 0, env.clone().into()).await, 404, "not_found").await;
    expect_error(complete(&other, &bid, &env).await, 404, "not_found").await;
    expect_error(agency.get(&format!("/api/v1/bids/{bid}/upload")).await, 403, "forbidden").await;
    expect_error(Client::anonymous(&app).await.get(&format!("/api/v1/bids/{bid}/upload")).await, 401, "login_required")
        .await;

    // Malformed requests.
    let no_offset = b.client.req(Method::PATCH, &format!("/api/v1/bids/{bid}/upload")).body(env.clone()).send().await;
    let body = expect_error(no_offset.expect("send"), 422, "validation_failed").await;
    assert_eq!(body["error"]["fields"][0]["field"], "upload-offset");
    let bad = b
        .client
        .req(Method::PATCH, &format!("/api/v1/bids/{bid}/upload"))
        .header("upload-offset", "-3")
        .body(env.clone())
        .send()
        .await
        .expect("send");
    expect_error(bad, 422, "validation_failed").await;
    expect_error(complete(&b, &bid, &env).await, 409, "upload_empty").await;

    // A wrong signature at completion: refused, nothing counted, the bid still reserved.
    assert_eq!(patch(&b.client, &bid, 0, env.clone().into()).await.status(), 200);
    expect_error(complete(&b, &bid, b"something else").await, 422, "signature_invalid").await;
    assert!(app.state.blobs.get(&sha(&env)).await.is_err(), "a refused envelope is not kept");
    assert_eq!(b.client.get_json(&format!("/api/v1/tenders/{tender}/my-bids")).await[0]["status"], "reserved");
    expect_error(b.client.get(&format!("/api/v1/bids/{bid}/receipt")).await, 404, "not_found").await;

    // After the deadline nothing is appended or completed.
    assert_eq!(patch(&b.client, &bid, 0, env[..40].to_vec().into()).await.status(), 200);
    let deadline = crate::bids::deadline_of(&agency, &tender).await;
    app.clock.set(deadline + TimeDelta::seconds(1));
    let b = Bidder { client: Client::login(&app, "supplier_1").await, ..b };
    expect_error(patch(&b.client, &bid, 40, env[40..].to_vec().into()).await, 422, "deadline_passed").await;
    expect_error(complete(&b, &bid, &env).await, 422, "deadline_passed").await;
    assert_eq!(settled_state(&b.client, &bid).await["offset"].as_u64(), Some(40));
}

// The tool runs as a child process that talks to the in-process server, so the test waits for
// it on a thread of its own while the server runs on the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bidder_tool_submits_over_http_and_resumes() {
    let (app, tender, _) = setup().await;
    let dir = app.dir.path();
    let (ok, out) = tool(dir, &["bidder", "keygen", "--out", "bidder.key"]);
    assert!(ok, "{out}");
    std::fs::write(dir.join("技术方案.pdf"), crate::support::pdf("Technical offer", 2)).expect("file");
    let submit = |extra: &[&str]| {
        let mut args = vec![
            "bidder",
            "submit",
            "--server",
            &app.base,
            "--user",
            "supplier_1",
            "--key",
            "bidder.key",
            "--tender",
            &tender,
            "--form",
            "total_price=375000.00",
            "--form",
            "delivery_days=30",
            "--file",
            "技术方案.pdf",
        ];
        args.extend_from_slice(extra);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tenderhall"))
            .args(&args)
            .env("TENDERHALL_KEY_PASSPHRASE", "correct horse battery staple")
            .env("TENDERHALL_PASSWORD", crate::support::PASSWORD)
            .env("RUST_LOG", "error")
            .current_dir(dir)
            .output()
            .expect("run");
        (
            out.status.success(),
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        )
    };
    // Without the documents obtained, the platform refuses and the tool says why.
    let (ok, out) = submit(&[]);
    assert!(!ok && out.contains("obtain_first"), "{out}");
    let c = Client::login(&app, "supplier_1").await;
    assert_eq!(c.post_empty(&format!("/api/v1/tenders/{tender}/obtain")).await.status(), 204);

    let (ok, out) = submit(&[]);
    assert!(ok, "{out}");
    let receipt_file = field(&out, "receipt").to_string();
    let receipt: Receipt =
        serde_json::from_str(&std::fs::read_to_string(dir.join(&receipt_file)).expect("receipt")).expect("json");
    let env_file = field(&out, "envelope").to_string();
    let env = std::fs::read(dir.join(&env_file)).expect("envelope");
    assert_eq!(receipt.envelope_sha256, sha(&env));
    assert_eq!(c.get_json(&format!("/api/v1/tenders/{tender}/my-bids")).await[0]["status"], "submitted");

    // The sealed payload holds the form and the file, and opens with the released key.
    let (ok, out) = tool(dir, &["bidder", "release-key", "--key", "bidder.key", "--envelope", &env_file]);
    assert!(ok, "{out}");
    let cek: [u8; 32] = hex::decode(out.trim()).expect("hex").try_into().expect("32 bytes");
    let id = BidIdentity { tender: receipt.tender, lot: receipt.lot, bidder: receipt.bidder, bid: receipt.bid };
    let mut plain = Vec::new();
    envelope::open(&envelope::ContentKey(cek), &id, env.as_slice(), &mut plain).expect("open");
    let contents = envelope::payload::unpack(&plain).expect("payload");
    assert_eq!(contents.manifest.form["total_price"], "375000.00");
    assert_eq!(contents.manifest.files[0].name, "技术方案.pdf");

    // `bidder upload` resumes an envelope that was only partly uploaded.
    let b = Bidder { client: c, ..bidder(&app, "supplier_1", &tender).await };
    let lot = first_lot(&b.client, &tender).await;
    let (bid, _, _) = sealed_bid(&b, &tender, &lot, b"unused").await;
    let (ok, out) = tool(
        dir,
        &[
            "bidder",
            "seal",
            "--key",
            "bidder.key",
            "--tender",
            &tender,
            "--lot",
            &lot,
            "--bidder",
            &receipt.bidder.to_string(),
            "--bid",
            &bid,
            "--in",
            &env_file,
            "--out",
            "second.env",
        ],
    );
    assert!(ok, "{out}");
    let second = std::fs::read(dir.join("second.env")).expect("second");
    assert_eq!(patch(&b.client, &bid, 0, second[..100].to_vec().into()).await.status(), 200);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tenderhall"))
        .args([
            "bidder",
            "upload",
            "--server",
            &app.base,
            "--user",
            "supplier_1",
            "--key",
            "bidder.key",
            "--envelope",
            "second.env",
        ])
        .env("TENDERHALL_KEY_PASSPHRASE", "correct horse battery staple")
        .env("TENDERHALL_PASSWORD", crate::support::PASSWORD)
        .current_dir(dir)
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("resuming at byte 100"), "{text}");
    // The first bid was replaced by the second.
    let mine = b.client.get_json(&format!("/api/v1/tenders/{tender}/my-bids")).await;
    let statuses: Vec<&str> = mine.as_array().expect("list").iter().filter_map(|b| b["status"].as_str()).collect();
    assert_eq!(statuses, ["replaced", "submitted"]);
}

#[tokio::test]
async fn a_server_killed_during_an_upload_loses_nothing_and_counts_nothing() {
    let mut app = crate::support::spawn_app().await;
    // The server process keeps the real time: the tender's deadline is a month from now.
    app.clock.set(chrono::Utc::now());
    let agency = Client::login(&app, "agency_x").await;
    let tender = crate::tenders::published_tender(&app, &agency).await;
    let b = bidder(&app, "supplier_1", &tender).await;
    let lot = first_lot(&b.client, &tender).await;
    let payload = pattern(8 << 20);
    let (bid, env, cek) = sealed_bid(&b, &tender, &lot, &payload).await;
    app.stop_server();

    let port = free_port();
    let env_vars = app.process_env(port);
    let mut server = ServerProcess::start(&env_vars, port, app.dir.path()).await;
    let c = login_as(&server.base, "supplier_1").await;

    // 5 MiB go out, then the client waits; the server is killed while the request is open.
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Result<Bytes, std::io::Error>>();
    for part in env[..5 << 20].chunks(256 << 10) {
        tx.send(Ok(Bytes::copy_from_slice(part))).expect("queue");
    }
    let request = tokio::spawn(patch_owned(c.req(Method::PATCH, &format!("/api/v1/bids/{bid}/upload")), rx));
    let partial = app.state.settings.storage.blob_dir.join("partial").join(&bid);
    for _ in 0..400 {
        if std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0) >= 3 << 20 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    server.kill();
    assert!(request.await.expect("join").is_err(), "the request died with the server");
    drop(tx);

    // Restarted: the bid is not counted and has no receipt; the upload resumes from what was kept.
    let server = ServerProcess::start(&env_vars, port, app.dir.path()).await;
    let c = login_as(&server.base, "supplier_1").await;
    assert_eq!(c.get_json(&format!("/api/v1/tenders/{tender}/my-bids")).await[0]["status"], "reserved");
    expect_error(c.get(&format!("/api/v1/bids/{bid}/receipt")).await, 404, "not_found").await;
    let st = c.get_json(&format!("/api/v1/bids/{bid}/upload")).await;
    let offset = st["offset"].as_u64().expect("offset") as usize;
    assert!((3 << 20..=5 << 20).contains(&offset), "kept {offset}");
    assert_eq!(st["sha256"], sha(&env[..offset]));
    let r = patch(&c, &bid, offset as u64, env[offset..].to_vec().into()).await;
    assert_eq!(r.status(), 200);
    let b = Bidder { client: c, ..b };
    let r = complete(&b, &bid, &env).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let receipt: Receipt = r.json().await.expect("receipt");
    let stored = app.state.blobs.get(&receipt.envelope_sha256).await.expect("stored");
    let id = BidIdentity { tender: receipt.tender, lot: receipt.lot, bidder: receipt.bidder, bid: receipt.bid };
    let mut plain = Vec::new();
    envelope::open(&cek, &id, stored.as_ref(), &mut plain).expect("opens");
    assert_eq!(plain, payload);
    // Every counted bid has its envelope stored, and the chain is intact across the crash.
    let audit = login_as(&server.base, "supervisor").await.get_json("/api/v1/audit/verify").await;
    assert_eq!(audit["problems"].as_array().map(Vec::len), Some(0), "{audit}");
}

async fn patch_owned(
    req: reqwest::RequestBuilder,
    rx: tokio::sync::mpsc::UnboundedReceiver<Result<Bytes, std::io::Error>>,
) -> reqwest::Result<reqwest::Response> {
    // The body ends only when the sender is dropped: until then the request stays open.
    let body = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    req.header("upload-offset", "0").body(reqwest::Body::wrap_stream(body)).send().await
}

pub(crate) async fn login_as(base: &str, user: &str) -> Client {
    let http = reqwest::Client::builder().cookie_store(true).build().expect("client");
    let mut c = Client::with_http(http, base).await;
    let r =
        c.post("/api/v1/session", &serde_json::json!({"username": user, "password": crate::support::PASSWORD})).await;
    c.csrf = r.json::<Value>().await.expect("json")["csrf_token"].as_str().expect("csrf").to_string();
    c
}

/// An upload a bidder leaves unfinished is kept while bidding is open (it may still resume) and
/// removed by the recurring job once the deadline has passed, when it can never be completed.
#[tokio::test]
async fn uploads_left_unfinished_are_removed_once_the_deadline_has_passed() {
    let (app, tender, _) = setup().await;
    let b = bidder(&app, "supplier_1", &tender).await;
    let lot = first_lot(&b.client, &tender).await;
    let (bid, env, _) = sealed_bid(&b, &tender, &lot, &pattern(64 << 10)).await;
    assert_eq!(patch(&b.client, &bid, 0, env[..4096].to_vec().into()).await.status(), 200);
    let kept = |app: &crate::support::TestApp| {
        let blobs = app.state.blobs.clone();
        let bid = bid.clone();
        async move { blobs.partial_state(&bid).await.expect("state").offset }
    };
    // Bidding is open: the recurring job leaves the upload alone.
    app.clock.advance(TimeDelta::hours(2));
    app.tick().await;
    assert_eq!(kept(&app).await, 4096);
    // After the deadline the upload can no longer be completed, and is removed.
    app.clock.advance(TimeDelta::days(60));
    app.tick().await;
    app.clock.advance(TimeDelta::hours(2));
    app.tick().await;
    assert_eq!(kept(&app).await, 0, "the abandoned upload is gone");
}
