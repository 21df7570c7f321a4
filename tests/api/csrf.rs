//! CSRF: every state-changing request needs the token, forms and API alike.

use crate::client::{Client, expect_error};
use crate::support::{PASSWORD, spawn_app};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn posts_without_the_token_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let c = Client::login(&app, "agency_x").await;
    let body = crate::tenders::draft_body(&app, 30).await;
    // No header.
    let r = c.http.post(format!("{}/api/v1/tenders", c.base)).json(&body).send().await.expect("send");
    expect_error(r, 403, "csrf_failed").await;
    // A wrong header.
    let r = c
        .http
        .post(format!("{}/api/v1/tenders", c.base))
        .header("x-csrf-token", "A".repeat(43))
        .json(&body)
        .send()
        .await
        .expect("send");
    expect_error(r, 403, "csrf_failed").await;
    assert!(c.get_json("/api/v1/workspace/tenders").await.as_array().expect("list").is_empty());
    // A form post without `_csrf`, as a cross-site page would send it.
    let r = c.http.post(format!("{}/logout", c.base)).form(&[("x", "y")]).send().await.expect("send");
    assert_eq!(r.status(), 403);
    assert!(r.text().await.expect("text").contains("data-code=\"csrf_failed\""), "HTML error page names the code");
    assert_eq!(c.get("/api/v1/me").await.status(), 200, "still logged in");
}

#[tokio::test]
async fn a_cookieless_request_cannot_post_even_with_a_token() {
    let app = spawn_app().await;
    let fresh = reqwest::Client::new();
    let r = fresh
        .post(format!("{}/api/v1/session", app.base))
        .header("x-csrf-token", "B".repeat(43))
        .json(&json!({"username": "buyer_a", "password": PASSWORD}))
        .send()
        .await
        .expect("send");
    expect_error(r, 403, "csrf_failed").await;
}

#[tokio::test]
async fn form_posts_with_the_token_work_and_login_renews_it() {
    let app = spawn_app().await;
    let c = Client::anonymous(&app).await;
    let before = c.csrf.clone();
    let r = c
        .http
        .post(format!("{}/login", c.base))
        .form(&[("_csrf", before.as_str()), ("username", "agency_x"), ("password", PASSWORD), ("next", "/workspace")])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers().get("location").and_then(|v| v.to_str().ok()), Some("/workspace"));
    assert!(
        r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).any(|c| c.starts_with("th_csrf=")),
        "the pre-session value is renewed at login"
    );
    // From now on the pages carry the session's token.
    let renewed = c.get_json("/api/v1/csrf").await["csrf_token"].as_str().expect("token").to_string();
    let page = c.get("/workspace").await.text().await.expect("page");
    assert!(page.contains(&format!("<meta name=\"csrf-token\" content=\"{renewed}\">")), "the page's token");
    assert_ne!(renewed, before);
    // The old token no longer works.
    let r = c
        .http
        .request(Method::POST, format!("{}/notifications/read", c.base))
        .form(&[("_csrf", before.as_str())])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 403);
    let r = c
        .http
        .request(Method::POST, format!("{}/notifications/read", c.base))
        .form(&[("_csrf", renewed.as_str())])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 303);
    // An open redirect after login is not possible.
    let c2 = Client::anonymous(&app).await;
    let r = c2
        .http
        .post(format!("{}/login", c2.base))
        .form(&[
            ("_csrf", c2.csrf.as_str()),
            ("username", "agency_x"),
            ("password", PASSWORD),
            ("next", "//evil.example/"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(r.headers().get("location").and_then(|v| v.to_str().ok()), Some("/workspace"));
}

#[tokio::test]
async fn a_token_works_only_with_the_session_it_was_made_for() {
    use crate::opening::Login;
    let app = spawn_app().await;
    let a = Login::new(&app.base, "agency_x").await;
    let b = Login::new(&app.base, "agency_y").await;
    let body = crate::tenders::draft_body(&app, 30).await;
    let post = |cookies: String, token: &str| {
        reqwest::Client::new()
            .post(format!("{}/api/v1/tenders", app.base))
            .header("cookie", cookies)
            .header("x-csrf-token", token.to_string())
            .json(&body)
            .send()
    };
    // Session B's cookies with session A's token: refused.
    expect_error(post(b.cookies.clone(), &a.csrf).await.expect("send"), 403, "csrf_failed").await;
    // Also when A's own CSRF cookie comes with it, as a page on a sibling host or a plain-HTTP
    // answer on the way could plant it in B's browser: the token must be B's session's.
    let tossed = format!("th_session={}; th_csrf={}", b.cookie("th_session"), a.cookie("th_csrf"));
    expect_error(post(tossed.clone(), &a.csrf).await.expect("send"), 403, "csrf_failed").await;
    expect_error(post(tossed, &a.cookie("th_csrf")).await.expect("send"), 403, "csrf_failed").await;
    let form = reqwest::Client::new()
        .post(format!("{}/notifications/read", app.base))
        .header("cookie", b.cookies.clone())
        .form(&[("_csrf", a.csrf.as_str())])
        .send()
        .await
        .expect("send");
    assert_eq!(form.status(), 403, "a form with another session's token");
    let mine = b.req(Method::GET, format!("{}/api/v1/workspace/tenders", app.base)).send().await.expect("list");
    assert_eq!(mine.json::<serde_json::Value>().await.expect("json"), json!([]), "nothing was made");
    // Each session's own token works, with or without a CSRF cookie beside the session's.
    assert_eq!(post(b.cookies.clone(), &b.csrf).await.expect("send").status(), 201);
    assert_eq!(post(format!("th_session={}", a.cookie("th_session")), &a.csrf).await.expect("send").status(), 201);

    // The visitor's token from before the login no longer works once there is a session.
    let c = Client::anonymous(&app).await;
    let r = c.post("/api/v1/session", &json!({"username": "buyer_a", "password": PASSWORD})).await;
    assert_eq!(r.status(), 200);
    let session_token =
        r.json::<serde_json::Value>().await.expect("json")["csrf_token"].as_str().expect("t").to_string();
    assert_ne!(session_token, c.csrf);
    expect_error(c.post("/api/v1/tenders", &body).await, 403, "csrf_failed").await;
    // Nor does a session's token once it has ended, in the next session of the same browser.
    let old = a.csrf.clone();
    let r = a.req(Method::DELETE, format!("{}/api/v1/session", app.base)).send().await.expect("logout");
    assert_eq!(r.status(), 204);
    let again = Client::login(&app, "agency_x").await;
    let r =
        again.http.post(format!("{}/api/v1/tenders", again.base)).header("x-csrf-token", old).json(&body).send().await;
    expect_error(r.expect("send"), 403, "csrf_failed").await;
}
