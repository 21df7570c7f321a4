//! Opening: given the released content key, check the commitment, then decrypt and verify the
//! envelope as a stream, with a precise reason on failure.

use super::{
    BidderKey, ContentKey,
    format::{self, BidIdentity, HEADER_LEN, Header, LABEL_WRAP, MAGIC, TAG_LEN},
    seal::read_full,
};
use ring::aead::{Aad, Nonce};
use std::io::{self, BufRead, BufReader, Read, Write};

/// Why an envelope did not open.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The data does not start like an envelope.
    #[error("not a Tenderhall envelope")]
    NotAnEnvelope,
    /// A version or algorithm suite this code does not know.
    #[error("unsupported envelope version {0} / suite {1}")]
    UnsupportedVersion(u8, u8),
    /// The header is malformed.
    #[error("malformed envelope header: {0}")]
    MalformedHeader(&'static str),
    /// The envelope names another tender, lot, bidder or bid than expected.
    #[error("the envelope belongs to another {0}")]
    WrongBid(&'static str),
    /// The bidder key does not unwrap the content key.
    #[error("the bidder key does not open this envelope (wrong key file)")]
    WrongBidderKey,
    /// The released key does not match the envelope's key commitment.
    #[error("the released key does not match the envelope's key commitment (wrong key or forged envelope)")]
    KeyCommitmentMismatch,
    /// A chunk failed authentication: altered, reordered, moved from another envelope, cut in
    /// the middle, or followed by bytes that do not belong to the envelope.
    #[error("chunk {0} is corrupted, reordered or foreign")]
    CorruptedChunk(u32),
    /// The envelope ends at a chunk boundary before its last chunk, or inside its header.
    #[error("the envelope is truncated")]
    Truncated,
    /// Reading or writing failed.
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
}

impl OpenError {
    /// A stable code for the reason, for records and APIs.
    pub fn code(&self) -> &'static str {
        match self {
            OpenError::NotAnEnvelope => "not_an_envelope",
            OpenError::UnsupportedVersion(..) => "unsupported_version",
            OpenError::MalformedHeader(_) => "malformed_header",
            OpenError::WrongBid(_) => "wrong_bid",
            OpenError::WrongBidderKey => "wrong_bidder_key",
            OpenError::KeyCommitmentMismatch => "key_commitment_mismatch",
            OpenError::CorruptedChunk(_) => "corrupted_chunk",
            OpenError::Truncated => "truncated",
            OpenError::Io(_) => "io",
        }
    }
}

/// What opening produced.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The header.
    pub header: Header,
    /// Plaintext bytes written.
    pub plaintext_len: u64,
    /// Chunks read.
    pub chunks: u32,
}

fn read_header(r: &mut impl Read) -> Result<(Header, Vec<u8>), OpenError> {
    let mut b = vec![0u8; MAGIC.len() + HEADER_LEN];
    let n = read_full(r, &mut b)?;
    if n < 8 || &b[..8] != MAGIC {
        return Err(if n < 8 { OpenError::Truncated } else { OpenError::NotAnEnvelope });
    }
    if n < b.len() {
        return Err(OpenError::Truncated);
    }
    Ok((Header::parse(&b)?, b))
}

/// The bidder's side: recovers the content key from the header with the bidder key, and checks
/// it against the commitment (so a bidder cannot be handed a key that opens something else).
pub fn unwrap_content_key(bidder: &BidderKey, header: &Header) -> Result<ContentKey, OpenError> {
    let mut buf = header.wrapped_cek.to_vec();
    let plain = format::wrap_aead(bidder, &header.wrap_salt, &header.identity)
        .open_in_place(Nonce::assume_unique_for_key([0; 12]), Aad::from(LABEL_WRAP), &mut buf)
        .map_err(|_| OpenError::WrongBidderKey)?;
    let mut cek = ContentKey([0; 32]);
    cek.0.copy_from_slice(plain);
    if !format::verify_commitment(&cek, header) {
        return Err(OpenError::KeyCommitmentMismatch);
    }
    Ok(cek)
}

/// Opens an envelope read from `input` with the released `cek`, writing the plaintext to `out`.
///
/// Checks, in order: the format, that the envelope belongs to `expected`, the key commitment
/// (before decrypting anything), then every chunk's authentication, the last-chunk flag and the
/// end of input. Plaintext is written chunk by chunk as each is verified; on error the caller
/// must discard what was written. The envelope's SHA-256 is not recomputed here: it was taken
/// when the envelope was received (and names the stored blob), and hashing again would cost
/// more than the decryption itself on processors without SHA extensions.
pub fn open(
    cek: &ContentKey,
    expected: &BidIdentity,
    input: impl Read,
    mut out: impl Write,
) -> Result<Opened, OpenError> {
    let mut r = BufReader::with_capacity(1 << 16, input);
    let (header, _) = read_header(&mut r)?;
    let id = &header.identity;
    for (name, a, b) in [
        ("tender", id.tender, expected.tender),
        ("lot", id.lot, expected.lot),
        ("bidder", id.bidder, expected.bidder),
        ("bid", id.bid, expected.bid),
    ] {
        if a != b {
            return Err(OpenError::WrongBid(name));
        }
    }
    if !format::verify_commitment(cek, &header) {
        return Err(OpenError::KeyCommitmentMismatch);
    }
    let hd = header.digest();
    let key = format::payload_key(cek, &hd);
    let full = header.chunk_size as usize + TAG_LEN;
    let mut buf = vec![0u8; full];
    let mut counter: u32 = 0;
    let mut plaintext_len = 0u64;
    loop {
        let n = read_full(&mut r, &mut buf)?;
        if n < TAG_LEN {
            return Err(OpenError::Truncated);
        }
        // A short chunk is the last one; a full one is last only if nothing follows it.
        let last = n < full || r.fill_buf()?.is_empty();
        // The final chunk is kept aside: if it does not open as the last one but opens as an
        // inner one, chunks after it were cut off, and the reason given is "truncated".
        let kept = if last && n == full { Some(buf[..n].to_vec()) } else { None };
        let nonce = format::chunk_nonce(&header.nonce_prefix, counter, last);
        let plain = match key.open_in_place(nonce, Aad::from(&hd), &mut buf[..n]) {
            Ok(p) => p,
            Err(_) => {
                if let Some(mut copy) = kept {
                    let inner = format::chunk_nonce(&header.nonce_prefix, counter, false);
                    if key.open_in_place(inner, Aad::from(&hd), &mut copy).is_ok() {
                        return Err(OpenError::Truncated);
                    }
                }
                return Err(OpenError::CorruptedChunk(counter));
            }
        };
        out.write_all(plain)?;
        plaintext_len += plain.len() as u64;
        counter += 1;
        if last {
            break;
        }
    }
    out.flush()?;
    Ok(Opened { header, plaintext_len, chunks: counter })
}
