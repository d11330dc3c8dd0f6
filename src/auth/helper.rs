//! docker credential helpers: `docker-credential-NAME get|store|erase`, the
//! server URL (or a JSON credential) on stdin, `{"ServerURL","Username","Secret"}`
//! on stdout (docker-credential-helpers' protocol). A `<token>` username means
//! the secret is an identity token.

use std::io::Write;
use std::process::{Command, Output, Stdio};

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

/// Runs one helper verb; `origin` says who named the helper, for messages.
struct Invocation<'a> {
    program: String,
    verb: &'a str,
    server: &'a str,
    origin: &'a str,
}

impl Invocation<'_> {
    fn fail(&self, reason: String) -> AuthError {
        AuthError::Helper {
            helper: self.program.clone(),
            server: self.server.to_string(),
            reason: format!("{reason} ({} names it)", self.origin),
        }
    }

    fn run(&self, input: &[u8]) -> Result<Output, AuthError> {
        let mut child = Command::new(&self.program)
            .arg(self.verb)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    self.fail(format!("{} is not installed or not on PATH", self.program))
                }
                _ => self.fail(format!("cannot run it: {e}")),
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            // A helper that exits without reading its input is judged by its exit code.
            let _ = stdin.write_all(input);
        }
        child
            .wait_with_output()
            .map_err(|e| self.fail(format!("cannot run it: {e}")))
    }

    /// Helper output may echo what it was given; only its first line is shown.
    fn failure(&self, out: &Output) -> AuthError {
        let said = String::from_utf8_lossy(&out.stderr);
        let said = if said.trim().is_empty() {
            String::from_utf8_lossy(&out.stdout)
        } else {
            said
        };
        let first: String = said
            .trim()
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect();
        self.fail(format!(
            "`{}` exited with {}: {first}",
            self.verb, out.status
        ))
    }
}

fn invocation<'a>(name: &str, verb: &'a str, server: &'a str, origin: &'a str) -> Invocation<'a> {
    Invocation {
        program: format!("docker-credential-{name}"),
        verb,
        server,
        origin,
    }
}

/// Asks helper `name` for `server`.
pub fn get(name: &str, server: &str, origin: &str) -> Result<Lookup, AuthError> {
    let call = invocation(name, "get", server, origin);
    let out = call.run(server.as_bytes())?;
    let stdout = String::from_utf8_lossy(&out.stdout[..out.stdout.len().min(MAX_HELPER_OUTPUT)])
        .into_owned();
    if !out.status.success() {
        let said = format!("{stdout} {}", String::from_utf8_lossy(&out.stderr)).to_lowercase();
        if said.contains(NOT_FOUND) {
            return Ok(Lookup::NotFound(format!(
                "{} holds nothing for {server}",
                call.program
            )));
        }
        return Err(call.failure(&out));
    }
    let answer: HelperAnswer = serde_json::from_str(&stdout)
        .map_err(|e| call.fail(format!("its answer is not the helper protocol's JSON: {e}")))?;
    if answer.secret.is_empty() {
        return Ok(Lookup::NotFound(format!(
            "{} returned an empty secret for {server}",
            call.program
        )));
    }
    let credential = if answer.username == "<token>" {
        Credential::IdentityToken(Secret::new(answer.secret))
    } else {
        Credential::basic(answer.username, answer.secret)
    };
    Ok(Lookup::Found {
        credential,
        detail: format!("{} ({origin}) for {server}", call.program),
    })
}

/// `store`: hands the helper a credential to keep.
pub fn store(
    name: &str,
    server: &str,
    username: &str,
    secret: &Secret,
    origin: &str,
) -> Result<(), AuthError> {
    let input =
        serde_json::json!({"ServerURL": server, "Username": username, "Secret": secret.expose()});
    let call = invocation(name, "store", server, origin);
    let out = call.run(input.to_string().as_bytes())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(call.failure(&out))
    }
}

/// `erase`: asks the helper to forget `server`.
pub fn erase(name: &str, server: &str, origin: &str) -> Result<(), AuthError> {
    let call = invocation(name, "erase", server, origin);
    let out = call.run(server.as_bytes())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(call.failure(&out))
    }
}
