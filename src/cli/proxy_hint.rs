//! Advice when the way through an HTTP proxy failed: which variable named
//! the proxy (shown without the credential in its URL) and what to change.
//! reqwest reads the proxy from the environment as curl does; the CLI, which
//! may read the environment, names the variable that applied.

use regpull::registry::RegistryError;

/// A hint for `e`, when it failed at a proxy.
pub fn for_registry_error(e: &RegistryError) -> Option<String> {
    let (url, refused) = match e {
        RegistryError::ProxyRefused { url } => (url, true),
        RegistryError::Connect {
            url,
            through_proxy: true,
            ..
        } => (url, false),
        _ => return None,
    };
    let proxy = proxy_setting(url.starts_with("https:"))
        .unwrap_or_else(|| "the proxy from the environment".to_string());
    let host = authority(url.split_once("://").map_or(url.as_str(), |(_, rest)| rest));
    Some(if refused {
        format!(
            "{proxy} names the proxy; it wants another user or password in that URL \
             (http://USER:PASSWORD@HOST:PORT, percent-encoded), or list {host} in NO_PROXY to go direct"
        )
    } else {
        format!(
            "the connection went through {proxy}: check that the proxy runs and this machine \
             reaches it, or list {host} in NO_PROXY to go direct"
        )
    })
}

/// `NAME=URL` of the variable reqwest takes the proxy for this scheme from
/// (as curl: the scheme's own, then ALL_PROXY), the URL's credential left out.
fn proxy_setting(https: bool) -> Option<String> {
    let names: &[&str] = if https {
        &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    };
    names.iter().find_map(|name| {
        let value = std::env::var(name).ok().filter(|v| !v.is_empty())?;
        Some(format!("{name}={}", without_credential(&value)))
    })
}

/// `scheme://user:password@host:port/path` as `scheme://host:port`: the
/// credential may hold `/`, `?` or `#` unencoded (curl and hyper take such
/// values too), so everything up to the last `@` goes, and the path with it.
fn without_credential(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url),
    };
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}{}", authority(host))
}

/// `host:port` of `host:port/path?query` (a URL with no credential in it).
fn authority(rest: &str) -> &str {
    &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_url_is_shown_without_its_credential() {
        for (url, shown) in [
            (
                "http://user:pa%40ss@proxy.site:3128",
                "http://proxy.site:3128",
            ),
            ("http://proxy.site:3128/", "http://proxy.site:3128"),
            ("u:p@proxy:8080", "proxy:8080"),
            ("http://user:pa/ss@127.0.0.1:9", "http://127.0.0.1:9"),
            ("http://user:pa?ss@127.0.0.1:9", "http://127.0.0.1:9"),
            ("http://user:pa#ss@127.0.0.1:9/", "http://127.0.0.1:9"),
            ("http://us@er:p@ss@[::1]:3128", "http://[::1]:3128"),
        ] {
            assert_eq!(without_credential(url), shown, "{url}");
        }
        assert_eq!(authority("reg.example:443/v2/?x=1"), "reg.example:443");
    }
}
