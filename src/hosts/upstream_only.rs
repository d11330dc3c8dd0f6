//! TEMPORARY (not committed): stands in for helper A's HostsConfig.
use super::Source;
use crate::reference::ImageRef;

#[derive(Debug, Default)]
pub struct HostsConfig {
    mirrors: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
#[error("blocked")]
pub struct HostsError;

impl HostsConfig {
    pub fn sources(&self, r: &ImageRef) -> Result<Vec<Source>, HostsError> {
        let mut out: Vec<Source> = self
            .mirrors
            .iter()
            .filter(|(reg, _)| reg == r.domain())
            .map(|(_, m)| {
                let (plain, rest) = match m.strip_prefix("http://") {
                    Some(rest) => (true, rest),
                    None => (false, m.strip_prefix("https://").unwrap_or(m)),
                };
                let (host, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                let repository = if prefix.is_empty() {
                    r.repository().to_string()
                } else {
                    format!("{prefix}/{}", r.repository())
                };
                Source {
                    host: host.to_string(),
                    repository,
                    api_path: "/v2/".into(),
                    plain_http: plain,
                    skip_verify: false,
                    ca_certs: vec![],
                    resolve_tags: true,
                    by_digest: true,
                    upstream: false,
                    origin: "--mirror".into(),
                }
            })
            .collect();
        out.push(Source {
            host: r.api_host().to_string(),
            repository: r.repository().to_string(),
            api_path: "/v2/".into(),
            plain_http: false,
            skip_verify: false,
            ca_certs: vec![],
            resolve_tags: true,
            by_digest: true,
            upstream: true,
            origin: "the reference".into(),
        });
        Ok(out)
    }
}

pub struct LoadOptions {
    pub registries_conf: Option<std::path::PathBuf>,
    pub home: Option<std::path::PathBuf>,
    pub system_conf: std::path::PathBuf,
    pub hosts_dir: Option<std::path::PathBuf>,
    pub mirrors: Vec<(String, String)>,
}

impl HostsConfig {
    pub fn load(o: &LoadOptions) -> Result<HostsConfig, HostsError> {
        Ok(HostsConfig {
            mirrors: o.mirrors.clone(),
        })
    }
    pub fn notes(&self) -> &[String] {
        &[]
    }
}

pub fn parse_mirror_flag(s: &str) -> Result<(String, String), HostsError> {
    s.split_once('=')
        .map(|(a, b)| (a.into(), b.into()))
        .ok_or(HostsError)
}
