//! Non-success answers: the registry's own words as an error, what each status
//! means for the exit code, and the one answer that means "your token expired"
//! rather than "you may not".
//!
//! [`status_class`] is the single table from status to [`ErrorClass`]; the
//! retry runner retries exactly the statuses whose class is transient, so the
//! exit code a script sees ("try later" or "fix it") and what regpull itself
//! tried again always agree.

use reqwest::Response;

use super::RegistryError;
use super::api_error::{self, ApiError};
use super::body::read_error_body;
use super::redact::redact;
use crate::error_class::ErrorClass;

/// ECR's words for an expired token, in a 403 (ECR) or 400 (ECR Public) body.
const EXPIRED_TOKEN: &str = "token has expired";

/// What a status (with the registry's error codes) says about the failure.
///
/// 5xx is the server's trouble and may pass, except the three that will not:
/// 501 (the server does not implement the request), 505 (nor the HTTP
/// version) and 511 (a captive portal wants a login). 408 and 429 are
/// "later"; a `TOOMANYREQUESTS` code is a rate limit whatever the status.
pub fn status_class(status: u16, errors: &[ApiError]) -> ErrorClass {
    if errors.iter().any(|e| e.code == "TOOMANYREQUESTS") {
        return ErrorClass::RateLimited;
    }
    match status {
        429 => ErrorClass::RateLimited,
        401 | 403 | 407 | 511 => ErrorClass::Auth,
        404 | 410 => ErrorClass::NotFound,
        501 | 505 => ErrorClass::Usage,
        408 | 500..=599 => ErrorClass::Network,
        _ => ErrorClass::Usage,
    }
}

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
