//! Mutually authenticated TLS between peers (rustls, ring provider).
//!
//! The listener requires a client certificate issued by the federation CA and then takes the
//! connection only if that certificate is exactly the one listed for a peer; the dialling side
//! checks that the certificate presented is issued by the federation CA, valid, for the peer's
//! name, and exactly the one listed for that peer. Anything else ends the handshake: nothing is
//! exchanged.

use super::{Identity, Peer};
use rustls::{
    ClientConfig, DigitallySignedStruct, Error as TlsError, RootCertStore, ServerConfig, SignatureScheme,
    client::WebPkiServerVerifier,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    pki_types::{CertificateDer, ServerName, UnixTime},
    server::WebPkiClientVerifier,
};
use std::sync::Arc;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(identity: &Identity) -> Result<Arc<RootCertStore>, TlsError> {
    let mut roots = RootCertStore::empty();
    for c in &identity.ca {
        roots.add(c.clone())?;
    }
    Ok(Arc::new(roots))
}

/// The listener's configuration: this site's certificate, a client certificate from the
/// federation CA required.
pub fn server_config(identity: &Identity) -> Result<ServerConfig, TlsError> {
    let verifier = WebPkiClientVerifier::builder_with_provider(roots(identity)?, provider())
        .build()
        .map_err(|e| TlsError::General(e.to_string()))?;
    ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(identity.chain.clone(), identity.key())
}

/// Checks a server's certificate as the web PKI does (the federation CA, validity, the peer's
/// name), then that it is the very certificate listed for the peer.
#[derive(Debug)]
struct Pinned {
    inner: Arc<WebPkiServerVerifier>,
    expected: CertificateDer<'static>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)?;
        if end_entity.as_ref() != self.expected.as_ref() {
            return Err(TlsError::General(format!(
                "the peer presented a certificate (SHA-256 {}) that is not the one listed for it",
                super::fingerprint(end_entity.as_ref())
            )));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The dialling side's configuration for `peer`: this site's certificate as the client's, the
/// peer's certificate pinned.
pub fn client_config(identity: &Identity, peer: &Peer) -> Result<ClientConfig, TlsError> {
    let inner = WebPkiServerVerifier::builder_with_provider(roots(identity)?, provider())
        .build()
        .map_err(|e| TlsError::General(e.to_string()))?;
    let verifier = Arc::new(Pinned { inner, expected: peer.cert.clone() });
    ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(identity.chain.clone(), identity.key())
}
