//! The distribution error envelope, `{"errors":[{"code","message","detail"}]}`,
//! read leniently: registries send HTML, plain text, or nothing at all too.

use serde::Deserialize;

/// Error bodies are for people; anything longer than this is not worth reading.
pub const MAX_ERROR_BODY: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApiError {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    errors: Vec<ApiError>,
}

/// The registry's errors, or a short plain-text excerpt when the body is not the envelope.
pub fn parse(body: &[u8]) -> (Vec<ApiError>, Option<String>) {
    let body = &body[..body.len().min(MAX_ERROR_BODY)];
    if let Ok(env) = serde_json::from_slice::<Envelope>(body)
        && !env.errors.is_empty()
    {
        return (env.errors, None);
    }
    let text = String::from_utf8_lossy(body);
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let excerpt: String = text.chars().take(200).collect();
    (Vec::new(), (!excerpt.is_empty()).then_some(excerpt))
}

/// `CODE: message; CODE: message` for an error line.
pub fn describe(errors: &[ApiError]) -> String {
    errors
        .iter()
        .map(|e| match (e.code.is_empty(), e.message.is_empty()) {
            (false, false) => format!("{}: {}", e.code, e.message),
            (false, true) => e.code.clone(),
            _ => e.message.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_envelope_and_falls_back_to_text() {
        let (e, _) = parse(br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#);
        assert_eq!(describe(&e), "MANIFEST_UNKNOWN: manifest unknown");
        let (e, text) = parse(b"<html>\n  <body>502 Bad   Gateway</body></html>");
        assert!(e.is_empty());
        assert_eq!(text.unwrap(), "<html> <body>502 Bad Gateway</body></html>");
        assert_eq!(parse(b"").1, None);
    }
}
