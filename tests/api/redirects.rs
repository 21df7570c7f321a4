//! Redirect targets taken from the request (the language switch's `back`, the login's `next`)
//! only ever lead to this site.

use crate::client::{Client, expect_page_error};
use crate::support::{PASSWORD, TestApp, spawn_app};
use reqwest::{Method, Response, Url};

/// Values that browsers resolve to another host, that carry characters a header cannot hold, or
/// that are no path at all.
const HOSTILE: &[&str] = &[
    "//evil.example",
    "//evil.example/tenders",
    "///evil.example",
    "////evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/tenders\\..\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\r\nSet-Cookie: th_session=stolen",
    "\t//evil.example",
    " //evil.example",
    "/ /evil.example",
    "/%09/evil.example",
    "/%0a/evil.example",
    "/%0d%0aSet-Cookie:%20x=1",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%5C/evil.example",
    "/%5cevil.example",
    "/\u{0}/evil.example",
    "/\u{7f}/evil.example",
    "/\u{85}/evil.example",
    "/\u{2028}/evil.example",
    "https://evil.example/",
    "http:evil.example",
    "http:/evil.example",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "%2F%2Fevil.example",
    "",
    ".",
    "?x=1",
    "#x",
];

/// Whether a value is refused with the whole request, before any redirect is worked out: a
/// control character other than tab and line breaks (`control_character`).
fn refused_whole(value: &str) -> bool {
    value.chars().any(tenderhall::error::is_forbidden_control)
}

/// Where a browser on `app` goes with this `Location`.
fn resolve(app: &TestApp, location: &str) -> Url {
    Url::parse(&app.base).expect("base").join(location).unwrap_or_else(|e| panic!("Location {location:?}: {e}"))
}

/// The `Location` of a redirect, asserted to be a 303 that stays on this site.
async fn local_location(app: &TestApp, r: Response, value: &str) -> String {
    let status = r.status();
    let location = r.headers().get("location").map(|v| v.to_str().expect("ASCII Location").to_string());
    assert_eq!(status, 303, "{value:?}: status {status}, body {:?}", r.text().await.unwrap_or_default());
    let location = location.unwrap_or_else(|| panic!("{value:?}: no Location"));
    assert!(location.starts_with('/') && !location.starts_with("//"), "{value:?} gave Location {location:?}");
    assert!(!location.chars().any(|c| c.is_control() || c == '\\'), "{value:?} gave Location {location:?}");
    let target = resolve(app, &location);
    let base = Url::parse(&app.base).expect("base");
    assert_eq!(
        (target.scheme(), target.host_str(), target.port()),
        (base.scheme(), base.host_str(), base.port()),
        "{value:?} gave Location {location:?}, which leads to {target}"
    );
    location
}

async fn switch(c: &Client, back: &str) -> Response {
    c.req(Method::GET, "/lang/en").query(&[("back", back)]).send().await.expect("send")
}

async fn login(c: &Client, next: &str) -> Response {
    c.req(Method::POST, "/login")
        .form(&[("username", "supplier_1"), ("password", PASSWORD), ("next", next)])
        .send()
        .await
        .expect("send")
}

