//! `WWW-Authenticate` challenges (RFC 7235 section 4.1), parsed leniently.
//!
//! One header value may hold several challenges (`Negotiate, Basic realm="x"`), and
//! registries send all sorts: quoted and unquoted values, commas inside quotes,
//! escaped quotes, spaces around `=`, trailing commas, token68 blobs. Names are
//! lowercased; quoted strings are unescaped. When the input breaks, [`parse`]
//! returns what was complete up to that point *and* the error, so a caller can
//! use a usable Bearer realm from a slightly broken header yet still report it.

use std::collections::BTreeMap;

/// One authentication challenge.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Challenge {
    /// Lowercased scheme: `basic`, `bearer`, ...
    pub scheme: String,
    /// Lowercased parameter names; a repeated name keeps its last value.
    pub params: BTreeMap<String, String>,
    pub token68: Option<String>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// Where and why a header stopped making sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed WWW-Authenticate header at byte {position}: {reason}")]
pub struct ChallengeError {
    pub position: usize,
    pub reason: &'static str,
}

/// The challenges parsed, and the error that stopped parsing, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub challenges: Vec<Challenge>,
    pub error: Option<ChallengeError>,
}

impl Parsed {
    /// All challenges, or the error if the header was malformed anywhere.
    pub fn strict(self) -> Result<Vec<Challenge>, ChallengeError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.challenges),
        }
    }
}

/// Parses one header value (several header lines may be joined with `, `).
pub fn parse(header: &str) -> Parsed {
    let mut p = Parser {
        s: header.as_bytes(),
        i: 0,
        out: Vec::new(),
    };
    let error = p.challenges().err();
    Parsed {
        challenges: p.out,
        error,
    }
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

fn is_token68_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~+/".contains(&c)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    out: Vec<Challenge>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    /// Skips white space and empty list elements (`, ,`).
    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.i += 1;
        }
    }

    fn fail<T>(&self, reason: &'static str) -> Result<T, ChallengeError> {
        Err(ChallengeError {
            position: self.i,
            reason,
        })
    }

    fn challenges(&mut self) -> Result<(), ChallengeError> {
        self.skip_separators();
        while self.peek().is_some() {
            let scheme = self.word()?.to_lowercase();
            if scheme.is_empty() {
                return self.fail("expected an authentication scheme");
            }
            if self.peek() == Some(b'=') {
                return self.fail("a parameter appears before any scheme");
            }
            self.out.push(Challenge {
                scheme,
                ..Default::default()
            });
            self.skip_ws();
            if let Some(t) = self.token68() {
                self.out.last_mut().expect("just pushed").token68 = Some(t);
            } else {
                self.params()?;
            }
            self.skip_separators();
        }
        Ok(())
    }

    /// A token, or (a quirk some registries have) a quoted string where a token goes.
    fn word(&mut self) -> Result<String, ChallengeError> {
        if self.peek() == Some(b'"') {
            return self.quoted();
        }
        let start = self.i;
        while self.peek().is_some_and(is_tchar) {
            self.i += 1;
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// A token68 right after the scheme: `chars '='*` then the end or a comma.
    fn token68(&mut self) -> Option<String> {
        let start = self.i;
        let mut j = self.i;
        while self.s.get(j).copied().is_some_and(is_token68_char) {
            j += 1;
        }
        if j == start {
            return None;
        }
        while self.s.get(j) == Some(&b'=') {
            j += 1;
        }
        let end = j;
        while matches!(self.s.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        if !matches!(self.s.get(j), None | Some(b',')) {
            return None;
        }
        self.i = j;
        Some(String::from_utf8_lossy(&self.s[start..end]).into_owned())
    }

    /// `name = value` pairs until the next scheme or the end.
    fn params(&mut self) -> Result<(), ChallengeError> {
        loop {
            self.skip_separators();
            if self.peek().is_none() || !self.at_param() {
                return Ok(());
            }
            let name = self.word()?.to_lowercase();
            self.skip_ws();
            if self.peek() != Some(b'=') {
                return self.fail("expected '=' after a parameter name");
            }
            self.i += 1;
            self.skip_ws();
            let value = match self.peek() {
                Some(b'"') => self.quoted()?,
                _ => self.unquoted()?,
            };
            self.out
                .last_mut()
                .expect("a scheme came first")
                .params
                .insert(name, value);
            self.skip_ws();
            match self.peek() {
                None | Some(b',') => {}
                Some(_) => return self.fail("expected ',' between parameters"),
            }
        }
    }

    /// Is the next list element `name=...` (a parameter) rather than a new scheme?
    fn at_param(&self) -> bool {
        let mut j = self.i;
        if self.s.get(j) == Some(&b'"') {
            j += 1;
            while self.s.get(j).is_some_and(|&c| c != b'"') {
                j += 1;
            }
            j += 1;
        } else {
            while self.s.get(j).copied().is_some_and(is_tchar) {
                j += 1;
            }
        }
        if j == self.i {
            // Not a token at all: let the caller report it as a broken parameter.
            return true;
        }
        while matches!(self.s.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        match self.s.get(j) {
            Some(b'=') => true,
            // A lone word at the very end: after parameters it is a parameter that
            // lost its value (`realm="x",service`); after a bare scheme it is the
            // next scheme (`Negotiate, Digest`).
            None => self.out.last().is_some_and(|c| !c.params.is_empty()),
            Some(_) => false,
        }
    }

    /// A value without quotes. Beyond RFC tokens this accepts token68-style
    /// characters such as `/` and `:` (`realm=/`, `scope=repository:a:pull`).
    fn unquoted(&mut self) -> Result<String, ChallengeError> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| !matches!(c, b' ' | b'\t' | b',' | b'"'))
        {
            self.i += 1;
        }
        if self.i == start {
            return self.fail("a parameter has no value");
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn quoted(&mut self) -> Result<String, ChallengeError> {
        debug_assert_eq!(self.peek(), Some(b'"'));
        self.i += 1;
        let mut value = Vec::new();
        loop {
            match self.peek() {
                None => return self.fail("unterminated quoted string"),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(String::from_utf8_lossy(&value).into_owned());
                }
                Some(b'\\') => {
                    self.i += 1;
                    match self.peek() {
                        Some(c) => value.push(c),
                        None => return self.fail("unterminated quoted string"),
                    }
                    self.i += 1;
                }
                Some(c) => {
                    value.push(c);
                    self.i += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_registry_bearer_challenge() {
        let c = parse(r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push""#)
            .strict()
            .unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "bearer");
        assert_eq!(c[0].param("scope"), Some("repository:a/b:pull,push"));
    }

    #[test]
    fn keeps_what_parsed_before_an_error() {
        let p = parse(r#"Bearer realm="https://a/token",service"#);
        assert!(p.error.is_some());
        assert_eq!(p.challenges[0].param("realm"), Some("https://a/token"));
    }
}
