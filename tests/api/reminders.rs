//! Reminders raised by the clock and by the opening, each to the right people exactly once: the
//! bid deadline 24 and 2 hours before (to the obtainers without a bid; a moved deadline has its
//! own), the hall opening, the decryption window opened and closing, a bid not decrypted, an
//! objection answered; and a new tender notice to the suppliers whose subscriptions it matches.

use crate::bids::{bidder, deadline_of, first_lot};
use crate::client::{Client, expect_error};
use crate::opening::{cmd, events, hall_with, ok, release, submit};
use crate::support::{Options, spawn_app, spawn_app_with};
use crate::tenders::published_tender;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

/// The caller's notices of `kind`, newest first, in `lang`.
async fn of_kind(c: &Client, kind: &str, lang: &str) -> Vec<Value> {
    let list = c.get_json(&format!("/api/v1/notifications?lang={lang}")).await;
    list.as_array().expect("list").iter().filter(|n| n["kind"] == kind).cloned().collect()
}

async fn count(c: &Client, kind: &str) -> usize {
    of_kind(c, kind, "zh-CN").await.len()
}

#[tokio::test]
async fn the_bid_deadline_is_reminded_a_day_and_two_hours_before_to_obtainers_without_a_bid() {
    let app = spawn_app_with(Options {
        settings: Some(Box::new(|s| s.security.session_hours = 24 * 60)),
        ..Default::default()
    })
    .await;
    let agency = Client::login(&app, "agency_x").await;
    let tender = published_tender(&app, &agency).await;
    // Supplier 1 obtains and bids, supplier 2 only obtains, supplier 3 does neither.
    let b1 = bidder(&app, "supplier_1", &tender).await;
    let lot = first_lot(&b1.client, &tender).await;
    submit(&b1, &tender, &lot, "3650000.00").await;
    let s2 = Client::login(&app, "supplier_2").await;
    assert_eq!(s2.post_empty(&format!("/api/v1/tenders/{tender}/obtain")).await.status(), 204);
    let s3 = Client::login(&app, "supplier_3").await;

    // An amendment moves the deadline by two days: the first deadline's reminders do nothing.
    let first = deadline_of(&agency, &tender).await;
    let moved = first + TimeDelta::days(2);
    let r = agency
        .post(
            &format!("/api/v1/tenders/{tender}/clarifications"),
            &json!({"kind": "amendment", "body": "增加第三包。", "new_deadline": moved}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    app.clock.set(first - TimeDelta::hours(2));
    app.tick().await;
    assert_eq!(count(&s2, "bid_deadline_near").await, 0, "the old deadline's reminders are void");

    // A day before the new deadline: supplier 2 alone, once however often the runner looks.
    app.clock.set(moved - TimeDelta::hours(24));
    app.tick().await;
    app.tick().await;
    let got = of_kind(&s2, "bid_deadline_near", "zh-CN").await;
    assert_eq!(got.len(), 1, "{got:?}");
    let text = got[0]["text"].as_str().expect("text");
    assert!(text.contains("约 24 小时后") && text.contains("尚未递交"), "{text}");
    assert_eq!(got[0]["args"]["deadline"]["value"].as_str().and_then(|d| d.parse::<DateTime<Utc>>().ok()), Some(moved));
    assert_eq!(count(&b1.client, "bid_deadline_near").await, 0, "a bidder with a bid in is not reminded");
    assert_eq!(count(&s3, "bid_deadline_near").await, 0, "nor a supplier that did not obtain the documents");
    assert_eq!(count(&agency, "bid_deadline_near").await, 0);

    // Two hours before: again, in the reader's language.
    app.clock.set(moved - TimeDelta::hours(2));
    app.tick().await;
    let got = of_kind(&s2, "bid_deadline_near", "en").await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0]["text"].as_str().is_some_and(|t| t.contains("in about 2 hours")), "{got:?}");
    app.clock.set(moved + TimeDelta::hours(1));
    app.tick().await;
    assert_eq!(count(&s2, "bid_deadline_near").await, 2, "nothing after the deadline");
    assert_eq!(count(&b1.client, "bid_deadline_near").await, 0);
}

#[tokio::test]
async fn a_cancelled_tender_is_not_reminded_of() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let tender = published_tender(&app, &agency).await;
    let s2 = Client::login(&app, "supplier_2").await;
    assert_eq!(s2.post_empty(&format!("/api/v1/tenders/{tender}/obtain")).await.status(), 204);
    let deadline = deadline_of(&agency, &tender).await;
    let r = agency.post(&format!("/api/v1/tenders/{tender}/cancel"), &json!({"reason": "需求变更"})).await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    app.clock.set(deadline - TimeDelta::hours(2));
    app.tick().await;
    let s2 = Client::login(&app, "supplier_2").await;
    assert_eq!(count(&s2, "tender_cancelled").await, 1);
    assert_eq!(count(&s2, "bid_deadline_near").await, 0);
}

