//! One containerd `hosts.toml` (containerd's docs/hosts.md): the registry's
//! own endpoint (`server` and the top-level settings) and its mirrors, the
//! `[host."URL"]` tables, tried in the order the file lists them.
//!
//! Honoured: `server`, `capabilities` (a host without `pull` is no pull
//! source; `resolve` lets it answer for tags), `skip_verify`, `ca` (one path
//! or a list; relative to the file's directory), `override_path`, and the
//! URL's scheme (`http://` is plain HTTP). `header` and `client` (extra
//! request headers, client certificates) are not supported yet: a note.

use std::path::{Path, PathBuf};

use super::error::HostsError;
use super::toml_file::{Fields, TomlFile, Value};
use super::url::HostUrl;

/// One endpoint described by the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostEntry {
    /// `None` for the top level without `server`: the settings then apply
    /// to the registry's default endpoint.
    pub url: Option<HostUrl>,
    pub api_path: String,
    pub skip_verify: bool,
    pub ca_certs: Vec<PathBuf>,
    pub pull: bool,
    pub resolve: bool,
    /// `file:line` of the `server` key or of the `[host."..."]` header.
    pub origin: String,
}

/// What one hosts.toml says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostsFile {
    /// The registry's own endpoint, from `server` and the top-level keys.
    pub server: HostEntry,
    /// The `[host."URL"]` tables, in file order.
    pub hosts: Vec<HostEntry>,
}

const ENDPOINT_KEYS: &[&str] = &[
    "capabilities",
    "skip_verify",
    "ca",
    "override_path",
    "header",
    "client",
];

pub(crate) fn parse(file: &TomlFile, notes: &mut Vec<String>) -> Result<HostsFile, HostsError> {
    let doc = file.parse()?;
    let mut known = vec!["server", "host"];
    known.extend_from_slice(ENDPOINT_KEYS);
    let top = file.fields(&doc, &known, "hosts.toml", notes);
    let base = file.path.parent().unwrap_or(Path::new("."));
    let (url, origin) = match top.get("server") {
        Some(v) => {
            let s = file.string(v, "server")?;
            let url = HostUrl::parse(s).map_err(|m| file.invalid(&v.span(), m))?;
            (Some(url), file.at(&v.span()))
        }
        None => (None, file.at(&(0..0))),
    };
    let server = endpoint(file, &top, url, origin, base, notes)?;
    if top.get("capabilities").is_some() {
        notes.push(format!(
            "{}: top-level `capabilities` ignored: the registry itself is always tried, last",
            server.origin
        ));
    }
    let mut hosts = Vec::new();
    if let Some(v) = top.get("host") {
        let Some(table) = v.get_ref().as_table() else {
            return Err(file.invalid(
                &v.span(),
                "`host` must be a table of `[host.\"URL\"]` tables",
            ));
        };
        for (key, value) in table {
            let Some(body) = value.get_ref().as_table() else {
                return Err(file.invalid(
                    &value.span(),
                    format!("`host.{:?}` must be a table", key.get_ref()),
                ));
            };
            let url = HostUrl::parse(key.get_ref()).map_err(|m| file.invalid(&key.span(), m))?;
            let what = format!("[host.{:?}]", key.get_ref());
            let f = file.fields(body, ENDPOINT_KEYS, &what, notes);
            let origin = file.at(&value.span());
            hosts.push(endpoint(file, &f, Some(url), origin, base, notes)?);
        }
    }
    Ok(HostsFile { server, hosts })
}

fn endpoint(
    file: &TomlFile,
    f: &Fields<'_, '_>,
    url: Option<HostUrl>,
    origin: String,
    base: &Path,
    notes: &mut Vec<String>,
) -> Result<HostEntry, HostsError> {
    let flag = |key| f.get(key).map_or(Ok(false), |v| file.boolean(v, key));
    let (pull, resolve) = match f.get("capabilities") {
        Some(v) => capabilities(file, v)?,
        None => (true, true),
    };
    let ca_certs = match f.get("ca") {
        Some(v) => file
            .strings(v, "ca")?
            .into_iter()
            .map(|p| base.join(p))
            .collect(),
        None => Vec::new(),
    };
    for key in ["header", "client"] {
        if let Some(v) = f.get(key) {
            notes.push(format!(
                "{}: `{key}` is not supported by regpull yet; ignored",
                file.at(&v.span())
            ));
        }
    }
    let override_path = flag("override_path")?;
    let api_path = url
        .as_ref()
        .map_or("/v2/".to_string(), |u| u.api_path(override_path));
    Ok(HostEntry {
        url,
        api_path,
        skip_verify: flag("skip_verify")?,
        ca_certs,
        pull,
        resolve,
        origin,
    })
}

/// `(pull, resolve)` from a `capabilities` list; `push` is understood and
/// has no bearing on pulling. An unknown capability is an error, as in
/// containerd.
fn capabilities(file: &TomlFile, v: &Value<'_>) -> Result<(bool, bool), HostsError> {
    let mut caps = (false, false);
    for c in file.strings(v, "capabilities")? {
        match c.to_ascii_lowercase().as_str() {
            "pull" => caps.0 = true,
            "resolve" => caps.1 = true,
            "push" => {}
            _ => {
                return Err(file.invalid(
                    &v.span(),
                    format!("unknown capability {c:?} (known: \"pull\", \"resolve\", \"push\")"),
                ));
            }
        }
    }
    Ok(caps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> (HostsFile, Vec<String>) {
        let file = TomlFile::new("/certs.d/docker.io/hosts.toml", text.to_string());
        let mut notes = Vec::new();
        (parse(&file, &mut notes).unwrap(), notes)
    }

    #[test]
    fn hosts_keep_file_order_and_their_settings() {
        let (f, notes) = parse_text(
            r#"server = "https://registry-1.docker.io"

[host."https://z.example"]
  capabilities = ["pull"]
[host."http://a.example:5000/cache"]
  skip_verify = true
  ca = ["ca.pem", "/abs/ca.pem"]
  header = { x = "y" }
"#,
        );
        assert_eq!(f.server.url.as_ref().unwrap().host, "registry-1.docker.io");
        assert_eq!(f.server.origin, "/certs.d/docker.io/hosts.toml:1");
        let z = &f.hosts[0];
        assert_eq!(z.url.as_ref().unwrap().host, "z.example");
        assert_eq!((z.pull, z.resolve), (true, false));
        let a = &f.hosts[1];
        assert!(a.url.as_ref().unwrap().plain_http && a.skip_verify);
        assert_eq!(a.api_path, "/cache/v2/");
        assert_eq!(
            a.ca_certs,
            [
                PathBuf::from("/certs.d/docker.io/ca.pem"),
                PathBuf::from("/abs/ca.pem")
            ]
        );
        assert_eq!(a.origin, "/certs.d/docker.io/hosts.toml:5");
        assert_eq!(
            notes,
            ["/certs.d/docker.io/hosts.toml:8: `header` is not supported by regpull yet; ignored"]
        );
    }

    #[test]
    fn bad_values_are_errors_at_their_line() {
        let file = TomlFile::new(
            "/h.toml",
            "[host.\"https://m\"]\ncapabilities = [\"fly\"]\n".into(),
        );
        let e = parse(&file, &mut Vec::new()).unwrap_err().to_string();
        assert!(
            e.starts_with("/h.toml:2: unknown capability \"fly\""),
            "{e}"
        );
    }
}
