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
