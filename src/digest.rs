//! Content digests (`sha256:<hex>`) and a streaming verifier.
//!
//! A [`Digest`] is validated when it is parsed: a known algorithm and exactly the
//! right number of lowercase hex characters. Because of that, `Digest::hex()` is
//! always safe to use as a file name: no digest can become `../../x`.
//!
//! The rules follow opencontainers/go-digest, which distribution/reference uses:
//! a wrong length is `InvalidLength`, a bad alphabet `InvalidFormat`, a well-formed
//! but unknown algorithm (`sha384`, `md5`) `Unsupported`.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256, Sha512};

/// A hash algorithm that regpull can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    /// The name used in digests and in `blobs/<alg>/` directories.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Length of the hex encoding of this algorithm's output.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(Algorithm::Sha256),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a string is not a digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("invalid digest {input:?}: expected ALGORITHM:HEX, such as sha256:<64 hex characters>")]
    InvalidFormat { input: String },
    #[error(
        "invalid digest {input:?}: {algorithm} needs {expected} hex characters, this one has {actual}"
    )]
    InvalidLength {
        input: String,
        algorithm: Algorithm,
        expected: usize,
        actual: usize,
    },
    #[error("invalid digest {input:?}: the hex part must be lowercase 0-9a-f, found {found:?}")]
    InvalidHex { input: String, found: char },
    #[error(
        "unsupported digest algorithm {algorithm:?} in {input:?}: regpull verifies sha256 and sha512"
    )]
    Unsupported { input: String, algorithm: String },
}

/// A validated content digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

impl Digest {
    /// Parses `ALGORITHM:HEX`, checking the algorithm, the length and the alphabet.
    pub fn parse(input: &str) -> Result<Self, DigestError> {
        let invalid_format = || DigestError::InvalidFormat {
            input: input.to_string(),
        };
        let (alg, hex) = input.split_once(':').ok_or_else(invalid_format)?;
        if alg.is_empty() || hex.is_empty() {
            return Err(invalid_format());
        }
        let Some(algorithm) = Algorithm::from_name(alg) else {
            // go-digest: a name outside the digest grammar is a format error, a
            // well-formed but unknown one is "unsupported".
            if is_algorithm_grammar(alg)
                && hex
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "=_-".contains(c))
            {
                return Err(DigestError::Unsupported {
                    input: input.to_string(),
                    algorithm: alg.to_string(),
                });
            }
            return Err(invalid_format());
        };
        if hex.len() != algorithm.hex_len() {
            return Err(DigestError::InvalidLength {
                input: input.to_string(),
                algorithm,
                expected: algorithm.hex_len(),
                actual: hex.len(),
            });
        }
        if let Some(found) = hex.chars().find(|c| !matches!(c, '0'..='9' | 'a'..='f')) {
            return Err(DigestError::InvalidHex {
                input: input.to_string(),
                found,
            });
        }
        Ok(Digest {
            algorithm,
            hex: hex.to_string(),
        })
    }

    /// The sha256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Self {
        let mut v = Verifier::hasher(Algorithm::Sha256);
        v.update(bytes);
        v.finish()
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The hex part; safe as a file name because it was validated.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

/// The algorithm grammar of the OCI image spec: `[a-z0-9]+([+._-][a-z0-9]+)*`.
fn is_algorithm_grammar(alg: &str) -> bool {
    alg.split(['+', '.', '_', '-']).all(|part| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    })
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}

impl FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::parse(s)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Digest::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What a finished stream did not live up to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("size mismatch: expected {expected} bytes, got {actual}")]
    SizeMismatch { expected: u64, actual: u64 },
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch { expected: Digest, actual: Digest },
}

#[derive(Clone)]
enum State {
    Sha256(Sha256),
    Sha512(Sha512),
}

/// Hashes and counts bytes as they stream past, then checks them against an
/// expected digest and (optionally) size.
///
/// It refuses early once more bytes than expected arrive, so a hostile server
/// cannot make a caller buffer or write an endless stream.
#[derive(Clone)]
pub struct Verifier {
    state: State,
    algorithm: Algorithm,
    expected: Option<(Digest, Option<u64>)>,
    count: u64,
}

impl Verifier {
    /// A verifier for content that must hash to `digest` and, when given, have `size` bytes.
    pub fn new(digest: &Digest, size: Option<u64>) -> Self {
        let mut v = Self::hasher(digest.algorithm());
        v.expected = Some((digest.clone(), size));
        v
    }

