//! Sealed bids over HTTP: keys, reservation, envelope upload, receipts, the deadline,
//! replacement and withdrawal, and that nobody but the bidder learns anything.

use crate::client::{Client, expect_error};
use crate::support::TestApp;
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use chrono::TimeDelta;
use ring::{
    rand::SystemRandom,
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair},
};
use serde_json::{Value, json};
use tenderhall::{
    bids::receipt::Receipt,
    envelope::{self, BidIdentity, BidderKey},
};
use uuid::Uuid;

/// A supplier's keys: the secret bid key and a registered signing key.
pub(crate) struct Bidder {
    pub(crate) client: Client,
    pub(crate) bid_key: BidderKey,
    pub(crate) signing: EcdsaKeyPair,
    pub(crate) key_id: String,
}

pub(crate) async fn bidder(app: &TestApp, user: &str, tender: &str) -> Bidder {
    let client = Client::login(app, user).await;
    assert_eq!(client.post_empty(&format!("/api/v1/tenders/{tender}/obtain")).await.status(), 204);
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
    let signing = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).expect("key");
    let r =
        client.post("/api/v1/me/bidder-keys", &json!({"public_key": B64.encode(signing.public_key().as_ref())})).await;
    assert_eq!(r.status(), 201);
    let key_id = r.json::<Value>().await.expect("json")["key_id"].as_str().expect("id").to_string();
    Bidder { client, bid_key: BidderKey(rand32()), signing, key_id }
}

fn rand32() -> [u8; 32] {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 32];
    SystemRandom::new().fill(&mut b).expect("rng");
    b
}

/// A tender's bid deadline, as its page in the API says.
pub(crate) async fn deadline_of(c: &Client, tender: &str) -> chrono::DateTime<chrono::Utc> {
    c.get_json(&format!("/api/v1/tenders/{tender}")).await["bid_deadline"]
        .as_str()
        .expect("deadline")
        .parse()
        .expect("time")
}

/// The identity a reservation's ticket names.
pub(crate) fn identity_of(ticket: &Value) -> BidIdentity {
    let id = |k: &str| ticket[k].as_str().unwrap_or_else(|| panic!("{k} in {ticket}")).parse().expect("uuid");
    BidIdentity { tender: id("tender"), lot: id("lot"), bidder: id("bidder"), bid: id("bid") }
}

pub(crate) async fn first_lot(c: &Client, tender: &str) -> String {
    c.get_json(&format!("/api/v1/tenders/{tender}")).await["lots"][0]["id"].as_str().expect("lot").to_string()
}

/// Reserves a bid and seals `payload` for it; returns (bid id, envelope, content key).
pub(crate) async fn sealed_bid(
    b: &Bidder,
    tender: &str,
    lot: &str,
    payload: &[u8],
) -> (String, Vec<u8>, envelope::ContentKey) {
    let r = b.client.post_empty(&format!("/api/v1/tenders/{tender}/lots/{lot}/bids")).await;
    assert_eq!(r.status(), 201, "reserve");
    let t: Value = r.json().await.expect("json");
    let id = crate::bids::identity_of(&t);
    let mut env = Vec::new();
    let sealed = envelope::seal(&b.bid_key, &id, payload, &mut env).expect("seal");
    (id.bid.to_string(), env, sealed.cek)
}

async fn upload(b: &Bidder, bid: &str, env: &[u8], sign_over: Option<&[u8]>) -> reqwest::Response {
    let digest = ring::digest::digest(&ring::digest::SHA256, sign_over.unwrap_or(env));
    let sig = b.signing.sign(&SystemRandom::new(), digest.as_ref()).expect("sign");
    b.client
        .req(reqwest::Method::PUT, &format!("/api/v1/bids/{bid}/envelope"))
        .header("x-bidder-key", &b.key_id)
        .header("x-bid-signature", B64.encode(sig.as_ref()))
        .body(env.to_vec())
        .send()
        .await
        .expect("send")
}

pub(crate) async fn setup() -> (TestApp, String, Client) {
    let app = crate::support::spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let tender = crate::tenders::published_tender(&app, &agency).await;
    (app, tender, agency)
}

