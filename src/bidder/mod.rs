//! The bidder's side, for `tenderhall bidder`: key files, sealing and signing, recovering the
//! content key to release at the opening. Implements the same format as the browser.
//!
//! A key file is JSON. Unprotected: `{"version":1,"bid_key":hex,"signing_pkcs8":base64,
//! "public_key":base64}`. Protected by a passphrase: `{"version":1,"kdf":"pbkdf2-sha256",
//! "iterations":n,"salt":hex,"nonce":hex,"sealed":base64}`, where `sealed` is the unprotected
//! JSON encrypted with AES-256-GCM under PBKDF2-HMAC-SHA256(passphrase, salt, n).

pub mod client;

use crate::envelope::{self, BidIdentity, BidderKey, ContentKey, Header};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use ring::{
    aead, pbkdf2,
    rand::{SecureRandom, SystemRandom},
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair},
};
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;

/// PBKDF2 iterations for new key files.
pub const PBKDF2_ITERATIONS: u32 = 600_000;

/// Errors of the bidder tool.
#[derive(Debug, thiserror::Error)]
pub enum BidderError {
    /// The key file could not be read.
    #[error("key file: {0}")]
    KeyFile(String),
    /// The passphrase does not open the key file.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// Sealing or opening failed.
    #[error("{0}")]
    Envelope(#[from] envelope::OpenError),
    /// I/O.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

#[derive(Serialize, Deserialize)]
struct Plain {
    version: u32,
    bid_key: String,
    signing_pkcs8: String,
    public_key: String,
}

#[derive(Serialize, Deserialize)]
struct Protected {
    version: u32,
    kdf: String,
    iterations: u32,
    salt: String,
    nonce: String,
    sealed: String,
}

/// A bidder's keys.
pub struct KeyFile {
    /// The secret bid key.
    pub bid_key: BidderKey,
    signing_pkcs8: Vec<u8>,
    /// The P-256 public key to register (65-byte point).
    pub public_key: Vec<u8>,
}

impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFile").field("public_key", &B64.encode(&self.public_key)).finish_non_exhaustive()
    }
}

fn random<const N: usize>() -> Result<[u8; N], BidderError> {
    let mut b = [0u8; N];
    SystemRandom::new().fill(&mut b).map_err(|_| BidderError::KeyFile("random number generator failed".into()))?;
    Ok(b)
}

fn pass_key(pass: &str, salt: &[u8], iterations: u32) -> aead::LessSafeKey {
    let mut k = [0u8; 32];
    let n = NonZeroU32::new(iterations.max(1)).unwrap_or(NonZeroU32::MIN);
    pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, n, salt, pass.as_bytes(), &mut k);
    aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_256_GCM, &k).unwrap_or_else(|_| unreachable!()))
}

