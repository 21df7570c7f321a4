//! Login codes by SMS: after a right password, a user who turned them on (and staff, when the
//! centre requires it) gets a 6-digit code from a real HTTP SMS gateway instead of a session;
//! the code holds five minutes, is used once, is spent after five wrong tries, counts against
//! the login's throttle like a password, and goes in quiet hours too.

use crate::client::{Client, expect_error};
use crate::support::{Options, PASSWORD, TestApp, spawn_app_with};
use chrono::TimeDelta;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// A real HTTP gateway speaking the protocol of docs/notifications.md; it keeps every body and
/// answers each one as sent.
#[derive(Default)]
struct Gateway {
    bodies: Mutex<Vec<Value>>,
}

impl Gateway {
    fn last(&self) -> Value {
        self.bodies.lock().expect("lock").last().cloned().unwrap_or(Value::Null)
    }

    fn count(&self) -> usize {
        self.bodies.lock().expect("lock").len()
    }

    /// The code of the last message.
    fn code(&self) -> String {
        self.last()["params"]["code"].as_str().expect("a code").to_string()
    }
}

async fn app_with_gateway(staff_codes: bool) -> (TestApp, Arc<Gateway>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}/send", listener.local_addr().expect("addr"));
    let seen = Arc::new(Gateway::default());
    let g = seen.clone();
    tokio::spawn(async move {
        use axum::{body::Bytes, extract::State, routing::post};
        async fn send(State(g): State<Arc<Gateway>>, body: Bytes) -> String {
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let n = {
                let mut b = g.bodies.lock().expect("lock");
                b.push(v);
                b.len()
            };
            json!({"message_id": format!("SMS-{n}")}).to_string()
        }
        let app = axum::Router::new().route("/send", post(send)).with_state(g);
        let _ = axum::serve(listener, app).await;
    });
    let app = spawn_app_with(Options {
        settings: Some(Box::new(move |s| {
            s.sms.endpoint = endpoint;
            s.security.staff_login_codes = staff_codes;
        })),
        ..Default::default()
    })
    .await;
    (app, seen)
}

async fn give_phone(c: &Client, phone: &str) {
    let r = c
        .put(
            "/api/v1/notifications/preferences",
            &json!({"lang": "zh-CN", "email_muted": [], "phone": phone, "sms_kinds": []}),
        )
        .await;
    assert_eq!(r.status(), 200);
}

/// Logs in with the password; answers the client and the login's answer.
async fn password(app: &TestApp, user: &str) -> (Client, reqwest::Response) {
    let c = Client::anonymous(app).await;
    let r = c.post("/api/v1/session", &json!({"username": user, "password": PASSWORD})).await;
    (c, r)
}

async fn code(c: &Client, challenge: &str, code: &str) -> reqwest::Response {
    c.post("/api/v1/session/code", &json!({"challenge": challenge, "code": code})).await
}

