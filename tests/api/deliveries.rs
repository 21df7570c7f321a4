//! Notices by e-mail: each delivery is written with its notice and sent to a real SMTP server
//! (aiosmtpd, `tests/support/smtp_server.py`) that fails, refuses a mailbox for good and loses
//! an answer; every recipient with an address gets each of its notices once (a lost answer's
//! copy carries the same Message-ID), in its language, and nobody else does; muting and the
//! one-click unsubscribe link stop a kind.

use crate::client::{Client, expect_error};
use crate::support::{TestApp, free_port, smtp::Smtp, spawn_app_with};
use crate::tenders::published_tender;
use chrono::TimeDelta;
use serde_json::{Value, json};

async fn app_with_mail(port: u16) -> TestApp {
    spawn_app_with(crate::support::Options {
        settings: Some(Box::new(move |s| {
            s.email.host = "127.0.0.1".into();
            s.email.port = port;
            s.email.security = tenderhall::config::SmtpSecurity::None;
            s.email.from = "公共资源交易平台 <noreply@tenderhall.test>".into();
            s.email.link_base = "https://tender.example.test".into();
            s.email.backoff_seconds = 5;
            s.email.max_attempts = 3;
        })),
        ..Default::default()
    })
    .await
}

async fn send(app: &TestApp) -> usize {
    tenderhall::deliver::send_due(&app.state.deliveries).await.expect("sending")
}

async fn clarify(agency: &Client, id: &str, body: &str) {
    let r = agency
        .post(&format!("/api/v1/tenders/{id}/clarifications"), &json!({"kind": "clarification", "body": body}))
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
}

