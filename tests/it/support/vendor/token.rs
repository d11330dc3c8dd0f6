//! A vendor simulator's token realm.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{Profile, State_, TokenFields, TokenRequest, basic_of, json_error, url_pairs};

/// The token realm: GET with Basic or POST with a form, as the profile allows;
/// the vendor's answer fields and lifetime.
pub(super) fn answer(
    p: &Profile,
    state: &Mutex<State_>,
    host: &str,
    method: &Method,
    query: HashMap<String, String>,
    body: &Bytes,
    headers: &HeaderMap,
) -> Response {
    let is_post = method == Method::POST;
    let params = if is_post { url_pairs(body) } else { query };
    let basic = basic_of(headers);
    state.lock().unwrap().token_requests.push(TokenRequest {
        host: host.to_string(),
        method: method.to_string(),
        params: params.clone(),
        basic: basic.clone(),
    });
    if (is_post && !p.token_post) || (!is_post && !p.token_get) {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let wanted = format!("{}:{}", p.user.0, p.user.1);
    let presented = if is_post {
        match (params.get("username"), params.get("password")) {
            (Some(u), Some(pw)) => Some(format!("{u}:{pw}")),
            _ => None,
        }
    } else {
        basic
    };
    match presented {
        Some(c) if c == wanted => {}
        None if p.anonymous_pull => {}
        _ => {
            return json_error(
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                "invalid username or password",
            );
        }
    }
    if params.contains_key("service") != p.service.is_some() {
        return (StatusCode::BAD_REQUEST, "service mismatch").into_response();
    }
    let scope = params.get("scope").cloned().unwrap_or_default();
    let mut s = state.lock().unwrap();
    s.issued += 1;
    let t = format!("{}-token-{}", p.registry, s.issued);
    s.tokens.insert(t.clone(), (scope, p.token_uses));
    let mut answer = serde_json::Map::new();
    if p.token_fields != TokenFields::AccessTokenOnly {
        answer.insert("token".into(), json!(t));
    }
    if p.token_fields != TokenFields::TokenOnly {
        answer.insert("access_token".into(), json!(t));
    }
    if let Some(e) = p.expires_in {
        answer.insert("expires_in".into(), json!(e));
    }
    axum::Json(answer).into_response()
}
