//! Credentials in environment variables, as users of other tools already export them.
//!
//! `REGPULL_USERNAME` / `REGPULL_PASSWORD` for any registry; `NGC_API_KEY` (or
//! sregistry's `SREGISTRY_NVIDIA_TOKEN`) for nvcr.io; Singularity's and
//! Apptainer's `*_DOCKER_USERNAME` / `*_DOCKER_PASSWORD`, which HPC users set
//! for whatever registry they pull from.

use std::collections::BTreeMap;

use super::names::{NGC_API_KEY_VAR, NGC_USERNAME};
use super::{AuthError, Credential, LocalSource, Lookup, RegistryName};

const PAIRS: &[(&str, &str)] = &[
    ("REGPULL_USERNAME", "REGPULL_PASSWORD"),
    ("APPTAINER_DOCKER_USERNAME", "APPTAINER_DOCKER_PASSWORD"),
    ("SINGULARITY_DOCKER_USERNAME", "SINGULARITY_DOCKER_PASSWORD"),
];
const NGC_KEYS: &[&str] = &[NGC_API_KEY_VAR, "SREGISTRY_NVIDIA_TOKEN"];

/// A snapshot of the environment, passed in so that tests never touch the real one.
pub struct EnvSource {
    vars: BTreeMap<String, String>,
}

impl EnvSource {
    pub fn new(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        EnvSource {
            vars: vars.into_iter().filter(|(_, v)| !v.is_empty()).collect(),
        }
    }

    fn get(&self, k: &str) -> Option<&String> {
        self.vars.get(k)
    }
}

impl LocalSource for EnvSource {
    fn name(&self) -> String {
        "environment".to_string()
    }

    fn read(&self, registry: &RegistryName) -> Result<Lookup, AuthError> {
        for (user_var, pass_var) in PAIRS {
            match (self.get(user_var), self.get(pass_var)) {
                (Some(u), Some(p)) => {
                    return Ok(Lookup::Found {
                        credential: Credential::basic(u, p),
                        detail: format!("{user_var} and {pass_var}"),
                    });
                }
                (None, Some(p)) if registry.is_ngc() => {
                    return Ok(Lookup::Found {
                        credential: Credential::basic(NGC_USERNAME, p),
                        detail: format!("{pass_var} (username {NGC_USERNAME})"),
                    });
                }
                (None, None) => {}
                (u, _) => {
                    let (set, unset) = if u.is_some() {
                        (user_var, pass_var)
                    } else {
                        (pass_var, user_var)
                    };
                    return Err(AuthError::Invalid {
                        what: "environment credentials".into(),
                        reason: format!("{set} is set but {unset} is not"),
                    });
                }
            }
        }
        if registry.is_ngc()
            && let Some((var, key)) = NGC_KEYS.iter().find_map(|v| self.get(v).map(|k| (v, k)))
        {
            return Ok(Lookup::Found {
                credential: Credential::basic(NGC_USERNAME, key),
                detail: format!("{var} (username {NGC_USERNAME})"),
            });
        }
        let mut names: Vec<&str> = PAIRS.iter().map(|(u, _)| *u).collect();
        if registry.is_ngc() {
            names.extend(NGC_KEYS);
        }
        Ok(Lookup::NotFound(format!(
            "none of {} is set",
            names.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> EnvSource {
        EnvSource::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn ngc_keys_imply_the_oauthtoken_user() {
        let ngc = RegistryName::new("nvcr.io");
        let Lookup::Found { credential, detail } = env(&[("NGC_API_KEY", "k")]).read(&ngc).unwrap()
        else {
            panic!("NGC_API_KEY is used for nvcr.io");
        };
        assert_eq!(credential, Credential::basic("$oauthtoken", "k"));
        assert!(detail.contains("NGC_API_KEY"));
        let other = RegistryName::new("ghcr.io");
        assert!(matches!(
            env(&[("NGC_API_KEY", "k")]).read(&other).unwrap(),
            Lookup::NotFound(_)
        ));
    }

    #[test]
    fn hpc_variables_and_half_set_pairs() {
        let r = RegistryName::new("ghcr.io");
        let found = env(&[
            ("APPTAINER_DOCKER_USERNAME", "u"),
            ("APPTAINER_DOCKER_PASSWORD", "p"),
        ])
        .read(&r)
        .unwrap();
        assert!(matches!(found, Lookup::Found { .. }));
        let err = env(&[("REGPULL_USERNAME", "u")]).read(&r).unwrap_err();
        assert!(
            err.to_string()
                .contains("REGPULL_USERNAME is set but REGPULL_PASSWORD is not"),
            "{err}"
        );
    }
}
