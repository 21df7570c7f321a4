//! The bounds of what comes from outside: page numbers at the integer limits, times at the ends
//! of the calendar, amounts above the platform's bound are refused with a coded 4xx naming the
//! field, in the JSON API and in the pages' forms; sums of amounts at the bound are exact; times
//! in answers are RFC 3339; and a panic that is left becomes a 500 with a reference instead of a
//! dropped connection.

use crate::client::{Client, expect_error, expect_page_error};
use crate::support::{TestApp, org_id, spawn_app};
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use tenderhall::{clock::Clock, money::Money};

/// The amount bound, in fen.
const MAX: i64 = Money::MAX.fen();

fn now(app: &TestApp) -> DateTime<Utc> {
    app.clock.now()
}

/// Asserts a 422 `validation_failed` that names `field` with `code`.
async fn expect_field(r: reqwest::Response, field: &str, code: &str) {
    let body = expect_error(r, 422, "validation_failed").await;
    let fields = body["error"]["fields"].as_array().cloned().unwrap_or_default();
    assert!(fields.iter().any(|f| f["field"] == field && f["code"] == code), "{field}: {code} in {body}");
}

#[tokio::test]
async fn page_numbers_at_the_integer_limits_are_refused_naming_the_page() {
    let app = spawn_app().await;
    let anon = Client::anonymous(&app).await;
    let buyer = Client::login(&app, "buyer_a").await;
    for list in ["/api/v1/tenders", "/api/v1/mall/items"] {
        for page in ["0", "10001", "9223372036854775807", "18446744073709551615"] {
            expect_field(anon.get(&format!("{list}?page={page}")).await, "page", "out_of_range").await;
        }
        // Beyond u64 it is not a number of this type at all.
        expect_error(anon.get(&format!("{list}?page=18446744073709551616")).await, 400, "query_invalid").await;
        expect_error(anon.get(&format!("{list}?page=-1")).await, 400, "query_invalid").await;
        assert_eq!(anon.get(&format!("{list}?page=1")).await.status(), 200);
    }
    // The catalogue shows at most 500 pages of 20 items.
    assert_eq!(anon.get("/api/v1/mall/items?page=500").await.status(), 200);
    expect_field(anon.get("/api/v1/mall/items?page=501").await, "page", "out_of_range").await;
    expect_field(buyer.get("/api/v1/mall/orders?page=9223372036854775807").await, "page", "out_of_range").await;
    assert_eq!(buyer.get("/api/v1/mall/orders?page=10000").await.status(), 200);
    // The pages refuse the same, as an error page.
    expect_page_error(anon.get("/tenders?page=9223372036854775807").await, 422, "validation_failed").await;
    expect_page_error(buyer.get("/mall/orders?page=18446744073709551615").await, 422, "validation_failed").await;
}

/// A valid draft for procuring unit 甲 with its deadline 30 days away.
async fn draft(app: &TestApp) -> Value {
    json!({
        "title": "边界测试项目", "procuring_org": org_id(app, "甲采购单位").await,
        "procurement_method": "open_tender", "evaluation_method": "lowest_price",
        "bid_deadline": now(app) + TimeDelta::days(30),
        "lots": [{"name": "第一包", "budget": 100_000_000}]
    })
}

