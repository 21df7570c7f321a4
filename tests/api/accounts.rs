//! Accounts: login, sessions, throttling, registration and approval, password change.

use crate::client::{Client, expect_error};
use crate::support::{PASSWORD, spawn_app};
use chrono::TimeDelta;
use serde_json::{Value, json};

#[tokio::test]
async fn login_me_and_logout() {
    let app = spawn_app().await;
    let anon = Client::anonymous(&app).await;
    expect_error(anon.get("/api/v1/me").await, 401, "login_required").await;
    let r = anon.post("/api/v1/session", &json!({"username": "supplier_1", "password": PASSWORD})).await;
    assert_eq!(r.status(), 200);
    let cookies: Vec<String> =
        r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect();
    let session = cookies.iter().find(|c| c.starts_with("th_session=")).expect("session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    assert!(!session.contains("Secure"), "no Secure flag over plain HTTP");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["user"]["role"], "supplier");
    assert_eq!(body["user"]["org_name"], "供应商一有限公司");
    let mut c = anon;
    c.csrf = body["csrf_token"].as_str().expect("csrf").to_string();
    assert_eq!(c.get_json("/api/v1/me").await["username"], "supplier_1");
    assert_eq!(c.delete("/api/v1/session").await.status(), 204);
    expect_error(c.get("/api/v1/me").await, 401, "login_required").await;
}

#[tokio::test]
async fn failed_logins_are_throttled_then_forgiven() {
    let app = spawn_app().await;
    let c = Client::anonymous(&app).await;
    expect_error(c.post("/api/v1/session", &json!({"username": "nobody", "password": "x"})).await, 401, "login_failed")
        .await;
    for _ in 0..5 {
        expect_error(
            c.post("/api/v1/session", &json!({"username": "buyer_a", "password": "wrong"})).await,
            401,
            "login_failed",
        )
        .await;
    }
    // Even the right password is refused now.
    expect_error(
        c.post("/api/v1/session", &json!({"username": "buyer_a", "password": PASSWORD})).await,
        429,
        "login_throttled",
    )
    .await;
    // Other users are not affected.
    let other = Client::anonymous(&app).await;
    assert_eq!(
        other.post("/api/v1/session", &json!({"username": "buyer_b", "password": PASSWORD})).await.status(),
        200
    );
    app.clock.advance(TimeDelta::minutes(16));
    assert_eq!(c.post("/api/v1/session", &json!({"username": "buyer_a", "password": PASSWORD})).await.status(), 200);
}

#[tokio::test]
async fn sessions_expire() {
    let app = spawn_app().await;
    let c = Client::login(&app, "agency_x").await;
    app.clock.advance(TimeDelta::hours(11));
    assert_eq!(c.get("/api/v1/me").await.status(), 200);
    app.clock.advance(TimeDelta::hours(2));
    expect_error(c.get("/api/v1/me").await, 401, "login_required").await;
}

fn registration(username: &str) -> Value {
    json!({
        "org_name": "新注册科技有限公司", "credit_code": "91110000MA01ABCD2X", "size_class": "micro",
        "contact_phone": "010-1234", "username": username, "display_name": "新用户", "password": "abc12345"
    })
}

#[tokio::test]
async fn supplier_registration_waits_for_the_centre() {
    let app = spawn_app().await;
    let anon = Client::anonymous(&app).await;
    let r = anon.post("/api/v1/registrations", &registration("newco")).await;
    assert_eq!(r.status(), 201);
    let org: Value = r.json().await.expect("json");
    let org = org["id"].as_str().expect("id").to_string();
    expect_error(
        anon.post("/api/v1/session", &json!({"username": "newco", "password": "abc12345"})).await,
        403,
        "account_pending",
    )
    .await;
    expect_error(anon.post("/api/v1/registrations", &registration("newco")).await, 409, "username_taken").await;

    // Only the administrator decides.
    let supervisor = Client::login(&app, "supervisor").await;
    expect_error(supervisor.post_empty(&format!("/api/v1/organisations/{org}/approve")).await, 403, "forbidden").await;
    expect_error(supervisor.get("/api/v1/organisations?status=pending").await, 403, "forbidden").await;
    let admin = Client::login(&app, "admin").await;
    let pending = admin.get_json("/api/v1/organisations?status=pending").await;
    assert_eq!(pending.as_array().map(Vec::len), Some(1));
    assert_eq!(pending[0]["size_class"], "micro");
    assert_eq!(admin.post_empty(&format!("/api/v1/organisations/{org}/approve")).await.status(), 204);
    expect_error(admin.post_empty(&format!("/api/v1/organisations/{org}/approve")).await, 409, "not_pending").await;
    let fresh = Client::anonymous(&app).await;
    let r = fresh.post("/api/v1/session", &json!({"username": "newco", "password": "abc12345"})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.expect("json")["user"]["org_kind"], "supplier");

    // A rejected one can never log in.
    let r = anon
        .post(
            "/api/v1/registrations",
            &json!({
                "org_name": "被驳回公司", "credit_code": "91110000MA01ABCD3Y", "size_class": "small",
                "username": "rejected", "display_name": "x", "password": "abc12345"
            }),
        )
        .await;
    let org2 = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    assert_eq!(admin.post_empty(&format!("/api/v1/organisations/{org2}/reject")).await.status(), 204);
    expect_error(
        anon.post("/api/v1/session", &json!({"username": "rejected", "password": "abc12345"})).await,
        403,
        "account_disabled",
    )
    .await;
}

#[tokio::test]
async fn registration_input_is_checked() {
    let app = spawn_app().await;
    let anon = Client::anonymous(&app).await;
    let mut r = registration("ok_name");
    r["credit_code"] = json!("123");
    r["password"] = json!("short");
    r["username"] = json!("bad name!");
    let e = expect_error(anon.post("/api/v1/registrations", &r).await, 422, "validation_failed").await;
    let fields: Vec<&str> =
        e["error"]["fields"].as_array().expect("fields").iter().filter_map(|f| f["field"].as_str()).collect();
    assert!(
        fields.contains(&"credit_code") && fields.contains(&"password") && fields.contains(&"username"),
        "{fields:?}"
    );
    let mut r = registration("x2");
    r["size_class"] = json!("huge");
    expect_error(anon.post("/api/v1/registrations", &r).await, 422, "json_invalid").await;
    let admin = Client::login(&app, "admin").await;
    assert!(admin.get_json("/api/v1/organisations?status=pending").await.as_array().expect("list").is_empty());
}

#[tokio::test]
async fn password_change_ends_sessions() {
    let app = spawn_app().await;
    let c = Client::login(&app, "buyer_a").await;
    let other_device = Client::login(&app, "buyer_a").await;
    let e = expect_error(
        c.post("/api/v1/me/password", &json!({"current_password": "wrong", "new_password": "newpass123"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(e["error"]["fields"][0]["field"], "current_password");
    expect_error(
        c.post("/api/v1/me/password", &json!({"current_password": PASSWORD, "new_password": "nodigits"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        c.post("/api/v1/me/password", &json!({"current_password": PASSWORD, "new_password": "newpass123"}))
            .await
            .status(),
        204
    );
    expect_error(other_device.get("/api/v1/me").await, 401, "login_required").await;
    let anon = Client::anonymous(&app).await;
    expect_error(
        anon.post("/api/v1/session", &json!({"username": "buyer_a", "password": PASSWORD})).await,
        401,
        "login_failed",
    )
    .await;
    assert_eq!(
        anon.post("/api/v1/session", &json!({"username": "buyer_a", "password": "newpass123"})).await.status(),
        200
    );
}

pub(crate) fn cli(app: &crate::support::TestApp, args: &[&str], password: Option<&str>) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tenderhall"));
    cmd.args(args)
        .env("TENDERHALL_DATABASE__URL", &app.state.settings.database.url)
        .env("TENDERHALL_STORAGE__KEY_DIR", &app.state.settings.storage.key_dir)
        .env("TENDERHALL_STORAGE__BLOB_DIR", &app.state.settings.storage.blob_dir)
        .env("RUST_LOG", "error")
        .current_dir(app.dir.path());
    if let Some(p) = password {
        cmd.env("TENDERHALL_NEW_PASSWORD", p);
    }
    cmd.output().expect("run tenderhall")
}

#[tokio::test]
async fn operators_add_and_disable_staff_from_the_command_line() {
    let app = spawn_app().await;
    let add = [
        "accounts",
        "add",
        "--org",
        "丙采购单位",
        "--kind",
        "procuring_unit",
        "--username",
        "buyer_c",
        "--display-name",
        "丙",
        "--role",
        "procuring_staff",
    ];
    let out = cli(&app, &add, Some("weak"));
    assert!(!out.status.success(), "weak password refused");
    let out = cli(&app, &add, Some("strong123"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = cli(&app, &add, Some("strong123"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("username_taken"));
    let bad_role = [
        "accounts",
        "add",
        "--org",
        "丙采购单位",
        "--kind",
        "procuring_unit",
        "--username",
        "x_c",
        "--display-name",
        "x",
        "--role",
        "supplier",
    ];
    assert!(!cli(&app, &bad_role, Some("strong123")).status.success(), "a procuring unit has no suppliers");

    let anon = Client::anonymous(&app).await;
    let r = anon.post("/api/v1/session", &json!({"username": "buyer_c", "password": "strong123"})).await;
    assert_eq!(r.status(), 200);
    let mut c = anon;
    c.csrf = r.json::<Value>().await.expect("json")["csrf_token"].as_str().expect("csrf").to_string();
    assert_eq!(c.get_json("/api/v1/me").await["org_name"], "丙采购单位");

    assert!(cli(&app, &["accounts", "disable", "buyer_c"], None).status.success());
    expect_error(c.get("/api/v1/me").await, 401, "login_required").await;
    let again = Client::anonymous(&app).await;
    expect_error(
        again.post("/api/v1/session", &json!({"username": "buyer_c", "password": "strong123"})).await,
        403,
        "account_disabled",
    )
    .await;
    assert!(cli(&app, &["accounts", "enable", "buyer_c"], None).status.success());
    assert_eq!(
        again.post("/api/v1/session", &json!({"username": "buyer_c", "password": "strong123"})).await.status(),
        200
    );
}

#[tokio::test]
async fn accounts_are_added_beside_a_running_server_that_holds_the_catalogue_index() {
    // The server (in this process) holds its catalogue index open for writing; the command uses
    // the same directories, as on a machine with one configuration.
    let app = spawn_app().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tenderhall"))
        .args(["accounts", "add", "--org", "丁采购单位", "--kind", "procuring_unit", "--username", "buyer_d"])
        .args(["--display-name", "丁", "--role", "procuring_staff"])
        .env("TENDERHALL_DATABASE__URL", &app.state.settings.database.url)
        .env("TENDERHALL_STORAGE__KEY_DIR", &app.state.settings.storage.key_dir)
        .env("TENDERHALL_STORAGE__BLOB_DIR", &app.state.settings.storage.blob_dir)
        .env("TENDERHALL_STORAGE__INDEX_DIR", &app.state.settings.storage.index_dir)
        .env("TENDERHALL_NEW_PASSWORD", "strong123")
        .env("RUST_LOG", "error")
        .current_dir(app.dir.path())
        .output()
        .expect("run tenderhall");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let anon = Client::anonymous(&app).await;
    let r = anon.post("/api/v1/session", &json!({"username": "buyer_d", "password": "strong123"})).await;
    assert_eq!(r.status(), 200);
    // The server's own index still works.
    assert_eq!(anon.get("/api/v1/mall/items?q=%E6%89%93%E5%8D%B0%E6%9C%BA").await.status(), 200);
}

/// Sends `n` logins for `username` with `password` at the same moment, each from its own
/// session, to the servers in `bases` in turn; returns each answer's status and error code.
async fn simultaneous_logins(bases: &[String], username: &str, passwords: &[&str]) -> Vec<(u16, String)> {
    let mut clients = Vec::new();
    for (i, password) in passwords.iter().enumerate() {
        let http = reqwest::Client::builder().cookie_store(true).build().expect("client");
        clients.push((Client::with_http(http, &bases[i % bases.len()]).await, password.to_string()));
    }
    let attempts = clients.iter().map(|(c, password)| async move {
        let r = c.post("/api/v1/session", &json!({"username": username, "password": password})).await;
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        (status, body["error"]["code"].as_str().unwrap_or("").to_string())
    });
    futures_util::future::join_all(attempts).await
}

fn count(outcomes: &[(u16, String)], status: u16, code: &str) -> usize {
    outcomes.iter().filter(|(s, c)| *s == status && c == code).count()
}

async fn failure_rows(app: &crate::support::TestApp, username: &str) -> u64 {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use tenderhall::entities::login_failure;
    login_failure::Entity::find()
        .filter(login_failure::Column::Username.eq(username))
        .count(&app.state.db)
        .await
        .expect("count")
}

#[tokio::test(flavor = "multi_thread")]
async fn simultaneous_wrong_passwords_are_checked_at_most_the_limit() {
    let app = spawn_app().await;
    let limit = app.state.settings.security.max_failed_logins as usize;
    assert_eq!(limit, 5);
    let outcomes = simultaneous_logins(std::slice::from_ref(&app.base), "buyer_a", &["wrong-password1"; 30]).await;
    let checked = count(&outcomes, 401, "login_failed");
    let throttled = count(&outcomes, 429, "login_throttled");
    assert_eq!(checked + throttled, 30, "{outcomes:?}");
    assert!((1..=limit).contains(&checked), "{checked} of 30 were checked against the password: {outcomes:?}");
    assert_eq!(failure_rows(&app, "buyer_a").await, checked as u64);
    // The window is used up: the right password is refused, and nothing more is recorded.
    let c = Client::anonymous(&app).await;
    let right = json!({"username": "buyer_a", "password": PASSWORD});
    expect_error(c.post("/api/v1/session", &right).await, 429, "login_throttled").await;
    assert_eq!(failure_rows(&app, "buyer_a").await, checked as u64);
    app.clock.advance(TimeDelta::minutes(16));
    assert_eq!(c.post("/api/v1/session", &right).await.status(), 200);

    // Under the limit, the right password among wrong ones sent at once logs in, and a
    // successful login leaves no failure behind.
    let mut passwords = vec!["wrong-password1"; limit - 1];
    passwords.push(PASSWORD);
    let outcomes = simultaneous_logins(std::slice::from_ref(&app.base), "buyer_b", &passwords).await;
    assert_eq!(count(&outcomes, 401, "login_failed"), limit - 1, "{outcomes:?}");
    assert_eq!(outcomes.last().map(|o| o.0), Some(200), "{outcomes:?}");
    assert_eq!(failure_rows(&app, "buyer_b").await, (limit - 1) as u64);
    // One attempt is left in the window, and it is checked.
    let c = Client::anonymous(&app).await;
    assert_eq!(c.post("/api/v1/session", &json!({"username": "buyer_b", "password": PASSWORD})).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_limit_holds_across_server_processes_sharing_the_database() {
    use crate::support::{ServerProcess, free_port};
    let app = spawn_app().await;
    let (p1, p2) = (free_port(), free_port());
    let one = ServerProcess::start(&app.process_env(p1), p1, app.dir.path()).await;
    let two = ServerProcess::start(&app.process_env(p2), p2, app.dir.path()).await;
    let bases = [one.base.clone(), two.base.clone()];
    let outcomes = simultaneous_logins(&bases, "agency_x", &["wrong-password1"; 30]).await;
    let checked = count(&outcomes, 401, "login_failed");
    assert_eq!(checked + count(&outcomes, 429, "login_throttled"), 30, "{outcomes:?}");
    assert!((1..=5).contains(&checked), "{checked} of 30 were checked against the password: {outcomes:?}");
    assert_eq!(failure_rows(&app, "agency_x").await, checked as u64);
    for base in &bases {
        let c = Client::with_http(reqwest::Client::builder().cookie_store(true).build().expect("client"), base).await;
        let r = c.post("/api/v1/session", &json!({"username": "agency_x", "password": PASSWORD})).await;
        expect_error(r, 429, "login_throttled").await;
    }
}

/// Behind a reverse proxy listed in `server.trusted_proxies`, the login throttle counts each
/// client by the address the proxy forwarded for; from anyone else, a forwarded address is
/// ignored, so a client cannot pick a fresh address for each guess.
#[tokio::test]
async fn the_throttle_reads_forwarded_addresses_only_from_trusted_proxies() {
    async fn attempt(c: &Client, user: &str, forwarded_for: &str) -> reqwest::Response {
        c.req(reqwest::Method::POST, "/api/v1/session")
            .header("x-forwarded-for", forwarded_for)
            .json(&json!({"username": user, "password": "wrong-password"}))
            .send()
            .await
            .expect("send")
    }
    let settings = |trusted: Vec<String>| crate::support::Options {
        settings: Some(Box::new(move |s: &mut tenderhall::config::Settings| {
            s.security.max_failed_logins_per_addr = 2;
            s.security.max_failed_logins = 100;
            s.server.trusted_proxies = trusted.clone();
        })),
        ..Default::default()
    };
    // The test server's clients connect from 127.0.0.1: here that is the trusted proxy.
    let app = crate::support::spawn_app_with(settings(vec!["127.0.0.1".into()])).await;
    let c = Client::anonymous(&app).await;
    for user in ["a1", "a2"] {
        expect_error(attempt(&c, user, "198.51.100.1").await, 401, "login_failed").await;
    }
    expect_error(attempt(&c, "a3", "198.51.100.1").await, 429, "login_throttled").await;
    // Another client behind the same proxy is not throttled for the first one's guesses.
    expect_error(attempt(&c, "a4", "198.51.100.2").await, 401, "login_failed").await;

    // No trusted proxy: the header is the client's own word, and counts for nothing.
    let app = crate::support::spawn_app_with(settings(vec![])).await;
    let c = Client::anonymous(&app).await;
    for (user, addr) in [("b1", "198.51.100.1"), ("b2", "198.51.100.2")] {
        expect_error(attempt(&c, user, addr).await, 401, "login_failed").await;
    }
    expect_error(attempt(&c, "b3", "198.51.100.3").await, 429, "login_throttled").await;
}
