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
