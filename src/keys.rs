//! The platform's own signing key (Ed25519, ring).
//!
//! Created at first start under `storage.key_dir` (directory mode 0700, key file 0600) and used
//! to sign audit checkpoints and bid receipts. Its public half is published at
//! `/.well-known/tenderhall/platform-key` so that anyone can check a signature offline.

use base64::{Engine, engine::general_purpose::STANDARD as B64};
use ring::{
    rand::SystemRandom,
    signature::{self, Ed25519KeyPair, KeyPair},
};
use std::{fs, io::Write, path::Path};

/// File name of the PKCS#8 key inside the key directory.
pub const KEY_FILE: &str = "platform-ed25519.pk8";
/// File name of the raw public key (hex) inside the key directory.
pub const PUBLIC_FILE: &str = "platform-ed25519.pub";

/// The platform's Ed25519 key pair.
pub struct PlatformKey {
    pair: Ed25519KeyPair,
    key_id: String,
}

impl std::fmt::Debug for PlatformKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformKey").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

/// A public key that verifies platform signatures.
#[derive(Debug, Clone)]
pub struct PublicKey {
    bytes: Vec<u8>,
    key_id: String,
}

/// Identifier of a public key: the first 16 hex digits of its SHA-256.
pub fn key_id(public: &[u8]) -> String {
    hex::encode(&ring::digest::digest(&ring::digest::SHA256, public).as_ref()[..8])
}

impl PlatformKey {
    /// Loads the key from `dir`, creating it (and the directory) if it does not exist.
    pub fn load_or_create(dir: &Path) -> std::io::Result<Self> {
        let path = dir.join(KEY_FILE);
        if !path.exists() {
            create_private_dir(dir)?;
            let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
                .map_err(|_| std::io::Error::other("key generation failed"))?;
            write_private(&path, doc.as_ref())?;
            let pair = Ed25519KeyPair::from_pkcs8(doc.as_ref()).map_err(|e| std::io::Error::other(e.to_string()))?;
            fs::write(dir.join(PUBLIC_FILE), hex::encode(pair.public_key().as_ref()))?;
            tracing::info!(path = %path.display(), "created the platform signing key");
        }
        let bytes = fs::read(&path)?;
        let pair = Ed25519KeyPair::from_pkcs8(&bytes)
            .map_err(|e| std::io::Error::other(format!("{}: not an Ed25519 PKCS#8 key: {e}", path.display())))?;
        let key_id = key_id(pair.public_key().as_ref());
        Ok(Self { pair, key_id })
    }

    /// Signs `msg`.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.pair.sign(msg).as_ref().to_vec()
    }

    /// The key's identifier.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey { bytes: self.pair.public_key().as_ref().to_vec(), key_id: self.key_id.clone() }
    }
}

impl PublicKey {
    /// From the 32 raw bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        let key_id = key_id(&bytes);
        Self { bytes, key_id }
    }

    /// Reads the public key of a key directory (from the public file, or from the private key).
    pub fn load(dir: &Path) -> std::io::Result<Self> {
        let pubfile = dir.join(PUBLIC_FILE);
        if pubfile.exists() {
            let text = fs::read_to_string(&pubfile)?;
            let bytes =
                hex::decode(text.trim()).map_err(|e| std::io::Error::other(format!("{}: {e}", pubfile.display())))?;
            return Ok(Self::from_bytes(bytes));
        }
        Ok(PlatformKey::load_or_create_readonly(dir)?.public())
    }

    /// Checks an Ed25519 signature.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        signature::UnparsedPublicKey::new(&signature::ED25519, &self.bytes).verify(msg, sig).is_ok()
    }

    /// The key's identifier.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The raw 32 bytes, base64.
    pub fn base64(&self) -> String {
        B64.encode(&self.bytes)
    }

    /// The raw 32 bytes, hex.
    pub fn hex(&self) -> String {
        hex::encode(&self.bytes)
    }
}

impl PlatformKey {
    fn load_or_create_readonly(dir: &Path) -> std::io::Result<Self> {
        let path = dir.join(KEY_FILE);
        if !path.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no platform key in {}", dir.display()),
            ));
        }
        Self::load_or_create(dir)
    }
}

