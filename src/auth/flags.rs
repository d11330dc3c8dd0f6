//! `--username` with `--password`, `--password-stdin` or `--password-file`.

use super::names::{ECR_USERNAME, GOOGLE_KEY_USERNAME, NGC_USERNAME};
use super::{AuthError, Credential, LocalSource, Lookup, RegistryName};
use crate::secret::Secret;

pub struct FlagSource {
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Which flag the password came from, for messages (`--password-file key.txt`).
    pub password_origin: String,
}

impl LocalSource for FlagSource {
    fn name(&self) -> String {
        "command-line flags".to_string()
    }

    fn read(&self, registry: &RegistryName) -> Result<Lookup, AuthError> {
        let invalid = |reason: &str| AuthError::Invalid {
            what: "command-line credentials".into(),
            reason: reason.into(),
        };
        let username = match (&self.username, &self.password) {
            (None, None) => {
                return Ok(Lookup::NotFound(
                    "no --username or password flag given".into(),
                ));
            }
            (Some(u), Some(_)) if !u.is_empty() => u.clone(),
            // NGC's username is always the same literal; only the key varies.
            (None, Some(_)) if registry.is_ngc() => NGC_USERNAME.to_string(),
            (_, Some(_)) => {
                return Err(invalid(&format!(
                    "a password was given without --username (NGC: '{NGC_USERNAME}', ECR: {ECR_USERNAME}, GCR: {GOOGLE_KEY_USERNAME})"
                )));
            }
            (Some(_), None) => {
                return Err(invalid(
                    "--username was given without --password, --password-stdin or --password-file",
                ));
            }
        };
        let password = self.password.clone().expect("matched above");
        Ok(Lookup::Found {
            credential: Credential::Basic { username, password },
            detail: format!("--username and {}", self.password_origin),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_without_a_username_names_each_vendors_username() {
        let flags = FlagSource {
            username: None,
            password: Some(Secret::new("key")),
            password_origin: "--password-stdin".into(),
        };
        let err = flags.read(&RegistryName::new("ghcr.io")).unwrap_err();
        assert!(
            err.to_string()
                .contains("(NGC: '$oauthtoken', ECR: AWS, GCR: _json_key)"),
            "{err}"
        );
        let Ok(Lookup::Found { credential, .. }) = flags.read(&RegistryName::new("nvcr.io")) else {
            panic!("NGC's username is implied");
        };
        assert_eq!(credential, Credential::basic("$oauthtoken", "key"));
    }
}
