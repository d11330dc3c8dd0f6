//! Which token realms a registry may send us to.
//!
//! A realm is a URL the *registry* chooses and regpull then sends credentials to,
//! so a hostile registry could aim it at the cloud metadata service
//! (169.254.169.254) or at services on the user's private network. Link-local
//! addresses are never allowed; loopback and private ones only when the registry
//! itself is on such an address (a registry on localhost with a token server
//! beside it is the normal test and air-gapped setup).

use std::net::{IpAddr, SocketAddr};

use reqwest::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reach {
    Public,
    Private,
    Loopback,
    LinkLocal,
}

fn reach(ip: IpAddr) -> Reach {
    match ip {
        IpAddr::V4(v4) if v4.is_link_local() => Reach::LinkLocal,
        IpAddr::V4(v4) if v4.is_loopback() => Reach::Loopback,
        IpAddr::V4(v4) if v4.is_private() || v4.is_unspecified() => Reach::Private,
        IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80 => Reach::LinkLocal,
        IpAddr::V6(v6) if v6.is_loopback() => Reach::Loopback,
        IpAddr::V6(v6) if (v6.segments()[0] & 0xfe00) == 0xfc00 || v6.is_unspecified() => {
            Reach::Private
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => reach(IpAddr::V4(v4)),
            None => Reach::Public,
        },
        IpAddr::V4(_) => Reach::Public,
    }
}

/// `--resolve` overrides: host name to the address connections really go to.
pub type Overrides = [(String, SocketAddr)];

/// Addresses a host name or literal stands for, as the HTTP client will
/// connect (`--resolve` first); empty when it does not resolve (the request
/// itself will then fail with a clear connect error).
async fn addresses(host: &str, port: u16, overrides: &Overrides) -> Vec<IpAddr> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return vec![ip];
    }
    let pinned: Vec<IpAddr> = overrides
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case(bare))
        .map(|(_, addr)| addr.ip())
        .collect();
    if !pinned.is_empty() {
        return pinned;
    }
    if bare == "localhost" || bare.ends_with(".localhost") {
        return vec![IpAddr::from([127, 0, 0, 1])];
    }
    match tokio::net::lookup_host((bare, port)).await {
        Ok(addrs) => addrs.map(|a| a.ip()).collect(),
        Err(_) => Vec::new(),
    }
}

/// The most internal reach among a host's addresses.
async fn host_reach(url: &Url, overrides: &Overrides) -> Reach {
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(443);
    addresses(host, port, overrides)
        .await
        .into_iter()
        .map(reach)
        .max()
        .unwrap_or(Reach::Public)
}

/// Ok when credentials may be sent to `realm` on behalf of the registry at `registry`.
pub async fn check(registry: &Url, realm: &Url, overrides: &Overrides) -> Result<(), String> {
    if !matches!(realm.scheme(), "http" | "https") {
        return Err(format!("scheme {:?} is not http or https", realm.scheme()));
    }
    if realm.host_str().is_none_or(str::is_empty) {
        return Err("it names no host".into());
    }
    let target = host_reach(realm, overrides).await;
    if target == Reach::LinkLocal {
        return Err("it is a link-local address (such as the cloud metadata service)".into());
    }
    if target > Reach::Public && host_reach(registry, overrides).await == Reach::Public {
        return Err("it is a loopback or private address, and the registry is not".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[tokio::test]
    async fn refuses_metadata_and_internal_realms_for_public_registries() {
        let public = url("https://203.0.113.10/v2/");
        assert!(
            check(&public, &url("http://169.254.169.254/latest/"), &[])
                .await
                .is_err()
        );
        assert!(
            check(&public, &url("https://127.0.0.1/token"), &[])
                .await
                .is_err()
        );
        assert!(
            check(&public, &url("https://10.1.2.3/token"), &[])
                .await
                .is_err()
        );
        assert!(
            check(&public, &url("https://[::1]/token"), &[])
                .await
                .is_err()
        );
        assert!(
            check(&public, &url("ftp://198.51.100.1/token"), &[])
                .await
                .is_err()
        );
        assert!(
            check(&public, &url("https://198.51.100.1/token"), &[])
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_local_registry_may_use_a_local_token_server_but_never_link_local() {
        let local = url("http://127.0.0.1:5000/v2/");
        assert!(
            check(&local, &url("http://127.0.0.1:5001/token"), &[])
                .await
                .is_ok()
        );
        assert!(
            check(&local, &url("http://localhost:5001/token"), &[])
                .await
                .is_ok()
        );
        assert!(
            check(&local, &url("http://169.254.169.254/"), &[])
                .await
                .is_err()
        );
        assert!(check(&local, &url("http://[fe80::1]/"), &[]).await.is_err());
    }

    /// The check sees what `--resolve` makes of a name, as the connection will.
    #[tokio::test]
    async fn resolve_overrides_are_what_the_check_sees() {
        let pin = |name: &str, ip: &str| (name.to_string(), format!("{ip}:443").parse().unwrap());
        let public = url("https://registry.example/v2/");
        let metadata = [pin("auth.example", "169.254.169.254")];
        let refused = check(&public, &url("https://auth.example/token"), &metadata).await;
        assert!(refused.unwrap_err().contains("link-local"));
        // Both pinned to this machine (a mirror or test setup): allowed.
        let local = [
            pin("registry.example", "127.0.0.1"),
            pin("auth.example", "127.0.0.1"),
        ];
        assert!(
            check(&public, &url("https://auth.example/token"), &local)
                .await
                .is_ok()
        );
        // Only the realm pinned inside: the registry is public, so refused.
        let inside = [pin("auth.example", "10.0.0.5")];
        assert!(
            check(&public, &url("https://auth.example/token"), &inside)
                .await
                .is_err()
        );
    }
}
