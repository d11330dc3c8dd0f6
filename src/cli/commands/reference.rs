//! `regpull ref NAME...`: how regpull reads each name.

use std::process::ExitCode;

use regpull::reference::{ImageRef, Target};
use serde::Serialize;

use crate::cli::args::RefArgs;
use crate::cli::{json, report};

/// The `--json` event for one name (`reference` in docs/json.md).
#[derive(Serialize, Default)]
struct RefJson<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    input: &'a str,
    valid: bool,
    registry: Option<&'a str>,
    api_host: Option<&'a str>,
    repository: Option<&'a str>,
    tag: Option<&'a str>,
    digest: Option<String>,
    normalized: Option<String>,
    familiar: Option<String>,
    error: Option<String>,
    error_kind: Option<&'static str>,
}

impl<'a> RefJson<'a> {
    fn of(input: &'a str, r: &'a ImageRef) -> Self {
        RefJson {
            kind: "reference",
            input,
            valid: true,
            registry: Some(r.domain()),
            api_host: Some(r.api_host()),
            repository: Some(r.repository()),
            tag: r.tag(),
            digest: r.digest().map(ToString::to_string),
            normalized: Some(r.normalized()),
            familiar: Some(r.familiar()),
            ..Default::default()
        }
    }

    fn invalid(input: &'a str, e: &regpull::reference::ReferenceError) -> Self {
        RefJson {
            kind: "reference",
            input,
            error: Some(e.to_string()),
            error_kind: Some(e.kind()),
            ..Default::default()
        }
    }
}

pub fn run(args: &RefArgs) -> Result<ExitCode, regpull::Error> {
    let mut worst = ExitCode::SUCCESS;
    for input in &args.names {
        match ImageRef::parse(input) {
            Ok(r) if args.json => json::emit(&to_value(&RefJson::of(input, &r))),
            Ok(r) => print_human(&r),
            Err(e) => {
                let err = regpull::Error::from(e.clone());

                if args.json {
                    json::emit(&to_value(&RefJson::invalid(input, &e)));
                }
                worst = report::report(&err);
            }
        }
    }
    Ok(worst)
}

fn to_value(j: &RefJson<'_>) -> serde_json::Value {
    serde_json::to_value(j).expect("plain data serializes")
}

fn print_human(r: &ImageRef) {
    let (tag, digest) = match r.target() {
        Target::Digest(d) => (r.tag().unwrap_or("-").to_string(), d.to_string()),
        Target::Tag(t) if r.tag().is_none() => (format!("{t} (default)"), "-".to_string()),
        Target::Tag(t) => (t.to_string(), "-".to_string()),
    };
    println!("{}", r.normalized());
    println!("  registry:   {}", display_or_none(r.domain()));
    println!("  api host:   {}", display_or_none(r.api_host()));
    println!("  repository: {}", r.repository());
    println!("  tag:        {tag}");
    println!("  digest:     {digest}");
    println!("  familiar:   {}", r.familiar());
}

fn display_or_none(s: &str) -> &str {
    if s.is_empty() { "(none)" } else { s }
}