#[tokio::test]
async fn the_language_switch_only_goes_back_to_local_paths() {
    let app = spawn_app().await;
    let c = Client::anonymous(&app).await;
    for value in HOSTILE {
        if refused_whole(value) {
            expect_page_error(switch(&c, value).await, 400, "control_character").await;
            continue;
        }
        let location = local_location(&app, switch(&c, value).await, value).await;
        assert_eq!(location, "/", "{value:?}");
    }
    // Without `back`, and with good paths, which are kept (non-ASCII percent-encoded).
    let r = c.get("/lang/zh").await;
    assert_eq!(local_location(&app, r, "(none)").await, "/");
    for (value, kept) in [
        ("/", "/"),
        ("/tenders", "/tenders"),
        ("/tenders?q=%E6%95%99%E5%AD%A6&page=2", "/tenders?q=%E6%95%99%E5%AD%A6&page=2"),
        ("/tenders?q=教学&page=2", "/tenders?q=%E6%95%99%E5%AD%A6&page=2"),
        ("/mall/items/7?x=a//b#prices", "/mall/items/7?x=a//b#prices"),
        ("/notifications", "/notifications"),
    ] {
        let location = local_location(&app, switch(&c, value).await, value).await;
        assert_eq!(location, kept, "{value:?}");
    }
    // The page's own link back works as it is written into the top bar.
    let html = c.get("/tenders?q=%E6%95%99%E5%AD%A6").await.text().await.expect("text");
    let href = html.split("href=\"/lang/zh?back=").nth(1).and_then(|s| s.split('"').next()).expect("language link");
    let r = c.get(&format!("/lang/zh?back={href}")).await;
    assert_eq!(local_location(&app, r, href).await, "/tenders?q=%E6%95%99%E5%AD%A6");
}

#[tokio::test]
async fn login_only_continues_to_local_paths() {
    let app = spawn_app().await;
    for value in HOSTILE {
        let c = Client::anonymous(&app).await;
        if refused_whole(value) {
            let page = c.req(Method::GET, "/login").query(&[("next", value)]).send().await.expect("send");
            expect_page_error(page, 400, "control_character").await;
            expect_page_error(login(&c, value).await, 400, "control_character").await;
            assert_eq!(c.get("/api/v1/me").await.status(), 401, "{value:?}: not logged in");
            continue;
        }
        // The login page does not carry the value into its form either.
        let page = c.req(Method::GET, "/login").query(&[("next", value)]).send().await.expect("send");
        assert_eq!(page.status(), 200, "{value:?}");
        let html = page.text().await.expect("text");
        assert!(html.contains("name=\"next\" value=\"/workspace\""), "{value:?}: {html}");
        let location = local_location(&app, login(&c, value).await, value).await;
        assert_eq!(location, "/workspace", "{value:?}");
        // Logged in all the same.
        assert_eq!(c.get("/api/v1/me").await.status(), 200, "{value:?}");
    }
    for (value, kept) in [
        ("/tenders", "/tenders"),
        ("/account?changed=1", "/account?changed=1"),
        ("/tenders?q=教学", "/tenders?q=%E6%95%99%E5%AD%A6"),
    ] {
        let c = Client::anonymous(&app).await;
        let html = c.req(Method::GET, "/login").query(&[("next", value)]).send().await.expect("send");
        let html = html.text().await.expect("text");
        assert!(html.contains(&format!("name=\"next\" value=\"{kept}\"")), "{value:?}: {html}");
        let location = local_location(&app, login(&c, value).await, value).await;
        assert_eq!(location, kept, "{value:?}");
    }
    // A failed login keeps a good target for the next try, and drops a hostile one.
    let c = Client::anonymous(&app).await;
    for (value, kept) in [("/tenders", "/tenders"), ("//evil.example", "/workspace")] {
        let r = c
            .req(Method::POST, "/login")
            .form(&[("username", "supplier_1"), ("password", "wrong-password1"), ("next", value)])
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 401);
        let html = r.text().await.expect("text");
        assert!(html.contains(&format!("name=\"next\" value=\"{kept}\"")), "{value:?}");
    }
}

#[tokio::test]
async fn the_login_redirect_of_a_page_names_only_a_local_path() {
    let app = spawn_app().await;
    let c = Client::anonymous(&app).await;
    let r = c.get("/workspace").await;
    assert_eq!(local_location(&app, r, "/workspace").await, "/login?next=/workspace");
    let r = c.get("/mall/orders?page=2").await;
    assert_eq!(local_location(&app, r, "/mall/orders?page=2").await, "/login?next=/mall/orders%3Fpage%3D2");
}
