//! The envelope header and the key schedule.

use super::{BidderKey, ContentKey};
use ring::{aead, digest, hkdf, hmac};
use uuid::Uuid;

/// First bytes of every envelope.
pub const MAGIC: &[u8; 8] = b"THENVLP\x00";
/// Format version.
pub const VERSION: u8 = 1;
/// Algorithm suite 1: AES-256-GCM, HKDF-SHA256, HMAC-SHA256.
pub const SUITE: u8 = 1;
/// Default plaintext bytes per chunk (1 MiB).
pub const CHUNK_SIZE_DEFAULT: u32 = 1 << 20;
/// Smallest and largest chunk sizes accepted.
pub const CHUNK_SIZE_RANGE: std::ops::RangeInclusive<u32> = 16..=(16 << 20);
/// AES-GCM tag length.
pub const TAG_LEN: usize = 16;
/// Length of the fixed header that follows the magic.
pub const HEADER_LEN: usize = 1 + 1 + 4 + 16 * 4 + 32 + 48 + 32 + 7;

pub(crate) const LABEL_WRAP: &[u8] = b"tenderhall envelope v1 key wrap";
pub(crate) const LABEL_COMMIT: &[u8] = b"tenderhall envelope v1 key commitment";
pub(crate) const LABEL_PAYLOAD: &[u8] = b"tenderhall envelope v1 payload key";

/// Which bid an envelope belongs to; bound into the key wrap, the commitment and every chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BidIdentity {
    /// The tender.
    pub tender: Uuid,
    /// The lot.
    pub lot: Uuid,
    /// The bidder (supplier organisation).
    pub bidder: Uuid,
    /// This submission.
    pub bid: Uuid,
}

impl BidIdentity {
    pub(crate) fn bytes(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        b[0..16].copy_from_slice(self.tender.as_bytes());
        b[16..32].copy_from_slice(self.lot.as_bytes());
        b[32..48].copy_from_slice(self.bidder.as_bytes());
        b[48..64].copy_from_slice(self.bid.as_bytes());
        b
    }
}

/// The envelope header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Plaintext bytes per chunk.
    pub chunk_size: u32,
    /// The bid.
    pub identity: BidIdentity,
    /// HKDF salt of the key wrap.
    pub wrap_salt: [u8; 32],
    /// The CEK sealed under the wrap key (32 bytes and a 16-byte tag).
    pub wrapped_cek: [u8; 48],
    /// HMAC-SHA256 under the CEK of the commitment label, the identity and the nonce prefix.
    pub commitment: [u8; 32],
    /// First 7 bytes of every chunk nonce.
    pub nonce_prefix: [u8; 7],
}

impl Header {
    /// The magic and the header, as written at the start of the envelope.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(MAGIC.len() + HEADER_LEN);
        b.extend_from_slice(MAGIC);
        b.push(VERSION);
        b.push(SUITE);
        b.extend_from_slice(&self.chunk_size.to_be_bytes());
        b.extend_from_slice(&self.identity.bytes());
        b.extend_from_slice(&self.wrap_salt);
        b.extend_from_slice(&self.wrapped_cek);
        b.extend_from_slice(&self.commitment);
        b.extend_from_slice(&self.nonce_prefix);
        b
    }

    /// Reads a header from the first `MAGIC.len() + HEADER_LEN` bytes.
    pub fn parse(b: &[u8]) -> Result<Header, super::OpenError> {
        use super::OpenError;
        if b.len() < MAGIC.len() + HEADER_LEN {
            return Err(OpenError::Truncated);
        }
        if &b[..8] != MAGIC {
            return Err(OpenError::NotAnEnvelope);
        }
        if b[8] != VERSION || b[9] != SUITE {
            return Err(OpenError::UnsupportedVersion(b[8], b[9]));
        }
        let chunk_size = u32::from_be_bytes([b[10], b[11], b[12], b[13]]);
        if !CHUNK_SIZE_RANGE.contains(&chunk_size) {
            return Err(OpenError::MalformedHeader("chunk size out of range"));
        }
        let uuid = |at: usize| Uuid::from_slice(&b[at..at + 16]).map_err(|_| OpenError::MalformedHeader("identity"));
        let identity = BidIdentity { tender: uuid(14)?, lot: uuid(30)?, bidder: uuid(46)?, bid: uuid(62)? };
        let mut h = Header {
            chunk_size,
            identity,
            wrap_salt: [0; 32],
            wrapped_cek: [0; 48],
            commitment: [0; 32],
            nonce_prefix: [0; 7],
        };
        h.wrap_salt.copy_from_slice(&b[78..110]);
        h.wrapped_cek.copy_from_slice(&b[110..158]);
        h.commitment.copy_from_slice(&b[158..190]);
        h.nonce_prefix.copy_from_slice(&b[190..197]);
        Ok(h)
    }

    /// SHA-256 of the magic and the header: the associated data of every chunk.
    pub fn digest(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(digest::digest(&digest::SHA256, &self.to_bytes()).as_ref());
        out
    }
}

