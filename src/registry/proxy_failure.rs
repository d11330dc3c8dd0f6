//! Whether a request that failed before any answer failed at an HTTP proxy
//! (`HTTPS_PROXY`, `ALL_PROXY`): the proxy down, or refusing the credential
//! in its URL (407). reqwest's connector (hyper-util's tunnel) says so only
//! in its message, its error type not being public; the wording is pinned
//! by the tests that go through a proxy (tests/it/auth/vendors/proxy.rs).

/// How the way through a proxy failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyFailure {
    /// 407: the proxy wants another credential than the one it was given.
    Refused,
    /// Anything else: the proxy cannot be reached, or cannot reach the host.
    Failed,
}

/// How `err` failed at a proxy, if it did.
pub fn of(err: &(dyn std::error::Error + 'static)) -> Option<ProxyFailure> {
    let mut cause = Some(err);
    while let Some(c) = cause {
        let said = c.to_string();
        if said.starts_with("tunnel error") {
            return Some(if said.contains("proxy authorization required") {
                ProxyFailure::Refused
            } else {
                ProxyFailure::Failed
            });
        }
        cause = c.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("client error (Connect)")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Inner(&'static str);

    #[test]
    fn a_tunnel_error_anywhere_in_the_chain_is_the_proxy() {
        let refused = Outer(Inner("tunnel error: proxy authorization required"));
        assert_eq!(of(&refused), Some(ProxyFailure::Refused));
        let down = Outer(Inner(
            "tunnel error: failed to create underlying connection",
        ));
        assert_eq!(of(&down), Some(ProxyFailure::Failed));
        assert_eq!(of(&Outer(Inner("tcp connect error"))), None);
    }
}
