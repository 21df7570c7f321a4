//! The evaluation session: opened on a published draw, sign-in and declarations (a conflict
//! calling a replacement), the chair's election (never the procuring unit's representative),
//! the reviews by majority with reasons, scores within range and step, the computed price
//! score, the consistency flags, signing with the password and the lock after it, reopening
//! by the chair for an art. 64 reason, the ranking, and every role's refusal.

use crate::client::{Client, expect_error};
use crate::draws::{contribution, evaluating, expert, prepare, request, session, sites};
use crate::support::{PASSWORD, TestApp};
use serde_json::{Value, json};
use std::collections::HashMap;

/// A tender in evaluation with a published committee of `host` + `guest` experts (and the
/// representative seat when `rep`); the experts' clients by member order of the draw.
struct Committee {
    app: TestApp,
    tender: String,
    staff: Client,
    /// Logged-in experts holding a seat.
    seated: Vec<Client>,
    /// Their user names, in the same order.
    users: Vec<String>,
    /// Logged-in experts of the pool without a seat.
    others: Vec<Client>,
}

async fn committee(host_count: u32, guest_count: u32, rep: bool) -> Committee {
    let (app, tender) = evaluating(Box::new(|_| {})).await;
    let (host, guest) = sites(&app).await;
    let staff = Client::login(&app, "centre_staff").await;
    let mut login_of: HashMap<String, u32> = HashMap::new();
    for n in 1..=(host_count + 1) {
        login_of.insert(expert(&staff, n, &host, json!({}), true).await, n);
    }
    for n in 20..=(20 + guest_count) {
        login_of.insert(expert(&staff, n, &guest, json!({}), true).await, n);
    }
    let draw = prepare(&staff, &tender).await;
    let mut req = request(&host, &guest, session(&app), host_count, guest_count);
    req["purchaser_rep"] = json!(rep);
    let r = staff.put(&format!("/api/v1/draws/{draw}/request"), &req).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let supervisor = Client::login(&app, "supervisor").await;
    let r = supervisor.post(&format!("/api/v1/draws/{draw}/contribution"), &contribution()).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let v: Value = r.json().await.expect("json");
    let mut seated = Vec::new();
    let mut users = Vec::new();
    let mut seated_ids = Vec::new();
    for p in v["picks"].as_array().expect("picks").iter().filter(|p| p["status"] == "invited") {
        let n = login_of[p["expert"].as_str().expect("expert")];
        let c = Client::login(&app, &format!("expert{n:02}")).await;
        let r = c
            .post(&format!("/api/v1/invitations/{}/answer", p["id"].as_str().expect("id")), &json!({"accept": true}))
            .await;
        assert_eq!(r.status(), 204);
        seated_ids.push(n);
        users.push(format!("expert{n:02}"));
        seated.push(c);
    }
    let mut others = Vec::new();
    for n in login_of.values().filter(|n| !seated_ids.contains(n)) {
        others.push(Client::login(&app, &format!("expert{n:02}")).await);
    }
    let r = staff.post_empty(&format!("/api/v1/draws/{draw}/publish")).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    Committee { app, tender, staff, seated, users, others }
}

async fn cmd(c: &Client, tender: &str, body: Value) -> reqwest::Response {
    c.post(&format!("/api/v1/tenders/{tender}/evaluation/commands"), &body).await
}

async fn ok(c: &Client, tender: &str, body: Value) {
    let r = cmd(c, tender, body.clone()).await;
    assert_eq!(r.status(), 204, "{body}: {}", r.text().await.unwrap_or_default());
}

async fn refused(c: &Client, tender: &str, body: Value, status: u16, code: &str) {
    expect_error(cmd(c, tender, body).await, status, code).await;
}

/// A form of the room's page sent as the browser sends it.
async fn act_page(c: &Client, tender: &str, form: &[(&str, String)]) -> reqwest::Response {
    c.req(reqwest::Method::POST, &format!("/tenders/{tender}/evaluation/act")).form(form).send().await.expect("send")
}