impl KeyFile {
    /// New random keys.
    pub fn generate() -> Result<Self, BidderError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| BidderError::KeyFile("key generation failed".into()))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| BidderError::KeyFile("key generation failed".into()))?;
        Ok(Self {
            bid_key: BidderKey(random()?),
            signing_pkcs8: pkcs8.as_ref().to_vec(),
            public_key: pair.public_key().as_ref().to_vec(),
        })
    }

    /// The key file's JSON, protected when a passphrase is given.
    pub fn to_json(&self, passphrase: Option<&str>) -> Result<String, BidderError> {
        let plain = serde_json::to_string(&Plain {
            version: 1,
            bid_key: hex::encode(self.bid_key.0),
            signing_pkcs8: B64.encode(&self.signing_pkcs8),
            public_key: B64.encode(&self.public_key),
        })
        .map_err(|e| BidderError::KeyFile(e.to_string()))?;
        let Some(pass) = passphrase else { return Ok(plain) };
        let salt: [u8; 16] = random()?;
        let nonce: [u8; 12] = random()?;
        let mut buf = plain.into_bytes();
        pass_key(pass, &salt, PBKDF2_ITERATIONS)
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(b"tenderhall key file v1"),
                &mut buf,
            )
            .map_err(|_| BidderError::KeyFile("encryption failed".into()))?;
        serde_json::to_string(&Protected {
            version: 1,
            kdf: "pbkdf2-sha256".into(),
            iterations: PBKDF2_ITERATIONS,
            salt: hex::encode(salt),
            nonce: hex::encode(nonce),
            sealed: B64.encode(buf),
        })
        .map_err(|e| BidderError::KeyFile(e.to_string()))
    }

    /// Reads a key file, with the passphrase if it is protected.
    pub fn from_json(text: &str, passphrase: Option<&str>) -> Result<Self, BidderError> {
        let bad = |e: &dyn std::fmt::Display| BidderError::KeyFile(e.to_string());
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| bad(&e))?;
        let plain: Plain = if v.get("sealed").is_some() {
            let p: Protected = serde_json::from_value(v).map_err(|e| bad(&e))?;
            let pass = passphrase
                .ok_or_else(|| BidderError::KeyFile("the key file is protected; give its passphrase".into()))?;
            let salt = hex::decode(&p.salt).map_err(|e| bad(&e))?;
            let nonce: [u8; 12] =
                hex::decode(&p.nonce).map_err(|e| bad(&e))?.try_into().map_err(|_| bad(&"nonce length"))?;
            let mut buf = B64.decode(&p.sealed).map_err(|e| bad(&e))?;
            let opened = pass_key(pass, &salt, p.iterations)
                .open_in_place(
                    aead::Nonce::assume_unique_for_key(nonce),
                    aead::Aad::from(b"tenderhall key file v1"),
                    &mut buf,
                )
                .map_err(|_| BidderError::WrongPassphrase)?;
            serde_json::from_slice(opened).map_err(|e| bad(&e))?
        } else {
            serde_json::from_value(v).map_err(|e| bad(&e))?
        };
        let bid_key: [u8; 32] =
            hex::decode(&plain.bid_key).map_err(|e| bad(&e))?.try_into().map_err(|_| bad(&"bid key length"))?;
        let signing_pkcs8 = B64.decode(&plain.signing_pkcs8).map_err(|e| bad(&e))?;
        let public_key = B64.decode(&plain.public_key).map_err(|e| bad(&e))?;
        Ok(Self { bid_key: BidderKey(bid_key), signing_pkcs8, public_key })
    }

    /// The id the platform gives the signing key once registered (`keys::key_id` of the point).
    pub fn key_id(&self) -> String {
        crate::keys::key_id(&self.public_key)
    }

    /// Signs an envelope digest (ECDSA P-256, r‖s), base64.
    pub fn sign_digest(&self, digest: &[u8; 32]) -> Result<String, BidderError> {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &self.signing_pkcs8, &rng)
            .map_err(|_| BidderError::KeyFile("bad signing key".into()))?;
        let sig = pair.sign(&rng, digest).map_err(|_| BidderError::KeyFile("signing failed".into()))?;
        Ok(B64.encode(sig.as_ref()))
    }

    /// Seals `payload` for `id`; returns the envelope's SHA-256 and the signature over it.
    pub fn seal(
        &self,
        id: &BidIdentity,
        payload: impl std::io::Read,
        out: impl std::io::Write,
    ) -> Result<([u8; 32], String), BidderError> {
        let sealed = envelope::seal(&self.bid_key, id, payload, out)?;
        let sig = self.sign_digest(&sealed.digest)?;
        Ok((sealed.digest, sig))
    }

    /// The content key of an envelope, to release at the opening (checked against its commitment).
    pub fn content_key(&self, envelope_head: &[u8]) -> Result<ContentKey, BidderError> {
        let header = Header::parse(envelope_head)?;
        Ok(envelope::unwrap_content_key(&self.bid_key, &header)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn key_files_round_trip_with_and_without_a_passphrase() {
        let k = KeyFile::generate().unwrap();
        let plain = KeyFile::from_json(&k.to_json(None).unwrap(), None).unwrap();
        assert_eq!(plain.bid_key, k.bid_key);
        let protected = k.to_json(Some("open sesame")).unwrap();
        assert!(!protected.contains(&hex::encode(k.bid_key.0)), "the secret is not in the protected file");
        assert_eq!(KeyFile::from_json(&protected, Some("open sesame")).unwrap().public_key, k.public_key);
        assert!(matches!(KeyFile::from_json(&protected, Some("wrong")), Err(BidderError::WrongPassphrase)));
        assert!(matches!(KeyFile::from_json(&protected, None), Err(BidderError::KeyFile(_))));
        assert!(KeyFile::from_json("{not json", None).is_err());
    }

    #[test]
    fn seal_sign_and_release_the_content_key() {
        let k = KeyFile::generate().unwrap();
        let id =
            BidIdentity { tender: Uuid::new_v4(), lot: Uuid::new_v4(), bidder: Uuid::new_v4(), bid: Uuid::new_v4() };
        let mut env = Vec::new();
        let (digest, sig) = k.seal(&id, &b"total_price=1"[..], &mut env).unwrap();
        let public = ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &k.public_key);
        assert!(public.verify(&digest, &B64.decode(sig).unwrap()).is_ok());
        let cek = k.content_key(&env).unwrap();
        let mut out = Vec::new();
        envelope::open(&cek, &id, env.as_slice(), &mut out).unwrap();
        assert_eq!(out, b"total_price=1");
        let other = KeyFile::generate().unwrap();
        assert!(matches!(other.content_key(&env), Err(BidderError::Envelope(envelope::OpenError::WrongBidderKey))));
    }
}
