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
        "contact_phone": "010-12345678", "username": username, "display_name": "新用户", "password": "abc12345"
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

    // Only the administrator decides.
    let supervisor = Client::login(&app, "supervisor").await;
    expect_error(supervisor.post_empty(&format!("/api/v1/organisations/{org}/approve")).await, 403, "forbidden").await;
    expect_error(supervisor.get("/api/v1/organisations?status=pending").await, 403, "forbidden").await;
    let admin = Client::login(&app, "admin").await;
    let pending = admin.get_json("/api/v1/organisations?status=pending").await;
    assert_eq!(pending["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(pending["items"][0]["size_class"], "micro");
    assert_eq!(pending["pending"], 1);
    assert_eq!(admin.post_empty(&format!("/api/v1/organisations/{org}/approve")).await.status(), 204);
    expect_error(admin.post_empty(&format!("/api/v1/organisations/{org}/approve")).await, 409, "not_pending").await;
    let fresh = Client::anonymous(&app).await;
    let r = fresh.post("/api/v1/session", &json!({"username": "newco", "password": "abc12345"})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.expect("json")["user"]["org_kind"], "supplier");

    // A rejected one can never log in; it is told why.
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
    let reject = format!("/api/v1/organisations/{org2}/reject");
    assert_eq!(admin.post(&reject, &json!({"reason": "营业执照已过期"})).await.status(), 204);
    let e = expect_error(
        anon.post("/api/v1/session", &json!({"username": "rejected", "password": "abc12345"})).await,
        403,
        "account_rejected",
    )
    .await;
    assert_eq!(e["error"]["detail"], "营业执照已过期");
    // The reason is told only to whoever knows the password.
    expect_error(
        anon.post("/api/v1/session", &json!({"username": "rejected", "password": "guess1234"})).await,
        401,
        "login_failed",
    )
    .await;
}

async fn users_named(app: &crate::support::TestApp, username: &str) -> u64 {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use tenderhall::entities::user;
    user::Entity::find().filter(user::Column::Username.eq(username)).count(&app.state.db).await.expect("count")
}

/// The parts of an answer a stranger can compare: status, header names, and the body with
/// every UUID in it replaced by the same placeholder.
async fn answer_shape(r: reqwest::Response) -> (u16, Vec<String>, String) {
    let status = r.status().as_u16();
    let mut headers: Vec<String> = r.headers().keys().map(|k| k.as_str().to_string()).collect();
    headers.sort();
    let body = r.text().await.expect("body");
    let mut shaped = String::new();
    let mut rest = body.as_str();
    // A UUID is 36 characters with dashes at 8, 13, 18 and 23.
    while let Some((i, _)) = rest.char_indices().find(|(i, _)| {
        rest.get(*i..*i + 36).is_some_and(|c| uuid::Uuid::parse_str(c).is_ok() && c.as_bytes()[8] == b'-')
    }) {
        shaped.push_str(&rest[..i]);
        shaped.push_str("<uuid>");
        rest = &rest[i + 36..];
    }
    shaped.push_str(rest);
    (status, headers, shaped)
}

#[tokio::test]
async fn registering_a_taken_user_name_is_answered_like_a_free_one() {
    let app = spawn_app().await;
    let anon = Client::anonymous(&app).await;
    let owner = Client::login(&app, "supplier_1").await;
    let owner_notices = owner.get_json("/api/v1/notifications").await;

    // The API: the same status, headers and body (but for the new organisation's id).
    let taken = answer_shape(anon.post("/api/v1/registrations", &registration("supplier_1")).await).await;
    let free = answer_shape(anon.post("/api/v1/registrations", &registration("fresh_name")).await).await;
    assert_eq!(taken.0, 201);
    assert_eq!(taken, free);
    // The page: the same page.
    let form = |name: &'static str| {
        [
            ("org_name", "页面注册有限公司"),
            ("credit_code", "91110000MA01ABCD4Z"),
            ("size_class", "small"),
            ("contact_phone", ""),
            ("username", name),
            ("display_name", "页面"),
            ("password", "abc12345"),
        ]
    };
    let send = |name: &'static str| anon.req(reqwest::Method::POST, "/register").form(&form(name)).send();
    let taken_page = answer_shape(send("buyer_a").await.expect("send")).await;
    let free_page = answer_shape(send("fresh_page").await.expect("send")).await;
    assert_eq!(taken_page.0, 200);
    assert!(taken_page.2.contains("data-testid=\"registered\""), "{}", taken_page.2);
    assert_eq!(taken_page, free_page);

    // Logging in afterwards with the name and password registered tells nothing either.
    let app_ref = &app;
    let login = |name: &'static str| async move {
        let c = Client::anonymous(app_ref).await;
        answer_shape(c.post("/api/v1/session", &json!({"username": name, "password": "abc12345"})).await).await
    };
    let (taken_login, free_login) = (login("supplier_1").await, login("fresh_name").await);
    assert_eq!(taken_login.0, 403);
    assert!(taken_login.2.contains("account_pending"), "{}", taken_login.2);
    assert_eq!(taken_login, free_login);

    // No second account was created; the owner's account is untouched and was told nothing.
    assert_eq!(users_named(&app, "supplier_1").await, 1);
    assert_eq!(users_named(&app, "buyer_a").await, 1);
    assert_eq!(users_named(&app, "fresh_name").await, 1);
    assert_eq!(owner.get_json("/api/v1/me").await["username"], "supplier_1");
    assert_eq!(owner.get_json("/api/v1/notifications").await, owner_notices);
    let fresh = Client::anonymous(&app).await;
    let r = fresh.post("/api/v1/session", &json!({"username": "supplier_1", "password": PASSWORD})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.expect("json")["user"]["org_name"], "供应商一有限公司");

    // The centre sees which registrations asked for a taken name, cannot approve them and
    // rejects them; only then is the applicant told why.
    let admin = Client::login(&app, "admin").await;
    let pending = admin.get_json("/api/v1/organisations?status=pending").await;
    let items = pending["items"].as_array().expect("items");
    assert_eq!(items.len(), 4, "{pending}");
    assert_eq!(items.iter().filter(|o| o["username_taken"] == true).count(), 2, "{pending}");
    let held = items.iter().find(|o| o["username_taken"] == true && o["name"] == "新注册科技有限公司").expect("held");
    let held = held["id"].as_str().expect("id").to_string();
    let page = admin.get("/admin/organisations?status=pending").await.text().await.expect("page");
    assert_eq!(page.matches("data-testid=\"username-taken\"").count(), 2);
    assert_eq!(page.matches("/approve\"").count(), 2, "only the free names can be approved");
    expect_error(admin.post_empty(&format!("/api/v1/organisations/{held}/approve")).await, 409, "username_taken").await;
    let reason = "用户名已被占用，请更换用户名重新注册";
    let r = admin.post(&format!("/api/v1/organisations/{held}/reject"), &json!({"reason": reason})).await;
    assert_eq!(r.status(), 204);
    let c = Client::anonymous(&app).await;
    let r = c.post("/api/v1/session", &json!({"username": "supplier_1", "password": "abc12345"})).await;
    assert_eq!(expect_error(r, 403, "account_rejected").await["error"]["detail"], reason);
    // A wrong password learns nothing of it, and the owner still logs in.
    let r = c.post("/api/v1/session", &json!({"username": "supplier_1", "password": "guess1234"})).await;
    expect_error(r, 401, "login_failed").await;
    assert_eq!(c.post("/api/v1/session", &json!({"username": "supplier_1", "password": PASSWORD})).await.status(), 200);
    assert_eq!(users_named(&app, "supplier_1").await, 1);
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
    assert_eq!(admin.get_json("/api/v1/organisations?status=pending").await["total"], 0);
    // A contact phone, if given, is a phone number.
    let mut r = registration("xx3");
    r["contact_phone"] = json!("call me");
    let e = expect_error(anon.post("/api/v1/registrations", &r).await, 422, "validation_failed").await;
    assert_eq!(e["error"]["fields"][0], json!({"field": "contact_phone", "code": "invalid"}));
    let mut r = registration("xx4");
    r["contact_phone"] = json!("");
    assert_eq!(anon.post("/api/v1/registrations", &r).await.status(), 201, "it may be left out");
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