struct Len32;

impl hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

fn hkdf32(ikm: &[u8], salt: &[u8], info: &[&[u8]]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    // Expanding 32 bytes from HKDF-SHA256 cannot fail (the limit is 255 * 32 bytes).
    if let Ok(okm) = prk.expand(info, Len32) {
        let _ = okm.fill(&mut out);
    }
    out
}

/// The key that wraps the CEK: HKDF-SHA256(bidder key, salt, label ‖ identity).
pub(crate) fn wrap_key(bidder: &BidderKey, salt: &[u8; 32], id: &BidIdentity) -> [u8; 32] {
    hkdf32(&bidder.0, salt, &[LABEL_WRAP, &id.bytes()])
}

/// HMAC-SHA256(CEK, label ‖ identity ‖ nonce prefix).
pub(crate) fn commitment(cek: &ContentKey, id: &BidIdentity, nonce_prefix: &[u8; 7]) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, &cek.0);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(LABEL_COMMIT);
    ctx.update(&id.bytes());
    ctx.update(nonce_prefix);
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.sign().as_ref());
    out
}

/// Checks a commitment in constant time.
pub(crate) fn verify_commitment(cek: &ContentKey, h: &Header) -> bool {
    let key = hmac::Key::new(hmac::HMAC_SHA256, &cek.0);
    let mut msg = Vec::with_capacity(LABEL_COMMIT.len() + 64 + 7);
    msg.extend_from_slice(LABEL_COMMIT);
    msg.extend_from_slice(&h.identity.bytes());
    msg.extend_from_slice(&h.nonce_prefix);
    hmac::verify(&key, &msg, &h.commitment).is_ok()
}

/// The payload key: HKDF-SHA256(CEK, header digest, label).
pub(crate) fn payload_key(cek: &ContentKey, header_digest: &[u8; 32]) -> aead::LessSafeKey {
    let k = hkdf32(&cek.0, header_digest, &[LABEL_PAYLOAD]);
    // A 32-byte key is always a valid AES-256 key.
    aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_256_GCM, &k).unwrap_or_else(|_| unreachable!()))
}

/// The nonce of chunk `counter`: prefix (7) ‖ counter (4, big-endian) ‖ last flag (1).
pub(crate) fn chunk_nonce(prefix: &[u8; 7], counter: u32, last: bool) -> aead::Nonce {
    let mut n = [0u8; 12];
    n[..7].copy_from_slice(prefix);
    n[7..11].copy_from_slice(&counter.to_be_bytes());
    n[11] = u8::from(last);
    aead::Nonce::assume_unique_for_key(n)
}

/// The AES-256-GCM key that wraps the CEK.
pub(crate) fn wrap_aead(bidder: &BidderKey, salt: &[u8; 32], id: &BidIdentity) -> aead::LessSafeKey {
    let k = wrap_key(bidder, salt, id);
    aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_256_GCM, &k).unwrap_or_else(|_| unreachable!()))
}
