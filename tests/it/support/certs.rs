//! A throwaway CA and a server certificate for 127.0.0.1 / localhost.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};

pub struct Tls {
    pub ca_pem: PathBuf,
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
}

/// Writes ca.pem, server.pem and server.key into `dir`, for localhost and 127.0.0.1.
pub fn generate(dir: &Path) -> Tls {
    generate_for(dir, &["localhost"])
}

/// A self-signed signing key and certificate (for JWTs the registry trusts).
pub fn signing_pair(dir: &Path) -> (String, Vec<u8>, PathBuf) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "regpull test token signer");
    let cert = params.self_signed(&key).unwrap();
    let path = dir.join("token-signer.pem");
    std::fs::write(&path, cert.pem()).unwrap();
    (key.serialize_pem(), cert.der().to_vec(), path)
}

/// A CA and one server certificate valid for every name in `names` (and 127.0.0.1).
pub fn generate_for(dir: &Path, names: &[&str]) -> Tls {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "regpull vendor-simulator CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params
        .subject_alt_names
        .push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
    let cert = params.signed_by(&key, &issuer).unwrap();
    let tls = Tls {
        ca_pem: dir.join("ca.pem"),
        cert_pem: dir.join("server.pem"),
        key_pem: dir.join("server.key"),
    };
    std::fs::write(&tls.ca_pem, ca_cert.pem()).unwrap();
    std::fs::write(&tls.cert_pem, cert.pem()).unwrap();
    std::fs::write(&tls.key_pem, key.serialize_pem()).unwrap();
    tls
}