/// A password change checks the current password under the login's throttle: a stolen session
/// guesses no more passwords than a login could.
#[tokio::test]
async fn wrong_current_passwords_are_throttled_like_logins() {
    let app = spawn_app().await;
    let limit = app.state.settings.security.max_failed_logins as usize;
    let change = |current: &str| json!({"current_password": current, "new_password": "Newpass-2026"});
    let c = Client::login(&app, "buyer_a").await;
    for _ in 0..limit {
        let e = expect_error(c.post("/api/v1/me/password", &change("wrong-password1")).await, 422, "validation_failed")
            .await;
        assert_eq!(e["error"]["fields"][0]["field"], "current_password", "{e}");
    }
    assert_eq!(failure_rows(&app, "buyer_a").await, limit as u64);
    // The allowance is used up: the right current password is refused, with the time to wait,
    // and the password is not changed.
    let r = c.post("/api/v1/me/password", &change(PASSWORD)).await;
    let wait: u64 =
        r.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
    assert_eq!(wait, 15 * 60, "the first failure leaves the window in 15 minutes");
    let e = expect_error(r, 429, "login_throttled").await;
    assert_eq!(e["error"]["retry_after"], 15 * 60);
    assert_eq!(failure_rows(&app, "buyer_a").await, limit as u64, "nothing more was checked");
    assert_eq!(c.get("/api/v1/me").await.status(), 200, "the session goes on");
    // The same allowance as the login: the user's logins are throttled too, and the password
    // is still the old one once the window has passed.
    let anon = Client::anonymous(&app).await;
    let login = |p: &str| json!({"username": "buyer_a", "password": p});
    expect_error(anon.post("/api/v1/session", &login(PASSWORD)).await, 429, "login_throttled").await;
    app.clock.advance(TimeDelta::minutes(5));
    let r = c.post("/api/v1/me/password", &change(PASSWORD)).await;
    assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("600"));
    expect_error(r, 429, "login_throttled").await;
    app.clock.advance(TimeDelta::minutes(11));
    expect_error(anon.post("/api/v1/session", &login("Newpass-2026")).await, 401, "login_failed").await;

    // Within the allowance the right current password changes it, and its check leaves no
    // failure behind. Another user's guesses do not count against this one.
    let other = Client::login(&app, "buyer_b").await;
    for _ in 0..limit {
        expect_error(other.post("/api/v1/me/password", &change("wrong-password1")).await, 422, "validation_failed")
            .await;
    }
    let c = Client::login(&app, "buyer_a").await;
    let before = failure_rows(&app, "buyer_a").await;
    for _ in 0..limit - 2 {
        expect_error(c.post("/api/v1/me/password", &change("wrong-password1")).await, 422, "validation_failed").await;
    }
    // A new password that breaks the rules is refused before any check, and costs nothing.
    let weak = json!({"current_password": "wrong-password1", "new_password": "nodigits"});
    expect_error(c.post("/api/v1/me/password", &weak).await, 422, "validation_failed").await;
    assert_eq!(failure_rows(&app, "buyer_a").await, before + (limit - 2) as u64);
    assert_eq!(c.post("/api/v1/me/password", &change(PASSWORD)).await.status(), 204);
    assert_eq!(failure_rows(&app, "buyer_a").await, before + (limit - 2) as u64);
    assert_eq!(anon.post("/api/v1/session", &login("Newpass-2026")).await.status(), 200);
    expect_error(other.post("/api/v1/me/password", &change(PASSWORD)).await, 429, "login_throttled").await;
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