#[tokio::test]
async fn a_user_who_turned_codes_on_logs_in_with_the_code_sent_by_sms() {
    let (app, gw) = app_with_gateway(false).await;
    let s1 = Client::login(&app, "supplier_1").await;
    // On needs a number first.
    expect_error(s1.put("/api/v1/me/login-codes", &json!({"on": true})).await, 422, "phone_required").await;
    expect_error(s1.put("/api/v1/me/login-codes", &json!({"on": "yes"})).await, 422, "json_invalid").await;
    give_phone(&s1, "13800138000").await;
    assert_eq!(s1.put("/api/v1/me/login-codes", &json!({"on": true})).await.status(), 200);
    assert_eq!(s1.get_json("/api/v1/me/login-codes").await, json!({"on": true}));

    // The password alone starts no session: a code goes by SMS.
    let (c, r) = password(&app, "supplier_1").await;
    assert_eq!(r.status(), 202);
    let ch: Value = r.json().await.expect("json");
    assert_eq!((&ch["phone"], &ch["tries"]), (&json!("138****8000"), &json!(5)), "{ch}");
    let challenge = ch["challenge"].as_str().expect("challenge").to_string();
    expect_error(c.get("/api/v1/me").await, 401, "login_required").await;
    let sms = gw.last();
    assert_eq!((&sms["phone"], &sms["template"]), (&json!("13800138000"), &json!("TH_LOGIN_CODE_ZH")), "{sms}");
    assert_eq!(sms["params"]["minutes"], "5");
    let right = gw.code();
    assert!(right.len() == 6 && right.bytes().all(|b| b.is_ascii_digit()), "{right}");
    // Nobody reads the code from the platform: not in the audit trail, not in the answer.
    let supervisor = Client::login(&app, "supervisor").await;
    let trail = supervisor.get_json("/api/v1/audit/records?action=session.code_sent").await;
    assert!(trail.to_string().contains("138****8000") && !trail.to_string().contains(&right), "{trail}");
    assert!(!ch.to_string().contains(&right));

    // Wrong, then right; the code is used once.
    let wrong = if right == "000000" { "000001" } else { "000000" };
    expect_error(code(&c, &challenge, wrong).await, 401, "login_code_wrong").await;
    expect_error(code(&c, "not a challenge", &right).await, 401, "login_code_expired").await;
    let r = code(&c, &challenge, &right).await;
    assert_eq!(r.status(), 200);
    let mut c = c;
    c.csrf = r.json::<Value>().await.expect("json")["csrf_token"].as_str().expect("csrf").to_string();
    assert_eq!(c.get_json("/api/v1/me").await["username"], "supplier_1");
    expect_error(code(&c, &challenge, &right).await, 401, "login_code_expired").await;

    // A code holds five minutes.
    let (c, r) = password(&app, "supplier_1").await;
    let challenge = r.json::<Value>().await.expect("json")["challenge"].as_str().expect("c").to_string();
    app.clock.advance(TimeDelta::minutes(5));
    expect_error(code(&c, &challenge, &gw.code()).await, 401, "login_code_expired").await;

    // In quiet hours the code goes at once (it is urgent).
    let now = tenderhall::clock::Clock::now(&*app.clock).with_timezone(&tenderhall::web::cst());
    app.clock.advance(now.date_naive().and_hms_opt(23, 30, 0).expect("t") - now.naive_local());
    let before = gw.count();
    let (c, r) = password(&app, "supplier_1").await;
    assert_eq!(r.status(), 202);
    assert_eq!(gw.count(), before + 1);
    let challenge = r.json::<Value>().await.expect("json")["challenge"].as_str().expect("c").to_string();
    let r = code(&c, &challenge, &gw.code()).await;
    assert_eq!(r.status(), 200);
    let mut s1 = c;
    s1.csrf = r.json::<Value>().await.expect("json")["csrf_token"].as_str().expect("csrf").to_string();

    // Turned off: the password is enough again.
    assert_eq!(s1.put("/api/v1/me/login-codes", &json!({"on": false})).await.status(), 200);
    let (_, r) = password(&app, "supplier_1").await;
    assert_eq!(r.status(), 200);
    // Others never needed one.
    let (_, r) = password(&app, "supplier_2").await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn wrong_codes_spend_the_code_and_count_against_the_login_like_passwords() {
    let (app, gw) = app_with_gateway(false).await;
    let s1 = Client::login(&app, "supplier_1").await;
    give_phone(&s1, "13800138000").await;
    assert_eq!(s1.put("/api/v1/me/login-codes", &json!({"on": true})).await.status(), 200);
    let (c, r) = password(&app, "supplier_1").await;
    let challenge = r.json::<Value>().await.expect("json")["challenge"].as_str().expect("c").to_string();
    let right = gw.code();
    let wrong = if right == "123456" { "654321" } else { "123456" };
    for _ in 0..4 {
        expect_error(code(&c, &challenge, wrong).await, 401, "login_code_wrong").await;
    }
    // The fifth wrong code spends it, and the login's allowance is used up: even the right code
    // and the right password are refused until the window moves on.
    expect_error(code(&c, &challenge, wrong).await, 401, "login_code_wrong").await;
    expect_error(code(&c, &challenge, &right).await, 429, "login_throttled").await;
    let (_, r) = password(&app, "supplier_1").await;
    expect_error(r, 429, "login_throttled").await;
    app.clock.advance(TimeDelta::minutes(16));
    expect_error(code(&c, &challenge, &right).await, 401, "login_code_expired").await;
    let (c, r) = password(&app, "supplier_1").await;
    assert_eq!(r.status(), 202);
    let challenge = r.json::<Value>().await.expect("json")["challenge"].as_str().expect("c").to_string();
    assert_eq!(code(&c, &challenge, &gw.code()).await.status(), 200);
}

#[tokio::test]
async fn the_centre_requires_codes_of_staff_who_get_their_number_from_the_administrator() {
    let (app, gw) = app_with_gateway(true).await;
    // Staff without a number cannot log in; suppliers log in with the password.
    let (_, r) = password(&app, "agency_x").await;
    expect_error(r, 403, "login_phone_missing").await;
    let (_, r) = password(&app, "supplier_1").await;
    assert_eq!(r.status(), 200);
    assert_eq!(gw.count(), 0);
    // The administrator gives the number on the command line (a wrong one is refused).
    let tool = |number: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tenderhall"))
            .args(["accounts", "phone", "agency_x", number])
            .envs(app.process_env(crate::support::free_port()))
            .current_dir(app.dir.path())
            .output()
            .expect("run")
    };
    assert!(!tool("12345").status.success());
    let out = tool("13900139000");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (c, r) = password(&app, "agency_x").await;
    assert_eq!(r.status(), 202);
    let challenge = r.json::<Value>().await.expect("json")["challenge"].as_str().expect("c").to_string();
    assert_eq!(gw.last()["phone"], "13900139000");
    let r = code(&c, &challenge, &gw.code()).await;
    assert_eq!(r.status(), 200);
    let mut c = c;
    c.csrf = r.json::<Value>().await.expect("json")["csrf_token"].as_str().expect("csrf").to_string();
    // Staff cannot turn the requirement off for themselves.
    assert_eq!(c.get_json("/api/v1/me/login-codes").await, json!({"on": true}));
    expect_error(c.put("/api/v1/me/login-codes", &json!({"on": false})).await, 422, "login_codes_required").await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tenderhall"))
        .args(["accounts", "phone", "supervisor", "13700137000"])
        .envs(app.process_env(crate::support::free_port()))
        .current_dir(app.dir.path())
        .output()
        .expect("run");
    assert!(out.status.success());
    let (supervisor, r) = password(&app, "supervisor").await;
    let challenge = r.json::<Value>().await.expect("json")["challenge"].as_str().expect("c").to_string();
    let r = code(&supervisor, &challenge, &gw.code()).await;
    let supervisor = {
        let mut s = supervisor;
        s.csrf = r.json::<Value>().await.expect("json")["csrf_token"].as_str().expect("csrf").to_string();
        s
    };
    let trail = supervisor.get_json("/api/v1/audit/records?action=user.phone_set").await;
    assert!(trail.to_string().contains("139****9000"), "{trail}");
}

