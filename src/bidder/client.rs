//! The bidder's HTTP client: logs in, reserves a bid, uploads a sealed envelope with the
//! resumable protocol (docs/api.md, "Resumable envelope upload") and fetches the receipt. Used by
//! `tenderhall bidder submit` and by the load programs.

use crate::bids::receipt::Receipt;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};
use tokio::io::AsyncSeekExt;
use uuid::Uuid;

/// Errors of the client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The platform answered with an error.
    #[error("{code}: {message} (HTTP {status})")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The platform's stable error code.
        code: String,
        /// Its explanation.
        message: String,
    },
    /// The connection failed.
    #[error("connection: {0}")]
    Http(#[from] reqwest::Error),
    /// A local file.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The part already stored on the platform is not the start of this envelope.
    #[error(
        "the platform holds {0} bytes for this bid that are not the start of this envelope; reserve a new bid and seal again"
    )]
    PrefixMismatch(u64),
    /// The upload kept failing.
    #[error("the upload failed {0} times in a row; run the command again to resume")]
    GaveUp(u32),
}

/// What a reservation hands out (the identity to seal for).
#[derive(Debug, Clone, Deserialize)]
pub struct Ticket {
    /// Bid id.
    pub bid: Uuid,
    /// Tender id.
    pub tender: Uuid,
    /// Lot id.
    pub lot: Uuid,
    /// Bidder organisation id.
    pub bidder: Uuid,
}

impl Ticket {
    /// The identity an envelope for this bid must carry.
    pub fn identity(&self) -> crate::envelope::BidIdentity {
        crate::envelope::BidIdentity { tender: self.tender, lot: self.lot, bidder: self.bidder, bid: self.bid }
    }
}

/// The state of a resumable upload.
#[derive(Debug, Clone, Deserialize)]
pub struct UploadState {
    /// Bytes stored.
    pub offset: u64,
    /// SHA-256 of the bytes stored, hex.
    pub sha256: String,
}

/// A logged-in session with the platform.
#[derive(Debug, Clone)]
pub struct PlatformClient {
    http: reqwest::Client,
    base: String,
    csrf: String,
}

async fn answer<T: serde::de::DeserializeOwned>(r: reqwest::Response) -> Result<T, ClientError> {
    let status = r.status();
    if status.is_success() {
        return Ok(r.json().await?);
    }
    let body: Value = r.json().await.unwrap_or(Value::Null);
    Err(ClientError::Refused {
        status: status.as_u16(),
        code: body["error"]["code"].as_str().unwrap_or("http_error").to_string(),
        message: body["error"]["message"].as_str().unwrap_or("").to_string(),
    })
}

async fn no_content(r: reqwest::Response) -> Result<(), ClientError> {
    if r.status().is_success() { Ok(()) } else { answer::<Value>(r).await.map(|_| ()) }
}

impl PlatformClient {
    /// A client for `base` (`https://host:port`). `ca_pem` adds a trusted root (the platform's
    /// own CA in a test installation).
    pub fn new(base: &str, ca_pem: Option<&[u8]>) -> Result<Self, ClientError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder().cookie_store(true).connect_timeout(Duration::from_secs(10));
        if let Some(pem) = ca_pem {
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(pem) {
                let cert: rustls::pki_types::CertificateDer<'static> =
                    cert.map_err(|e| std::io::Error::other(format!("CA certificate: {e}")))?;
                roots.add(cert).map_err(|e| std::io::Error::other(format!("CA certificate: {e}")))?;
            }
            let config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
            builder = builder.tls_backend_preconfigured(config);
        }
        Ok(Self { http: builder.build()?, base: base.trim_end_matches('/').to_string(), csrf: String::new() })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Logs in with a user name and password.
    pub async fn login(mut self, username: &str, password: &str) -> Result<Self, ClientError> {
        let t: Value = answer(self.http.get(self.url("/api/v1/csrf")).send().await?).await?;
        self.csrf = t["csrf_token"].as_str().unwrap_or_default().to_string();
        let r: Value = answer(
            self.http
                .post(self.url("/api/v1/session"))
                .header("x-csrf-token", &self.csrf)
                .json(&json!({"username": username, "password": password}))
                .send()
                .await?,
        )
        .await?;
        if let Some(t) = r["csrf_token"].as_str() {
            self.csrf = t.to_string();
        }
        Ok(self)
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(self.url(path)).header("x-csrf-token", &self.csrf)
    }

    /// Obtains the tender documents (needed before bidding; repeating it is harmless).
    pub async fn obtain(&self, tender: Uuid) -> Result<(), ClientError> {
        no_content(self.post(&format!("/api/v1/tenders/{tender}/obtain")).send().await?).await
    }

