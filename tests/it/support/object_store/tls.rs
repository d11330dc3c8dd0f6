//! The store over TLS offering HTTP/2 first, as CloudFront, GCS, Cloudflare
//! (Docker Hub's and R2's front) and Fastly do: a client that accepts h2
//! sends all its requests to the store down one connection.

use std::sync::Arc;

use tokio_rustls::TlsAcceptor;

use crate::support::certs::Tls;
use crate::support::tls_serve::server_config;

/// An acceptor for `tls`'s server certificate that offers h2, then HTTP/1.1.
pub fn acceptor(tls: &Tls) -> TlsAcceptor {
    let mut config = server_config(tls);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    TlsAcceptor::from(Arc::new(config))
}
