//! Non-success answers: the registry's own words as an error, and the one
//! answer that means "your token expired" rather than "you may not".

use reqwest::Response;

use super::RegistryError;
use super::api_error;
use super::body::read_error_body;
use super::redact::redact;

/// ECR's words for an expired token, in a 403 (ECR) or 400 (ECR Public) body.
const EXPIRED_TOKEN: &str = "token has expired";

/// A non-success answer as an error carrying the registry's own words.
pub async fn status_error(operation: &str, resp: Response) -> RegistryError {
    let status = resp.status().as_u16();
    let url = redact(resp.url());
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (errors, text) = api_error::parse(&read_error_body(resp).await);
    RegistryError::Status {
        operation: operation.to_string(),
        url,
        status,
        errors,
        text,
        retry_after,
    }
}

pub fn is_expired(err: &RegistryError) -> bool {
    match err {
        RegistryError::Status {
            status: 400 | 403,
            errors,
            text,
            ..
        } => {
            let said = errors
                .iter()
                .map(|e| e.message.to_lowercase())
                .chain(text.iter().map(|t| t.to_lowercase()));
            said.into_iter().any(|m| m.contains(EXPIRED_TOKEN))
        }
        _ => false,
    }
}
