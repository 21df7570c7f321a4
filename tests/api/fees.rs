//! Expert fees (即评即走): the rates the centre sets, each expert's fee computed when the report
//! is signed, and the payment instruction sent to a real HTTP payment service that fails its
//! first calls, records a payment and drops its answer, and restarts: exactly one payment per
//! expert.

use crate::client::{Client, expect_error};
use crate::support::{Ledger, TestApp, payment_service};
use chrono::TimeDelta;
use serde_json::{Value, json};
use std::{collections::HashMap, sync::Arc};
use tenderhall::demo::PASSWORD;
use tokio::net::TcpListener;

#[tokio::test]
async fn each_expert_is_paid_exactly_once_through_failures_a_lost_answer_and_a_restart() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let endpoint = format!("http://127.0.0.1:{port}/pay");
    let app = TestApp::with_demo_data_and(move |s| {
        s.fees.endpoint = endpoint;
        s.fees.backoff_seconds = 5;
        s.security.session_hours = 24 * 30;
    })
    .await;
    let ledger = Arc::new(Ledger::default());
    let mut service = tokio::spawn(payment_service(listener, ledger.clone(), app.state.key.public(), 2));

    // The centre sets the host site's rates; nobody else may, and the rates are checked.
    let centre = Client::with_password(&app, "centre", PASSWORD).await;
    let admin = Client::with_password(&app, "admin", PASSWORD).await;
    let sites = admin.get_json("/api/v1/admin/sites").await;
    let host = sites
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == tenderhall::demo::experts::HOST_SITE))
        .map(|s| s["id"].as_str().expect("id").to_string())
        .expect("host site");
    let rate = json!({"base": 50_000, "base_hours": 3, "hourly": 8_000, "daily_cap": 90_000, "withdrawn": 15_000, "holiday_factor": 2});
    let url = format!("/api/v1/admin/sites/{host}/fee-rates");
    let supplier = Client::with_password(&app, "supplier2", PASSWORD).await;
    expect_error(supplier.put(&url, &rate).await, 404, "not_found").await;
    let supervisor = Client::with_password(&app, "supervisor", PASSWORD).await;
    expect_error(supervisor.put(&url, &rate).await, 403, "centre_only").await;
    let mut bad = rate.clone();
    bad["daily_cap"] = json!(10_000);
    bad["holiday_factor"] = json!(9);
    let e = expect_error(centre.put(&url, &bad).await, 422, "validation_failed").await;
    let fields: Vec<&str> =
        e["error"]["fields"].as_array().expect("fields").iter().filter_map(|f| f["field"].as_str()).collect();
    assert_eq!(fields, vec!["holiday_factor", "daily_cap"], "{e}");
    let r = centre.put(&url, &rate).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    assert_eq!(supervisor.get_json(&url).await, rate);

    // The demo's evaluation: its last signature computes the fees at once.
    let tender = app.play_opening_show().await;
    app.play_evaluation_show(tender).await;
    app.tick().await;
    let fees_of = |user: &'static str| {
        let app = &app;
        async move {
            let c = Client::with_password(app, user, PASSWORD).await;
            let v = c.get_json("/api/v1/expert/fees").await;
            (c, v)
        }
    };
    let mut experts = Vec::new();
    for n in 1..=7 {
        let user: &'static str = Box::leak(format!("expert{n}").into_boxed_str());
        let (c, v) = fees_of(user).await;
        if let Some(f) = v.as_array().and_then(|a| a.first()).cloned() {
            experts.push((user, c, f));
        }
    }
    assert_eq!(experts.len(), 5, "the five members have a fee each");
    for (user, _, f) in &experts {
        assert_eq!(f["status"], "pending", "{user}: {f}");
        assert!(f["amount"].as_i64().is_some_and(|a| a > 0), "{user}: {f}");
    }

    // First round: two refusals, one payment whose answer is lost, two acknowledged.
    let fees = &app.state.fees;
    assert_eq!(tenderhall::fees::pay_due(fees).await.expect("pay"), 2);
    // The service goes down: nothing gets through, nothing is lost.
    service.abort();
    let _ = (&mut service).await;
    app.clock.advance(TimeDelta::seconds(6));
    assert_eq!(tenderhall::fees::pay_due(fees).await.expect("pay"), 0);
    // It comes back on the same port with its records; the backoff has doubled.
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("rebind");
    let _service = tokio::spawn(payment_service(listener, ledger.clone(), app.state.key.public(), 2));
    app.clock.advance(TimeDelta::seconds(6));
    assert_eq!(tenderhall::fees::pay_due(fees).await.expect("pay"), 0, "not due yet: the second wait is 10 s");
    app.clock.advance(TimeDelta::seconds(5));
    assert_eq!(tenderhall::fees::pay_due(fees).await.expect("pay"), 3);
    assert_eq!(tenderhall::fees::pay_due(fees).await.expect("pay"), 0, "nothing is sent again");

    // Exactly one payment per expert, of its fee, though one key was sent twice to a live
    // service and every call was signed.
    let payments = ledger.payments.lock().expect("lock").clone();
    assert_eq!(payments.len(), 5, "{payments:?}");
    let calls = ledger.calls.lock().expect("lock").clone();
    assert!(calls.iter().all(|(_, signed)| *signed), "every instruction is signed");
    let mut per_key: HashMap<&str, usize> = HashMap::new();
    for (k, _) in &calls {
        *per_key.entry(k.as_str()).or_default() += 1;
    }
    assert_eq!(per_key[calls[2].0.as_str()], 2, "the lost answer's key was sent again: {per_key:?}");
    assert!(payments.contains_key(&calls[2].0), "and paid once");
    for (user, c, f) in &experts {
        let v = c.get_json("/api/v1/expert/fees").await;
        let mine = &v[0];
        assert_eq!(mine["status"], "paid", "{user}: {mine}");
        let paid: Vec<&(String, i64, String)> =
            payments.values().filter(|(id, _, _)| mine["payment_ref"] == id.as_str()).collect();
        assert_eq!(paid.len(), 1, "{user} paid once");
        assert_eq!(paid[0].1, f["amount"].as_i64().expect("amount"), "{user}: the amount of its fee");
        // The statement carries the instruction.
        let pdf = c.get(&format!("/api/v1/expert/fees/{}/statement", mine["id"].as_str().expect("id"))).await;
        assert_eq!(pdf.status(), 200);
        let pdf = pdf.bytes().await.expect("pdf").to_vec();
        let attached: Value =
            serde_json::from_slice(&tenderhall::pdf::writer::attachment(&pdf, "instruction.json").expect("attached"))
                .expect("json");
        assert_eq!(attached["amount_fen"], mine["amount"]);
        // The page shows it.
        let html = c.get("/expert").await.text().await.expect("html");
        assert!(html.contains("已支付"), "{user}'s page");
    }
    // Another expert's statement is not found.
    let (_, other, _) = &experts[0];
    let (_, second, _) = &experts[1];
    let id = other.get_json("/api/v1/expert/fees").await[0]["id"].as_str().expect("id").to_string();
    expect_error(second.get(&format!("/api/v1/expert/fees/{id}/statement")).await, 404, "not_found").await;
    // The host site's experts are paid by its rate; the guest site's (no rate of its own: the
    // default) by the higher of the two.
    let host_rate: tenderhall::fees::Rate = serde_json::from_value(rate).expect("rate");
    let default = app.state.settings.fees.default_rate();
    let (mut at_host, mut at_guest) = (0, 0);
    for (user, _, f) in &experts {
        let (m, h) = (f["minutes"].as_i64().expect("minutes"), f["holiday"] == true);
        let by_host = tenderhall::fees::fee(&host_rate, m, h, false).fen();
        let higher = by_host.max(tenderhall::fees::fee(&default, m, h, false).fen());
        let amount = f["amount"].as_i64().expect("amount");
        if amount == by_host {
            at_host += 1;
        } else {
            assert_eq!(amount, higher, "{user}: {f}");
            at_guest += 1;
        }
    }
    assert_eq!((at_host, at_guest), (3, 2), "three host experts, two guests");

    // The migration that lets a fee belong to a guest's expert keeps every fee as it was, down
    // and up again.
    use sea_orm::EntityTrait;
    use tenderhall_migrations::{Migrator, MigratorTrait};
    let db = &app.state.db;
    let before = tenderhall::entities::expert_fee::Entity::find().all(db).await.expect("fees");
    assert_eq!(before.len(), 5);
    Migrator::down(db, Some(crate::support::migrations_from("m20261229_000001_guest_fees"))).await.expect("down");
    Migrator::up(db, None).await.expect("up");
    let after = tenderhall::entities::expert_fee::Entity::find().all(db).await.expect("fees");
    assert_eq!(before, after);
    // Its keys still hold: a second fee for the same member is refused by the database.
    let mut twin: tenderhall::entities::expert_fee::ActiveModel = after[0].clone().into();
    twin.id = sea_orm::NotSet;
    twin.public_id = sea_orm::Set(uuid::Uuid::new_v4());
    twin.idempotency_key = sea_orm::Set(uuid::Uuid::new_v4().to_string());
    assert!(sea_orm::ActiveModelTrait::insert(twin, db).await.is_err(), "one fee per member");
}

