//! From the signed evaluation report to the contract: the working-day calendar, the candidates'
//! publicity, challenges with their answers and complaints, the award (by the procuring unit or
//! by default), the notices, the contract, and the result in the savings report; with every
//! refusal on the way. Each test starts from the demo's evaluated tender.

use crate::client::{Client, expect_error};
use crate::support::TestApp;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use tenderhall::demo::PASSWORD;

/// China time `y-m-d h:00` in UTC.
fn cst(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .expect("offset")
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("time")
        .with_timezone(&Utc)
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// A fresh demo platform whose opening show's tender has a signed evaluation report.
async fn signed() -> (TestApp, String) {
    // The tests' clock runs over months: sessions outlive them.
    let app = TestApp::with_demo_data_and(|s| s.security.session_hours = 24 * 800).await;
    let tender = app.play_opening_show().await;
    app.play_evaluation_show(tender).await;
    (app, tender.to_string())
}

async fn login(app: &TestApp, user: &str) -> Client {
    Client::with_password(app, user, PASSWORD).await
}

/// The demo's suppliers, logged in, by their organisation's name.
async fn suppliers(app: &TestApp) -> HashMap<String, (String, Client)> {
    let mut out = HashMap::new();
    for n in 1..=4 {
        let user = format!("supplier{n}");
        let c = login(app, &user).await;
        let me = c.get_json("/api/v1/me").await;
        out.insert(me["org_name"].as_str().expect("org").to_string(), (user, c));
    }
    out
}

async fn award_view(c: &Client, tender: &str) -> Value {
    c.get_json(&format!("/api/v1/tenders/{tender}/award")).await
}

async fn challenge(c: &Client, tender: &str, lot: &str, body: &str, evidence: Option<Vec<u8>>) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new().text("lot", lot.to_string()).text("body", body.to_string());
    if let Some(pdf) = evidence {
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(pdf).file_name("evidence.pdf").mime_str("application/pdf").expect("mime"),
        );
    }
    c.req(reqwest::Method::POST, &format!("/api/v1/tenders/{tender}/challenges"))
        .multipart(form)
        .send()
        .await
        .expect("send")
}

async fn contract(
    c: &Client,
    tender: &str,
    lot: &str,
    amount: &str,
    signed_on: &str,
    pdf: Option<Vec<u8>>,
) -> reqwest::Response {
    let mut form =
        reqwest::multipart::Form::new().text("amount", amount.to_string()).text("signed_on", signed_on.to_string());
    if let Some(pdf) = pdf {
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(pdf).file_name("contract.pdf").mime_str("application/pdf").expect("mime"),
        );
    }
    c.req(reqwest::Method::POST, &format!("/api/v1/tenders/{tender}/lots/{lot}/contract"))
        .multipart(form)
        .send()
        .await
        .expect("send")
}

/// The centralized-procurement totals of the savings report for 2027, as the centre sees them.
async fn central_2027(centre: &Client) -> (i64, i64, i64) {
    let r = centre.get_json("/api/v1/mall/reports/savings?from=2027-01-01&to=2027-12-31").await;
    let t = &r["central_total"];
    (
        t["count"].as_i64().expect("count"),
        t["savings"]["budget"].as_i64().expect("budget"),
        t["savings"]["deal"].as_i64().expect("deal"),
    )
}

async fn notices_of(c: &Client) -> String {
    c.get("/api/v1/notifications").await.text().await.expect("text")
}