#[tokio::test]
async fn times_at_the_ends_of_the_calendar_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let centre = Client::login(&app, "centre_staff").await;
    let base = draft(&app).await;
    for far in
        ["-262143-01-01T00:00:00Z", "-200000-06-15T12:00:00Z", "+200000-01-01T00:00:00Z", "+262142-12-31T23:59:59Z"]
    {
        let mut t = base.clone();
        t["bid_deadline"] = json!(far);
        expect_field(agency.post("/api/v1/tenders", &t).await, "bid_deadline", "out_of_range").await;
        let mut t = base.clone();
        t["question_cutoff"] = json!(far);
        expect_field(agency.post("/api/v1/tenders", &t).await, "question_cutoff", "out_of_range").await;
        let a = json!({"title": "协议", "kind": "goods", "supplier": org_id(&app, "供应商一有限公司").await,
            "categories": ["printers"], "service_area": "全区", "valid_from": now(&app), "valid_to": far});
        expect_field(centre.post("/api/v1/mall/agreements", &a).await, "valid_to", "out_of_range").await;
        let r = json!({"code": "ZB-1", "title": "项目", "procuring_org": org_id(&app, "甲采购单位").await,
            "category": "printers", "method": "公开招标", "budget": 100, "award": 90, "supplier_name": "某公司",
            "awarded_at": far});
        expect_field(centre.post("/api/v1/procurement/results", &r).await, "awarded_at", "out_of_range").await;
    }
    // Past what a time can hold at all, it does not read as one.
    let mut t = base.clone();
    t["bid_deadline"] = json!("+275760-09-13T00:00:00Z");
    expect_error(agency.post("/api/v1/tenders", &t).await, 422, "json_invalid").await;

    // A clarification's new deadline.
    let id = crate::tenders::published_tender(&app, &agency).await;
    let c = json!({"kind": "clarification", "body": "延期", "new_deadline": "+200000-01-01T00:00:00Z"});
    expect_field(
        agency.post(&format!("/api/v1/tenders/{id}/clarifications"), &c).await,
        "new_deadline",
        "out_of_range",
    )
    .await;

    // Days in the query strings of the search and the report.
    let anon = Client::anonymous(&app).await;
    for (query, field) in
        [("deadline_from=-262143-01-01", "deadline_from"), ("deadline_to=%2B262142-12-31", "deadline_to")]
    {
        expect_field(anon.get(&format!("/api/v1/tenders?{query}")).await, field, "out_of_range").await;
    }
    expect_field(
        centre.get("/api/v1/mall/reports/savings?from=-262143-01-01&to=-262143-02-01").await,
        "from",
        "out_of_range",
    )
    .await;
    expect_field(
        centre.get("/api/v1/mall/reports/savings?from=%2B262142-01-01&to=%2B262142-12-31").await,
        "from",
        "out_of_range",
    )
    .await;

    // The tender form of the pages: the same refusal, the form shown again with it.
    let unit = org_id(&app, "甲采购单位").await.to_string();
    let form = |deadline: &str| {
        vec![
            ("title", "边界测试项目".to_string()),
            ("procuring_org", unit.clone()),
            ("procurement_method", "open_tender".into()),
            ("evaluation_method", "lowest_price".into()),
            ("bid_deadline", deadline.to_string()),
            ("lot_name_1", "第一包".into()),
            ("lot_budget_1", "1000.00".into()),
        ]
    };
    for far in ["+200000-01-01T10:00", "-200000-01-01T10:00"] {
        let r = agency.req(Method::POST, "/tenders").form(&form(far)).send().await.expect("send");
        expect_page_error(r, 422, "validation_failed").await;
    }
    let r = agency.req(Method::POST, "/tenders").form(&form("2027-01-10T09:30")).send().await.expect("send");
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
}

#[tokio::test]
async fn times_in_answers_are_rfc3339_up_to_the_last_one_accepted() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let mut t = draft(&app).await;
    // The last second of 9999 in China time: the latest time the platform accepts.
    t["bid_deadline"] = json!("9999-12-31T15:59:59Z");
    let r = agency.post("/api/v1/tenders", &t).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    let v = agency.get_json(&format!("/api/v1/tenders/{id}")).await;
    assert_eq!(v["bid_deadline"], "9999-12-31T15:59:59Z");
    assert_eq!(v["question_cutoff"], "9999-12-21T15:59:59Z");
    for k in ["bid_deadline", "question_cutoff"] {
        let s = v[k].as_str().expect("time");
        assert!(DateTime::parse_from_rfc3339(s).is_ok() && s.as_bytes()[4] == b'-', "{k}: {s}");
    }
    let listed = agency.get_json("/api/v1/workspace/tenders").await;
    assert_eq!(listed[0]["bid_deadline"], "9999-12-31T15:59:59Z");
    // The page shows it in China time, still with four digits.
    let page = agency.get(&format!("/tenders/{id}")).await.text().await.expect("page");
    assert!(page.contains("9999-12-31 23:59"), "the deadline on the page");
    // One second later is refused: it would be the year 10000 in China time, and a time past
    // 9999 in UTC would be written "+10000-…", which is not RFC 3339.
    for later in ["9999-12-31T16:00:00Z", "+10000-01-01T00:00:00Z"] {
        t["bid_deadline"] = json!(later);
        expect_field(agency.post("/api/v1/tenders", &t).await, "bid_deadline", "out_of_range").await;
    }
}

