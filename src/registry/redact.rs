//! URLs as they may appear in errors and logs.
//!
//! Pre-signed object-storage URLs (S3 `X-Amz-Signature`, GCS `X-Goog-Signature`,
//! Azure `sig`, CloudFront `Signature`) carry credentials in the query string, and
//! a URL may carry `user:password@`. Neither is ever printed.

use reqwest::Url;

/// The URL with user info removed and any query replaced by `<redacted>`.
pub fn redact(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    let had_query = u.query().is_some_and(|q| !q.is_empty());
    u.set_query(None);
    u.set_fragment(None);
    let mut s = u.to_string();
    if had_query {
        s.push_str("?<redacted>");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_signatures_and_user_info() {
        let u = Url::parse(
            "https://user:pw@bucket.s3.amazonaws.com/blob?X-Amz-Signature=abc&X-Amz-Credential=k",
        )
        .unwrap();
        let r = redact(&u);
        assert_eq!(r, "https://bucket.s3.amazonaws.com/blob?<redacted>");
        assert_eq!(
            redact(&Url::parse("https://r.io/v2/").unwrap()),
            "https://r.io/v2/"
        );
    }
}
