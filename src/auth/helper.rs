//! docker credential helpers: `docker-credential-NAME get`, server URL on stdin,
//! `{"ServerURL","Username","Secret"}` on stdout (docker-credential-helpers'
//! protocol). A `<token>` username means the secret is an identity token.

use std::io::Write;
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::{AuthError, Credential, Lookup};
use crate::secret::Secret;

/// Helpers answer with a few hundred bytes; more is not an answer.
const MAX_HELPER_OUTPUT: usize = 1 << 20;
/// What helpers print when they hold nothing for the server.
const NOT_FOUND: &str = "credentials not found";

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// Asks helper `name` for `server`; `origin` says who named the helper.
pub fn get(name: &str, server: &str, origin: &str) -> Result<Lookup, AuthError> {
    let program = format!("docker-credential-{name}");
    let fail = |reason: String| AuthError::Helper {
        helper: program.clone(),
        server: server.to_string(),
        reason,
    };
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => fail(format!(
                "{program} is not installed or not on PATH ({origin} names it)"
            )),
            _ => fail(format!("cannot run it: {e}")),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading its input is judged by its exit code.
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("cannot run it: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout[..out.stdout.len().min(MAX_HELPER_OUTPUT)])
        .into_owned();
    if !out.status.success() {
        let said = format!(
            "{} {}",
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        if said.to_lowercase().contains(NOT_FOUND) {
            return Ok(Lookup::NotFound(format!(
                "{program} holds nothing for {server}"
            )));
        }
        // Helper output may echo what it was given; only its first line is shown.
        let first = said
            .trim()
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect::<String>();
        return Err(fail(format!(
            "it exited with {} ({origin} names it): {first}",
            out.status
        )));
    }
    let answer: HelperAnswer = serde_json::from_str(&stdout)
        .map_err(|e| fail(format!("its answer is not the helper protocol's JSON: {e}")))?;
    if answer.secret.is_empty() {
        return Ok(Lookup::NotFound(format!(
            "{program} returned an empty secret for {server}"
        )));
    }
    let credential = if answer.username == "<token>" {
        Credential::IdentityToken(Secret::new(answer.secret))
    } else {
        Credential::basic(answer.username, answer.secret)
    };
    Ok(Lookup::Found {
        credential,
        detail: format!("{program} ({origin}) for {server}"),
    })
}

/// `docker-credential-NAME store`: hands the helper a credential to keep.
pub fn store(name: &str, server: &str, username: &str, secret: &Secret) -> Result<(), AuthError> {
    let input =
        serde_json::json!({"ServerURL": server, "Username": username, "Secret": secret.expose()});
    run(name, "store", server, input.to_string().as_bytes())
}

/// `docker-credential-NAME erase`: asks the helper to forget `server`.
pub fn erase(name: &str, server: &str) -> Result<(), AuthError> {
    run(name, "erase", server, server.as_bytes())
}

fn run(name: &str, verb: &str, server: &str, input: &[u8]) -> Result<(), AuthError> {
    let program = format!("docker-credential-{name}");
    let fail = |reason: String| AuthError::Helper {
        helper: program.clone(),
        server: server.to_string(),
        reason,
    };
    let mut child = Command::new(&program)
        .arg(verb)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run `{program} {verb}`: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input);
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("cannot run it: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&out.stderr);
    let first: String = said
        .trim()
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    Err(fail(format!(
        "`{verb}` exited with {}: {first}",
        out.status
    )))
}