#[tokio::test]
async fn the_centre_sets_a_sites_fee_rates_on_its_page_in_yuan() {
    let app = TestApp::with_demo_data().await;
    let centre = Client::with_password(&app, "centre", PASSWORD).await;
    let supervisor = Client::with_password(&app, "supervisor", PASSWORD).await;
    let supplier = Client::with_password(&app, "supplier2", PASSWORD).await;
    let sites = centre.get_json("/api/v1/admin/sites").await;
    let host = sites
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == tenderhall::demo::experts::HOST_SITE))
        .map(|s| s["id"].as_str().expect("id").to_string())
        .expect("host site");
    let page = format!("/admin/sites/{host}/fee-rates");
    // The site's page links to it; the centre sees the form, a supervisor only the table, a
    // supplier nothing.
    let site = centre.get(&format!("/admin/sites/{host}")).await.text().await.expect("html");
    assert!(site.contains(&page), "the site page links to the rates");
    let html = centre.get(&page).await.text().await.expect("html");
    assert!(html.contains("data-testid=\"fee-rates-form\""), "{html}");
    let html = supervisor.get(&page).await.text().await.expect("html");
    assert!(html.contains("data-testid=\"fee-rates\"") && !html.contains("fee-rates-form"));
    assert_ne!(supplier.get(&page).await.status(), 200);

    let form = |base: &str, cap: &str, factor: &str| -> Vec<(&'static str, String)> {
        vec![
            ("_csrf", centre.csrf.clone()),
            ("base", base.into()),
            ("base_hours", "3".into()),
            ("hourly", "80".into()),
            ("daily_cap", cap.into()),
            ("withdrawn", "150.00".into()),
            ("holiday_factor", factor.into()),
        ]
    };
    let send = |f: Vec<(&'static str, String)>| {
        let c = &centre;
        let page = page.clone();
        async move { c.req(reqwest::Method::POST, &page).form(&f).send().await.expect("send") }
    };
    // Unreadable amounts and numbers are named; the table is unchanged.
    let before = centre.get_json(&format!("/api/v1{page}")).await;
    let r = send(form("五百", "900", "x")).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("html");
    assert!(html.contains("金额格式不正确") && html.contains("五百"), "shown again as typed: {html}");
    // The service's rules: a cap under the base, a factor out of range.
    let r = send(form("500", "100", "9")).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("html").contains("日封顶不能低于基础劳务费"));
    assert_eq!(centre.get_json(&format!("/api/v1{page}")).await, before, "nothing changed");
    // Saved, in fen.
    let r = send(form("500.50", "900", "2")).await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let rate = supervisor.get_json(&format!("/api/v1{page}")).await;
    assert_eq!(
        rate,
        json!({"base": 50_050, "base_hours": 3, "hourly": 8_000, "daily_cap": 90_000, "withdrawn": 15_000, "holiday_factor": 2})
    );
    // Only the centre's staff change it.
    let mut f = form("1", "900", "2");
    f[0].1 = supervisor.csrf.clone();
    let r = supervisor.req(reqwest::Method::POST, &page).form(&f).send().await.expect("send");
    assert_eq!(r.status(), 403);
    assert_eq!(centre.get_json(&format!("/api/v1{page}")).await, rate);
}

