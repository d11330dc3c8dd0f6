//! `regpull auth REF`: which credential was used, and what the registry made of it.

use std::process::ExitCode;
use std::sync::Arc;

use regpull::auth::{RegistryName, Resolution};
use regpull::hosts::Source;
use regpull::pull::{self, ImageError, Probe, PullError};
use regpull::registry::redact::redact;
use regpull::registry::retry::RetryPolicy;
use regpull::registry::{AuthScheme, Login};
use regpull::{Error, ImageRef};
use serde_json::json;

use crate::cli::args::AuthArgs;
use crate::cli::{hints, json, report, settings};

pub fn run(args: &AuthArgs) -> Result<ExitCode, Error> {
    let reference = ImageRef::parse(&args.reference)?;
    // The mirrors a pull would try first; the probe below is the registry's.
    let mirrors: Vec<Source> = settings::hosts(&args.sources)?
        .sources(&reference)?
        .into_iter()
        .filter(|s| !s.upstream)
        .collect();
    let chain = settings::credential_chain(&args.credentials, std::slice::from_ref(&reference))?;
    let registry = RegistryName::new(reference.domain());
    let opts = settings::client_options(&args.transport);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let resolution = runtime
        .block_on(chain.resolve(&registry))
        .map_err(|e| PullError::new(&reference, None, ImageError::Credentials(e)))?;
    // The probe asks the same chain (ECR's token is cached), so it sends the
    // credential the trail above names.
    let login = Login {
        name: registry,
        keychain: Arc::new(chain),
    };
    let outcome = runtime
        .block_on(pull::probe(
            &reference,
            login,
            &opts,
            &RetryPolicy::default(),
        ))
        .map_err(Error::from);
    if args.json {
        let mut out = as_json(&reference, &resolution, &outcome);
        out["mirrors"] = mirrors.iter().map(mirror_json).collect();
        json::emit(&out);
    } else {
        print_mirrors(&mirrors);
        print_human(&reference, &resolution, &outcome);
    }
    match outcome {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => Ok(report::report(&e)),
    }
}

fn mirror_json(m: &Source) -> serde_json::Value {
    json!({
        "host": m.host,
        "repository": m.repository,
        "origin": m.origin,
        "resolve_tags": m.resolve_tags,
        "by_digest": m.by_digest,
    })
}

/// The sources a pull tries before the registry, and where each was set.
fn print_mirrors(mirrors: &[Source]) {
    if mirrors.is_empty() {
        return;
    }
    println!("mirrors (tried first, in order; credentials are looked up per host):");
    for m in mirrors {
        let may = match (m.resolve_tags, m.by_digest) {
            (true, true) => "tags and digests",
            (false, _) => "digests only",
            (true, false) => "tags only",
        };
        println!("  - {}/{} ({may}; {})", m.host, m.repository, m.origin);
    }
}

fn scheme_fields(scheme: &AuthScheme) -> (&'static str, Option<String>, Option<String>) {
    match scheme {
        AuthScheme::Anonymous => ("none", None, None),
        AuthScheme::Basic => ("basic", None, None),
        AuthScheme::Bearer { realm, service } => ("bearer", Some(redact(realm)), service.clone()),
    }
}

fn as_json(
    reference: &ImageRef,
    r: &Resolution,
    outcome: &Result<Probe, Error>,
) -> serde_json::Value {
    let sources: Vec<_> = r
        .steps
        .iter()
        .map(|s| json!({"source": s.source, "answered": s.answered.is_some(), "detail": s.answered, "reason": s.reason}))
        .collect();
    let probe = outcome.as_ref().ok();
    let (scheme, realm, service) = match probe {
        Some(p) => scheme_fields(&p.scheme),
        None => ("", None, None),
    };
    let error = outcome.as_ref().err();
    json!({
        "type": "auth",
        "reference": reference.normalized(),
        "api_host": reference.api_host(),
        "sources": sources,
        "credential_source": r.source,
        "ok": outcome.is_ok(),
        "registry": probe.map(|p| &p.base_url),
        "scheme": probe.map(|_| scheme),
        "realm": realm,
        "service": service,
        "scope": probe.map(|p| &p.scope),
        "token_obtained": probe.map(|p| p.token_lifetime.is_some()),
        "token_expires_in": probe.and_then(|p| p.token_lifetime.map(|d| d.as_secs())),
        "manifest_digest": probe.map(|p| p.manifest_digest.to_string()),
        "manifest_media_type": probe.map(|p| p.manifest_media_type),
        "class": error.map(|e| e.class().name()),
        "exit_code": report::exit_code(error.map_or(regpull::ErrorClass::Internal, |e| e.class()))
            * u8::from(error.is_some()),
        "error": error.map(|e| report::chain(e).join(": ")),
        "hint": error.and_then(hints::for_error),
    })
}

fn print_human(reference: &ImageRef, r: &Resolution, outcome: &Result<Probe, Error>) {
    println!("image:        {}", reference.normalized());
    println!("api host:     {}", reference.api_host());
    println!("credentials:");
    for s in &r.steps {
        let mark = if s.answered.is_some() { "*" } else { "-" };
        let detail = s
            .answered
            .as_ref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        println!("  {mark} {}: {}{detail}", s.source, s.reason);
    }
    if r.credential.is_none() {
        println!("  = no source answered: requests are anonymous");
    }
    let Ok(p) = outcome else {
        return;
    };
    println!("registry:     {}", p.base_url);
    let (scheme, realm, service) = scheme_fields(&p.scheme);
    match scheme {
        "bearer" => println!(
            "challenge:    Bearer realm {} service {}",
            realm.unwrap_or_default(),
            service.unwrap_or_else(|| "(none)".into())
        ),
        "basic" => println!("challenge:    Basic"),
        _ => println!("challenge:    none (the registry answers anonymously)"),
    }
    println!("scope:        {}", p.scope);
    match p.token_lifetime {
        Some(d) => println!("token:        obtained, valid for {}s", d.as_secs()),
        None => println!("token:        not used"),
    }
    println!(
        "manifest:     {} ({}): pull access works",
        p.manifest_digest, p.manifest_media_type
    );
}