async fn view(c: &Client, tender: &str) -> Value {
    c.get_json(&format!("/api/v1/tenders/{tender}/evaluation")).await
}

/// The bids in the session by their bidder's name.
fn bids_by_bidder(v: &Value) -> HashMap<String, String> {
    v["bids"]
        .as_array()
        .expect("bids")
        .iter()
        .map(|b| (b["bidder"].as_str().unwrap_or("").to_string(), b["id"].as_str().expect("id").to_string()))
        .collect()
}

#[tokio::test]
async fn a_committee_reviews_scores_and_signs_and_the_result_is_ranked() {
    let Committee { app, tender, staff, seated, others, .. } = committee(3, 2, false).await;
    let e = &seated;
    let supervisor = Client::login(&app, "supervisor").await;
    let agency = Client::login(&app, "agency_x").await;
    let supplier = Client::login(&app, "supplier_1").await;

    // Only the centre opens the session, once; the parties of the tender never see it.
    expect_error(supplier.post(&format!("/api/v1/tenders/{tender}/evaluation"), &json!({})).await, 403, "forbidden")
        .await;
    expect_error(agency.post(&format!("/api/v1/tenders/{tender}/evaluation"), &json!({})).await, 403, "forbidden")
        .await;
    let r = staff.post(&format!("/api/v1/tenders/{tender}/evaluation"), &json!({})).await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    expect_error(staff.post(&format!("/api/v1/tenders/{tender}/evaluation"), &json!({})).await, 409, "session_exists")
        .await;
    for c in [&agency, &supplier, &others[0]] {
        expect_error(c.get(&format!("/api/v1/tenders/{tender}/evaluation")).await, 404, "not_found").await;
        expect_error(cmd(c, &tender, json!({"op": "sign_in"})).await, 404, "not_found").await;
    }

    // 清标 ran before anyone looked: supplier 3's price is the lowest, nothing is above the ceiling.
    let v = view(&supervisor, &tender).await;
    assert_eq!(v["phase"], "sign_in");
    assert_eq!(v["seats"], 5);
    assert_eq!(v["bids"].as_array().map(Vec::len), Some(3));
    assert!(v["findings"].is_array(), "{v}");
    let bids = bids_by_bidder(&v);
    let (b1, b2, b3) = (&bids["供应商一有限公司"], &bids["供应商二有限公司"], &bids["供应商三有限公司"]);

    // Sign-in and declarations; the host moves on only with the whole committee.
    ok(&e[0], &tender, json!({"op": "sign_in"})).await;
    refused(&e[0], &tender, json!({"op": "sign_in"}), 409, "already_signed_in").await;
    refused(&staff, &tender, json!({"op": "advance", "from": "sign_in"}), 409, "committee_incomplete").await;
    refused(&e[0], &tender, json!({"op": "advance", "from": "sign_in"}), 403, "forbidden").await;
    for c in e {
        if c.csrf != e[0].csrf {
            ok(c, &tender, json!({"op": "sign_in"})).await;
        }
        ok(c, &tender, json!({"op": "declare", "conflict": false})).await;
    }
    refused(&e[1], &tender, json!({"op": "declare", "conflict": false}), 409, "already_declared").await;
    let v = view(&e[0], &tender).await;
    let sites: Vec<&str> =
        v["members"].as_array().expect("members").iter().filter_map(|m| m["site"].as_str()).collect();
    assert!(sites.contains(&"主场交易中心") && sites.contains(&"客场交易中心"), "{v}");
    refused(&e[0], &tender, json!({"op": "vote_chair", "member": v["me"]}), 409, "out_of_turn").await;
    ok(&staff, &tender, json!({"op": "advance", "from": "sign_in"})).await;
    refused(&staff, &tender, json!({"op": "advance", "from": "sign_in"}), 409, "out_of_turn").await;

    // The chair: the most votes.
    let first = v["me"].clone();
    refused(&staff, &tender, json!({"op": "advance", "from": "chair"}), 409, "no_chair").await;
    for c in e {
        ok(c, &tender, json!({"op": "vote_chair", "member": first})).await;
    }
    let v = view(&supervisor, &tender).await;
    let chair: Vec<&Value> = v["members"].as_array().expect("members").iter().filter(|m| m["chair"] == true).collect();
    assert_eq!(chair.len(), 1);
    assert_eq!(chair[0]["id"], first);
    ok(&staff, &tender, json!({"op": "advance", "from": "chair"})).await;

    // Qualification: supplier 3 fails "legal_entity" by three votes of five, with reasons.
    refused(
        &e[0],
        &tender,
        json!({"op": "vote", "stage": "qualification", "bid": b1, "item": "nope", "pass": true}),
        422,
        "validation_failed",
    )
    .await;
    refused(
        &e[0],
        &tender,
        json!({"op": "vote", "stage": "qualification", "bid": b3, "item": "legal_entity", "pass": false}),
        422,
        "validation_failed",
    )
    .await;
    refused(
        &e[0],
        &tender,
        json!({"op": "vote", "stage": "compliance", "bid": b1, "item": "signed_and_sealed", "pass": true}),
        409,
        "out_of_turn",
    )
    .await;
    let q_items = ["legal_entity", "tax_and_social_security", "no_bad_record"];
    for (i, c) in e.iter().enumerate() {
        for b in [b1, b2, b3] {
            for item in q_items {
                let fail = b == b3 && item == "legal_entity" && i < 3;
                let mut body = json!({"op": "vote", "stage": "qualification", "bid": b, "item": item, "pass": !fail});
                if fail {
                    body["reason"] = json!("营业执照已过有效期");
                }
                ok(c, &tender, body).await;
            }
        }
    }
    ok(&staff, &tender, json!({"op": "advance", "from": "qualification"})).await;
    // Compliance of the two that passed; supplier 3 is out.
    refused(
        &e[0],
        &tender,
        json!({"op": "vote", "stage": "compliance", "bid": b3, "item": "signed_and_sealed", "pass": true}),
        409,
        "bid_out",
    )
    .await;
    refused(&staff, &tender, json!({"op": "advance", "from": "compliance"}), 409, "votes_missing").await;
    for c in e {
        for b in [b1, b2] {
            for item in ["signed_and_sealed", "validity_period", "no_major_deviation"] {
                ok(c, &tender, json!({"op": "vote", "stage": "compliance", "bid": b, "item": item, "pass": true}))
                    .await;
            }
        }
    }
    ok(&staff, &tender, json!({"op": "advance", "from": "compliance"})).await;
    let v = view(&e[0], &tender).await;
    assert_eq!(v["phase"], "scoring");
    let out: Vec<&Value> = v["bids"].as_array().expect("bids").iter().filter(|b| b["out"] == true).collect();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["id"].as_str(), Some(b3.as_str()));

    // A participant's allowance of commands refills with time (60 a minute).
    app.clock.advance(chrono::TimeDelta::minutes(2));
    // Scores: only within 0..max in the item's step; never on a bid that is out.
    let score =
        |bid: &str, item: &str, points: &str| json!({"op": "score", "bid": bid, "item": item, "points": points});
    refused(&e[0], &tender, score(b1, "technical_solution", "7.3"), 422, "score_off_step").await;
    refused(&e[0], &tender, score(b1, "technical_solution", "30.5"), 422, "score_out_of_range").await;
    refused(&e[0], &tender, score(b1, "references", "5"), 422, "score_off_step").await;
    refused(&e[0], &tender, score(b1, "technical_solution", "abc"), 422, "validation_failed").await;
    refused(&e[0], &tender, score(b3, "technical_solution", "20"), 409, "bid_out").await;
    refused(&e[0], &tender, score(b1, "price", "20"), 422, "validation_failed").await;
    // Member 0 is an outlier on the technical solution of bid 1; member 4 gives 6 for
    // references of bid 2 where the others give 8.
    for (i, c) in e.iter().enumerate() {
        for (b, tech) in [(b1, if i == 0 { "10" } else { "25" }), (b2, "20")] {
            ok(c, &tender, score(b, "technical_solution", tech)).await;
            ok(c, &tender, score(b, "implementation_plan", "15.5")).await;
            ok(c, &tender, score(b, "after_sales", "8")).await;
            ok(c, &tender, score(b, "references", if i == 4 && b == b2 { "6" } else { "8" })).await;
        }
    }
    let v = view(&supervisor, &tender).await;
    let mut codes: Vec<String> =
        v["flags"].as_array().expect("flags").iter().map(|f| f["code"].as_str().unwrap_or("").to_string()).collect();
    codes.sort();
    assert_eq!(codes, vec!["needs_reason", "objective_disagrees"], "{v}");
    refused(&staff, &tender, json!({"op": "advance", "from": "scoring"}), 409, "consistency_open").await;
    ok(&e[4], &tender, score(b2, "references", "8")).await;
    let mut with_reason = score(b1, "technical_solution", "10");
    with_reason["reason"] = json!("技术方案未响应第3.2条关键指标");
    ok(&e[0], &tender, with_reason).await;
    assert_eq!(view(&supervisor, &tender).await["flags"], json!([]));
    // A supervisor's note reaches the staff; an expert cannot write one.
    ok(&supervisor, &tender, json!({"op": "note", "text": "评分过程正常"})).await;
    refused(&e[0], &tender, json!({"op": "note", "text": "x"}), 403, "forbidden").await;
    ok(&staff, &tender, json!({"op": "advance", "from": "scoring"})).await;

    app.clock.advance(chrono::TimeDelta::minutes(2));
    expect_error(staff.get(&format!("/api/v1/tenders/{tender}/evaluation/report.pdf")).await, 409, "out_of_turn").await;
    // Signing: the password again; after it, nothing of the sheet changes.
    refused(&e[1], &tender, json!({"op": "sign", "password": "wrong-password1"}), 422, "password_wrong").await;
    ok(&e[1], &tender, json!({"op": "sign", "password": PASSWORD})).await;
    refused(&e[1], &tender, score(b1, "after_sales", "9"), 409, "sheet_signed").await;
    refused(&e[1], &tender, json!({"op": "sign", "password": PASSWORD}), 409, "sheet_signed").await;
    let me1 = view(&e[1], &tender).await;
    let member1 = me1["me"].clone();
    let mine: Vec<&Value> = me1["my_scores"]
        .as_array()
        .expect("scores")
        .iter()
        .filter(|s| s["item"] == "after_sales" && s["bid"] == json!(b1))
        .collect();
    assert_eq!(mine[0]["points"], 800, "the refused score changed nothing");
    // Only the chair reopens, only for an art. 64 reason.
    refused(
        &e[2],
        &tender,
        json!({"op": "reopen", "member": member1, "reason": "sum_error", "note": "汇总有误"}),
        403,
        "not_chair",
    )
    .await;
    let chair_client = e.iter().find(|c| c.csrf == e[0].csrf).expect("chair");
    let unsigned = view(&e[2], &tender).await["me"].clone();
    // Not a signed sheet; not a reason of art. 64.
    for (member, reason, status, code) in
        [(&unsigned, "sum_error", 409, "not_signed"), (&member1, "tired", 422, "json_invalid")]
    {
        let body = json!({"op": "reopen", "member": member, "reason": reason, "note": "汇总有误"});
        refused(chair_client, &tender, body, status, code).await;
    }
    ok(
        chair_client,
        &tender,
        json!({"op": "reopen", "member": member1, "reason": "extreme_score", "note": "售后服务评分偏高，请复核"}),
    )
    .await;
    ok(&e[1], &tender, score(b1, "after_sales", "8")).await;
    ok(&e[2], &tender, json!({"op": "dissent", "text": "对第二包技术评分保留意见"})).await;
    refused(&staff, &tender, json!({"op": "advance", "from": "signing"}), 409, "sheets_unsigned").await;
    for c in e {
        ok(c, &tender, json!({"op": "sign", "password": PASSWORD})).await;
    }

    // The result: supplier 1 (small, 10 % off) is the benchmark with 30 price points;
    // supplier 2 (micro) 3,341,111.10 evaluated: 3,285,000.00 / 3,341,111.10 × 30 = 29.50.
    let v = view(&supervisor, &tender).await;
    assert_eq!(v["phase"], "signed");
    assert_eq!(v["report_sha256"].as_str().map(str::len), Some(64));
    let rows = v["results"].as_array().expect("results");
    let row = |b: &str| rows.iter().find(|r| r["bid"] == json!(b)).cloned().expect("row");
    assert_eq!(row(b1)["evaluated_price"], 328_500_000);
    assert_eq!(row(b2)["evaluated_price"], 334_111_110);
    assert_eq!(row(b1)["price_score"], 3000);
    assert_eq!(row(b2)["price_score"], 2950);
    // Bid 1's technical mean: (10 + 25 × 4) / 5 = 22.00; total 22 + 15.5 + 8 + 8 + 30 = 83.50.
    assert_eq!(row(b1)["item_means"], json!([2200, 1550, 800, 800]));
    assert_eq!(row(b1)["total"], 8350);
    assert_eq!(row(b2)["total"], 2000 + 1550 + 800 + 800 + 2950);
    assert_eq!(row(b1)["rank"], 1);
    assert_eq!(row(b2)["rank"], 2);
    assert_eq!(row(b3)["passed"], false);
    assert!(row(b3)["failed_items"].to_string().contains("营业执照已过有效期"));
    assert!(v["remarks"].to_string().contains("extreme_score"));
    assert!(v["remarks"].to_string().contains("保留意见"));
    refused(&e[0], &tender, score(b1, "after_sales", "9"), 409, "out_of_turn").await;

    // The report: a PDF for the committee, the centre, supervisors and the tender's managers,
    // whose attached JSON has the recorded digest; the bidders never get it.
    let r = agency.get(&format!("/api/v1/tenders/{tender}/evaluation/report.pdf")).await;
    assert_eq!(r.status(), 200);
    let pdf = r.bytes().await.expect("pdf");
    assert!(pdf.starts_with(b"%PDF"));
    let json = tenderhall::pdf::writer::attachment(&pdf, "evaluation-report.json").expect("attachment");
    let digest = hex::encode(ring::digest::digest(&ring::digest::SHA256, &json).as_ref());
    assert_eq!(v["report_sha256"].as_str(), Some(digest.as_str()));
    let report: Value = serde_json::from_slice(&json).expect("json");
    assert_eq!(report["members"].as_array().map(Vec::len), Some(5));
    expect_error(supplier.get(&format!("/api/v1/tenders/{tender}/evaluation/report.pdf")).await, 404, "not_found")
        .await;

    // The experts' live events never carry a score, a vote or the supervisors' notes.
    let events = e[3].get_json(&format!("/api/v1/tenders/{tender}/evaluation/events?after=0")).await;
    let text = events.to_string();
    assert!(text.contains("completed") && !text.contains("评分过程正常") && !text.contains("points"), "{text}");
    let staff_events = supervisor.get_json(&format!("/api/v1/tenders/{tender}/evaluation/events?after=0")).await;
    assert!(staff_events.to_string().contains("评分过程正常"));
    // Every score is in the audit chain.
    let audit = supervisor.get_json("/api/v1/audit/records?action=evaluation.score").await;
    assert!(audit.as_array().map(Vec::len).unwrap_or(0) >= 40, "{audit}");
}

