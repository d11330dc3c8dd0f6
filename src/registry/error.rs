//! What can go wrong talking to a registry. Messages name the registry, the
//! operation and what the server said; URLs are redacted.

use super::api_error::{self, ApiError};
use super::challenge::ChallengeError;
use super::status::status_class;
use crate::error_class::ErrorClass;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot reach {url}{}{}", via(redirected_from), if *through_proxy { " through the proxy" } else { "" })]
    Connect {
        url: String,
        /// The URL asked for, when a redirect led to the one that failed (an
        /// object store the registry keeps its blobs in).
        redirected_from: Option<String>,
        /// The request went to an HTTP proxy (`HTTPS_PROXY`), which failed.
        through_proxy: bool,
        #[source]
        source: reqwest::Error,
    },
    #[error("{operation} at {url} failed: {}", describe_status(*status, errors, text))]
    Status {
        operation: String,
        url: String,
        status: u16,
        errors: Vec<ApiError>,
        text: Option<String>,
        retry_after: Option<String>,
    },
    #[error(
        "the proxy refused its credential (407 Proxy Authentication Required) on the way to {url}"
    )]
    ProxyRefused { url: String },
    #[error("{url}{} sent nothing for {} (--timeout)", via(redirected_from), seconds(*after))]
    Silent {
        url: String,
        /// As for `Connect`.
        redirected_from: Option<String>,
        after: std::time::Duration,
    },
    #[error("the connection to {url} broke while reading the response")]
    Body {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("token request to {realm} was refused ({status}){}", detail.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    TokenRefused {
        realm: String,
        status: u16,
        detail: Option<String>,
    },
    #[error("token server {realm} sent an unusable answer: {reason}")]
    BadToken { realm: String, reason: String },
    #[error("registry {registry} sent an unusable WWW-Authenticate header {header:?}")]
    BadChallenge {
        registry: String,
        header: String,
        #[source]
        source: Option<ChallengeError>,
    },
    #[error(
        "registry {registry} asks for authentication with {scheme:?} (WWW-Authenticate: {header:?}); regpull speaks Basic and Bearer"
    )]
    UnsupportedScheme {
        registry: String,
        scheme: String,
        header: String,
    },
    #[error("refusing token realm {realm} named by {registry}: {reason}")]
    RealmRefused {
        registry: String,
        realm: String,
        reason: String,
    },
    #[error("refusing to send a password to {registry} over plain HTTP")]
    InsecureBasic { registry: String },
    #[error("{what} from {url} is larger than the {limit} bytes regpull accepts")]
    TooLarge {
        what: String,
        url: String,
        limit: u64,
    },
    #[error(
        "registry {registry} {}{}",
        if *anonymous { "answers 401: it wants credentials and none were found for it" }
        else { "still answers 401 after authenticating" },
        describe_errors(errors)
    )]
    Unauthorized {
        registry: String,
        /// No credential was found, so none was sent (a token, if any, was
        /// an anonymous one).
        anonymous: bool,
        errors: Vec<ApiError>,
    },
    #[error("cannot set up TLS for {registry}: {reason}")]
    Tls { registry: String, reason: String },
    #[error("{registry} is not a usable registry address: {reason}")]
    BadAddress { registry: String, reason: String },
    #[error("{operation} at {url}: {reason}")]
    UnusableAnswer {
        operation: String,
        url: String,
        reason: String,
    },
    #[error("{operation} at {url}: the registry names it {got}, not {expected}")]
    DigestMismatch {
        operation: String,
        url: String,
        expected: String,
        got: String,
    },
    #[error("cannot read {} to upload it", path.display())]
    ReadUpload {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the credentials for {registry}")]
    Credentials {
        registry: String,
        #[source]
        source: crate::auth::AuthError,
    },
}

fn describe_errors(errors: &[ApiError]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(": {}", api_error::describe(errors))
    }
}

fn describe_status(status: u16, errors: &[ApiError], text: &Option<String>) -> String {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let mut s = format!("{status} {reason}").trim_end().to_string();
    if !errors.is_empty() {
        s.push_str(&format!(" ({})", api_error::describe(errors)));
    } else if let Some(t) = text {
        s.push_str(&format!(" ({t})"));
    }
    s
}

