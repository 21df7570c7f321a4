//! Federation (区级合作异地评标): links between separately-run Tenderhall deployments, each with
//! its own database, expert pool and supervisors, so that one (the host, 主场) can ask another
//! (the guest, 客场) for experts drawn from the guest's pool (docs/federation.md).
//!
//! Each deployment has a site certificate and key issued by the federation CA (`tenderhall
//! certs --site NAME`) and lists its peers with the certificate each must present. Peers talk
//! over mutually authenticated TLS (rustls on both ends) carrying a websocket
//! (tokio-tungstenite): an unknown CA, an expired certificate or a certificate that is not the
//! listed one is refused during the handshake and logged, and nothing is exchanged (`tls`).
//!
//! Messages are numbered per peer and direction and signed with the sender's site key. A
//! message to send is written in the unit of work of the change that produces it (with its
//! audit record), so it is sent if and only if the change commits; the link (`link`) delivers
//! the waiting ones in order, again after a cut or a restart, until the peer acknowledges them.
//! A received message is applied in one unit of work together with the row that numbers it, so
//! it is applied at most once; both sides keep every message and record it in their audit
//! chain.
//!
//! Owns: the tables `peer_messages`, `remote_draws`, `remote_draw_experts`; the peer listener
//! and the senders (started by `server`); the draw asked of a guest (`draw`); the JSON API
//! `/api/v1/federation/...` and the page `/admin/federation`.

pub mod api;
pub mod draw;
mod handlers;
pub mod link;
pub mod session;
pub mod tls;

pub use handlers::routes as router;

use crate::{
    audit::{Action, AuditActor, AuditEntry},
    column::string_enum,
    config::{DrawSettings, FederationSettings},
    entities::peer_message,
    error::{AppError, AppResult},
    keys::VaultKey,
    uow::{UnitOfWork, Writer},
};
use ring::signature::{ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, UnparsedPublicKey};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
};

string_enum! {
    /// Which way a message went.
    Direction stored in crate::entities::peer_message::Entity {
        /// Sent to the peer (kept until acknowledged, and after).
        Out = "out",
        /// Received from the peer and applied.
        In = "in",
    }
}

/// Domain separation of the signed bytes of a message.
const SIGNED_TAG: &[u8] = b"tenderhall.federation.v1";

/// The bytes a message's signature covers: the tag, sender, receiver, number, kind and body.
pub fn signed_bytes(from: &str, to: &str, seq: i64, kind: &str, body: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(SIGNED_TAG.len() + from.len() + to.len() + kind.len() + body.len() + 16);
    for part in [SIGNED_TAG, from.as_bytes(), to.as_bytes()] {
        out.extend_from_slice(part);
        out.push(0);
    }
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(kind.as_bytes());
    out.push(0);
    out.extend_from_slice(body.as_bytes());
    out
}

/// Errors while loading this deployment's federation files.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A setting is missing or wrong.
    #[error("federation: {0}")]
    Setting(String),
    /// A file could not be read.
    #[error("federation: {path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
}

fn file_err(path: &Path, e: impl std::fmt::Display) -> SetupError {
    SetupError::File { path: path.display().to_string(), message: e.to_string() }
}

/// Reads the certificates of a PEM file.
pub fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, SetupError> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_err(path, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_err(path, e))?;
    if certs.is_empty() {
        return Err(file_err(path, "no certificate in the file"));
    }
    Ok(certs)
}

/// The SHA-256 fingerprint of a certificate, hex.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, der))
}

/// A peer as this deployment knows it: its name, address and the certificate it must present.
#[derive(Debug, Clone)]
pub struct Peer {
    /// Its name in the federation.
    pub name: String,
    /// Where it listens for peers (`host:port`).
    pub address: String,
    /// The certificate it must present (DER).
    pub cert: CertificateDer<'static>,
    /// That certificate's fingerprint.
    pub fingerprint: String,
    /// Its public key (the certificate's subject public key), which checks its signatures.
    public_key: Vec<u8>,
    /// This deployment, as its guest, pays its experts at the higher of the two sites' rates.
    pub higher_rate: bool,
}

impl Peer {
    /// Whether `signature` (base64) is the peer's signature of `bytes`.
    pub fn verifies(&self, bytes: &[u8], signature: &str) -> bool {
        use base64::Engine;
        let Ok(sig) = base64::engine::general_purpose::STANDARD.decode(signature) else { return false };
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &self.public_key).verify(bytes, &sig).is_ok()
    }
}

/// This deployment's identity: its name, certificate chain and key, and the federation CA.
pub struct Identity {
    /// Its name.
    pub site: String,
    /// Its certificate chain (PEM file order).
    pub chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    signer: EcdsaKeyPair,
    /// The federation CA's certificates.
    pub ca: Vec<CertificateDer<'static>>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").field("site", &self.site).finish_non_exhaustive()
    }
}

