//! docker's `config.json` and podman/skopeo's `auth.json` (the same format):
//! `auths` (base64 `auth`, or `username`/`password`, or `identitytoken`),
//! `credHelpers` per registry and `credsStore` for the rest. A Kubernetes
//! `docker-registry` secret's `.dockerconfigjson` is this format too, and so is a
//! whole Secret object in JSON (its `data[".dockerconfigjson"]`, base64).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

use super::{AuthError, Credential, LocalSource, Lookup, RegistryName, helper};
use crate::secret::Secret;

/// Config files are small; anything larger is not one.
const MAX_CONFIG_BYTES: u64 = 4 << 20;

#[derive(Deserialize, Default)]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// docker's `config.json`.
pub struct DockerConfig {
    path: PathBuf,
}

/// podman/skopeo `auth.json`, `--auth-file`, or a Kubernetes pull secret.
pub struct AuthFile {
    path: PathBuf,
    label: &'static str,
    /// `--auth-file` must exist; the default auth.json need not.
    required: bool,
}

impl DockerConfig {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        DockerConfig { path: path.into() }
    }
}

impl AuthFile {
    pub fn new(path: impl Into<PathBuf>, label: &'static str, required: bool) -> Self {
        AuthFile {
            path: path.into(),
            label,
            required,
        }
    }
}

impl LocalSource for DockerConfig {
    fn name(&self) -> String {
        format!("docker config {}", self.path.display())
    }

    fn read(&self, registry: &RegistryName) -> Result<Lookup, AuthError> {
        match load(&self.path, false)? {
            None => Ok(Lookup::NotFound(format!(
                "{} does not exist",
                self.path.display()
            ))),
            Some(config) => lookup_in(&config, &self.path, registry),
        }
    }
}

impl LocalSource for AuthFile {
    fn name(&self) -> String {
        format!("{} {}", self.label, self.path.display())
    }

    fn read(&self, registry: &RegistryName) -> Result<Lookup, AuthError> {
        match load(&self.path, self.required)? {
            None => Ok(Lookup::NotFound(format!(
                "{} does not exist",
                self.path.display()
            ))),
            Some(config) => lookup_in(&config, &self.path, registry),
        }
    }
}

