//! The payload inside an envelope: the bid form (开标一览表) and the bid's files in one stream.
//!
//! ```text
//! "THBID1\0\0" (8) ‖ manifest length (u32, big-endian) ‖ manifest (UTF-8 JSON) ‖ file bytes, in manifest order
//! manifest = {"form": {"total_price": "1234500.00", ...}, "files": [{"name", "size", "sha256"}, ...]}
//! ```

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// First bytes of a payload.
pub const PAYLOAD_MAGIC: &[u8; 8] = b"THBID1\x00\x00";
/// Largest manifest accepted.
pub const MAX_MANIFEST: usize = 1 << 20;

/// One file of a bid.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileEntry {
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// The manifest: the bid form's values and the list of files.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Manifest {
    /// Bid form values by item key, as sealed: text as entered, or whatever JSON a client put
    /// there. The opening checks them against the tender's items
    /// ([`crate::tenders::bid_form::check`]).
    pub form: BTreeMap<String, serde_json::Value>,
    /// Files, in the order their bytes follow.
    pub files: Vec<FileEntry>,
}

/// A bid's contents after opening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BidContents {
    /// The manifest.
    pub manifest: Manifest,
    /// File contents, in manifest order.
    pub files: Vec<Vec<u8>>,
}

/// Why a payload is not a valid bid.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PayloadError {
    /// Wrong magic or too short.
    #[error("not a bid payload")]
    NotAPayload,
    /// The manifest is not valid JSON of the expected shape, or too large.
    #[error("bad manifest: {0}")]
    BadManifest(String),
    /// File bytes do not match the manifest (size or digest), or bytes are left over.
    #[error("file {0} does not match the manifest")]
    FileMismatch(String),
}

impl PayloadError {
    /// A stable code for the reason, for records and APIs.
    pub fn code(&self) -> &'static str {
        match self {
            PayloadError::NotAPayload => "not_a_payload",
            PayloadError::BadManifest(_) => "bad_manifest",
            PayloadError::FileMismatch(_) => "file_mismatch",
        }
    }
}

/// A form of text values as the manifest holds it.
pub fn text_form(form: BTreeMap<String, String>) -> BTreeMap<String, serde_json::Value> {
    form.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect()
}

/// The start of a payload: magic, the manifest's length and the manifest; the files follow.
pub fn head(manifest: &Manifest) -> std::io::Result<Vec<u8>> {
    let json = serde_json::to_vec(manifest).map_err(std::io::Error::other)?;
    if json.len() > MAX_MANIFEST {
        return Err(std::io::Error::other("the bid form and file list are too large"));
    }
    let mut head = Vec::with_capacity(12 + json.len());
    head.extend_from_slice(PAYLOAD_MAGIC);
    head.extend_from_slice(&(json.len() as u32).to_be_bytes());
    head.extend_from_slice(&json);
    Ok(head)
}

/// Packs a form and files into a payload (a manifest over [`MAX_MANIFEST`] gives an empty one,
/// which no opening accepts).
pub fn pack(form: BTreeMap<String, String>, files: &[(&str, &[u8])]) -> Vec<u8> {
    let manifest = Manifest {
        form: text_form(form),
        files: files
            .iter()
            .map(|(name, data)| FileEntry {
                name: (*name).to_string(),
                size: data.len() as u64,
                sha256: hex::encode(ring::digest::digest(&ring::digest::SHA256, data)),
            })
            .collect(),
    };
    let Ok(mut out) = head(&manifest) else { return Vec::new() };
    for (_, data) in files {
        out.extend_from_slice(data);
    }
    out
}

/// A payload as a stream, from a form and files on disk, without holding the files in memory:
/// the files are hashed once for the manifest, then read again as the payload is consumed.
pub fn pack_files(
    form: BTreeMap<String, String>,
    files: &[std::path::PathBuf],
) -> std::io::Result<Box<dyn std::io::Read + Send>> {
    use std::io::Read;
    let mut entries = Vec::with_capacity(files.len());
    for path in files {
        let size = std::fs::metadata(path)?.len();
        let sha256 = hex::encode(super::file_sha256(path, None)?);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        entries.push(FileEntry { name, size, sha256 });
    }
    let head = head(&Manifest { form: text_form(form), files: entries })?;
    let mut reader: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(head));
    for path in files {
        reader = Box::new(reader.chain(std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?)));
    }
    Ok(reader)
}

