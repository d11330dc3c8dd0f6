//! Advice for the person reading an error: what to try next, per registry.
//!
//! Worked out here, beside the reporting, from the library's typed errors: the
//! library says what failed and which class it is; only the CLI talks to people.
//! Registry names and vendor usernames come from `regpull::auth::names`, so the
//! advice cannot drift from what the credential sources actually do.

use regpull::auth::names::{
    DOCKER_HUB_CONFIG_KEY, ECR_USERNAME, GOOGLE_KEY_USERNAME, NGC, NGC_API_KEY_VAR, NGC_USERNAME,
};
use regpull::export::ExportError;
use regpull::layout::LayoutError;
use regpull::pull::{ImageError, PullError};
use regpull::push::{PushError, PushFailure};
use regpull::reference::{DOCKER_HUB_API_HOST, ReferenceError};
use regpull::registry::RegistryError;
use regpull::unpack::UnpackError;
use regpull::{Error, ErrorClass};

use super::proxy_hint;

/// Advice for any error a command returns, when there is something to suggest.
pub fn for_error(e: &Error) -> Option<String> {
    match e {
        Error::Reference(ReferenceError::Uppercase { .. }) => Some(
            "repository names are lowercase; only the registry host may have capitals".into(),
        ),
        Error::Reference(_) => Some(
            "a reference looks like [REGISTRY[:PORT]/]REPOSITORY[:TAG][@sha256:DIGEST], e.g. nvcr.io/nvidia/tensorflow:18.08-py3"
                .into(),
        ),
        Error::Pull(e) => for_pull(e),
        Error::Usage { hint, .. } => hint.clone(),
        Error::Login { registry, source } => proxy_hint::for_registry_error(source).or_else(|| {
            (source.class() == ErrorClass::Auth).then(|| format!(
                "the registry refused these credentials; nothing was saved (NGC: '{NGC_USERNAME}' and the API key; \
                 ECR: {ECR_USERNAME} and `aws ecr get-login-password`; GCR: {GOOGLE_KEY_USERNAME} and the key file) \
                 for {registry}"
            ))
        }),
        Error::Credentials(_) => {
            Some("fix the file named above, or choose another with --auth-file".into())
        }
        Error::Hosts(_) => Some(
            "fix the file or flag named above; --registries-conf and --hosts-dir choose other files (docs/mirrors.md)"
                .into(),
        ),
        Error::Platform(_) => Some(
            "platforms look like OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64/v8".into(),
        ),
        Error::Layout { source, .. } => for_layout(source),
        Error::NotInLayout { layout, .. } => Some(format!(
            "`regpull list --layout {}` shows the images it holds",
            layout.display()
        )),
        Error::LayoutDamaged { layout, .. } => Some(format!(
            "`regpull verify --repair --layout {}` deletes damaged blobs and pulls the affected images again",
            layout.display()
        )),
        Error::Inspect(e) => for_pull(&e.pull),
        Error::Export { source, .. } => for_export(source),
        Error::Push(e) => for_push(e),
    }
}

/// A hint for a failed push.
pub fn for_push(e: &PushError) -> Option<String> {
    let host = e.registry.as_str();
    if let Some(hint) = e
        .kind
        .registry_error()
        .and_then(proxy_hint::for_registry_error)
    {
        return Some(hint);
    }
    match (e.class(), e.kind.unshared()) {
        (_, PushFailure::Layout(l)) => for_layout(l),
        (ErrorClass::Auth, PushFailure::Credentials(_)) => Some(
            "fix or remove the credential source named above; regpull does not fall back to anonymous \
             when a source cannot be read"
                .into(),
        ),
        (ErrorClass::Auth, _) => {
            let what = match &e.credential_source {
                Some(source) => format!("the credentials sent to {host} came from {source}"),
                None => format!(
                    "no credential source had an entry for {host}, so the push was anonymous"
                ),
            };
            Some(format!(
                "{what}; pushing needs write access to the repository: pass --username and \
                 --password-stdin, or store them with `regpull login {host}`"
            ))
        }
        (ErrorClass::NotFound, PushFailure::MissingManifest { .. } | PushFailure::MissingBlob { .. }) => Some(
            "`regpull verify --repair` pulls missing blobs again; an index needs every platform (`regpull pull --all-platforms`)".into(),
        ),
        (ErrorClass::Network | ErrorClass::RateLimited, _) => Some(
            "this may pass; run the push again: what the registry already holds is not sent again".into(),
        ),
        (ErrorClass::Verification, _) => Some(
            "`regpull verify` checks the layout's blobs; a registry that names another digest may be rewriting manifests"
                .into(),
        ),
        (ErrorClass::Usage, _) if matches!(e.kind.registry_error(), Some(RegistryError::Connect { .. })) => Some(
            "trust the registry's CA with --ca-cert FILE, /etc/docker/certs.d/HOST/ca.crt or SSL_CERT_FILE; \
             --insecure skips verification"
                .into(),
        ),
        _ => None,
    }
}

