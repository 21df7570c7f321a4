//! The opening hall over HTTP and websockets: the whole flow, every refusal, the price secret
//! until the reading, 流标, a corrupted envelope found at the opening, and reconnecting without
//! gap or duplicate.

use crate::bids::{Bidder, bidder, first_lot};
use crate::client::{Client, expect_error};
use crate::support::{Options, TestApp, spawn_app_with};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use chrono::TimeDelta;
use futures_util::{SinkExt, StreamExt};
use ring::rand::SystemRandom;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tenderhall::envelope::{self, ContentKey, payload};

pub struct Sealed {
    pub bid: String,
    pub cek: ContentKey,
}

pub async fn submit(b: &Bidder, tender: &str, lot: &str, price: &str) -> Sealed {
    submit_form(b, tender, lot, json!({"total_price": price, "delivery_days": "30"})).await
}

/// Seals and submits a bid whose form is `form`, whatever it holds (as a bidder's own client
/// may seal anything), with one file.
pub async fn submit_form(b: &Bidder, tender: &str, lot: &str, form: Value) -> Sealed {
    let r = b.client.post_empty(&format!("/api/v1/tenders/{tender}/lots/{lot}/bids")).await;
    assert_eq!(r.status(), 201);
    let t: Value = r.json().await.expect("ticket");
    let id = crate::bids::identity_of(&t);
    let file = crate::support::pdf("offer", 1);
    let manifest = payload::Manifest {
        form: serde_json::from_value(form).expect("a form is an object"),
        files: vec![payload::FileEntry {
            name: "投标文件.pdf".into(),
            size: file.len() as u64,
            sha256: hex::encode(ring::digest::digest(&ring::digest::SHA256, &file)),
        }],
    };
    let mut p = payload::head(&manifest).expect("payload");
    p.extend_from_slice(&file);
    let mut env = Vec::new();
    let sealed = envelope::seal(&b.bid_key, &id, p.as_slice(), &mut env).expect("seal");
    let sig = b.signing.sign(&SystemRandom::new(), &sealed.digest).expect("sign");
    let r = b
        .client
        .req(reqwest::Method::PUT, &format!("/api/v1/bids/{}/envelope", id.bid))
        .header("x-bidder-key", &b.key_id)
        .header("x-bid-signature", B64.encode(sig.as_ref()))
        .body(env)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    Sealed { bid: id.bid.to_string(), cek: sealed.cek }
}

pub async fn cmd(c: &Client, tender: &str, body: Value) -> reqwest::Response {
    c.post(&format!("/api/v1/tenders/{tender}/opening/commands"), &body).await
}

pub async fn ok(c: &Client, tender: &str, body: Value) {
    let r = cmd(c, tender, body.clone()).await;
    assert_eq!(r.status(), 204, "{body}: {}", r.text().await.unwrap_or_default());
}

pub async fn events(c: &Client, tender: &str, after: i64) -> Vec<Value> {
    c.get_json(&format!("/api/v1/tenders/{tender}/opening/events?after={after}"))
        .await
        .as_array()
        .expect("list")
        .clone()
}

/// A tender with three suppliers' bids on its first lot; the clock is past the deadline.
pub async fn hall(min_valid: i32) -> (TestApp, String, Client, Vec<(Bidder, Sealed)>) {
    hall_with(min_valid, Box::new(|_| {})).await
}

/// [`hall`] on a server whose settings `hook` changes.
pub async fn hall_with(
    min_valid: i32,
    hook: crate::support::SettingsHook,
) -> (TestApp, String, Client, Vec<(Bidder, Sealed)>) {
    let app = spawn_app_with(Options {
        settings: Some(Box::new(move |s| {
            s.tenders.min_valid_bids = min_valid;
            hook(s);
        })),
        ..Default::default()
    })
    .await;
    let agency = Client::login(&app, "agency_x").await;
    let tender = crate::tenders::published_tender(&app, &agency).await;
    let mut bidders = Vec::new();
    for (user, price) in [("supplier_1", "3650000.00"), ("supplier_2", "3712345.67"), ("supplier_3", "3599000.00")] {
        let b = bidder(&app, user, &tender).await;
        let lot = first_lot(&b.client, &tender).await;
        let s = submit(&b, &tender, &lot, price).await;
        bidders.push((b, s));
    }
    let deadline = crate::bids::deadline_of(&agency, &tender).await;
    // Before the deadline there is no hall.
    expect_error(agency.get(&format!("/api/v1/tenders/{tender}/opening")).await, 422, "hall_not_open").await;
    app.clock.set(deadline + TimeDelta::seconds(1));
    // The hall opens at the deadline by its job.
    app.tick().await;
    // Sessions do not last weeks: everyone logs in again at the opening.
    let agency = Client::login(&app, "agency_x").await;
    let mut fresh = Vec::new();
    for (b, s) in bidders {
        let user = ["supplier_1", "supplier_2", "supplier_3"][fresh.len()];
        fresh.push((Bidder { client: Client::login(&app, user).await, ..b }, s));
    }
    (app, tender, agency, fresh)
}

pub fn release(s: &Sealed) -> Value {
    json!({"op": "release_key", "bid": s.bid, "key": hex::encode(s.cek.0)})
}