impl RegistryError {
    /// The HTTP status the server answered with, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            RegistryError::Status { status, .. } | RegistryError::TokenRefused { status, .. } => {
                Some(*status)
            }
            RegistryError::Unauthorized { .. } => Some(401),
            _ => None,
        }
    }

    pub fn class(&self) -> ErrorClass {
        match self {
            RegistryError::Connect { source, .. } if is_certificate_error(source) => {
                ErrorClass::Usage
            }
            RegistryError::Connect { .. }
            | RegistryError::Body { .. }
            | RegistryError::Silent { .. } => ErrorClass::Network,
            RegistryError::Status { status, errors, .. } => status_class(*status, errors),
            // A token server in trouble is as transient as the registry would be;
            // any other refusal is about the credential.
            RegistryError::TokenRefused { status, .. }
                if status_class(*status, &[]).is_transient() =>
            {
                status_class(*status, &[])
            }
            RegistryError::TokenRefused { .. }
            | RegistryError::Credentials { .. }
            | RegistryError::Unauthorized { .. }
            | RegistryError::InsecureBasic { .. }
            | RegistryError::RealmRefused { .. }
            | RegistryError::UnsupportedScheme { .. }
            | RegistryError::BadChallenge { .. }
            | RegistryError::BadToken { .. } => ErrorClass::Auth,
            RegistryError::TooLarge { .. } | RegistryError::DigestMismatch { .. } => {
                ErrorClass::Verification
            }
            RegistryError::UnusableAnswer { .. } => ErrorClass::Usage,
            // A credential refused, as a 407 answer is (`status.rs`).
            RegistryError::ProxyRefused { .. } => ErrorClass::Auth,
            RegistryError::ReadUpload { .. } => ErrorClass::LocalIo,
            RegistryError::Tls { .. } | RegistryError::BadAddress { .. } => ErrorClass::Usage,
        }
    }

    /// Asking `asked` failed before any answer, at `reached` when redirects
    /// led there (both named redacted).
    pub fn connect(
        asked: &reqwest::Url,
        reached: Option<&reqwest::Url>,
        source: reqwest::Error,
    ) -> Self {
        // A redirect refused by the policy (a loop, a scheme not http(s)) is
        // no unreachable hop: it is said of the URL asked.
        let reached = reached.filter(|_| !source.is_redirect());
        let (url, redirected_from) = hop(asked, reached);
        let proxy = super::proxy_failure::of(&source);
        if proxy == Some(super::proxy_failure::ProxyFailure::Refused) {
            return RegistryError::ProxyRefused { url };
        }
        // reqwest's own message repeats the URL whole, query included (a
        // pre-signed store URL's signature).
        RegistryError::Connect {
            url,
            redirected_from,
            through_proxy: proxy.is_some(),
            source: source.without_url(),
        }
    }

    /// No answer came to `asked` (from `reached`, when redirects led there)
    /// for the limit.
    pub fn silent_answer(
        asked: &reqwest::Url,
        reached: Option<&reqwest::Url>,
        silent: super::idle::Silent,
    ) -> Self {
        let (url, redirected_from) = hop(asked, reached);
        RegistryError::Silent {
            url,
            redirected_from,
            after: silent.after,
        }
    }

    /// The body from `url` (redacted) broke.
    pub fn body(url: String, source: reqwest::Error) -> Self {
        // reqwest's message may repeat the URL whole, query included.
        RegistryError::Body {
            url,
            source: source.without_url(),
        }
    }

    /// Nothing came from `url` (redacted) for the limit.
    pub fn silent(url: String, silent: super::idle::Silent) -> Self {
        RegistryError::Silent {
            url,
            redirected_from: None,
            after: silent.after,
        }
    }

    /// The host (`name[:port]`) a redirect led to, when that host is the one
    /// that could not be reached or went silent.
    pub fn redirect_target(&self) -> Option<String> {
        let (url, from) = match self {
            RegistryError::Connect {
                url,
                redirected_from: Some(from),
                ..
            }
            | RegistryError::Silent {
                url,
                redirected_from: Some(from),
                ..
            } => (url, from),
            _ => return None,
        };
        let host_of = |url: &str| {
            let url = reqwest::Url::parse(url).ok()?;
            let host = url.host_str()?;
            Some(match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_string(),
            })
        };
        // A redirect within the registry's own host names no other host.
        let target = host_of(url)?;
        (host_of(from)? != target).then_some(target)
    }

    /// The server sent nothing for the read timeout (`--timeout`).
    pub fn is_idle_timeout(&self) -> bool {
        match self {
            RegistryError::Silent { .. } => true,
            RegistryError::Connect { source, .. } | RegistryError::Body { source, .. } => {
                source.is_timeout()
            }
            _ => false,
        }
    }

    /// The distribution error codes the registry sent, if any.
    pub fn codes(&self) -> Vec<&str> {
        match self {
            RegistryError::Status { errors, .. } | RegistryError::Unauthorized { errors, .. } => {
                errors.iter().map(|e| e.code.as_str()).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// TLS verification failures are not worth retrying: they need a CA or a flag.
fn is_certificate_error(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        let text = s.to_string().to_lowercase();
        if text.contains("certificate") || text.contains("unknownissuer") {
            return true;
        }
        source = s.source();
    }
    false
}

/// The URL a request ended at and, when a redirect led there, the one it
/// was sent to; both redacted.
fn hop(asked: &reqwest::Url, reached: Option<&reqwest::Url>) -> (String, Option<String>) {
    let asked = super::redact::redact(asked);
    match reached.map(super::redact::redact) {
        Some(at) if at != asked => (at, Some(asked)),
        _ => (asked, None),
    }
}

/// " (redirected from URL)", said after the URL that failed.
fn via(redirected_from: &Option<String>) -> String {
    redirected_from
        .as_ref()
        .map(|from| format!(" (redirected from {from})"))
        .unwrap_or_default()
}

/// `30 s`, or `250ms` for a limit below a second (tests).
fn seconds(d: std::time::Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{d:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn silent(url: &str, from: Option<&str>) -> RegistryError {
        RegistryError::Silent {
            url: url.into(),
            redirected_from: from.map(String::from),
            after: std::time::Duration::from_secs(30),
        }
    }

    #[test]
    fn a_redirect_target_is_another_host_than_the_registry() {
        let store = silent(
            "https://bucket.s3.amazonaws.com/x?<redacted>",
            Some("https://1.dkr.ecr.us-east-1.amazonaws.com/v2/a/blobs/sha256:0"),
        );
        assert_eq!(
            store.redirect_target().as_deref(),
            Some("bucket.s3.amazonaws.com")
        );
        let same_host = silent(
            "https://reg.example:5000/other/blob",
            Some("https://reg.example:5000/v2/a/blobs/sha256:0"),
        );
        assert_eq!(same_host.redirect_target(), None);
        assert_eq!(
            silent("https://reg.example/v2/", None).redirect_target(),
            None
        );
    }
}