#[tokio::test]
async fn the_opening_tells_each_bidder_of_its_steps_once() {
    let (app, tender, host, bidders) = hall_with(
        2,
        Box::new(|s| {
            s.opening.decrypt_minutes = 30;
            s.security.session_hours = 24 * 60;
        }),
    )
    .await;
    let (b1, b2, b3) = (&bidders[0], &bidders[1], &bidders[2]);
    // The hall opened at the deadline: each bidder is asked to sign in, the host is not told.
    for (b, _) in &bidders {
        let got = of_kind(&b.client, "opening_started", "zh-CN").await;
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0]["text"].as_str().is_some_and(|t| t.contains("请登录签到")), "{got:?}");
        assert_eq!(got[0]["link"], json!(format!("/tenders/{tender}/opening")));
    }
    assert_eq!(count(&host, "opening_started").await, 0);
    let outsider = Client::login(&app, "buyer_b").await;

    ok(&host, &tender, json!({"op": "start_decryption"})).await;
    let ends: DateTime<Utc> = host.get_json(&format!("/api/v1/tenders/{tender}/opening")).await["window_ends_at"]
        .as_str()
        .expect("end")
        .parse()
        .expect("time");
    for (b, _) in &bidders {
        let got = of_kind(&b.client, "decryption_opened", "en").await;
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0]["args"]["until"]["value"].as_str().and_then(|d| d.parse::<DateTime<Utc>>().ok()), Some(ends));
    }

    // Five minutes before the window closes, only the bidders whose bids are still sealed.
    ok(&b1.0.client, &tender, release(&b1.1)).await;
    app.clock.set(ends - TimeDelta::minutes(6));
    app.tick().await;
    assert_eq!(count(&b2.0.client, "decryption_closing").await, 0, "not before its time");
    app.clock.set(ends - TimeDelta::minutes(5));
    app.tick().await;
    app.tick().await;
    assert_eq!(count(&b1.0.client, "decryption_closing").await, 0, "its bid is decrypted");
    for b in [b2, b3] {
        let got = of_kind(&b.0.client, "decryption_closing", "zh-CN").await;
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0]["text"].as_str().is_some_and(|t| t.starts_with("紧急")), "{got:?}");
    }

    // Supplier 2 decrypts in time; supplier 3 does not and is told its bid was not opened.
    ok(&b2.0.client, &tender, release(&b2.1)).await;
    // The window's job closes it and reads the bids.
    app.clock.set(ends);
    app.tick().await;
    assert!(events(&host, &tender, 0).await.iter().any(|e| e["kind"] == "reading"));
    let failed = of_kind(&b3.0.client, "decryption_failed", "zh-CN").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0]["text"].as_str().is_some_and(|t| t.contains("未被开启")), "{failed:?}");
    for b in [b1, b2] {
        assert_eq!(count(&b.0.client, "decryption_failed").await, 0);
    }

    // Its objection is answered: it is told, the others are not.
    ok(&b3.0.client, &tender, json!({"op": "object", "text": "我方密钥未能及时解密，请记录。"})).await;
    let objection = events(&host, &tender, 0).await.into_iter().find(|e| e["kind"] == "objection").expect("objection");
    ok(&host, &tender, json!({"op": "answer", "objection": objection["data"]["id"], "text": "已记录。"})).await;
    expect_error(
        cmd(&host, &tender, json!({"op": "answer", "objection": objection["data"]["id"], "text": "again"})).await,
        409,
        "already_answered",
    )
    .await;
    assert_eq!(count(&b3.0.client, "objection_answered").await, 1);
    for b in [b1, b2] {
        assert_eq!(count(&b.0.client, "objection_answered").await, 0);
    }
    // Someone without a bid hears of none of it.
    for kind in
        ["opening_started", "decryption_opened", "decryption_closing", "decryption_failed", "objection_answered"]
    {
        assert_eq!(count(&outsider, kind).await, 0, "{kind}");
    }
}

