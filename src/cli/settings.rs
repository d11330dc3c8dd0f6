//! Arguments and environment turned into a validated library request.

use std::io::Read;
use std::time::Duration;

use regpull::auth::Credential;
use regpull::pull::{Credentials, PullOptions};
use regpull::registry::ClientOptions;
use regpull::{Error, ImageRef, Platform};

use super::args::{CredentialArgs, PullArgs, TransportArgs};

fn usage(message: impl Into<String>, hint: Option<&str>) -> Error {
    Error::Usage {
        message: message.into(),
        hint: hint.map(str::to_string),
    }
}

pub fn references(inputs: &[String]) -> Result<Vec<ImageRef>, Error> {
    inputs
        .iter()
        .map(|s| ImageRef::parse(s).map_err(Error::from))
        .collect()
}

pub fn pull_options(args: &PullArgs) -> Result<PullOptions, Error> {
    let platform = match (&args.platform, args.all_platforms) {
        // --all-platforms wins over DOCKER_DEFAULT_PLATFORM from the environment.
        (Some(p), false) => Platform::parse(p)?,
        _ => regpull::platform::host(),
    };
    if args.jobs == 0 {
        return Err(usage("--jobs must be at least 1", None));
    }
    Ok(PullOptions {
        platform,
        all_platforms: args.all_platforms,
        preserve_digests: args.preserve_digests,
        jobs: args.jobs,
        client: client_options(&args.transport),
    })
}

pub fn client_options(t: &TransportArgs) -> ClientOptions {
    ClientOptions {
        ca_certs: t.ca_cert.clone(),
        certs_d: Some(t.certs_dir.clone()),
        insecure: t.insecure,
        plain_http: t.plain_http,
        read_timeout: Duration::from_secs(t.timeout.max(1)),
        ..ClientOptions::default()
    }
}

/// Credentials given on the command line or in REGPULL_USERNAME/REGPULL_PASSWORD,
/// for the one registry the references name.
pub struct FlagCredentials {
    host: Option<String>,
    credential: Option<Credential>,
}

impl Credentials for FlagCredentials {
    fn for_registry(&self, host: &str) -> Option<Credential> {
        match &self.host {
            Some(h) if h == host => self.credential.clone(),
            _ => None,
        }
    }
}

pub fn flag_credentials(
    args: &CredentialArgs,
    refs: &[ImageRef],
) -> Result<FlagCredentials, Error> {
    let password = if args.password_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| {
            usage(
                format!("cannot read the password from standard input: {e}"),
                None,
            )
        })?;
        Some(strip_one_newline(s))
    } else {
        args.password.clone()
    };
    let credential = match (&args.username, password) {
        (None, None) => None,
        (Some(u), Some(p)) if !u.is_empty() => Some(Credential::basic(u, p)),
        (Some(_), None) => {
            return Err(usage(
                "--username was given without a password",
                Some("add --password-stdin (or --password, or REGPULL_PASSWORD)"),
            ));
        }
        (_, Some(_)) => {
            return Err(usage(
                "a password was given without --username",
                Some("add --username (NGC: '$oauthtoken', ECR: AWS, GCR: _json_key)"),
            ));
        }
    };
    let mut hosts: Vec<&str> = refs.iter().map(ImageRef::api_host).collect();
    hosts.sort();
    hosts.dedup();
    if credential.is_some() && hosts.len() > 1 {
        return Err(usage(
            format!(
                "--username applies to one registry, but these images are on {}",
                hosts.join(", ")
            ),
            Some("pull from each registry in its own regpull call"),
        ));
    }
    Ok(FlagCredentials {
        host: hosts.first().map(|h| h.to_string()),
        credential,
    })
}

fn strip_one_newline(mut s: String) -> String {
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    s
}
