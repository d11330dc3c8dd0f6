//! Sources asked in order; the first answer wins, and the trail says why the
//! others did not answer.

use super::{AuthError, Credential, CredentialSource, Lookup, RegistryName};

/// What one source said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub source: String,
    /// `Some(detail)` when this source answered; the reason it did not otherwise.
    pub answered: Option<String>,
    pub reason: String,
}

/// The outcome of asking the chain about one registry.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub credential: Option<Credential>,
    /// The source that answered, with its detail, e.g.
    /// `docker config /root/.docker/config.json: auths["nvcr.io"]`.
    pub source: Option<String>,
    pub steps: Vec<Step>,
}

#[derive(Default)]
pub struct Chain {
    sources: Vec<Box<dyn CredentialSource>>,
}

impl Chain {
    pub fn new() -> Self {
        Chain::default()
    }

    pub fn push(&mut self, source: impl CredentialSource + 'static) {
        self.sources.push(Box::new(source));
    }

    /// Drops every source's cached answer for `registry` (a 403 "expired").
    pub fn invalidate(&self, registry: &RegistryName) {
        self.sources.iter().for_each(|s| s.invalidate(registry));
    }

    pub async fn resolve(&self, registry: &RegistryName) -> Result<Resolution, AuthError> {
        let mut steps = Vec::new();
        for source in &self.sources {
            match source.lookup(registry).await? {
                Lookup::Found { credential, detail } => {
                    let name = format!("{}: {detail}", source.name());
                    steps.push(Step {
                        source: source.name(),
                        answered: Some(detail.clone()),
                        reason: format!("answered with {}", credential.describe()),
                    });
                    return Ok(Resolution {
                        credential: Some(credential),
                        source: Some(name),
                        steps,
                    });
                }
                Lookup::NotFound(reason) => steps.push(Step {
                    source: source.name(),
                    answered: None,
                    reason,
                }),
            }
        }
        Ok(Resolution {
            credential: None,
            source: None,
            steps,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::LocalSource;

    struct Fixed(&'static str, Option<&'static str>);

    impl LocalSource for Fixed {
        fn name(&self) -> String {
            self.0.to_string()
        }
        fn read(&self, _: &RegistryName) -> Result<Lookup, AuthError> {
            Ok(match self.1 {
                Some(user) => Lookup::Found {
                    credential: Credential::basic(user, "pw"),
                    detail: "entry".into(),
                },
                None => Lookup::NotFound("nothing here".into()),
            })
        }
    }

    #[tokio::test]
    async fn first_answer_wins_and_the_trail_explains() {
        let mut chain = Chain::new();
        chain.push(Fixed("a", None));
        chain.push(Fixed("b", Some("bob")));
        chain.push(Fixed("c", Some("carol")));
        let r = chain.resolve(&RegistryName::new("r.io")).await.unwrap();
        assert_eq!(r.credential, Some(Credential::basic("bob", "pw")));
        assert_eq!(r.source.as_deref(), Some("b: entry"));
        assert_eq!(r.steps.len(), 2);
        assert_eq!(r.steps[0].reason, "nothing here");
    }
}
