//! A credential for one registry.

use crate::secret::Secret;

/// Username and password (or key), or an OAuth2 refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// Username and password (or API key / token used as a password), sent as HTTP
    /// Basic to the registry or to the token realm it names.
    Basic { username: String, password: Secret },
    /// An OAuth2 refresh token (docker's `identitytoken`), exchanged at the realm.
    IdentityToken(Secret),
}

impl Credential {
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credential::Basic {
            username: username.into(),
            password: Secret::new(password),
        }
    }

    /// The value of an `Authorization: Basic` header. Basic splits user and
    /// password on the first `:`, so only the username may not contain one.
    pub fn basic_header(&self) -> Option<Secret> {
        use base64::Engine as _;
        match self {
            Credential::Basic { username, password } => {
                let raw = format!("{username}:{}", password.expose());
                let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
                Some(Secret::new(format!("Basic {encoded}")))
            }
            Credential::IdentityToken(_) => None,
        }
    }

    /// For messages: the username, or that it is an identity token.
    pub fn describe(&self) -> String {
        match self {
            Credential::Basic { username, .. } => format!("username {username:?}"),
            Credential::IdentityToken(_) => "an identity token".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_keeps_colons_and_newlines_in_the_password() {
        let c = Credential::basic("_json_key", "{\n \"k\": \"a:b\"\n}");
        let h = c.basic_header().unwrap();
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(h.expose().strip_prefix("Basic ").unwrap())
            .unwrap();
        assert_eq!(
            String::from_utf8(raw).unwrap(),
            "_json_key:{\n \"k\": \"a:b\"\n}"
        );
        assert!(!format!("{c:?}").contains("a:b"));
    }
}