#[tokio::test]
async fn a_conflict_calls_a_replacement_and_the_representative_cannot_chair() {
    let Committee { app, tender, staff, seated, others, .. } = committee(2, 2, true).await;
    // The representative seat needs a procuring unit's staff member of this tender's unit.
    expect_error(
        staff.post(&format!("/api/v1/tenders/{tender}/evaluation"), &json!({})).await,
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        staff.post(&format!("/api/v1/tenders/{tender}/evaluation"), &json!({"representative": "buyer_b"})).await,
        422,
        "validation_failed",
    )
    .await;
    let r = staff.post(&format!("/api/v1/tenders/{tender}/evaluation"), &json!({"representative": "buyer_a"})).await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    let rep = Client::login(&app, "buyer_a").await;
    let rep_view = view(&rep, &tender).await;
    assert_eq!(rep_view["seats"], 5);
    let rep_id = rep_view["me"].clone();
    assert!(rep_id.is_string(), "{rep_view}");

    // The first expert declares a conflict: it leaves, and the reserve of its group is invited.
    ok(&seated[0], &tender, json!({"op": "sign_in"})).await;
    refused(&seated[0], &tender, json!({"op": "declare", "conflict": true}), 422, "validation_failed").await;
    ok(&seated[0], &tender, json!({"op": "declare", "conflict": true, "note": "曾在投标人供应商一有限公司兼职"})).await;
    expect_error(seated[0].get(&format!("/api/v1/tenders/{tender}/evaluation")).await, 404, "not_found").await;
    let mut replacement = None;
    for c in &others {
        let inv = c.get_json("/api/v1/me/invitations").await;
        if let Some(p) = inv.as_array().and_then(|a| a.iter().find(|i| i["status"] == "invited")) {
            let r = c
                .post(
                    &format!("/api/v1/invitations/{}/answer", p["id"].as_str().expect("id")),
                    &json!({"accept": true}),
                )
                .await;
            assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
            replacement = Some(c);
        }
    }
    let replacement = replacement.expect("a replacement was invited");
    let mut members: Vec<&Client> = vec![replacement, &rep];
    members.extend(seated.iter().skip(1));
    for c in &members {
        if c.csrf != rep.csrf {
            ok(c, &tender, json!({"op": "sign_in"})).await;
        }
        ok(c, &tender, json!({"op": "declare", "conflict": false})).await;
    }
    // A second declaration through the page is refused in the page, which says why.
    let form = [
        ("_csrf", rep.csrf.clone()),
        ("op", "declare".to_string()),
        ("conflict", "no".to_string()),
        ("note", "再次确认".to_string()),
    ];
    let r = act_page(&rep, &tender, &form).await;
    assert_eq!(r.status(), 409);
    let page = r.text().await.expect("page");
    assert!(page.contains("已签署回避承诺") && page.contains("data-code=\"already_declared\""), "{page}");
    ok(&staff, &tender, json!({"op": "advance", "from": "sign_in"})).await;
    let v = view(&staff, &tender).await;
    assert_eq!(v["members"].as_array().map(|m| m.iter().filter(|m| m["status"] == "seated").count()), Some(5));
    assert_eq!(v["members"].as_array().map(|m| m.iter().filter(|m| m["status"] == "withdrawn").count()), Some(1));
    refused(&seated[1], &tender, json!({"op": "vote_chair", "member": rep_id}), 422, "rep_cannot_chair").await;

    // The pages: the members' forms of the phase, the host's control, the refusal in the page.
    let page = seated[1].get(&format!("/tenders/{tender}/evaluation")).await.text().await.expect("page");
    assert!(page.contains("data-testid=\"chair-vote\"") && page.contains("客场交易中心"), "{page}");
    assert!(!page.contains("data-testid=\"host-controls\""));
    let host_page = staff.get(&format!("/tenders/{tender}/evaluation")).await.text().await.expect("page");
    assert!(host_page.contains("data-testid=\"advance\""));
    let rep_str = rep_id.as_str().expect("id").to_string();
    let form = [("_csrf", seated[1].csrf.clone()), ("op", "vote_chair".to_string()), ("member", rep_str)];
    let r = act_page(&seated[1], &tender, &form).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("page").contains("采购人代表不得担任评标委员会组长"));
    let member = view(&seated[1], &tender).await["me"].as_str().expect("me").to_string();
    for c in &members {
        let form = [("_csrf", c.csrf.clone()), ("op", "vote_chair".to_string()), ("member", member.clone())];
        let r = act_page(c, &tender, &form).await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    }
    let v = view(&staff, &tender).await;
    assert!(
        v["members"].as_array().expect("members").iter().any(|m| m["chair"] == true && m["id"] == json!(member)),
        "{v}"
    );
    let agency = Client::login(&app, "agency_x").await;
    assert_eq!(agency.get(&format!("/tenders/{tender}/evaluation")).await.status(), 404);
    // The draw's record shows the withdrawal and the call.
    let supervisor = Client::login(&app, "supervisor").await;
    let audit = supervisor.get_json("/api/v1/audit/records?action=draw.replace").await;
    assert!(audit.to_string().contains("withdrew"), "{audit}");
}