/// A draft of agency X of category `category` in `region`, with `title`, published; returns its id.
async fn publish_of(
    app: &crate::support::TestApp,
    agency: &Client,
    title: &str,
    category: &str,
    region: &str,
) -> String {
    let mut body = crate::tenders::draft_body(app, 30).await;
    body["title"] = json!(title);
    body["region"] = json!(region);
    let r = agency.post("/api/v1/tenders", &body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    assert_eq!(agency.get_json(&format!("/api/v1/tenders/{id}")).await["region"], json!(region));
    if category == "services" {
        let r = agency.put(&format!("/api/v1/tenders/{id}/criteria"), &crate::criteria::services_criteria()).await;
        assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    }
    let r =
        agency.upload(&format!("/api/v1/tenders/{id}/documents"), "招标文件.pdf", crate::support::pdf("T", 2)).await;
    assert_eq!(r.status(), 201);
    let r = agency.post_empty(&format!("/api/v1/tenders/{id}/publish")).await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    id
}

#[tokio::test]
async fn subscriptions_are_checked_and_a_new_notice_reaches_each_matching_supplier_once() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let s1 = Client::login(&app, "supplier_1").await;
    let s2 = Client::login(&app, "supplier_2").await;
    let s3 = Client::login(&app, "supplier_3").await;
    let path = "/api/v1/subscriptions";

    // Only suppliers subscribe; every wrong field is named; an empty subscription is refused.
    expect_error(agency.post(path, &json!({"name": "x", "keywords": ["平板"]})).await, 403, "suppliers_only").await;
    expect_error(agency.get(path).await, 403, "suppliers_only").await;
    let e = expect_error(
        s1.post(
            path,
            &json!({"name": "", "categories": ["food"], "regions": ["一二三四五六七八九十一二三四五六七八九十一"], "keywords": ["、、"]}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let codes: Vec<(&str, &str)> = e["error"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| (f["field"].as_str().unwrap_or(""), f["code"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("name", "required"),
            ("categories", "unknown_category"),
            ("regions", "too_long"),
            ("keywords", "no_words")
        ],
        "{e}"
    );
    let e = expect_error(s1.post(path, &json!({"name": "全部"})).await, 422, "validation_failed").await;
    assert_eq!(e["error"]["fields"][0]["code"], "subscription_empty", "{e}");
    expect_error(s1.post(path, &json!({"name": "x", "keywords": ["a"], "extra": 1})).await, 422, "json_invalid").await;

    // Supplier 1: goods in 江宁区 about 平板; and a second one that also matches (told once).
    let r = s1.post(path, &json!({"name": "江宁平板", "categories": ["goods"], "regions": ["江宁区"], "keywords": ["智能平板", "展台"]})).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let mine: Value = r.json().await.expect("json");
    assert_eq!(mine["categories"], json!(["goods"]));
    assert_eq!(
        s1.post(path, &json!({"name": "南京货物", "categories": ["goods"], "regions": ["南京市"]})).await.status(),
        201
    );
    // Supplier 2: services only; supplier 3: a word whose characters the tender has apart.
    assert_eq!(s2.post(path, &json!({"name": "服务类", "categories": ["services"]})).await.status(), 201);
    assert_eq!(s3.post(path, &json!({"name": "板材", "keywords": ["平展"]})).await.status(), 201);
    // Another supplier's subscription is not found, nor deleted.
    let id = mine["id"].as_str().expect("id");
    expect_error(s2.delete(&format!("{path}/{id}")).await, 404, "not_found").await;
    assert_eq!(s1.get_json(path).await.as_array().map(Vec::len), Some(2));
    assert_eq!(s2.get_json(path).await.as_array().map(Vec::len), Some(1));

    let tender = publish_of(&app, &agency, "教学设备采购项目", "goods", "南京市江宁区").await;
    let got = of_kind(&s1, "tender_match", "zh-CN").await;
    assert_eq!(got.len(), 1, "once, however many subscriptions match: {got:?}");
    assert!(
        got[0]["text"].as_str().is_some_and(|t| t.contains("「江宁平板」") && t.contains("教学设备采购项目")),
        "{got:?}"
    );
    assert_eq!(got[0]["link"], json!(format!("/tenders/{tender}")));
    assert_eq!(count(&s2, "tender_match").await, 0, "another category");
    assert_eq!(count(&s3, "tender_match").await, 0, "a word is matched whole");

    // A services tender elsewhere reaches supplier 2 alone; after deleting, nothing more.
    publish_of(&app, &agency, "物业管理服务", "services", "南京市鼓楼区").await;
    assert_eq!(count(&s2, "tender_match").await, 1);
    assert_eq!(count(&s1, "tender_match").await, 1);
    let r = s1.delete(&format!("{path}/{id}")).await;
    assert_eq!(r.status(), 204);
    assert_eq!(s1.get_json(path).await.as_array().map(Vec::len), Some(1));
    publish_of(&app, &agency, "智能平板采购", "goods", "苏州市").await;
    assert_eq!(count(&s1, "tender_match").await, 1, "the deleted subscription is gone, the other is for 南京市");
}

#[tokio::test]
async fn the_subscriptions_page_adds_lists_refuses_and_deletes() {
    let app = spawn_app().await;
    let s1 = Client::login(&app, "supplier_1").await;
    let page = s1.get("/notifications/subscriptions").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("page").contains("data-testid=\"no-subscriptions\""));
    // Refused: the form again, the error beside the field, the input kept.
    let form = |pairs: &[(&str, &str)]| {
        let mut all: Vec<(String, String)> = vec![("_csrf".into(), s1.csrf.clone())];
        all.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        all
    };
    let post = |path: String, pairs: Vec<(String, String)>| {
        let req = s1.req(reqwest::Method::POST, &path).form(&pairs);
        async move { req.send().await.expect("send") }
    };
    let r = post("/notifications/subscriptions".into(), form(&[("name", ""), ("keywords", "办公椅")])).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("page");
    assert!(html.contains("办公椅") && html.contains("data-testid=\"error-name\">必填"), "{html}");
    let r = post(
        "/notifications/subscriptions".into(),
        form(&[("name", "办公家具"), ("category.goods", "on"), ("keywords", "办公椅，HP M404")]),
    )
    .await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let list = s1.get_json("/api/v1/subscriptions").await;
    assert_eq!(list[0]["keywords"], json!(["办公椅", "HP M404"]), "{list}");
    let html = s1.get("/notifications/subscriptions").await.text().await.expect("page");
    assert!(html.contains("data-testid=\"subscription\"") && html.contains("货物"), "{html}");
    let id = list[0]["id"].as_str().expect("id");
    let r = post(format!("/notifications/subscriptions/{id}/delete"), form(&[])).await;
    assert!(r.status().is_redirection());
    assert_eq!(s1.get_json("/api/v1/subscriptions").await, json!([]));
    // Not a supplier: the page says so.
    let agency = Client::login(&app, "agency_x").await;
    assert_eq!(agency.get("/notifications/subscriptions").await.status(), 403);
}

#[tokio::test]
async fn an_invited_tender_invites_at_least_three_suppliers_who_alone_obtain_its_documents() {
    use crate::support::org_id;
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    // A fourth supplier, registered and approved, to be left out.
    let anon = Client::anonymous(&app).await;
    let r = anon
        .post(
            "/api/v1/registrations",
            &json!({"org_name": "供应商四有限公司", "credit_code": "91110000MA01ABCD5W", "size_class": "small",
                    "contact_phone": "010-12345678", "username": "supplier_4", "display_name": "四", "password": "abc12345"}),
        )
        .await;
    let org4 = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    let admin = Client::login(&app, "admin").await;
    assert_eq!(admin.post_empty(&format!("/api/v1/organisations/{org4}/approve")).await.status(), 204);

    let mut body = crate::tenders::draft_body(&app, 30).await;
    body["procurement_method"] = json!("invited_tender");
    let r = agency.post("/api/v1/tenders", &body).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    let r =
        agency.upload(&format!("/api/v1/tenders/{id}/documents"), "招标文件.pdf", crate::support::pdf("T", 2)).await;
    assert_eq!(r.status(), 201);
    let path = format!("/api/v1/tenders/{id}/invitations");
    let e =
        expect_error(agency.post_empty(&format!("/api/v1/tenders/{id}/publish")).await, 422, "too_few_invited").await;
    assert!(e["error"]["message"].as_str().is_some_and(|m| m.contains('3')), "{e}");

    // Only its managers invite, and only admitted suppliers.
    let s1 = Client::login(&app, "supplier_1").await;
    let (o1, o2, o3) = (
        org_id(&app, "供应商一有限公司").await,
        org_id(&app, "供应商二有限公司").await,
        org_id(&app, "供应商三有限公司").await,
    );
    expect_error(s1.put(&path, &json!({"suppliers": [o1]})).await, 403, "forbidden").await;
    expect_error(s1.get(&path).await, 403, "forbidden").await;
    let unit = org_id(&app, "甲采购单位").await;
    let e = expect_error(agency.put(&path, &json!({"suppliers": [o1, unit]})).await, 422, "validation_failed").await;
    assert_eq!(e["error"]["fields"][0]["code"], "unknown_supplier", "{e}");
    expect_error(agency.put(&path, &json!({"suppliers": [uuid_nil()]})).await, 422, "validation_failed").await;
    let r = agency.put(&path, &json!({"suppliers": [o1, o2, o3, o1]})).await;
    assert_eq!(r.status(), 200);
    let list: Value = r.json().await.expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(3), "{list}");
    assert_eq!(list[0]["name"], "供应商一有限公司");
    // The page shows the managers whom it invites.
    let page = agency.get(&format!("/tenders/{id}")).await.text().await.expect("page");
    assert!(
        page.contains("data-testid=\"invitations-form\"") && page.contains(&format!("invite-{o1}\" checked"))
            || page.contains(&format!("name=\"supplier.{o1}\" checked")),
        "{page}"
    );

    assert_eq!(agency.post_empty(&format!("/api/v1/tenders/{id}/publish")).await.status(), 204);
    expect_error(agency.put(&path, &json!({"suppliers": [o1, o2, o3]})).await, 409, "wrong_state").await;
    for user in ["supplier_1", "supplier_2", "supplier_3"] {
        let c = Client::login(&app, user).await;
        let got = of_kind(&c, "bid_invitation", "zh-CN").await;
        assert_eq!(got.len(), 1, "{user}: {got:?}");
        assert!(got[0]["text"].as_str().is_some_and(|t| t.starts_with("投标邀请")), "{got:?}");
    }
    let s4 = Client::with_password(&app, "supplier_4", "abc12345").await;
    assert_eq!(count(&s4, "bid_invitation").await, 0);
    assert_eq!(count(&Client::login(&app, "buyer_a").await, "bid_invitation").await, 0);
    // Only the invited obtain the documents.
    expect_error(s4.post_empty(&format!("/api/v1/tenders/{id}/obtain")).await, 403, "invited_only").await;
    assert_eq!(s1.post_empty(&format!("/api/v1/tenders/{id}/obtain")).await.status(), 204);
    // Nobody else learns whom it invited.
    let page = s1.get(&format!("/tenders/{id}")).await.text().await.expect("page");
    assert!(!page.contains("data-testid=\"invitations\""), "the invited list is the managers'");
}

fn uuid_nil() -> String {
    "00000000-0000-0000-0000-000000000000".into()
}

#[tokio::test]
async fn the_demo_supplier_heard_of_the_tender_its_subscription_matches() {
    let app = crate::support::TestApp::with_demo_data().await;
    let s1 = Client::with_password(&app, "supplier1", tenderhall::demo::PASSWORD).await;
    let subs = s1.get_json("/api/v1/subscriptions").await;
    assert_eq!(subs.as_array().map(Vec::len), Some(1), "{subs}");
    let got = of_kind(&s1, "tender_match", "zh-CN").await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0]["text"].as_str().is_some_and(|t| t.contains("江宁区教学设备") && t.contains("教学设备采购")),
        "{got:?}"
    );
    let s2 = Client::with_password(&app, "supplier2", tenderhall::demo::PASSWORD).await;
    assert_eq!(count(&s2, "tender_match").await, 0);
}

