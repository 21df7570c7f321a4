//! TLS terminated by the server with rustls, and login with a client certificate issued by the
//! platform CA.

use crate::client::{Client, expect_error, expect_page_error};
use crate::support::{Options, spawn_app_with};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use std::sync::Arc;

fn tls_client(dir: &std::path::Path, client: Option<&str>) -> reqwest::Client {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(dir.join("ca.crt")).expect("ca") {
        roots.add(c.expect("cert")).expect("add");
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots);
    let config = match client {
        Some(user) => {
            let certs: Vec<CertificateDer<'static>> =
                CertificateDer::pem_file_iter(dir.join(format!("client-{user}.crt")))
                    .expect("crt")
                    .map(|c| c.expect("c"))
                    .collect();
            let key = PrivateKeyDer::from_pem_file(dir.join(format!("client-{user}.key"))).expect("key");
            builder.with_client_auth_cert(certs, key).expect("client auth")
        }
        None => builder.with_no_client_auth(),
    };
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

#[tokio::test]
async fn serves_over_tls_and_logs_in_with_a_client_certificate() {
    let certs = tempfile::tempdir().expect("dir");
    tenderhall::certs::generate(certs.path(), &["agency_x".to_string(), "ghost".to_string()]).expect("certs");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(certs.path().join("server.key")).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "private keys are private");
    }
    let p = certs.path();
    let app = spawn_app_with(Options {
        tls: Some((p.join("server.crt"), p.join("server.key"), Some(p.join("ca.crt")))),
        ..Default::default()
    })
    .await;
    assert!(app.base.starts_with("https://"));

    // Password login over TLS: the cookies are `__Host-` prefixed, Secure, for the whole site
    // and bound to no domain; the first visit's pre-session cookie too.
    let plain = tls_client(p, None);
    assert_eq!(
        plain.get(format!("{}/healthz", app.base)).send().await.expect("https").text().await.expect("text"),
        "ok"
    );
    let set_cookies = |r: &reqwest::Response| -> Vec<String> {
        r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect()
    };
    let host_cookie = |c: &str| {
        let attrs: Vec<String> = c.split(';').skip(1).map(|a| a.trim().to_ascii_lowercase()).collect();
        c.starts_with("__Host-")
            && attrs.iter().any(|a| a == "secure")
            && attrs.iter().any(|a| a == "path=/")
            && !attrs.iter().any(|a| a.starts_with("domain"))
    };
    let first = tls_client(p, None).get(format!("{}/api/v1/csrf", app.base)).send().await.expect("csrf");
    let visitor = set_cookies(&first);
    assert!(visitor.iter().any(|c| c.starts_with("__Host-th_csrf=") && host_cookie(c)), "{visitor:?}");
    assert!(!visitor.iter().any(|c| c.starts_with("th_")), "no unprefixed cookie over TLS: {visitor:?}");
    let c = Client::with_http(plain.clone(), &app.base).await;
    let r = c
        .post("/api/v1/session", &serde_json::json!({"username": "buyer_a", "password": crate::support::PASSWORD}))
        .await;
    assert_eq!(r.status(), 200);
    let cookies = set_cookies(&r);
    for name in ["__Host-th_session=", "__Host-th_csrf="] {
        let cookie = cookies.iter().find(|c| c.starts_with(name)).unwrap_or_else(|| panic!("{name} in {cookies:?}"));
        assert!(host_cookie(cookie), "{cookie}");
    }
    // The prefixed cookies carry the session, and its token works.
    let mut c = c;
    c.csrf = r.json::<serde_json::Value>().await.expect("json")["csrf_token"].as_str().expect("csrf").to_string();
    assert_eq!(c.get_json("/api/v1/me").await["username"], "buyer_a");
    assert_eq!(c.post_empty("/api/v1/notifications/read").await.status(), 204);
    // Logging out clears the session cookie with the attributes the prefix needs.
    let r = c.delete("/api/v1/session").await;
    assert_eq!(r.status(), 204);
    let out = set_cookies(&r);
    let cleared = out.iter().find(|c| c.starts_with("__Host-th_session=;")).expect("cleared");
    assert!(host_cookie(cleared) && cleared.contains("Max-Age=0"), "{cleared}");
    expect_error(c.get("/api/v1/me").await, 401, "login_required").await;

    // Without a client certificate, certificate login is refused.
    let c = Client::with_http(tls_client(p, None), &app.base).await;
    expect_page_error(c.post_empty("/login/certificate").await, 403, "certificate_required").await;
    // With one, the certificate's user is logged in.
    let mut c = Client::with_http(tls_client(p, Some("agency_x")), &app.base).await;
    let r = c.post_empty("/login/certificate").await;
    assert_eq!(r.status(), 303);
    c.csrf = c.get_json("/api/v1/csrf").await["csrf_token"].as_str().expect("csrf").to_string();
    assert_eq!(c.get_json("/api/v1/me").await["username"], "agency_x");
    // A certificate for somebody who is not a user gets nothing.
    let c = Client::with_http(tls_client(p, Some("ghost")), &app.base).await;
    expect_page_error(c.post_empty("/login/certificate").await, 403, "certificate_unknown_user").await;

    // Plain HTTP to the TLS port does not work.
    let r = reqwest::Client::new().get(format!("http://{}/healthz", app.addr)).send().await;
    assert!(r.is_err() || !r.expect("resp").status().is_success());
}