/// The demo's evaluation show: after the opening show, a committee of five is drawn (expert1
/// always among them), the simulated experts, the newcomer's part included once it is left
/// alone, take the session to the signed report, and the draw verifies.
#[tokio::test]
async fn the_demo_evaluates_its_opening_show_with_simulated_experts() {
    use tenderhall::demo;
    let app = crate::support::TestApp::with_demo_data().await;
    let tender = app.play_opening_show().await;
    assert_eq!(demo::evaluation::unfinished(&app.state).await.expect("unfinished"), vec![tender]);
    app.play_evaluation_show(tender).await;

    let supervisor = crate::client::Client::with_password(&app, "supervisor", demo::PASSWORD).await;
    let v = view(&supervisor, &tender.to_string()).await;
    assert_eq!(v["phase"], "signed", "{v}");
    let members = v["members"].as_array().expect("members");
    assert_eq!(members.len(), 5, "{v}");
    assert!(members.iter().all(|m| m["signed_at"].is_string() && m["declared"] == true), "{v}");
    let at = |site: &str| members.iter().filter(|m| m["site"] == site).count();
    assert_eq!((at(demo::experts::HOST_SITE), at(demo::experts::GUEST_SITE)), (3, 2), "{v}");
    assert_eq!(members.iter().filter(|m| m["chair"] == true).count(), 1);
    // Three bids opened (supplier1's is the newcomer's to decrypt), all ranked.
    let mut ranks: Vec<i64> =
        v["results"].as_array().expect("results").iter().filter_map(|r| r["rank"].as_i64()).collect();
    ranks.sort_unstable();
    assert_eq!(ranks, vec![1, 2, 3], "{v}");
    assert!(v["results"].as_array().expect("results").iter().all(|r| r["price_score"].as_i64() > Some(0)));
    assert!(v["remarks"].to_string().contains("未发现倾向性评分"), "the supervisor's note: {v}");
    assert!(v["report_sha256"].as_str().is_some_and(|s| s.len() == 64));
    // expert1 sits, and its part was played when nobody took it.
    let expert1 = crate::client::Client::with_password(&app, demo::evaluation::NEWCOMER, demo::PASSWORD).await;
    let mine = view(&expert1, &tender.to_string()).await;
    assert!(mine["me"].is_string(), "{mine}");
    assert_eq!(mine["my_scores"].as_array().map(Vec::len), Some(3 * 4), "{mine}");
    let r = expert1.get(&format!("/api/v1/tenders/{tender}/evaluation/report.pdf")).await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.expect("pdf").starts_with(b"%PDF-"));
    // The draw is the verifiable one.
    let centre =
        tenderhall::accounts::service::actor_by_username(&app.state.db, "centre").await.expect("db").expect("centre");
    let draw =
        tenderhall::draw::service::of_tender(&app.state.draws, &centre, tender).await.expect("draw").expect("a draw");
    let verified = supervisor.get_json(&format!("/api/v1/draws/{}/verify", draw.id)).await;
    assert_eq!(verified["ok"], true, "{verified}");
    // Nothing is left for a later launch.
    assert!(demo::evaluation::unfinished(&app.state).await.expect("unfinished").is_empty());
}

