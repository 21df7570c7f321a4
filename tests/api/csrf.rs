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
    let renewed = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("th_csrf="))
        .map(|c| c.trim_start_matches("th_csrf=").split(';').next().unwrap_or("").to_string())
        .expect("csrf renewed at login");
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