#[tokio::test]
async fn a_user_keeps_at_most_twenty_subscriptions_of_ten_terms_each_and_a_region_is_short() {
    let app = spawn_app().await;
    let s1 = Client::login(&app, "supplier_1").await;
    let path = "/api/v1/subscriptions";
    let eleven: Vec<String> = (0..11).map(|i| format!("地区{i}")).collect();
    let e =
        expect_error(s1.post(path, &json!({"name": "多", "regions": eleven})).await, 422, "validation_failed").await;
    assert_eq!(
        (&e["error"]["fields"][0]["field"], &e["error"]["fields"][0]["code"]),
        (&json!("regions"), &json!("too_many"))
    );
    for i in 0..20 {
        assert_eq!(s1.post(path, &json!({"name": format!("订阅{i}"), "keywords": ["平板"]})).await.status(), 201);
    }
    expect_error(s1.post(path, &json!({"name": "第21个", "keywords": ["平板"]})).await, 422, "too_many_subscriptions")
        .await;
    assert_eq!(s1.get_json(path).await.as_array().map(Vec::len), Some(20), "nothing added");
    // A tender's region is at most 40 characters.
    let agency = Client::login(&app, "agency_x").await;
    let mut body = crate::tenders::draft_body(&app, 30).await;
    body["region"] = json!("区".repeat(41));
    let e = expect_error(agency.post("/api/v1/tenders", &body).await, 422, "validation_failed").await;
    assert_eq!(e["error"]["fields"][0]["field"], "region", "{e}");
}