impl Identity {
    /// Loads the identity from the settings' files.
    pub fn load(s: &FederationSettings) -> Result<Self, SetupError> {
        let need = |p: &Option<std::path::PathBuf>, what: &str| {
            p.clone().ok_or_else(|| SetupError::Setting(format!("federation.{what} is needed with federation.site")))
        };
        if !crate::certs::valid_site_name(s.site.trim()) {
            return Err(SetupError::Setting(format!("federation.site {:?} is not a site name", s.site)));
        }
        let (cert, key, ca) = (need(&s.cert, "cert")?, need(&s.key, "key")?, need(&s.ca, "ca")?);
        let chain = read_certs(&cert)?;
        let key_der = PrivateKeyDer::from_pem_file(&key).map_err(|e| file_err(&key, e))?;
        let PrivateKeyDer::Pkcs8(pkcs8) = &key_der else {
            return Err(file_err(&key, "the site key must be a PKCS#8 ECDSA P-256 key"));
        };
        let signer = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_ASN1_SIGNING,
            pkcs8.secret_pkcs8_der(),
            &ring::rand::SystemRandom::new(),
        )
        .map_err(|e| file_err(&key, format!("not an ECDSA P-256 key: {e}")))?;
        Ok(Self { site: s.site.trim().to_string(), chain, key: key_der, signer, ca: read_certs(&ca)? })
    }

    /// The site key, for TLS.
    pub fn key(&self) -> PrivateKeyDer<'static> {
        self.key.clone_key()
    }

    /// Signs `bytes` with the site key; base64.
    pub fn sign(&self, bytes: &[u8]) -> AppResult<String> {
        use base64::Engine;
        let sig = self.signer.sign(&ring::rand::SystemRandom::new(), bytes).map_err(AppError::internal)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(sig.as_ref()))
    }
}

/// Loads the listed peers and the certificates they must present.
pub fn load_peers(s: &FederationSettings) -> Result<Vec<Peer>, SetupError> {
    let mut out: Vec<Peer> = Vec::new();
    for p in &s.peers {
        if !crate::certs::valid_site_name(&p.name) {
            return Err(SetupError::Setting(format!("peer name {:?} is not a site name", p.name)));
        }
        if p.name == s.site.trim() || out.iter().any(|o| o.name == p.name) {
            return Err(SetupError::Setting(format!("peer {:?} is listed twice or is this deployment", p.name)));
        }
        let cert = read_certs(&p.certificate)?.remove(0);
        let public_key = {
            let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
                .map_err(|e| file_err(&p.certificate, format!("not a certificate: {e}")))?;
            parsed.public_key().subject_public_key.data.to_vec()
        };
        out.push(Peer {
            name: p.name.clone(),
            address: p.address.clone(),
            fingerprint: fingerprint(cert.as_ref()),
            cert,
            public_key,
            higher_rate: p.higher_rate,
        });
    }
    Ok(out)
}

/// How the link to one peer stands, as this process last saw it.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct LinkState {
    /// The link to the peer is up (this process dialled it and it answered).
    pub connected: bool,
    /// When it last changed.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// What the federation's services, link and routes use.
#[derive(Clone)]
pub struct Federation {
    /// The database.
    pub db: sea_orm::DatabaseConnection,
    /// Starts units of work.
    pub writer: Writer,
    /// Seals a guest's draw secret until it is revealed.
    pub vault: Arc<VaultKey>,
    /// The settings.
    pub settings: FederationSettings,
    /// The draw's rules, which the guest applies to its own pool.
    pub draw_settings: DrawSettings,
    /// The evaluation sessions, which carry out a guest member's commands.
    pub evaluations: crate::evaluation::Evaluations,
    /// The fee rates: the host's sent with the report, the guest's experts' fees computed.
    pub fees: crate::config::FeeSettings,
    /// The guest members' command allowances in the guest's rooms.
    pub limits: crate::live::limit::CommandLimits,
    /// How often a guest room's connection checks its session.
    pub session_check: std::time::Duration,
    /// This deployment's identity (none: federation off).
    pub identity: Option<Arc<Identity>>,
    /// The peers.
    pub peers: Arc<Vec<Peer>>,
    /// Ticks after a commit that wrote messages to send.
    wake: Arc<tokio::sync::watch::Sender<u64>>,
    /// The links as the senders see them.
    links: Arc<Mutex<HashMap<String, LinkState>>>,
}

impl std::fmt::Debug for Federation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Federation").field("site", &self.settings.site).finish_non_exhaustive()
    }
}

impl Federation {
    /// The federation of this deployment, its files loaded (off while `federation.site` is empty).
    pub fn new(
        writer: Writer,
        vault: Arc<VaultKey>,
        settings: FederationSettings,
        draw_settings: DrawSettings,
        evaluations: crate::evaluation::Evaluations,
        fees: crate::config::FeeSettings,
        live: &crate::config::LiveSettings,
    ) -> Result<Self, SetupError> {
        let (identity, peers) = if settings.enabled() {
            (Some(Arc::new(Identity::load(&settings)?)), load_peers(&settings)?)
        } else {
            (None, Vec::new())
        };
        Ok(Self {
            db: writer.db().clone(),
            writer,
            vault,
            settings,
            draw_settings,
            evaluations,
            fees,
            limits: crate::live::limit::CommandLimits::new(live),
            session_check: std::time::Duration::from_secs(live.session_check_seconds),
            identity,
            peers: Arc::new(peers),
            wake: Arc::new(tokio::sync::watch::channel(0).0),
            links: Arc::default(),
        })
    }

