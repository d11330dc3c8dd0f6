//! ECR's side of a vendor simulator: its API, which hands out Basic
//! credentials for SigV4-signed requests, and the S3 bucket its blobs live in.

use std::sync::Mutex;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::json;

use super::super::sigv4;
use super::{Profile, State_};

/// ECR's JSON 1.1 API: GetAuthorizationToken, with the SigV4 signature checked.
pub(super) fn api(
    p: &Profile,
    state: &Mutex<State_>,
    parts: &axum::http::request::Parts,
    body: &Bytes,
) -> Response {
    let Some((access_key, secret)) = p.ecr_api else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let target = parts.headers["x-amz-target"].to_str().unwrap_or("");
    if target != "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken" {
        return (StatusCode::BAD_REQUEST, "unknown operation").into_response();
    }
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let auth = header("authorization").and_then(|a| sigv4::parse_authorization(&a));
    let valid = auth.as_ref().is_some_and(|a| {
        a.access_key == access_key
            && a.service == "ecr"
            && sigv4::expected_signature(
                a,
                secret,
                parts.method.as_str(),
                parts.uri.path(),
                parts.uri.query().unwrap_or(""),
                header,
                body,
            )
            .as_deref()
                == Some(a.signature.as_str())
    });
    let mut s = state.lock().unwrap();
    if !valid {
        s.ecr_rejected_signatures += 1;
        return (StatusCode::FORBIDDEN, axum::Json(json!({"__type": "InvalidSignatureException", "message": "The request signature we calculated does not match the signature you provided."}))).into_response();
    }
    s.ecr_calls += 1;
    let password = format!("ecr-password-{}", s.ecr_calls);
    s.ecr_password = Some((password.clone(), p.basic_uses.unwrap_or(usize::MAX)));
    let token = base64::engine::general_purpose::STANDARD.encode(format!("AWS:{password}"));
    let expires = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 12 * 3600;
    let answer = json!({"authorizationData": [{
        "authorizationToken": token,
        "expiresAt": expires as f64,
        "proxyEndpoint": format!("https://{}", p.registry),
    }]});
    (
        [("content-type", "application/x-amz-json-1.1")],
        answer.to_string(),
    )
        .into_response()
}

/// The S3 bucket ECR redirects blobs to: it refuses a second auth mechanism.
pub(super) fn storage(state: &Mutex<State_>, digest: &str, headers: &HeaderMap) -> Response {
    let mut s = state.lock().unwrap();
    if let Some(a) = headers.get("authorization") {
        s.storage_authorization
            .push(a.to_str().unwrap_or("?").to_string());
        return (StatusCode::BAD_REQUEST, "<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>").into_response();
    }
    match s.blobs.get(digest) {
        Some(b) => b.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
