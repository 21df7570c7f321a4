//! TLS terminated by the server with rustls, and login with a client certificate issued by the
//! platform CA.

use crate::client::{Client, expect_page_error};
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

    // Password login over TLS: cookies are Secure.
    let plain = tls_client(p, None);
    assert_eq!(
        plain.get(format!("{}/healthz", app.base)).send().await.expect("https").text().await.expect("text"),
        "ok"
    );
    let c = Client::with_http(plain.clone(), &app.base).await;
    let r = c
        .post("/api/v1/session", &serde_json::json!({"username": "buyer_a", "password": crate::support::PASSWORD}))
        .await;
    assert_eq!(r.status(), 200);
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("th_session="))
        .expect("cookie")
        .to_string();
    assert!(session.contains("Secure"), "{session}");

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
