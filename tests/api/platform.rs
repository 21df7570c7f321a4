//! Health, OpenAPI, the published key, languages, security headers, and every page rendering
//! for every role.

use crate::client::Client;
use crate::support::spawn_app;
use serde_json::Value;

#[tokio::test]
async fn health_readiness_openapi_and_key() {
    let app = spawn_app().await;
    let c = Client::anonymous(&app).await;
    assert_eq!(c.get("/healthz").await.text().await.expect("text"), "ok");
    assert_eq!(c.get("/readyz").await.status(), 200);
    let doc = c.get_json("/api/v1/openapi.json").await;
    assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.")), Some(true));
    for path in [
        "/api/v1/session",
        "/api/v1/tenders",
        "/api/v1/tenders/{id}/publish",
        "/api/v1/tenders/{id}/clarifications",
        "/api/v1/audit/verify",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    let key = c.get_json("/.well-known/tenderhall/platform-key").await;
    assert_eq!(key["algorithm"], "Ed25519");
    let on_disk = tenderhall::keys::PublicKey::load(&app.state.settings.storage.key_dir).expect("key");
    assert_eq!(key["public_key_hex"], on_disk.hex());
    let r = c.get("/api/v1/no-such-thing").await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.expect("json")["error"]["code"], "not_found");
}

#[tokio::test]
async fn pages_are_chinese_by_default_and_english_on_request() {
    let app = spawn_app().await;
    let c = Client::anonymous(&app).await;
    let r = c.get("/").await;
    for h in ["content-security-policy", "x-frame-options", "x-content-type-options"] {
        assert!(r.headers().get(h).is_some(), "{h}");
    }
    let html = r.text().await.expect("text");
    assert!(html.contains("lang=\"zh-CN\"") && html.contains("交易公告"), "Chinese by default");
    let r = c.get("/lang/en?back=/tenders").await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers().get("location").and_then(|v| v.to_str().ok()), Some("/tenders"));
    let html = c.get("/tenders").await.text().await.expect("text");
    assert!(html.contains("lang=\"en\"") && html.contains("Tenders"), "English after the switch");
    // The switch only goes back to local pages.
    let r = c.get("/lang/zh?back=https://evil.example/").await;
    assert_eq!(r.headers().get("location").and_then(|v| v.to_str().ok()), Some("/"));
    // Unknown pages get an HTML 404 in the chosen language.
    let r = c.get("/no/such/page").await;
    assert_eq!(r.status(), 404);
    assert!(r.text().await.expect("text").contains("页面或对象不存在"));
    c.get("/lang/en?back=/").await;
    assert!(c.get("/no/such/page").await.text().await.expect("text").contains("Not found"));
}

#[tokio::test]
async fn every_page_renders_for_every_role() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let id = crate::tenders::published_tender(&app, &agency).await;
    let draft = crate::tenders::create_draft(&app, &agency, 40).await;
    let anon = Client::anonymous(&app).await;
    for path in
        ["/", "/tenders", "/tenders?q=教学&method=open_tender", "/login", "/register", &format!("/tenders/{id}")]
    {
        let r = anon.get(path).await;
        assert_eq!(r.status(), 200, "anonymous {path}");
    }
    // Pages needing a login send anonymous visitors to the login page.
    let r = anon.get("/workspace").await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers().get("location").and_then(|v| v.to_str().ok()), Some("/login?next=/workspace"));
    for user in ["admin", "supervisor", "buyer_a", "agency_x", "supplier_1", "expert"] {
        let c = Client::login(&app, user).await;
        for path in
            ["/", "/workspace", "/notifications", "/notifications/settings", "/account", &format!("/tenders/{id}")]
        {
            let r = c.get(path).await;
            assert_eq!(r.status(), 200, "{user} {path}");
        }
    }
    assert_eq!(agency.get("/tenders/new").await.status(), 200);
    assert_eq!(agency.get(&format!("/tenders/{draft}/edit")).await.status(), 200);
    let html = agency.get(&format!("/tenders/{draft}")).await.text().await.expect("text");
    assert!(html.contains("data-testid=\"upload-form\"") && html.contains("data-testid=\"publish\""));
    let admin = Client::login(&app, "admin").await;
    assert_eq!(admin.get("/admin/organisations").await.status(), 200);
    assert_eq!(admin.get("/audit").await.status(), 200);
    let html = admin.get("/audit/verify").await.text().await.expect("text");
    assert!(html.contains("data-testid=\"verify-ok\""), "verification page shows the chain intact");
    // Wrong roles get the error page, not the form.
    let supplier = Client::login(&app, "supplier_1").await;
    for path in ["/tenders/new", "/admin/organisations", "/audit"] {
        assert_eq!(supplier.get(path).await.status(), 403, "supplier {path}");
    }
    assert_eq!(supplier.get(&format!("/tenders/{draft}")).await.status(), 404, "another organisation's draft");
}