#[tokio::test]
async fn a_whole_opening_from_sign_in_to_the_closed_record() {
    let (app, tender, host, bidders) = hall(2).await;
    let (s1, s2, s3) = (&bidders[0], &bidders[1], &bidders[2]);
    let h = host.get_json(&format!("/api/v1/tenders/{tender}/opening")).await;
    assert_eq!((h["phase"].as_str(), h["role"].as_str()), (Some("sign_in"), Some("host")));
    let first = events(&host, &tender, 0).await;
    assert_eq!(first[0]["kind"], "opened");
    assert_eq!(first[0]["data"]["bids"].as_array().map(Vec::len), Some(3));

    // Who may not enter: a supplier without a bid, another procuring unit, the public.
    let outsider = Client::login(&app, "buyer_b").await;
    expect_error(outsider.get(&format!("/api/v1/tenders/{tender}/opening")).await, 404, "not_found").await;
    expect_error(
        Client::anonymous(&app).await.get(&format!("/api/v1/tenders/{tender}/opening")).await,
        401,
        "login_required",
    )
    .await;
    let supervisor = Client::login(&app, "supervisor").await;
    assert_eq!(supervisor.get_json(&format!("/api/v1/tenders/{tender}/opening")).await["role"], "supervisor");

    // Out of turn: keys before the window, a bidder starting it, the host moving on too early.
    expect_error(cmd(&s1.0.client, &tender, release(&s1.1)).await, 409, "out_of_turn").await;
    expect_error(cmd(&s1.0.client, &tender, json!({"op": "start_decryption"})).await, 403, "forbidden").await;
    expect_error(cmd(&host, &tender, json!({"op": "advance"})).await, 409, "out_of_turn").await;
    expect_error(cmd(&host, &tender, json!({"op": "fly"})).await, 422, "json_invalid").await;

    // A bidder reads its own envelope's header (to recover its key), nobody else's.
    let head = s1.0.client.get(&format!("/api/v1/bids/{}/envelope/head", s1.1.bid)).await;
    assert_eq!(head.status(), 200);
    assert!(head.bytes().await.expect("head").starts_with(envelope::MAGIC));
    expect_error(s2.0.client.get(&format!("/api/v1/bids/{}/envelope/head", s1.1.bid)).await, 404, "not_found").await;
    expect_error(host.get(&format!("/api/v1/bids/{}/envelope/head", s1.1.bid)).await, 404, "not_found").await;

    ok(&s1.0.client, &tender, json!({"op": "sign_in"})).await;
    ok(&host, &tender, json!({"op": "start_decryption"})).await;
    assert_eq!(host.get_json(&format!("/api/v1/tenders/{tender}")).await["state"], "opening");
    expect_error(cmd(&host, &tender, json!({"op": "advance"})).await, 422, "window_open").await;
    expect_error(host.get(&format!("/api/v1/tenders/{tender}/opening/record.pdf")).await, 409, "out_of_turn").await;

    // Keys: right, wrong then right, and a repeat.
    ok(&s1.0.client, &tender, release(&s1.1)).await;
    ok(&s2.0.client, &tender, json!({"op": "release_key", "bid": s2.1.bid, "key": hex::encode([7u8; 32])})).await;
    ok(&s2.0.client, &tender, release(&s2.1)).await;
    expect_error(cmd(&s1.0.client, &tender, release(&s1.1)).await, 409, "already_decided").await;
    expect_error(cmd(&s1.0.client, &tender, release(&s2.1)).await, 404, "not_found").await;
    expect_error(
        cmd(&s1.0.client, &tender, json!({"op": "release_key", "bid": s1.1.bid, "key": "zz"})).await,
        422,
        "validation_failed",
    )
    .await;

    // Nobody sees a price before the reading; a refused key is seen only by its bidder and staff.
    for c in [&host, &supervisor, &s1.0.client, &s3.0.client] {
        let text = serde_json::to_string(&events(c, &tender, 0).await).expect("json");
        assert!(!text.contains("3650000") && !text.contains("3712345"), "no price before the reading: {text}");
    }
    let kinds = |ev: &[Value]| ev.iter().map(|e| e["kind"].as_str().unwrap_or("").to_string()).collect::<Vec<_>>();
    assert!(kinds(&events(&s2.0.client, &tender, 0).await).contains(&"key_refused".to_string()));
    assert!(!kinds(&events(&s1.0.client, &tender, 0).await).contains(&"key_refused".to_string()));

    // The window closes: the third bidder is too late and drops out as 解密失败.
    let ends: chrono::DateTime<chrono::Utc> =
        host.get_json(&format!("/api/v1/tenders/{tender}/opening")).await["window_ends_at"]
            .as_str()
            .expect("end")
            .parse()
            .expect("t");
    app.clock.set(ends);
    expect_error(cmd(&s3.0.client, &tender, release(&s3.1)).await, 422, "window_closed").await;
    ok(&host, &tender, json!({"op": "advance"})).await;
    let after_reading = events(&s3.0.client, &tender, 0).await;
    let reading = after_reading.iter().find(|e| e["kind"] == "reading").expect("reading");
    let prices: Vec<&str> = reading["data"]["bids"]
        .as_array()
        .expect("bids")
        .iter()
        .filter_map(|b| b["form"]["total_price"].as_str())
        .collect();
    assert_eq!(prices, ["3650000.00", "3712345.67"]);
    // The reading names the bid form's items in both languages, and reads each amount out with
    // digit grouping and in Chinese capitals (大写).
    let items: Vec<(&str, &str)> = reading["data"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| (i["key"].as_str().unwrap_or(""), i["label_zh"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(items, [("total_price", "投标总价（元）"), ("delivery_days", "交货期（天）")]);
    assert_eq!(reading["data"]["items"][1]["label_en"], "Delivery (days)");
    assert_eq!(
        reading["data"]["bids"][1]["amounts"]["total_price"],
        json!({"fen": 371_234_567, "yuan": "3,712,345.67", "capitals": "叁佰柒拾壹万贰仟叁佰肆拾伍元陆角柒分"})
    );
    assert!(reading["data"]["bids"][1]["amounts"].get("delivery_days").is_none(), "days are not money");
    assert_eq!(reading["data"]["not_opened"][0]["outcome"], "decrypt_failed");
    assert_eq!(reading["data"]["bids"][0]["files"][0]["name"], "投标文件.pdf");

    // Objections, answered; the host cannot close the window early.
    ok(&s3.0.client, &tender, json!({"op": "object", "text": "我方密钥未能及时解密，请记录。"})).await;
    expect_error(cmd(&s3.0.client, &tender, json!({"op": "object", "text": "  "})).await, 422, "validation_failed")
        .await;
    let objection = events(&host, &tender, 0).await.into_iter().find(|e| e["kind"] == "objection").expect("objection");
    ok(
        &host,
        &tender,
        json!({"op": "answer", "objection": objection["data"]["id"], "text": "已记录，按规定解密失败。"}),
    )
    .await;
    expect_error(
        cmd(&host, &tender, json!({"op": "answer", "objection": objection["data"]["id"], "text": "again"})).await,
        409,
        "already_answered",
    )
    .await;
    ok(&supervisor, &tender, json!({"op": "note", "text": "监督人员全程在线。"})).await;
    expect_error(cmd(&s1.0.client, &tender, json!({"op": "note", "text": "x"})).await, 403, "forbidden").await;
    expect_error(cmd(&host, &tender, json!({"op": "advance"})).await, 422, "window_open").await;
    app.clock.advance(TimeDelta::minutes(11));

    // Confirmation: each bidder signs the record's digest with its registered key.
    ok(&host, &tender, json!({"op": "advance"})).await;
    let digest = host.get_json(&format!("/api/v1/tenders/{tender}/opening")).await["record_sha256"]
        .as_str()
        .expect("digest")
        .to_string();
    let sign = |b: &Bidder, msg: &[u8]| B64.encode(b.signing.sign(&SystemRandom::new(), msg).expect("sign").as_ref());
    expect_error(
        cmd(&s1.0.client, &tender, json!({"op": "confirm", "signature": sign(&s1.0, b"another record")})).await,
        422,
        "signature_invalid",
    )
    .await;
    ok(&s1.0.client, &tender, json!({"op": "confirm", "signature": sign(&s1.0, &hex::decode(&digest).expect("hex"))}))
        .await;
    ok(&host, &tender, json!({"op": "advance"})).await;
    assert_eq!(host.get_json(&format!("/api/v1/tenders/{tender}")).await["state"], "evaluating");
    expect_error(cmd(&host, &tender, json!({"op": "advance"})).await, 409, "out_of_turn").await;

    // The host saw every event, numbered without gaps; the audit chain holds.
    let all = events(&host, &tender, 0).await;
    let seqs: Vec<i64> = all.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    let closed = all.last().expect("last");
    assert_eq!(closed["kind"], "closed");
    assert_eq!(closed["data"]["unconfirmed"].as_array().map(Vec::len), Some(1));
    let audit = supervisor.get_json("/api/v1/audit/verify").await;
    assert_eq!(audit["problems"].as_array().map(Vec::len), Some(0));

    // The record PDF: readable Chinese and English, the prices as amounts with their capitals,
    // the items by their labels, the events by what happened, the failure, the objection, the
    // digest; no keys or event codes.
    let r = s3.0.client.get(&format!("/api/v1/tenders/{tender}/opening/record.pdf")).await;
    assert_eq!(r.status(), 200);
    let pdf = r.bytes().await.expect("pdf");
    let text: String = pdf_extract::extract_text_from_mem(&pdf).expect("text").split_whitespace().collect();
    for expected in [
        "开标记录表Openingrecord",
        "供应商一有限公司",
        "¥3,650,000.00大写inwords叁佰陆拾伍万元整",
        "¥3,712,345.67大写inwords叁佰柒拾壹万贰仟叁佰肆拾伍元陆角柒分",
        "交货期（天）Delivery(days):30",
        "解密失败Notdecrypted",
        "我方密钥未能及时解密",
        "监督人员全程在线",
        "投标人签到Biddersignedin·供应商一有限公司",
        "解密成功Decrypted·供应商二有限公司",
        "开标结束Openingclosed",
        &digest,
    ] {
        assert!(text.contains(expected), "{expected} in the record: {text}");
    }
    for internal in ["delivery_days", "total_price", "signed_in", "key_accepted", "3650000.00", "decryption_started"] {
        assert!(!text.contains(internal), "{internal} is not in the record: {text}");
    }
    let again = host.get(&format!("/api/v1/tenders/{tender}/opening/record.pdf")).await.bytes().await.expect("pdf");
    assert_eq!(pdf, again, "the record is the same for everyone, every time");
}

#[tokio::test]
async fn too_few_valid_bids_fail_the_tender_and_a_corrupted_envelope_is_named() {
    let (app, tender, host, bidders) = hall(3).await;
    // The third bidder's stored envelope is damaged in the blob store.
    let mine = bidders[2].0.client.get_json(&format!("/api/v1/tenders/{tender}/my-bids")).await;
    let sha = mine[0]["envelope_sha256"].as_str().expect("sha").to_string();
    let path = app.state.settings.storage.blob_dir.join(&sha[0..2]).join(&sha[2..4]).join(&sha);
    let mut bytes = std::fs::read(&path).expect("blob");
    let at = bytes.len() - 40;
    bytes[at] ^= 0x55;
    std::fs::write(&path, bytes).expect("tamper");

    ok(&host, &tender, json!({"op": "start_decryption"})).await;
    for (b, s) in &bidders {
        ok(&b.client, &tender, release(s)).await;
    }
    let ev = events(&host, &tender, 0).await;
    let invalid = ev.iter().find(|e| e["kind"] == "bid_invalid").expect("bid_invalid");
    assert!(invalid["data"]["reason"].as_str().expect("reason").contains("corrupted"), "{invalid}");
    // Every bid is decided, so the host may move on before the window closes: 2 valid < 3.
    ok(&host, &tender, json!({"op": "advance"})).await;
    let ev = events(&bidders[0].0.client, &tender, 0).await;
    assert_eq!(ev.last().expect("last")["kind"], "failed");
    assert_eq!(host.get_json(&format!("/api/v1/tenders/{tender}")).await["state"], "failed");
    assert_eq!(host.get_json(&format!("/api/v1/tenders/{tender}/opening")).await["phase"], "failed");
    let pdf = host.get(&format!("/api/v1/tenders/{tender}/opening/record.pdf")).await.bytes().await.expect("pdf");
    let text: String = pdf_extract::extract_text_from_mem(&pdf).expect("text").split_whitespace().collect();
    assert!(text.contains("流标") && text.contains("corrupted"), "{text}");
}

/// Bids whose sealed forms do not match the tender's items (a required item missing, an amount
/// with three decimals, a number instead of text, a key the form does not have) are recorded as
/// invalid with the reason's code and item, in the hall, the reading and the record; the good
/// bid beside them is read out, and the reading goes on.
#[tokio::test]
async fn a_bid_whose_form_does_not_match_the_items_is_invalid_with_its_reason() {
    let app =
        spawn_app_with(Options { settings: Some(Box::new(|s| s.tenders.min_valid_bids = 1)), ..Default::default() })
            .await;
    let agency = Client::login(&app, "agency_x").await;
    let tender = crate::tenders::published_tender(&app, &agency).await;
    let lots: Vec<String> = agency.get_json(&format!("/api/v1/tenders/{tender}")).await["lots"]
        .as_array()
        .expect("lots")
        .iter()
        .map(|l| l["id"].as_str().expect("id").to_string())
        .collect();
    let (s1, s2, s3) = (
        bidder(&app, "supplier_1", &tender).await,
        bidder(&app, "supplier_2", &tender).await,
        bidder(&app, "supplier_3", &tender).await,
    );
    let sealed = [
        (&s1, submit_form(&s1, &tender, &lots[0], json!({"total_price": " 3650000.00 ", "delivery_days": "30"})).await),
        (&s2, submit_form(&s2, &tender, &lots[0], json!({"total_price": "3712345.67"})).await),
        (&s3, submit_form(&s3, &tender, &lots[0], json!({"total_price": "3599000.001", "delivery_days": "30"})).await),
        (
            &s3,
            submit_form(&s3, &tender, &lots[1], json!({"total_price": 420000, "delivery_days": "30", "bonus": "1"}))
                .await,
        ),
        (
            &s1,
            submit_form(
                &s1,
                &tender,
                &lots[1],
                json!({"total_price": "410000", "delivery_days": "20", "rebate": "5%"}),
            )
            .await,
        ),
    ];
    let deadline = crate::bids::deadline_of(&agency, &tender).await;
    app.clock.set(deadline + TimeDelta::seconds(1));
    app.tick().await;
    let host = Client::login(&app, "agency_x").await;
    let mut clients = Vec::new();
    for user in ["supplier_1", "supplier_2", "supplier_3"] {
        clients.push(Client::login(&app, user).await);
    }
    let client_of = |b: &Bidder| &clients[[&s1, &s2, &s3].iter().position(|x| std::ptr::eq(*x, b)).expect("bidder")];

    ok(&host, &tender, json!({"op": "start_decryption"})).await;
    for (b, s) in &sealed {
        ok(client_of(b), &tender, release(s)).await;
    }
    // Each bad form is named as it is opened: its code, and the item by its labels.
    let ev = events(&host, &tender, 0).await;
    let invalid: Vec<(&str, &str, &str, &str)> = ev
        .iter()
        .filter(|e| e["kind"] == "bid_invalid")
        .map(|e| {
            let d = &e["data"];
            (
                d["bidder"].as_str().unwrap_or(""),
                d["code"].as_str().unwrap_or(""),
                d["item"]["key"].as_str().unwrap_or(""),
                d["item"]["label_zh"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        invalid,
        [
            ("供应商二有限公司", "missing_item", "delivery_days", "交货期（天）"),
            ("供应商三有限公司", "money_too_precise", "total_price", "投标总价（元）"),
            ("供应商三有限公司", "not_text", "total_price", "投标总价（元）"),
            ("供应商一有限公司", "unknown_item", "rebate", ""),
        ]
    );
    let accepted = ev.iter().filter(|e| e["kind"] == "key_accepted").count();
    assert_eq!(accepted, 1, "only the good bid is accepted");
    // The decision is final: the bidder cannot release again for a bid found invalid.
    expect_error(cmd(client_of(&s2), &tender, release(&sealed[1].1)).await, 409, "already_decided").await;
    let state = clients[1].get_json(&format!("/api/v1/tenders/{tender}/opening")).await;
    assert_eq!(
        (state["my_bids"][0]["outcome"].as_str(), state["my_bids"][0]["code"].as_str()),
        (Some("invalid"), Some("missing_item"))
    );

    // Every bid is decided: the reading reads out the good bid only and names the others.
    ok(&host, &tender, json!({"op": "advance"})).await;
    let ev = events(&clients[2], &tender, 0).await;
    let reading = &ev.iter().find(|e| e["kind"] == "reading").expect("reading")["data"];
    let read: Vec<(&str, &str)> = reading["bids"]
        .as_array()
        .expect("bids")
        .iter()
        .map(|b| (b["bidder"].as_str().unwrap_or(""), b["form"]["total_price"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(read, [("供应商一有限公司", "3650000.00")], "read out as checked: trimmed");
    let mut not_opened: Vec<(String, String, String)> = reading["not_opened"]
        .as_array()
        .expect("not opened")
        .iter()
        .map(|b| {
            assert_eq!(b["outcome"], "invalid", "{b}");
            (
                b["bidder"].as_str().unwrap_or("").to_string(),
                b["code"].as_str().unwrap_or("").to_string(),
                b["item"]["key"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    not_opened.sort();
    assert_eq!(
        not_opened,
        [
            ("供应商一有限公司".to_string(), "unknown_item".to_string(), "rebate".to_string()),
            ("供应商三有限公司".to_string(), "money_too_precise".to_string(), "total_price".to_string()),
            ("供应商三有限公司".to_string(), "not_text".to_string(), "total_price".to_string()),
            ("供应商二有限公司".to_string(), "missing_item".to_string(), "delivery_days".to_string()),
        ]
    );
    let text = serde_json::to_string(reading).expect("json");
    for hidden in ["3712345", "3599000", "420000", "410000"] {
        assert!(!text.contains(hidden), "an invalid bid's price is not read out: {hidden} in {text}");
    }
    assert_eq!(host.get_json(&format!("/api/v1/tenders/{tender}/opening")).await["phase"], "objections");

    // The hall page carries the reasons' texts in the reader's language.
    for (lang, expected) in [("zh", "此项为必填项"), ("en", "This item is required")] {
        assert_eq!(host.get(&format!("/lang/{lang}?back=/")).await.status(), 303);
        let page = host.get(&format!("/tenders/{tender}/opening")).await.text().await.expect("html");
        assert!(page.contains(&format!("data-msg-form-missing_item=\"{expected}\"")), "{lang}: {page}");
    }

    // The record names each reason in both languages, with the item's labels.
    let pdf = host.get(&format!("/api/v1/tenders/{tender}/opening/record.pdf")).await.bytes().await.expect("pdf");
    let text: String = pdf_extract::extract_text_from_mem(&pdf).expect("text").split_whitespace().collect();
    for expected in [
        "开标一览表与招标文件不符",
        "交货期（天）Delivery(days)—此项为必填项Thisitemisrequired",
        "金额最多保留两位小数",
        "填写的内容不是文字",
        "rebate—招标文件的开标一览表没有此项",
        "¥3,650,000.00",
    ] {
        assert!(text.contains(expected), "{expected} in the record: {text}");
    }
    for internal in ["missing_item", "money_too_precise", "not_text", "¥3,712,345.67"] {
        assert!(!text.contains(internal), "{internal} is not in the record: {text}");
    }
}

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A websocket to the hall as `user`, resuming after `after`.
pub async fn socket(app: &TestApp, user: &str, tender: &str, after: i64) -> Socket {
    socket_at(&app.base, user, tender, after).await
}

/// A websocket to the hall of the server at `base` (`http://host:port`).
async fn socket_at(base: &str, user: &str, tender: &str, after: i64) -> Socket {
    let login = Login::new(base, user).await;
    connect(base, &login.cookies, tender, after, None).await.expect("websocket")
}

/// A fresh session of one user, as a program holds it: its cookies and its CSRF token.
pub struct Login {
    /// The `Cookie` header.
    pub cookies: String,
    /// The session's CSRF token (from the login's answer).
    pub csrf: String,
}

impl Login {
    /// Logs `user` in at the server at `base`.
    pub async fn new(base: &str, user: &str) -> Login {
        fn keep(jar: &mut BTreeMap<String, String>, r: &reqwest::Response) {
            for v in r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()) {
                if let Some((name, value)) = v.split(';').next().and_then(|c| c.split_once('=')) {
                    jar.insert(name.to_string(), value.to_string());
                }
            }
        }
        fn header(jar: &BTreeMap<String, String>) -> String {
            jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
        }
        let http = reqwest::Client::new();
        let mut jar = BTreeMap::new();
        let csrf = http.get(format!("{base}/api/v1/csrf")).send().await.expect("csrf");
        keep(&mut jar, &csrf);
        let token = csrf.json::<Value>().await.expect("json")["csrf_token"].as_str().expect("token").to_string();
        let r = http
            .post(format!("{base}/api/v1/session"))
            .header("cookie", header(&jar))
            .header("x-csrf-token", token)
            .json(&json!({"username": user, "password": crate::support::PASSWORD}))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 200, "login {user}");
        keep(&mut jar, &r);
        let csrf = r.json::<Value>().await.expect("json")["csrf_token"].as_str().expect("csrf").to_string();
        Login { cookies: header(&jar), csrf }
    }

    /// The value of one of the session's cookies.
    pub fn cookie(&self, name: &str) -> String {
        self.cookies
            .split("; ")
            .find_map(|c| c.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            .unwrap_or_else(|| panic!("no cookie {name} in {}", self.cookies))
            .to_string()
    }

    /// A request with this session's cookies and token.
    pub fn req(&self, method: reqwest::Method, url: String) -> reqwest::RequestBuilder {
        reqwest::Client::new().request(method, url).header("cookie", &self.cookies).header("x-csrf-token", &self.csrf)
    }
}

/// A websocket to the hall with the given cookies and, if any, `Origin`.
pub async fn connect(
    base: &str,
    cookies: &str,
    tender: &str,
    after: i64,
    origin: Option<&str>,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!("{}/api/v1/tenders/{tender}/opening/ws?after={after}", base.replacen("http", "ws", 1));
    let mut req = url.into_client_request()?;
    req.headers_mut().insert("cookie", cookies.parse().expect("cookie"));
    if let Some(o) = origin {
        req.headers_mut().insert("origin", o.parse().expect("origin"));
    }
    Ok(tokio_tungstenite::connect_async(req).await?.0)
}

/// The next JSON frame that is not a clock tick.
pub async fn next(ws: &mut Socket) -> Value {
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next()).await.expect("a frame in time");
        let msg = msg.expect("open").expect("frame");
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).expect("json frame");
            if v["type"] != "clock" {
                return v;
            }
        }
    }
}

/// The next answer to a command (`ok` or `error`), past any events.
pub async fn reply(ws: &mut Socket) -> Value {
    loop {
        let v = next(ws).await;
        if v["type"] != "event" {
            return v;
        }
    }
}

#[tokio::test]
async fn participants_follow_live_and_resume_without_gap_or_duplicate() {
    let (app, tender, host, bidders) = hall(2).await;
    let (s1, s2) = (&bidders[0], &bidders[1]);
    let mut ws = socket(&app, "supplier_1", &tender, 0).await;
    let hello = next(&mut ws).await;
    assert_eq!((hello["type"].as_str(), hello["state"]["role"].as_str()), (Some("hello"), Some("bidder")));
    assert_eq!(next(&mut ws).await["event"]["kind"], "opened");

    // Commands over the socket; refusals come back as error frames and change nothing.
    ws.send(tokio_tungstenite::tungstenite::Message::Text(json!({"op": "sign_in"}).to_string().into()))
        .await
        .expect("send");
    assert_eq!(next(&mut ws).await["type"], "ok");
    assert_eq!(next(&mut ws).await["event"]["kind"], "signed_in");
    ws.send(tokio_tungstenite::tungstenite::Message::Text(release(&s1.1).to_string().into())).await.expect("send");
    let err = next(&mut ws).await;
    assert_eq!((err["type"].as_str(), err["code"].as_str()), (Some("error"), Some("out_of_turn")));
    ws.send(tokio_tungstenite::tungstenite::Message::Text("{not json".into())).await.expect("send");
    assert_eq!(next(&mut ws).await["code"], "invalid_frame");
    ws.send(tokio_tungstenite::tungstenite::Message::Binary(vec![1, 2, 3].into())).await.expect("send");
    assert_eq!(next(&mut ws).await["code"], "invalid_frame");

    // Live: the host's action reaches the bidder.
    ok(&host, &tender, json!({"op": "start_decryption"})).await;
    let e = next(&mut ws).await;
    assert_eq!(e["event"]["kind"], "decryption_started");
    let seen = e["event"]["seq"].as_i64().expect("seq");

    // Disconnected while others act, the bidder resumes from its last number: no gap, no repeat.
    ws.close(None).await.ok();
    ok(&s2.0.client, &tender, json!({"op": "release_key", "bid": s2.1.bid, "key": hex::encode([9u8; 32])})).await; // refused key, not for s1's eyes
    ok(&s2.0.client, &tender, release(&s2.1)).await;
    ok(&s1.0.client, &tender, release(&s1.1)).await;
    let mut ws = socket(&app, "supplier_1", &tender, seen).await;
    assert_eq!(next(&mut ws).await["type"], "hello");
    let mut got = Vec::new();
    for _ in 0..2 {
        got.push(next(&mut ws).await["event"].clone());
    }
    let kinds: Vec<&str> = got.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["key_accepted", "key_accepted"], "{got:?}");
    assert!(got[0]["seq"].as_i64() > Some(seen));
    // Then live again, in order (the third bidder lets its window pass).
    app.clock.advance(TimeDelta::minutes(31));
    ok(&host, &tender, json!({"op": "advance"})).await;
    let reading = next(&mut ws).await;
    assert_eq!(reading["event"]["kind"], "reading");
    assert_eq!(reading["event"]["seq"].as_i64(), got[1]["seq"].as_i64().map(|s| s + 1));

    // An oversized command is answered with an error frame and the connection stays usable;
    // a frame far beyond the limit ends the connection.
    let long = json!({"op": "note", "text": "x".repeat(20 * 1024)}).to_string();
    ws.send(tokio_tungstenite::tungstenite::Message::Text(long.into())).await.expect("send");
    assert_eq!(reply(&mut ws).await["code"], "frame_too_large");
    ws.send(tokio_tungstenite::tungstenite::Message::Text(json!({"op": "sign_in"}).to_string().into()))
        .await
        .expect("send");
    assert_eq!(reply(&mut ws).await["code"], "out_of_turn", "still connected, and signing in is over");
    let big = "x".repeat(128 * 1024);
    let _ = ws.send(tokio_tungstenite::tungstenite::Message::Text(big.into())).await;
    let end = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) => break true,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert_eq!(end.ok(), Some(true), "the connection ends after an oversized frame");
    // Someone without a part in the tender is refused before the upgrade.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let req = format!("ws://{}/api/v1/tenders/{tender}/opening/ws", app.addr).into_client_request().expect("req");
    assert!(tokio_tungstenite::connect_async(req).await.is_err(), "no session, no socket");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restarted_mid_window_carries_on_and_the_bidder_tool_releases_keys() {
    use crate::support::{ServerProcess, free_port};
    let mut app = crate::support::spawn_app().await;
    let tender = past_deadline_tender(&app).await;
    let dir = app.dir.path().to_path_buf();
    app.stop_server();
    let port = free_port();
    let vars = app.process_env(port);
    let mut server = ServerProcess::start(&vars, port, &dir).await;
    let host = crate::resumable::login_as(&server.base, "agency_x").await;
    ok(&host, &tender, json!({"op": "start_decryption"})).await;
    let release = |user: &str, base: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tenderhall"))
            .args(["bidder", "release-key", "--key", &format!("{user}.key"), "--envelope", &format!("{user}.env")])
            .args(["--server", base, "--user", user])
            .env("TENDERHALL_KEY_PASSPHRASE", "pass phrase 2026")
            .env("TENDERHALL_PASSWORD", crate::support::PASSWORD)
            .current_dir(&dir)
            .output()
            .expect("run");
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
    };
    let out = release("supplier_1", &server.base);
    assert!(out.contains("key_accepted"), "{out}");
    let before = host.get_json(&format!("/api/v1/tenders/{tender}/opening")).await;

    // The server dies in the middle of the window and comes back: the hall carries on.
    server.kill();
    let server = ServerProcess::start(&vars, port, &dir).await;
    let host = crate::resumable::login_as(&server.base, "agency_x").await;
    let after = host.get_json(&format!("/api/v1/tenders/{tender}/opening")).await;
    assert_eq!(after["phase"], "decryption");
    assert_eq!(after["window_ends_at"], before["window_ends_at"]);
    assert_eq!(after["last_seq"], before["last_seq"]);
    let out = release("supplier_2", &server.base);
    assert!(out.contains("key_accepted"), "{out}");
    expect_error(cmd(&host, &tender, json!({"op": "advance"})).await, 422, "window_open").await;
    let all = events(&host, &tender, 0).await;
    let seqs: Vec<i64> = all.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "numbered without gaps across the restart");
    assert_eq!(all.iter().filter(|e| e["kind"] == "key_accepted").count(), 2);
}

/// A tender whose deadline passed ten days ago by the real clock (which server processes keep),
/// with a bid from each fixture supplier; their key files (`<user>.key`, passphrase
/// "pass phrase 2026") and envelopes (`<user>.env`) are in the app's directory.
async fn past_deadline_tender(app: &TestApp) -> String {
    use tenderhall::bidder::KeyFile;
    // The tender's deadline passed ten days ago by the real clock, which the server process keeps.
    app.clock.set(chrono::Utc::now() - TimeDelta::days(40));
    let agency = Client::login(app, "agency_x").await;
    let tender = crate::tenders::published_tender(app, &agency).await;
    let dir = app.dir.path().to_path_buf();
    let mut envelopes = Vec::new();
    for (i, user) in ["supplier_1", "supplier_2", "supplier_3"].into_iter().enumerate() {
        let c = Client::login(app, user).await;
        assert_eq!(c.post_empty(&format!("/api/v1/tenders/{tender}/obtain")).await.status(), 204);
        let key = KeyFile::generate().expect("key");
        let r = c.post("/api/v1/me/bidder-keys", &json!({"public_key": B64.encode(&key.public_key)})).await;
        let key_id = r.json::<Value>().await.expect("json")["key_id"].as_str().expect("id").to_string();
        let lot = first_lot(&c, &tender).await;
        let t: Value =
            c.post_empty(&format!("/api/v1/tenders/{tender}/lots/{lot}/bids")).await.json().await.expect("ticket");
        let id = crate::bids::identity_of(&t);
        let mut form = BTreeMap::new();
        form.insert("total_price".to_string(), format!("{}.00", 3_600_000 + i));
        form.insert("delivery_days".to_string(), "30".to_string());
        let mut env = Vec::new();
        let (_, sig) = key.seal(&id, payload::pack(form, &[]).as_slice(), &mut env).expect("seal");
        let r = c
            .req(reqwest::Method::PUT, &format!("/api/v1/bids/{}/envelope", id.bid))
            .header("x-bidder-key", key_id)
            .header("x-bid-signature", sig)
            .body(env.clone())
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 201);
        std::fs::write(dir.join(format!("{user}.key")), key.to_json(Some("pass phrase 2026")).expect("json"))
            .expect("key");
        std::fs::write(dir.join(format!("{user}.env")), env).expect("env");
        envelopes.push(user);
    }
    // The hall opened at the deadline (the job ran before the server processes take over).
    app.clock.set(chrono::Utc::now());
    app.tick().await;
    tender
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_serve_one_hall() {
    use crate::support::{ServerProcess, free_port};
    let mut app = crate::support::spawn_app().await;
    let tender = past_deadline_tender(&app).await;
    app.stop_server();
    let (pa, pb) = (free_port(), free_port());
    let a = ServerProcess::start(&app.process_env(pa), pa, app.dir.path()).await;
    let b = ServerProcess::start(&app.process_env(pb), pb, app.dir.path()).await;

    // The bidder is connected to server A, the host to server B.
    let mut bidder_ws = socket_at(&a.base, "supplier_1", &tender, 0).await;
    assert_eq!(next(&mut bidder_ws).await["type"], "hello");
    assert_eq!(next(&mut bidder_ws).await["event"]["kind"], "opened");
    let mut host_ws = socket_at(&b.base, "agency_x", &tender, 0).await;
    assert_eq!(next(&mut host_ws).await["type"], "hello");
    assert_eq!(next(&mut host_ws).await["event"]["kind"], "opened");

    // What the host does on B reaches the bidder on A, and the other way round.
    host_ws
        .send(tokio_tungstenite::tungstenite::Message::Text(json!({"op": "start_decryption"}).to_string().into()))
        .await
        .expect("send");
    assert_eq!(next(&mut host_ws).await["type"], "ok");
    assert_eq!(next(&mut host_ws).await["event"]["kind"], "decryption_started");
    let e = next(&mut bidder_ws).await;
    assert_eq!(e["event"]["kind"], "decryption_started", "{e}");
    bidder_ws
        .send(tokio_tungstenite::tungstenite::Message::Text(json!({"op": "sign_in"}).to_string().into()))
        .await
        .expect("send");
    assert_eq!(next(&mut bidder_ws).await["type"], "ok");
    let signed = next(&mut bidder_ws).await;
    assert_eq!(signed["event"]["kind"], "signed_in");
    let seen = next(&mut host_ws).await;
    assert_eq!(seen["event"]["kind"], "signed_in", "{seen}");
    assert_eq!(seen["event"]["seq"], signed["event"]["seq"]);
    drop((a, b));
}

#[tokio::test]
async fn the_demo_plays_a_whole_opening_with_simulated_bidders() {
    let app = crate::support::TestApp::with_demo_data().await;
    // Every launch of the demo prepares a show; the one of a later launch is the one played.
    let dir = app.dir.path().join("opening");
    let first = tenderhall::demo::opening::prepare(&app.state, &dir).await.expect("first launch");
    // The first launch was stopped before its show began: the second plays it on.
    let mut earlier = tenderhall::demo::opening::unfinished(&app.state, &dir).await.expect("earlier shows");
    assert_eq!(earlier.iter().map(|s| s.tender).collect::<Vec<_>>(), vec![first.tender]);
    let mut show = tenderhall::demo::opening::prepare(&app.state, &dir).await.expect("second launch");
    show.pace = std::time::Duration::from_millis(5);
    let mut resumed = earlier.remove(0);
    resumed.pace = std::time::Duration::from_millis(5);
    let resumed_tender = resumed.tender;
    let resumed_task = tenderhall::demo::opening::spawn(app.state.clone(), resumed);
    let tender = show.tender;
    let key_file = std::fs::read_to_string(&show.key_file).expect("the newcomer's key file");
    assert!(tenderhall::bidder::KeyFile::from_json(&key_file, Some(tenderhall::demo::PASSWORD)).is_ok());
    let task = tenderhall::demo::opening::spawn(app.state.clone(), show);

    // The clock moves on only when the show has done what a phase needs, so the test is exact.
    let host =
        tenderhall::accounts::service::actor_by_username(&app.state.db, "agency").await.expect("db").expect("agency");
    app.clock.advance(TimeDelta::minutes(3) + TimeDelta::seconds(1));
    let mut done = false;
    for _ in 0..2000 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        // The jobs due by now run: the hall opens at the deadline, windows close when they end.
        app.tick().await;
        let Ok((h, _, _)) = app.state.openings.hall_state(&host, tender).await else {
            continue;
        };
        let events = app.state.openings.events(&host, tender, 0).await.expect("events");
        let count = |k: &str| events.iter().filter(|e| e.kind == k).count();
        match h.phase.as_str() {
            "decryption" if count("key_accepted") == 3 => app.clock.advance(TimeDelta::minutes(4)),
            "objections" if count("answer") == 1 => app.clock.advance(TimeDelta::minutes(2)),
            "closed" => {
                assert_eq!(count("signed_in"), 3);
                let reading = events.iter().find(|e| e.kind == "reading").expect("reading");
                assert_eq!(reading.data["bids"].as_array().map(Vec::len), Some(3));
                assert_eq!(
                    reading.data["not_opened"][0]["outcome"], "decrypt_failed",
                    "supplier1 is left to the newcomer"
                );
                assert_eq!(count("confirmed"), 3);
                done = true;
                break;
            }
            _ => {}
        }
    }
    assert!(done, "the show reached the end of the opening");
    task.await.expect("the show ends by itself");
    // The earlier launch's show is not left waiting in the hall: it reached an end too, and a
    // third launch has nothing left to play on.
    for _ in 0..2000 {
        if resumed_task.is_finished() {
            break;
        }
        app.clock.advance(TimeDelta::minutes(1));
        app.tick().await;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    resumed_task.await.expect("the earlier show ends by itself");
    let (h, _, _) = app.state.openings.hall_state(&host, resumed_tender).await.expect("earlier hall");
    assert!(matches!(h.phase.as_str(), "closed" | "failed"), "earlier show ended in {}", h.phase.as_str());
    assert!(tenderhall::demo::opening::unfinished(&app.state, &dir).await.expect("shows").is_empty());
}

async fn hall_state(c: &Client, tender: &str) -> Value {
    c.get_json(&format!("/api/v1/tenders/{tender}/opening")).await
}

fn time(v: &Value) -> chrono::DateTime<chrono::Utc> {
    v.as_str().unwrap_or_else(|| panic!("a time: {v}")).parse().expect("time")
}

#[tokio::test]
async fn the_sign_in_and_confirmation_windows_count_down_and_close_by_themselves() {
    let (app, tender, host, bidders) = hall(2).await;
    let (s1, s2, s3) = (&bidders[0].0.client, &bidders[1].0.client, &bidders[2].0.client);
    // The sign-in window runs from the hall's opening; the state and the opening event carry its
    // end, and the state the server's time to count down by.
    let h = hall_state(&host, &tender).await;
    assert_eq!(h["phase"], "sign_in");
    let ends = time(&h["window_ends_at"]);
    assert_eq!(ends - time(&h["server_time"]), TimeDelta::minutes(15));
    let opened = &events(&host, &tender, 0).await[0];
    assert_eq!(time(&opened["data"]["window_ends_at"]), ends);

    // Events name each bidder's organisation, and a bidder's state its own, so a page can tell
    // its own rows and actions apart; the host's state names none.
    let org1 = crate::support::org_id(&app, "供应商一有限公司").await.to_string();
    assert!(h["org"].is_null());
    assert_eq!(hall_state(s1, &tender).await["org"], org1.as_str());
    assert_eq!(opened["data"]["bids"][0]["org"], org1.as_str());
    ok(s1, &tender, json!({"op": "sign_in"})).await;
    let signed = events(&host, &tender, 0).await.pop().expect("event");
    assert_eq!((signed["kind"].as_str(), signed["data"]["org"].as_str()), (Some("signed_in"), Some(org1.as_str())));
    let mine = &hall_state(s1, &tender).await["my_bids"][0];
    assert_eq!((&mine["signed_in"], &mine["confirmed"]), (&json!(true), &json!(false)));

    // Nothing happens before the window ends; at its end the decryption starts by itself.
    app.clock.set(ends - TimeDelta::seconds(1));
    app.tick().await;
    assert_eq!(hall_state(&host, &tender).await["phase"], "sign_in");
    app.clock.set(ends);
    app.tick().await;
    let h = hall_state(&host, &tender).await;
    assert_eq!(h["phase"], "decryption");
    assert_eq!(time(&h["window_ends_at"]) - ends, TimeDelta::minutes(30));
    assert_eq!(events(&host, &tender, 0).await.pop().expect("event")["kind"], "decryption_started");
    assert_eq!(host.get_json(&format!("/api/v1/tenders/{tender}")).await["state"], "opening");
    // The host's start comes too late now; bidders may still sign in.
    expect_error(cmd(&host, &tender, json!({"op": "start_decryption"})).await, 409, "out_of_turn").await;
    ok(s2, &tender, json!({"op": "sign_in"})).await;

    for (b, sealed) in &bidders {
        ok(&b.client, &tender, release(sealed)).await;
    }
    let accepted = events(&host, &tender, 0).await.pop().expect("event");
    assert_eq!(accepted["kind"], "key_accepted");
    assert!(accepted["data"]["org"].as_str().is_some(), "{accepted}");
    ok(&host, &tender, json!({"op": "advance", "from": "decryption"})).await;
    let reading = events(&host, &tender, 0).await.into_iter().find(|e| e["kind"] == "reading").expect("reading");
    assert_eq!(reading["data"]["bids"][0]["org"], org1.as_str());
    // The objection window closes by itself; the confirmation window opens with its end.
    app.clock.advance(TimeDelta::minutes(10));
    app.tick().await;
    let h = hall_state(&host, &tender).await;
    assert_eq!(h["phase"], "confirmation");
    let confirm_ends = time(&h["window_ends_at"]);
    assert_eq!(confirm_ends - time(&h["server_time"]), TimeDelta::minutes(30));
    let started = events(&host, &tender, 0).await.pop().expect("event");
    assert_eq!(started["kind"], "confirmation_started");
    assert_eq!(time(&started["data"]["window_ends_at"]), confirm_ends);
    let digest = hex::decode(h["record_sha256"].as_str().expect("digest")).expect("hex");
    let signature = B64.encode(bidders[0].0.signing.sign(&SystemRandom::new(), &digest).expect("sign").as_ref());
    ok(s1, &tender, json!({"op": "confirm", "signature": signature})).await;
    let confirmed = events(&host, &tender, 0).await.pop().expect("event");
    assert_eq!(
        (confirmed["kind"].as_str(), confirmed["data"]["org"].as_str()),
        (Some("confirmed"), Some(org1.as_str()))
    );
    assert_eq!(hall_state(s1, &tender).await["my_bids"][0]["confirmed"], true);

    // At the confirmation window's end the opening closes by itself, naming who did not confirm.
    app.clock.set(confirm_ends - TimeDelta::seconds(1));
    app.tick().await;
    assert_eq!(hall_state(&host, &tender).await["phase"], "confirmation");
    app.clock.set(confirm_ends);
    app.tick().await;
    assert_eq!(hall_state(s3, &tender).await["phase"], "closed");
    let closed = events(&host, &tender, 0).await.pop().expect("event");
    assert_eq!(closed["data"]["unconfirmed"], json!(["供应商三有限公司", "供应商二有限公司"]));
    assert_eq!(host.get_json(&format!("/api/v1/tenders/{tender}")).await["state"], "evaluating");
    expect_error(cmd(&host, &tender, json!({"op": "advance"})).await, 409, "out_of_turn").await;
    let sup = Client::login(&app, "supervisor").await;
    assert_eq!(sup.get_json("/api/v1/audit/verify").await["problems"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn without_sign_in_and_confirmation_windows_the_host_moves_on() {
    let (app, tender, host, bidders) = hall_with(
        2,
        Box::new(|s| {
            s.opening.sign_in_minutes = 0;
            s.opening.confirm_minutes = 0;
        }),
    )
    .await;
    let h = hall_state(&host, &tender).await;
    assert_eq!(h["phase"], "sign_in");
    assert!(
        h["window_ends_at"].is_null() && events(&host, &tender, 0).await[0]["data"].get("window_ends_at").is_none()
    );
    // However long it waits, the sign-in stays open until the host starts the decryption.
    app.clock.advance(TimeDelta::hours(3));
    app.tick().await;
    assert_eq!(hall_state(&host, &tender).await["phase"], "sign_in");
    ok(&host, &tender, json!({"op": "start_decryption"})).await;
    for (b, sealed) in &bidders {
        ok(&b.client, &tender, release(sealed)).await;
    }
    ok(&host, &tender, json!({"op": "advance"})).await;
    app.clock.advance(TimeDelta::minutes(10));
    app.tick().await;
    let h = hall_state(&host, &tender).await;
    assert_eq!((h["phase"].as_str(), &h["window_ends_at"]), (Some("confirmation"), &Value::Null));
    app.clock.advance(TimeDelta::hours(3));
    app.tick().await;
    assert_eq!(hall_state(&host, &tender).await["phase"], "confirmation", "no window closes it");
    ok(&host, &tender, json!({"op": "advance"})).await;
    assert_eq!(hall_state(&host, &tender).await["phase"], "closed");
}