fn load(path: &Path, required: bool) -> Result<Option<ConfigFile>, AuthError> {
    use std::io::Read;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(None),
        Err(source) => {
            return Err(AuthError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|source| AuthError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    let malformed = |reason: String| AuthError::Malformed {
        path: path.to_path_buf(),
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| malformed(format!("not JSON: {e}")))?;
    // A whole Kubernetes Secret: the config is base64 under data[".dockerconfigjson"].
    let value = match value
        .pointer("/data/.dockerconfigjson")
        .and_then(|v| v.as_str())
    {
        Some(encoded) => {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|e| {
                    malformed(format!("data[\".dockerconfigjson\"] is not base64: {e}"))
                })?;
            serde_json::from_slice(&raw)
                .map_err(|e| malformed(format!("data[\".dockerconfigjson\"] is not JSON: {e}")))?
        }
        None => value,
    };
    serde_json::from_value(value)
        .map(Some)
        .map_err(|e| malformed(e.to_string()))
}

fn lookup_in(
    config: &ConfigFile,
    path: &Path,
    registry: &RegistryName,
) -> Result<Lookup, AuthError> {
    let origin = |what: &str| format!("{what} in {}", path.display());
    if let Some((key, helper_name)) = config
        .cred_helpers
        .iter()
        .find(|(k, _)| registry.matches_key(k))
    {
        return helper::get(helper_name, key, &origin(&format!("credHelpers[{key:?}]")));
    }
    let entry = config.auths.iter().find(|(k, _)| registry.matches_key(k));
    if let Some(store) = &config.creds_store {
        let server = entry.map_or_else(|| registry.aliases()[0].to_string(), |(k, _)| k.clone());
        if let Lookup::Found { credential, detail } =
            helper::get(store, &server, &origin("credsStore"))?
        {
            return Ok(Lookup::Found { credential, detail });
        }
    }
    let Some((key, entry)) = entry else {
        return Ok(Lookup::NotFound(format!(
            "no entry for {}",
            registry.aliases().join(" or ")
        )));
    };
    let malformed = |reason: String| AuthError::Malformed {
        path: path.to_path_buf(),
        reason: format!("auths[{key:?}]: {reason}"),
    };
    let detail = format!("auths[{key:?}]");
    if let Some(token) = entry.identitytoken.as_ref().filter(|t| !t.is_empty()) {
        return Ok(Lookup::Found {
            credential: Credential::IdentityToken(Secret::new(token.clone())),
            detail,
        });
    }
    if let Some(auth) = entry.auth.as_ref().filter(|a| !a.is_empty()) {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|e| malformed(format!("`auth` is not base64: {e}")))?;
        let text =
            String::from_utf8(raw).map_err(|_| malformed("`auth` is not UTF-8 text".into()))?;
        let (user, pass) = text
            .split_once(':')
            .ok_or_else(|| malformed("`auth` does not decode to USER:PASSWORD".into()))?;
        return Ok(Lookup::Found {
            credential: Credential::basic(user, pass),
            detail,
        });
    }
    match (&entry.username, &entry.password) {
        (Some(u), Some(p)) if !u.is_empty() => Ok(Lookup::Found {
            credential: Credential::basic(u, p),
            detail,
        }),
        _ => Ok(Lookup::NotFound(format!("{detail} holds no credential"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("config.json");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_base64_auth_and_identity_tokens_by_any_key_spelling() {
        let dir = tempfile::tempdir().unwrap();
        let auth = base64::engine::general_purpose::STANDARD.encode("$oauthtoken:key:with:colons");
        let p = write(
            dir.path(),
            &format!(
                r#"{{"auths":{{"https://nvcr.io/v2/":{{"auth":"{auth}"}},"https://index.docker.io/v1/":{{"identitytoken":"idt"}}}}}}"#
            ),
        );
        let cfg = DockerConfig::new(&p);
        let Lookup::Found { credential, detail } = cfg.read(&RegistryName::new("nvcr.io")).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            credential,
            Credential::basic("$oauthtoken", "key:with:colons")
        );
        assert!(detail.contains("https://nvcr.io/v2/"));
        let Lookup::Found { credential, .. } = cfg.read(&RegistryName::new("docker.io")).unwrap()
        else {
            panic!()
        };
        assert_eq!(credential, Credential::IdentityToken(Secret::new("idt")));
        assert!(matches!(
            cfg.read(&RegistryName::new("ghcr.io")).unwrap(),
            Lookup::NotFound(_)
        ));
    }

    #[test]
    fn a_broken_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "{ not json");
        let err = DockerConfig::new(&p)
            .read(&RegistryName::new("r.io"))
            .unwrap_err();
        assert!(err.to_string().contains(&p.display().to_string()), "{err}");
        let p = write(dir.path(), r#"{"auths":{"r.io":{"auth":"%%%"}}}"#);
        let err = DockerConfig::new(&p)
            .read(&RegistryName::new("r.io"))
            .unwrap_err();
        assert!(err.to_string().contains("auths[\"r.io\"]"), "{err}");
        let missing = AuthFile::new(dir.path().join("nope.json"), "--auth-file", true);
        assert!(
            missing
                .read(&RegistryName::new("r.io"))
                .unwrap_err()
                .to_string()
                .contains("nope.json")
        );
    }

    #[test]
    fn reads_a_kubernetes_pull_secret() {
        let dir = tempfile::tempdir().unwrap();
        let inner = r#"{"auths":{"harbor.example":{"username":"robot$ci","password":"p"}}}"#;
        let encoded = base64::engine::general_purpose::STANDARD.encode(inner);
        let p = write(
            dir.path(),
            &format!(
                r#"{{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/dockerconfigjson","data":{{".dockerconfigjson":"{encoded}"}}}}"#
            ),
        );
        let Lookup::Found { credential, .. } = AuthFile::new(&p, "--auth-file", true)
            .read(&RegistryName::new("harbor.example"))
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(credential, Credential::basic("robot$ci", "p"));
    }
}
