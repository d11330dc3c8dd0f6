//! `[http(s)://]host[:port][/path]`, the way containerd's hosts.toml and
//! `--mirror` write an endpoint. A small parser of our own: the `url` crate
//! would accept far more (userinfo, queries) than an endpoint may have.

/// An endpoint split into what a [`super::Source`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostUrl {
    /// `http://` was written.
    pub plain_http: bool,
    /// `host[:port]`, lowercased.
    pub host: String,
    /// The path with single slashes, no trailing one: `""` or `/a/b`.
    pub path: String,
}

impl HostUrl {
    /// Parses `s`; with no scheme it is HTTPS (as containerd reads
    /// `server = "registry.example"`).
    pub fn parse(s: &str) -> Result<HostUrl, String> {
        let (plain_http, rest) = match s.split_once("://") {
            Some(("http", rest)) => (true, rest),
            Some(("https", rest)) => (false, rest),
            Some((scheme, _)) => {
                return Err(format!("scheme {scheme:?} is not http or https"));
            }
            None => (false, s),
        };
        if let Some(c) = rest
            .chars()
            .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '@' | '?' | '#' | '\\'))
        {
            return Err(format!("{s:?} may not contain {c:?}"));
        }
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if host.is_empty() {
            return Err(format!("{s:?} names no host"));
        }
        let port = host.rsplit_once(':').filter(|_| !host.ends_with(']'));
        if let Some((_, port)) = port
            && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(format!("{s:?} has a bad port {port:?}"));
        }
        let path: String = path
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .map(|c| format!("/{c}"))
            .collect();
        Ok(HostUrl {
            plain_http,
            host: host.to_ascii_lowercase(),
            path,
        })
    }

    /// The Registry API root for a containerd host, with its slashes:
    /// containerd appends `/v2` to the path unless the path already ends
    /// with it or `override_path` says the path is the API root itself.
    pub fn api_path(&self, override_path: bool) -> String {
        if override_path || self.path.ends_with("/v2") {
            format!("{}/", self.path)
        } else {
            format!("{}/v2/", self.path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> HostUrl {
        HostUrl::parse(s).unwrap()
    }

    #[test]
    fn splits_scheme_host_and_path() {
        let u = url("http://Mirror.example:5000/some//prefix/");
        assert!(u.plain_http);
        assert_eq!(u.host, "mirror.example:5000");
        assert_eq!(u.path, "/some/prefix");
        let u = url("registry.example");
        assert!(!u.plain_http);
        assert_eq!(u.path, "");
        assert_eq!(url("https://[::1]:5000").host, "[::1]:5000");
    }

    #[test]
    fn api_paths_follow_containerd() {
        assert_eq!(url("https://m.example").api_path(false), "/v2/");
        assert_eq!(url("https://m.example/v2").api_path(false), "/v2/");
        assert_eq!(url("https://m.example/a/b").api_path(false), "/a/b/v2/");
        assert_eq!(url("https://m.example/a/b").api_path(true), "/a/b/");
        assert_eq!(url("https://m.example").api_path(true), "/");
    }

    #[test]
    fn rejects_what_is_not_an_endpoint() {
        for bad in [
            "ftp://m.example",
            "https://",
            "https://user@m.example",
            "m.example:port",
            "m.example/a?b",
            "m example",
        ] {
            assert!(HostUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
