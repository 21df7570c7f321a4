//! The blob store: content-addressed files (tender documents and bid envelopes).
//!
//! Behind the [`BlobStore`] trait so that object storage can replace the local directory. The
//! local store writes to a temporary file, syncs it to disk, then renames it to its SHA-256, so
//! a crash never leaves a half-written blob under a real name, and the same content is kept once.

use async_trait::async_trait;
use bytes::Bytes;
use std::path::{Path, PathBuf};
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
}

/// Blobs in a local directory, two levels of fan-out (`ab/cd/abcd…`).
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
}

fn valid_digest(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl LocalBlobStore {
    /// A store rooted at `root` (created if missing).
    pub fn new(root: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(Self { root: root.to_path_buf() })
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
            let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
            let mut size = 0u64;
            let mut head = Vec::new();
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                size += chunk.len() as u64;
                if size > max {
                    return Err(BlobError::TooLarge);
                }
                if head.len() < 1024 {
                    let take = (1024 - head.len()).min(chunk.len());
                    head.extend_from_slice(&chunk[..take]);
                }
                ctx.update(&chunk);
                f.write_all(&chunk).await?;
            }
            f.flush().await?;
            f.get_ref().sync_all().await?;
            Ok((hex::encode(ctx.finish()), size, head))
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
}