/// `tenderhall demo` listens where the settings say (`TENDERHALL_SERVER__LISTEN`), prints its
/// accounts without burying them under library logs, and names the centre's account.
#[tokio::test]
async fn the_demo_command_listens_where_the_settings_say_and_prints_its_accounts_readably() {
    use std::io::Read;
    let dir = tempfile::tempdir().expect("dir");
    let port = crate::support::free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tenderhall"))
        .args(["demo", "--data"])
        .arg(dir.path().join("demo"))
        .env("TENDERHALL_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the demo");
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..600 {
        if let Ok(r) = http.get(format!("http://127.0.0.1:{port}/healthz")).send().await
            && r.status() == 200
        {
            up = true;
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the demo exited with {status}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // Let the catalogue's first indexing run, whose library logs used to flood the terminal.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let _ = child.kill();
    let _ = child.wait();
    let (mut out, mut err) = (String::new(), String::new());
    child.stdout.take().expect("stdout").read_to_string(&mut out).expect("stdout");
    child.stderr.take().expect("stderr").read_to_string(&mut err).expect("stderr");
    assert!(up, "the demo answered on the configured port; stderr:\n{err}");
    assert!(out.contains(&format!("127.0.0.1:{port}")), "{out}");
    assert!(out.contains("centre") && out.contains("交易中心"), "the centre's account is listed: {out}");
    assert!(!err.contains("tantivy"), "no search-index library logs at the default level:\n{err}");
    assert!(err.lines().count() < 40, "{} log lines:\n{err}", err.lines().count());
}

#[tokio::test]
async fn the_home_page_describes_what_is_built_in_both_languages() {
    let app = spawn_app().await;
    let c = Client::anonymous(&app).await;
    let zh = c.get("/").await.text().await.expect("text");
    for built in ["加密投标", "不见面开标", "电子商城", "审计链"] {
        assert!(zh.contains(built), "{built} on the home page");
    }
    for later in ["即将", "陆续上线", "敬请期待"] {
        assert!(!zh.contains(later), "the home page says {later}");
    }
    c.get("/lang/en?back=/").await;
    let en = c.get("/").await.text().await.expect("text");
    for built in ["Sealed bids", "Remote opening", "e-mall", "audit chain"] {
        assert!(en.contains(built), "{built} on the home page");
    }
    for later in ["coming", "soon"] {
        assert!(!en.to_lowercase().contains(later), "the home page says {later}");
    }
}

/// `/readyz` answers ready only once the catalogue index has caught up with the database, so a
/// load balancer does not send searches to a process whose index is still being built.
#[tokio::test]
async fn readiness_waits_for_the_catalogue_index() {
    use tower::ServiceExt;
    let app = spawn_app().await;
    // A second process on the same database, not yet caught up (its background work not run).
    let mut settings = (*app.state.settings).clone();
    let other = tempfile::tempdir().expect("dir");
    settings.storage.index_dir = other.path().join("index");
    let state = tenderhall::app::AppState::build(settings, app.clock.clone()).await.expect("state");
    let ready = |state: tenderhall::app::AppState| async move {
        let req = axum::http::Request::get("/readyz").body(axum::body::Body::empty()).expect("request");
        tenderhall::app::router(state).oneshot(req).await.expect("answer").status()
    };
    assert_eq!(ready(state.clone()).await, 503);
    tenderhall::mall::catalogue::sync(&state.db, &state.catalogue).await.expect("sync");
    assert_eq!(ready(state).await, 200);
}
