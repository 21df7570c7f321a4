//! Envelope throughput as a ratio to raw AES-256-GCM (ring) over the same data, same run.
//!
//! `cargo bench --bench envelope` — seals and opens a 256 MiB payload in memory with 1 MiB
//! chunks, and encrypts / decrypts the same bytes with one AES-256-GCM key in 1 MiB pieces as
//! the baseline. Each measurement is the median of 7 runs. Goal: ratio ≥ 0.8.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use std::time::{Duration, Instant};
use tenderhall::envelope::{self, BidIdentity, BidderKey};
use uuid::Uuid;

/// The payload size: 256 MiB, or `TENDERHALL_ENVELOPE_MIB` (CI's short run uses a few).
fn size() -> usize {
    std::env::var("TENDERHALL_ENVELOPE_MIB").ok().and_then(|v| v.parse::<usize>().ok()).unwrap_or(256).max(1) << 20
}
const CHUNK: usize = 1 << 20;
/// Runs per measurement: 7, or `TENDERHALL_ENVELOPE_RUNS`.
fn runs() -> usize {
    std::env::var("TENDERHALL_ENVELOPE_RUNS").ok().and_then(|v| v.parse::<usize>().ok()).unwrap_or(7).max(1)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn mib_per_s(d: Duration) -> f64 {
    (size() as f64 / (1 << 20) as f64) / d.as_secs_f64()
}

/// Discards what is written, like a fast disk that is not measured here.
struct Sink;

impl std::io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        std::hint::black_box(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn main() {
    let payload: Vec<u8> = (0..size()).map(|i| (i % 251) as u8).collect();
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).expect("key"));
    let id = BidIdentity { tender: Uuid::new_v4(), lot: Uuid::new_v4(), bidder: Uuid::new_v4(), bid: Uuid::new_v4() };
    let bidder = BidderKey([42; 32]);

    // Baseline: the same bytes in 1 MiB pieces, copied into a buffer (as a reader would) and
    // sealed or opened in place with one key; no hashing, no framing.
    let mut raw_seal = Vec::new();
    let mut raw_open = Vec::new();
    let mut buf = vec![0u8; CHUNK + 16];
    let nonce = |i: usize| {
        let mut n = [0u8; 12];
        n[4..].copy_from_slice(&(i as u64).to_be_bytes());
        Nonce::assume_unique_for_key(n)
    };
    let ciphertext: Vec<Vec<u8>> = payload
        .chunks(CHUNK)
        .enumerate()
        .map(|(i, piece)| {
            let mut v = piece.to_vec();
            key.seal_in_place_append_tag(nonce(i), Aad::empty(), &mut v).expect("seal");
            v
        })
        .collect();
    for _ in 0..runs() {
        let t = Instant::now();
        for (i, piece) in payload.chunks(CHUNK).enumerate() {
            buf[..piece.len()].copy_from_slice(piece);
            let tag = key.seal_in_place_separate_tag(nonce(i), Aad::empty(), &mut buf[..piece.len()]).expect("seal");
            let _ = std::hint::black_box(tag);
        }
        raw_seal.push(t.elapsed());
        let t = Instant::now();
        for (i, piece) in ciphertext.iter().enumerate() {
            buf[..piece.len()].copy_from_slice(piece);
            let plain = key.open_in_place(nonce(i), Aad::empty(), &mut buf[..piece.len()]).expect("open");
            std::hint::black_box(plain);
        }
        raw_open.push(t.elapsed());
    }

    let mut env_seal = Vec::new();
    let mut env_open = Vec::new();
    let mut envelope_bytes = Vec::with_capacity(size() + size() / CHUNK * 16 + 256);
    for _ in 0..runs() {
        envelope_bytes.clear();
        let t = Instant::now();
        let sealed = envelope::seal(&bidder, &id, payload.as_slice(), &mut envelope_bytes).expect("seal");
        env_seal.push(t.elapsed());
        let t = Instant::now();
        let opened = envelope::open(&sealed.cek, &id, envelope_bytes.as_slice(), Sink).expect("open");
        env_open.push(t.elapsed());
        assert_eq!(opened.plaintext_len as usize, size());
    }

    // Sealing must also hash the whole envelope (the bidder signs its SHA-256); the cost of that
    // alone, for reference.
    let mut sha = Vec::new();
    for _ in 0..runs() {
        let t = Instant::now();
        std::hint::black_box(ring::digest::digest(&ring::digest::SHA256, &payload));
        sha.push(t.elapsed());
    }
    let (rs, ro, es, eo) = (median(raw_seal), median(raw_open), median(env_seal), median(env_open));
    let hs = median(sha);
    println!("payload {} MiB, chunks {} KiB, median of {} runs", size() >> 20, CHUNK >> 10, runs());
    println!("raw AES-256-GCM encrypt  {:>8.0} MiB/s", mib_per_s(rs));
    println!(
        "envelope seal            {:>8.0} MiB/s   ratio {:.2}",
        mib_per_s(es),
        rs.as_secs_f64() / es.as_secs_f64()
    );
    println!("SHA-256 alone            {:>8.0} MiB/s", mib_per_s(hs));
    println!(
        "envelope seal vs raw AES-256-GCM + SHA-256 done one after the other: ratio {:.2}",
        (rs + hs).as_secs_f64() / es.as_secs_f64()
    );
    println!("raw AES-256-GCM decrypt  {:>8.0} MiB/s", mib_per_s(ro));
    println!(
        "envelope open            {:>8.0} MiB/s   ratio {:.2}",
        mib_per_s(eo),
        ro.as_secs_f64() / eo.as_secs_f64()
    );
}
