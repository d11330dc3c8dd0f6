//! Google Container Registry and Artifact Registry from a service-account key:
//! `GOOGLE_APPLICATION_CREDENTIALS` names the JSON file, sent whole as the
//! password of the literal user `_json_key` (Google's documented convention).

use std::path::PathBuf;

use super::names::GOOGLE_KEY_USERNAME;
use super::{AuthError, Credential, LocalSource, Lookup, RegistryName};

pub struct GoogleApplicationCredentials {
    path: Option<PathBuf>,
}

impl GoogleApplicationCredentials {
    /// `path` is the value of GOOGLE_APPLICATION_CREDENTIALS, when set.
    pub fn new(path: Option<PathBuf>) -> Self {
        GoogleApplicationCredentials { path }
    }
}

impl LocalSource for GoogleApplicationCredentials {
    fn name(&self) -> String {
        "GOOGLE_APPLICATION_CREDENTIALS".to_string()
    }

    fn read(&self, registry: &RegistryName) -> Result<Lookup, AuthError> {
        if !registry.is_google() {
            return Ok(Lookup::NotFound(
                "only for gcr.io, *.gcr.io and *-docker.pkg.dev".into(),
            ));
        }
        let Some(path) = &self.path else {
            return Ok(Lookup::NotFound(
                "GOOGLE_APPLICATION_CREDENTIALS is not set".into(),
            ));
        };
        let key = std::fs::read_to_string(path).map_err(|source| AuthError::Read {
            path: path.clone(),
            source,
        })?;
        let json: serde_json::Value =
            serde_json::from_str(&key).map_err(|e| AuthError::Malformed {
                path: path.clone(),
                reason: format!("not a service-account JSON key: {e}"),
            })?;
        if json.get("type").and_then(|t| t.as_str()).is_none() {
            return Err(AuthError::Malformed {
                path: path.clone(),
                reason: "no \"type\" field; expected a service-account key file".into(),
            });
        }
        Ok(Lookup::Found {
            credential: Credential::basic(GOOGLE_KEY_USERNAME, key),
            detail: format!("{} as {GOOGLE_KEY_USERNAME}", path.display()),
        })
    }
}
