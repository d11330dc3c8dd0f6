//! The names one registry goes by in credential stores, and each vendor's rules.
//!
//! Docker Hub is `docker.io` in references, `registry-1.docker.io` on the wire,
//! `https://index.docker.io/v1/` in docker's config.json and `auth.docker.io` (its
//! token host) in enroot's credentials; NGC is `nvcr.io` and, for enroot,
//! `authn.nvidia.com`. Keys in config files may carry a scheme and a path
//! (`https://nvcr.io/v2/`), which are ignored.

use crate::reference::{DOCKER_HUB_API_HOST, DOCKER_HUB_DOMAIN};

pub const NGC: &str = "nvcr.io";
/// The username NGC expects; the API key is the password.
pub const NGC_USERNAME: &str = "$oauthtoken";
/// The variable NVIDIA's own `ngc` tool reads the API key from.
pub const NGC_API_KEY_VAR: &str = "NGC_API_KEY";
/// docker's own key for Docker Hub in config.json.
pub const DOCKER_HUB_CONFIG_KEY: &str = "https://index.docker.io/v1/";
/// The username of every ECR token (`aws ecr get-login-password` prints the password).
pub const ECR_USERNAME: &str = "AWS";
/// The literal username under which GCR and Artifact Registry take a
/// service-account key file as the password (Google's documented convention).
pub const GOOGLE_KEY_USERNAME: &str = "_json_key";

/// A registry as credential sources know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryName {
    /// As written in references: `docker.io`, `nvcr.io`, `localhost:5000`.
    pub domain: String,
}

impl RegistryName {
    pub fn new(domain: &str) -> Self {
        RegistryName {
            domain: domain.to_string(),
        }
    }

    pub fn is_docker_hub(&self) -> bool {
        self.domain == DOCKER_HUB_DOMAIN
    }

    pub fn is_ngc(&self) -> bool {
        self.domain == NGC
    }

    /// GCR and Artifact Registry: `gcr.io`, `*.gcr.io`, `*-docker.pkg.dev`.
    pub fn is_google(&self) -> bool {
        let host = self.host();
        host == "gcr.io" || host.ends_with(".gcr.io") || host.ends_with("-docker.pkg.dev")
    }

    fn host(&self) -> &str {
        self.domain.split(':').next().unwrap_or_default()
    }

    /// Every spelling a credential store may use for this registry, preferred first.
    pub fn aliases(&self) -> Vec<&str> {
        if self.is_docker_hub() {
            vec![
                DOCKER_HUB_CONFIG_KEY,
                DOCKER_HUB_DOMAIN,
                "index.docker.io",
                DOCKER_HUB_API_HOST,
                "auth.docker.io",
            ]
        } else if self.is_ngc() {
            vec![NGC, "authn.nvidia.com"]
        } else {
            vec![self.domain.as_str()]
        }
    }

    /// Does a credential-store key (`https://nvcr.io/v2/`, `nvcr.io`) name this registry?
    pub fn matches_key(&self, key: &str) -> bool {
        let bare = normalize_key(key);
        self.aliases().iter().any(|a| normalize_key(a) == bare)
    }
}

/// `https://Host:443/v1/` -> `host:443`: scheme and path dropped, host lowercased.
fn normalize_key(key: &str) -> String {
    let no_scheme = key.split_once("://").map_or(key, |(_, rest)| rest);
    no_scheme
        .split('/')
        .next()
        .unwrap_or_default()
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_goes_by_many_names() {
        let hub = RegistryName::new("docker.io");
        for key in [
            "https://index.docker.io/v1/",
            "docker.io",
            "registry-1.docker.io",
            "auth.docker.io",
            "index.docker.io",
        ] {
            assert!(hub.matches_key(key), "{key}");
        }
        assert!(!hub.matches_key("ghcr.io"));
    }

    #[test]
    fn keys_ignore_scheme_and_path_but_not_port() {
        let r = RegistryName::new("localhost:5000");
        assert!(r.matches_key("http://localhost:5000/v2/"));
        assert!(!r.matches_key("localhost:5001"));
        assert!(RegistryName::new("nvcr.io").matches_key("authn.nvidia.com"));
        assert!(RegistryName::new("europe-west1-docker.pkg.dev").is_google());
        assert!(RegistryName::new("eu.gcr.io").is_google());
        assert!(!RegistryName::new("gcr.io.evil.example").is_google());
    }
}