/// A hint for a failed pull, if there is anything useful to say.
pub fn for_pull(e: &PullError) -> Option<String> {
    let host = e.registry.as_str();
    if let Some(l) = layout_error(&e.kind) {
        return for_layout(l);
    }
    if let Some(hint) = e
        .kind
        .registry_error()
        .and_then(proxy_hint::for_registry_error)
    {
        return Some(hint);
    }
    match (e.class(), host) {
        (ErrorClass::Auth, _) if matches!(e.kind.unshared(), ImageError::Credentials(_)) => Some(
            "fix or remove the credential source named above; regpull does not fall back to anonymous \
             when a source cannot be read"
                .into(),
        ),
        (ErrorClass::Auth, _) if unusable_challenge(e) => Some(format!(
            "{host} (or a proxy in front of it) answered with an authentication challenge regpull cannot use; \
             `curl -si https://{host}/v2/` shows it"
        )),
        (ErrorClass::Auth, _) if insecure_basic(e) => Some(
            "use HTTPS for this registry; plain HTTP may carry passwords only to this machine".into(),
        ),
        (ErrorClass::Auth, _) => Some(auth_hint(e)),
        (ErrorClass::RateLimited, DOCKER_HUB_API_HOST) => Some(
            "Docker Hub limits anonymous pulls; authenticate with --username and --password-stdin, or wait".into(),
        ),
        (ErrorClass::RateLimited, _) => {
            Some("the registry is rate limiting; wait and run the pull again".into())
        }
        (ErrorClass::NotFound, _)
            if matches!(e.kind.unshared(), ImageError::NoMatchingPlatform { .. }) =>
        {
            Some(
                "choose one of the listed platforms with --platform, or keep them all with --all-platforms"
                    .into(),
            )
        }
        (ErrorClass::NotFound, _) => Some(format!(
            "check the repository and tag; `regpull ref {}` shows how the name was read",
            e.reference
        )),
        (ErrorClass::Network, _) if let Some(store) = redirect_target(e) => Some(format!(
            "{host} keeps its blobs at {store} and sends pulls there: this machine must reach it too \
             (a firewall, HTTPS_PROXY or NO_PROXY that lets only {host} through stops here)"
        )),
        (ErrorClass::Network, _) => Some("this may pass; run the pull again".into()),
        (ErrorClass::Verification, _) => Some(
            "nothing unverified was stored; run the pull again, and if it persists the registry's copy \
             (or a proxy or cache in between) is damaged: tell its operator"
                .into(),
        ),
        (ErrorClass::Usage, _) if certificate_problem(e) => Some(
            "trust the registry's CA with --ca-cert FILE, /etc/docker/certs.d/HOST/ca.crt or SSL_CERT_FILE; \
             --insecure skips verification"
                .into(),
        ),
        _ => None,
    }
}

/// Names the credential that was sent (or that none was) and what to try.
fn auth_hint(e: &PullError) -> String {
    let host = e.registry.as_str();
    let what = match &e.credential_source {
        Some(source) => format!("the credentials sent to {host} came from {source}"),
        None => {
            format!("no credential source had an entry for {host}, so the request was anonymous")
        }
    };
    let vendor = match host {
        NGC => format!(
            "; NGC expects username '{NGC_USERNAME}' and your API key as the password (or {NGC_API_KEY_VAR})"
        ),
        DOCKER_HUB_API_HOST => format!(
            "; Docker Hub credentials are keyed {DOCKER_HUB_CONFIG_KEY} in docker's config.json"
        ),
        _ => String::new(),
    };
    format!(
        "{what}{vendor}; `regpull auth {}` shows every source tried",
        e.reference
    )
}

pub fn for_layout(e: &LayoutError) -> Option<String> {
    if let LayoutError::NoSpace { .. } = e {
        return Some(
            "free space on that filesystem, run `regpull gc`, or choose another --output".into(),
        );
    }
    match e.io_error().map(std::io::Error::kind) {
        Some(std::io::ErrorKind::StorageFull) => Some(
            "the disk holding the layout is full; free space or choose another --output".into(),
        ),
        Some(std::io::ErrorKind::PermissionDenied) => {
            Some("check that you may write to the layout directory".into())
        }
        _ => None,
    }
}

fn layout_error(kind: &ImageError) -> Option<&LayoutError> {
    match kind.unshared() {
        ImageError::Layout(l) => Some(l),
        ImageError::Blob { source, .. } => layout_error(source),
        _ => None,
    }
}

fn insecure_basic(e: &PullError) -> bool {
    matches!(
        e.kind.registry_error(),
        Some(RegistryError::InsecureBasic { .. })
    )
}

fn unusable_challenge(e: &PullError) -> bool {
    matches!(
        e.kind.registry_error(),
        Some(
            RegistryError::BadChallenge { .. }
                | RegistryError::UnsupportedScheme { .. }
                | RegistryError::RealmRefused { .. }
                | RegistryError::BadToken { .. }
        )
    )
}

