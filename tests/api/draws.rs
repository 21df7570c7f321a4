//! The random draw of an evaluation committee: avoidance with a reason per excluded expert, the
//! commit–contribute–reveal derivation verified from the record (and an altered record failing),
//! answers, replacements by decline and by silence, publication, confidentiality of the experts'
//! identities, and every role's refusal.

use crate::client::{Client, expect_error};
use crate::opening::{hall_with, ok, release};
use crate::support::TestApp;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use tenderhall::clock::Clock;

/// A valid 18-digit identity number (GB 11643 check character) from a serial number.
fn id_number(n: u32) -> String {
    let body = format!("11010519{:02}{:02}{:02}{:03}", 60 + n % 30, 1 + n % 12, 1 + n % 28, n % 1000);
    let body = &body[..17];
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body.chars().zip(W).map(|(c, w)| c.to_digit(10).unwrap_or(0) * w).sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

/// A tender whose opening has closed: in evaluation, with three bidders.
pub(crate) async fn evaluating(hook: crate::support::SettingsHook) -> (TestApp, String) {
    let (app, tender, host, bidders) = hall_with(
        1,
        Box::new(move |s| {
            s.opening.sign_in_minutes = 0;
            s.opening.confirm_minutes = 0;
            hook(s);
        }),
    )
    .await;
    ok(&host, &tender, json!({"op": "start_decryption"})).await;
    for (b, sealed) in &bidders {
        ok(&b.client, &tender, release(sealed)).await;
    }
    ok(&host, &tender, json!({"op": "advance"})).await;
    app.clock.advance(TimeDelta::minutes(10));
    app.tick().await;
    ok(&host, &tender, json!({"op": "advance"})).await;
    let t = host.get_json(&format!("/api/v1/tenders/{tender}")).await;
    assert_eq!(t["state"], "evaluating");
    (app, tender)
}

/// Two sites: the host and a guest in another city.
pub(crate) async fn sites(app: &TestApp) -> (String, String) {
    let admin = Client::login(app, "admin").await;
    let mut ids = Vec::new();
    for (name, city) in [("主场交易中心", "杭州"), ("客场交易中心", "宁波")] {
        let r = admin.post("/api/v1/admin/sites", &json!({"name": name, "city": city, "seats": 20})).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
        ids.push(r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string());
    }
    (ids[0].clone(), ids[1].clone())
}

/// Adds an expert (and, with `login`, its account); returns its public id.
pub(crate) async fn expert(staff: &Client, n: u32, site: &str, extra: Value, login: bool) -> String {
    let mut body = json!({
        "name": format!("专家{n:02}"),
        "id_number": id_number(n),
        "phone": format!("139{:08}", 10_000_000 + n),
        "title": "高级工程师",
        "site": site,
        "specialties": ["B0101"],
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let r = staff.post("/api/v1/experts", &body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    if login {
        let r = staff
            .post(
                &format!("/api/v1/experts/{id}/account"),
                &json!({"username": format!("expert{n:02}"), "password": crate::support::PASSWORD}),
            )
            .await;
        assert!(r.status().is_success(), "{}", r.text().await.unwrap_or_default());
    }
    id
}

/// The session time used by the tests: two days from now.
pub(crate) fn session(app: &TestApp) -> DateTime<Utc> {
    app.clock.now() + TimeDelta::days(2)
}

pub(crate) fn request(host: &str, guest: &str, at: DateTime<Utc>, host_count: u32, guest_count: u32) -> Value {
    json!({
        "groups": [
            {"specialty": "B01", "site": host, "count": host_count},
            {"specialty": "B01", "site": guest, "count": guest_count}
        ],
        "reserve": 1,
        "session_at": at,
        "duration_minutes": 240
    })
}

pub(crate) async fn prepare(staff: &Client, tender: &str) -> String {
    let r = staff.post_empty(&format!("/api/v1/tenders/{tender}/draw")).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string()
}

pub(crate) fn contribution() -> Value {
    json!({"contribution": "5a".repeat(32)})
}

#[tokio::test]
async fn each_avoidance_rule_excludes_the_expert_with_its_reason() {
    let (app, tender) = evaluating(Box::new(|_| {})).await;
    let (host, guest) = sites(&app).await;
    let staff = Client::login(&app, "centre_staff").await;
    let day = (session(&app) + TimeDelta::hours(8)).date_naive().to_string();
    // Enough ordinary experts at each site.
    for n in 1..=6 {
        expert(&staff, n, &host, json!({}), false).await;
    }
    for n in 7..=9 {
        expert(&staff, n, &guest, json!({}), false).await;
    }
    let suspended = expert(&staff, 20, &host, json!({}), false).await;
    let r = staff.post(&format!("/api/v1/experts/{suspended}/suspend"), &json!({"reason": "年度考核不合格"})).await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap_or_default());
    let unavailable = expert(&staff, 21, &host, json!({"unavailable": [day]}), false).await;
    let bidder_employee = expert(
        &staff,
        22,
        &host,
        json!({"employments": [{"employer": "供应商一有限公司", "from": "2019-03-01"}]}),
        false,
    )
    .await;
    let former_unit_employee = expert(
        &staff,
        23,
        &host,
        json!({"employments": [{"employer": "甲采购单位", "from": "2015-01-01", "until": (app.clock.now() - TimeDelta::days(700)).date_naive().to_string()}]}),
        false,
    )
    .await;
    let long_ago = expert(
        &staff,
        24,
        &host,
        json!({"employments": [{"employer": "甲采购单位", "from": "2010-01-01", "until": (app.clock.now() - TimeDelta::days(4 * 365)).date_naive().to_string()}]}),
        false,
    )
    .await;
    let conflicted = expert(
        &staff,
        25,
        &host,
        json!({"conflicts": [{"credit_code": "91330100MA27XL0Y8B", "org_name": "X招标代理"}]}),
        false,
    )
    .await;
    let other_site_only = {
        let admin = Client::login(&app, "admin").await;
        let r = admin.post("/api/v1/admin/sites", &json!({"name": "第三场地", "city": "温州", "seats": 5})).await;
        let third = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
        expert(&staff, 26, &third, json!({}), false).await
    };
    let other_specialty = expert(&staff, 27, &host, json!({"specialties": ["A0101"]}), false).await;

    let draw = prepare(&staff, &tender).await;
    let r = staff.put(&format!("/api/v1/draws/{draw}/request"), &request(&host, &guest, session(&app), 3, 2)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let v: Value = r.json().await.expect("json");
    let reasons: HashMap<String, Vec<String>> =
        v["exclusions"].as_array().expect("exclusions").iter().fold(HashMap::new(), |mut m, x| {
            m.entry(x["expert"].as_str().unwrap_or("").to_string())
                .or_default()
                .push(x["reason"].as_str().unwrap_or("").to_string());
            m
        });
    assert_eq!(reasons.get(&suspended), Some(&vec!["suspended".to_string()]), "{reasons:?}");
    assert_eq!(reasons.get(&unavailable), Some(&vec!["unavailable".to_string()]));
    assert_eq!(reasons.get(&bidder_employee), Some(&vec!["employed_by_party".to_string()]));
    assert_eq!(reasons.get(&former_unit_employee), Some(&vec!["employed_by_party".to_string()]));
    assert_eq!(reasons.get(&conflicted), Some(&vec!["declared_conflict".to_string()]));
    assert_eq!(reasons.get(&other_site_only), Some(&vec!["site_not_requested".to_string()]));
    // Left more than three years ago: eligible. Another specialty: not a candidate at all.
    assert!(!reasons.contains_key(&long_ago));
    assert!(!reasons.contains_key(&other_specialty));
    let detail = v["exclusions"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["expert"] == bidder_employee.as_str()))
        .map(|x| x["detail"].as_str().unwrap_or("").to_string())
        .unwrap_or_default();
    assert!(detail.contains("bidder") && detail.contains("供应商一有限公司"), "{detail}");
    assert_eq!(v["excluded_count"], 6);
    assert_eq!(v["eligible_count"], 10, "6 + 3 ordinary and the one who left long ago");
    // The page lists them with the reasons in words.
    let page = staff.get(&format!("/draws/{draw}")).await.text().await.expect("page");
    assert!(
        page.contains("现在或近三年任职于投标人、采购人或代理机构") && page.contains("专家22"),
        "exclusions on the page"
    );
}

#[tokio::test]
async fn a_draw_is_invited_replaced_published_and_verified_and_identities_stay_hidden() {
    let (app, tender) = evaluating(Box::new(|_| {})).await;
    let (host, guest) = sites(&app).await;
    let staff = Client::login(&app, "centre_staff").await;
    let mut logins: HashMap<String, u32> = HashMap::new();
    for n in 1..=7 {
        logins.insert(expert(&staff, n, &host, json!({}), true).await, n);
    }
    for n in 8..=11 {
        logins.insert(expert(&staff, n, &guest, json!({}), true).await, n);
    }
    let supervisor = Client::login(&app, "supervisor").await;
    let agency = Client::login(&app, "agency_x").await;
    let buyer = Client::login(&app, "buyer_a").await;
    let supplier = Client::login(&app, "supplier_1").await;

    // Only the centre prepares; a draw only for a tender in evaluation, once.
    expect_error(agency.post_empty(&format!("/api/v1/tenders/{tender}/draw")).await, 403, "forbidden").await;
    expect_error(supplier.post_empty(&format!("/api/v1/tenders/{tender}/draw")).await, 403, "forbidden").await;
    let draw = prepare(&staff, &tender).await;
    expect_error(staff.post_empty(&format!("/api/v1/tenders/{tender}/draw")).await, 409, "draw_exists").await;
    let v = staff.get_json(&format!("/api/v1/draws/{draw}")).await;
    let commitment = v["commitment"].as_str().expect("commitment").to_string();
    assert_eq!(commitment.len(), 64);
    assert!(v["secret"].is_null());
    // The commitment is in the audit chain before the request.
    let audit = supervisor.get_json("/api/v1/audit/records?action=draw.commit").await;
    assert!(audit.to_string().contains(&commitment), "{audit}");

    // The supervisor cannot request; the centre cannot contribute; nothing before the request.
    let req = request(&host, &guest, session(&app), 3, 2);
    expect_error(supervisor.put(&format!("/api/v1/draws/{draw}/request"), &req).await, 403, "forbidden").await;
    expect_error(
        supervisor.post(&format!("/api/v1/draws/{draw}/contribution"), &contribution()).await,
        409,
        "wrong_state",
    )
    .await;
    let r = staff.put(&format!("/api/v1/draws/{draw}/request"), &req).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    expect_error(staff.put(&format!("/api/v1/draws/{draw}/request"), &req).await, 409, "wrong_state").await;
    expect_error(staff.post(&format!("/api/v1/draws/{draw}/contribution"), &contribution()).await, 403, "forbidden")
        .await;
    expect_error(
        supervisor.post(&format!("/api/v1/draws/{draw}/contribution"), &json!({"contribution": "xyz"})).await,
        422,
        "validation_failed",
    )
    .await;
    let r = supervisor.post(&format!("/api/v1/draws/{draw}/contribution"), &contribution()).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let v: Value = r.json().await.expect("json");
    let invited: Vec<Value> =
        v["picks"].as_array().expect("picks").iter().filter(|p| p["status"] == "invited").cloned().collect();
    assert_eq!(invited.len(), 5);
    assert_eq!(v["picks"].as_array().map(|p| p.len()), Some(7), "5 members and a reserve per group");
    let names: Vec<String> =
        v["picks"].as_array().expect("picks").iter().map(|p| p["name"].as_str().unwrap_or("").to_string()).collect();

    // Before publication the tender's managers and bidders learn nothing of the draw.
    for c in [&agency, &buyer, &supplier] {
        expect_error(c.get(&format!("/api/v1/draws/{draw}")).await, 404, "not_found").await;
        expect_error(c.get(&format!("/api/v1/draws/{draw}/record")).await, 404, "not_found").await;
        let t = c.get(&format!("/api/v1/tenders/{tender}")).await.text().await.expect("tender");
        let page = c.get(&format!("/tenders/{tender}")).await.text().await.expect("page");
        for n in &names {
            assert!(!t.contains(n.as_str()) && !page.contains(n.as_str()), "{n} shown before publication");
        }
    }

    // Each invited expert is told when, where and how long, never the tender.
    let first = &invited[0];
    let n = logins[first["expert"].as_str().expect("expert")];
    let e1 = Client::login(&app, &format!("expert{n:02}")).await;
    let inv = e1.get_json("/api/v1/me/invitations").await;
    assert_eq!(inv.as_array().map(|a| a.len()), Some(1), "{inv}");
    let notices = e1.get_json("/api/v1/notifications").await;
    assert!(notices.to_string().contains("expert_invited"), "{notices}");
    let title = agency.get_json(&format!("/api/v1/tenders/{tender}")).await;
    for text in [inv.to_string(), notices.to_string()] {
        assert!(
            !text.contains(title["title"].as_str().unwrap_or("?"))
                && !text.contains(title["code"].as_str().unwrap_or("?"))
        );
        assert!(!text.contains("供应商"), "no bidder in an expert's invitation");
    }
    // Another expert's invitation is not found; the first one declines: its group's reserve is called.
    let other = logins[invited[1]["expert"].as_str().expect("expert")];
    let e2 = Client::login(&app, &format!("expert{other:02}")).await;
    let first_pick = first["id"].as_str().expect("id");
    expect_error(
        e2.post(&format!("/api/v1/invitations/{first_pick}/answer"), &json!({"accept": true})).await,
        404,
        "not_found",
    )
    .await;
    let r =
        e1.post(&format!("/api/v1/invitations/{first_pick}/answer"), &json!({"accept": false, "note": "出差"})).await;
    assert_eq!(r.status(), 204);
    expect_error(
        e1.post(&format!("/api/v1/invitations/{first_pick}/answer"), &json!({"accept": true})).await,
        409,
        "not_invited",
    )
    .await;
    let v = staff.get_json(&format!("/api/v1/draws/{draw}")).await;
    let group = first["group"].as_i64();
    let reserve = v["picks"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["role"] == "reserve" && p["group"].as_i64() == group).cloned())
        .expect("reserve");
    assert_eq!(reserve["status"], "invited", "the reserve is called: {v}");

    // Everyone else but one confirms themselves; the last stays silent past the deadline.
    let v = staff.get_json(&format!("/api/v1/draws/{draw}")).await;
    let open: Vec<Value> =
        v["picks"].as_array().expect("picks").iter().filter(|p| p["status"] == "invited").cloned().collect();
    assert_eq!(open.len(), 5);
    let (silent, answering) = open.split_first().expect("one");
    for p in answering {
        let n = logins[p["expert"].as_str().expect("expert")];
        let c = Client::login(&app, &format!("expert{n:02}")).await;
        let r = c
            .post(&format!("/api/v1/invitations/{}/answer", p["id"].as_str().unwrap_or("")), &json!({"accept": true}))
            .await;
        assert_eq!(r.status(), 204);
    }
    expect_error(staff.post_empty(&format!("/api/v1/draws/{draw}/publish")).await, 409, "seats_open").await;
    app.clock.advance(TimeDelta::minutes(31));
    let late = logins[silent["expert"].as_str().expect("expert")];
    let c = Client::login(&app, &format!("expert{late:02}")).await;
    expect_error(
        c.post(
            &format!("/api/v1/invitations/{}/answer", silent["id"].as_str().unwrap_or("")),
            &json!({"accept": true}),
        )
        .await,
        409,
        "answer_too_late",
    )
    .await;
    app.tick().await;
    let v = staff.get_json(&format!("/api/v1/draws/{draw}")).await;
    let timed_out =
        v["picks"].as_array().and_then(|p| p.iter().find(|x| x["id"] == silent["id"]).cloned()).expect("pick");
    assert_eq!(timed_out["status"], "timed_out");
    let called: Vec<Value> =
        v["picks"].as_array().expect("picks").iter().filter(|p| p["status"] == "invited").cloned().collect();
    assert_eq!(called.len(), 1, "one replacement called: {v}");
    // The centre records its answer given by phone, with a note.
    let pick = called[0]["id"].as_str().expect("id");
    expect_error(
        staff.post(&format!("/api/v1/invitations/{pick}/answer"), &json!({"accept": true})).await,
        422,
        "validation_failed",
    )
    .await;
    let r =
        staff.post(&format!("/api/v1/invitations/{pick}/answer"), &json!({"accept": true, "note": "电话确认"})).await;
    assert_eq!(r.status(), 204);

    // Published: the secret is revealed and the record verifies, on the server and offline.
    expect_error(agency.post_empty(&format!("/api/v1/draws/{draw}/publish")).await, 403, "forbidden").await;
    let v: Value = staff
        .req(reqwest::Method::POST, &format!("/api/v1/draws/{draw}/publish"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(v["state"], "published");
    let secret = v["secret"].as_str().expect("secret");
    assert_eq!(
        hex::encode(ring::digest::digest(&ring::digest::SHA256, &hex::decode(secret).expect("hex")).as_ref()),
        commitment
    );
    let report = supervisor.get_json(&format!("/api/v1/draws/{draw}/verify")).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["calls"], 2);
    let page = supervisor.get(&format!("/draws/{draw}/verify")).await.text().await.expect("page");
    assert!(page.contains("data-ok=\"true\""));
    let record = supervisor.get_json(&format!("/api/v1/draws/{draw}/record")).await;
    let dir = tempfile::tempdir().expect("dir");
    let good = dir.path().join("draw.json");
    std::fs::write(&good, record.to_string()).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tenderhall"))
        .args(["draw", "verify"])
        .arg(&good)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("VALID"));
    // An altered record fails: another expert in the committee, or a changed eligible list.
    let mut bad = record.clone();
    let committee = bad["recorded"]["committee"].as_array_mut().expect("committee");
    committee.swap(0, 1);
    let bad_file = dir.path().join("bad.json");
    std::fs::write(&bad_file, bad.to_string()).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tenderhall"))
        .args(["draw", "verify"])
        .arg(&bad_file)
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("INVALID"));
    let mut bad = record.clone();
    bad["recorded"]["inputs"]["eligible"].as_array_mut().expect("eligible").pop();
    std::fs::write(&bad_file, bad.to_string()).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tenderhall"))
        .args(["draw", "verify"])
        .arg(&bad_file)
        .output()
        .expect("run");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("eligible list digest"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // After publication the tender's managers see the committee, bidders still nothing.
    let seen = agency.get_json(&format!("/api/v1/draws/{draw}")).await;
    assert_eq!(seen["picks"].as_array().map(|p| p.len()), Some(5), "the committee only: {seen}");
    assert!(seen["exclusions"].as_array().is_some_and(|e| e.is_empty()));
    expect_error(supplier.get(&format!("/api/v1/draws/{draw}")).await, 404, "not_found").await;

    // A day before the session each member of the committee is reminded once, of when, where
    // and how long, never of the tender; the expert who declined is not.
    let at: DateTime<Utc> = seen["session_at"].as_str().expect("session").parse().expect("time");
    app.clock.set(at - TimeDelta::hours(24) - TimeDelta::seconds(1));
    app.tick().await;
    let soon = |c: Value| {
        c.as_array().expect("list").iter().filter(|n| n["kind"] == "evaluation_soon").cloned().collect::<Vec<_>>()
    };
    let member = logins[seen["picks"][0]["expert"].as_str().expect("expert")];
    let c = Client::login(&app, &format!("expert{member:02}")).await;
    assert!(soon(c.get_json("/api/v1/notifications").await).is_empty(), "not before its time");
    app.clock.set(at - TimeDelta::hours(24));
    app.tick().await;
    app.tick().await;
    for p in seen["picks"].as_array().expect("picks") {
        let n = logins[p["expert"].as_str().expect("expert")];
        let c = Client::login(&app, &format!("expert{n:02}")).await;
        let got = soon(c.get_json("/api/v1/notifications?lang=zh-CN").await);
        assert_eq!(got.len(), 1, "expert{n:02}: {got:?}");
        let text = got[0]["text"].as_str().expect("text");
        assert!(text.contains("评标") && !text.contains(title["title"].as_str().unwrap_or("?")), "{text}");
    }
    let e1 = Client::login(&app, &format!("expert{n:02}")).await;
    assert!(soon(e1.get_json("/api/v1/notifications").await).is_empty(), "the expert who declined");
}

#[tokio::test]
async fn requests_that_break_the_committee_rules_are_refused_with_the_numbers() {
    let (app, tender) = evaluating(Box::new(|s| s.draw.large_budget_yuan = 3_000_000)).await;
    let (host, guest) = sites(&app).await;
    let staff = Client::login(&app, "centre_staff").await;
    for n in 1..=9 {
        expert(&staff, n, if n <= 6 { &host } else { &guest }, json!({}), false).await;
    }
    let draw = prepare(&staff, &tender).await;
    let put = |body: Value| {
        let staff = &staff;
        let draw = draw.clone();
        async move { staff.put(&format!("/api/v1/draws/{draw}/request"), &body).await }
    };
    // The lot's budget is over the (lowered) threshold: 7 at least.
    let body = expect_error(put(request(&host, &guest, session(&app), 3, 2)).await, 422, "committee_too_small").await;
    assert!(body.to_string().contains("7"), "{body}");
    expect_error(put(request(&host, &guest, session(&app), 4, 2)).await, 422, "committee_too_small").await;
    let mut even = request(&host, &guest, session(&app), 6, 2);
    even["reserve"] = json!(0);
    expect_error(put(even).await, 422, "committee_even").await;
    // With the procuring unit's representative, 7 drawn make 8.
    let mut rep = request(&host, &guest, session(&app), 4, 3);
    rep["purchaser_rep"] = json!(true);
    let body = expect_error(put(rep).await, 422, "committee_even").await;
    assert!(body.to_string().contains("8"), "{body}");
    // Not enough eligible experts in a group.
    let body = expect_error(put(request(&host, &guest, session(&app), 4, 5)).await, 422, "not_enough_experts").await;
    assert!(body.to_string().contains("not_enough_experts"));
    // Malformed groups, a session in the past.
    let bad = json!({"groups": [{"specialty": "Z99", "site": uuid::Uuid::new_v4(), "count": 0}], "session_at": app.clock.now() - TimeDelta::hours(1), "duration_minutes": 5});
    let body = expect_error(put(bad).await, 422, "validation_failed").await;
    let codes = body["error"]["fields"].to_string();
    for c in ["specialty_unknown", "site_unknown", "out_of_range", "in_past"] {
        assert!(codes.contains(c), "{c} in {codes}");
    }
    // Nothing was recorded by the refusals: the draw still takes a good request.
    let mut good = request(&host, &guest, session(&app), 4, 3);
    good["reserve"] = json!(0);
    let r = put(good).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
}

#[tokio::test]
async fn a_draw_is_only_for_a_tender_in_evaluation() {
    let app = crate::support::spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let tender = crate::tenders::published_tender(&app, &agency).await;
    let staff = Client::login(&app, "centre_staff").await;
    expect_error(staff.post_empty(&format!("/api/v1/tenders/{tender}/draw")).await, 409, "wrong_state").await;
    expect_error(staff.post_empty(&format!("/api/v1/tenders/{}/draw", uuid::Uuid::new_v4())).await, 404, "not_found")
        .await;
    let expert = Client::login(&app, "expert").await;
    assert_eq!(expert.get_json("/api/v1/me/invitations").await, json!([]));
    expect_error(staff.get("/api/v1/me/invitations").await, 403, "forbidden").await;
    assert_eq!(agency.get("/draws").await.status(), 403);
}

/// Two earlier committees of the same procuring unit within 90 days: the expert is excluded;
/// one earlier committee, or two of another unit, do not exclude.
#[tokio::test]
async fn an_expert_who_sat_twice_for_the_unit_within_90_days_is_excluded() {
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
    use tenderhall::draw::model::{DrawState, PickRole, PickStatus};
    use tenderhall::entities::{draw, draw_pick, expert as expert_row, tender};
    let (app, tender_id) = evaluating(Box::new(|_| {})).await;
    let (host, guest) = sites(&app).await;
    let staff = Client::login(&app, "centre_staff").await;
    for n in 1..=6 {
        expert(&staff, n, &host, json!({}), false).await;
    }
    for n in 7..=9 {
        expert(&staff, n, &guest, json!({}), false).await;
    }
    let twice = expert(&staff, 30, &host, json!({}), false).await;
    let once = expert(&staff, 31, &host, json!({}), false).await;
    let other_unit = expert(&staff, 32, &host, json!({}), false).await;
    let long_ago = expert(&staff, 33, &host, json!({}), false).await;
    // The history: committees of earlier tenders (drafts stand in for them here).
    let agency = Client::login(&app, "agency_x").await;
    let db = app.state.db.clone();
    let this = tender::Entity::find()
        .filter(tender::Column::PublicId.eq(uuid::Uuid::parse_str(&tender_id).expect("uuid")))
        .one(&db)
        .await
        .expect("query")
        .expect("tender");
    let creator = this.created_by;
    let expert_id = |id: String| {
        let db = db.clone();
        async move {
            expert_row::Entity::find()
                .filter(expert_row::Column::PublicId.eq(uuid::Uuid::parse_str(&id).expect("uuid")))
                .one(&db)
                .await
                .expect("query")
                .expect("expert")
                .id
        }
    };
    let at = session(&app);
    let history: [(Option<&str>, i64, &[&String]); 4] = [
        (None, 10, &[&twice, &once]),
        (None, 60, &[&twice]),
        (None, 200, &[&long_ago, &long_ago]),
        (Some("乙采购单位"), 20, &[&other_unit]),
    ];
    let mut extra_other = false;
    for (unit, days_before, sat) in history {
        let mut body = crate::tenders::draft_body(&app, 30).await;
        if let Some(u) = unit {
            body["procuring_org"] = json!(crate::support::org_id(&app, u).await);
        }
        let r = agency.post("/api/v1/tenders", &body).await;
        let t: Value = r.json().await.expect("json");
        let t = tender::Entity::find()
            .filter(tender::Column::PublicId.eq(uuid::Uuid::parse_str(t["id"].as_str().expect("id")).expect("uuid")))
            .one(&db)
            .await
            .expect("query")
            .expect("tender");
        let d = draw::ActiveModel {
            public_id: Set(uuid::Uuid::new_v4()),
            tender_id: Set(t.id),
            state: Set(DrawState::Published),
            commitment: Set("00".repeat(32)),
            secret_sealed: Set(String::new()),
            session_at: Set(Some(at - TimeDelta::days(days_before))),
            purchaser_rep: Set(false),
            excluded_count: Set(0),
            created_by: Set(creator),
            created_at: Set(at - TimeDelta::days(days_before + 1)),
            ..Default::default()
        }
        .insert(&db)
        .await
        .expect("draw");
        for (i, e) in sat.iter().enumerate() {
            draw_pick::ActiveModel {
                public_id: Set(uuid::Uuid::new_v4()),
                draw_id: Set(d.id),
                seq: Set(i as i32 + 1),
                group_no: Set(0),
                expert_id: Set(expert_id((*e).clone()).await),
                role: Set(PickRole::Member),
                status: Set(PickStatus::Confirmed),
                ..Default::default()
            }
            .insert(&db)
            .await
            .expect("pick");
        }
        // The expert of the other unit sits there twice.
        if unit.is_some() && !extra_other {
            extra_other = true;
            draw_pick::ActiveModel {
                public_id: Set(uuid::Uuid::new_v4()),
                draw_id: Set(d.id),
                seq: Set(9),
                group_no: Set(0),
                expert_id: Set(expert_id(other_unit.clone()).await),
                role: Set(PickRole::Member),
                status: Set(PickStatus::Declined),
                ..Default::default()
            }
            .insert(&db)
            .await
            .expect("pick");
        }
    }
    let draw = prepare(&staff, &tender_id).await;
    let r = staff.put(&format!("/api/v1/draws/{draw}/request"), &request(&host, &guest, session(&app), 3, 2)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let v: Value = r.json().await.expect("json");
    let excluded: Vec<(String, String, String)> = v["exclusions"]
        .as_array()
        .expect("exclusions")
        .iter()
        .map(|x| {
            (
                x["expert"].as_str().unwrap_or("").to_string(),
                x["reason"].as_str().unwrap_or("").to_string(),
                x["detail"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(excluded.len(), 1, "{excluded:?}");
    assert_eq!((excluded[0].0.as_str(), excluded[0].1.as_str()), (twice.as_str(), "frequent_for_unit"));
    assert!(excluded[0].2.contains("90"), "{:?}", excluded[0]);
}

/// The demo's sites, expert pool and expert logins, and a draw on the tender its opening show
/// brings into evaluation: the demo pool's experts who may not sit are excluded, each with its
/// reason, and those with logins are among the eligible.
#[tokio::test]
async fn the_demo_has_two_sites_a_pool_with_expert_logins_and_a_draw_with_exclusions() {
    use tenderhall::demo::{
        self,
        experts::{GUEST_SITE, HOST_SITE},
    };
    let app = crate::support::TestApp::with_demo_data().await;
    let app_ref = &app;
    let login = move |user: &'static str| Client::with_password(app_ref, user, demo::PASSWORD);

    // The host site with the demo's centre staff and supervisor, the guest site with its own.
    let admin = login("admin").await;
    let sites: Value = admin.get_json("/api/v1/admin/sites").await;
    let sites = sites.as_array().expect("sites");
    assert_eq!(sites.len(), 2, "{sites:?}");
    let mut site_ids = HashMap::new();
    for (name, members) in [(HOST_SITE, ["centre", "supervisor"]), (GUEST_SITE, ["centre2", "supervisor2"])] {
        let s = sites.iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("{name} in {sites:?}"));
        let id = s["id"].as_str().expect("id").to_string();
        let view = admin.get_json(&format!("/api/v1/admin/sites/{id}")).await;
        let names: Vec<&str> =
            view["member_list"].as_array().expect("members").iter().filter_map(|m| m["username"].as_str()).collect();
        assert_eq!(names, members, "{name}");
        assert!(view["seats"].as_i64().unwrap_or(0) > 0);
        site_ids.insert(name, id);
    }
    let (host, guest) = (site_ids[HOST_SITE].clone(), site_ids[GUEST_SITE].clone());

    // Thirty experts, one of them suspended with its reason; the guest centre reads them too.
    let centre = login("centre").await;
    let page = centre.get_json("/api/v1/experts").await;
    assert_eq!(page["total"], 30, "{page}");
    assert_eq!(demo::experts::POOL_SIZE, 30);
    assert_eq!(login("centre2").await.get_json(&format!("/api/v1/experts?site={guest}")).await["total"], 11);
    let suspended = centre.get_json("/api/v1/experts?status=suspended").await;
    assert_eq!(suspended["total"], 1, "{suspended}");
    let one = centre.get_json(&format!("/api/v1/experts/{}", suspended["items"][0]["id"].as_str().expect("id"))).await;
    assert!(one["status_reason"].as_str().is_some_and(|r| !r.is_empty()), "{one}");
    assert_eq!(centre.get("/experts").await.status(), 200);
    assert_eq!(admin.get("/admin/sites").await.status(), 200);

    // expert1…expert7 log in and see their own record: 1–5 at the host site, 6–7 at the guest.
    let mut own = HashMap::new();
    for n in 1..=7 {
        let user = format!("expert{n}");
        let c = Client::with_password(&app, &user, demo::PASSWORD).await;
        let me = c.get_json("/api/v1/expert/me").await;
        assert_eq!(me["username"], user, "{me}");
        assert_eq!(me["site"]["id"], if n <= 5 { host.as_str() } else { guest.as_str() }, "{user}: {me}");
        assert_eq!(me["status"], "active");
        assert!(me["specialties"].as_array().is_some_and(|s| s.iter().any(|c| c == "B04")), "{me}");
        assert!(me["id_number_masked"].as_str().is_some_and(|m| m.contains('*')), "{me}");
        assert_eq!(c.get("/expert/invitations").await.status(), 200);
        own.insert(me["id"].as_str().expect("id").to_string(), user.clone());
    }

    // The opening show runs its tender into evaluation.
    let tender = app.play_opening_show().await;
    assert_eq!(centre.get_json(&format!("/api/v1/tenders/{tender}")).await["state"], "evaluating");

    // A draw of office-furniture experts at both sites: every demo exclusion with its reason.
    let draw = prepare(&centre, &tender.to_string()).await;
    let mut body = request(&host, &guest, session(&app), 3, 2);
    for g in body["groups"].as_array_mut().expect("groups") {
        g["specialty"] = json!(demo::experts::SHOW_SPECIALTY);
    }
    let r = centre.put(&format!("/api/v1/draws/{draw}/request"), &body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let v: Value = r.json().await.expect("json");
    let mut reasons: HashMap<String, Vec<String>> = HashMap::new();
    for x in v["exclusions"].as_array().expect("exclusions") {
        assert!(!x["reason"].as_str().unwrap_or("").is_empty(), "{x}");
        reasons
            .entry(x["name"].as_str().unwrap_or("").to_string())
            .or_default()
            .push(x["reason"].as_str().unwrap_or("").to_string());
    }
    let expected = [
        ("孙德海", "employed_by_party"),
        ("吴秀兰", "employed_by_party"),
        ("唐振华", "employed_by_party"),
        ("杨志强", "declared_conflict"),
        ("宋雨婷", "declared_conflict"),
        ("黄丽华", "suspended"),
        ("陈卫东", "unavailable"),
        ("潘静", "unavailable"),
    ];
    for (name, reason) in expected {
        assert_eq!(reasons.get(name), Some(&vec![reason.to_string()]), "{name}: {reasons:?}");
    }
    assert_eq!(v["excluded_count"], expected.len(), "{reasons:?}");
    let detail = |name: &str| {
        v["exclusions"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["name"] == name))
            .and_then(|x| x["detail"].as_str())
            .unwrap_or("")
            .to_string()
    };
    assert!(
        detail("孙德海").contains("bidder") && detail("孙德海").contains("远达办公设备经营部"),
        "{}",
        detail("孙德海")
    );
    assert!(detail("吴秀兰").contains("procuring_unit"), "{}", detail("吴秀兰"));
    assert!(detail("杨志强").contains("agency"), "{}", detail("杨志强"));
    // Nine are eligible: the seven with logins and two without.
    assert_eq!(v["eligible_count"], 9, "{v}");
    for id in own.keys() {
        assert!(
            !v["exclusions"].as_array().expect("exclusions").iter().any(|x| x["expert"] == id.as_str()),
            "{}",
            own[id]
        );
    }
}
