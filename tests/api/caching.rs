//! Answers that depend on who asks are never stored by a cache; static files are.

use crate::bids::{bidder, first_lot};
use crate::client::Client;
use crate::support::spawn_app;
use reqwest::Response;
use serde_json::json;

fn cache_control(r: &Response) -> String {
    r.headers().get("cache-control").and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

fn assert_no_store(r: &Response, what: &str) {
    assert_eq!(cache_control(r), "no-store", "{what}: {}", r.url());
}

#[tokio::test]
async fn personal_answers_are_no_store_and_static_files_stay_cacheable() {
    let app = spawn_app().await;
    // A first visit sets the pre-session cookie: not for a cache to keep.
    let r = reqwest::Client::new().get(format!("{}/login", app.base)).send().await.expect("page");
    assert!(r.headers().contains_key("set-cookie"));
    assert_no_store(&r, "a page that sets a cookie");
    let anon = Client::anonymous(&app).await;
    let r = anon.post("/api/v1/session", &json!({"username": "agency_x", "password": crate::support::PASSWORD})).await;
    assert_eq!(r.status(), 200);
    assert_no_store(&r, "the login");

    let agency = Client::login(&app, "agency_x").await;
    for path in ["/api/v1/me", "/api/v1/workspace/tenders", "/api/v1/notifications", "/api/v1/csrf", "/workspace", "/"]
    {
        let r = agency.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_no_store(&r, "a logged-in request");
    }
    // Errors too: what a logged-in user may not see is still about them.
    let r = agency.get("/api/v1/organisations").await;
    assert_eq!(r.status(), 403);
    assert_no_store(&r, "a refusal");

    // A bid's receipt, as JSON and as a PDF.
    let tender = crate::tenders::published_tender(&app, &agency).await;
    let b = bidder(&app, "supplier_1", &tender).await;
    let lot = first_lot(&b.client, &tender).await;
    let sealed = crate::opening::submit(&b, &tender, &lot, "1000.00").await;
    for path in [format!("/api/v1/bids/{}/receipt", sealed.bid), format!("/api/v1/bids/{}/receipt.pdf", sealed.bid)] {
        let r = b.client.get(&path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_no_store(&r, "a receipt");
    }

    // Logging out sets cookies: not cacheable either.
    let r = agency.delete("/api/v1/session").await;
    assert_eq!(r.status(), 204);
    assert_no_store(&r, "the logout");

    // Static files are the same for everyone, also for a logged-in user, and set no cookie.
    for c in [&b.client.http, &reqwest::Client::new()] {
        let r = c.get(format!("{}/static/app.css", app.base)).send().await.expect("static");
        assert_eq!(r.status(), 200);
        assert_eq!(cache_control(&r), "public, max-age=3600");
        assert!(!r.headers().contains_key("set-cookie"), "a static file sets no cookie");
    }
}

fn cache_state(r: &Response) -> Option<String> {
    r.headers().get("x-page-cache").and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// The page at `path` for `c`: whether it came from the public page cache, and its text.
async fn page(c: &Client, path: &str) -> (Option<String>, String) {
    let r = c.get(path).await;
    assert_eq!(r.status(), 200, "{path}");
    let state = cache_state(&r);
    (state, r.text().await.expect("page"))
}

fn meta_token(page: &str) -> String {
    let start = page.find("<meta name=\"csrf-token\" content=\"").expect("csrf meta") + 33;
    page[start..].split('"').next().expect("token").to_string()
}

#[tokio::test]
async fn public_pages_come_from_memory_for_anonymous_visitors_each_with_their_own_token() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let tender = crate::tenders::published_tender(&app, &agency).await;
    let (a, b) = (Client::anonymous(&app).await, Client::anonymous(&app).await);
    assert_ne!(a.csrf, b.csrf);
    for path in ["/", "/tenders", "/tenders?q=%E6%95%99%E5%AD%A6", &format!("/tenders/{tender}"), "/mall"] {
        let (first, _) = page(&a, path).await;
        assert_eq!(first.as_deref(), Some("miss"), "{path}: made at the first visit");
        let (again, text_a) = page(&a, path).await;
        assert_eq!(again.as_deref(), Some("hit"), "{path}: kept");
        let (other, text_b) = page(&b, path).await;
        assert_eq!(other.as_deref(), Some("hit"), "{path}: kept for every anonymous visitor");
        // Each visitor's page carries their own token, and it works for their own form posts.
        assert_eq!(meta_token(&text_a), a.csrf, "{path}");
        assert_eq!(meta_token(&text_b), b.csrf, "{path}");
        assert!(!text_b.contains(&a.csrf), "{path}: nothing of another visitor");
    }
    let r = b
        .http
        .post(format!("{}/login", b.base))
        .form(&[
            ("_csrf", meta_token(&page(&b, "/tenders").await.1).as_str()),
            ("username", "agency_x"),
            ("password", "wrong"),
        ])
        .send()
        .await
        .expect("send");
    assert_ne!(r.status(), 403, "the token from a kept page is the visitor's own");
    // A cached page in English is another page.
    let en = Client::anonymous(&app).await;
    assert_eq!(en.get("/lang/en?back=/tenders").await.status(), 303);
    let (state, text) = page(&en, "/tenders").await;
    assert_eq!(state.as_deref(), Some("miss"));
    assert!(text.contains("lang=\"en\""), "English page");
    // A logged-in user never gets a kept page.
    let r = agency.get("/tenders").await;
    assert_eq!(cache_state(&r), None);
    // Other pages are never kept, even anonymous.
    let r = a.get("/login").await;
    assert_eq!(cache_state(&r), None);
}

#[tokio::test]
async fn a_change_shows_at_once_and_kept_pages_end_with_the_time() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let anon = Client::anonymous(&app).await;
    let (_, before) = page(&anon, "/tenders").await;
    assert_eq!(page(&anon, "/tenders").await.0.as_deref(), Some("hit"));
    // A tender published through this server shows on the next visit.
    let tender = crate::tenders::published_tender(&app, &agency).await;
    let (state, after) = page(&anon, "/tenders").await;
    assert_eq!(state.as_deref(), Some("miss"), "a commit ends every kept page");
    assert!(after.contains(&tender) && !before.contains(&tender), "the new tender is listed");
    assert_eq!(page(&anon, "/tenders").await.0.as_deref(), Some("hit"));
    // The platform's clock moving on ends them too.
    app.clock.advance(chrono::TimeDelta::seconds(2));
    assert_eq!(page(&anon, "/tenders").await.0.as_deref(), Some("miss"));
}

#[tokio::test]
async fn a_change_by_another_process_shows_within_the_setting_and_zero_turns_it_off() {
    let app = crate::support::spawn_app_with(crate::support::Options {
        settings: Some(Box::new(|s: &mut tenderhall::config::Settings| s.server.public_page_cache_ms = 300)),
        ..Default::default()
    })
    .await;
    let agency = Client::login(&app, "agency_x").await;
    let tender = crate::tenders::published_tender(&app, &agency).await;
    let anon = Client::anonymous(&app).await;
    let path = format!("/tenders/{tender}");
    page(&anon, &path).await;
    // Written past this server (as a second server or a command would).
    use sea_orm::ConnectionTrait;
    app.state.db.execute_unprepared("UPDATE tenders SET title = '另一进程改的标题'").await.expect("update");
    let (state, text) = page(&anon, &path).await;
    assert_eq!(state.as_deref(), Some("hit"));
    assert!(!text.contains("另一进程改的标题"), "not yet seen");
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    let (state, text) = page(&anon, &path).await;
    assert_eq!(state.as_deref(), Some("miss"));
    assert!(text.contains("另一进程改的标题"), "seen once the entry has aged out");

    let off = crate::support::spawn_app_with(crate::support::Options {
        settings: Some(Box::new(|s: &mut tenderhall::config::Settings| s.server.public_page_cache_ms = 0)),
        ..Default::default()
    })
    .await;
    let anon = Client::anonymous(&off).await;
    for _ in 0..2 {
        assert_eq!(cache_state(&anon.get("/tenders").await), None);
    }
}