#[tokio::test]
async fn two_lots_at_the_amount_bound_give_the_exact_total_and_more_is_refused() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let mut t = draft(&app).await;
    t["lots"] = json!([{"name": "第一包", "budget": MAX, "ceiling": MAX}, {"name": "第二包", "budget": MAX}]);
    let r = agency.post("/api/v1/tenders", &t).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    let v = agency.get_json(&format!("/api/v1/tenders/{id}")).await;
    assert_eq!(v["total_budget"], json!(2 * MAX));
    let listed = agency.get_json("/api/v1/workspace/tenders").await;
    assert_eq!(listed[0]["total_budget"], json!(2 * MAX));

    // One fen above the bound, or an amount that would wrap a sum, is refused by name.
    for (budget, ceiling) in [(MAX + 1, None), (i64::MAX, None), (MAX, Some(i64::MAX))] {
        t["lots"] =
            json!([{"name": "第一包", "budget": budget, "ceiling": ceiling}, {"name": "第二包", "budget": MAX}]);
        let field = if ceiling.is_some() { "ceiling" } else { "budget" };
        let code = if ceiling.is_some() { "above_budget" } else { "too_large" };
        expect_field(agency.post("/api/v1/tenders", &t).await, field, code).await;
    }
    // The form of the pages reads 元: one fen above the bound is too large.
    let unit = org_id(&app, "甲采购单位").await.to_string();
    let form = [
        ("title", "边界测试项目".to_string()),
        ("procuring_org", unit),
        ("procurement_method", "open_tender".into()),
        ("evaluation_method", "lowest_price".into()),
        ("bid_deadline", "2027-01-10T09:30".into()),
        ("lot_name_1", "第一包".into()),
        ("lot_budget_1", "10000000000000.01".into()),
    ];
    let r = agency.req(Method::POST, "/tenders").form(&form).send().await.expect("send");
    let page = r.text().await.expect("page");
    assert!(page.contains("data-code=\"validation_failed\"") && page.contains("金额过大"), "{page}");
}

#[tokio::test]
async fn amounts_above_the_bound_are_refused_in_the_mall() {
    let app = spawn_app().await;
    let centre = Client::login(&app, "centre_staff").await;
    let buyer = Client::login(&app, "buyer_a").await;
    let supplier = Client::login(&app, "supplier_1").await;
    let a = crate::mall::agreement(&app, &centre, "供应商一有限公司", &["printers"]).await;
    let item = crate::mall::item(&centre, &a, "打印机", "M404", 259_900, 289_900).await;
    let new_item = |price: i64, market: i64| {
        json!({"category": "printers", "name": "打印机", "brand": "惠普", "model": "X", "unit": "台",
            "price": price, "market_price": market})
    };
    let items = format!("/api/v1/mall/agreements/{a}/items");
    expect_field(centre.post(&items, &new_item(i64::MAX, 100)).await, "price", "too_large").await;
    expect_field(centre.post(&items, &new_item(100, MAX + 1)).await, "market_price", "too_large").await;
    let price = format!("/api/v1/mall/items/{item}/price");
    expect_field(centre.put(&price, &json!({"price": i64::MAX})).await, "price", "too_large").await;
    let order = json!({"lines": [{"item": item, "quantity": 1, "unit_price": i64::MAX}], "budget": i64::MAX});
    let r = buyer.post("/api/v1/mall/orders", &order).await;
    let body = expect_error(r, 422, "validation_failed").await;
    assert_eq!(body["error"]["message"], "budget: too_large, unit_price: too_large", "{body}");
    let q = json!({"category": "printers", "title": "采购打印机", "requirement": "A4", "quantity": 1, "unit": "台",
        "budget": MAX + 1, "hours": 24});
    expect_field(buyer.post("/api/v1/mall/quotations", &q).await, "budget", "too_large").await;
    let mut q = q;
    q["budget"] = json!(3_000_000);
    let r = buyer.post("/api/v1/mall/quotations", &q).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let qid = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    let quote = json!({"unit_price": i64::MAX, "brand": "惠普", "model": "M404"});
    expect_field(
        supplier.put(&format!("/api/v1/mall/quotations/{qid}/quote"), &quote).await,
        "unit_price",
        "too_large",
    )
    .await;
}

