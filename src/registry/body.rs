//! Reading response bodies with a ceiling, so no server can make us buffer without end.

use reqwest::Response;

use super::RegistryError;
use super::idle::BodyWatch;
use super::redact::redact;

/// Reads the whole body, failing once it passes `limit` bytes (or a declared
/// Content-Length does).
pub async fn read_capped(resp: Response, limit: u64, what: &str) -> Result<Vec<u8>, RegistryError> {
    let url = redact(resp.url());
    let too_large = || RegistryError::TooLarge {
        what: what.to_string(),
        url: url.clone(),
        limit,
    };
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut out = Vec::new();
    let mut watch = BodyWatch::of(&resp);
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = watch
        .next(&mut stream)
        .await
        .map_err(|s| RegistryError::silent(url.clone(), s))?
    {
        let chunk = chunk.map_err(|source| RegistryError::body(url.clone(), source))?;
        if out.len() as u64 + chunk.len() as u64 > limit {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The body of an error response, best effort: a broken body is no reason to hide
/// the status that came with it.
pub async fn read_error_body(resp: Response) -> Vec<u8> {
    read_capped(resp, super::api_error::MAX_ERROR_BODY as u64, "error body")
        .await
        .unwrap_or_default()
}
