//! enroot's `.credentials`: netrc lines `machine HOST login USER password PASS`.
//!
//! enroot users key Docker Hub by its token host (`auth.docker.io`) and NGC by
//! `nvcr.io` and `authn.nvidia.com`; [`RegistryName::aliases`] covers both.

use std::path::PathBuf;

use super::{AuthError, Credential, LocalSource, Lookup, RegistryName};

pub struct EnrootCredentials {
    path: PathBuf,
}

impl EnrootCredentials {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        EnrootCredentials { path: path.into() }
    }
}

struct Entry {
    machine: Option<String>,
    login: Option<String>,
    password: Option<String>,
}

/// netrc: whitespace-separated `keyword value` pairs; `machine` or `default`
/// starts an entry; `#` starts a comment.
fn parse(text: &str) -> Result<Vec<Entry>, String> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut words = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default())
        .flat_map(str::split_whitespace);
    while let Some(word) = words.next() {
        let mut value = |k: &str| {
            words
                .next()
                .map(str::to_string)
                .ok_or(format!("`{k}` has no value"))
        };
        match word {
            "machine" => entries.push(Entry {
                machine: Some(value("machine")?),
                login: None,
                password: None,
            }),
            "default" => entries.push(Entry {
                machine: None,
                login: None,
                password: None,
            }),
            "login" | "password" | "account" | "macdef" => {
                let v = value(word)?;
                let e = entries
                    .last_mut()
                    .ok_or(format!("`{word}` before any `machine`"))?;
                match word {
                    "login" => e.login = Some(v),
                    "password" => e.password = Some(v),
                    _ => {}
                }
            }
            other => return Err(format!("unexpected word {other:?}")),
        }
    }
    Ok(entries)
}

impl LocalSource for EnrootCredentials {
    fn name(&self) -> String {
        format!("enroot credentials {}", self.path.display())
    }

    fn read(&self, registry: &RegistryName) -> Result<Lookup, AuthError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Lookup::NotFound(format!(
                    "{} does not exist",
                    self.path.display()
                )));
            }
            Err(source) => {
                return Err(AuthError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let entries = parse(&text).map_err(|reason| AuthError::Malformed {
            path: self.path.clone(),
            reason,
        })?;
        // Prefer the registry's own name, then its token host, then `default`.
        for alias in registry.aliases() {
            if let Some(e) = entries.iter().find(|e| {
                e.machine
                    .as_deref()
                    .is_some_and(|m| RegistryName::new(alias).matches_key(m))
            }) {
                return found(
                    e,
                    &format!("machine {}", e.machine.as_deref().unwrap_or_default()),
                    &self.path,
                );
            }
        }
        match entries.iter().find(|e| e.machine.is_none()) {
            Some(e) => found(e, "default", &self.path),
            None => Ok(Lookup::NotFound(format!(
                "no machine {}",
                registry.aliases().join(" or ")
            ))),
        }
    }
}

fn found(e: &Entry, which: &str, path: &std::path::Path) -> Result<Lookup, AuthError> {
    match (&e.login, &e.password) {
        (Some(u), Some(p)) => Ok(Lookup::Found {
            credential: Credential::basic(u, p),
            detail: which.to_string(),
        }),
        _ => Err(AuthError::Malformed {
            path: path.to_path_buf(),
            reason: format!("{which} lacks a login or a password"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_registry_and_token_hosts() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".credentials");
        std::fs::write(
            &p,
            "# enroot\nmachine authn.nvidia.com login $oauthtoken password nvapi-key\nmachine auth.docker.io login hubuser password hubpass\n",
        )
        .unwrap();
        let src = EnrootCredentials::new(&p);
        let Lookup::Found { credential, .. } = src.read(&RegistryName::new("nvcr.io")).unwrap()
        else {
            panic!()
        };
        assert_eq!(credential, Credential::basic("$oauthtoken", "nvapi-key"));
        let Lookup::Found { credential, .. } = src.read(&RegistryName::new("docker.io")).unwrap()
        else {
            panic!()
        };
        assert_eq!(credential, Credential::basic("hubuser", "hubpass"));
        assert!(matches!(
            src.read(&RegistryName::new("ghcr.io")).unwrap(),
            Lookup::NotFound(_)
        ));
        std::fs::write(&p, "machine x login").unwrap();
        assert!(
            src.read(&RegistryName::new("x"))
                .unwrap_err()
                .to_string()
                .contains(".credentials")
        );
    }
}