#[tokio::test]
async fn each_recipient_gets_each_notice_by_email_once_in_its_language_through_failures() {
    let port = free_port();
    let smtp = Smtp::start(port, &["--fail", "1", "--reject", "gone@example.com", "--drop", "1"]);
    let app = app_with_mail(port).await;
    let agency = Client::login(&app, "agency_x").await;
    let s1 = Client::login(&app, "supplier_1").await;
    let s2 = Client::login(&app, "supplier_2").await;

    // Choices are checked field by field; a good one is kept.
    let prefs = "/api/v1/notifications/preferences";
    let e = expect_error(
        s1.put(prefs, &json!({"email": "not an address", "lang": "fr", "email_muted": ["no_such_kind"]})).await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<(&str, &str)> = e["error"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| (f["field"].as_str().expect("field"), f["code"].as_str().expect("code")))
        .collect();
    assert_eq!(fields, vec![("email", "invalid_email"), ("lang", "unknown_lang"), ("email_muted", "unknown_kind")]);
    let too_long = format!("{}@example.com", "a".repeat(250));
    expect_error(
        s1.put(prefs, &json!({"email": too_long, "lang": "en", "email_muted": []})).await,
        422,
        "validation_failed",
    )
    .await;
    let r = s1.put(prefs, &json!({"email": " s1@example.com ", "lang": "en", "email_muted": []})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        s1.get_json(prefs).await,
        json!({"email": "s1@example.com", "lang": "en", "email_muted": [], "phone": null, "sms_kinds": []})
    );
    assert_eq!(
        s2.put(prefs, &json!({"email": "gone@example.com", "lang": "zh-CN", "email_muted": []})).await.status(),
        200
    );
    // The agency mutes the questions it receives.
    let r = agency
        .put(prefs, &json!({"email": "agency@example.com", "lang": "zh-CN", "email_muted": ["question_received"]}))
        .await;
    assert_eq!(r.status(), 200);

    let id = published_tender(&app, &agency).await;
    for s in [&s1, &s2] {
        assert_eq!(s.post_empty(&format!("/api/v1/tenders/{id}/obtain")).await.status(), 204);
    }
    // A muted kind writes no delivery.
    let q = s1.post(&format!("/api/v1/tenders/{id}/questions"), &json!({"body": "是否接受进口产品？"})).await;
    assert_eq!(q.status(), 201);
    assert_eq!(agency.get_json("/api/v1/notifications/deliveries").await, json!([]));

    // A clarification reaches both suppliers' inboxes and writes one delivery each.
    clarify(&agency, &id, "第三章技术参数更正。").await;
    let mine = s1.get_json("/api/v1/notifications/deliveries").await;
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
    assert_eq!((&mine[0]["kind"], &mine[0]["state"]), (&json!("clarification_issued"), &json!("pending")));

    // First round: the server fails the first message for now, refuses the second mailbox for good.
    assert_eq!(send(&app).await, 0);
    let mine = s1.get_json("/api/v1/notifications/deliveries").await;
    assert_eq!((&mine[0]["state"], &mine[0]["attempts"]), (&json!("pending"), &json!(1)), "{mine}");
    assert!(mine[0]["last_error"].as_str().is_some_and(|e| e.contains("451")), "{mine}");
    let theirs = s2.get_json("/api/v1/notifications/deliveries").await;
    assert_eq!(theirs[0]["state"], "failed", "{theirs}");
    assert!(theirs[0]["last_error"].as_str().is_some_and(|e| e.contains("550")), "{theirs}");
    // Not before its backoff.
    app.clock.advance(TimeDelta::seconds(2));
    assert_eq!(send(&app).await, 0);
    assert!(smtp.received().is_empty());
    // Second round: taken, but the answer is lost; third round: taken again, with the same Message-ID.
    app.clock.advance(TimeDelta::seconds(4));
    assert_eq!(send(&app).await, 0, "the lost answer counts as a failure");
    assert_eq!(smtp.received().len(), 1);
    app.clock.advance(TimeDelta::seconds(11));
    assert_eq!(send(&app).await, 1);
    assert_eq!(send(&app).await, 0, "nothing is sent again once sent");
    let got = smtp.received();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0]["message_id"], got[1]["message_id"], "a copy a reader's mail system can drop");
    let mine = s1.get_json("/api/v1/notifications/deliveries").await;
    assert_eq!((&mine[0]["state"], &mine[0]["attempts"]), (&json!("sent"), &json!(3)), "{mine}");

    // The mail: to the supplier only, in English, with encoded headers and both bodies.
    let m = &got[1];
    assert_eq!(m["rcpt_tos"], json!(["s1@example.com"]));
    assert_eq!(m["mail_from"], "noreply@tenderhall.test");
    assert_eq!(m["from"], "公共资源交易平台 <noreply@tenderhall.test>");
    assert_eq!(m["headers_ascii"], true, "RFC 2047: {m}");
    assert_eq!(m["content_type"], "multipart/alternative");
    let title = agency.get_json(&format!("/api/v1/tenders/{id}")).await["title"].as_str().expect("title").to_string();
    let en = s1.get_json("/api/v1/notifications?lang=en").await;
    let text =
        en.as_array().and_then(|l| l.iter().find(|n| n["kind"] == "clarification_issued")).expect("notice")["text"]
            .as_str()
            .expect("text")
            .to_string();
    assert!(text.contains(&title));
    assert!(m["subject"].as_str().expect("subject").starts_with("[Tenderhall] "), "{m}");
    assert!(m["text"].as_str().expect("text").contains(&text), "{m}");
    assert!(m["html"].as_str().expect("html").contains(&format!("https://tender.example.test/tenders/{id}")), "{m}");
    assert_eq!(m["list_unsubscribe_post"], "List-Unsubscribe=One-Click");
    let link = m["list_unsubscribe"].as_str().expect("link").trim_matches(['<', '>']).to_string();
    assert!(
        link.starts_with("https://tender.example.test/unsubscribe/") && link.ends_with("?kind=clarification_issued"),
        "{link}"
    );

    // The centre's staff read every delivery, failures on their own; a supplier may not.
    let centre = Client::login(&app, "centre_staff").await;
    let failed = centre.get_json("/api/v1/admin/deliveries?state=failed").await;
    assert_eq!(failed.as_array().map(Vec::len), Some(1), "{failed}");
    assert_eq!((&failed[0]["username"], &failed[0]["address"]), (&json!("supplier_2"), &json!("gone@example.com")));
    expect_error(centre.get("/api/v1/admin/deliveries?state=lost").await, 422, "validation_failed").await;
    expect_error(s1.get("/api/v1/admin/deliveries").await, 403, "centre_only").await;

    // The one-click link: a GET only asks; a POST without cookie or CSRF token (as a mail program
    // sends it) mutes the kind; an unknown secret is not found.
    let path = link.trim_start_matches("https://tender.example.test");
    let anon = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let page = anon.get(format!("{}{path}", app.base)).send().await.expect("send");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("text").contains("data-testid=\"unsubscribe-confirm\""));
    assert_eq!(s1.get_json(prefs).await["email_muted"], json!([]), "a GET changes nothing");
    let r = anon
        .post(format!("{}{path}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(s1.get_json(prefs).await["email_muted"], json!(["clarification_issued"]));
    let r = anon.post(format!("{}/unsubscribe/not-a-secret", app.base)).send().await.expect("send");
    assert_eq!(r.status(), 404);
    let bad_kind = format!("{}{}", app.base, path.replace("clarification_issued", "nonsense"));
    assert_eq!(anon.post(bad_kind).send().await.expect("send").status(), 422);
    // A muted kind is no longer mailed; the notice still reaches the inbox.
    clarify(&agency, &id, "第四章评分标准更正。").await;
    assert_eq!(s1.get_json("/api/v1/notifications/deliveries").await.as_array().map(Vec::len), Some(1));
    let inbox = s1.get_json("/api/v1/notifications").await;
    assert_eq!(inbox.as_array().expect("list").iter().filter(|n| n["kind"] == "clarification_issued").count(), 2);
    app.clock.advance(TimeDelta::hours(1));
    assert_eq!(send(&app).await, 0);
    assert_eq!(smtp.received().len(), 2, "nothing more arrived");
}

#[tokio::test]
async fn deliveries_wait_while_no_server_is_set_and_go_once_it_is() {
    // Without a server the rows wait; with one, the same rows go, each once.
    let app = crate::support::spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let s1 = Client::login(&app, "supplier_1").await;
    let prefs = "/api/v1/notifications/preferences";
    assert_eq!(
        s1.put(prefs, &json!({"email": "s1@example.com", "lang": "zh-CN", "email_muted": []})).await.status(),
        200
    );
    let id = published_tender(&app, &agency).await;
    assert_eq!(s1.post_empty(&format!("/api/v1/tenders/{id}/obtain")).await.status(), 204);
    clarify(&agency, &id, "第三章技术参数更正。").await;
    assert_eq!(send(&app).await, 0);
    let mine = s1.get_json("/api/v1/notifications/deliveries").await;
    assert_eq!((&mine[0]["state"], &mine[0]["attempts"]), (&json!("pending"), &json!(0)), "{mine}");

    let port = free_port();
    let smtp = Smtp::start(port, &[]);
    let mut with_server = app.state.deliveries.clone();
    with_server.settings.host = "127.0.0.1".into();
    with_server.settings.port = port;
    with_server.settings.security = tenderhall::config::SmtpSecurity::None;
    assert_eq!(tenderhall::deliver::send_due(&with_server).await.expect("send"), 1);
    assert_eq!(tenderhall::deliver::send_due(&with_server).await.expect("send"), 0);
    let got = smtp.received();
    assert_eq!(got.len(), 1);
    assert!(got[0]["subject"].as_str().expect("subject").starts_with("【交易平台】"), "{got:?}");
    assert!(got[0]["text"].as_str().expect("text").contains("您好"), "{got:?}");
}

/// What the SMS gateway saw: every call (its idempotency key, whether its signature held, its
/// body), and the messages it sent, by idempotency key.
#[derive(Default)]
struct Gateway {
    calls: std::sync::Mutex<Vec<(String, bool, Value)>>,
    sent: std::sync::Mutex<std::collections::BTreeMap<String, (String, Value)>>,
}

/// A real HTTP SMS gateway speaking the protocol of docs/notifications.md: its first call
/// fails with 500, its second sends the message but answers only after the client gave up;
/// a key it has sent is answered again with the same message id and sends nothing.
async fn gateway(listener: tokio::net::TcpListener, seen: std::sync::Arc<Gateway>, key: tenderhall::keys::PublicKey) {
    use axum::{body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post};
    type S = (std::sync::Arc<Gateway>, tenderhall::keys::PublicKey);
    async fn send(State((g, key)): State<S>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
        let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let signed = hex::decode(h("x-tenderhall-signature")).ok().is_some_and(|sig| key.verify(&body, &sig));
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let k = h("idempotency-key");
        let n = {
            let mut calls = g.calls.lock().expect("lock");
            calls.push((k.clone(), signed, v.clone()));
            calls.len()
        };
        if !signed || k.is_empty() {
            return (StatusCode::UNAUTHORIZED, r#"{"error":"unsigned"}"#.into());
        }
        if n == 1 {
            return (StatusCode::INTERNAL_SERVER_ERROR, r#"{"error":"busy"}"#.into());
        }
        let id = {
            let mut sent = g.sent.lock().expect("lock");
            let next = format!("SMS-{:04}", sent.len() + 1);
            sent.entry(k).or_insert((next, v)).0.clone()
        };
        if n == 2 {
            tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
        }
        (StatusCode::OK, json!({"message_id": id}).to_string())
    }
    let app = axum::Router::new().route("/send", post(send)).with_state((seen, key));
    let _ = axum::serve(listener, app).await;
}

#[tokio::test]
async fn sms_go_once_through_a_failing_gateway_never_in_quiet_hours_nor_above_the_cap() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}/send", listener.local_addr().expect("addr"));
    let app = spawn_app_with(crate::support::Options {
        settings: Some(Box::new(move |s| {
            s.sms.endpoint = endpoint;
            s.sms.timeout_seconds = 1;
            s.sms.backoff_seconds = 5;
            s.sms.cap_per_hour = 2;
            s.security.session_hours = 24 * 30;
        })),
        ..Default::default()
    })
    .await;
    let seen = std::sync::Arc::new(Gateway::default());
    tokio::spawn(gateway(listener, seen.clone(), app.state.key.public()));
    let agency = Client::login(&app, "agency_x").await;
    let s1 = Client::login(&app, "supplier_1").await;
    let s2 = Client::login(&app, "supplier_2").await;

    // A number is checked, and only kinds with a template may go by SMS.
    let prefs = "/api/v1/notifications/preferences";
    let e = expect_error(
        s1.put(
            prefs,
            &json!({"lang": "zh-CN", "email_muted": [], "phone": "12345", "sms_kinds": ["question_received"]}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(e["error"]["fields"][0], json!({"field": "phone", "code": "invalid_phone"}), "{e}");
    assert_eq!(e["error"]["fields"][1]["code"], "no_sms_template", "{e}");
    let mine = json!({"email": null, "lang": "zh-CN", "email_muted": [], "phone": "13800138000", "sms_kinds": ["clarification_issued"]});
    assert_eq!(s1.put(prefs, &mine).await.status(), 200);
    assert_eq!(s1.get_json(prefs).await, mine);
    // A number without the kind chosen gets nothing.
    let theirs = json!({"lang": "zh-CN", "email_muted": [], "phone": "13900139000", "sms_kinds": []});
    assert_eq!(s2.put(prefs, &theirs).await.status(), 200);

    let id = published_tender(&app, &agency).await;
    for s in [&s1, &s2] {
        assert_eq!(s.post_empty(&format!("/api/v1/tenders/{id}/obtain")).await.status(), 204);
    }
    clarify(&agency, &id, "第三章技术参数更正。").await;
    assert_eq!(s2.get_json("/api/v1/notifications/deliveries").await, json!([]));
    // 500, then an answer that comes too late (the gateway sent it), then the same key again:
    // answered with the same message, nothing sent twice.
    assert_eq!(send(&app).await, 0);
    app.clock.advance(TimeDelta::seconds(6));
    assert_eq!(send(&app).await, 0, "the late answer counts as a failure");
    app.clock.advance(TimeDelta::seconds(11));
    assert_eq!(send(&app).await, 1);
    let calls = seen.calls.lock().expect("lock").clone();
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|(k, signed, _)| *signed && k == &calls[0].0), "signed, one key: {calls:?}");
    assert_eq!(seen.sent.lock().expect("lock").len(), 1, "one message sent");
    let body = &calls[2].2;
    assert_eq!(
        (&body["phone"], &body["sign"], &body["template"]),
        (&json!("13800138000"), &json!("交易平台"), &json!("TH_CLARIFICATION_ISSUED_ZH"))
    );
    let params = body["params"].as_object().expect("params");
    assert_eq!(params.keys().map(String::as_str).collect::<Vec<_>>(), vec!["deadline", "title"]);
    assert!(params.values().all(|v| v.as_str().is_some_and(|s| s.chars().count() <= 20)), "{body}");
    let mine_log = s1.get_json("/api/v1/notifications/deliveries").await;
    assert_eq!(
        (&mine_log[0]["channel"], &mine_log[0]["state"], &mine_log[0]["attempts"]),
        (&json!("sms"), &json!("sent"), &json!(3))
    );

    // The cap: two an hour to a number; the others wait for the hour, and nothing is lost.
    for n in 2..=4 {
        clarify(&agency, &id, &format!("第{n}次澄清。")).await;
    }
    assert_eq!(send(&app).await, 1, "one more makes two this hour");
    let log = s1.get_json("/api/v1/notifications/deliveries").await;
    assert_eq!(log.as_array().expect("log").iter().filter(|d| d["state"] == "pending").count(), 2, "{log}");
    app.clock.advance(TimeDelta::minutes(30));
    assert_eq!(send(&app).await, 0, "still the same hour");
    app.clock.advance(TimeDelta::minutes(31));
    assert_eq!(send(&app).await, 2);
    assert_eq!(seen.sent.lock().expect("lock").len(), 4);

    // Quiet hours: a clarification at 23:00 China time waits until 08:00.
    let now = tenderhall::clock::Clock::now(&*app.clock).with_timezone(&tenderhall::web::cst());
    let to_night = now.date_naive().and_hms_opt(23, 0, 0).expect("time") - now.naive_local();
    app.clock.advance(to_night);
    clarify(&agency, &id, "夜间澄清。").await;
    assert_eq!(send(&app).await, 0);
    app.clock.advance(TimeDelta::hours(8) + TimeDelta::minutes(59));
    assert_eq!(send(&app).await, 0, "07:59 is still quiet");
    app.clock.advance(TimeDelta::minutes(1));
    assert_eq!(send(&app).await, 1);
    assert_eq!(seen.sent.lock().expect("lock").len(), 5);
    assert_eq!(send(&app).await, 0);
}

#[tokio::test]
async fn a_users_inbox_room_hears_of_each_notice_that_reaches_it_and_of_no_other() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
    let app = crate::support::spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let (l1, l2) = (
        crate::opening::Login::new(&app.base, "supplier_1").await,
        crate::opening::Login::new(&app.base, "supplier_2").await,
    );
    let open = |cookies: String| {
        let url = format!("{}/api/v1/notifications/ws", app.base.replacen("http", "ws", 1));
        async move {
            let mut req = url.into_client_request().expect("request");
            req.headers_mut().insert("cookie", cookies.parse().expect("cookie"));
            tokio_tungstenite::connect_async(req).await.map(|(ws, _)| ws)
        }
    };
    let mut w1 = open(l1.cookies.clone()).await.expect("supplier 1's inbox");
    let mut w2 = open(l2.cookies.clone()).await.expect("supplier 2's inbox");
    for w in [&mut w1, &mut w2] {
        let hello = crate::opening::next(w).await;
        assert_eq!((&hello["type"], &hello["state"]["unread"]), (&json!("hello"), &json!(0)), "{hello}");
    }
    // Without a session there is no inbox.
    assert!(open(String::new()).await.is_err(), "no session, no socket");

    // Only supplier 1 obtained the documents: only its inbox hears of the clarification.
    let id = published_tender(&app, &agency).await;
    let s1 = Client::login(&app, "supplier_1").await;
    assert_eq!(s1.post_empty(&format!("/api/v1/tenders/{id}/obtain")).await.status(), 204);
    clarify(&agency, &id, "第三章技术参数更正。").await;
    let e = crate::opening::next(&mut w1).await;
    assert_eq!((&e["type"], &e["event"]["kind"]), (&json!("event"), &json!("notice")), "{e}");
    assert_eq!(s1.get_json("/api/v1/notifications/unread").await, json!({"unread": 1}));
    // The room takes no commands.
    w1.send(Message::text(r#"{"op":"anything"}"#)).await.expect("send");
    assert_eq!(crate::opening::reply(&mut w1).await["code"], "no_commands");
    // Supplier 2 hears nothing (a clock tick at most) and has nothing unread.
    let quiet = tokio::time::timeout(std::time::Duration::from_millis(800), crate::opening::next(&mut w2)).await;
    assert!(quiet.is_err(), "supplier 2 heard {quiet:?}");
    let s2 = Client::login(&app, "supplier_2").await;
    assert_eq!(s2.get_json("/api/v1/notifications/unread").await, json!({"unread": 0}));
}

/// A serving process commits a notice with its delivery and is killed (SIGKILL) before its sender
/// looks again; the next process sends the waiting delivery, once.
#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_committed_by_a_process_killed_before_sending_goes_once_after_the_restart() {
    use crate::support::ServerProcess;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    use tenderhall::entities::{delivery, user};
    let app = crate::support::spawn_app().await;
    let anon = Client::anonymous(&app).await;
    let r = anon
        .post(
            "/api/v1/registrations",
            &json!({"org_name": "断电测试科技有限公司", "credit_code": "91110000MA01ABCD4Z", "size_class": "small",
                    "contact_phone": "010-12345678", "username": "killco", "display_name": "新用户", "password": "abc12345"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let org = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    // The applicant's address (a pending user cannot log in to give it).
    user::Entity::update_many()
        .col_expr(user::Column::Email, Expr::value("killco@example.com"))
        .filter(user::Column::Username.eq("killco"))
        .exec(&app.state.db)
        .await
        .expect("address");

    let smtp_port = free_port();
    let with_mail = |port: u16, poll_ms: &str| {
        let mut env = app.process_env(port);
        env.extend([
            ("TENDERHALL_EMAIL__HOST".to_string(), "127.0.0.1".to_string()),
            ("TENDERHALL_EMAIL__PORT".into(), smtp_port.to_string()),
            ("TENDERHALL_EMAIL__SECURITY".into(), "none".into()),
            ("TENDERHALL_EMAIL__FROM".into(), "公共资源交易平台 <noreply@tenderhall.test>".into()),
            ("TENDERHALL_EMAIL__POLL_MS".into(), poll_ms.into()),
        ]);
        env
    };
    // The first process's sender looks once at its start, then not for ten minutes.
    let p1 = free_port();
    let mut one = ServerProcess::start(&with_mail(p1, "600000"), p1, app.dir.path()).await;
    let http = || reqwest::Client::builder().cookie_store(true).build().expect("client");
    let mut admin = Client::with_http(http(), &one.base).await;
    let r = admin.post("/api/v1/session", &json!({"username": "admin", "password": crate::support::PASSWORD})).await;
    assert_eq!(r.status(), 200);
    admin.csrf = r.json::<Value>().await.expect("json")["csrf_token"].as_str().expect("csrf").to_string();
    assert_eq!(admin.post_empty(&format!("/api/v1/organisations/{org}/approve")).await.status(), 204);
    one.kill();

    // Committed with the approval, and waiting.
    let rows = delivery::Entity::find().all(&app.state.db).await.expect("rows");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].kind.as_str(), rows[0].state.as_str(), rows[0].attempts),
        ("registration_approved", "pending", 0)
    );

    // The mail server comes up and another process starts: the delivery goes, once.
    let smtp = Smtp::start(smtp_port, &[]);
    let p2 = free_port();
    let _two = ServerProcess::start(&with_mail(p2, "100"), p2, app.dir.path()).await;
    for _ in 0..100 {
        if !smtp.received().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let got = smtp.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["rcpt_tos"], json!(["killco@example.com"]));
    let row = delivery::Entity::find_by_id(rows[0].id).one(&app.state.db).await.expect("row").expect("row");
    assert_eq!(row.state.as_str(), "sent");
}

/// A user's inbox socket held by another serving process on the same database hears of a notice
/// raised here: the relay carries the inbox room's events like the halls'.
#[tokio::test(flavor = "multi_thread")]
async fn an_inbox_socket_at_another_process_hears_of_a_notice_raised_here() {
    use crate::support::ServerProcess;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let app = crate::support::spawn_app().await;
    let port = free_port();
    let other = ServerProcess::start(&app.process_env(port), port, app.dir.path()).await;
    let l1 = crate::opening::Login::new(&other.base, "supplier_1").await;
    let url = format!("{}/api/v1/notifications/ws", other.base.replacen("http", "ws", 1));
    let mut req = url.into_client_request().expect("request");
    req.headers_mut().insert("cookie", l1.cookies.parse().expect("cookie"));
    let (mut w1, _) = tokio_tungstenite::connect_async(req).await.expect("supplier 1's inbox at the other process");
    assert_eq!(crate::opening::next(&mut w1).await["type"], "hello");

    let agency = Client::login(&app, "agency_x").await;
    let id = published_tender(&app, &agency).await;
    let s1 = Client::login(&app, "supplier_1").await;
    assert_eq!(s1.post_empty(&format!("/api/v1/tenders/{id}/obtain")).await.status(), 204);
    clarify(&agency, &id, "第三章技术参数更正。").await;
    // Clock ticks come all the while: the notice itself must come in time.
    let e = tokio::time::timeout(std::time::Duration::from_secs(15), crate::opening::next(&mut w1))
        .await
        .expect("the notice reaches the socket at the other process");
    assert_eq!((&e["type"], &e["event"]["kind"]), (&json!("event"), &json!("notice")), "{e}");
}