#[tokio::test]
async fn candidates_are_published_challenged_answered_awarded_and_contracted_on_the_calendar() {
    let (app, tender) = signed().await;
    let centre = login(&app, "centre").await;
    let agency = login(&app, "agency").await;
    let buyer = login(&app, "buyer").await;
    let supervisor = login(&app, "supervisor").await;
    let anonymous = Client::anonymous(&app).await;
    let by_name = suppliers(&app).await;
    let (_, any_supplier) = by_name.values().next().expect("a supplier");

    // The centre keeps the calendar: the National Day week of 2027 off, Saturday 9 October
    // worked. Nobody else may, and a listing that changes nothing is refused.
    app.clock.set(cst(2027, 9, 30, 10));
    for d in 1..=7 {
        let r = centre
            .put(&format!("/api/v1/calendar/2027-10-{d:02}"), &json!({"kind": "holiday", "name": "国庆节"}))
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    }
    let r = centre.put("/api/v1/calendar/2027-10-09", &json!({"kind": "workday", "name": "国庆调休"})).await;
    assert_eq!(r.status(), 200);
    expect_error(
        any_supplier.put("/api/v1/calendar/2027-10-11", &json!({"kind": "holiday", "name": "x"})).await,
        403,
        "centre_only",
    )
    .await;
    let e = expect_error(
        centre.put("/api/v1/calendar/2027-10-12", &json!({"kind": "workday", "name": "周二"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(e["error"]["fields"][0]["code"], "changes_nothing", "{e}");
    let e = expect_error(
        centre.put("/api/v1/calendar/2027-02-30", &json!({"kind": "holiday", "name": "x"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(e["error"]["fields"][0]["code"], "invalid_date", "{e}");
    let days: Value = anonymous.get_json("/api/v1/calendar?year=2027").await;
    assert_eq!(days.as_array().map(Vec::len), Some(8), "{days}");

    // Before the publicity nothing can be decided or challenged.
    let v = award_view(&agency, &tender).await;
    assert_eq!(v["can_publish"], true, "{v}");
    assert!(v["lots"].as_array().expect("lots").is_empty());
    let lot_id = {
        let t = agency.get_json(&format!("/api/v1/tenders/{tender}")).await;
        t["lots"][0]["id"].as_str().expect("lot").to_string()
    };
    expect_error(
        buyer
            .post(&format!("/api/v1/tenders/{tender}/lots/{lot_id}/award"), &json!({"bid": uuid::Uuid::new_v4()}))
            .await,
        409,
        "not_published",
    )
    .await;
    expect_error(any_supplier.post_empty(&format!("/api/v1/tenders/{tender}/award")).await, 403, "forbidden").await;

    // The agency publishes on Thursday 30 September: the announcement lasts one working day
    // (Friday 8 October, after the holiday), challenges run 7 working days (8, 9 — the worked
    // Saturday —, 11 to 15 October), the decision is due 5 working days after the publicity.
    let r = agency.post_empty(&format!("/api/v1/tenders/{tender}/award")).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let v: Value = r.json().await.expect("json");
    let lot = &v["lots"][0];
    assert_eq!(lot["regime"], "procurement", "{v}");
    assert_eq!(lot["publicity_until"], iso(cst(2027, 10, 9, 0)), "{v}");
    assert_eq!(lot["challenge_until"], iso(cst(2027, 10, 16, 0)), "{v}");
    assert_eq!(lot["decide_by"], iso(cst(2027, 10, 15, 0)), "{v}");
    assert_eq!(lot["published_late"], true, "published long after the report: {v}");
    let cands = lot["candidates"].as_array().expect("candidates").clone();
    assert_eq!(cands.len(), 3, "{v}");
    assert_eq!(cands.iter().map(|c| c["rank"].as_i64().unwrap_or(0)).collect::<Vec<_>>(), vec![1, 2, 3]);
    expect_error(agency.post_empty(&format!("/api/v1/tenders/{tender}/award")).await, 409, "already_published").await;
    // The publicity is public, on the tender's award page and the public list.
    let public = award_view(&anonymous, &tender).await;
    assert_eq!(public["lots"][0]["candidates"][0]["name"], cands[0]["name"]);
    let list = anonymous.get_json("/api/v1/results?tab=candidates").await;
    assert_eq!(list[0]["supplier"], cands[0]["name"], "{list}");
    expect_error(anonymous.get("/api/v1/results?tab=nothing").await, 422, "validation_failed").await;
    let page = anonymous.get("/results").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains(cands[0]["name"].as_str().expect("name")));

    let first = cands[0]["name"].as_str().expect("name").to_string();
    let second = cands[1]["name"].as_str().expect("name").to_string();
    let third = cands[2]["name"].as_str().expect("name").to_string();
    let (_, winner) = &by_name[&first];
    let (_, challenger) = &by_name[&second];
    let (_, bystander) = &by_name[&third];
    let (_, unopened) = by_name
        .iter()
        .find(|(n, _)| ![&first, &second, &third].contains(n))
        .map(|(_, v)| v)
        .expect("the supplier whose bid was not decrypted");
    let notices = notices_of(challenger).await;
    assert!(notices.contains("中标候选人已公示") || notices.contains("candidates"), "{notices}");

    // Challenges: only a supplier whose bid was opened, with a real PDF, within the period.
    expect_error(challenge(unopened, &tender, &lot_id, "我方也有异议", None).await, 403, "not_a_bidder").await;
    expect_error(challenge(&agency, &tender, &lot_id, "x", None).await, 403, "suppliers_only").await;
    expect_error(
        challenge(challenger, &tender, &lot_id, "评分有误", Some(b"%PDF-1.7 not really".to_vec())).await,
        422,
        "pdf_truncated",
    )
    .await;
    let e = expect_error(challenge(challenger, &tender, &lot_id, "  ", None).await, 422, "validation_failed").await;
    assert_eq!(e["error"]["fields"][0]["field"], "body", "{e}");
    let r = challenge(
        challenger,
        &tender,
        &lot_id,
        "第一名的业绩证明不符合招标文件要求。",
        Some(crate::support::pdf("证明材料", 1)),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let cid = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    expect_error(challenge(challenger, &tender, &lot_id, "再次质疑", None).await, 409, "challenge_exists").await;
    // Another supplier does not see it, nor its evidence; the managers do.
    let seen = award_view(bystander, &tender).await;
    assert!(seen["lots"][0]["challenges"].as_array().expect("challenges").is_empty(), "{seen}");
    expect_error(bystander.get(&format!("/api/v1/challenges/{cid}/evidence")).await, 404, "not_found").await;
    expect_error(
        bystander.post(&format!("/api/v1/challenges/{cid}/answer"), &json!({"answer": "x"})).await,
        404,
        "not_found",
    )
    .await;
    let managed = award_view(&agency, &tender).await;
    assert_eq!(managed["lots"][0]["challenges"][0]["challenger"], second, "{managed}");
    assert_eq!(
        managed["lots"][0]["challenges"][0]["answer_by"],
        iso(cst(2027, 10, 16, 0)),
        "7 working days: {managed}"
    );
    assert_eq!(managed["lots"][0]["challenges"][0]["can"]["answer"], true);
    let r = agency.get(&format!("/api/v1/challenges/{cid}/evidence")).await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.expect("pdf").starts_with(b"%PDF-"));
    assert!(notices_of(&agency).await.contains("收到质疑"), "the agency is told");

    // No award during the publicity, nor while the challenge is open.
    let award = |bid: &Value, reason: Option<&str>| json!({"bid": bid, "reason": reason});
    let e = expect_error(
        buyer.post(&format!("/api/v1/tenders/{tender}/lots/{lot_id}/award"), &award(&cands[0]["bid"], None)).await,
        409,
        "publicity_running",
    )
    .await;
    assert!(e["error"]["message"].is_string());
    app.clock.set(cst(2027, 10, 9, 9));
    expect_error(
        buyer.post(&format!("/api/v1/tenders/{tender}/lots/{lot_id}/award"), &award(&cands[0]["bid"], None)).await,
        409,
        "challenge_pending",
    )
    .await;
    // The reminder goes out a day before the answer is due.
    app.clock.set(cst(2027, 10, 15, 1));
    app.tick().await;
    assert!(notices_of(&agency).await.contains("提醒"), "the reminder");
    // Only the tender's managers answer, once.
    expect_error(
        supervisor.post(&format!("/api/v1/challenges/{cid}/answer"), &json!({"answer": "x"})).await,
        403,
        "managers_only",
    )
    .await;
    let r = agency
        .post(
            &format!("/api/v1/challenges/{cid}/answer"),
            &json!({"answer": "经复核，第一名业绩证明符合要求，质疑不成立。"}),
        )
        .await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    expect_error(
        agency.post(&format!("/api/v1/challenges/{cid}/answer"), &json!({"answer": "again"})).await,
        409,
        "already_answered",
    )
    .await;
    let mine = award_view(challenger, &tender).await;
    let ch = &mine["lots"][0]["challenges"][0];
    assert_eq!(ch["state"], "answered", "{mine}");
    assert_eq!(ch["can"]["complain"], true, "{mine}");
    assert!(notices_of(challenger).await.contains("已答复"), "the challenger is told");

    // The procuring unit decides: not the agency; another candidate only with a reason, which
    // is flagged to the supervisors; never a bid that is not a candidate.
    let url = format!("/api/v1/tenders/{tender}/lots/{lot_id}/award");
    expect_error(agency.post(&url, &award(&cands[0]["bid"], None)).await, 403, "procuring_unit_only").await;
    let e = expect_error(buyer.post(&url, &award(&cands[1]["bid"], None)).await, 422, "validation_failed").await;
    assert_eq!(e["error"]["fields"][0]["code"], "required_for_other_candidate", "{e}");
    let e = expect_error(buyer.post(&url, &json!({"bid": uuid::Uuid::new_v4()})).await, 422, "validation_failed").await;
    assert_eq!(e["error"]["fields"][0]["code"], "not_a_candidate", "{e}");
    let before = central_2027(&centre).await;
    let r = buyer.post(&url, &award(&cands[0]["bid"], None)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let v: Value = r.json().await.expect("json");
    let lot = &v["lots"][0];
    assert_eq!(lot["state"], "awarded", "{v}");
    assert_eq!(lot["winner"], first);
    let (budget, price) = (lot["budget"].as_i64().expect("budget"), cands[0]["price"].as_i64().expect("price"));
    assert_eq!(lot["award"].as_i64(), Some(price));
    assert_eq!(lot["savings"].as_i64(), Some(budget - price));
    let rate = (budget - price) as i128 * 100_000 / budget as i128;
    let rate = (rate + 5) / 10;
    assert_eq!(lot["savings_rate"], format!("{}.{:02}", rate / 100, rate % 100), "{v}");
    assert_eq!(lot["contract_due"], iso(cst(2027, 11, 15, 0)), "30 days after the award on 15 October: {v}");
    expect_error(buyer.post(&url, &award(&cands[0]["bid"], None)).await, 409, "already_awarded").await;
    let t = anonymous.get_json(&format!("/api/v1/tenders/{tender}")).await;
    assert_eq!(t["state"], "awarded", "{t}");
    // The savings report counts the award exactly.
    let after = central_2027(&centre).await;
    assert_eq!((after.0 - before.0, after.1 - before.1, after.2 - before.2), (1, budget, price));
    let list = anonymous.get_json("/api/v1/results?tab=awards").await;
    assert_eq!(list[0]["supplier"], first, "{list}");
    assert_eq!(list[0]["amount"].as_i64(), Some(price));

    // The notices: the award notice for the winner, the result notice for another bidder,
    // nothing for a stranger; each with its signed JSON attached.
    let notice_url = format!("/api/v1/tenders/{tender}/lots/{lot_id}/notice");
    let pdf = winner.get(&notice_url).await;
    assert_eq!(pdf.status(), 200);
    let pdf = pdf.bytes().await.expect("pdf").to_vec();
    let attached: Value =
        serde_json::from_slice(&tenderhall::pdf::writer::attachment(&pdf, "notice.json").expect("attached"))
            .expect("json");
    assert_eq!(attached["winner"], first);
    assert_eq!(attached["to"], first);
    assert_eq!(attached["amount_fen"].as_i64(), Some(price));
    let other = bystander.get(&notice_url).await.bytes().await.expect("pdf").to_vec();
    let attached: Value =
        serde_json::from_slice(&tenderhall::pdf::writer::attachment(&other, "notice.json").expect("attached"))
            .expect("json");
    assert_eq!(attached["to"], third);
    assert_eq!(attached["winner"], first);
    let stranger = login(&app, "hospital").await;
    expect_error(stranger.get(&notice_url).await, 404, "not_found").await;
    expect_error(anonymous.get(&notice_url).await, 401, "login_required").await;
    assert!(notices_of(winner).await.contains("中标人"), "the winner is told");

    // The contract: the procuring unit, a real PDF, a date from the award's day to 30 days
    // after it and never in the future.
    let curl = |d: &str| (d.to_string(), Some(crate::support::pdf("合同", 2)));
    let (d, f) = curl("2027-10-16");
    let e = expect_error(contract(&buyer, &tender, &lot_id, "1200000.00", &d, f).await, 422, "validation_failed").await;
    assert_eq!(e["error"]["fields"][0]["code"], "in_future", "{e}");
    let (d, f) = curl("2027-10-14");
    let e = expect_error(contract(&buyer, &tender, &lot_id, "1200000.00", &d, f).await, 422, "validation_failed").await;
    assert_eq!(e["error"]["fields"][0]["code"], "before_award", "{e}");
    let e = expect_error(contract(&buyer, &tender, &lot_id, "abc", "2027-10-15", None).await, 422, "validation_failed")
        .await;
    let codes: Vec<&str> =
        e["error"]["fields"].as_array().expect("fields").iter().filter_map(|f| f["code"].as_str()).collect();
    assert_eq!(codes, vec!["invalid_amount", "required"], "{e}");
    let (d, f) = curl("2027-10-15");
    expect_error(contract(winner, &tender, &lot_id, "1200000.00", &d, f).await, 403, "procuring_unit_only").await;
    // Past its due time without a contract, the supervisors are told, and a date past the 30
    // days is refused.
    app.clock.set(cst(2027, 11, 20, 10));
    app.tick().await;
    assert!(notices_of(&supervisor).await.contains("未在"), "the overdue contract is flagged");
    assert!(notices_of(challenger).await.contains("投诉期限"), "the challenger is reminded of the complaint period");
    assert_eq!(award_view(&buyer, &tender).await["lots"][0]["contract_overdue"], true);
    let (d, f) = curl("2027-11-15");
    let e = expect_error(contract(&buyer, &tender, &lot_id, "1200000.00", &d, f).await, 422, "validation_failed").await;
    assert_eq!(e["error"]["fields"][0]["code"], "contract_late", "{e}");
    let r = contract(
        &buyer,
        &tender,
        &lot_id,
        &format!("{}.{:02}", price / 100, price % 100),
        "2027-11-14",
        Some(crate::support::pdf("合同", 2)),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["lots"][0]["state"], "contracted");
    assert_eq!(v["lots"][0]["contract_amount"].as_i64(), Some(price));
    let c = winner.get(&format!("/api/v1/tenders/{tender}/lots/{lot_id}/contract")).await;
    assert_eq!(c.status(), 200);
    expect_error(bystander.get(&format!("/api/v1/tenders/{tender}/lots/{lot_id}/contract")).await, 404, "not_found")
        .await;
    let (d, f) = curl("2027-11-14");
    expect_error(contract(&buyer, &tender, &lot_id, "1", &d, f).await, 409, "already_recorded").await;
    // The timeline, from the posting to the contract: all done; the challenges only for those
    // who read them.
    let steps = |v: &Value| -> Vec<(String, String)> {
        v["timeline"]
            .as_array()
            .expect("timeline")
            .iter()
            .map(|s| (s["step"].as_str().unwrap_or("").to_string(), s["status"].as_str().unwrap_or("").to_string()))
            .collect()
    };
    let managed = steps(&award_view(&agency, &tender).await);
    let names_of = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names_of(&managed),
        vec!["published", "deadline", "opening", "evaluation", "publicity", "challenges", "award", "contract"]
    );
    assert!(managed.iter().all(|(_, s)| s == "done"), "{managed:?}");
    let public = award_view(&anonymous, &tender).await;
    assert!(!names_of(&steps(&public)).contains(&"challenges".to_string()), "{public}");
    assert_eq!(award_view(&agency, &tender).await["timeline"][5]["note"], "1 / 0");
    // The page shows it all; the tender's own page shows the timeline too, to the public
    // without the challenges.
    let html = buyer.get(&format!("/tenders/{tender}/award")).await.text().await.expect("html");
    assert!(html.contains(&first) && html.contains("已签合同"), "the page");
    let page = anonymous.get(&format!("/tenders/{tender}")).await.text().await.expect("html");
    assert!(page.contains("data-testid=\"timeline\""), "the tender page has the timeline");
    assert!(page.contains("data-step=\"contract\" data-status=\"done\""), "up to the contract");
    assert!(!page.contains("data-step=\"challenges\""), "the public sees no challenges");
    // Each step is in the audit chain.
    for action in
        ["award.publish", "challenge.file", "challenge.answer", "award.decide", "award.overdue", "award.contract"]
    {
        let audit =
            supervisor.get_json(&format!("/api/v1/audit/records?object={tender}&action={action}")).await.to_string();
        assert!(audit.contains(action), "{action} recorded: {audit}");
    }
    // The challenge period has ended: no more challenges.
    expect_error(challenge(bystander, &tender, &lot_id, "迟到的质疑", None).await, 409, "challenge_closed").await;
}

#[tokio::test]
async fn a_pending_challenge_holds_the_default_award_and_an_upheld_complaint_sets_the_lot_aside() {
    let (app, tender) = signed().await;
    let agency = login(&app, "agency").await;
    let buyer = login(&app, "buyer").await;
    let supervisor = login(&app, "supervisor").await;
    let by_name = suppliers(&app).await;
    // Publish on Friday 3 December 2027 at 18:00: without listed days, the announcement ends
    // with Monday 6 December, the decision is due with Monday 13 December.
    app.clock.set(cst(2027, 12, 3, 18));
    let v: Value = agency.post_empty(&format!("/api/v1/tenders/{tender}/award")).await.json().await.expect("json");
    let lot = &v["lots"][0];
    let lot_id = lot["lot"].as_str().expect("lot").to_string();
    assert_eq!(lot["publicity_until"], iso(cst(2027, 12, 7, 0)), "{v}");
    assert_eq!(lot["decide_by"], iso(cst(2027, 12, 14, 0)), "{v}");
    let second = lot["candidates"][1]["name"].as_str().expect("name").to_string();
    let (_, challenger) = &by_name[&second];
    let r = challenge(challenger, &tender, &lot_id, "价格分计算有误。", None).await;
    assert_eq!(r.status(), 201);
    let cid = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();

    // No complaint before the answer or its due time.
    let complaint = json!({"complaint": "代理机构答复不成立。"});
    expect_error(
        challenger.post(&format!("/api/v1/challenges/{cid}/complaint"), &complaint).await,
        409,
        "not_answered",
    )
    .await;
    // The decision's due time passes with the challenge open: nothing is awarded, and the
    // answer's due time passing flags it to the supervisors.
    app.clock.set(cst(2027, 12, 15, 9));
    app.tick().await;
    let v = award_view(&buyer, &tender).await;
    assert_eq!(v["lots"][0]["state"], "publicity", "held by the challenge: {v}");
    assert_eq!(v["lots"][0]["challenges"][0]["answer_overdue"], true, "{v}");
    assert!(notices_of(&supervisor).await.contains("未在"), "the overdue answer is flagged");
    // The challenger complains (the answer is overdue); only the challenger, once.
    let (_, other) = by_name.iter().find(|(n, _)| **n != second).map(|(_, v)| v).expect("another supplier");
    expect_error(other.post(&format!("/api/v1/challenges/{cid}/complaint"), &complaint).await, 404, "not_found").await;
    let r = challenger.post(&format!("/api/v1/challenges/{cid}/complaint"), &complaint).await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    expect_error(
        challenger.post(&format!("/api/v1/challenges/{cid}/complaint"), &complaint).await,
        409,
        "already_complained",
    )
    .await;
    // Supervisors decide; nobody else.
    let decision = json!({"decision": "re_evaluate", "reason": "价格分计算确有错误，退回原评标委员会重新评审。"});
    expect_error(agency.post(&format!("/api/v1/challenges/{cid}/decision"), &decision).await, 403, "supervisors_only")
        .await;
    let e = expect_error(
        supervisor
            .post(&format!("/api/v1/challenges/{cid}/decision"), &json!({"decision": "maybe", "reason": "x"}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(e["error"]["fields"][0]["field"], "decision");
    let r = supervisor.post(&format!("/api/v1/challenges/{cid}/decision"), &decision).await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    expect_error(supervisor.post(&format!("/api/v1/challenges/{cid}/decision"), &decision).await, 409, "no_complaint")
        .await;
    let v = award_view(&buyer, &tender).await;
    assert_eq!(v["lots"][0]["state"], "returned", "{v}");
    assert_eq!(v["lots"][0]["challenges"][0]["decision"], "re_evaluate");
    let first_bid = v["lots"][0]["candidates"][0]["bid"].clone();
    expect_error(
        buyer.post(&format!("/api/v1/tenders/{tender}/lots/{lot_id}/award"), &json!({"bid": first_bid})).await,
        409,
        "set_aside",
    )
    .await;
    // No contract without an award; the refusals record nothing.
    let pdf = Some(crate::support::pdf("合同", 1));
    expect_error(contract(&buyer, &tender, &lot_id, "100.00", "2027-12-15", pdf).await, 409, "not_awarded").await;
    let v = award_view(&buyer, &tender).await;
    assert!(v["lots"][0]["winner"].is_null() && v["lots"][0]["contract_amount"].is_null(), "{v}");
    // Later deadlines change nothing.
    app.clock.set(cst(2027, 12, 31, 9));
    app.tick().await;
    assert_eq!(award_view(&buyer, &tender).await["lots"][0]["state"], "returned");
    assert!(notices_of(challenger).await.contains("重新评审"), "the challenger is told the decision");
}

#[tokio::test]
async fn without_a_decision_the_first_candidate_is_taken_by_default() {
    let (app, tender) = signed().await;
    let agency = login(&app, "agency").await;
    let buyer = login(&app, "buyer").await;
    let centre = login(&app, "centre").await;
    // A listed holiday on Wednesday 8 December 2027 moves the due time by a day.
    app.clock.set(cst(2027, 12, 1, 10));
    let r = centre.put("/api/v1/calendar/2027-12-08", &json!({"kind": "holiday", "name": "测试假日"})).await;
    assert_eq!(r.status(), 200);
    let v: Value = agency.post_empty(&format!("/api/v1/tenders/{tender}/award")).await.json().await.expect("json");
    let lot = &v["lots"][0];
    // Wednesday 1 December: publicity ends with Thursday 2; five working days: 3, 6, 7, 9, 10.
    assert_eq!(lot["publicity_until"], iso(cst(2027, 12, 3, 0)), "{v}");
    assert_eq!(lot["decide_by"], iso(cst(2027, 12, 11, 0)), "{v}");
    assert_eq!(lot["published_late"], true);
    app.clock.set(cst(2027, 12, 10, 23));
    app.tick().await;
    assert_eq!(award_view(&buyer, &tender).await["lots"][0]["state"], "publicity", "not yet due");
    let told = buyer.get("/api/v1/notifications").await.text().await.expect("text");
    assert!(told.contains("提醒") && told.contains("确定中标人"), "the procuring unit is reminded: {told}");
    // Taking the day off the list brings nothing back: the job stays at the time it was given.
    expect_error(agency.delete("/api/v1/calendar/2027-12-08").await, 403, "centre_only").await;
    let r = centre.delete("/api/v1/calendar/2027-12-08").await;
    assert_eq!(r.status(), 204);
    expect_error(centre.delete("/api/v1/calendar/2027-12-08").await, 404, "not_found").await;
    app.clock.set(cst(2027, 12, 11, 0) + TimeDelta::seconds(1));
    app.tick().await;
    let v = award_view(&buyer, &tender).await;
    let lot = &v["lots"][0];
    assert_eq!(lot["state"], "awarded", "{v}");
    assert_eq!(lot["winner_rank"], 1);
    assert_eq!(lot["winner"], lot["candidates"][0]["name"]);
    let supervisor = login(&app, "supervisor").await;
    let audit =
        supervisor.get_json(&format!("/api/v1/audit/records?object={tender}&action=award.decide")).await.to_string();
    let records: Value = serde_json::from_str(&audit).expect("json");
    let details: Value = serde_json::from_str(records[0]["details"].as_str().expect("details")).expect("json");
    assert_eq!(details["by_default"], true, "the default award is recorded as such: {audit}");
    assert_eq!(records[0]["actor"], "platform (award)");

    // After the session the agency and the host site's staff rate each expert, once; nobody
    // else; a mean under 3 suspends the expert until the centre reactivates it.
    let url = format!("/api/v1/tenders/{tender}/ratings");
    let members = agency.get_json(&url).await;
    let members = members.as_array().expect("members").clone();
    assert_eq!(members.len(), 5, "the five experts, not the representative: {members:?}");
    assert!(members.iter().all(|m| m["mine"].is_null() && m["late_minutes"].as_i64() >= Some(0)));
    let supplier = login(&app, "supplier2").await;
    expect_error(supplier.get(&url).await, 404, "not_found").await;
    let rating = |m: &Value, marks: i32| json!({"member": m["member"], "punctuality": marks, "expertise": marks, "conduct": marks, "note": "测试"});
    expect_error(supplier.post(&url, &rating(&members[0], 4)).await, 403, "raters_only").await;
    let e = expect_error(
        agency
            .post(&url, &json!({"member": members[0]["member"], "punctuality": 6, "expertise": 0, "conduct": 3}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    let bad: Vec<&str> =
        e["error"]["fields"].as_array().expect("fields").iter().filter_map(|f| f["field"].as_str()).collect();
    assert_eq!(bad, vec!["punctuality", "expertise"], "{e}");
    let r = agency.post(&url, &rating(&members[0], 2)).await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    expect_error(agency.post(&url, &rating(&members[0], 5)).await, 409, "already_rated").await;
    let r = agency.post(&url, &rating(&members[1], 4)).await;
    assert_eq!(r.status(), 204);
    let r = centre.post(&url, &rating(&members[1], 5)).await;
    assert_eq!(r.status(), 204, "the host site's staff: {}", r.text().await.unwrap_or_default());
    let mine = agency.get_json(&url).await;
    assert_eq!(mine[0]["mine"]["punctuality"], 2, "{mine}");
    // The first expert's mean is 2.0: suspended, with the reason on its record; the second's 4.5.
    let record = centre.get_json(&format!("/api/v1/experts/{}", members[0]["expert"].as_str().expect("expert"))).await;
    assert_eq!(record["status"], "suspended", "{record}");
    assert!(record["status_reason"].as_str().is_some_and(|r| r.contains("2.0")), "{record}");
    assert_eq!(record["ratings"][0]["punctuality"], 2);
    let other = centre.get_json(&format!("/api/v1/experts/{}", members[1]["expert"].as_str().expect("expert"))).await;
    assert_eq!(other["status"], "active", "{other}");
    assert_eq!(other["ratings"].as_array().map(Vec::len), Some(2));
    let r = centre
        .post_empty(&format!("/api/v1/experts/{}/reactivate", members[0]["expert"].as_str().expect("expert")))
        .await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    let html = agency.get(&format!("/tenders/{tender}/award")).await.text().await.expect("html");
    assert!(html.contains("data-testid=\"ratings\""), "the page shows the ratings");
}

#[tokio::test]
async fn the_demo_carries_its_evaluated_tender_through_a_challenge_to_the_award() {
    use tenderhall::demo;
    let app = TestApp::with_demo_data_and(|s| s.award.publicity_minutes = 3).await;
    let tender = app.play_opening_show().await;
    assert_eq!(demo::award::unfinished(&app.state).await.expect("unfinished"), vec![tender]);
    app.play_evaluation_show(tender).await;
    let task =
        demo::award::spawn(app.state.clone(), demo::award::Show { tender, pace: std::time::Duration::from_millis(5) });
    for _ in 0..3000 {
        if task.is_finished() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        app.clock.advance(TimeDelta::seconds(1));
        app.tick().await;
    }
    assert!(task.is_finished(), "the show reached its end");
    task.await.expect("the show ends by itself");
    let buyer = login(&app, demo::award::NEWCOMER).await;
    let v = award_view(&buyer, &tender.to_string()).await;
    let lot = &v["lots"][0];
    assert_eq!(lot["state"], "awarded", "{v}");
    assert_eq!(lot["winner_rank"], 1);
    let challenges = lot["challenges"].as_array().expect("challenges");
    assert_eq!(challenges.len(), 1, "{v}");
    assert_eq!(challenges[0]["state"], "answered");
    assert!(challenges[0]["answer"].as_str().is_some_and(|a| a.contains("不成立")));
    // The contract is the newcomer's, and nothing is left for a later launch.
    assert_eq!(lot["can"]["contract"], true);
    assert!(demo::award::unfinished(&app.state).await.expect("unfinished").is_empty());
}

/// The committee's members, logged in: the demo experts the room seats.
async fn seated_experts(app: &TestApp, tender: &str) -> Vec<Client> {
    let mut out = Vec::new();
    for (user, _) in tenderhall::demo::experts::expert_logins() {
        let c = login(app, user).await;
        let r = c.get(&format!("/api/v1/tenders/{tender}/evaluation")).await;
        if r.status() == 200 && !r.json::<Value>().await.expect("json")["me"].is_null() {
            out.push(c);
        }
    }
    out
}

#[tokio::test]
async fn an_upheld_complaint_gives_the_lot_back_to_its_committee_which_re_evaluates_it() {
    let (app, tender) = signed().await;
    let centre = login(&app, "centre").await;
    let agency = login(&app, "agency").await;
    let buyer = login(&app, "buyer").await;
    let supervisor = login(&app, "supervisor").await;
    let by_name = suppliers(&app).await;
    let before = central_2027(&centre).await;
    let first_report = centre.get_json(&format!("/api/v1/tenders/{tender}/evaluation")).await["report_sha256"].clone();
    assert!(first_report.is_string());

    // Round 1: published on Friday 3 December 2027, challenged, answered, awarded to the first
    // candidate after the publicity; then the challenger complains.
    app.clock.set(cst(2027, 12, 3, 18));
    let v: Value = agency.post_empty(&format!("/api/v1/tenders/{tender}/award")).await.json().await.expect("json");
    let lot_id = v["lots"][0]["lot"].as_str().expect("lot").to_string();
    let cands = v["lots"][0]["candidates"].as_array().expect("candidates").clone();
    let second = cands[1]["name"].as_str().expect("name").to_string();
    let (_, challenger) = &by_name[&second];
    let r = challenge(challenger, &tender, &lot_id, "第一名的技术分评分明显偏高。", None).await;
    assert_eq!(r.status(), 201);
    let cid = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    app.clock.set(cst(2027, 12, 6, 10));
    let r = agency
        .post(&format!("/api/v1/challenges/{cid}/answer"), &json!({"answer": "评分符合评审标准，质疑不成立。"}))
        .await;
    assert_eq!(r.status(), 204);
    app.clock.set(cst(2027, 12, 7, 9));
    let url = format!("/api/v1/tenders/{tender}/lots/{lot_id}/award");
    let r = buyer.post(&url, &json!({"bid": cands[0]["bid"]})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    assert_eq!(award_view(&buyer, &tender).await["lots"][0]["contract_due"], iso(cst(2028, 1, 7, 0)));
    app.clock.set(cst(2027, 12, 8, 10));
    let r = challenger
        .post(&format!("/api/v1/challenges/{cid}/complaint"), &json!({"complaint": "答复未说明评分依据。"}))
        .await;
    assert_eq!(r.status(), 204);

    // The supervisor upholds it and sends the lot back: the award is set aside, the tender is in
    // evaluation again, the session starts its second round at the qualification review with
    // every signature taken off, and the members are told.
    app.clock.set(cst(2027, 12, 9, 10));
    let decision = json!({"decision": "re_evaluate", "reason": "技术分评分畸高，退回原评标委员会重新评审。"});
    let r = supervisor.post(&format!("/api/v1/challenges/{cid}/decision"), &decision).await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    let t = buyer.get_json(&format!("/api/v1/tenders/{tender}")).await;
    assert_eq!(t["state"], "evaluating", "{t}");
    assert_eq!(central_2027(&centre).await, before, "the set-aside award is out of the savings report");
    let s = centre.get_json(&format!("/api/v1/tenders/{tender}/evaluation")).await;
    assert_eq!(s["phase"], "qualification", "{s}");
    assert_eq!(s["round"], 2);
    assert_eq!(s["reopened_lots"][0]["id"], lot_id.as_str());
    assert!(s["report_sha256"].is_null());
    assert!(s["members"].as_array().expect("members").iter().all(|m| m["signed_at"].is_null()), "{s}");
    assert!(
        s["remarks"]
            .as_array()
            .expect("remarks")
            .iter()
            .any(|r| r["kind"] == "returned" && r["text"].as_str().unwrap_or("").contains("技术分评分畸高")),
        "{s}"
    );
    let members = seated_experts(&app, &tender).await;
    assert_eq!(members.len(), 5, "the same committee");
    assert!(notices_of(&members[0]).await.contains("重新评审"), "the members are told");
    let page = members[0].get(&format!("/tenders/{tender}/evaluation")).await.text().await.expect("html");
    assert!(page.contains("data-testid=\"re-evaluation\""), "the room says so");
    // Until the committee signs again there is no report, nothing to publish, no award.
    expect_error(centre.get(&format!("/api/v1/tenders/{tender}/evaluation/report.pdf")).await, 409, "out_of_turn")
        .await;
    assert_eq!(award_view(&agency, &tender).await["can_publish"], false);
    expect_error(agency.post_empty(&format!("/api/v1/tenders/{tender}/award")).await, 409, "report_unsigned").await;
    expect_error(buyer.post(&url, &json!({"bid": cands[0]["bid"]})).await, 409, "set_aside").await;
    // Nor are the experts rated while their report is unsigned.
    let rating = json!({"member": s["members"][0]["id"], "punctuality": 4, "expertise": 4, "conduct": 4});
    expect_error(agency.post(&format!("/api/v1/tenders/{tender}/ratings"), &rating).await, 409, "out_of_turn").await;

    // The committee re-scores: the host moves on to the scoring, where a member lowers its
    // score of the first candidate's bid on a subjective item by one step.
    for from in ["qualification", "compliance"] {
        let r = centre
            .post(&format!("/api/v1/tenders/{tender}/evaluation/commands"), &json!({"op": "advance", "from": from}))
            .await;
        assert_eq!(r.status(), 204, "{from}: {}", r.text().await.unwrap_or_default());
    }
    let m0 = &members[0];
    let mine = m0.get_json(&format!("/api/v1/tenders/{tender}/evaluation")).await;
    let item = mine["criteria"]["scoring"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["objective"] == false)
        .expect("a subjective item")
        .clone();
    let key = item["key"].as_str().expect("key");
    let bid = cands[0]["bid"].as_str().expect("bid");
    let old = mine["my_scores"]
        .as_array()
        .expect("scores")
        .iter()
        .find(|s| s["bid"] == bid && s["item"] == key)
        .and_then(|s| s["points"].as_i64())
        .expect("the member's score");
    let lowered = old - item["step"].as_i64().unwrap_or(100).max(1);
    let points = format!("{}.{:02}", lowered / 100, lowered % 100);
    let r = m0
        .post(
            &format!("/api/v1/tenders/{tender}/evaluation/commands"),
            &json!({"op": "score", "bid": bid, "item": key, "points": points, "reason": "复核后调整。"}),
        )
        .await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    // The rest of the session is played as the demo plays it: everyone signs again.
    app.play_evaluation_show(tender.parse().expect("uuid")).await;
    let s = centre.get_json(&format!("/api/v1/tenders/{tender}/evaluation")).await;
    assert_eq!(s["phase"], "signed", "{s}");
    assert_eq!(s["round"], 2);
    assert!(s["reopened_lots"].as_array().expect("lots").is_empty());
    assert!(s["report_sha256"].is_string() && s["report_sha256"] != first_report, "a new report: {s}");
    let r = centre.get(&format!("/api/v1/tenders/{tender}/evaluation/report.pdf")).await;
    assert_eq!(r.status(), 200);

    // Round 2: the agency publishes the lot again, from the new report; once.
    app.clock.set(cst(2027, 12, 10, 10));
    let r = agency.post_empty(&format!("/api/v1/tenders/{tender}/award")).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let v: Value = r.json().await.expect("json");
    let lot = &v["lots"][0];
    assert_eq!((lot["state"].as_str(), lot["round"].as_i64()), (Some("publicity"), Some(2)), "{v}");
    assert!(lot["winner"].is_null(), "{v}");
    let again = lot["candidates"].as_array().expect("candidates");
    let total_of = |cs: &[Value]| cs.iter().find(|c| c["bid"] == bid).map(|c| c["total"].clone());
    assert_ne!(total_of(again), total_of(&cands), "the first candidate's total reflects the new score: {v}");
    expect_error(agency.post_empty(&format!("/api/v1/tenders/{tender}/award")).await, 409, "already_published").await;
    // The first round's default award is not taken in the second round's publicity.
    app.clock.set(cst(2027, 12, 14, 9));
    app.tick().await;
    assert_eq!(award_view(&buyer, &tender).await["lots"][0]["state"], "publicity");
    let first_now = again[0]["bid"].clone();
    let r = buyer.post(&url, &json!({"bid": first_now})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["lots"][0]["contract_due"], iso(cst(2028, 1, 14, 0)), "{v}");
    let t = buyer.get_json(&format!("/api/v1/tenders/{tender}")).await;
    assert_eq!(t["state"], "awarded", "{t}");
    let after = central_2027(&centre).await;
    assert_eq!((after.0 - before.0, after.1 - before.1), (1, v["lots"][0]["budget"].as_i64().expect("budget")));
    assert_eq!(after.2 - before.2, again[0]["price"].as_i64().expect("price"));
    // The first round's contract deadline passes without a flag; the second round's flags.
    app.clock.set(cst(2028, 1, 10, 9));
    app.tick().await;
    assert_eq!(award_view(&buyer, &tender).await["lots"][0]["contract_overdue"], false);
    app.clock.set(cst(2028, 1, 14, 9));
    app.tick().await;
    assert_eq!(award_view(&buyer, &tender).await["lots"][0]["contract_overdue"], true);
}