#[tokio::test]
async fn the_demos_finance_office_pays_each_fee_once_and_refuses_what_the_platform_did_not_sign() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}{}", listener.local_addr().expect("addr"), tenderhall::demo::payee::PATH);
    let url = endpoint.clone();
    let app = TestApp::with_demo_data_and(move |s| {
        s.fees.endpoint = url;
        s.security.session_hours = 24 * 30;
    })
    .await;
    let _payee = tenderhall::demo::payee::spawn(listener, app.state.key.public());
    let tender = app.play_opening_show().await;
    app.play_evaluation_show(tender).await;
    app.tick().await;
    let fees = &app.state.fees;
    assert_eq!(tenderhall::fees::pay_due(fees).await.expect("pay"), 5, "the five members' fees");
    assert_eq!(tenderhall::fees::pay_due(fees).await.expect("pay"), 0, "nothing twice");
    let mut paid = 0;
    for n in 1..=7 {
        let c = Client::with_password(&app, &format!("expert{n}"), PASSWORD).await;
        for f in c.get_json("/api/v1/expert/fees").await.as_array().expect("fees") {
            assert_eq!(f["status"], "paid", "{f}");
            assert!(f["payment_ref"].as_str().is_some_and(|r| r.starts_with("DEMO-PAY-")), "{f}");
            paid += 1;
        }
    }
    assert_eq!(paid, 5);

    // The same instruction again gets the same payment; an unsigned or forged one nothing.
    let http = reqwest::Client::new();
    let key = "demo-test-key";
    let body = json!({"idempotency_key": key, "amount_fen": 100}).to_string();
    let sig = hex::encode(app.state.key.sign(body.as_bytes()));
    let send = |sig: String, key: &'static str| {
        let (http, endpoint, body) = (http.clone(), endpoint.clone(), body.clone());
        async move {
            http.post(&endpoint)
                .header("idempotency-key", key)
                .header("x-tenderhall-signature", sig)
                .body(body)
                .send()
                .await
                .expect("send")
        }
    };
    let first: Value = send(sig.clone(), key).await.json().await.expect("json");
    let again: Value = send(sig.clone(), key).await.json().await.expect("json");
    assert_eq!(first["payment_id"], again["payment_id"]);
    assert_eq!(send("00".repeat(64), key).await.status(), 400, "a forged signature");
    assert_eq!(send(sig, "another-key").await.status(), 400, "a key not the instruction's");
}
