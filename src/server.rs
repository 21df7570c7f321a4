//! Serving the application: plain HTTP (loopback development) or TLS terminated here with
//! rustls (ring provider), optionally asking for client certificates issued by the platform CA.

use crate::{
    app::{self, AppState},
    web::auth::{ClientCertIdentity, OverTls},
};
use axum::{Router, body::Body, extract::ConnectInfo};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto::Builder,
};
use rustls::{
    RootCertStore, ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    server::WebPkiClientVerifier,
};
use std::{future::Future, net::SocketAddr, path::Path, sync::Arc, time::Duration};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// Errors while setting up TLS.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read.
    #[error("{path}: {message}")]
    Pem {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client-certificate verifier could not be built.
    #[error("client certificate verifier: {0}")]
    Verifier(String),
}

fn pem_err(path: &Path, e: impl std::fmt::Display) -> TlsError {
    TlsError::Pem { path: path.display().to_string(), message: e.to_string() }
}

/// Builds the rustls server configuration from PEM files.
pub fn tls_config(cert: &Path, key: &Path, client_ca: Option<&Path>) -> Result<ServerConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| pem_err(cert, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| pem_err(cert, e))?;
    if certs.is_empty() {
        return Err(pem_err(cert, "no certificate found"));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| pem_err(key, e))?;
    let builder = ServerConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions()?;
    let mut config = match client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for c in CertificateDer::pem_file_iter(ca).map_err(|e| pem_err(ca, e))? {
                roots.add(c.map_err(|e| pem_err(ca, e))?)?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|e| TlsError::Verifier(e.to_string()))?;
            builder.with_client_cert_verifier(verifier).with_single_cert(certs, key_der)?
        }
        None => builder.with_no_client_auth().with_single_cert(certs, key_der)?,
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The identity in a verified client certificate: its common name and fingerprint.
pub fn client_identity(der: &[u8]) -> Option<ClientCertIdentity> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let cn = cert.subject().iter_common_name().next()?.as_str().ok()?.to_string();
    Some(ClientCertIdentity {
        username: cn,
        fingerprint: hex::encode(ring::digest::digest(&ring::digest::SHA256, der)),
    })
}

/// Serves `state` on `listener` until `shutdown` completes, with TLS when configured.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let settings = state.settings.clone();
    let mut background = spawn_background(&state);
    if let Some(addr) = settings.federation.listen.filter(|_| settings.federation.enabled()) {
        let peers = TcpListener::bind(addr).await?;
        tracing::info!(%addr, "federation: listening for peers");
        background.push(tokio::spawn(crate::federation::link::serve(state.federation.clone(), peers)));
    }
    let stop = move || background.iter().for_each(|h| h.abort());
    let app = app::router(state);
    let result = if settings.tls_enabled() {
        let (Some(cert), Some(key)) = (&settings.tls.cert, &settings.tls.key) else {
            stop();
            return Err(std::io::Error::other("TLS needs both tls.cert and tls.key"));
        };
        match tls_config(cert, key, settings.tls.client_ca.as_deref()) {
            Ok(config) => serve_tls(app, listener, Arc::new(config), shutdown).await,
            Err(e) => Err(std::io::Error::other(e)),
        }
    } else {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
    };
    stop();
    result
}

/// The background work of a serving process: the relay of live events written by other
/// processes, the job runner (unless `jobs.run` is off), the catalogue index's catch-up, and
/// the federation's senders (one per peer).
fn spawn_background(state: &AppState) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = vec![
        crate::live::relay::spawn(state.db.clone(), state.writer.hub().clone(), AppState::room_kinds()),
        crate::mall::spawn_background(&state.mall),
    ];
    if state.settings.jobs.run {
        tasks.push(state.jobs.clone().spawn());
        tasks.push(crate::fees::spawn_payer(state.fees.clone()));
        tasks.push(crate::deliver::spawn_sender(state.deliveries.clone()));
    }
    tasks.extend(crate::federation::link::spawn_senders(&state.federation));
    tasks.extend(crate::federation::session::spawn_relay(&state.federation));
    tasks
}

async fn serve_tls(
    app: Router,
    listener: TcpListener,
    config: Arc<ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = TlsAcceptor::from(config);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, addr) = tokio::select! {
            res = listener.accept() => match res {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(%addr, "TLS handshake failed: {e}");
                    return;
                }
                Err(_) => return,
            };
            let identity =
                tls.get_ref().1.peer_certificates().and_then(|c| c.first()).and_then(|c| client_identity(c.as_ref()));
            let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(addr));
                req.extensions_mut().insert(OverTls);
                if let Some(id) = &identity {
                    req.extensions_mut().insert(id.clone());
                }
                app.clone().oneshot(req.map(Body::new))
            });
            let builder = Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), svc).into_owned();
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(%addr, "connection ended: {e}");
            }
        });
    }
    // Let requests in flight finish, as the plain-HTTP server does, but not forever.
    if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open after 30 s; closing them");
    }
    Ok(())
}