/// Checks a payload as it streams past (it is an [`std::io::Write`] sink for
/// [`crate::envelope::open`]), keeping only the manifest: every file's size and SHA-256 are
/// checked against it and nothing may follow the last file. The files are never kept, in
/// memory or on disk.
#[derive(Default)]
pub struct PayloadCheck {
    head: Vec<u8>,
    manifest: Option<Manifest>,
    file: usize,
    file_left: u64,
    ctx: Option<ring::digest::Context>,
    error: Option<PayloadError>,
}

impl PayloadCheck {
    /// A new check.
    pub fn new() -> Self {
        Self::default()
    }

    fn start_file(&mut self) {
        while self.manifest.as_ref().is_some_and(|m| m.files.get(self.file).is_some_and(|f| f.size == 0)) {
            self.end_file();
        }
        if let Some(f) = self.manifest.as_ref().and_then(|m| m.files.get(self.file)) {
            self.file_left = f.size;
            self.ctx = Some(ring::digest::Context::new(&ring::digest::SHA256));
        }
    }

    fn end_file(&mut self) {
        let Some(m) = &self.manifest else { return };
        let Some(f) = m.files.get(self.file) else { return };
        let digest = match self.ctx.take() {
            Some(c) => hex::encode(c.finish()),
            None => hex::encode(ring::digest::digest(&ring::digest::SHA256, b"")),
        };
        if digest != f.sha256 && self.error.is_none() {
            self.error = Some(PayloadError::FileMismatch(f.name.clone()));
        }
        self.file += 1;
    }

    fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() && self.error.is_none() {
            let Some(m) = &self.manifest else {
                let need = if self.head.len() < 12 {
                    12 - self.head.len()
                } else {
                    let len = u32::from_be_bytes([self.head[8], self.head[9], self.head[10], self.head[11]]) as usize;
                    if len > MAX_MANIFEST {
                        self.error = Some(PayloadError::BadManifest("manifest too large".into()));
                        return;
                    }
                    12 + len - self.head.len()
                };
                let take = need.min(data.len());
                self.head.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.head.len() >= 8 && &self.head[..8] != PAYLOAD_MAGIC {
                    self.error = Some(PayloadError::NotAPayload);
                    return;
                }
                if self.head.len() >= 12 {
                    let len = u32::from_be_bytes([self.head[8], self.head[9], self.head[10], self.head[11]]) as usize;
                    if len > MAX_MANIFEST {
                        self.error = Some(PayloadError::BadManifest("manifest too large".into()));
                        return;
                    }
                    if self.head.len() == 12 + len {
                        match serde_json::from_slice::<Manifest>(&self.head[12..]) {
                            Ok(m) => {
                                self.manifest = Some(m);
                                self.start_file();
                            }
                            Err(e) => {
                                self.error = Some(PayloadError::BadManifest(e.to_string()));
                                return;
                            }
                        }
                    }
                }
                continue;
            };
            if self.file >= m.files.len() {
                self.error = Some(PayloadError::FileMismatch("(bytes after the last file)".into()));
                return;
            }
            let take = (self.file_left.min(data.len() as u64)) as usize;
            if let Some(c) = self.ctx.as_mut() {
                c.update(&data[..take]);
            }
            self.file_left -= take as u64;
            data = &data[take..];
            if self.file_left == 0 {
                self.end_file();
                self.start_file();
            }
        }
    }

    /// The manifest, if the payload was complete and every file matched.
    pub fn finish(self) -> Result<Manifest, PayloadError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let Some(m) = self.manifest else { return Err(PayloadError::NotAPayload) };
        if self.file < m.files.len() {
            return Err(PayloadError::FileMismatch(m.files[self.file].name.clone()));
        }
        Ok(m)
    }
}

