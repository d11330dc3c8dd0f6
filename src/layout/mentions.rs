//! The digests a document names anywhere in its text: what is left to go by
//! when a document is intact but not an index or manifest regpull can read
//! (Docker schema 1, a vendor's own format, a descriptor without a size).
//! Every format in use names what it references by digest, so keeping every
//! blob so named keeps at least what the document needs.

use crate::digest::{Algorithm, Digest};

/// Each well-formed digest in `bytes`, once, in order of appearance.
pub fn mentioned_digests(bytes: &[u8]) -> Vec<Digest> {
    let text = String::from_utf8_lossy(bytes);
    let mut found: Vec<Digest> = Vec::new();
    for algorithm in [Algorithm::Sha256, Algorithm::Sha512] {
        let prefix = format!("{}:", algorithm.name());
        for (at, _) in text.match_indices(&prefix) {
            let hex: String = text[at + prefix.len()..]
                .chars()
                .take_while(char::is_ascii_hexdigit)
                .collect();
            // A longer run of hex is something else that happens to start alike.
            if hex.len() != algorithm.hex_len() {
                continue;
            }
            if let Ok(d) = Digest::parse(&format!("{prefix}{}", hex.to_ascii_lowercase()))
                && !found.contains(&d)
            {
                found.push(d);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_digest_is_found_once_and_look_alikes_are_not() {
        let a = Digest::sha256_of(b"a");
        let b = Digest::sha256_of(b"b");
        let text = format!(
            r#"{{"schemaVersion":1,"fsLayers":[{{"blobSum":"{a}"}},{{"blobSum":"{a}"}}],
               "history":"{b} and sha256:{}0 and sha256:abc and md5:{}"}}"#,
            a.hex(),
            b.hex()
        );
        assert_eq!(mentioned_digests(text.as_bytes()), vec![a, b]);
        let long = format!("sha512:{}", "ab".repeat(64));
        assert_eq!(
            mentioned_digests(long.as_bytes()),
            vec![Digest::parse(&long).unwrap()]
        );
        assert!(mentioned_digests(b"\xff\xfe not text").is_empty());
    }
}
