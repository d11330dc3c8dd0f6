//! Advice for the person reading an error: what to try next, per registry.

use crate::error::ErrorClass;
use crate::layout::LayoutError;
use crate::pull::{ImageError, PullError};
use crate::registry::RegistryError;

const NGC: &str = "nvcr.io";
const DOCKER_HUB: &str = "registry-1.docker.io";

/// A hint for a failed pull, if there is anything useful to say.
pub fn for_pull(e: &PullError) -> Option<String> {
    let host = e.registry.as_str();
    if let Some(l) = layout_error(&e.kind) {
        return for_layout(l);
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
        (ErrorClass::RateLimited, DOCKER_HUB) => Some(
            "Docker Hub limits anonymous pulls; authenticate with --username and --password-stdin, or wait".into(),
        ),
        (ErrorClass::RateLimited, _) => Some("the registry is rate limiting; wait and run the pull again".into()),
        (ErrorClass::NotFound, _) if matches!(e.kind.unshared(), ImageError::NoMatchingPlatform { .. }) => Some(
            "choose one of the listed platforms with --platform, or keep them all with --all-platforms".into(),
        ),
        (ErrorClass::NotFound, _) => Some(format!(
            "check the repository and tag; `regpull ref {}` shows how the name was read",
            e.reference
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
        NGC => {
            "; NGC expects username '$oauthtoken' and your API key as the password (or NGC_API_KEY)"
        }
        DOCKER_HUB => {
            "; Docker Hub credentials are keyed https://index.docker.io/v1/ in docker's config.json"
        }
        _ => "",
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

fn certificate_problem(e: &PullError) -> bool {
    matches!(e.kind.registry_error(), Some(RegistryError::Connect { .. }))
}

const MISSING_LAYER: &str =
    "`regpull verify --repair` pulls missing blobs again; `regpull export --pull always` does too";
const DAMAGED_LAYER: &str = "the layer in the layout is not the one the image names; `regpull verify --repair` replaces damaged blobs";

/// A hint for a failed export.
pub fn for_export(e: &crate::export::ExportError) -> Option<String> {
    use crate::export::ExportError as E;
    use crate::unpack::UnpackError as U;
    match e {
        E::NotInLayout { name, layout } => Some(format!(
            "pull it first (`regpull pull {name} -o {}`), or drop --pull never",
            layout.display()
        )),
        E::Image(i) if matches!(i.pull.kind, crate::pull::ImageError::NoMatchingPlatform { .. }) => Some(
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
