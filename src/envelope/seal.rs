//! Sealing: payload in, envelope out, streaming in chunks.

use super::{
    BidderKey, ContentKey,
    format::{self, BidIdentity, CHUNK_SIZE_RANGE, Header, LABEL_WRAP, TAG_LEN},
};
use ring::{
    aead::{Aad, Nonce},
    digest,
    rand::{SecureRandom, SystemRandom},
};
use std::io::{self, Read, Write};

/// The random values of one sealing; fixed only by test vectors.
#[derive(Debug, Clone)]
pub struct SealParams {
    /// The content key.
    pub cek: ContentKey,
    /// The key-wrap salt.
    pub wrap_salt: [u8; 32],
    /// The nonce prefix.
    pub nonce_prefix: [u8; 7],
    /// Plaintext bytes per chunk.
    pub chunk_size: u32,
}

impl SealParams {
    /// Fresh random values and the default chunk size.
    pub fn random() -> io::Result<Self> {
        let rng = SystemRandom::new();
        let mut p = SealParams {
            cek: ContentKey([0; 32]),
            wrap_salt: [0; 32],
            nonce_prefix: [0; 7],
            chunk_size: format::CHUNK_SIZE_DEFAULT,
        };
        let fill = |b: &mut [u8]| rng.fill(b).map_err(|_| io::Error::other("system random number generator failed"));
        fill(&mut p.cek.0)?;
        fill(&mut p.wrap_salt)?;
        fill(&mut p.nonce_prefix)?;
        Ok(p)
    }
}

/// Label of [`SealParams::derived`].
const LABEL_PARAMS: &[u8] = b"tenderhall envelope v1 derived seal parameters";

struct Len71;

impl ring::hkdf::KeyType for Len71 {
    fn len(&self) -> usize {
        71
    }
}

impl SealParams {
    /// Values derived from the bidder key and the bid instead of drawn at random
    /// (docs/envelope.md, "Derived parameters"): HKDF-SHA256(bidder key, salt = identity,
    /// info = label) gives 71 bytes, the content key ‖ wrap salt ‖ nonce prefix. Sealing the same
    /// payload for the same bid again then gives the same envelope, which lets an interrupted
    /// upload resume after the sealer lost its state; the browser seals this way.
    pub fn derived(bidder: &BidderKey, id: &BidIdentity) -> Self {
        let mut bytes = [0u8; 71];
        let prk = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, &id.bytes()).extract(&bidder.0);
        // 71 bytes are far below HKDF-SHA256's limit of 255 * 32: expanding cannot fail.
        if let Ok(okm) = prk.expand(&[LABEL_PARAMS], Len71) {
            let _ = okm.fill(&mut bytes);
        }
        let mut p = SealParams {
            cek: ContentKey([0; 32]),
            wrap_salt: [0; 32],
            nonce_prefix: [0; 7],
            chunk_size: format::CHUNK_SIZE_DEFAULT,
        };
        p.cek.0.copy_from_slice(&bytes[..32]);
        p.wrap_salt.copy_from_slice(&bytes[32..64]);
        p.nonce_prefix.copy_from_slice(&bytes[64..]);
        p
    }
}

/// What sealing produced.
#[derive(Debug, Clone)]
pub struct Sealed {
    /// The header written.
    pub header: Header,
    /// SHA-256 of the whole envelope.
    pub digest: [u8; 32],
    /// Bytes written.
    pub size: u64,
    /// The content key (the bidder releases it at the opening).
    pub cek: ContentKey,
}

struct Counting<W: Write> {
    inner: W,
    ctx: digest::Context,
    size: u64,
}

impl<W: Write> Counting<W> {
    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.inner.write_all(b)?;
        self.ctx.update(b);
        self.size += b.len() as u64;
        Ok(())
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
pub(crate) fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Seals `payload` for `id` with fresh random values.
pub fn seal(bidder: &BidderKey, id: &BidIdentity, payload: impl Read, out: impl Write) -> io::Result<Sealed> {
    seal_with(bidder, id, SealParams::random()?, payload, out)
}

/// Seals with the given values (test vectors).
pub fn seal_with(
    bidder: &BidderKey,
    id: &BidIdentity,
    params: SealParams,
    mut payload: impl Read,
    out: impl Write,
) -> io::Result<Sealed> {
    if !CHUNK_SIZE_RANGE.contains(&params.chunk_size) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "chunk size out of range"));
    }
    let mut wrapped = [0u8; 48];
    wrapped[..32].copy_from_slice(&params.cek.0);
    let mut buf = params.cek.0.to_vec();
    let tag = format::wrap_aead(bidder, &params.wrap_salt, id)
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key([0; 12]), Aad::from(LABEL_WRAP), &mut buf)
        .map_err(|_| io::Error::other("key wrap failed"))?;
    wrapped[..32].copy_from_slice(&buf);
    wrapped[32..].copy_from_slice(tag.as_ref());
    let header = Header {
        chunk_size: params.chunk_size,
        identity: *id,
        wrap_salt: params.wrap_salt,
        wrapped_cek: wrapped,
        commitment: format::commitment(&params.cek, id, &params.nonce_prefix),
        nonce_prefix: params.nonce_prefix,
    };
    let hd = header.digest();
    let key = format::payload_key(&params.cek, &hd);
    let mut w = Counting { inner: out, ctx: digest::Context::new(&digest::SHA256), size: 0 };
    w.put(&header.to_bytes())?;

    let cs = params.chunk_size as usize;
    // Two buffers: the current chunk and the next, so the last chunk is known when sealed.
    let mut cur = vec![0u8; cs + TAG_LEN];
    let mut next = vec![0u8; cs + TAG_LEN];
    let mut cur_len = read_full(&mut payload, &mut cur[..cs])?;
    let mut counter: u32 = 0;
    loop {
        let next_len = if cur_len == cs { read_full(&mut payload, &mut next[..cs])? } else { 0 };
        let last = next_len == 0;
        let nonce = format::chunk_nonce(&header.nonce_prefix, counter, last);
        let tag = key
            .seal_in_place_separate_tag(nonce, Aad::from(&hd), &mut cur[..cur_len])
            .map_err(|_| io::Error::other("chunk encryption failed"))?;
        cur[cur_len..cur_len + TAG_LEN].copy_from_slice(tag.as_ref());
        w.put(&cur[..cur_len + TAG_LEN])?;
        if last {
            break;
        }
        counter = counter.checked_add(1).ok_or_else(|| io::Error::other("payload too large for one envelope"))?;
        std::mem::swap(&mut cur, &mut next);
        cur_len = next_len;
    }
    w.inner.flush()?;
    let mut d = [0u8; 32];
    d.copy_from_slice(w.ctx.finish().as_ref());
    Ok(Sealed { header, digest: d, size: w.size, cek: params.cek })
}