    /// This deployment's name in the federation, or `federation_off`.
    pub fn site(&self) -> AppResult<&str> {
        self.identity
            .as_ref()
            .map(|i| i.site.as_str())
            .ok_or_else(|| AppError::conflict("federation_off", "this deployment is not part of a federation"))
    }

    /// A listed peer, or `unknown_peer`.
    pub fn peer(&self, name: &str) -> AppResult<&Peer> {
        self.peers.iter().find(|p| p.name == name).ok_or_else(|| AppError::invalid_field("peer", "unknown_peer"))
    }

    /// Writes a message to `peer` in the unit of work: numbered after the last one to that
    /// peer, signed, recorded in the audit chain (kind, number and the body's SHA-256); the
    /// link sends it once the unit of work commits. Returns its number.
    pub async fn send(&self, uow: &mut UnitOfWork, peer: &str, kind: &str, body: &Value) -> AppResult<i64> {
        let identity = self.identity.clone().ok_or_else(|| self.site().err().unwrap_or_else(AppError::not_found))?;
        self.peer(peer)?;
        let last = peer_message::Entity::find()
            .filter(peer_message::Column::Peer.eq(peer))
            .filter(peer_message::Column::Direction.eq(Direction::Out))
            .order_by_desc(peer_message::Column::Seq)
            .limit(1)
            .one(&*uow)
            .await?
            .map(|m| m.seq)
            .unwrap_or(0);
        let seq = last + 1;
        let text = serde_json::to_string(body).map_err(AppError::internal)?;
        let signature = identity.sign(&signed_bytes(&identity.site, peer, seq, kind, &text))?;
        let digest = hex::encode(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()));
        peer_message::ActiveModel {
            peer: Set(peer.to_string()),
            direction: Set(Direction::Out),
            seq: Set(seq),
            kind: Set(kind.to_string()),
            body: Set(text),
            signature: Set(signature),
            created_at: Set(uow.now()),
            done_at: Set(None),
            outcome: Set(None),
            ..Default::default()
        }
        .insert(&*uow)
        .await?;
        uow.record(
            &AuditActor::system(),
            AuditEntry::new(Action::PeerSend, peer, json!({"kind": kind, "seq": seq, "sha256": digest})),
        )
        .await?;
        let wake = self.wake.clone();
        uow.after_commit(Box::new(move || wake.send_modify(|n| *n = n.wrapping_add(1))));
        Ok(seq)
    }

    /// Watches for messages to send.
    pub(crate) fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.wake.subscribe()
    }

    /// The link to each peer, as this process last saw it.
    pub fn links(&self) -> HashMap<String, LinkState> {
        self.links.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub(crate) fn set_link(
        &self,
        peer: &str,
        connected: bool,
        error: Option<String>,
        now: chrono::DateTime<chrono::Utc>,
    ) {
        if let Ok(mut l) = self.links.lock() {
            let s = l.entry(peer.to_string()).or_default();
            if s.connected != connected || s.since.is_none() {
                s.since = Some(now);
            }
            s.connected = connected;
            s.last_error = error;
        }
    }

    /// Applies a message received from `peer` in `uow`. A message kind this deployment does
    /// not know is refused (`unknown_kind`).
    pub(crate) async fn apply(&self, uow: &mut UnitOfWork, peer: &str, kind: &str, body: &Value) -> AppResult<()> {
        match kind {
            draw::REQUEST => draw::on_request(self, uow, peer, body).await,
            draw::COMMITMENT => draw::on_commitment(self, uow, peer, body).await,
            draw::CONTRIBUTION => draw::on_contribution(self, uow, peer, body).await,
            draw::RESULT => draw::on_result(self, uow, peer, body).await,
            draw::REFUSED => draw::on_refused(self, uow, peer, body).await,
            session::SEATED => session::on_seated(self, uow, peer, body).await,
            session::EVENT => session::on_event(self, uow, peer, body).await,
            session::BRIEF => session::on_brief(self, uow, peer, body).await,
            session::REPORT => session::on_report(self, uow, peer, body).await,
            session::COMMAND => session::on_command(self, uow, peer, body).await,
            session::RESULT => session::on_result(self, uow, peer, body).await,
            _ => Err(AppError::rule("unknown_kind", format!("no such message kind: {kind}"))),
        }
    }

    /// After a message was refused: what the refusal itself produces (a draw request a guest
    /// cannot serve, or a member's command the session refuses, is answered with the reason).
    pub(crate) async fn refused(
        &self,
        uow: &mut UnitOfWork,
        peer: &str,
        kind: &str,
        body: &Value,
        error: &AppError,
    ) -> AppResult<()> {
        match kind {
            draw::REQUEST => draw::refuse_request(self, uow, peer, body, error).await?,
            session::COMMAND => session::refuse_command(self, uow, peer, body, error).await?,
            _ => {}
        }
        Ok(())
    }
}
