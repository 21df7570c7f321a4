//! The blob store: content-addressed files (tender documents and bid envelopes).
//!
//! Behind the [`BlobStore`] trait so that object storage can replace the local directory. The
//! local store writes to a temporary file, syncs it to disk, then renames it to its SHA-256, so
//! a crash never leaves a half-written blob under a real name, and the same content is kept once.

use async_trait::async_trait;
use bytes::Bytes;
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};
use tokio::io::AsyncWriteExt;

/// Errors of the blob store.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The blob does not exist.
    #[error("blob not found")]
    NotFound,
    /// A storage failure.
    #[error("blob storage: {0}")]
    Io(#[from] std::io::Error),
    /// The stream was longer than allowed.
    #[error("blob larger than allowed")]
    TooLarge,
    /// Another request is appending to the same upload.
    #[error("another request is uploading to the same place")]
    Busy,
    /// A resumed upload did not continue where the stored part ends.
    #[error("the upload continues at byte {current}, not at the offset given")]
    OffsetMismatch {
        /// Bytes stored so far.
        current: u64,
    },
}

/// What is stored of an upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialState {
    /// Bytes stored so far (the next upload continues here).
    pub offset: u64,
    /// SHA-256 of the bytes stored so far, hex, so a client can check that it resumes the same
    /// bytes it started with.
    pub sha256: String,
}

/// A stream of body chunks, as uploads arrive.
pub type ByteStream<'a> = &'a mut (dyn futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + Unpin);

/// A blob stored from a stream.
#[derive(Debug, Clone)]
pub struct StoredBlob {
    /// SHA-256, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// The first bytes (up to 1 KiB), for checking a header without reading the blob again.
    pub head: Vec<u8>,
    /// Whether this call created the blob (false: the same content was already stored, and
    /// other records may name it, so it must never be discarded on this call's behalf).
    pub created: bool,
}

/// A place to keep immutable files by their SHA-256.
#[async_trait]
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// Stores `data` and returns its SHA-256 (hex). Durable when this returns.
    async fn put(&self, data: Bytes) -> Result<String, BlobError>;
    /// Reads a whole blob.
    async fn get(&self, sha256: &str) -> Result<Bytes, BlobError>;
    /// Stores a stream without holding it in memory, hashing it as it arrives; refuses more than
    /// `max` bytes (nothing is kept then). Durable when this returns.
    async fn put_stream(&self, body: ByteStream<'_>, max: u64) -> Result<StoredBlob, BlobError>;
    /// Opens a blob for reading as a stream.
    async fn open(&self, sha256: &str) -> Result<tokio::fs::File, BlobError>;
    /// Removes a blob that was stored but refused; only for a blob the refused call created
    /// ([`StoredBlob::created`]), which no record names.
    async fn discard(&self, sha256: &str) -> Result<(), BlobError>;

    /// What is stored of the resumable upload `key` (offset 0 if none).
    async fn partial_state(&self, key: &str) -> Result<PartialState, BlobError>;
    /// Appends a stream to the resumable upload `key`, which must hold exactly `offset` bytes;
    /// refuses to grow it beyond `max` bytes. Whatever arrives is kept and synced to disk, also
    /// when the stream breaks off, so the upload can resume from there. Returns the new state.
    async fn append_partial(
        &self,
        key: &str,
        offset: u64,
        body: ByteStream<'_>,
        max: u64,
    ) -> Result<PartialState, BlobError>;
    /// Turns the resumable upload `key` into a blob (as [`BlobStore::put_stream`] would have
    /// stored the same bytes); the upload is gone afterwards.
    async fn finish_partial(&self, key: &str) -> Result<StoredBlob, BlobError>;
    /// Drops the resumable upload `key`, if any.
    async fn drop_partial(&self, key: &str) -> Result<(), BlobError>;
}

/// Blobs in a local directory, two levels of fan-out (`ab/cd/abcd…`); resumable uploads in
/// `partial/`.
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
    partials: Arc<Mutex<HashMap<String, PartialLock>>>,
}

/// One resumable upload's lock, holding its running hash when known.
type PartialLock = Arc<tokio::sync::Mutex<Option<Hashed>>>;

/// The running hash of a resumable upload, kept so that appending and finishing need not read
/// the stored bytes again. After a restart it is rebuilt from the file.
#[derive(Clone)]
struct Hashed {
    len: u64,
    ctx: ring::digest::Context,
    head: Vec<u8>,
}

impl std::fmt::Debug for Hashed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hashed").field("len", &self.len).finish_non_exhaustive()
    }
}