/// Creates a directory only its owner can enter.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Writes a file only its owner can read, refusing to overwrite.
pub fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// Reads the secret in `dir/file`, first creating it (32 random bytes, a private file) if it
/// does not exist; another process starting at the same moment may create it first, and then
/// its secret is the one read.
fn secret_32(dir: &Path, file: &str) -> std::io::Result<(std::path::PathBuf, Vec<u8>)> {
    use ring::rand::SecureRandom;
    let path = dir.join(file);
    if !path.exists() {
        create_private_dir(dir)?;
        let mut k = [0u8; 32];
        SystemRandom::new().fill(&mut k).map_err(|_| std::io::Error::other("key generation failed"))?;
        match write_private(&path, &k) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            other => other?,
        }
    }
    let bytes = fs::read(&path)?;
    Ok((path, bytes))
}

/// File name of the vault key in the key directory.
const VAULT_FILE: &str = "vault.key";

/// The platform's vault key (AES-256-GCM): seals what the platform must keep but nobody may read
/// from the database alone, such as content keys released at an opening before the prices are
/// read out. It lives in the key directory, beside the signing key, never in the database.
pub struct VaultKey(ring::aead::LessSafeKey);

impl std::fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultKey(..)")
    }
}

impl VaultKey {
    /// Loads the vault key from `dir`, creating it if it does not exist.
    pub fn load_or_create(dir: &Path) -> std::io::Result<Self> {
        let (path, bytes) = secret_32(dir, VAULT_FILE)?;
        let key = ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &bytes)
            .map_err(|_| std::io::Error::other(format!("{}: not a 32-byte key", path.display())))?;
        Ok(Self(ring::aead::LessSafeKey::new(key)))
    }

    /// Seals `plain`, bound to `context` (what it is and whose): base64 of nonce ‖ ciphertext.
    pub fn seal(&self, context: &str, plain: &[u8]) -> String {
        use ring::rand::SecureRandom;
        let mut nonce = [0u8; 12];
        // The system's random number generator does not fail on supported platforms; a zero
        // nonce would still be unique per context for the single value each context seals.
        let _ = SystemRandom::new().fill(&mut nonce);
        let mut buf = plain.to_vec();
        let _ = self.0.seal_in_place_append_tag(
            ring::aead::Nonce::assume_unique_for_key(nonce),
            ring::aead::Aad::from(context.as_bytes()),
            &mut buf,
        );
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        B64.encode(out)
    }

    /// Opens what [`VaultKey::seal`] sealed for the same `context`.
    pub fn open(&self, context: &str, sealed: &str) -> Option<Vec<u8>> {
        let mut bytes = B64.decode(sealed).ok()?;
        if bytes.len() < 12 + 16 {
            return None;
        }
        let mut rest = bytes.split_off(12);
        let nonce = ring::aead::Nonce::try_assume_unique_for_key(&bytes).ok()?;
        let plain = self.0.open_in_place(nonce, ring::aead::Aad::from(context.as_bytes()), &mut rest).ok()?;
        Some(plain.to_vec())
    }
}

/// File name of the CSRF key in the key directory.
const CSRF_FILE: &str = "csrf.key";

/// The key (HMAC-SHA256) under which the platform makes CSRF tokens bound to a session or a
/// visitor (`web::csrf`). Created in the key directory at first start and shared by the server
/// processes that share it. Losing it costs nothing but the tokens of open pages.
pub struct CsrfKey(ring::hmac::Key);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(..)")
    }
}

impl CsrfKey {
    /// Loads the CSRF key from `dir`, creating it if it does not exist (another process starting
    /// at the same moment may create it first; then its key is used).
    pub fn load_or_create(dir: &Path) -> std::io::Result<Self> {
        let (path, bytes) = secret_32(dir, CSRF_FILE)?;
        if bytes.len() != 32 {
            return Err(std::io::Error::other(format!("{}: not a 32-byte key", path.display())));
        }
        Ok(Self(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &bytes)))
    }

    /// The MAC of `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        ring::hmac::sign(&self.0, message).as_ref().to_vec()
    }

    /// Whether `tag` is the MAC of `message`, compared in constant time.
    pub fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        ring::hmac::verify(&self.0, message, tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_created_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let k = PlatformKey::load_or_create(dir.path()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = PlatformKey::load_or_create(dir.path()).unwrap();
        assert_eq!(k.key_id(), again.key_id());
        let sig = k.sign(b"hello");
        let csrf = CsrfKey::load_or_create(dir.path()).unwrap();
        let again = CsrfKey::load_or_create(dir.path()).unwrap();
        assert!(again.verify(b"visitor", &csrf.sign(b"visitor")));
        assert!(!again.verify(b"visitor", &csrf.sign(b"session")));
        let public = PublicKey::load(dir.path()).unwrap();
        assert!(public.verify(b"hello", &sig));
        assert!(!public.verify(b"hellO", &sig));
    }
}
