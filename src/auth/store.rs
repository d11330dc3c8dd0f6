//! `regpull login` / `logout`: credentials written the way `docker login` writes
//! them, into docker's config.json (or an auth file): `auths[KEY].auth` as base64
//! `user:password`, or handed to the credential helper the file names for that
//! registry. The file is replaced atomically and is readable by its owner only.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::{AuthError, RegistryName, helper};
use crate::secret::Secret;

pub struct ConfigStore {
    path: PathBuf,
}

impl ConfigStore {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        ConfigStore { path: path.into() }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Saves the credential; returns where it went, for the user.
    pub fn store(
        &self,
        registry: &RegistryName,
        username: &str,
        password: &Secret,
    ) -> Result<String, AuthError> {
        let mut config = self.load()?;
        let key = registry.aliases()[0].to_string();
        if let Some(name) = self.helper_for(&config, registry) {
            helper::store(
                &name,
                &key,
                username,
                password,
                &self.path.display().to_string(),
            )?;
            return Ok(format!(
                "docker-credential-{name} (named in {})",
                self.path.display()
            ));
        }
        let auths = config
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .ok_or_else(|| self.malformed("`auths` is not an object"))?;
        auths.retain(|k, _| !registry.matches_key(k));
        let encoded = base64::engine::general_purpose::STANDARD
            .encode(format!("{username}:{}", password.expose()));
        auths.insert(key.clone(), serde_json::json!({ "auth": encoded }));
        self.save(&config)?;
        Ok(format!("{} auths[{key:?}]", self.path.display()))
    }

    /// Forgets the registry; returns whether anything was there.
    pub fn erase(&self, registry: &RegistryName) -> Result<bool, AuthError> {
        let mut config = self.load()?;
        if let Some(name) = self.helper_for(&config, registry) {
            helper::erase(
                &name,
                registry.aliases()[0],
                &self.path.display().to_string(),
            )?;
        }
        let Some(auths) = config.get_mut("auths").and_then(Value::as_object_mut) else {
            return Ok(false);
        };
        let before = auths.len();
        auths.retain(|k, _| !registry.matches_key(k));
        let removed = auths.len() != before;
        if removed {
            self.save(&config)?;
        }
        Ok(removed)
    }

    fn helper_for(&self, config: &Map<String, Value>, registry: &RegistryName) -> Option<String> {
        let per_registry = config
            .get("credHelpers")
            .and_then(Value::as_object)
            .and_then(|h| h.iter().find(|(k, _)| registry.matches_key(k)))
            .and_then(|(_, v)| v.as_str().map(str::to_string));
        per_registry.or_else(|| {
            config
                .get("credsStore")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
    }

    fn malformed(&self, reason: &str) -> AuthError {
        AuthError::Malformed {
            path: self.path.clone(),
            reason: reason.to_string(),
        }
    }

    fn load(&self) -> Result<Map<String, Value>, AuthError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(Value::Object(map)) => Ok(map),
                Ok(_) => Err(self.malformed("not a JSON object")),
                Err(e) => Err(self.malformed(&format!("not JSON: {e}"))),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
            Err(source) => Err(AuthError::Read {
                path: self.path.clone(),
                source,
            }),
        }
    }

    fn save(&self, config: &Map<String, Value>) -> Result<(), AuthError> {
        let write_err = |source| AuthError::Read {
            path: self.path.clone(),
            source,
        };
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        std::fs::create_dir_all(dir).map_err(write_err)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".regpull-login-")
            .permissions(std::fs::Permissions::from_mode(0o600))
            .tempfile_in(dir)
            .map_err(write_err)?;
        let text = serde_json::to_string_pretty(config).expect("JSON serializes");
        tmp.write_all(text.as_bytes()).map_err(write_err)?;
        tmp.as_file().sync_all().map_err(write_err)?;
        tmp.persist(&self.path).map_err(|e| write_err(e.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_like_docker_login_keeping_other_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, r#"{"auths":{"other.io":{"auth":"eA=="},"https://index.docker.io/v1/":{"auth":"b2xk"}},"psFormat":"table"}"#).unwrap();
        let store = ConfigStore::new(&path);
        let hub = RegistryName::new("docker.io");
        let where_ = store.store(&hub, "me", &Secret::new("pw")).unwrap();
        assert!(where_.contains("https://index.docker.io/v1/"));
        let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(v["psFormat"], "table");
        assert_eq!(v["auths"]["other.io"]["auth"], "eA==");
        assert_eq!(
            v["auths"]["https://index.docker.io/v1/"]["auth"],
            "bWU6cHc="
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(store.erase(&hub).unwrap());
        assert!(!store.erase(&hub).unwrap());
        let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert!(v["auths"].get("https://index.docker.io/v1/").is_none());
    }
}
