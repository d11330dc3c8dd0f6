//! The ordered list of sources for one reference: `--mirror` ones, then the
//! registries.conf mirrors of the longest matching prefix, then the
//! hosts.toml hosts that may pull, then the upstream, last.
//!
//! How the two files meet (neither project defines it, so regpull does): a
//! registries.conf `location` that moves the upstream to another host wins
//! over hosts.toml's `server`, whose top-level settings describe the
//! registry's own endpoint and so apply only while the upstream is still on
//! the reference's registry. hosts.toml is found by the reference's own
//! registry domain, and its hosts serve the reference's own repository.

use super::error::HostsError;
use super::hosts_toml::{HostEntry, HostsFile};
use super::prefix::{host_and_repository, relocate};
use super::registries_conf::{MirrorTable, PullFrom, RegistryTable};
use super::{HostsConfig, Source};
use crate::reference::{ImageRef, api_host};

impl HostsConfig {
    /// Where to fetch `image` from, in order: `--mirror` ones, then
    /// registries.conf mirrors, then hosts.toml hosts, the upstream last
    /// (exactly one source has `upstream` set, the last). Repeats of a
    /// host + repository + API path keep the first; a mirror that is the
    /// upstream itself is dropped, the upstream being tried anyway.
    /// `Err(Blocked)` when registries.conf blocks the reference.
    pub fn sources(&self, image: &ImageRef) -> Result<Vec<Source>, HostsError> {
        let mut sources: Vec<Source> = self
            .flag_mirrors
            .iter()
            .filter_map(|m| m.source_for(image))
            .collect();
        let mut upstream = plain_upstream(image);
        let mut on_own_registry = true;
        if let Some((table, rest)) = self.matching_table(image) {
            if table.blocked {
                return Err(HostsError::Blocked {
                    reference: image.to_string(),
                    origin: table.origin.clone(),
                });
            }
            for m in &table.mirrors {
                sources.push(conf_mirror(m, &rest, image)?);
            }
            if let Some(location) = &table.location {
                let (host, repository) = relocate(location, &rest)
                    .ok_or_else(|| rewrite_error(image, &table.origin, location, &rest))?;
                on_own_registry = location.split('/').next() == Some(image.domain());
                upstream.host = host;
                upstream.repository = repository;
            }
            upstream.plain_http = table.insecure;
            upstream.skip_verify = table.insecure;
            upstream.origin = table.origin.clone();
        }
        if let Some(found) = self
            .hosts
            .as_ref()
            .and_then(|h| h.for_domain(image.domain()))
        {
            let file: &HostsFile = found?;
            sources.extend(
                file.hosts
                    .iter()
                    .filter(|h| h.pull)
                    .map(|h| host_source(h, image)),
            );
            if on_own_registry {
                apply_server(&mut upstream, &file.server);
            }
        }
        let key = |s: &Source| (s.host.clone(), s.repository.clone(), s.api_path.clone());
        let mut seen = vec![key(&upstream)];
        sources.retain(|s| {
            let k = key(s);
            let new = !seen.contains(&k);
            seen.push(k);
            new
        });
        sources.push(upstream);
        Ok(sources)
    }

    /// The table with the longest prefix matching `image`, and what of the
    /// image's name the prefix leaves.
    fn matching_table(&self, image: &ImageRef) -> Option<(&RegistryTable, String)> {
        self.registries
            .iter()
            .filter_map(|t| t.prefix.unmatched(image).map(|rest| (t, rest)))
            .max_by_key(|(t, _)| t.prefix.rank())
    }
}

/// The registry the reference names, as it is with nothing configured.
fn plain_upstream(image: &ImageRef) -> Source {
    Source {
        host: image.api_host().to_string(),
        repository: image.repository().to_string(),
        api_path: "/v2/".into(),
        plain_http: false,
        skip_verify: false,
        ca_certs: Vec::new(),
        resolve_tags: true,
        by_digest: true,
        upstream: true,
        origin: "the reference".into(),
    }
}

fn conf_mirror(m: &MirrorTable, rest: &str, image: &ImageRef) -> Result<Source, HostsError> {
    let (host, repository) = relocate(&m.location, rest)
        .ok_or_else(|| rewrite_error(image, &m.origin, &m.location, rest))?;
    Ok(Source {
        host,
        repository,
        api_path: "/v2/".into(),
        plain_http: m.insecure,
        skip_verify: m.insecure,
        ca_certs: Vec::new(),
        resolve_tags: m.pull_from != PullFrom::DigestOnly,
        by_digest: m.pull_from != PullFrom::TagOnly,
        upstream: false,
        origin: m.origin.clone(),
    })
}

fn host_source(h: &HostEntry, image: &ImageRef) -> Source {
    let url = h.url.as_ref().expect("[host.\"URL\"] tables have a URL");
    let (host, repository) = host_and_repository(&url.host, image.repository());
    Source {
        host,
        repository,
        api_path: h.api_path.clone(),
        plain_http: url.plain_http,
        skip_verify: h.skip_verify,
        ca_certs: h.ca_certs.clone(),
        resolve_tags: h.resolve,
        by_digest: true,
        upstream: false,
        origin: h.origin.clone(),
    }
}

/// hosts.toml's `server` and top-level settings, onto the upstream.
fn apply_server(upstream: &mut Source, server: &HostEntry) {
    if let Some(url) = &server.url {
        upstream.host = api_host(&url.host).to_string();
        upstream.plain_http = url.plain_http;
        upstream.api_path = server.api_path.clone();
        upstream.origin = server.origin.clone();
    }
    upstream.skip_verify |= server.skip_verify;
    upstream.ca_certs.extend(server.ca_certs.iter().cloned());
}

fn rewrite_error(image: &ImageRef, origin: &str, location: &str, rest: &str) -> HostsError {
    HostsError::Rewrite {
        reference: image.to_string(),
        origin: origin.to_string(),
        rewritten: format!("{location}{rest}"),
    }
}
