//! The envelope's properties, each shown failing when attacked.

use super::*;
use uuid::Uuid;

fn id() -> BidIdentity {
    BidIdentity {
        tender: Uuid::from_u128(0x1111),
        lot: Uuid::from_u128(0x2222),
        bidder: Uuid::from_u128(0x3333),
        bid: Uuid::from_u128(0x4444),
    }
}

fn params(chunk: u32) -> SealParams {
    SealParams { cek: ContentKey([7; 32]), wrap_salt: [9; 32], nonce_prefix: [1, 2, 3, 4, 5, 6, 7], chunk_size: chunk }
}

const BIDDER: BidderKey = BidderKey([42; 32]);

fn sealed(payload: &[u8], chunk: u32) -> (Vec<u8>, Sealed) {
    let mut out = Vec::new();
    let s = seal_with(&BIDDER, &id(), params(chunk), payload, &mut out).expect("seal");
    (out, s)
}

fn open_vec(env: &[u8], cek: &ContentKey, expected: &BidIdentity) -> Result<Vec<u8>, OpenError> {
    let mut out = Vec::new();
    open(cek, expected, env, &mut out).map(|_| out)
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

const HDR: usize = 8 + super::format::HEADER_LEN;

#[test]
fn opens_what_was_sealed_whatever_its_length() {
    for n in [0, 1, 63, 64, 65, 128, 1000] {
        let data = payload(n);
        let (env, s) = sealed(&data, 64);
        assert_eq!(s.size as usize, env.len());
        let chunks = n.div_ceil(64).max(1);
        assert_eq!(env.len(), HDR + n + 16 * chunks, "length for {n}");
        let mut out = Vec::new();
        let o = open(&s.cek, &id(), env.as_slice(), &mut out).expect("open");
        assert_eq!(out, data, "payload of {n} bytes");
        assert_eq!(o.plaintext_len as usize, n);
        assert_eq!(
            s.digest.as_slice(),
            ring::digest::digest(&ring::digest::SHA256, &env).as_ref(),
            "digest taken while sealing"
        );
    }
}

#[test]
fn the_bidder_key_unwraps_the_content_key_and_no_other_key_does() {
    let (env, s) = sealed(b"price 100", 64);
    let h = Header::parse(&env).expect("header");
    assert_eq!(unwrap_content_key(&BIDDER, &h).expect("unwrap"), s.cek);
    assert!(matches!(unwrap_content_key(&BidderKey([43; 32]), &h), Err(OpenError::WrongBidderKey)));
    // The wrap is bound to the bid: the same key material under another identity does not unwrap.
    let mut moved = h.clone();
    moved.identity.tender = Uuid::from_u128(0x9999);
    assert!(matches!(unwrap_content_key(&BIDDER, &moved), Err(OpenError::WrongBidderKey)));
}

#[test]
fn a_flipped_byte_anywhere_is_detected() {
    let data = payload(200);
    let (env, s) = sealed(&data, 64);
    for pos in (HDR..env.len()).step_by(7) {
        let mut bad = env.clone();
        bad[pos] ^= 0x01;
        let chunk = ((pos - HDR) / 80) as u32;
        match open_vec(&bad, &s.cek, &id()) {
            Err(OpenError::CorruptedChunk(c)) => assert_eq!(c, chunk, "byte {pos}"),
            other => panic!("byte {pos}: {other:?}"),
        }
    }
    // In the header: the identity, the commitment, the nonce prefix, the salt.
    for (pos, want) in
        [(14, "wrong_bid"), (160, "key_commitment_mismatch"), (192, "key_commitment_mismatch"), (80, "corrupted_chunk")]
    {
        let mut bad = env.clone();
        bad[pos] ^= 0x80;
        let err = open_vec(&bad, &s.cek, &id()).expect_err("must fail");
        assert_eq!(err.code(), want, "header byte {pos}");
    }
}

#[test]
fn truncation_is_detected() {
    let data = payload(200);
    let (env, s) = sealed(&data, 64);
    // At a chunk boundary: the classic attack on naive chunking.
    for chunks in 1..=3 {
        let cut = &env[..HDR + chunks * 80];
        assert!(matches!(open_vec(cut, &s.cek, &id()), Err(OpenError::Truncated)), "{chunks} chunks kept");
    }
    assert!(matches!(open_vec(&env[..HDR], &s.cek, &id()), Err(OpenError::Truncated)));
    assert!(matches!(open_vec(&env[..100], &s.cek, &id()), Err(OpenError::Truncated)));
    assert!(matches!(open_vec(&env[..env.len() - 5], &s.cek, &id()), Err(OpenError::CorruptedChunk(3))));
    let mut longer = env.clone();
    longer.extend_from_slice(b"appended");
    assert!(open_vec(&longer, &s.cek, &id()).is_err(), "appended bytes");
}

#[test]
fn swapped_or_reordered_chunks_are_detected() {
    let data = payload(256);
    let (env, s) = sealed(&data, 64);
    let mut swapped = env.clone();
    let (a, b) = (HDR, HDR + 80);
    let first: Vec<u8> = env[a..a + 80].to_vec();
    swapped[a..a + 80].copy_from_slice(&env[b..b + 80]);
    swapped[b..b + 80].copy_from_slice(&first);
    assert!(matches!(open_vec(&swapped, &s.cek, &id()), Err(OpenError::CorruptedChunk(0))));
    // A chunk from another envelope of the same bidder and key does not fit either.
    let mut other_params = params(64);
    other_params.nonce_prefix = [9; 7];
    let mut other = Vec::new();
    seal_with(&BIDDER, &id(), other_params, data.as_slice(), &mut other).expect("seal");
    let mut mixed = env.clone();
    mixed[HDR + 80..HDR + 160].copy_from_slice(&other[HDR + 80..HDR + 160]);
    assert!(matches!(open_vec(&mixed, &s.cek, &id()), Err(OpenError::CorruptedChunk(1))));
}

#[test]
fn an_envelope_moved_to_another_tender_lot_or_bidder_does_not_open_there() {
    let (env, s) = sealed(b"total_price=1000000", 64);
    for (field, expected) in [
        ("tender", BidIdentity { tender: Uuid::from_u128(1), ..id() }),
        ("lot", BidIdentity { lot: Uuid::from_u128(1), ..id() }),
        ("bidder", BidIdentity { bidder: Uuid::from_u128(1), ..id() }),
        ("bid", BidIdentity { bid: Uuid::from_u128(1), ..id() }),
    ] {
        match open_vec(&env, &s.cek, &expected) {
            Err(OpenError::WrongBid(f)) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    // Rewriting the header to claim the other tender breaks the commitment.
    let other = BidIdentity { tender: Uuid::from_u128(1), ..id() };
    let mut rewritten = env.clone();
    rewritten[14..30].copy_from_slice(other.tender.as_bytes());
    assert!(matches!(open_vec(&rewritten, &s.cek, &other), Err(OpenError::KeyCommitmentMismatch)));
}

#[test]
fn a_wrong_key_is_refused_before_anything_is_decrypted() {
    let (env, _) = sealed(b"secret price", 64);
    let mut out = Vec::new();
    let err = open(&ContentKey([8; 32]), &id(), env.as_slice(), &mut out).expect_err("wrong key");
    assert!(matches!(err, OpenError::KeyCommitmentMismatch));
    assert!(out.is_empty(), "nothing written");
}

#[test]
fn an_envelope_built_to_open_under_a_second_key_is_refused() {
    // A dishonest bidder keeps the header committed to key 1 but encrypts the payload under
    // key 2, hoping to choose at the opening which key (and which price) to release. The
    // commitment admits key 1 only, and under key 1 the payload does not decrypt.
    let k1 = ContentKey([1; 32]);
    let k2 = ContentKey([2; 32]);
    let mut p1 = params(64);
    p1.cek = k1.clone();
    let mut honest = Vec::new();
    seal_with(&BIDDER, &id(), p1, &b"price 900"[..], &mut honest).expect("seal");
    let mut p2 = params(64);
    p2.cek = k2.clone();
    let mut other = Vec::new();
    seal_with(&BIDDER, &id(), p2, &b"price 100"[..], &mut other).expect("seal");
    let mut forged = honest[..HDR].to_vec();
    forged.extend_from_slice(&other[HDR..]);
    assert!(matches!(open_vec(&forged, &k2, &id()), Err(OpenError::KeyCommitmentMismatch)));
    assert!(matches!(open_vec(&forged, &k1, &id()), Err(OpenError::CorruptedChunk(0))));
}

#[test]
fn not_an_envelope_and_unknown_versions_are_named() {
    let (env, s) = sealed(b"x", 64);
    assert!(matches!(open_vec(b"%PDF-1.7 hello", &s.cek, &id()), Err(OpenError::NotAnEnvelope)));
    let mut v2 = env.clone();
    v2[8] = 2;
    assert!(matches!(open_vec(&v2, &s.cek, &id()), Err(OpenError::UnsupportedVersion(2, 1))));
    let mut huge = env.clone();
    huge[10..14].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(open_vec(&huge, &s.cek, &id()), Err(OpenError::MalformedHeader(_))));
}

/// The test vectors pin the format: the same inputs must give the same bytes in every
/// implementation (this one and the browser's).
#[test]
fn test_vectors_pin_the_format() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/envelope-v1.json");
    let mut cases = Vec::new();
    for (name, n, chunk) in
        [("empty", 0usize, 64u32), ("one-chunk", 50, 64), ("exact-chunks", 128, 64), ("three-chunks", 150, 64)]
    {
        let data = payload(n);
        let (env, s) = sealed(&data, chunk);
        cases.push(serde_json::json!({
            "name": name,
            "bidder_key": hex::encode(BIDDER.0),
            "cek": hex::encode(params(chunk).cek.0),
            "wrap_salt": hex::encode(params(chunk).wrap_salt),
            "nonce_prefix": hex::encode(params(chunk).nonce_prefix),
            "chunk_size": chunk,
            "tender": id().tender, "lot": id().lot, "bidder": id().bidder, "bid": id().bid,
            "payload": hex::encode(&data),
            "envelope": hex::encode(&env),
            "sha256": hex::encode(s.digest),
        }));
    }
    let doc = serde_json::json!({ "format": "tenderhall envelope v1", "cases": cases });
    if std::env::var_os("TENDERHALL_WRITE_VECTORS").is_some() {
        std::fs::write(path, serde_json::to_string_pretty(&doc).expect("json") + "\n").expect("write vectors");
    }
    let pinned: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("vectors file")).expect("json");
    assert_eq!(pinned, doc, "the envelope format changed; a new format needs a new version");
    // And every pinned envelope opens to its payload.
    for c in pinned["cases"].as_array().expect("cases") {
        let env = hex::decode(c["envelope"].as_str().expect("hex")).expect("hex");
        let h = Header::parse(&env).expect("header");
        let cek = unwrap_content_key(&BIDDER, &h).expect("unwrap");
        assert_eq!(hex::encode(open_vec(&env, &cek, &id()).expect("open")), c["payload"].as_str().expect("payload"));
    }
}