    /// Registers the signing public key (65-byte point); an already registered key is fine.
    pub async fn register_key(&self, public_key: &[u8]) -> Result<(), ClientError> {
        use base64::Engine;
        let body = json!({"public_key": base64::engine::general_purpose::STANDARD.encode(public_key)});
        match answer::<Value>(self.post("/api/v1/me/bidder-keys").json(&body).send().await?).await {
            Err(ClientError::Refused { code, .. }) if code == "key_exists" => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// The lots of a tender, in order.
    pub async fn lots(&self, tender: Uuid) -> Result<Vec<Uuid>, ClientError> {
        let t: Value = answer(self.http.get(self.url(&format!("/api/v1/tenders/{tender}"))).send().await?).await?;
        Ok(t["lots"]
            .as_array()
            .map(|lots| lots.iter().filter_map(|l| l["id"].as_str()?.parse().ok()).collect())
            .unwrap_or_default())
    }

    /// Reserves a bid on a lot.
    pub async fn reserve(&self, tender: Uuid, lot: Uuid) -> Result<Ticket, ClientError> {
        answer(self.post(&format!("/api/v1/tenders/{tender}/lots/{lot}/bids")).send().await?).await
    }

    /// Uploads a whole envelope held in memory in one request (small envelopes; the load
    /// programs), and returns the receipt.
    pub async fn upload_bytes(
        &self,
        bid: Uuid,
        envelope: Vec<u8>,
        key_id: &str,
        signature: &str,
    ) -> Result<Receipt, ClientError> {
        let r = self
            .http
            .put(self.url(&format!("/api/v1/bids/{bid}/envelope")))
            .header("x-csrf-token", &self.csrf)
            .header("x-bidder-key", key_id)
            .header("x-bid-signature", signature)
            .header("content-type", "application/octet-stream")
            .body(envelope)
            .send()
            .await?;
        answer(r).await
    }

    /// Where the resumable upload of `bid` stands.
    pub async fn upload_state(&self, bid: Uuid) -> Result<UploadState, ClientError> {
        answer(self.http.get(self.url(&format!("/api/v1/bids/{bid}/upload"))).send().await?).await
    }

    /// Uploads the envelope in `path` for `bid`, resuming from what the platform already holds
    /// (after checking it is the start of this very file), retrying a broken connection up to
    /// `attempts` times, and completes it with the signature. `progress` counts bytes stored.
    pub async fn upload_envelope(
        &self,
        bid: Uuid,
        path: &Path,
        key_id: &str,
        signature: &str,
        attempts: u32,
        progress: Arc<AtomicU64>,
    ) -> Result<Receipt, ClientError> {
        let size = tokio::fs::metadata(path).await?.len();
        let mut failures = 0;
        loop {
            let state = self.upload_state(bid).await;
            let result = match state {
                Ok(state) => self.continue_upload(bid, path, size, &state, &progress).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => break,
                Err(e @ (ClientError::Http(_) | ClientError::Refused { status: 409, .. })) => {
                    if matches!(&e, ClientError::Refused { code, .. } if code != "upload_offset_mismatch" && code != "upload_busy")
                    {
                        return Err(e);
                    }
                    failures += 1;
                    if failures >= attempts {
                        return Err(ClientError::GaveUp(failures));
                    }
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(failures.min(10)))).await;
                }
                Err(e) => return Err(e),
            }
        }
        answer(
            self.post(&format!("/api/v1/bids/{bid}/upload/complete"))
                .header("x-bidder-key", key_id)
                .header("x-bid-signature", signature)
                .send()
                .await?,
        )
        .await
    }

    async fn continue_upload(
        &self,
        bid: Uuid,
        path: &Path,
        size: u64,
        state: &UploadState,
        progress: &Arc<AtomicU64>,
    ) -> Result<(), ClientError> {
        if state.offset > size || hex::encode(prefix_sha256(path, state.offset).await?) != state.sha256 {
            return Err(ClientError::PrefixMismatch(state.offset));
        }
        progress.store(state.offset, Ordering::Relaxed);
        if state.offset == size {
            return Ok(());
        }
        let mut file = tokio::fs::File::open(path).await?;
        file.seek(std::io::SeekFrom::Start(state.offset)).await?;
        let counter = progress.clone();
        let stream = tokio_util::io::ReaderStream::with_capacity(file, 1 << 20).map(move |chunk| {
            if let Ok(c) = &chunk {
                counter.fetch_add(c.len() as u64, Ordering::Relaxed);
            }
            chunk
        });
        let r = self
            .http
            .patch(self.url(&format!("/api/v1/bids/{bid}/upload")))
            .header("x-csrf-token", &self.csrf)
            .header("upload-offset", state.offset.to_string())
            .header("content-type", "application/octet-stream")
            .header("content-length", (size - state.offset).to_string())
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await?;
        let after: UploadState = answer(r).await?;
        if after.offset == size {
            Ok(())
        } else {
            Err(ClientError::Refused {
                status: 409,
                code: "upload_offset_mismatch".into(),
                message: format!("stored {} of {size} bytes", after.offset),
            })
        }
    }

    /// The caller's bids on a tender (id, lot, status, digest, size, time received).
    pub async fn my_bids(&self, tender: Uuid) -> Result<Vec<Value>, ClientError> {
        answer(self.http.get(self.url(&format!("/api/v1/tenders/{tender}/my-bids"))).send().await?).await
    }

    /// Sends a command to a tender's opening hall (`{"op": "release_key", …}` and the others,
    /// docs/api.md).
    pub async fn hall_command(&self, tender: Uuid, command: &Value) -> Result<(), ClientError> {
        no_content(self.post(&format!("/api/v1/tenders/{tender}/opening/commands")).json(command).send().await?).await
    }

    /// The events of a tender's opening hall after `after`, that this session may see.
    pub async fn hall_events(&self, tender: Uuid, after: i64) -> Result<Vec<Value>, ClientError> {
        answer(self.http.get(self.url(&format!("/api/v1/tenders/{tender}/opening/events?after={after}"))).send().await?)
            .await
    }

    /// Withdraws a bid.
    pub async fn withdraw(&self, bid: Uuid) -> Result<(), ClientError> {
        no_content(self.post(&format!("/api/v1/bids/{bid}/withdraw")).send().await?).await
    }
}

/// SHA-256 of the first `len` bytes of a file, read on a blocking thread.
async fn prefix_sha256(path: &Path, len: u64) -> std::io::Result<[u8; 32]> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || crate::envelope::file_sha256(&path, Some(len)))
        .await
        .map_err(std::io::Error::other)?
}