#[tokio::test]
async fn a_sealed_bid_is_receipted_and_the_receipt_verifies_offline() {
    let (app, tender, _) = setup().await;
    let b = bidder(&app, "supplier_1", &tender).await;
    let lot = first_lot(&b.client, &tender).await;
    let payload = br#"{"total_price": 37800000, "delivery_days": 30}"#;
    let (bid, env, cek) = sealed_bid(&b, &tender, &lot, payload).await;
    let r = upload(&b, &bid, &env, None).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let receipt: Receipt = r.json().await.expect("receipt");
    assert_eq!(receipt.envelope_sha256, hex::encode(ring::digest::digest(&ring::digest::SHA256, &env)));
    assert_eq!(receipt.size, env.len() as u64);
    assert_eq!(receipt.received_at, crate::support::t0());

    // Verified with nothing but the published key.
    let key: Value = Client::anonymous(&app).await.get_json("/.well-known/tenderhall/platform-key").await;
    let public = tenderhall::keys::PublicKey::from_bytes(
        hex::decode(key["public_key_hex"].as_str().expect("hex")).expect("hex"),
    );
    assert!(receipt.verify(&public));
    let mut forged = receipt.clone();
    forged.received_at -= TimeDelta::hours(1);
    assert!(!forged.verify(&public), "a receipt with another time does not verify");
    let mut forged = receipt.clone();
    forged.envelope_sha256 = "0".repeat(64);
    assert!(!forged.verify(&public));

    // The stored envelope is exactly what was sent, and opens with the released key.
    let stored = app.state.blobs.get(&receipt.envelope_sha256).await.expect("stored");
    assert_eq!(stored.to_vec(), env);
    let id = BidIdentity { tender: receipt.tender, lot: receipt.lot, bidder: receipt.bidder, bid: receipt.bid };
    let mut plain = Vec::new();
    envelope::open(&cek, &id, stored.as_ref(), &mut plain).expect("open");
    assert_eq!(plain, payload);
    // The server holds ciphertext only: the price is nowhere in the stored bytes.
    assert!(!stored.windows(8).any(|w| w == b"37800000"));

    let mine = b.client.get_json(&format!("/api/v1/tenders/{tender}/my-bids")).await;
    assert_eq!(mine[0]["status"], "submitted");
    // The bidder is told once that its bid arrived, with the digest's start; nobody else is.
    let receipts = |list: Value| -> Vec<Value> {
        list.as_array().expect("list").iter().filter(|n| n["kind"] == "bid_receipt").cloned().collect()
    };
    let told = receipts(b.client.get_json("/api/v1/notifications").await);
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0]["text"].as_str().is_some_and(|t| t.contains(&receipt.envelope_sha256[..16])), "{told:?}");
    for other in ["supplier_2", "agency_x", "supervisor"] {
        let c = Client::login(&app, other).await;
        assert!(receipts(c.get_json("/api/v1/notifications").await).is_empty(), "{other} is not told");
    }
    assert_eq!(
        b.client.get_json(&format!("/api/v1/bids/{bid}/receipt")).await["signature"],
        receipt.signature.as_str()
    );
    // The printed receipt reads as a document: the tender, lot and bidder by name, the time to
    // the second in China Standard Time, the digest, and the signature with its key id in their
    // own section; no ids, no microseconds, no JSON on the page.
    let r = b.client.get(&format!("/api/v1/bids/{bid}/receipt.pdf")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.expect("pdf");
    let text: String = pdf_extract::extract_text_from_mem(&pdf).expect("text").split_whitespace().collect();
    let code =
        b.client.get_json(&format!("/api/v1/tenders/{tender}")).await["code"].as_str().expect("code").to_string();
    for expected in [
        "投标文件接收回执",
        &code,
        "教学设备采购项目",
        "1.第一包：智能平板",
        "供应商一有限公司",
        "2026-11-0210:00:00(北京时间UTC+8ChinaStandardTime)",
        &receipt.envelope_sha256,
        "审计记录",
        "平台签名Platformsignature签名算法AlgorithmEd25519",
        &receipt.key_id,
        &receipt.signature,
        "receiptverify",
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    for internal in
        [receipt.bid.to_string(), receipt.tender.to_string(), receipt.lot.to_string(), receipt.bidder.to_string()]
    {
        assert!(!text.contains(&internal), "no raw id on the page: {internal} in {text}");
    }
    assert!(!text.contains("10:00:00.000000") && !text.contains("\"version\"") && !text.contains("{"), "{text}");
    // The signed receipt travels inside the PDF as its attachment, and verifies.
    let attached = Receipt::from_pdf(&pdf).expect("the signed receipt is attached");
    assert_eq!(attached, receipt);
    assert!(attached.verify(&public), "the receipt attached to the PDF verifies");
    let other = Client::login(&app, "supplier_2").await;
    expect_error(other.get(&format!("/api/v1/bids/{bid}/receipt.pdf")).await, 404, "not_found").await;

    let audit = Client::login(&app, "supervisor").await.get_json("/api/v1/audit/verify").await;
    assert_eq!(audit["problems"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn nobody_but_the_bidder_learns_that_a_bid_exists() {
    let (app, tender, agency) = setup().await;
    let b = bidder(&app, "supplier_1", &tender).await;
    let lot = first_lot(&b.client, &tender).await;
    let (bid, env, _) = sealed_bid(&b, &tender, &lot, b"price").await;
    assert_eq!(upload(&b, &bid, &env, None).await.status(), 201);
    let before = agency.get_json(&format!("/api/v1/tenders/{tender}")).await;
    let other = Client::login(&app, "supplier_2").await;
    for c in [&agency, &other, &Client::login(&app, "buyer_a").await] {
        expect_error(c.get(&format!("/api/v1/bids/{bid}/receipt")).await, 404, "not_found").await;
    }
    expect_error(agency.get(&format!("/api/v1/tenders/{tender}/my-bids")).await, 404, "not_found").await;
    assert_eq!(other.get_json(&format!("/api/v1/tenders/{tender}/my-bids")).await.as_array().map(Vec::len), Some(0));
    expect_error(
        Client::anonymous(&app).await.get(&format!("/api/v1/bids/{bid}/receipt")).await,
        401,
        "login_required",
    )
    .await;
    // Another supplier cannot withdraw it or upload to it, and is told only "not found".
    expect_error(other.post_empty(&format!("/api/v1/bids/{bid}/withdraw")).await, 404, "not_found").await;
    // The agency's view of the tender says nothing about bids.
    let after = agency.get_json(&format!("/api/v1/tenders/{tender}")).await;
    assert_eq!(before, after);
    assert!(!after.to_string().contains(&bid));
    // Nor does the audit trail's listing, even to supervisors, while the chain still verifies.
    let sup = Client::login(&app, "supervisor").await;
    let records = sup.get_json("/api/v1/audit/records").await;
    assert!(!records.to_string().contains("bid.submit") && !records.to_string().contains(&bid), "{records}");
    assert_eq!(sup.get_json(&format!("/api/v1/audit/records?object={bid}")).await.as_array().map(Vec::len), Some(0));
    assert_eq!(sup.get_json("/api/v1/audit/verify").await["problems"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn nothing_is_accepted_after_the_deadline() {
    let (app, tender, agency) = setup().await;
    let b = bidder(&app, "supplier_1", &tender).await;
    let lot = first_lot(&b.client, &tender).await;
    let (bid, env, _) = sealed_bid(&b, &tender, &lot, b"late price").await;
    let deadline = crate::bids::deadline_of(&agency, &tender).await;
    app.clock.set(deadline + TimeDelta::seconds(1));
    let b = Bidder { client: Client::login(&app, "supplier_1").await, ..b };
    expect_error(upload(&b, &bid, &env, None).await, 422, "deadline_passed").await;
    expect_error(
        b.client.post_empty(&format!("/api/v1/tenders/{tender}/lots/{lot}/bids")).await,
        422,
        "deadline_passed",
    )
    .await;
    let sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, &env));
    assert!(app.state.blobs.get(&sha).await.is_err(), "nothing stored");
    assert_eq!(b.client.get_json(&format!("/api/v1/tenders/{tender}/my-bids")).await[0]["status"], "reserved");
    expect_error(b.client.get(&format!("/api/v1/bids/{bid}/receipt")).await, 404, "not_found").await;
    // One second before, it would have been accepted.
    app.clock.set(deadline - TimeDelta::seconds(1));
    let b = Bidder { client: Client::login(&app, "supplier_1").await, ..b };
    assert_eq!(upload(&b, &bid, &env, None).await.status(), 201);
}

#[tokio::test]
async fn the_latest_bid_counts_and_old_envelopes_cannot_be_replayed() {
    let (app, tender, _) = setup().await;
    let b = bidder(&app, "supplier_1", &tender).await;
    let lot = first_lot(&b.client, &tender).await;
    let (bid1, env1, _) = sealed_bid(&b, &tender, &lot, b"price 100").await;
    assert_eq!(upload(&b, &bid1, &env1, None).await.status(), 201);
    let (bid2, env2, _) = sealed_bid(&b, &tender, &lot, b"price 90").await;
    // The old envelope replayed for the new bid is refused: it names the old bid.
    expect_error(upload(&b, &bid2, &env1, None).await, 422, "envelope_wrong_bid").await;
    // ...and the old bid takes no second envelope.
    expect_error(upload(&b, &bid1, &env2, None).await, 409, "bid_not_reserved").await;
    let first = hex::encode(ring::digest::digest(&ring::digest::SHA256, &env1));
    assert_eq!(app.state.blobs.get(&first).await.expect("the replayed envelope is still stored").to_vec(), env1);
    assert_eq!(upload(&b, &bid2, &env2, None).await.status(), 201);
    let mine = b.client.get_json(&format!("/api/v1/tenders/{tender}/my-bids")).await;
    let status = |id: &str| mine.as_array().expect("list").iter().find(|x| x["id"] == id).map(|x| x["status"].clone());
    assert_eq!(status(&bid1), Some(json!("replaced")));
    assert_eq!(status(&bid2), Some(json!("submitted")));
    // Withdrawn before the deadline.
    assert_eq!(b.client.post_empty(&format!("/api/v1/bids/{bid2}/withdraw")).await.status(), 204);
    expect_error(b.client.post_empty(&format!("/api/v1/bids/{bid2}/withdraw")).await, 409, "bid_not_active").await;
    assert_eq!(b.client.get_json(&format!("/api/v1/tenders/{tender}/my-bids")).await[1]["status"], "withdrawn");
}

#[tokio::test]
async fn bad_envelopes_signatures_and_keys_are_refused() {
    let (app, tender, agency) = setup().await;
    let b = bidder(&app, "supplier_1", &tender).await;
    let lot = first_lot(&b.client, &tender).await;
    let (bid, env, _) = sealed_bid(&b, &tender, &lot, b"price").await;
    // Signed over other bytes.
    expect_error(upload(&b, &bid, &env, Some(b"something else")).await, 422, "signature_invalid").await;
    // Not an envelope at all, or cut short.
    expect_error(upload(&b, &bid, b"%PDF-1.7 not an envelope", None).await, 422, "envelope_invalid").await;
    expect_error(upload(&b, &bid, &env[..50], None).await, 422, "envelope_invalid").await;
    // Sealed for another bidder's identity.
    let forged_id = BidIdentity {
        tender: Uuid::new_v4(),
        lot: Uuid::new_v4(),
        bidder: Uuid::new_v4(),
        bid: bid.parse().expect("uuid"),
    };
    let mut other_env = Vec::new();
    envelope::seal(&b.bid_key, &forged_id, &b"x"[..], &mut other_env).expect("seal");
    expect_error(upload(&b, &bid, &other_env, None).await, 422, "envelope_wrong_bid").await;
    // Unknown key, missing headers.
    let real_key_id = b.key_id.clone();
    let mut unknown = Bidder { client: Client::login(&app, "supplier_1").await, ..b };
    unknown.key_id = "0000000000000000".into();
    expect_error(upload(&unknown, &bid, &env, None).await, 422, "validation_failed").await;
    let r = unknown
        .client
        .req(reqwest::Method::PUT, &format!("/api/v1/bids/{bid}/envelope"))
        .body(env.clone())
        .send()
        .await
        .expect("send");
    expect_error(r, 422, "validation_failed").await;
    // Keys: only suppliers, only real P-256 points, once.
    expect_error(
        agency.post("/api/v1/me/bidder-keys", &json!({"public_key": B64.encode([4u8; 65])})).await,
        403,
        "forbidden",
    )
    .await;
    let e = expect_error(
        unknown.client.post("/api/v1/me/bidder-keys", &json!({"public_key": B64.encode([4u8; 65])})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(e["error"]["fields"][0]["field"], "public_key");
    expect_error(
        unknown.client.post("/api/v1/me/bidder-keys", &json!({"public_key": "!!"})).await,
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        unknown
            .client
            .post("/api/v1/me/bidder-keys", &json!({"public_key": B64.encode(unknown.signing.public_key().as_ref())}))
            .await,
        409,
        "key_exists",
    )
    .await;
    // After all of that, no bid counts and the refused envelopes were not kept.
    assert_eq!(unknown.client.get_json(&format!("/api/v1/tenders/{tender}/my-bids")).await[0]["status"], "reserved");
    for bytes in [&env[..], &other_env[..]] {
        let sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes));
        assert!(app.state.blobs.get(&sha).await.is_err(), "refused envelope not kept");
    }
    // Uploading a tender document's bytes as an envelope is refused without touching the document.
    unknown.key_id = real_key_id;
    let doc = agency.get_json(&format!("/api/v1/tenders/{tender}")).await["documents"][0]["id"]
        .as_str()
        .expect("doc")
        .to_string();
    let pdf_bytes = unknown
        .client
        .get(&format!("/api/v1/tenders/{tender}/documents/{doc}"))
        .await
        .bytes()
        .await
        .expect("pdf")
        .to_vec();
    expect_error(upload(&unknown, &bid, &pdf_bytes, None).await, 422, "envelope_invalid").await;
    let again = unknown.client.get(&format!("/api/v1/tenders/{tender}/documents/{doc}")).await;
    assert_eq!(again.status(), 200, "the tender document is still there");
    assert_eq!(again.bytes().await.expect("pdf").to_vec(), pdf_bytes);
    // Without the documents there is no bid at all.
    let s2 = Client::login(&app, "supplier_2").await;
    expect_error(s2.post_empty(&format!("/api/v1/tenders/{tender}/lots/{lot}/bids")).await, 403, "obtain_first").await;
}

pub(crate) fn tool(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tenderhall"))
        .args(args)
        .env("TENDERHALL_KEY_PASSPHRASE", "correct horse battery staple")
        .env("RUST_LOG", "error")
        .current_dir(dir)
        .output()
        .expect("run tenderhall");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

pub(crate) fn field<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines().find_map(|l| l.strip_prefix(name)).map(str::trim).unwrap_or_else(|| panic!("{name} in {out}"))
}

#[tokio::test]
async fn the_bidder_tool_seals_and_the_receipt_verifies_from_the_command_line() {
    let (app, tender, _) = setup().await;
    let dir = app.dir.path();
    let (ok, out) = tool(dir, &["bidder", "keygen", "--out", "bidder.key"]);
    assert!(ok, "{out}");
    let public = field(&out, "register this public key:").to_string();
    let key_text = std::fs::read_to_string(dir.join("bidder.key")).expect("key file");
    assert!(key_text.contains("pbkdf2-sha256"), "protected by the passphrase");

    let c = Client::login(&app, "supplier_1").await;
    assert_eq!(c.post_empty(&format!("/api/v1/tenders/{tender}/obtain")).await.status(), 204);
    let r = c.post("/api/v1/me/bidder-keys", &json!({"public_key": public})).await;
    assert_eq!(r.status(), 201);
    let key_id = r.json::<Value>().await.expect("json")["key_id"].as_str().expect("id").to_string();
    let lot = first_lot(&c, &tender).await;
    let t: Value =
        c.post_empty(&format!("/api/v1/tenders/{tender}/lots/{lot}/bids")).await.json().await.expect("ticket");
    std::fs::write(dir.join("bid.json"), br#"{"total_price": 37500000}"#).expect("payload");
    let s = |k: &str| t[k].as_str().expect("id").to_string();
    let (ok, out) = tool(
        dir,
        &[
            "bidder",
            "seal",
            "--key",
            "bidder.key",
            "--tender",
            &s("tender"),
            "--lot",
            &s("lot"),
            "--bidder",
            &s("bidder"),
            "--bid",
            &s("bid"),
            "--in",
            "bid.json",
            "--out",
            "bid.env",
        ],
    );
    assert!(ok, "{out}");
    let signature = field(&out, "signature").to_string();
    let env = std::fs::read(dir.join("bid.env")).expect("envelope");
    assert_eq!(field(&out, "sha256"), hex::encode(ring::digest::digest(&ring::digest::SHA256, &env)));
    let r = c
        .req(reqwest::Method::PUT, &format!("/api/v1/bids/{}/envelope", s("bid")))
        .header("x-bidder-key", &key_id)
        .header("x-bid-signature", &signature)
        .body(env)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    std::fs::write(dir.join("receipt.json"), r.text().await.expect("receipt")).expect("write");

    let key: Value = Client::anonymous(&app).await.get_json("/.well-known/tenderhall/platform-key").await;
    let hexkey = key["public_key_hex"].as_str().expect("hex").to_string();
    let (ok, out) = tool(dir, &["receipt", "verify", "receipt.json", "--public-key", &hexkey]);
    assert!(ok && out.contains("VALID"), "{out}");
    let forged = std::fs::read_to_string(dir.join("receipt.json")).expect("read").replace("\"size\":", "\"size\":1");
    std::fs::write(dir.join("forged.json"), forged).expect("write");
    let (ok, out) = tool(dir, &["receipt", "verify", "forged.json", "--public-key", &hexkey]);
    assert!(!ok && out.contains("INVALID"), "{out}");
    let (ok, out) = tool(dir, &["receipt", "verify", "bid.json", "--public-key", &hexkey]);
    assert!(!ok && out.contains("not a receipt"), "{out}");
    // The receipt PDF alone verifies: it carries the signed receipt.
    let pdf = c.get(&format!("/api/v1/bids/{}/receipt.pdf", s("bid"))).await.bytes().await.expect("pdf");
    std::fs::write(dir.join("receipt.pdf"), &pdf).expect("write");
    let (ok, out) = tool(dir, &["receipt", "verify", "receipt.pdf", "--public-key", &hexkey]);
    assert!(ok && out.contains("VALID") && out.contains(&s("bid")), "{out}");
    // Another key does not verify it; a PDF without a receipt is not one.
    let (ok, out) = tool(dir, &["receipt", "verify", "receipt.pdf", "--public-key", &"ab".repeat(32)]);
    assert!(!ok && out.contains("INVALID"), "{out}");
    std::fs::write(dir.join("other.pdf"), crate::support::pdf("Not a receipt", 1)).expect("write");
    let (ok, out) = tool(dir, &["receipt", "verify", "other.pdf", "--public-key", &hexkey]);
    assert!(!ok && out.contains("not a receipt"), "{out}");

    // At the opening the bidder releases the content key, and it opens the stored envelope.
    let (ok, out) = tool(dir, &["bidder", "release-key", "--key", "bidder.key", "--envelope", "bid.env"]);
    assert!(ok, "{out}");
    let cek: [u8; 32] = hex::decode(out.trim()).expect("hex").try_into().expect("32 bytes");
    let receipt: Receipt =
        serde_json::from_str(&std::fs::read_to_string(dir.join("receipt.json")).expect("r")).expect("json");
    let stored = app.state.blobs.get(&receipt.envelope_sha256).await.expect("stored");
    let id = BidIdentity { tender: receipt.tender, lot: receipt.lot, bidder: receipt.bidder, bid: receipt.bid };
    let mut plain = Vec::new();
    envelope::open(&envelope::ContentKey(cek), &id, stored.as_ref(), &mut plain).expect("open");
    assert_eq!(plain, br#"{"total_price": 37500000}"#);
}

#[tokio::test]
async fn my_bids_list_each_own_bid_with_its_receipt_and_the_actions_open_and_nobody_else_sees_them() {
    let (app, tender, agency) = setup().await;
    let b = bidder(&app, "supplier_1", &tender).await;
    let d = agency.get_json(&format!("/api/v1/tenders/{tender}")).await;
    let (lot1, lot2) = (d["lots"][0]["id"].as_str().expect("lot"), d["lots"][1]["id"].as_str().expect("lot"));
    // Lot 1: submitted, then replaced by a second submission; lot 2: reserved, never uploaded.
    let (first, env, _) = sealed_bid(&b, &tender, lot1, b"price 100").await;
    assert_eq!(upload(&b, &first, &env, None).await.status(), 201);
    let (second, env, _) = sealed_bid(&b, &tender, lot1, b"price 90").await;
    assert_eq!(upload(&b, &second, &env, None).await.status(), 201);
    let (reserved, _, _) = sealed_bid(&b, &tender, lot2, b"unsent").await;

    let mine = b.client.get_json(&format!("/api/v1/tenders/{tender}/my-bids")).await;
    let list = mine.as_array().expect("list");
    assert_eq!(list.iter().map(|x| x["id"].as_str().unwrap_or("")).collect::<Vec<_>>(), [&first, &second, &reserved]);
    let current = &list[1];
    assert_eq!(current["status"], "submitted");
    assert_eq!((current["lot_no"].as_i64(), current["lot_name"].as_str()), (Some(1), Some("第一包：智能平板")));
    assert_eq!(current["tender_title"], "教学设备采购项目");
    assert!(current["tender_code"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(current["received_at"], json!(crate::support::t0()));
    assert_eq!(current["envelope_sha256"].as_str().map(str::len), Some(64));
    assert_eq!(current["receipt"], true);
    assert_eq!(current["actions"], json!({"replace": true, "withdraw": true}));
    // A replaced bid keeps its receipt and allows nothing; an unfinished upload can be given up.
    assert_eq!((list[0]["status"].as_str(), &list[0]["receipt"]), (Some("replaced"), &json!(true)));
    assert_eq!(list[0]["actions"], json!({"replace": false, "withdraw": false}));
    assert_eq!((list[2]["status"].as_str(), &list[2]["receipt"]), (Some("reserved"), &json!(false)));
    assert_eq!(list[2]["actions"], json!({"replace": false, "withdraw": true}));
    // The receipts listed download again, as JSON and PDF.
    for id in [&first, &second] {
        assert_eq!(b.client.get_json(&format!("/api/v1/bids/{id}/receipt")).await["bid"], id.as_str());
        assert_eq!(b.client.get(&format!("/api/v1/bids/{id}/receipt.pdf")).await.status(), 200);
    }

    // Across tenders, newest first: the same bids with their tender.
    let all = b.client.get_json("/api/v1/my-bids").await;
    let ids: Vec<&str> = all.as_array().expect("list").iter().filter_map(|x| x["id"].as_str()).collect();
    assert_eq!(ids, [&reserved, &second, &first]);
    assert_eq!(all[1]["tender"], tender.as_str());

    // Nobody else: another supplier (even one that obtained the documents) sees none, the agency
    // and the supervisor are refused, the public must log in.
    let other = bidder(&app, "supplier_2", &tender).await;
    assert_eq!(other.client.get_json(&format!("/api/v1/tenders/{tender}/my-bids")).await, json!([]));
    assert_eq!(other.client.get_json("/api/v1/my-bids").await, json!([]));
    for c in [&agency, &Client::login(&app, "supervisor").await] {
        expect_error(c.get(&format!("/api/v1/tenders/{tender}/my-bids")).await, 404, "not_found").await;
        expect_error(c.get("/api/v1/my-bids").await, 403, "forbidden").await;
    }
    expect_error(Client::anonymous(&app).await.get("/api/v1/my-bids").await, 401, "login_required").await;

    // The pages: the tender page and the workspace of a supplier that obtained the documents
    // carry the list; the agency's pages do not, and no page names a bid.
    let tender_page = page(&b.client, &format!("/tenders/{tender}")).await;
    assert!(tender_page.contains(&format!("data-my-bids data-tender=\"{tender}\"")), "{tender_page}");
    assert!(tender_page.contains("/static/mybids.js"));
    let desk = page(&b.client, "/workspace").await;
    assert!(desk.contains("data-my-bids data-tender=\"\"") && desk.contains("我的投标"), "{desk}");
    for text in [page(&agency, &format!("/tenders/{tender}")).await, page(&agency, "/workspace").await] {
        assert!(!text.contains("data-my-bids") && !text.contains("mybids.js") && !text.contains(&second));
    }
    let unobtained = Client::login(&app, "supplier_3").await;
    assert!(!page(&unobtained, &format!("/tenders/{tender}")).await.contains("data-my-bids"));

    // Once bidding has closed, the list stays with its receipts, and no action is open.
    let deadline = crate::bids::deadline_of(&agency, &tender).await;
    app.clock.set(deadline);
    let b = Client::login(&app, "supplier_1").await;
    let mine = b.get_json(&format!("/api/v1/tenders/{tender}/my-bids")).await;
    for x in mine.as_array().expect("list") {
        assert_eq!(x["actions"], json!({"replace": false, "withdraw": false}), "{x}");
    }
    assert_eq!(mine[1]["receipt"], true);
    expect_error(b.post_empty(&format!("/api/v1/bids/{reserved}/withdraw")).await, 422, "deadline_passed").await;
}

async fn page(c: &Client, path: &str) -> String {
    let r = c.get(path).await;
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.expect("page")
}
