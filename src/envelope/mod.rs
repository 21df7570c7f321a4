//! Sealed-bid envelopes (投标文件加密): the byte format, sealing, and the opening primitive.
//!
//! `docs/envelope.md` specifies the format; this module is its reference implementation, pinned
//! by the test vectors in `tests/vectors/envelope-v1.json`. In short:
//!
//! - a fresh 256-bit content key (CEK) per bid;
//! - the CEK wrapped with AES-256-GCM under a key derived by HKDF-SHA256 from the bidder's secret
//!   key, a random salt and the bid's identity (tender, lot, bidder, bid);
//! - a key commitment, HMAC-SHA256 under the CEK over the identity and the nonce prefix, checked
//!   before anything is decrypted, so an envelope opens under one key only (AES-GCM alone is not
//!   key-committing);
//! - the payload in fixed-size chunks, each sealed with AES-256-GCM under a key derived from the
//!   CEK and the header digest, with a nonce made of a random prefix, the chunk counter and a
//!   last-chunk flag, and the header digest as associated data (the STREAM construction): a
//!   flipped byte, a truncation, a reordering, a swap of chunks or of headers between bids is
//!   detected.
//!
//! The module owns no storage and no policy: the bids module decides who may submit or open.

mod format;
mod open;
pub mod payload;
mod seal;

pub use format::{BidIdentity, CHUNK_SIZE_DEFAULT, HEADER_LEN, Header, MAGIC, TAG_LEN, VERSION};
pub use open::{OpenError, Opened, open, unwrap_content_key};
pub use seal::{SealParams, Sealed, seal, seal_with};

/// A 256-bit content key (CEK). Not `Debug`-printable, so it never lands in a log.
#[derive(Clone, PartialEq, Eq)]
pub struct ContentKey(pub [u8; 32]);

impl std::fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContentKey(..)")
    }
}

/// A bidder's 256-bit secret key (the "USB key"); never sent to the server before an opening.
#[derive(Clone, PartialEq, Eq)]
pub struct BidderKey(pub [u8; 32]);

impl std::fmt::Debug for BidderKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BidderKey(..)")
    }
}

#[cfg(test)]
mod tests;

/// SHA-256 of a file, or of its first `len` bytes.
pub fn file_sha256(path: &std::path::Path, len: Option<u64>) -> std::io::Result<[u8; 32]> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    let mut f = f.take(len.unwrap_or(u64::MAX));
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    Ok(out)
}