/// The host a registry redirected to, when that is what could not be reached
/// or went silent.
fn redirect_target(e: &PullError) -> Option<String> {
    e.kind.registry_error()?.redirect_target()
}

fn certificate_problem(e: &PullError) -> bool {
    matches!(e.kind.registry_error(), Some(RegistryError::Connect { .. }))
}

const MISSING_LAYER: &str =
    "`regpull verify --repair` pulls missing blobs again; `regpull export --pull always` does too";
const DAMAGED_LAYER: &str = "the layer in the layout is not the one the image names; `regpull verify --repair` replaces damaged blobs";

/// A hint for a failed export.
pub fn for_export(e: &ExportError) -> Option<String> {
    use ExportError as E;
    use UnpackError as U;
    match e {
        E::NotInLayout { name, layout } => Some(format!(
            "pull it first (`regpull pull {name} -o {}`), or drop --pull never",
            layout.display()
        )),
        E::Image(i) if matches!(i.pull.kind, ImageError::NoMatchingPlatform { .. }) => Some(
            "the layout holds the platforms listed: export one with --platform, or drop --pull never to pull the one asked for".into(),
        ),
        E::Image(i) => for_pull(&i.pull),
        E::Unpack { source, .. } if matches!(**source, U::MissingLayer { .. }) => {
            Some(MISSING_LAYER.into())
        }
        E::MissingLayer { .. } => Some(MISSING_LAYER.into()),
        E::Unpack { source, .. } if matches!(**source, U::DiffId { .. } | U::LayerSize { .. }) => {
            Some(DAMAGED_LAYER.into())
        }
        E::LayerMismatch { .. } | E::DiffId { .. } => Some(DAMAGED_LAYER.into()),
        E::Unpack { source, .. } if source.class() == ErrorClass::LocalIo => {
            Some("check free space and permissions where OUTPUT is written".into())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use regpull::ImageRef;

    use super::*;

    fn refused(status: u16) -> RegistryError {
        RegistryError::Status {
            operation: "fetching the manifest".into(),
            url: "https://example/v2/".into(),
            status,
            errors: Vec::new(),
            text: None,
            retry_after: None,
        }
    }

    fn failed_pull(reference: &str, source: Option<&str>, status: u16) -> PullError {
        let reference = ImageRef::parse(reference).unwrap();
        PullError::new(
            &reference,
            source.map(str::to_string),
            refused(status).into(),
        )
    }

    // The vendor advice is spelled from auth::names' constants; these pin the
    // words people read, so a renamed constant cannot change them unnoticed.
    #[test]
    fn ngc_auth_failures_name_the_oauthtoken_user_and_the_key_variable() {
        let e = failed_pull("nvcr.io/nvidia/cuda:12", None, 401);
        assert_eq!(
            for_pull(&e).unwrap(),
            "no credential source had an entry for nvcr.io, so the request was anonymous; \
             NGC expects username '$oauthtoken' and your API key as the password (or NGC_API_KEY); \
             `regpull auth nvcr.io/nvidia/cuda:12` shows every source tried"
        );
    }

    #[test]
    fn docker_hub_auth_failures_name_dockers_config_key() {
        let e = failed_pull("alpine", Some("docker config /c/config.json"), 403);
        assert_eq!(
            for_pull(&e).unwrap(),
            "the credentials sent to registry-1.docker.io came from docker config /c/config.json; \
             Docker Hub credentials are keyed https://index.docker.io/v1/ in docker's config.json; \
             `regpull auth docker.io/library/alpine` shows every source tried"
        );
    }

    #[test]
    fn other_registries_get_no_vendor_advice() {
        let e = failed_pull("ghcr.io/a/b:1", None, 401);
        let hint = for_pull(&e).unwrap();
        assert!(hint.starts_with("no credential source had an entry for ghcr.io"));
        assert!(
            !hint.contains("NGC") && !hint.contains("Docker Hub"),
            "{hint}"
        );
    }

    #[test]
    fn only_docker_hub_rate_limits_suggest_logging_in() {
        let hub = failed_pull("alpine", None, 429);
        assert!(
            for_pull(&hub)
                .unwrap()
                .starts_with("Docker Hub limits anonymous pulls")
        );
        let other = failed_pull("ghcr.io/a/b:1", None, 429);
        assert_eq!(
            for_pull(&other).unwrap(),
            "the registry is rate limiting; wait and run the pull again"
        );
    }

    #[test]
    fn a_refused_login_names_each_vendors_username() {
        let e = Error::Login {
            registry: "nvcr.io".into(),
            source: Box::new(refused(401)),
        };
        assert_eq!(
            for_error(&e).unwrap(),
            "the registry refused these credentials; nothing was saved (NGC: '$oauthtoken' and the API key; \
             ECR: AWS and `aws ecr get-login-password`; GCR: _json_key and the key file) for nvcr.io"
        );
        let unreachable = Error::Login {
            registry: "nvcr.io".into(),
            source: Box::new(refused(503)),
        };
        assert_eq!(for_error(&unreachable), None);
    }
}