#[tokio::test]
async fn a_large_recorded_result_does_not_make_the_savings_report_negative() {
    let app = spawn_app().await;
    let centre = Client::login(&app, "centre_staff").await;
    let unit = org_id(&app, "甲采购单位").await;
    let day = now(&app) - TimeDelta::days(1);
    let result = |code: &str, budget: i64, award: i64| {
        json!({"code": code, "title": "集中采购项目", "procuring_org": unit, "category": "printers",
            "method": "公开招标", "budget": budget, "award": award, "supplier_name": "某公司", "awarded_at": day})
    };
    let record = |body: Value| {
        let centre = &centre;
        async move { centre.post("/api/v1/procurement/results", &body).await }
    };
    assert_eq!(record(result("ZB-1", 100_000_000, 90_000_000)).await.status(), 201);
    // An amount that would wrap the report's sums is refused by name.
    expect_field(record(result("ZB-2", i64::MAX, 1)).await, "budget", "too_large").await;
    expect_field(record(result("ZB-2", 100, i64::MAX)).await, "award", "too_large").await;
    // Two results at the bound add up exactly.
    assert_eq!(record(result("ZB-3", MAX, MAX - 1_000_000)).await.status(), 201);
    assert_eq!(record(result("ZB-4", MAX, MAX / 2)).await.status(), 201);
    let today = now(&app).with_timezone(&tenderhall::web::cst()).date_naive();
    let r =
        centre.get_json(&format!("/api/v1/mall/reports/savings?from={}&to={today}", today - TimeDelta::days(7))).await;
    let total = &r["central_total"];
    assert_eq!(total["count"], 3);
    let budget = 100_000_000 + 2 * MAX;
    let deal = 90_000_000 + MAX - 1_000_000 + MAX / 2;
    assert_eq!(total["savings"]["budget"], json!(budget));
    assert_eq!(total["savings"]["deal"], json!(deal));
    assert_eq!(total["saved"], json!(budget - deal));
    assert_eq!(total["rate"], "25.00");
    for row in r["central_rows"].as_array().expect("rows") {
        assert!(row["saved"].as_i64().expect("saved") >= 0, "{row}");
    }
}

#[tokio::test]
async fn an_upload_that_is_not_multipart_is_refused_with_a_code() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let id = crate::tenders::create_draft(&app, &agency, 30).await;
    let r = agency
        .req(Method::POST, &format!("/api/v1/tenders/{id}/documents"))
        .body("%PDF-1.7")
        .send()
        .await
        .expect("send");
    expect_error(r, 400, "multipart_invalid").await;
    let r = agency
        .req(Method::POST, &format!("/api/v1/tenders/{id}/documents"))
        .header("content-type", "multipart/form-data")
        .body("x")
        .send()
        .await
        .expect("send");
    expect_error(r, 400, "multipart_invalid").await;
}

#[tokio::test]
async fn a_panic_is_a_500_with_a_reference_not_a_dropped_connection() {
    use axum::routing::get;
    let app = spawn_app().await;
    // The platform's own middleware around routes that panic.
    async fn boom() -> &'static str {
        panic!("secret detail of the fault")
    }
    let routes = axum::Router::new().route("/api/v1/boom", get(boom)).route("/boom", get(boom));
    let router = tenderhall::app::layered(routes, app.state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::new();

    let r = http.get(format!("{base}/api/v1/boom")).send().await.expect("an answer, not a reset");
    assert_eq!(r.status(), 500);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "internal");
    let message = body["error"]["message"].as_str().expect("message");
    let reference = message.strip_prefix("internal error (reference ").and_then(|m| m.strip_suffix(')'));
    assert!(reference.is_some_and(|r| uuid::Uuid::parse_str(r).is_ok()), "{message}");
    assert!(!body.to_string().contains("secret"), "the cause stays in the log: {body}");

    // A page gets the error page, with the security headers.
    let r = http.get(format!("{base}/boom")).send().await.expect("an answer, not a reset");
    assert_eq!(r.status(), 500);
    assert_eq!(r.headers().get("x-frame-options").and_then(|v| v.to_str().ok()), Some("DENY"));
    let page = r.text().await.expect("page");
    assert!(page.contains("data-code=\"internal\"") && !page.contains("secret"), "{page}");
}

