//! The fake registry's logins: the challenge it sends (scripted, Bearer
//! tokens from its own /token, or HTTP Basic), whether a request may pass,
//! and the record of every `Authorization` header it was sent.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Shared;

/// Records the request's `Authorization` header, if it has one.
pub(super) fn record_authorization(shared: &Shared, headers: &HeaderMap) {
    if let Some(v) = headers.get("authorization") {
        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
        shared.authorizations.lock().unwrap().push(v);
    }
}

fn challenge_for(shared: &Shared) -> Option<String> {
    let faults = shared.faults.lock().unwrap();
    if let Some(c) = &faults.challenge {
        return Some(c.clone());
    }
    if faults.basic_auth.is_some() {
        return Some(r#"Basic realm="fake""#.to_string());
    }
    faults.token_uses.map(|_| {
        let host = shared.host.lock().unwrap();
        match &faults.token_service {
            Some(service) => format!(r#"Bearer realm="http://{host}/token",service="{service}""#),
            None => format!(r#"Bearer realm="http://{host}/token""#),
        }
    })
}

/// None when the request may proceed; the 401 otherwise.
pub(super) fn check_auth(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    let challenge = challenge_for(shared)?;
    let basic = shared.faults.lock().unwrap().basic_auth.clone();
    if let Some((user, password)) = basic {
        use base64::Engine as _;
        let raw = format!("{user}:{password}");
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        );
        if headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str()) {
            return None;
        }
    }
    let uses = shared.faults.lock().unwrap().token_uses;
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    if let (Some(limit), Some(t)) = (uses, token) {
        let mut used = shared.token_use.lock().unwrap();
        if let Some(n) = used.get_mut(&t) {
            if *n < limit {
                *n += 1;
                return None;
            }
            if let Some(status) = shared.faults.lock().unwrap().expired_status {
                let body = json!({"errors":[{"code":"DENIED","message":"Your authorization token has expired. Reauthenticate and try again."}]});
                return Some(
                    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response(),
                );
            }
        }
    }
    let mut resp = (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})),
    )
        .into_response();
    resp.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_str(&challenge).unwrap(),
    );
    Some(resp)
}