/// No session for a tender that is not in evaluation, nor before the committee's draw is
/// published: neither without a draw nor with one still waiting for its contribution.
#[tokio::test]
async fn a_session_needs_a_published_draw() {
    let (app, tender) = evaluating(Box::new(|_| {})).await;
    let (host, guest) = sites(&app).await;
    let staff = Client::login(&app, "centre_staff").await;
    // A tender still open for bids has no session.
    let agency = Client::login(&app, "agency_x").await;
    let bidding = crate::tenders::published_tender(&app, &agency).await;
    let r = staff.post(&format!("/api/v1/tenders/{bidding}/evaluation"), &json!({})).await;
    expect_error(r, 409, "wrong_state").await;
    let url = format!("/api/v1/tenders/{tender}/evaluation");
    let body = json!({});
    let open = || staff.post(&url, &body);
    expect_error(open().await, 409, "draw_not_published").await;
    for n in 1..=4 {
        expert(&staff, n, &host, json!({}), true).await;
    }
    for n in 20..=22 {
        expert(&staff, n, &guest, json!({}), true).await;
    }
    let draw = prepare(&staff, &tender).await;
    let r = staff.put(&format!("/api/v1/draws/{draw}/request"), &request(&host, &guest, session(&app), 3, 2)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    expect_error(open().await, 409, "draw_not_published").await;
    expect_error(staff.get(&format!("/api/v1/tenders/{tender}/evaluation")).await, 404, "not_found").await;
}

/// The room survives a server restart: the phase, the votes cast and the events' numbering
/// carry on in a new server process, and the session goes on from there.
#[tokio::test]
async fn a_session_carries_on_across_a_server_restart() {
    use crate::support::{ServerProcess, free_port};
    let Committee { mut app, tender, staff, seated, users, .. } = committee(3, 2, false).await;
    let r = staff.post(&format!("/api/v1/tenders/{tender}/evaluation"), &json!({})).await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    for c in &seated {
        ok(c, &tender, json!({"op": "sign_in"})).await;
        ok(c, &tender, json!({"op": "declare", "conflict": false})).await;
    }
    ok(&staff, &tender, json!({"op": "advance", "from": "sign_in"})).await;
    let chair = view(&seated[0], &tender).await["me"].clone();
    for c in &seated[..2] {
        ok(c, &tender, json!({"op": "vote_chair", "member": chair})).await;
    }
    let before = view(&staff, &tender).await;

    let dir = app.dir.path().to_path_buf();
    app.stop_server();
    let port = free_port();
    let vars = app.process_env(port);
    let mut server = ServerProcess::start(&vars, port, &dir).await;
    let staff = crate::resumable::login_as(&server.base, "centre_staff").await;
    let after = view(&staff, &tender).await;
    assert_eq!(after["phase"], "chair");
    assert_eq!(after["last_seq"], before["last_seq"]);
    assert_eq!(after["members"], before["members"], "the same members, the same two votes");
    let mut experts = Vec::new();
    for u in &users {
        experts.push(crate::resumable::login_as(&server.base, u).await);
    }
    refused(&experts[0], &tender, json!({"op": "sign_in"}), 409, "out_of_turn").await;
    for c in &experts[2..] {
        ok(c, &tender, json!({"op": "vote_chair", "member": chair})).await;
    }
    ok(&staff, &tender, json!({"op": "advance", "from": "chair"})).await;
    let v = view(&staff, &tender).await;
    assert_eq!(v["phase"], "qualification", "{v}");
    assert!(v["members"].as_array().expect("members").iter().any(|m| m["chair"] == true && m["id"] == chair));
    let events = staff.get_json(&format!("/api/v1/tenders/{tender}/evaluation/events?after=0")).await;
    let seqs: Vec<i64> = events.as_array().expect("events").iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "numbered without gaps across the restart");
    server.kill();
}