#[tokio::test]
async fn the_login_pages_ask_for_the_code_and_refuse_a_wrong_one_in_the_page() {
    let (app, gw) = app_with_gateway(false).await;
    let s1 = Client::login(&app, "supplier_1").await;
    give_phone(&s1, "13800138000").await;
    // The account page turns codes on.
    let page = s1.get("/account").await.text().await.expect("page");
    assert!(page.contains("data-testid=\"login-codes-on\""), "{page}");
    let r = s1
        .req(reqwest::Method::POST, "/account/login-codes")
        .form(&[("_csrf", s1.csrf.as_str()), ("on", "1")])
        .send()
        .await
        .expect("send");
    assert!(r.status().is_redirection(), "{}", r.status());
    let page = s1.get("/account").await.text().await.expect("page");
    assert!(page.contains("data-testid=\"login-codes-off\""), "{page}");

    let c = Client::anonymous(&app).await;
    let r = c
        .req(reqwest::Method::POST, "/login")
        .form(&[("_csrf", c.csrf.as_str()), ("username", "supplier_1"), ("password", PASSWORD), ("next", "/tenders")])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let page = r.text().await.expect("page");
    assert!(page.contains("data-testid=\"login-code-form\"") && page.contains("138****8000"), "{page}");
    let field = |name: &str| -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = page.find(&marker).unwrap_or_else(|| panic!("{name} in the page")) + marker.len();
        page[start..].split('"').next().unwrap_or("").to_string()
    };
    let (challenge, phone, expires) = (field("challenge"), field("phone"), field("expires_at"));
    let right = gw.code();
    let wrong = if right == "000000" { "000001" } else { "000000" };
    let post = |code: String| {
        let form = vec![
            ("_csrf", c.csrf.clone()),
            ("challenge", challenge.clone()),
            ("phone", phone.clone()),
            ("expires_at", expires.clone()),
            ("next", "/tenders".to_string()),
            ("code", code),
        ];
        let req = c.req(reqwest::Method::POST, "/login/code").form(&form);
        async move { req.send().await.expect("send") }
    };
    let r = post(wrong.into()).await;
    assert_eq!(r.status(), 401);
    let again = r.text().await.expect("page");
    assert!(
        again.contains("验证码不正确，还可再试 4 次") && again.contains("data-testid=\"login-code-form\""),
        "{again}"
    );
    let r = post(right).await;
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(r.headers().get("location").and_then(|l| l.to_str().ok()), Some("/tenders"));
}