#[tokio::test]
async fn texts_with_control_characters_are_refused_wherever_they_come_from() {
    let app = spawn_app().await;
    let anon = Client::anonymous(&app).await;
    let buyer = Client::login(&app, "buyer_a").await;
    let quotation = |title: &str, requirement: &str| {
        json!({"title": title, "category": "printers", "quantity": 1, "unit": "台", "budget": 1_000_000,
               "hours": 1, "requirement": requirement})
    };
    // In a JSON text, escaped: refused before any service sees it, on SQLite and PostgreSQL alike.
    for bad in ["\u{0}", "打印机\u{1}", "a\u{8}b", "\u{c}", "\u{1f}"] {
        expect_error(buyer.post("/api/v1/mall/quotations", &quotation(bad, "要求")).await, 400, "control_character")
            .await;
    }
    // A field the service does not know of is no way around it.
    let mut extra = quotation("打印机询价", "要求");
    extra["unknown"] = json!("\u{0}");
    expect_error(buyer.post("/api/v1/mall/quotations", &extra).await, 400, "control_character").await;
    // Tabs and line breaks are text, and a backslash before the letters u0000 is just that.
    let r = buyer.post("/api/v1/mall/quotations", &quotation("打印机询价\\u0000", "第一行\r\n第二行\t续")).await;
    assert!(r.status().is_success(), "{}", r.status());
    // In a query string and a form, percent-encoded.
    expect_error(anon.get("/api/v1/tenders?q=%00").await, 400, "control_character").await;
    expect_error(anon.get("/api/v1/tenders?q=%E6%89%93%1B").await, 400, "control_character").await;
    assert_eq!(anon.get("/api/v1/tenders?q=%E6%89%93%0A").await.status(), 200);
    expect_page_error(anon.get("/tenders?q=%00").await, 400, "control_character").await;
    let r = anon
        .http
        .post(format!("{}/login", anon.base))
        .form(&[("_csrf", anon.csrf.as_str()), ("username", "buyer_a\u{0}"), ("password", "x")])
        .send()
        .await
        .expect("send");
    expect_page_error(r, 400, "control_character").await;
}

/// An answer given before the request's body was read (the wrong role, a missing header) ends
/// its connection and says so, so that a client keeping connections alive sends its next request
/// on a new one instead of on the closing one; an answer that read the body keeps it.
#[tokio::test]
async fn an_answer_that_leaves_the_body_unread_says_it_closes_the_connection() {
    let app = spawn_app().await;
    let buyer = Client::login(&app, "buyer_a").await;
    let path = format!("/api/v1/bids/{}/envelope", uuid::Uuid::new_v4());
    for round in 0..20 {
        let r = buyer
            .req(Method::PUT, &path)
            .header("content-type", "application/octet-stream")
            .body(vec![7u8; 2 << 20])
            .send()
            .await
            .unwrap_or_else(|e| panic!("round {round}: no answer to the refused upload: {e:?}"));
        assert_eq!(r.headers().get("connection").map(|v| v.to_str().unwrap_or("")), Some("close"), "round {round}");
        expect_error(r, 403, "forbidden").await;
        // The next request on the same client is answered.
        let me = buyer.get("/api/v1/me").await;
        assert_eq!(me.status(), 200, "round {round}");
    }
    // A body that was read: the connection stays open.
    let r = buyer.post("/api/v1/me/password", &json!({"current_password": "x", "new_password": "y"})).await;
    assert!(r.status().is_client_error(), "{}", r.status());
    assert!(r.headers().get("connection").is_none(), "a read body keeps the connection: {:?}", r.headers());
}
