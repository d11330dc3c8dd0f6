//! The HTTP client for one registry host: TLS roots, connect timeout,
//! redirects, proxy. Silence (`--timeout`) is watched by `idle.rs`.
//!
//! Trust: the system roots (rustls-native-certs, which honours `SSL_CERT_FILE` and
//! `SSL_CERT_DIR` as OpenSSL and curl do), plus `--ca-cert` files, plus docker's
//! per-registry convention `/etc/docker/certs.d/HOST[:PORT]/*.crt`. Proxies come
//! from `HTTPS_PROXY` / `NO_PROXY` (reqwest reads them). Redirects are followed a
//! bounded number of times, http(s) only; reqwest drops `Authorization` whenever a
//! redirect leaves the original host, which is what S3 and GCS require.
//! HTTP/1.1 only, so that each of a blob's ranges has a TCP connection of its
//! own (as pget and htcat, the parallel downloaders for S3, do).

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::{Certificate, Client, redirect};

use super::RegistryError;
use super::idle::IdleClock;

/// Redirect hops followed before giving up (registries use one, to object storage).
pub const MAX_REDIRECTS: usize = 5;

/// Transfers per registry host: what CDNs that cap each connection need to
/// fill a fast link, and what containerd's parallel layer fetch uses.
pub const DEFAULT_CONNECTIONS: usize = 8;

/// How long a connection may send nothing (`--timeout`).
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How to connect: everything here comes from flags or defaults, never the environment.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub user_agent: String,
    /// Extra CA bundles (PEM) to trust for every registry.
    pub ca_certs: Vec<PathBuf>,
    /// Docker's per-registry CA directory, normally `/etc/docker/certs.d`.
    pub certs_d: Option<PathBuf>,
    /// Skip TLS verification entirely (`--insecure`).
    pub insecure: bool,
    /// Speak plain HTTP to the registry (`--plain-http`).
    pub plain_http: bool,
    /// Abandon a connection that sends nothing for this long (`idle.rs`).
    pub read_timeout: Duration,
    /// The clock that silence is measured with: tokio's, or a test's.
    pub idle_clock: IdleClock,
    pub connect_timeout: Duration,
    /// Connect to this address whenever the host is asked for (`--resolve`): for
    /// mirrors behind split DNS, air-gapped sites, and tests.
    pub resolve: Vec<(String, std::net::SocketAddr)>,
    /// Blob transfers open at once to one registry host (`--connections`).
    pub connections: usize,
    /// The path the Registry API lives under, with its slashes: `/v2/`, or a
    /// mirror's own (containerd's `override_path`).
    pub api_path: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            user_agent: format!("regpull/{}", env!("CARGO_PKG_VERSION")),
            ca_certs: Vec::new(),
            certs_d: None,
            insecure: false,
            plain_http: false,
            read_timeout: DEFAULT_READ_TIMEOUT,
            idle_clock: IdleClock::default(),
            connect_timeout: Duration::from_secs(15),
            resolve: Vec::new(),
            connections: DEFAULT_CONNECTIONS,
            api_path: "/v2/".to_string(),
        }
    }
}

/// Builds the client for `host` (`name[:port]`).
pub fn build(host: &str, opts: &ClientOptions) -> Result<Client, RegistryError> {
    let tls_err = |reason: String| RegistryError::Tls {
        registry: host.to_string(),
        reason,
    };
    let mut builder = Client::builder()
        .user_agent(opts.user_agent.clone())
        .connect_timeout(opts.connect_timeout)
        .redirect(redirect_policy())
        // HTTP/1.1 only. Over h2 (which CloudFront, GCS and Cloudflare offer)
        // every request to a host shares one TCP connection: the ranges of a
        // blob would meet a per-connection cap, and one connection's windows
        // on a long path, together, and `--connections` would count streams.
        .http1_only()
        .danger_accept_invalid_certs(opts.insecure);
    for (name, addr) in &opts.resolve {
        builder = builder.resolve(name, *addr);
    }
    for path in ca_files(host, opts).map_err(tls_err)? {
        let pem = fs::read(&path)
            .map_err(|e| tls_err(format!("cannot read CA file {}: {e}", path.display())))?;
        let certs = Certificate::from_pem_bundle(&pem).map_err(|e| {
            tls_err(format!(
                "{} is not a PEM certificate bundle: {e}",
                path.display()
            ))
        })?;
        if certs.is_empty() {
            return Err(tls_err(format!(
                "{} holds no PEM certificate",
                path.display()
            )));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(|e| tls_err(e.to_string()))
}

/// `--ca-cert` files, then `certs.d/HOST/*.crt` (docker treats each as a CA).
fn ca_files(host: &str, opts: &ClientOptions) -> Result<Vec<PathBuf>, String> {
    let mut files = opts.ca_certs.clone();
    if let Some(dir) = opts.certs_d.as_ref().map(|d| d.join(host)) {
        match fs::read_dir(&dir) {
            Ok(entries) => {
                let mut found: Vec<PathBuf> = entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "crt"))
                    .collect();
                found.sort();
                files.extend(found);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
        }
    }
    Ok(files)
}

fn redirect_policy() -> redirect::Policy {
    redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
        } else if !matches!(attempt.url().scheme(), "http" | "https") {
            attempt.error("redirect to a scheme other than http(s)")
        } else {
            // So that a failure after this hop names where it happened.
            super::redirects::note_hop(attempt.url());
            attempt.follow()
        }
    })
}

/// Is `host` (`name[:port]`, maybe `[v6]:port`) this machine? Docker treats such
/// registries as insecure by default, and so may Basic credentials travel to them
/// over plain HTTP.
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((n, port)) if port.chars().all(|c| c.is_ascii_digit()) => n,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost:5000",
            "127.0.0.1",
            "127.1.2.3:443",
            "[::1]:5000",
            "localhost",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "example.com",
            "10.0.0.1:5000",
            "[2001:db8::1]:5000",
            "localhost.evil.com",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn a_bad_ca_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("ca.pem");
        fs::write(&bad, "not a certificate").unwrap();
        let opts = ClientOptions {
            ca_certs: vec![bad.clone()],
            ..Default::default()
        };
        let err = build("r.example", &opts).unwrap_err().to_string();
        assert!(err.contains(&bad.display().to_string()), "{err}");
        let missing = ClientOptions {
            ca_certs: vec![dir.path().join("nope.pem")],
            ..Default::default()
        };
        assert!(
            build("r.example", &missing)
                .unwrap_err()
                .to_string()
                .contains("nope.pem")
        );
    }
}