#[tokio::test]
async fn codes_are_sent_at_most_so_often_and_not_without_a_gateway() {
    let (app, gw) = app_with_gateway(false).await;
    let s1 = Client::login(&app, "supplier_1").await;
    give_phone(&s1, "13800138000").await;
    assert_eq!(s1.put("/api/v1/me/login-codes", &json!({"on": true})).await.status(), 200);
    // As many codes as the window allows, then a refusal with the time to wait.
    for _ in 0..5 {
        let (_, r) = password(&app, "supplier_1").await;
        assert_eq!(r.status(), 202);
    }
    let (_, r) = password(&app, "supplier_1").await;
    let wait: u64 =
        r.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
    expect_error(r, 429, "login_codes_throttled").await;
    assert!(wait > 0 && wait <= 15 * 60, "{wait}");
    assert_eq!(gw.count(), 5, "nothing more was sent");

    // Without a gateway: turning codes on is refused, and a login that needs one says why.
    let plain = crate::support::spawn_app().await;
    let s2 = Client::login(&plain, "supplier_2").await;
    give_phone(&s2, "13900139000").await;
    expect_error(s2.put("/api/v1/me/login-codes", &json!({"on": true})).await, 503, "sms_unavailable").await;
    assert_eq!(s2.get_json("/api/v1/me/login-codes").await, json!({"on": false}), "nothing changed");
}

#[tokio::test]
async fn a_gateway_that_refuses_the_code_is_said_and_no_session_starts() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}/send", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        use axum::{http::StatusCode, routing::post};
        let app = axum::Router::new().route("/send", post(|| async { (StatusCode::BAD_GATEWAY, "down") }));
        let _ = axum::serve(listener, app).await;
    });
    let app =
        spawn_app_with(Options { settings: Some(Box::new(move |s| s.sms.endpoint = endpoint)), ..Default::default() })
            .await;
    let s1 = Client::login(&app, "supplier_1").await;
    give_phone(&s1, "13800138000").await;
    assert_eq!(s1.put("/api/v1/me/login-codes", &json!({"on": true})).await.status(), 200);
    let (c, r) = password(&app, "supplier_1").await;
    expect_error(r, 503, "sms_failed").await;
    expect_error(c.get("/api/v1/me").await, 401, "login_required").await;
}