impl std::io::Write for PayloadCheck {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.feed(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads a payload, checking every file against the manifest.
pub fn unpack(p: &[u8]) -> Result<BidContents, PayloadError> {
    if p.len() < 12 || &p[..8] != PAYLOAD_MAGIC {
        return Err(PayloadError::NotAPayload);
    }
    let len = u32::from_be_bytes([p[8], p[9], p[10], p[11]]) as usize;
    if len > MAX_MANIFEST || 12 + len > p.len() {
        return Err(PayloadError::BadManifest("length".into()));
    }
    let manifest: Manifest =
        serde_json::from_slice(&p[12..12 + len]).map_err(|e| PayloadError::BadManifest(e.to_string()))?;
    let mut at = 12 + len;
    let mut files = Vec::new();
    for f in &manifest.files {
        let end = usize::try_from(f.size).ok().and_then(|s| at.checked_add(s)).filter(|e| *e <= p.len());
        let Some(end) = end else { return Err(PayloadError::FileMismatch(f.name.clone())) };
        let data = &p[at..end];
        if hex::encode(ring::digest::digest(&ring::digest::SHA256, data)) != f.sha256 {
            return Err(PayloadError::FileMismatch(f.name.clone()));
        }
        files.push(data.to_vec());
        at = end;
    }
    if at != p.len() {
        return Err(PayloadError::FileMismatch("(trailing bytes)".into()));
    }
    Ok(BidContents { manifest, files })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_and_unpacks_and_refuses_mismatches() {
        let mut form = BTreeMap::new();
        form.insert("total_price".to_string(), "3780000.00".to_string());
        let p = pack(form.clone(), &[("a.pdf", b"%PDF-a"), ("b.pdf", b"%PDF-bb")]);
        let c = unpack(&p).unwrap();
        assert_eq!(c.manifest.form, text_form(form));
        assert_eq!(c.files, vec![b"%PDF-a".to_vec(), b"%PDF-bb".to_vec()]);
        let mut bad = p.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(unpack(&bad), Err(PayloadError::FileMismatch("b.pdf".into())));
        assert_eq!(unpack(&p[..p.len() - 1]), Err(PayloadError::FileMismatch("b.pdf".into())));
        let mut extra = p.clone();
        extra.push(0);
        assert!(matches!(unpack(&extra), Err(PayloadError::FileMismatch(_))));
        assert_eq!(unpack(b"nope"), Err(PayloadError::NotAPayload));
    }

    fn check(p: &[u8], piece: usize) -> Result<Manifest, PayloadError> {
        use std::io::Write;
        let mut c = PayloadCheck::new();
        for part in p.chunks(piece) {
            c.write_all(part).unwrap();
        }
        c.finish()
    }

    #[test]
    fn the_streaming_check_agrees_with_unpack_in_any_pieces() {
        let mut form = BTreeMap::new();
        form.insert("total_price".to_string(), "3780000.00".to_string());
        let p = pack(form.clone(), &[("a.pdf", b"%PDF-a"), ("empty.pdf", b""), ("b.pdf", b"%PDF-bb")]);
        for piece in [1, 3, 7, 64, p.len()] {
            assert_eq!(check(&p, piece).unwrap().form, text_form(form.clone()), "pieces of {piece}");
        }
        let mut bad = p.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(check(&bad, 5), Err(PayloadError::FileMismatch("b.pdf".into())));
        assert_eq!(check(&p[..p.len() - 1], 5), Err(PayloadError::FileMismatch("b.pdf".into())));
        let mut extra = p.clone();
        extra.push(0);
        assert!(matches!(check(&extra, 5), Err(PayloadError::FileMismatch(_))));
        assert_eq!(check(b"nope, not a payload", 4), Err(PayloadError::NotAPayload));
        let mut huge = PAYLOAD_MAGIC.to_vec();
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(check(&huge, 16), Err(PayloadError::BadManifest(_))));
    }
}
