//! `tenderhall certs`: a development CA, a server certificate and client certificates.
//!
//! Files go to a directory (default `certs/`): `ca.crt`/`ca.key`, `server.crt`/`server.key`
//! (for `localhost`, `127.0.0.1` and `::1`) and `client-<user>.crt`/`.key` per user name given.
//! Private keys are written with mode 0600 and are ignored by git. An existing CA is reused so
//! client certificates can be added later. These are for development and tests; production
//! sites use their CA's certificates.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SanType,
};
use std::{
    fs,
    path::{Path, PathBuf},
};

/// Errors of certificate generation.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// rcgen failed.
    #[error("certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// Files could not be written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

fn validity(params: &mut CertificateParams, days: i64) {
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(days);
}

fn write_key(path: &Path, pem: &str) -> std::io::Result<()> {
    if path.exists() {
        fs::remove_file(path)?;
    }
    crate::keys::write_private(path, pem.as_bytes())
}

/// What was written.
#[derive(Debug)]
pub struct Issued {
    /// Files written, in order.
    pub files: Vec<PathBuf>,
}

/// Creates (or reuses) the CA, a server certificate and one client certificate per user name.
pub fn generate(dir: &Path, client_users: &[String]) -> Result<Issued, CertError> {
    fs::create_dir_all(dir)?;
    let mut files = Vec::new();
    let ca_crt = dir.join("ca.crt");
    let ca_key = dir.join("ca.key");
    let issuer = if ca_crt.exists() && ca_key.exists() {
        let key = KeyPair::from_pem(&fs::read_to_string(&ca_key)?)?;
        Issuer::from_ca_cert_pem(&fs::read_to_string(&ca_crt)?, key)?
    } else {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.distinguished_name.push(DnType::OrganizationName, "Tenderhall development");
        params.distinguished_name.push(DnType::CommonName, "Tenderhall development CA");
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        validity(&mut params, 3650);
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        fs::write(&ca_crt, cert.pem())?;
        write_key(&ca_key, &key.serialize_pem())?;
        files.extend([ca_crt.clone(), ca_key.clone()]);
        Issuer::new(params, key)
    };

    let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
    params
        .subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().map_err(|_| rcgen::Error::InvalidIpAddressOctetLength(0))?));
    params
        .subject_alt_names
        .push(SanType::IpAddress("::1".parse().map_err(|_| rcgen::Error::InvalidIpAddressOctetLength(0))?));
    params.distinguished_name.push(DnType::CommonName, "localhost");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    validity(&mut params, 825);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    fs::write(dir.join("server.crt"), cert.pem())?;
    write_key(&dir.join("server.key"), &key.serialize_pem())?;
    files.extend([dir.join("server.crt"), dir.join("server.key")]);

    for user in client_users {
        let safe: String = user.chars().filter(|c| c.is_ascii_alphanumeric() || "_-.".contains(*c)).collect();
        if safe.is_empty() {
            continue;
        }
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, safe.clone());
        params.distinguished_name.push(DnType::OrganizationName, "Tenderhall development");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        validity(&mut params, 365);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &issuer)?;
        let crt = dir.join(format!("client-{safe}.crt"));
        let kf = dir.join(format!("client-{safe}.key"));
        fs::write(&crt, cert.pem())?;
        write_key(&kf, &key.serialize_pem())?;
        files.extend([crt, kf]);
    }
    Ok(Issued { files })
}

/// The federation CA's files in `dir`: `federation-ca.crt` and `federation-ca.key`.
pub const FEDERATION_CA: &str = "federation-ca";

/// Loads the federation CA from `dir`, or creates it.
fn federation_issuer(dir: &Path, files: &mut Vec<PathBuf>) -> Result<Issuer<'static, KeyPair>, CertError> {
    let crt = dir.join(format!("{FEDERATION_CA}.crt"));
    let key = dir.join(format!("{FEDERATION_CA}.key"));
    if crt.exists() && key.exists() {
        let k = KeyPair::from_pem(&fs::read_to_string(&key)?)?;
        return Ok(Issuer::from_ca_cert_pem(&fs::read_to_string(&crt)?, k)?);
    }
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.distinguished_name.push(DnType::OrganizationName, "Tenderhall federation");
    params.distinguished_name.push(DnType::CommonName, "Tenderhall federation CA");
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    validity(&mut params, 3650);
    let k = KeyPair::generate()?;
    let cert = params.self_signed(&k)?;
    fs::write(&crt, cert.pem())?;
    write_key(&key, &k.serialize_pem())?;
    files.extend([crt, key]);
    Ok(Issuer::new(params, k))
}

/// A site name as it may appear in a certificate and a file name: ASCII letters, digits, `-`.
pub fn valid_site_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
}

/// Creates (or reuses) the federation CA in `dir` and issues a site certificate for each name:
/// `site-<name>.crt`/`.key`, valid `days` days from yesterday, for the DNS name `<name>` (and
/// `localhost`, `127.0.0.1`, `::1`, so that peers on one machine reach each other), usable to
/// serve and to connect. The certificate's common name is the site's name.
pub fn federation(dir: &Path, sites: &[String], days: i64) -> Result<Issued, CertError> {
    let now = time::OffsetDateTime::now_utc();
    federation_valid(dir, sites, now - time::Duration::days(1), now + time::Duration::days(days))
}

/// As [`federation`], valid from `not_before` to `not_after` (an expired certificate, to see
/// that peers refuse it).
pub fn federation_valid(
    dir: &Path,
    sites: &[String],
    not_before: time::OffsetDateTime,
    not_after: time::OffsetDateTime,
) -> Result<Issued, CertError> {
    fs::create_dir_all(dir)?;
    let mut files = Vec::new();
    let issuer = federation_issuer(dir, &mut files)?;
    for name in sites {
        if !valid_site_name(name) {
            return Err(CertError::Io(std::io::Error::other(format!(
                "{name:?} is not a site name (lower-case letters, digits and '-')"
            ))));
        }
        let mut params = CertificateParams::new(vec![name.clone(), "localhost".to_string()])?;
        for ip in ["127.0.0.1", "::1"] {
            params
                .subject_alt_names
                .push(SanType::IpAddress(ip.parse().map_err(|_| rcgen::Error::InvalidIpAddressOctetLength(0))?));
        }
        params.distinguished_name.push(DnType::CommonName, name.clone());
        params.distinguished_name.push(DnType::OrganizationName, "Tenderhall federation");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = not_before;
        params.not_after = not_after;
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &issuer)?;
        let crt = dir.join(format!("site-{name}.crt"));
        let kf = dir.join(format!("site-{name}.key"));
        fs::write(&crt, cert.pem())?;
        write_key(&kf, &key.serialize_pem())?;
        files.extend([crt, kf]);
    }
    Ok(Issued { files })
}