/// Registers a supplier (pending) named `name` with user `username`; returns its public id.
async fn register(app: &crate::support::TestApp, name: &str, code: &str, username: &str) -> String {
    let anon = Client::anonymous(app).await;
    let mut r = registration(username);
    r["org_name"] = json!(name);
    r["credit_code"] = json!(code);
    let r = anon.post("/api/v1/registrations", &r).await;
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn rejecting_a_registration_needs_a_reason_which_the_applicant_is_told_and_shown_when_logging_in() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = spawn_app().await;
    let admin = Client::login(&app, "admin").await;
    let org = register(&app, "待驳回科技有限公司", "91110000MA01REJEC1", "to_reject").await;
    let path = format!("/api/v1/organisations/{org}/reject");
    // No reason, no rejection; nothing changes.
    let e = expect_error(admin.post(&path, &json!({"reason": "  "})).await, 422, "validation_failed").await;
    assert_eq!(e["error"]["fields"][0], json!({"field": "reason", "code": "required"}));
    expect_error(admin.post(&path, &json!({})).await, 422, "json_invalid").await;
    expect_error(admin.post_empty(&path).await, 400, "json_content_type").await;
    let r = admin
        .req(reqwest::Method::POST, &format!("/admin/organisations/{org}/reject"))
        .form(&[("reason", "")])
        .send()
        .await
        .expect("send");
    crate::client::expect_page_error(r, 422, "validation_failed").await;
    assert_eq!(admin.get_json("/api/v1/organisations?status=pending").await["total"], 1);
    expect_error(Client::login(&app, "supervisor").await.post(&path, &json!({"reason": "x"})).await, 403, "forbidden")
        .await;

    // From the page, with a reason.
    let reason = "统一社会信用代码与营业执照不符，请核对后重新注册。";
    let r = admin
        .req(reqwest::Method::POST, &format!("/admin/organisations/{org}/reject"))
        .form(&[("reason", reason)])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 303);
    expect_error(admin.post(&path, &json!({"reason": reason})).await, 409, "not_pending").await;
    let listed = admin.get_json("/api/v1/organisations?status=rejected").await;
    assert_eq!(listed["items"][0]["status_reason"], reason);

    // Recorded in the audit chain with the reason.
    let sup = Client::login(&app, "supervisor").await;
    let records = sup.get_json(&format!("/api/v1/audit/records?action=organisation.reject&object={org}")).await;
    let details: Value = serde_json::from_str(records[0]["details"].as_str().expect("details")).expect("json");
    assert_eq!(details["reason"], reason);
    assert!(records[0]["actor"].as_str().is_some_and(|a| a.contains("admin")));

    // The applicant organisation is sent a notice saying why.
    let o = tenderhall::entities::organisation::Entity::find()
        .filter(tenderhall::entities::organisation::Column::PublicId.eq(org.parse::<uuid::Uuid>().expect("uuid")))
        .one(&app.state.db)
        .await
        .expect("db")
        .expect("org");
    let notices = tenderhall::entities::notification::Entity::find()
        .filter(tenderhall::entities::notification::Column::OrgId.eq(o.id))
        .all(&app.state.db)
        .await
        .expect("db");
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].kind.as_str(), "registration_rejected");
    let args: Value = serde_json::from_str(&notices[0].args).expect("args");
    assert_eq!(args["reason"], json!({"type": "text", "value": reason}));

    // It cannot log in, but it is told why: in the API and on the login page.
    let anon = Client::anonymous(&app).await;
    let e = expect_error(
        anon.post("/api/v1/session", &json!({"username": "to_reject", "password": "abc12345"})).await,
        403,
        "account_rejected",
    )
    .await;
    assert_eq!(e["error"]["detail"], reason);
    let page = anon
        .req(reqwest::Method::POST, "/login")
        .form(&[("username", "to_reject"), ("password", "abc12345")])
        .send()
        .await
        .expect("send");
    assert_eq!(page.status(), 403);
    let html = page.text().await.expect("page");
    assert!(html.contains("未通过审核") && html.contains(reason), "{html}");

    // An approved one is told too, and reads it once logged in.
    let ok = register(&app, "待通过科技有限公司", "91110000MA01APPRO1", "to_approve").await;
    assert_eq!(admin.post_empty(&format!("/api/v1/organisations/{ok}/approve")).await.status(), 204);
    let user = Client::with_password(&app, "to_approve", "abc12345").await;
    let inbox = user.get_json("/api/v1/notifications?lang=zh").await;
    assert_eq!(inbox[0]["kind"], "registration_approved");
    assert!(inbox[0]["text"].as_str().is_some_and(|t| t.contains("待通过科技有限公司") && t.contains("审核通过")));
}

