//! One containers `registries.conf` file (containers-registries.conf(5)),
//! read into its `[[registry]]` tables.
//!
//! What regpull honours: `prefix`, `location`, `insecure`, `blocked`,
//! `mirror-by-digest-only`, and `[[registry.mirror]]` with `location`,
//! `insecure` and `pull-from-mirror`. The other top-level settings are about
//! short names and credentials, which regpull handles its own way (every
//! reference is fully qualified; credentials come from `auth`): they get a
//! note. The deprecated v1 format (`[registries.insecure]`,
//! `[registries.block]`) is read the way containers/image converts it, into
//! one table per listed registry; mixing it with `[[registry]]`, or using it
//! in a drop-in, is an error, as there.

use super::error::HostsError;
use super::prefix::{Prefix, parse_location};
use super::toml_file::{TomlFile, Value};

/// Settings of one `[[registry]]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegistryTable {
    pub prefix: Prefix,
    /// Where the prefix really lives; `None` for a wildcard prefix, whose
    /// references are fetched from their own registry.
    pub location: Option<String>,
    pub insecure: bool,
    pub blocked: bool,
    pub mirrors: Vec<MirrorTable>,
    /// `file:line` of the table's header.
    pub origin: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MirrorTable {
    pub location: String,
    pub insecure: bool,
    pub pull_from: PullFrom,
    pub origin: String,
}

/// `pull-from-mirror`: which references a mirror may serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PullFrom {
    All,
    DigestOnly,
    TagOnly,
}

/// Top-level keys containers/image reads that regpull has no use for.
const UNUSED_TOP_LEVEL: &[&str] = &[
    "unqualified-search-registries",
    "short-name-mode",
    "aliases",
    "credential-helpers",
    "additional-layer-store-auth-helper",
];

/// The `[[registry]]` tables of one file, in file order, a repeated prefix
/// dropped (containers/image keeps the first).
pub(crate) fn parse(
    file: &TomlFile,
    drop_in: bool,
    notes: &mut Vec<String>,
) -> Result<Vec<RegistryTable>, HostsError> {
    let doc = file.parse()?;
    let mut known = vec!["registry", "registries"];
    known.extend_from_slice(UNUSED_TOP_LEVEL);
    let top = file.fields(&doc, &known, "registries.conf", notes);
    for key in UNUSED_TOP_LEVEL {
        if let Some(v) = top.get(key) {
            notes.push(format!(
                "{}: `{key}` is not used by regpull (it pulls fully qualified references only and reads credentials its own way)",
                file.at(&v.span())
            ));
        }
    }
    let mut tables = Vec::new();
    if let Some(v) = top.get("registry") {
        for t in file.tables(v, "registry")? {
            push_unique(&mut tables, registry_table(file, t, notes)?, notes);
        }
    }
    if let Some(v1) = top.get("registries") {
        let what = if drop_in {
            "a drop-in must use the v2 format"
        } else if !tables.is_empty() {
            "v1 `[registries.*]` tables cannot be mixed with v2 `[[registry]]` tables"
        } else {
            for t in v1_tables(file, v1, notes)? {
                push_unique(&mut tables, t, notes);
            }
            return Ok(tables);
        };
        return Err(file.invalid(
            &v1.span(),
            format!("{what}; regpull reads v2 [[registry]] tables"),
        ));
    }
    Ok(tables)
}

fn push_unique(tables: &mut Vec<RegistryTable>, t: RegistryTable, notes: &mut Vec<String>) {
    match tables.iter().find(|o| o.prefix == t.prefix) {
        Some(first) => notes.push(format!(
            "{}: prefix {:?} was already configured at {}; this table is ignored",
            t.origin,
            t.prefix.as_written(),
            first.origin
        )),
        None => tables.push(t),
    }
}