impl Hashed {
    fn new() -> Self {
        Self { len: 0, ctx: ring::digest::Context::new(&ring::digest::SHA256), head: Vec::new() }
    }

    fn update(&mut self, chunk: &[u8]) {
        if self.head.len() < HEAD_LEN {
            let take = (HEAD_LEN - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.ctx.update(chunk);
        self.len += chunk.len() as u64;
    }

    fn state(&self) -> PartialState {
        PartialState { offset: self.len, sha256: hex::encode(self.ctx.clone().finish()) }
    }
}

/// Bytes of a blob's start kept in [`StoredBlob::head`].
const HEAD_LEN: usize = 1024;

fn valid_partial_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn valid_digest(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl LocalBlobStore {
    /// A store rooted at `root` (created if missing).
    pub fn new(root: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(root.join("tmp"))?;
        std::fs::create_dir_all(root.join("partial"))?;
        Ok(Self { root: root.to_path_buf(), partials: Arc::default() })
    }

    fn partial_path(&self, key: &str) -> Result<PathBuf, BlobError> {
        if valid_partial_key(key) { Ok(self.root.join("partial").join(key)) } else { Err(BlobError::NotFound) }
    }

    /// The lock of one resumable upload: appends to the same upload run one at a time.
    fn partial_lock(&self, key: &str) -> PartialLock {
        let mut map = self.partials.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(key.to_string()).or_default().clone()
    }

    fn forget_partial(&self, key: &str) {
        self.partials.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(key);
    }

    /// The running hash of the stored part, from memory when it matches the file's length,
    /// otherwise read again from the file (after a restart, or if another process appended).
    async fn hashed(cached: &mut Option<Hashed>, path: &Path) -> Result<Hashed, BlobError> {
        let len = match tokio::fs::metadata(path).await {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(e.into()),
        };
        if let Some(h) = cached.as_ref().filter(|h| h.len == len) {
            return Ok(h.clone());
        }
        let mut h = Hashed::new();
        if len > 0 {
            use tokio::io::AsyncReadExt;
            let mut f = tokio::fs::File::open(path).await?;
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = f.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
        }
        *cached = Some(h.clone());
        Ok(h)
    }

    /// Moves a synced temporary file to its final name and syncs the directory, so the name
    /// survives a crash.
    async fn commit(&self, tmp: &Path, dest: &Path) -> std::io::Result<()> {
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::rename(tmp, dest).await?;
        if let Some(parent) = dest.parent()
            && let Ok(dir) = tokio::fs::File::open(parent).await
        {
            let _ = dir.sync_all().await;
        }
        Ok(())
    }

    fn path_of(&self, sha: &str) -> PathBuf {
        self.root.join(&sha[0..2]).join(&sha[2..4]).join(sha)
    }
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn put(&self, data: Bytes) -> Result<String, BlobError> {
        let sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, &data));
        let dest = self.path_of(&sha);
        if tokio::fs::try_exists(&dest).await? {
            return Ok(sha);
        }
        let tmp = self.root.join("tmp").join(uuid::Uuid::new_v4().to_string());
        let mut f = tokio::fs::File::create(&tmp).await?;
        f.write_all(&data).await?;
        f.sync_all().await?;
        drop(f);
        self.commit(&tmp, &dest).await?;
        Ok(sha)
    }

    async fn put_stream(&self, body: ByteStream<'_>, max: u64) -> Result<StoredBlob, BlobError> {
        use futures_util::StreamExt;
        let tmp = self.root.join("tmp").join(uuid::Uuid::new_v4().to_string());
        let result = async {
            // Uploads arrive in small frames; writing each one to the file would be a blocking
            // system call per frame, so they are gathered into 1 MiB writes.
            let mut f = tokio::io::BufWriter::with_capacity(1 << 20, tokio::fs::File::create(&tmp).await?);
            let mut h = Hashed::new();
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                if h.len + chunk.len() as u64 > max {
                    return Err(BlobError::TooLarge);
                }
                h.update(&chunk);
                f.write_all(&chunk).await?;
            }
            f.flush().await?;
            f.get_ref().sync_all().await?;
            Ok((hex::encode(h.ctx.finish()), h.len, h.head))
        }
        .await;
        let (sha, size, head) = match result {
            Ok(v) => v,
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(e);
            }
        };
        let dest = self.path_of(&sha);
        if tokio::fs::try_exists(&dest).await? {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Ok(StoredBlob { sha256: sha, size, head, created: false });
        }
        self.commit(&tmp, &dest).await?;
        Ok(StoredBlob { sha256: sha, size, head, created: true })
    }

    async fn partial_state(&self, key: &str) -> Result<PartialState, BlobError> {
        let path = self.partial_path(key)?;
        let lock = self.partial_lock(key);
        let mut cached = lock.try_lock().map_err(|_| BlobError::Busy)?;
        Ok(Self::hashed(&mut cached, &path).await?.state())
    }

    async fn append_partial(
        &self,
        key: &str,
        offset: u64,
        body: ByteStream<'_>,
        max: u64,
    ) -> Result<PartialState, BlobError> {
        use futures_util::StreamExt;
        let path = self.partial_path(key)?;
        let lock = self.partial_lock(key);
        let mut cached = lock.try_lock().map_err(|_| BlobError::Busy)?;
        let mut h = Self::hashed(&mut cached, &path).await?;
        if h.len != offset {
            return Err(BlobError::OffsetMismatch { current: h.len });
        }
        let file = tokio::fs::OpenOptions::new().create(true).append(true).open(&path).await?;
        let mut f = tokio::io::BufWriter::with_capacity(1 << 20, file);
        // Everything that arrived is kept, also when the stream breaks off: it is a prefix of
        // what the client sent, and the next request resumes after it.
        let mut outcome = Ok(());
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    outcome = Err(BlobError::Io(e));
                    break;
                }
            };
            if h.len + chunk.len() as u64 > max {
                outcome = Err(BlobError::TooLarge);
                break;
            }
            if let Err(e) = f.write_all(&chunk).await {
                // The file may now hold part of this chunk: the next request rebuilds the hash
                // from the file.
                *cached = None;
                return Err(e.into());
            }
            h.update(&chunk);
        }
        let synced = async {
            f.flush().await?;
            f.get_ref().sync_all().await
        }
        .await;
        if let Err(e) = synced {
            *cached = None;
            return Err(e.into());
        }
        *cached = Some(h.clone());
        outcome.map(|()| h.state())
    }

    async fn finish_partial(&self, key: &str) -> Result<StoredBlob, BlobError> {
        let path = self.partial_path(key)?;
        let lock = self.partial_lock(key);
        let mut cached = lock.try_lock().map_err(|_| BlobError::Busy)?;
        let h = Self::hashed(&mut cached, &path).await?;
        if h.len == 0 {
            return Err(BlobError::NotFound);
        }
        let sha = hex::encode(h.ctx.finish());
        let dest = self.path_of(&sha);
        let created = if tokio::fs::try_exists(&dest).await? {
            tokio::fs::remove_file(&path).await?;
            false
        } else {
            self.commit(&path, &dest).await?;
            true
        };
        *cached = None;
        drop(cached);
        self.forget_partial(key);
        Ok(StoredBlob { sha256: sha, size: h.len, head: h.head, created })
    }

    async fn drop_partial(&self, key: &str) -> Result<(), BlobError> {
        let path = self.partial_path(key)?;
        let lock = self.partial_lock(key);
        let mut cached = lock.try_lock().map_err(|_| BlobError::Busy)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        *cached = None;
        drop(cached);
        self.forget_partial(key);
        Ok(())
    }

    async fn discard(&self, sha256: &str) -> Result<(), BlobError> {
        if !valid_digest(sha256) {
            return Err(BlobError::NotFound);
        }
        match tokio::fs::remove_file(self.path_of(sha256)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn open(&self, sha256: &str) -> Result<tokio::fs::File, BlobError> {
        if !valid_digest(sha256) {
            return Err(BlobError::NotFound);
        }
        match tokio::fs::File::open(self.path_of(sha256)).await {
            Ok(f) => Ok(f),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(BlobError::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    async fn get(&self, sha256: &str) -> Result<Bytes, BlobError> {
        if !valid_digest(sha256) {
            return Err(BlobError::NotFound);
        }
        match tokio::fs::read(self.path_of(sha256)).await {
            Ok(b) => Ok(Bytes::from(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(BlobError::NotFound),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stores_by_digest_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalBlobStore::new(dir.path()).unwrap();
        let sha = s.put(Bytes::from_static(b"abc")).await.unwrap();
        assert_eq!(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(s.get(&sha).await.unwrap(), Bytes::from_static(b"abc"));
        assert_eq!(s.put(Bytes::from_static(b"abc")).await.unwrap(), sha);
        assert!(matches!(s.get(&"0".repeat(64)).await, Err(BlobError::NotFound)));
        assert!(matches!(s.get("../../etc/passwd").await, Err(BlobError::NotFound)));
    }

    fn stream(
        parts: Vec<Result<Bytes, std::io::Error>>,
    ) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Unpin {
        futures_util::stream::iter(parts)
    }

    #[tokio::test]
    async fn resumable_uploads_keep_what_arrived_and_finish_like_a_whole_upload() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalBlobStore::new(dir.path()).unwrap();
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let empty = s.partial_state("bid-1").await.unwrap();
        assert_eq!(empty.offset, 0);
        assert_eq!(empty.sha256, hex::encode(ring::digest::digest(&ring::digest::SHA256, b"")));

        // A connection that breaks after 100,000 bytes keeps them.
        let mut broken =
            stream(vec![Ok(Bytes::copy_from_slice(&data[..100_000])), Err(std::io::Error::other("connection reset"))]);
        assert!(matches!(s.append_partial("bid-1", 0, &mut broken, 1 << 20).await, Err(BlobError::Io(_))));
        let st = s.partial_state("bid-1").await.unwrap();
        assert_eq!(st.offset, 100_000);
        assert_eq!(st.sha256, hex::encode(ring::digest::digest(&ring::digest::SHA256, &data[..100_000])));

        // Continuing anywhere but at the end is refused and changes nothing.
        let mut wrong = stream(vec![Ok(Bytes::copy_from_slice(&data[..10]))]);
        assert!(matches!(
            s.append_partial("bid-1", 0, &mut wrong, 1 << 20).await,
            Err(BlobError::OffsetMismatch { current: 100_000 })
        ));
        // Growing past the limit is refused.
        let mut big = stream(vec![Ok(Bytes::copy_from_slice(&data[100_000..]))]);
        assert!(matches!(s.append_partial("bid-1", 100_000, &mut big, 150_000).await, Err(BlobError::TooLarge)));
        assert_eq!(s.partial_state("bid-1").await.unwrap().offset, 100_000);

        // A new store on the same directory (a restarted server) rebuilds the hash from the file.
        let s = LocalBlobStore::new(dir.path()).unwrap();
        let mut rest = stream(vec![Ok(Bytes::copy_from_slice(&data[100_000..]))]);
        assert_eq!(s.append_partial("bid-1", 100_000, &mut rest, 1 << 20).await.unwrap().offset, 300_000);
        let stored = s.finish_partial("bid-1").await.unwrap();
        let mut whole = stream(vec![Ok(Bytes::from(data.clone()))]);
        let direct = s.put_stream(&mut whole, 1 << 20).await.unwrap();
        assert_eq!(
            (stored.sha256.as_str(), stored.size, &stored.head),
            (direct.sha256.as_str(), direct.size, &direct.head)
        );
        assert!(stored.created && !direct.created);
        assert_eq!(s.get(&stored.sha256).await.unwrap(), Bytes::from(data));
        assert_eq!(s.partial_state("bid-1").await.unwrap().offset, 0, "the upload is gone once finished");
        assert!(matches!(s.finish_partial("bid-1").await, Err(BlobError::NotFound)));
        assert!(matches!(s.partial_state("../etc").await, Err(BlobError::NotFound)));
    }

    #[tokio::test]
    async fn a_second_request_on_an_upload_in_progress_is_told_it_is_busy() {
        let dir = tempfile::tempdir().unwrap();
        let s = Arc::new(LocalBlobStore::new(dir.path()).unwrap());
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Result<Bytes, std::io::Error>>();
        tx.send(Ok(Bytes::from_static(b"first bytes"))).unwrap();
        let store = s.clone();
        let running = tokio::spawn(async move {
            let body = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|i| (i, rx)) });
            let mut body = std::pin::pin!(body);
            store.append_partial("bid-2", 0, &mut body, 1 << 20).await
        });
        // While the first request is still receiving, others are refused and change nothing.
        let mut busy = true;
        for _ in 0..100 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            busy = matches!(s.partial_state("bid-2").await, Err(BlobError::Busy));
            if busy {
                break;
            }
        }
        assert!(busy, "the upload in progress holds it");
        let mut other = stream(vec![Ok(Bytes::from_static(b"other"))]);
        assert!(matches!(s.append_partial("bid-2", 0, &mut other, 1 << 20).await, Err(BlobError::Busy)));
        assert!(matches!(s.finish_partial("bid-2").await, Err(BlobError::Busy)));
        drop(tx);
        assert_eq!(running.await.unwrap().unwrap().offset, 11);
        assert_eq!(s.partial_state("bid-2").await.unwrap().offset, 11);
    }
}
