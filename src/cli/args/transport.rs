//! How to reach registries: TLS, addresses, timeouts and how many
//! connections at once.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub struct TransportArgs {
    /// Also trust the CA certificates (PEM) in FILE; may be repeated.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Vec<PathBuf>,

    /// Where per-registry CAs live, docker style: DIR/HOST[:PORT]/*.crt.
    #[arg(
        long,
        env = "REGPULL_CERTS_DIR",
        value_name = "DIR",
        default_value = "/etc/docker/certs.d"
    )]
    pub certs_dir: PathBuf,

    /// Do not verify the registry's TLS certificate.
    #[arg(long)]
    pub insecure: bool,

    /// Talk plain HTTP to the registry (loopback registries fall back to it anyway).
    #[arg(long)]
    pub plain_http: bool,

    /// Connect to IP:PORT whenever HOST is asked for (registry or token realm);
    /// may be repeated. For mirrors behind split DNS and air-gapped sites.
    #[arg(long, value_name = "HOST=IP:PORT", value_parser = parse_resolve)]
    pub resolve: Vec<(String, std::net::SocketAddr)>,

    /// Give up on a connection that sends nothing for this many seconds.
    #[arg(
        long,
        env = "REGPULL_TIMEOUT",
        default_value_t = 30,
        value_name = "SECONDS"
    )]
    pub timeout: u64,

    /// Connections open at once to one registry host and the object stores
    /// it redirects to; a big blob is fetched as parallel ranges within this
    /// bound, more of them while throughput rises.
    #[arg(
        long,
        env = "REGPULL_CONNECTIONS",
        default_value_t = regpull::registry::DEFAULT_CONNECTIONS as u16,
        value_name = "N",
        value_parser = clap::value_parser!(u16).range(1..=64)
    )]
    pub connections: u16,
}

fn parse_resolve(s: &str) -> Result<(String, std::net::SocketAddr), String> {
    let (host, addr) = s
        .split_once('=')
        .ok_or("expected HOST=IP:PORT, e.g. nvcr.io=10.0.0.5:443")?;
    let addr = addr
        .parse()
        .map_err(|e| format!("{addr:?} is not IP:PORT ({e}); IPv6 goes in brackets: [::1]:443"))?;
    if host.is_empty() {
        return Err("the host before '=' is empty".into());
    }
    Ok((host.to_lowercase(), addr))
}