fn registry_table(
    file: &TomlFile,
    table: &Value<'_>,
    notes: &mut Vec<String>,
) -> Result<RegistryTable, HostsError> {
    let span = table.span();
    let origin = file.at(&span);
    let known = [
        "prefix",
        "location",
        "insecure",
        "blocked",
        "mirror-by-digest-only",
        "mirror",
        "pull-from-mirror",
    ];
    let body = table.get_ref().as_table().expect("checked by tables()");
    let f = file.fields(body, &known, "[[registry]]", notes);
    if let Some(v) = f.get("pull-from-mirror") {
        return Err(file.invalid(
            &v.span(),
            "`pull-from-mirror` belongs in a [[registry.mirror]] table, not in [[registry]]",
        ));
    }
    let string = |key| f.get(key).map(|v| file.string(v, key)).transpose();
    let flag = |key| f.get(key).map_or(Ok(false), |v| file.boolean(v, key));
    let location = string("location")?
        .filter(|s| !s.is_empty())
        .map(|s| parse_location(s).map_err(|m| file.invalid(&f.get("location").unwrap().span(), m)))
        .transpose()?;
    let prefix = match (string("prefix")?.filter(|s| !s.is_empty()), &location) {
        (Some(p), _) => {
            Prefix::parse(p).map_err(|m| file.invalid(&f.get("prefix").unwrap().span(), m))?
        }
        (None, Some(l)) => Prefix::Name(l.clone()),
        (None, None) => {
            return Err(file.invalid(&span, "[[registry]] needs a `prefix` or a `location`"));
        }
    };
    match (&prefix, &location) {
        (Prefix::Wildcard(_), Some(_)) => {
            return Err(file.invalid(
                &f.get("location").unwrap().span(),
                "a wildcard prefix (`*.example.com`) takes no `location`: its images stay on their own registry",
            ));
        }
        (Prefix::Name(_), None) => {
            return Err(file.invalid(&span, "[[registry]] with a prefix needs a `location`"));
        }
        _ => {}
    }
    let digest_only = flag("mirror-by-digest-only")?;
    let mut mirrors = Vec::new();
    if let Some(v) = f.get("mirror") {
        for m in file.tables(v, "mirror")? {
            mirrors.push(mirror_table(file, m, digest_only, notes)?);
        }
    }
    Ok(RegistryTable {
        prefix,
        location,
        insecure: flag("insecure")?,
        blocked: flag("blocked")?,
        mirrors,
        origin,
    })
}

fn mirror_table(
    file: &TomlFile,
    table: &Value<'_>,
    digest_only: bool,
    notes: &mut Vec<String>,
) -> Result<MirrorTable, HostsError> {
    let span = table.span();
    let body = table.get_ref().as_table().expect("checked by tables()");
    let known = ["location", "insecure", "pull-from-mirror"];
    let f = file.fields(body, &known, "[[registry.mirror]]", notes);
    let location = match f.get("location") {
        Some(v) => {
            parse_location(file.string(v, "location")?).map_err(|m| file.invalid(&v.span(), m))?
        }
        None => return Err(file.invalid(&span, "[[registry.mirror]] needs a `location`")),
    };
    let pull_from = match f.get("pull-from-mirror") {
        Some(v) if digest_only => {
            return Err(file.invalid(
                &v.span(),
                "`pull-from-mirror` cannot be set when the registry has `mirror-by-digest-only = true`",
            ));
        }
        Some(v) => match file.string(v, "pull-from-mirror")? {
            "" | "all" => PullFrom::All,
            "digest-only" => PullFrom::DigestOnly,
            "tag-only" => PullFrom::TagOnly,
            other => {
                return Err(file.invalid(
                    &v.span(),
                    format!("`pull-from-mirror` is \"all\", \"digest-only\" or \"tag-only\", not {other:?}"),
                ));
            }
        },
        None if digest_only => PullFrom::DigestOnly,
        None => PullFrom::All,
    };
    let insecure = match f.get("insecure") {
        Some(v) => file.boolean(v, "insecure")?,
        None => false,
    };
    Ok(MirrorTable {
        location,
        insecure,
        pull_from,
        origin: file.at(&span),
    })
}

/// v1's `[registries.insecure]` and `[registries.block]` lists as tables;
/// `[registries.search]` is about short names (a note).
fn v1_tables(
    file: &TomlFile,
    v1: &Value<'_>,
    notes: &mut Vec<String>,
) -> Result<Vec<RegistryTable>, HostsError> {
    let Some(body) = v1.get_ref().as_table() else {
        return Err(file.invalid(&v1.span(), "`registries` must be a table"));
    };
    let sections = file.fields(
        body,
        &["search", "insecure", "block"],
        "[registries]",
        notes,
    );
    let mut tables: Vec<RegistryTable> = Vec::new();
    if let Some(v) = sections.get("search") {
        notes.push(format!(
            "{}: [registries.search] is not used by regpull (it pulls fully qualified references only)",
            file.at(&v.span())
        ));
    }
    for (section, blocked) in [("block", true), ("insecure", false)] {
        let Some(v) = sections.get(section) else {
            continue;
        };
        let Some(list) = v.get_ref().as_table() else {
            return Err(file.invalid(&v.span(), format!("`registries.{section}` must be a table")));
        };
        let f = file.fields(
            list,
            &["registries"],
            &format!("[registries.{section}]"),
            notes,
        );
        let Some(names) = f.get("registries") else {
            continue;
        };
        for name in file.strings(names, "registries")? {
            let location = parse_location(&name).map_err(|m| file.invalid(&names.span(), m))?;
            let at = tables
                .iter()
                .position(|t| t.location.as_deref() == Some(&location));
            let t = match at {
                Some(i) => &mut tables[i],
                None => {
                    tables.push(RegistryTable {
                        prefix: Prefix::Name(location.clone()),
                        location: Some(location),
                        insecure: false,
                        blocked: false,
                        mirrors: Vec::new(),
                        origin: file.at(&names.span()),
                    });
                    tables.last_mut().expect("just pushed")
                }
            };
            if blocked {
                t.blocked = true;
            } else {
                t.insecure = true;
            }
        }
    }
    Ok(tables)
}