#[tokio::test]
async fn the_organisation_list_searches_filters_and_pages() {
    let app = spawn_app().await;
    {
        let actor = tenderhall::audit::AuditActor::system();
        let mut uow = app.state.writer.begin().await.expect("begin");
        for i in 0..45 {
            tenderhall::accounts::service::create_organisation(
                &mut uow,
                &actor,
                &format!("检索供应商{i:02}"),
                tenderhall::accounts::model::OrgKind::Supplier,
                None,
                Some(&format!("9111000012345678{i:02}")),
            )
            .await
            .expect("org");
        }
        uow.commit().await.expect("commit");
    }
    let pending = register(&app, "新来的注册公司", "91110000MA01NEWCO1", "newcomer_1").await;
    let admin = Client::login(&app, "admin").await;
    let all = admin.get_json("/api/v1/organisations").await;
    let fixture = crate::support::FIXTURE.len() as u64;
    assert_eq!(all["total"], 45 + fixture + 1);
    assert_eq!(all["items"].as_array().map(Vec::len), Some(20), "20 to a page");
    assert_eq!(all["pages"], (45 + fixture + 1).div_ceil(20));
    assert_eq!(
        (all["items"][0]["id"].as_str(), all["pending"].as_u64()),
        (Some(pending.as_str()), Some(1)),
        "waiting ones first"
    );

    // By name words or credit code, by kind and by status, and combined.
    let found = admin.get_json("/api/v1/organisations?q=检索供应商").await;
    assert_eq!((found["total"].as_u64(), found["pages"].as_u64()), (Some(45), Some(3)));
    let last = admin.get_json("/api/v1/organisations?q=检索供应商&page=3").await;
    assert_eq!(last["items"].as_array().map(Vec::len), Some(5));
    assert_eq!(
        admin.get_json("/api/v1/organisations?q=检索供应商&page=99").await["page"],
        3,
        "past the end: the last page"
    );
    let mut seen: Vec<String> = Vec::new();
    for page in 1..=3 {
        let p = admin.get_json(&format!("/api/v1/organisations?q=检索供应商&page={page}")).await;
        seen.extend(
            p["items"].as_array().expect("items").iter().map(|o| o["name"].as_str().expect("name").to_string()),
        );
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 45, "every organisation on exactly one page");
    let by_code = admin.get_json("/api/v1/organisations?q=911100001234567807").await;
    assert_eq!((by_code["total"].as_u64(), by_code["items"][0]["name"].as_str()), (Some(1), Some("检索供应商07")));
    assert_eq!(admin.get_json("/api/v1/organisations?q=ma01newco").await["total"], 1, "credit codes in any case");
    let units = admin.get_json("/api/v1/organisations?kind=procuring_unit").await;
    assert_eq!(units["total"], 2);
    assert!(units["items"].as_array().expect("items").iter().all(|o| o["kind"] == "procuring_unit"));
    assert_eq!(admin.get_json("/api/v1/organisations?status=pending").await["total"], 1);
    assert_eq!(admin.get_json("/api/v1/organisations?q=检索&kind=agency").await["total"], 0);
    assert_eq!(admin.get_json("/api/v1/organisations?q=检索&kind=supplier&status=active").await["total"], 45);
    for (bad, field) in [("kind=bank", "kind"), ("status=asleep", "status")] {
        let e = expect_error(admin.get(&format!("/api/v1/organisations?{bad}")).await, 422, "validation_failed").await;
        assert_eq!(e["error"]["fields"][0], json!({"field": field, "code": "invalid"}));
    }
    expect_error(admin.get("/api/v1/organisations?page=x").await, 400, "query_invalid").await;
    for bad in ["0", "10001"] {
        let e =
            expect_error(admin.get(&format!("/api/v1/organisations?page={bad}")).await, 422, "validation_failed").await;
        assert_eq!(e["error"]["fields"][0], json!({"field": "page", "code": "out_of_range"}));
    }

    // The page: the same filters, 20 rows, links that keep the filters.
    let html = admin
        .get("/admin/organisations?q=%E6%A3%80%E7%B4%A2%E4%BE%9B%E5%BA%94%E5%95%86&page=2")
        .await
        .text()
        .await
        .expect("page");
    assert_eq!(html.matches("data-testid=\"org-row\"").count(), 20);
    assert!(html.contains("q=%E6%A3%80%E7%B4%A2%E4%BE%9B%E5%BA%94%E5%95%86&#38;page=3"), "next page keeps the search");
    assert!(html.contains("value=\"检索供应商\""), "the search box keeps its words");
    let pending_page = admin.get("/admin/organisations?status=pending").await.text().await.expect("page");
    assert!(pending_page.contains("新来的注册公司") && pending_page.contains("/reject"));
    crate::client::expect_page_error(
        Client::login(&app, "supervisor").await.get("/admin/organisations").await,
        403,
        "forbidden",
    )
    .await;
}