    /// A plain hasher with nothing to check against (`finish` gives the digest).
    pub fn hasher(algorithm: Algorithm) -> Self {
        let state = match algorithm {
            Algorithm::Sha256 => State::Sha256(Sha256::new()),
            Algorithm::Sha512 => State::Sha512(Sha512::new()),
        };
        Verifier {
            state,
            algorithm,
            expected: None,
            count: 0,
        }
    }

    /// Adds bytes; fails as soon as the count passes the expected size.
    pub fn update(&mut self, bytes: &[u8]) -> Option<VerifyError> {
        match &mut self.state {
            State::Sha256(h) => h.update(bytes),
            State::Sha512(h) => h.update(bytes),
        }
        self.count += bytes.len() as u64;
        match &self.expected {
            Some((_, Some(size))) if self.count > *size => Some(VerifyError::SizeMismatch {
                expected: *size,
                actual: self.count,
            }),
            _ => None,
        }
    }

    /// Bytes seen so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The digest of what was seen, without checking.
    pub fn finish(self) -> Digest {
        let bytes: Vec<u8> = match self.state {
            State::Sha256(h) => h.finalize().to_vec(),
            State::Sha512(h) => h.finalize().to_vec(),
        };
        Digest {
            algorithm: self.algorithm,
            hex: to_hex(&bytes),
        }
    }

    /// Checks the size and digest of everything seen.
    pub fn verify(self) -> Result<Digest, VerifyError> {
        let expected = self.expected.clone();
        let count = self.count;
        let actual = self.finish();
        if let Some((digest, size)) = expected {
            if let Some(size) = size
                && size != count
            {
                return Err(VerifyError::SizeMismatch {
                    expected: size,
                    actual: count,
                });
            }
            if digest != actual {
                return Err(VerifyError::DigestMismatch {
                    expected: digest,
                    actual,
                });
            }
        }
        Ok(actual)
    }
}

fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 0xf) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parses_and_prints_round_trip() {
        let d = Digest::parse(EMPTY).unwrap();
        assert_eq!(d.algorithm(), Algorithm::Sha256);
        assert_eq!(d.to_string(), EMPTY);
        let long = format!("sha512:{}", "a".repeat(128));
        assert_eq!(Digest::parse(&long).unwrap().to_string(), long);
    }

    #[test]
    fn rejects_what_could_escape_a_directory() {
        for bad in [
            "sha256:../../etc/passwd",
            "sha256:/x",
            "../x",
            "sha256:",
            ":abc",
        ] {
            assert!(Digest::parse(bad).is_err(), "{bad}");
        }
        let traversal = format!("sha256:../{}", "a".repeat(61));
        assert!(matches!(
            Digest::parse(&traversal),
            Err(DigestError::InvalidHex { .. })
        ));
    }

    #[test]
    fn classifies_errors_like_go_digest() {
        let upper = format!("sha256:{}", "A".repeat(64));
        assert!(matches!(
            Digest::parse(&upper),
            Err(DigestError::InvalidHex { .. })
        ));
        let short = format!("sha256:{}", "a".repeat(63));
        assert!(matches!(
            Digest::parse(&short),
            Err(DigestError::InvalidLength {
                expected: 64,
                actual: 63,
                ..
            })
        ));
        let sha384 = format!("sha384:{}", "a".repeat(96));
        assert!(matches!(
            Digest::parse(&sha384),
            Err(DigestError::Unsupported { .. })
        ));
        assert!(matches!(
            Digest::parse("nocolon"),
            Err(DigestError::InvalidFormat { .. })
        ));
    }

    #[test]
    fn sha256_of_empty_is_the_well_known_value() {
        assert_eq!(Digest::sha256_of(b"").to_string(), EMPTY);
    }

    #[test]
    fn verifier_accepts_matching_content_in_pieces() {
        let d = Digest::sha256_of(b"hello world");
        let mut v = Verifier::new(&d, Some(11));
        assert!(v.update(b"hello ").is_none());
        assert!(v.update(b"world").is_none());
        assert_eq!(v.verify().unwrap(), d);
    }

    #[test]
    fn verifier_refuses_wrong_size_and_wrong_digest() {
        let d = Digest::sha256_of(b"hello");
        let mut v = Verifier::new(&d, Some(5));
        assert_eq!(
            v.update(b"hello!"),
            Some(VerifyError::SizeMismatch {
                expected: 5,
                actual: 6
            })
        );
        let mut short = Verifier::new(&d, Some(5));
        short.update(b"hell");
        assert!(matches!(
            short.verify(),
            Err(VerifyError::SizeMismatch { actual: 4, .. })
        ));
        let mut wrong = Verifier::new(&d, Some(5));
        wrong.update(b"jello");
        assert!(matches!(
            wrong.verify(),
            Err(VerifyError::DigestMismatch { .. })
        ));
    }
}
