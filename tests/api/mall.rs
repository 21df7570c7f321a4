//! The e-mall: agreements, catalogue search, direct purchases, quotations, orders, price
//! flags, reports, exports, and every refusal; the demo's reference figures.

use crate::client::{Client, expect_error};
use crate::support::{Options, TestApp, org_id, spawn_app, spawn_app_with};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use tenderhall::clock::Clock;

fn now(app: &TestApp) -> DateTime<Utc> {
    app.clock.now()
}

/// An agreement for a fixture supplier in `categories`, valid 30 days back to 60 ahead.
pub async fn agreement(app: &TestApp, centre: &Client, supplier: &str, categories: &[&str]) -> String {
    let r = centre
        .post(
            "/api/v1/mall/agreements",
            &json!({"title": format!("{supplier}协议供货"), "kind": "goods", "supplier": org_id(app, supplier).await,
                "categories": categories, "service_area": "全区",
                "valid_from": now(app) - TimeDelta::days(30), "valid_to": now(app) + TimeDelta::days(60)}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string()
}

/// A printer on `agreement` at `price` fen, `market` fen in the market.
pub async fn item(centre: &Client, agreement: &str, name: &str, model: &str, price: i64, market: i64) -> String {
    let r = centre
        .post(
            &format!("/api/v1/mall/agreements/{agreement}/items"),
            &json!({"category": "printers", "name": name, "brand": "惠普", "model": model, "spec": "A4",
                "unit": "台", "price": price, "market_price": market}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string()
}

/// A direct order of `qty` of `item` within `budget` fen.
pub async fn buy(client: &Client, item: &str, qty: i64, unit_price: Option<i64>, budget: i64) -> reqwest::Response {
    client
        .post(
            "/api/v1/mall/orders",
            &json!({"lines": [{"item": item, "quantity": qty, "unit_price": unit_price}], "budget": budget}),
        )
        .await
}

async fn step(client: &Client, order: &str, action: &str, note: &str) -> reqwest::Response {
    client
        .post(
            &format!("/api/v1/mall/orders/{order}/steps"),
            &json!({"action": action, "note": note, "inspector": "王验收"}),
        )
        .await
}

async fn search(client: &Client, q: &str) -> Value {
    client.get_json(&format!("/api/v1/mall/items?q={}", tenderhall::web::page::percent_encode(q))).await
}

#[tokio::test]
async fn agreements_are_set_up_by_the_centre_only_and_found_by_chinese_search() {
    let app = spawn_app().await;
    let centre = Client::login(&app, "centre_staff").await;
    let buyer = Client::login(&app, "buyer_a").await;
    let supplier = Client::login(&app, "supplier_1").await;
    let body = json!({"title": "协议", "kind": "goods", "supplier": org_id(&app, "供应商一有限公司").await,
        "categories": ["printers"], "service_area": "全区", "valid_from": now(&app), "valid_to": now(&app) + TimeDelta::days(9)});
    expect_error(buyer.post("/api/v1/mall/agreements", &body).await, 403, "centre_only").await;
    expect_error(supplier.post("/api/v1/mall/agreements", &body).await, 403, "centre_only").await;
    let mut bad = body.clone();
    bad["valid_to"] = json!(now(&app) - TimeDelta::days(1));
    bad["categories"] = json!(["printers", "vehicle_repair", "nonsense"]);
    let err = expect_error(centre.post("/api/v1/mall/agreements", &bad).await, 422, "validation_failed").await;
    let fields: Vec<String> = err["error"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| format!("{}:{}", f["field"].as_str().unwrap_or(""), f["code"].as_str().unwrap_or("")))
        .collect();
    assert!(fields.contains(&"valid_to:before_start".into()), "{fields:?}");
    assert!(fields.contains(&"categories:wrong_kind".into()), "{fields:?}");
    assert!(fields.contains(&"categories:unknown".into()), "{fields:?}");

    let a = agreement(&app, &centre, "供应商一有限公司", &["printers", "furniture"]).await;
    let printer = item(&centre, &a, "黑白激光打印机", "M404dn", 259_900, 289_900).await;
    let r = centre
        .post(
            &format!("/api/v1/mall/agreements/{a}/items"),
            &json!({"category": "paper", "name": "复印纸", "brand": "得力",
            "model": "A4", "unit": "箱", "price": 16_500, "market_price": 17_800}),
        )
        .await;
    expect_error(r, 422, "validation_failed").await;
    let chair = centre
        .post(
            &format!("/api/v1/mall/agreements/{a}/items"),
            &json!({"category": "furniture", "name": "人体工学办公椅", "brand": "震旦",
            "model": "CHA-2101", "unit": "把", "price": 89_900, "market_price": 108_000}),
        )
        .await;
    assert_eq!(chair.status(), 201);
    let chair: Value = chair.json().await.expect("json");
    centre
        .post(
            &format!("/api/v1/mall/agreements/{a}/items"),
            &json!({"category": "furniture", "name": "办公桌", "brand": "震旦",
            "model": "DSK-1400", "unit": "张", "price": 129_000, "market_price": 145_000}),
        )
        .await;

    // Anyone may search, without logging in.
    let anon = Client::anonymous(&app).await;
    let found = search(&anon, "打印机").await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["id"], printer);
    assert_eq!(found["items"][0]["price"], 259_900);
    let found = search(&anon, "办公椅").await;
    assert_eq!(found["total"], 1, "办公椅 finds the chair, not the desk: {found}");
    assert_eq!(found["items"][0]["id"], chair["id"]);
    assert_eq!(search(&anon, "M404").await["total"], 1, "a model's beginning finds it");
    assert_eq!(search(&anon, "扫描仪").await["total"], 0);
    let filtered = anon.get_json("/api/v1/mall/items?category=furniture&max_price=1000").await;
    assert_eq!(filtered["total"], 1, "{filtered}");
    let r = anon.get("/api/v1/mall/items?min_price=abc").await;
    expect_error(r, 422, "validation_failed").await;
    let r = anon.get("/api/v1/mall/items?category=nope").await;
    expect_error(r, 422, "validation_failed").await;
    let long = "打".repeat(500);
    expect_error(
        anon.get(&format!("/api/v1/mall/items?q={}", tenderhall::web::page::percent_encode(&long))).await,
        422,
        "validation_failed",
    )
    .await;

    // Suspended: nothing sells, nothing is found; resumed: back again.
    expect_error(
        centre.post(&format!("/api/v1/mall/agreements/{a}/suspend"), &json!({"reason": ""})).await,
        422,
        "validation_failed",
    )
    .await;
    let r = centre.post(&format!("/api/v1/mall/agreements/{a}/suspend"), &json!({"reason": "质量投诉核查中"})).await;
    assert_eq!(r.status(), 204);
    assert_eq!(search(&anon, "打印机").await["total"], 0);
    expect_error(buy(&buyer, &printer, 1, None, 300_000).await, 422, "agreement_suspended").await;
    let detail = anon.get_json(&format!("/api/v1/mall/agreements/{a}")).await;
    assert_eq!(detail["agreement"]["status_reason"], Value::Null, "the reason is not public");
    let detail = supplier.get_json(&format!("/api/v1/mall/agreements/{a}")).await;
    assert_eq!(detail["agreement"]["status_reason"], "质量投诉核查中");
    expect_error(
        centre.post(&format!("/api/v1/mall/agreements/{a}/suspend"), &json!({"reason": "再次"})).await,
        409,
        "wrong_state",
    )
    .await;
    assert_eq!(centre.post_empty(&format!("/api/v1/mall/agreements/{a}/resume")).await.status(), 204);
    assert_eq!(search(&anon, "打印机").await["total"], 1);

    // Expired: after its validity the agreement sells nothing.
    app.clock.set(now(&app) + TimeDelta::days(61));
    let buyer = Client::login(&app, "buyer_a").await;
    assert_eq!(search(&anon, "打印机").await["total"], 0);
    assert_eq!(anon.get_json("/api/v1/mall/items?q=%E6%89%93%E5%8D%B0%E6%9C%BA&all=true").await["total"], 1);
    expect_error(buy(&buyer, &printer, 1, None, 300_000).await, 422, "agreement_expired").await;
}

#[tokio::test]
async fn direct_purchase_refusals_and_the_whole_order_life() {
    let app = spawn_app().await;
    let centre = Client::login(&app, "centre_staff").await;
    let a = agreement(&app, &centre, "供应商一有限公司", &["printers"]).await;
    let printer = item(&centre, &a, "黑白激光打印机", "M404dn", 259_900, 289_900).await;
    let buyer = Client::login(&app, "buyer_a").await;
    let other_buyer = Client::login(&app, "buyer_b").await;
    let supplier = Client::login(&app, "supplier_1").await;
    let other_supplier = Client::login(&app, "supplier_2").await;

    expect_error(buy(&supplier, &printer, 1, None, 300_000).await, 403, "buyers_only").await;
    expect_error(buy(&buyer, &printer, 1, Some(260_000), 300_000).await, 422, "above_agreement_price").await;
    // Default limits: direct purchase up to 50,000 元, the e-mall up to 1,000,000 元.
    expect_error(buy(&buyer, &printer, 10, None, 5_000_001).await, 422, "over_direct_purchase_limit").await;
    expect_error(buy(&buyer, &printer, 10, None, 100_000_001).await, 422, "over_small_purchase_ceiling").await;
    expect_error(buy(&buyer, &printer, 2, None, 500_000).await, 422, "over_budget").await;
    expect_error(buy(&buyer, &printer, 0, None, 500_000).await, 422, "validation_failed").await;
    expect_error(buy(&buyer, &uuid::Uuid::new_v4().to_string(), 1, None, 500_000).await, 422, "validation_failed")
        .await;
    let r = buyer
        .req(reqwest::Method::POST, "/api/v1/mall/orders")
        .header("content-type", "application/json")
        .body("{\"lines\": [")
        .send()
        .await
        .expect("send");
    expect_error(r, 400, "json_malformed").await;
    let r =
        buyer.post("/api/v1/mall/orders", &json!({"lines": [{"item": printer, "quantity": 1}], "budget": 12.5})).await;
    expect_error(r, 422, "json_invalid").await;

    // 2 × 2,500.00 within a budget of 5,600.00: saves 600.00, 10.71 %.
    let r = buy(&buyer, &printer, 2, Some(250_000), 560_000).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let order: Value = r.json().await.expect("json");
    let id = order["id"].as_str().expect("id").to_string();
    assert_eq!(order["status"], "submitted");
    assert_eq!(order["savings"]["deal"], 500_000);
    assert_eq!(order["saved"], 60_000);
    assert_eq!(order["savings_rate"], "10.71");
    assert_eq!(order["lines"][0]["agreement_price"], 259_900);
    assert_eq!(order["actions"], json!(["cancel"]));

    // Only the two parties (and overseers) see it.
    expect_error(other_buyer.get(&format!("/api/v1/mall/orders/{id}")).await, 404, "not_found").await;
    expect_error(other_supplier.get(&format!("/api/v1/mall/orders/{id}")).await, 404, "not_found").await;
    expect_error(step(&other_supplier, &id, "confirm", "").await, 404, "not_found").await;
    assert_eq!(other_buyer.get_json("/api/v1/mall/orders").await["total"], 0);
    assert_eq!(supplier.get_json("/api/v1/mall/orders").await["total"], 1);
    let supervisor = Client::login(&app, "supervisor").await;
    supervisor.get_json(&format!("/api/v1/mall/orders/{id}")).await;
    expect_error(step(&supervisor, &id, "cancel", "监督").await, 403, "not_a_party").await;

    // Each side takes only its own steps, in order.
    expect_error(step(&buyer, &id, "confirm", "").await, 403, "not_your_step").await;
    expect_error(step(&supplier, &id, "deliver", "").await, 409, "wrong_state").await;
    expect_error(step(&supplier, &id, "request_adjustment", "").await, 422, "validation_failed").await;
    let v: Value =
        step(&supplier, &id, "request_adjustment", "该型号缺货，建议改为 M405dn").await.json().await.expect("json");
    assert_eq!(v["status"], "adjustment_requested");
    let v: Value = step(&buyer, &id, "resubmit", "同意延后一周送货").await.json().await.expect("json");
    assert_eq!(v["status"], "submitted");
    assert_eq!(step(&supplier, &id, "confirm", "").await.status(), 200);
    expect_error(step(&buyer, &id, "accept", "").await, 409, "wrong_state").await;
    assert_eq!(step(&supplier, &id, "deliver", "已送达").await.status(), 200);
    expect_error(step(&buyer, &id, "cancel", "不要了").await, 409, "wrong_state").await;
    let r = buyer
        .post(&format!("/api/v1/mall/orders/{id}/steps"), &json!({"action": "accept", "note": "", "inspector": ""}))
        .await;
    expect_error(r, 422, "validation_failed").await;
    let v: Value = step(&buyer, &id, "accept", "外观完好，运行正常").await.json().await.expect("json");
    assert_eq!(v["status"], "accepted");
    assert_eq!(v["acceptance"]["inspector"], "王验收");
    expect_error(step(&buyer, &id, "pay", "").await, 422, "validation_failed").await;
    let v: Value = step(&buyer, &id, "pay", "国库集中支付凭证 0001").await.json().await.expect("json");
    assert_eq!(v["status"], "paid");
    assert_eq!(v["actions"], json!([]));
    let actions: Vec<&str> =
        v["steps"].as_array().expect("steps").iter().map(|s| s["action"].as_str().unwrap_or("")).collect();
    assert_eq!(actions, ["submit", "request_adjustment", "resubmit", "confirm", "deliver", "accept", "pay"]);

    // Each step told the other side.
    let notes = supplier.get_json("/api/v1/notifications").await;
    let kinds: Vec<&str> = notes.as_array().expect("list").iter().map(|n| n["kind"].as_str().unwrap_or("")).collect();
    for k in ["order_submitted", "order_resubmit", "order_accept", "order_pay"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    // A cancellation before delivery needs a reason and is the end.
    let r = buy(&buyer, &printer, 1, None, 300_000).await;
    let second: Value = r.json().await.expect("json");
    let second = second["id"].as_str().expect("id");
    expect_error(step(&supplier, second, "cancel", "").await, 422, "validation_failed").await;
    assert_eq!(step(&supplier, second, "cancel", "无法按期供货").await.status(), 200);
    expect_error(step(&supplier, second, "confirm", "").await, 409, "wrong_state").await;

    // The audit chain holds every step and verifies.
    let audit = supervisor.get_json("/api/v1/audit/verify").await;
    assert_eq!(audit["problems"], json!([]), "{audit}");
}

#[tokio::test]
async fn quotations_take_quotes_only_from_agreement_holders_and_award_the_lowest() {
    let app =
        spawn_app_with(Options { settings: Some(Box::new(|s| s.mall.min_quotes = 2)), ..Default::default() }).await;
    let centre = Client::login(&app, "centre_staff").await;
    agreement(&app, &centre, "供应商一有限公司", &["printers"]).await;
    agreement(&app, &centre, "供应商二有限公司", &["printers"]).await;
    agreement(&app, &centre, "供应商三有限公司", &["furniture"]).await;
    let buyer = Client::login(&app, "buyer_a").await;
    let s1 = Client::login(&app, "supplier_1").await;
    let s2 = Client::login(&app, "supplier_2").await;
    let s3 = Client::login(&app, "supplier_3").await;
    let body = json!({"category": "printers", "title": "采购激光打印机10台", "requirement": "A4 黑白激光 双面",
        "quantity": 10, "unit": "台", "budget": 3_000_000, "hours": 2});
    expect_error(s1.post("/api/v1/mall/quotations", &body).await, 403, "buyers_only").await;
    let mut over = body.clone();
    over["budget"] = json!(100_000_100);
    expect_error(buyer.post("/api/v1/mall/quotations", &over).await, 422, "over_small_purchase_ceiling").await;
    let mut bad = body.clone();
    bad["hours"] = json!(1000);
    expect_error(buyer.post("/api/v1/mall/quotations", &bad).await, 422, "validation_failed").await;
    let r = buyer.post("/api/v1/mall/quotations", &body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let q: Value = r.json().await.expect("json");
    let id = q["id"].as_str().expect("id").to_string();
    let quote = |price: i64| json!({"unit_price": price, "brand": "惠普", "model": "M404dn", "note": "三年保修"});
    let path = format!("/api/v1/mall/quotations/{id}/quote");

    expect_error(s3.put(&path, &quote(200_000)).await, 403, "no_agreement_in_category").await;
    expect_error(buyer.put(&path, &quote(200_000)).await, 403, "suppliers_only").await;
    expect_error(s1.put(&path, &quote(300_001)).await, 422, "quote_over_budget").await;
    assert_eq!(s1.put(&path, &quote(260_000)).await.status(), 200);
    assert_eq!(s1.put(&path, &quote(255_000)).await.status(), 200, "a quote may be replaced");
    assert_eq!(s2.put(&path, &quote(249_900)).await.status(), 200);

    // While open, nobody sees the others' prices.
    let v = buyer.get_json(&format!("/api/v1/mall/quotations/{id}")).await;
    assert_eq!(v["quote_count"], 2);
    assert_eq!(v["quotes"], json!([]));
    let v = s1.get_json(&format!("/api/v1/mall/quotations/{id}")).await;
    assert_eq!(v["my_quote"]["total"], 2_550_000);
    assert_eq!(v["quotes"], json!([]));
    expect_error(s3.get(&format!("/api/v1/mall/quotations/{id}")).await, 404, "not_found").await;

    // After the window: the lowest compliant quote wins and becomes an order.
    app.clock.set(now(&app) + TimeDelta::hours(2));
    app.tick().await;
    let (buyer, s1, s2) = (
        Client::login(&app, "buyer_a").await,
        Client::login(&app, "supplier_1").await,
        Client::login(&app, "supplier_2").await,
    );
    expect_error(s1.put(&path, &quote(100_000)).await, 422, "quotation_closed").await;
    let v = buyer.get_json(&format!("/api/v1/mall/quotations/{id}")).await;
    assert_eq!(v["status"], "awarded", "{v}");
    assert_eq!(v["quotes"][0]["total"], 2_499_000);
    assert_eq!(v["quotes"][0]["winner"], true);
    assert_eq!(v["quotes"][1]["winner"], false);
    let order = buyer.get_json(&format!("/api/v1/mall/orders/{}", v["order_id"].as_str().expect("order"))).await;
    assert_eq!(order["kind"], "quotation");
    assert_eq!(order["supplier"], "供应商二有限公司");
    assert_eq!(order["savings"]["budget"], 3_000_000);
    assert_eq!(order["saved"], 501_000);
    assert_eq!(order["savings_rate"], "16.70");
    // Each quoter learns its own result once, the unit the award; the supplier without an
    // agreement in the category hears nothing.
    let of_kind = |list: Value, kind: &str| -> Vec<Value> {
        list.as_array().expect("list").iter().filter(|n| n["kind"] == kind).cloned().collect()
    };
    let won = of_kind(s2.get_json("/api/v1/notifications?lang=zh-CN").await, "quotation_result");
    assert_eq!(won.len(), 1, "{won:?}");
    assert!(won[0]["text"].as_str().is_some_and(|t| t.contains("贵单位成交") && t.contains("24,990.00")), "{won:?}");
    let lost = of_kind(s1.get_json("/api/v1/notifications?lang=en").await, "quotation_result");
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert!(lost[0]["text"].as_str().is_some_and(|t| t.contains("did not win")), "{lost:?}");
    let s3 = Client::login(&app, "supplier_3").await;
    assert!(of_kind(s3.get_json("/api/v1/notifications").await, "quotation_result").is_empty());
    let unit = buyer.get_json("/api/v1/notifications").await;
    assert_eq!(of_kind(unit.clone(), "quotation_awarded").len(), 1, "{unit}");
    assert!(of_kind(unit, "quotation_result").is_empty());
    expect_error(step(&s1, order["id"].as_str().expect("id"), "confirm", "").await, 404, "not_found").await;
    assert_eq!(step(&s2, order["id"].as_str().expect("id"), "confirm", "").await.status(), 200);

    // Too few quotes: it fails with the reason.
    let r = buyer.post("/api/v1/mall/quotations", &body).await;
    let q2: Value = r.json().await.expect("json");
    let id2 = q2["id"].as_str().expect("id");
    assert_eq!(s1.put(&format!("/api/v1/mall/quotations/{id2}/quote"), &quote(250_000)).await.status(), 200);
    app.clock.set(now(&app) + TimeDelta::hours(3));
    app.tick().await;
    let buyer = Client::login(&app, "buyer_a").await;
    let v = buyer.get_json(&format!("/api/v1/mall/quotations/{id2}")).await;
    assert_eq!(v["status"], "failed");
    assert!(v["fail_reason"].as_str().expect("reason").starts_with("too_few_quotes"), "{v}");
    assert_eq!(v["order_id"], Value::Null);
    // Cancelling: only an open one, only by its unit, with a reason.
    let r = buyer.post("/api/v1/mall/quotations", &body).await;
    let q3: Value = r.json().await.expect("json");
    let id3 = q3["id"].as_str().expect("id");
    let other = Client::login(&app, "buyer_b").await;
    expect_error(
        other.post(&format!("/api/v1/mall/quotations/{id3}/cancel"), &json!({"reason": "x"})).await,
        404,
        "not_found",
    )
    .await;
    expect_error(
        buyer.post(&format!("/api/v1/mall/quotations/{id3}/cancel"), &json!({"reason": ""})).await,
        422,
        "validation_failed",
    )
    .await;
    let v: Value = buyer
        .post(&format!("/api/v1/mall/quotations/{id3}/cancel"), &json!({"reason": "需求取消"}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(v["status"], "cancelled");
    expect_error(
        buyer.post(&format!("/api/v1/mall/quotations/{id2}/cancel"), &json!({"reason": "x"})).await,
        409,
        "wrong_state",
    )
    .await;
}

#[tokio::test]
async fn prices_are_monitored_and_flags_resolved_by_the_centre() {
    let app = spawn_app().await;
    let centre = Client::login(&app, "centre_staff").await;
    let a = agreement(&app, &centre, "供应商一有限公司", &["printers"]).await;
    let above = item(&centre, &a, "彩色激光打印机", "M255dw", 350_000, 329_900).await;
    let printer = item(&centre, &a, "黑白激光打印机", "M404dn", 200_000, 289_900).await;
    let s1 = Client::login(&app, "supplier_1").await;
    let s2 = Client::login(&app, "supplier_2").await;
    let path = format!("/api/v1/mall/items/{printer}/price");
    expect_error(s2.put(&path, &json!({"price": 210_000})).await, 403, "not_your_item").await;
    expect_error(s1.put(&path, &json!({"price": 0})).await, 422, "validation_failed").await;
    // +10 % exactly is not flagged; +10.005 % is.
    assert_eq!(s1.put(&path, &json!({"price": 220_000})).await.status(), 200);
    assert_eq!(s1.put(&path, &json!({"price": 242_011})).await.status(), 200);
    let flags = centre.get_json("/api/v1/mall/price-flags").await;
    let kinds: Vec<(String, String)> = flags
        .as_array()
        .expect("list")
        .iter()
        .map(|f| (f["kind"].as_str().unwrap_or("").into(), f["item_id"].as_str().unwrap_or("").into()))
        .collect();
    assert_eq!(kinds.len(), 2, "{flags}");
    assert!(kinds.contains(&("above_market".into(), above.clone())));
    assert!(kinds.contains(&("raised".into(), printer.clone())));
    let raised = flags.as_array().expect("list").iter().find(|f| f["kind"] == "raised").expect("raised");
    assert_eq!(raised["reference"], 220_000);
    assert_eq!(raised["excess_percent"], "10.01");
    let history = Client::anonymous(&app).await.get_json(&format!("/api/v1/mall/items/{printer}")).await;
    let prices: Vec<i64> =
        history["history"].as_array().expect("h").iter().map(|p| p["price"].as_i64().unwrap_or(0)).collect();
    assert_eq!(prices, [200_000, 220_000, 242_011]);

    let buyer = Client::login(&app, "buyer_a").await;
    expect_error(buyer.get("/api/v1/mall/price-flags").await, 403, "centre_only").await;
    let supervisor = Client::login(&app, "supervisor").await;
    assert_eq!(supervisor.get_json("/api/v1/mall/price-flags").await.as_array().map(Vec::len), Some(2));
    let fid = raised["id"].as_str().expect("id");
    expect_error(
        supervisor.post(&format!("/api/v1/mall/price-flags/{fid}/resolve"), &json!({"note": "x"})).await,
        403,
        "centre_only",
    )
    .await;
    expect_error(
        centre.post(&format!("/api/v1/mall/price-flags/{fid}/resolve"), &json!({"note": ""})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        centre
            .post(&format!("/api/v1/mall/price-flags/{fid}/resolve"), &json!({"note": "原材料涨价，已核实"}))
            .await
            .status(),
        204
    );
    expect_error(
        centre.post(&format!("/api/v1/mall/price-flags/{fid}/resolve"), &json!({"note": "again"})).await,
        409,
        "already_resolved",
    )
    .await;
    assert_eq!(centre.get_json("/api/v1/mall/price-flags").await.as_array().map(Vec::len), Some(1));
    assert_eq!(centre.get_json("/api/v1/mall/price-flags?all=true").await.as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn money_is_exact_through_orders_reports_and_exports() {
    let app = spawn_app().await;
    let centre = Client::login(&app, "centre_staff").await;
    let a = agreement(&app, &centre, "供应商一有限公司", &["printers"]).await;
    let cheap = item(&centre, &a, "打印机清洁套装", "K-1", 3_333, 3_500).await;
    let buyer = Client::login(&app, "buyer_a").await;
    let supplier = Client::login(&app, "supplier_1").await;
    // 3 × 33.33 = 99.99 against a budget of 100.00: saves 0.01, a rate of 0.01 %.
    let o1: Value = buy(&buyer, &cheap, 3, None, 10_000).await.json().await.expect("json");
    assert_eq!(o1["savings"]["deal"], 9_999);
    assert_eq!(o1["saved"], 1);
    assert_eq!(o1["savings_rate"], "0.01");
    // 7 × 0.01 = 0.07 against 0.08: 12.5 % rounds half up to 12.50; 1 fen against 3 fen: 33.33 %.
    let penny = item(&centre, &a, "打印测试页", "P-1", 1, 2).await;
    let o2: Value = buy(&buyer, &penny, 7, None, 8).await.json().await.expect("json");
    assert_eq!(o2["savings_rate"], "12.50");
    let o3: Value = buy(&buyer, &penny, 2, None, 3).await.json().await.expect("json");
    assert_eq!(o3["savings_rate"], "33.33");
    // Overflowing amounts are refused, not wrapped.
    let r = buy(&buyer, &cheap, 1_000_000, None, 5_000_000).await;
    expect_error(r, 422, "over_budget").await;
    let r = centre
        .post(
            &format!("/api/v1/mall/agreements/{a}/items"),
            &json!({"category": "printers", "name": "巨额商品", "brand": "惠普", "model": "H-0", "unit": "台",
                "price": i64::MAX / 2, "market_price": i64::MAX / 2}),
        )
        .await;
    let err = expect_error(r, 422, "validation_failed").await;
    assert_eq!(err["error"]["message"], "price: too_large, market_price: too_large");
    // At the bound an item is accepted, and a quantity whose total would overflow is refused.
    let max = tenderhall::money::Money::MAX.fen();
    let huge = item(&centre, &a, "巨额商品", "H-1", max, max).await;
    let err = expect_error(buy(&buyer, &huge, 1_000_000, None, 100).await, 422, "validation_failed").await;
    assert_eq!(err["error"]["message"], "quantity: out_of_range");

    for o in [&o1, &o2, &o3] {
        assert_eq!(step(&supplier, o["id"].as_str().expect("id"), "confirm", "").await.status(), 200);
    }
    // An unconfirmed order is not a deal.
    buy(&buyer, &cheap, 1, None, 5_000).await;
    let day = now(&app).with_timezone(&tenderhall::web::cst()).date_naive();
    let q = format!("from={day}&to={day}&group=unit");
    let report = buyer.get_json(&format!("/api/v1/mall/reports/savings?{q}")).await;
    assert_eq!(report["mall_total"]["count"], 3);
    assert_eq!(report["mall_total"]["savings"]["budget"], 10_011);
    assert_eq!(report["mall_total"]["savings"]["deal"], 10_008);
    assert_eq!(report["mall_total"]["saved"], 3);
    assert_eq!(report["mall_total"]["rate"], "0.03");
    assert_eq!(report["scope"], "甲采购单位");
    assert_eq!(report["suppliers"], Value::Null, "supplier statistics are the centre's");
    // Another unit sees none of it; the centre sees it all, with the supplier statistics.
    let other = Client::login(&app, "buyer_b").await;
    assert_eq!(other.get_json(&format!("/api/v1/mall/reports/savings?{q}")).await["mall_total"]["count"], 0);
    let all = centre.get_json(&format!("/api/v1/mall/reports/savings?from={day}&to={day}&group=supplier")).await;
    assert_eq!(all["mall_rows"][0]["label"], "供应商一有限公司");
    assert!(all["suppliers"]["total"].as_u64().expect("total") >= 3);
    let expert = Client::login(&app, "expert").await;
    expect_error(expert.get(&format!("/api/v1/mall/reports/savings?{q}")).await, 403, "forbidden").await;
    expect_error(buyer.get("/api/v1/mall/reports/savings?from=2026-13-01").await, 422, "validation_failed").await;
    expect_error(
        buyer.get("/api/v1/mall/reports/savings?from=2026-05-01&to=2026-04-01").await,
        422,
        "validation_failed",
    )
    .await;

    let csv = buyer.get(&format!("/api/v1/mall/reports/savings.csv?{q}")).await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap_or("").starts_with("text/csv"));
    let text = csv.text().await.expect("text");
    assert!(text.starts_with('\u{feff}'), "a BOM for spreadsheet programs");
    assert!(text.contains("甲采购单位,3,100.11,100.08,0.03,0.03,0.0100,0.0100"), "{text}");
    let xlsx = buyer.get(&format!("/api/v1/mall/reports/savings.xlsx?{q}")).await;
    assert_eq!(xlsx.status(), 200);
    let bytes = xlsx.bytes().await.expect("bytes");
    assert_eq!(&bytes[..2], b"PK", "an XLSX is a zip file");
    assert!(bytes.len() > 2_000);
    let sheet = xlsx_part(&bytes, "xl/worksheets/sheet1.xml");
    // The rate (0.03 %) and the 万元 figures (0.0100) are numbers, not text.
    for number in ["<v>0.03</v>", "<v>0.01</v>"] {
        assert!(sheet.contains(number), "{number} in {sheet}");
    }
    let strings = xlsx_part(&bytes, "xl/sharedStrings.xml");
    assert!(!strings.contains(">0.0100<") && !strings.contains(">0.03<"), "{strings}");
    assert!(strings.contains("节支率（%）") && strings.contains("按采购单位"), "{strings}");

    // In English the headers and the breakdown are English; the figures are the same.
    let csv_en = buyer.get(&format!("/api/v1/mall/reports/savings.csv?{q}&lang=en")).await.text().await.expect("text");
    assert!(csv_en.contains("By procuring unit,Deals / projects,Budget (yuan)"), "{csv_en}");
    assert!(csv_en.contains("甲采购单位,3,100.11,100.08,0.03,0.03,0.0100,0.0100"), "{csv_en}");
    assert!(!csv_en.contains("笔数"), "{csv_en}");
    let csv_zh = text;
    assert!(csv_zh.contains("按采购单位,笔数/项目数,预算（元）"), "{csv_zh}");
    let xlsx_en =
        buyer.get(&format!("/api/v1/mall/reports/savings.xlsx?{q}&lang=en")).await.bytes().await.expect("bytes");
    assert!(xlsx_part(&xlsx_en, "xl/sharedStrings.xml").contains("Savings rate (%)"));
}

/// One part of an XLSX file, as text.
fn xlsx_part(bytes: &[u8], name: &str) -> String {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let mut part = zip.by_name(name).expect(name);
    let mut text = String::new();
    part.read_to_string(&mut text).expect("utf-8");
    text
}

#[tokio::test]
async fn centralized_procurement_results_are_recorded_by_the_centre() {
    let app = spawn_app().await;
    let centre = Client::login(&app, "centre_staff").await;
    let unit = org_id(&app, "甲采购单位").await;
    let body = json!({"code": "JC2026-001", "title": "办公家具集中采购", "procuring_org": unit, "category": "furniture",
        "method": "公开招标", "budget": 14_701_801_900i64, "award": 13_912_728_300i64, "supplier_name": "某家具公司",
        "awarded_at": now(&app) - TimeDelta::days(1)});
    let buyer = Client::login(&app, "buyer_a").await;
    expect_error(buyer.post("/api/v1/procurement/results", &body).await, 403, "centre_only").await;
    let mut future = body.clone();
    future["awarded_at"] = json!(now(&app) + TimeDelta::days(1));
    expect_error(centre.post("/api/v1/procurement/results", &future).await, 422, "validation_failed").await;
    assert_eq!(centre.post("/api/v1/procurement/results", &body).await.status(), 201);
    expect_error(centre.post("/api/v1/procurement/results", &body).await, 409, "code_taken").await;
    let report = centre.get_json("/api/v1/mall/reports/savings?group=category").await;
    assert_eq!(report["central_total"]["count"], 1);
    assert_eq!(report["central_total"]["saved"], 789_073_600);
    assert_eq!(report["central_total"]["rate"], "5.37");
    assert_eq!(report["central_rows"][0]["label"], "办公家具");
}

/// 万元 with up to four decimals as exact fen ("27042.03" → 27,042,030,000).
fn wan_to_fen(s: &str) -> i64 {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let frac = format!("{frac:0<4}");
    int.parse::<i64>().expect("int") * 1_000_000 + frac.parse::<i64>().expect("frac") * 100
}

fn decimals(s: &str) -> u32 {
    s.split_once('.').map(|(_, f)| f.len() as u32).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_reproduces_the_reference_figures_exactly() {
    let app = spawn_app_with(Options { empty: true, ..Default::default() }).await;
    assert!(tenderhall::demo::seed(&app.state).await.expect("demo data"));
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/reference-figures.toml"))
        .expect("fixture");
    let fx: toml::Value = toml::from_str(&text).expect("toml");
    let (c, m) = (&fx["centralized_procurement"], &fx["emall"]);
    let s = |v: &toml::Value| v.as_str().expect("string").to_string();

    let mut supervisor = Client::anonymous(&app).await;
    let r = supervisor
        .post("/api/v1/session", &json!({"username": "supervisor", "password": tenderhall::demo::PASSWORD}))
        .await;
    assert_eq!(r.status(), 200);
    supervisor.csrf = r.json::<Value>().await.expect("json")["csrf_token"].as_str().expect("csrf").into();
    let report = supervisor.get_json("/api/v1/mall/reports/savings?from=2022-01-01&to=2022-10-31&group=month").await;

    let central = &report["central_total"];
    assert_eq!(central["count"].as_i64(), c["projects"].as_integer());
    assert_eq!(central["savings"]["budget"].as_i64(), Some(wan_to_fen(&s(&c["budget_wan"]))));
    assert_eq!(central["savings"]["deal"].as_i64(), Some(wan_to_fen(&s(&c["award_wan"]))));
    assert_eq!(central["saved"].as_i64(), Some(wan_to_fen(&s(&c["savings_wan"]))));
    let rate = s(&c["savings_rate_percent"]);
    assert_eq!(central["rate"], rate, "two decimals, as published");

    let mall = &report["mall_total"];
    assert_eq!(mall["count"].as_i64(), m["deals"].as_integer());
    assert_eq!(mall["savings"]["budget"].as_i64(), Some(wan_to_fen(&s(&m["budget_wan"]))));
    assert_eq!(mall["savings"]["deal"].as_i64(), Some(wan_to_fen(&s(&m["deal_wan"]))));
    assert_eq!(mall["saved"].as_i64(), Some(wan_to_fen(&s(&m["savings_wan"]))));
    // The report shows two decimals (8.61); the published figure has one (8.6).
    let rate = s(&m["savings_rate_percent"]);
    let savings = tenderhall::mall::model::Savings {
        budget: tenderhall::money::Money::from_fen(mall["savings"]["budget"].as_i64().expect("budget")),
        deal: tenderhall::money::Money::from_fen(mall["savings"]["deal"].as_i64().expect("deal")),
    };
    assert_eq!(savings.rate_percent(decimals(&rate)), rate);
    assert_eq!(mall["rate"], savings.rate_percent(2));
    assert_eq!(report["mall_months"].as_array().map(Vec::len), Some(10));

    let sup = &report["suppliers"];
    assert_eq!(sup["new"].as_i64(), m["suppliers_new"].as_integer());
    assert_eq!(sup["new_sme"].as_i64(), m["suppliers_new_sme"].as_integer());
    assert_eq!(sup["new_sme_percent"], s(&m["suppliers_new_sme_percent"]));
    assert_eq!(sup["total"].as_i64(), m["suppliers_total"].as_integer());

    // The live mall exists beside it: the catalogue finds printers, the centre sees flags.
    let found = supervisor.get_json("/api/v1/mall/items?q=%E6%89%93%E5%8D%B0%E6%9C%BA").await;
    assert!(found["total"].as_u64().expect("total") >= 6, "{found}");
    assert!(!supervisor.get_json("/api/v1/mall/price-flags").await.as_array().expect("flags").is_empty());
    let audit = supervisor.get_json("/api/v1/audit/verify").await;
    assert_eq!(audit["problems"], json!([]), "{audit}");
}

#[tokio::test(flavor = "multi_thread")]
async fn another_server_process_finds_new_items_and_a_deleted_index_is_rebuilt() {
    use crate::support::{ServerProcess, free_port};
    let app = spawn_app().await;
    let centre = Client::login(&app, "centre_staff").await;
    let a = agreement(&app, &centre, "供应商一有限公司", &["printers"]).await;
    item(&centre, &a, "黑白激光打印机", "M404dn", 259_900, 289_900).await;
    let port = free_port();
    let env = app.process_env(port);
    let mut other = ServerProcess::start(&env, port, app.dir.path()).await;
    let http = reqwest::Client::new();
    let count = |q: &'static str| {
        let (http, base) = (http.clone(), other.base.clone());
        async move {
            let url = format!("{base}/api/v1/mall/items?q={}&all=true", tenderhall::web::page::percent_encode(q));
            http.get(url).send().await.expect("send").json::<Value>().await.expect("json")["total"]
                .as_u64()
                .unwrap_or(0)
        }
    };
    // Its index is built from the database in the background after the start.
    let mut built = 0;
    for _ in 0..100 {
        built = count("打印机").await;
        if built == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(built, 1);
    // An item added through the first process reaches the second within its polling interval.
    item(&centre, &a, "彩色激光打印机", "M255dw", 329_900, 349_900).await;
    let mut found = 0;
    for _ in 0..100 {
        found = count("打印机").await;
        if found == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(found, 2, "the second process caught up");
    // Deleted while stopped, the index is rebuilt at the next start.
    other.kill();
    let dir =
        env.iter().find(|(k, _)| k == "TENDERHALL_STORAGE__INDEX_DIR").map(|(_, v)| v.clone()).expect("index dir");
    std::fs::remove_dir_all(&dir).expect("remove index");
    let other = ServerProcess::start(&env, port, app.dir.path()).await;
    let url =
        format!("{}/api/v1/mall/items?q={}&all=true", other.base, tenderhall::web::page::percent_encode("激光打印机"));
    let mut total = 0;
    for _ in 0..100 {
        total = http.get(&url).send().await.expect("send").json::<Value>().await.expect("json")["total"]
            .as_u64()
            .unwrap_or(0);
        if total == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(total, 2);
}

/// An order code's stem (`DD` + date + the unit's prefix) and the unit's number of the day.
fn code_parts(code: &str) -> (String, u32) {
    let (stem, n) = code.rsplit_once('-').unwrap_or_else(|| panic!("code {code}"));
    assert_eq!(n.len(), 4, "{code}");
    (stem.to_string(), n.parse().unwrap_or_else(|_| panic!("code {code}")))
}

async fn placed(r: reqwest::Response) -> Value {
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    r.json().await.expect("json")
}

#[tokio::test(flavor = "multi_thread")]
async fn order_codes_count_each_units_own_orders_only() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let centre = Client::login(&app, "centre_staff").await;
    let a = agreement(&app, &centre, "供应商一有限公司", &["printers"]).await;
    let printer = item(&centre, &a, "黑白激光打印机", "M404dn", 259_900, 289_900).await;
    let (buyer_a, buyer_b) = (Client::login(&app, "buyer_a").await, Client::login(&app, "buyer_b").await);
    let supplier = Client::login(&app, "supplier_1").await;

    // Unit A places one order, then two at the same moment; unit B places one after them.
    let first = placed(buy(&buyer_a, &printer, 1, None, 300_000).await).await;
    let (x, y) = tokio::join!(buy(&buyer_a, &printer, 1, None, 300_000), buy(&buyer_a, &printer, 1, None, 300_000));
    let (x, y) = (placed(x).await, placed(y).await);
    let b_order = placed(buy(&buyer_b, &printer, 1, None, 300_000).await).await;

    let date = now(&app).with_timezone(&tenderhall::web::cst()).format("%Y%m%d").to_string();
    let a_codes: Vec<(String, u32)> =
        [&first, &x, &y].iter().map(|o| code_parts(o["code"].as_str().expect("code"))).collect();
    let (a_stem, _) = a_codes[0].clone();
    assert!(a_stem.starts_with(&format!("DD{date}-")) && a_stem.len() == 2 + 8 + 1 + 5, "{a_stem}");
    assert!(a_codes.iter().all(|(stem, _)| *stem == a_stem), "{a_codes:?}");
    let mut numbers: Vec<u32> = a_codes.iter().map(|(_, n)| *n).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2, 3], "the simultaneous orders got consecutive numbers");
    assert_eq!(a_codes[0].1, 1);

    // The supplier sees both units' orders: unit B's code is its first of the day, with a
    // prefix of its own, whatever unit A ordered.
    let seen = supplier.get_json("/api/v1/mall/orders").await;
    let seen: Vec<String> =
        seen["orders"].as_array().expect("orders").iter().map(|o| o["code"].as_str().expect("code").into()).collect();
    assert_eq!(seen.len(), 4);
    let b_code = b_order["code"].as_str().expect("code");
    assert!(seen.iter().any(|c| c == b_code));
    let (b_stem, b_n) = code_parts(b_code);
    assert_eq!(b_n, 1, "{b_code} counts unit B's orders only");
    assert!(b_stem.starts_with(&format!("DD{date}-")) && b_stem != a_stem, "{b_stem} {a_stem}");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4, "{seen:?}");

    // The next day each unit starts again at 1, with the same prefix.
    app.clock.advance(TimeDelta::days(1));
    let (buyer_a, supplier) = (Client::login(&app, "buyer_a").await, Client::login(&app, "supplier_1").await);
    let next_day = placed(buy(&buyer_a, &printer, 1, None, 300_000).await).await;
    let (stem, n) = code_parts(next_day["code"].as_str().expect("code"));
    assert_eq!(n, 1);
    assert_eq!(stem[11..], a_stem[11..], "the unit keeps its prefix");
    assert_ne!(stem, a_stem, "the date moved on");

    // An order with a code of the earlier form (a number of the whole platform) keeps it and
    // goes on as before.
    let old = "DD2026010100042";
    let id = first["id"].as_str().expect("id");
    // The first order placed is the one with the lowest internal id.
    let sql = format!("UPDATE mall_orders SET code = '{old}' WHERE id = (SELECT min(id) FROM mall_orders)");
    app.state.db.execute_unprepared(&sql).await.expect("old code");
    assert_eq!(supplier.get_json(&format!("/api/v1/mall/orders/{id}")).await["code"], old);
    assert_eq!(step(&supplier, id, "confirm", "").await.status(), 200);
    assert_eq!(buyer_a.get_json(&format!("/api/v1/mall/orders/{id}")).await["status"], "confirmed");
    let after = placed(buy(&buyer_a, &printer, 1, None, 300_000).await).await;
    assert_eq!(code_parts(after["code"].as_str().expect("code")), (stem, 2));
}

async fn started(client: &Client) -> Value {
    let body = json!({"category": "printers", "title": "采购激光打印机10台", "requirement": "A4 黑白激光 双面",
        "quantity": 10, "unit": "台", "budget": 3_000_000, "hours": 2});
    placed(client.post("/api/v1/mall/quotations", &body).await).await
}

#[tokio::test(flavor = "multi_thread")]
async fn quotation_codes_count_each_units_own_quotations_only() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let centre = Client::login(&app, "centre_staff").await;
    let a = agreement(&app, &centre, "供应商一有限公司", &["printers"]).await;
    let printer = item(&centre, &a, "黑白激光打印机", "M404dn", 259_900, 289_900).await;
    let (buyer_a, buyer_b) = (Client::login(&app, "buyer_a").await, Client::login(&app, "buyer_b").await);
    let supplier = Client::login(&app, "supplier_1").await;

    // Unit A starts one quotation, then two at the same moment; unit B starts one after them.
    let first = started(&buyer_a).await;
    let (x, y) = tokio::join!(started(&buyer_a), started(&buyer_a));
    let b_first = started(&buyer_b).await;

    let month = now(&app).with_timezone(&tenderhall::web::cst()).format("%Y%m").to_string();
    let a_codes: Vec<(String, u32)> =
        [&first, &x, &y].iter().map(|q| code_parts(q["code"].as_str().expect("code"))).collect();
    let (a_stem, _) = a_codes[0].clone();
    assert!(a_stem.starts_with(&format!("JJ{month}-")) && a_stem.len() == 2 + 6 + 1 + 5, "{a_stem}");
    assert!(a_codes.iter().all(|(stem, _)| *stem == a_stem), "{a_codes:?}");
    let mut numbers: Vec<u32> = a_codes.iter().map(|(_, n)| *n).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2, 3], "the simultaneous quotations got consecutive numbers");
    assert_eq!(a_codes[0].1, 1);

    // The invited supplier sees both units' quotations: unit B's is its first of the month,
    // under a prefix of its own.
    let seen = supplier.get_json("/api/v1/mall/quotations").await;
    let seen: Vec<String> = seen
        .as_array()
        .unwrap_or_else(|| panic!("{seen}"))
        .iter()
        .map(|q| q["code"].as_str().expect("code").into())
        .collect();
    assert_eq!(seen.len(), 4, "{seen:?}");
    let b_code = b_first["code"].as_str().expect("code");
    assert!(seen.iter().any(|c| c == b_code));
    let (b_stem, b_n) = code_parts(b_code);
    assert_eq!(b_n, 1, "{b_code} counts unit B's quotations only");
    assert!(b_stem.starts_with(&format!("JJ{month}-")) && b_stem != a_stem, "{b_stem} {a_stem}");

    // A unit's prefix is the same in its order codes and its quotation codes, whichever came
    // first: unit A's first order, unit B's first order.
    for (buyer, stem) in [(&buyer_a, &a_stem), (&buyer_b, &b_stem)] {
        let order = placed(buy(buyer, &printer, 1, None, 300_000).await).await;
        let (order_stem, n) = code_parts(order["code"].as_str().expect("code"));
        assert_eq!(n, 1);
        assert_eq!(order_stem[11..], stem[9..], "{order_stem} {stem}");
    }

    // The next month each unit starts again at 1, with the same prefix.
    app.clock.advance(TimeDelta::days(32));
    let buyer_a = Client::login(&app, "buyer_a").await;
    let next_month = started(&buyer_a).await;
    let (stem, n) = code_parts(next_month["code"].as_str().expect("code"));
    assert_eq!(n, 1);
    assert_eq!(stem[9..], a_stem[9..], "the unit keeps its prefix");
    assert_ne!(stem, a_stem, "the month moved on");

    // A quotation with a code of the earlier form (a number of the whole platform) keeps it,
    // is shown and closes as before, and is not counted among the unit's.
    let old = "JJ20261200042";
    let id = first["id"].as_str().expect("id");
    let sql = format!("UPDATE mall_quotations SET code = '{old}' WHERE id = (SELECT min(id) FROM mall_quotations)");
    app.state.db.execute_unprepared(&sql).await.expect("old code");
    app.tick().await;
    let buyer_a = Client::login(&app, "buyer_a").await;
    let v = buyer_a.get_json(&format!("/api/v1/mall/quotations/{id}")).await;
    assert_eq!((v["code"].as_str(), v["status"].as_str()), (Some(old), Some("failed")), "{v}");
    let listed = buyer_a.get_json("/api/v1/mall/quotations").await;
    assert!(listed.to_string().contains(old), "{listed}");
    let after = started(&buyer_a).await;
    assert_eq!(code_parts(after["code"].as_str().expect("code")), (stem, 2));
}