/// Posts a page form of the staff page as `c`.
async fn staff_form(c: &Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    c.req(reqwest::Method::POST, path).form(form).send().await.expect("send")
}

fn new_staff<'a>(username: &'a str, role: &'a str, password: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("org", "测试交易中心"),
        ("kind", "centre"),
        ("username", username),
        ("display_name", "新同事"),
        ("role", role),
        ("password", password),
    ]
}

async fn audit_of(app: &crate::support::TestApp, action: &str, username: &str) -> Vec<Value> {
    let sup = Client::login(app, "supervisor").await;
    let records = sup.get_json(&format!("/api/v1/audit/records?action={action}")).await;
    records
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| {
            let details: Value = serde_json::from_str(r["details"].as_str().unwrap_or("{}")).unwrap_or(Value::Null);
            details["username"] == username
        })
        .cloned()
        .collect()
}

async fn staff_id(app: &crate::support::TestApp, username: &str) -> String {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use tenderhall::entities::user;
    let u = user::Entity::find().filter(user::Column::Username.eq(username)).one(&app.state.db).await.expect("db");
    u.expect("user").public_id.to_string()
}

#[tokio::test]
async fn administrators_add_staff_accounts_on_their_page_with_the_commands_rules() {
    let app = spawn_app().await;
    let admin = Client::login(&app, "admin").await;
    let page = admin.get("/admin/staff").await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.expect("page");
    assert!(page.contains("data-username=\"buyer_a\"") && page.contains("data-username=\"supervisor\""));
    assert!(!page.contains("data-username=\"supplier_1\""), "suppliers are not staff accounts");

    // Refused: other roles, whatever they send.
    for user in ["supervisor", "centre_staff", "buyer_a", "supplier_1"] {
        let c = Client::login(&app, user).await;
        crate::client::expect_page_error(c.get("/admin/staff").await, 403, "forbidden").await;
        let r = staff_form(&c, "/admin/staff", &new_staff("by_other", "supervisor", "strong123")).await;
        crate::client::expect_page_error(r, 403, "forbidden").await;
    }
    let anon = Client::anonymous(&app).await;
    let r = anon.get("/admin/staff").await;
    assert!(r.status().is_redirection());
    assert!(r.headers()["location"].to_str().is_ok_and(|l| l.starts_with("/login")), "to the login page");
    assert_eq!(users_named(&app, "by_other").await, 0);

    // Refused: bad input, with the fields named; nothing is added.
    let mut bad = new_staff("x", "supplier", "weak");
    bad[0] = ("org", "");
    let r = staff_form(&admin, "/admin/staff", &bad).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.expect("page");
    assert!(body.contains("data-code=\"validation_failed\""), "{body}");
    // The password's rule is stated with its number.
    for field in ["用户名: 格式不正确", "密码: 至少须 8 个字符", "角色: 该单位不能有此角色", "单位: 必填"]
    {
        assert!(body.contains(field), "{field} named in {body}");
    }
    let mut supplier_kind = new_staff("supplier_x", "supplier", "strong123");
    supplier_kind[1] = ("kind", "supplier");
    let r = staff_form(&admin, "/admin/staff", &supplier_kind).await;
    crate::client::expect_page_error(r, 422, "validation_failed").await;
    let r = staff_form(&admin, "/admin/staff", &new_staff("new_buyer", "procuring_staff", "strong123")).await;
    crate::client::expect_page_error(r, 422, "validation_failed").await;
    let r = staff_form(&admin, "/admin/staff", &new_staff("buyer_a", "supervisor", "strong123")).await;
    crate::client::expect_page_error(r, 409, "username_taken").await;
    let mut mismatch = new_staff("mismatch", "agency_staff", "strong123");
    mismatch[1] = ("kind", "agency");
    let r = staff_form(&admin, "/admin/staff", &mismatch).await;
    crate::client::expect_page_error(r, 409, "org_kind_mismatch").await;
    // Without the page's CSRF token, nothing.
    let r = admin
        .http
        .post(format!("{}/admin/staff", app.base))
        .form(&new_staff("no_token", "supervisor", "strong123"))
        .send()
        .await
        .expect("send");
    crate::client::expect_page_error(r, 403, "csrf_failed").await;
    for name in ["x", "supplier_x", "new_buyer", "mismatch", "no_token"] {
        assert_eq!(users_named(&app, name).await, 0, "{name}");
    }

    // Added: to an existing organisation, and with a new one.
    let r = staff_form(&admin, "/admin/staff", &new_staff("new_supervisor", "supervisor", "strong123")).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/admin/staff");
    let mut unit = new_staff("unit_c", "procuring_staff", "strong123");
    unit[0] = ("org", "丙采购单位");
    unit[1] = ("kind", "procuring_unit");
    assert_eq!(staff_form(&admin, "/admin/staff", &unit).await.status(), 303);
    let page = admin.get("/admin/staff").await.text().await.expect("page");
    assert!(page.contains("员工账户已添加"), "the flash");
    assert!(page.contains("data-username=\"new_supervisor\"") && page.contains("丙采购单位"));
    let c = Client::with_password(&app, "new_supervisor", "strong123").await;
    let me = c.get_json("/api/v1/me").await;
    assert_eq!((me["role"].as_str(), me["org_name"].as_str()), (Some("supervisor"), Some("测试交易中心")));
    assert_eq!(
        Client::with_password(&app, "unit_c", "strong123").await.get_json("/api/v1/me").await["org_kind"],
        "procuring_unit"
    );

    // In the audit trail, as the administrator's.
    let created = audit_of(&app, "user.create", "new_supervisor").await;
    assert_eq!(created.len(), 1);
    assert!(created[0]["actor"].as_str().is_some_and(|a| a.contains("admin")), "{created:?}");
    assert_eq!(audit_of(&app, "user.create", "unit_c").await.len(), 1);

    // The operator's command may also add a supplier's account (the page may not: above).
    let out = cli(
        &app,
        &["accounts", "add", "--org", "某供应商", "--kind", "supplier", "--username", "sup_cli"]
            .into_iter()
            .chain(["--display-name", "x", "--role", "supplier"])
            .collect::<Vec<_>>(),
        Some("strong123"),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(users_named(&app, "sup_cli").await, 1);
}

#[tokio::test]
async fn administrators_disable_enable_and_reset_staff_accounts_and_their_sessions_end() {
    let app = spawn_app().await;
    let admin = Client::login(&app, "admin").await;
    let agency = Client::login(&app, "agency_x").await;
    let second = Client::login(&app, "agency_x").await;
    let id = staff_id(&app, "agency_x").await;
    let (disable, enable, reset) = (
        format!("/admin/staff/{id}/disable"),
        format!("/admin/staff/{id}/enable"),
        format!("/admin/staff/{id}/password"),
    );

    // Only administrators.
    for user in ["supervisor", "centre_staff", "buyer_a", "supplier_1"] {
        let c = Client::login(&app, user).await;
        crate::client::expect_page_error(staff_form(&c, &disable, &[]).await, 403, "forbidden").await;
        crate::client::expect_page_error(staff_form(&c, &enable, &[]).await, 403, "forbidden").await;
        let r = staff_form(&c, &reset, &[("new_password", "other1234")]).await;
        crate::client::expect_page_error(r, 403, "forbidden").await;
    }
    assert_eq!(agency.get_json("/api/v1/me").await["username"], "agency_x");
    // Unknown accounts, malformed ids, and the administrator's own account.
    let unknown = uuid::Uuid::new_v4();
    crate::client::expect_page_error(
        staff_form(&admin, &format!("/admin/staff/{unknown}/disable"), &[]).await,
        404,
        "not_found",
    )
    .await;
    let r = staff_form(&admin, "/admin/staff/not-a-uuid/disable", &[]).await;
    crate::client::expect_page_error(r, 404, "not_found").await;
    let me = staff_id(&app, "admin").await;
    crate::client::expect_page_error(
        staff_form(&admin, &format!("/admin/staff/{me}/disable"), &[]).await,
        409,
        "cannot_disable_self",
    )
    .await;
    assert_eq!(admin.get_json("/api/v1/me").await["username"], "admin");
    // The page asks before disabling.
    let page = admin.get("/admin/staff").await.text().await.expect("page");
    assert!(page.contains(&format!("action=\"{disable}\" class=\"inline\" data-confirm=")), "{page}");
    assert!(!page.contains(&format!("/admin/staff/{me}/disable")), "no disabling oneself offered");

    // Disabling ends every session of the account at once.
    let r = staff_form(&admin, &disable, &[]).await;
    assert_eq!(r.status(), 303);
    expect_error(agency.get("/api/v1/me").await, 401, "login_required").await;
    expect_error(second.get("/api/v1/me").await, 401, "login_required").await;
    let anon = Client::anonymous(&app).await;
    let login = |password: &'static str| json!({"username": "agency_x", "password": password});
    expect_error(anon.post("/api/v1/session", &login(PASSWORD)).await, 403, "account_disabled").await;
    assert!(admin.get("/admin/staff").await.text().await.expect("page").contains("账户已停用"));
    assert_eq!(staff_form(&admin, &enable, &[]).await.status(), 303);
    let again = Client::login(&app, "agency_x").await;

    // A new password: the policy holds; then the old sessions and password are gone.
    let r = staff_form(&admin, &reset, &[("new_password", "short")]).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.expect("page");
    assert!(body.contains("data-code=\"validation_failed\"") && body.contains("新密码: 至少须 8 个字符"), "{body}");
    crate::client::expect_page_error(
        staff_form(&admin, &reset, &[("new_password", "nodigitshere")]).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(again.get_json("/api/v1/me").await["username"], "agency_x", "a refused reset changes nothing");
    assert_eq!(staff_form(&admin, &reset, &[("new_password", "fresh2026x")]).await.status(), 303);
    expect_error(again.get("/api/v1/me").await, 401, "login_required").await;
    expect_error(anon.post("/api/v1/session", &login(PASSWORD)).await, 401, "login_failed").await;
    assert_eq!(anon.post("/api/v1/session", &login("fresh2026x")).await.status(), 200);

    // Each step is in the audit trail, as the administrator's.
    for action in ["user.disable", "user.enable", "user.password_reset"] {
        let records = audit_of(&app, action, "agency_x").await;
        assert_eq!(records.len(), 1, "{action}: {records:?}");
        assert!(records[0]["actor"].as_str().is_some_and(|a| a.contains("admin")), "{records:?}");
    }

    // The command line resets a password through the same rules.
    assert!(!cli(&app, &["accounts", "reset-password", "agency_x"], Some("weak")).status.success());
    assert!(cli(&app, &["accounts", "reset-password", "agency_x"], Some("cli2026pass")).status.success());
    let fresh = Client::anonymous(&app).await;
    assert_eq!(fresh.post("/api/v1/session", &login("cli2026pass")).await.status(), 200);
    assert_eq!(audit_of(&app, "user.password_reset", "agency_x").await.len(), 2);
}
