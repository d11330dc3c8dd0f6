//! containerd's hosts directory: hosts.toml per registry, `_default`, and
//! how each host becomes a source.

use regpull::hosts::{HostsConfig, HostsError};

use super::{Machine, places, shown, sources};

#[test]
fn hosts_come_in_file_order_before_the_server() {
    let m = Machine::new();
    let file = m.hosts_toml(
        "docker.io",
        r#"server = "https://registry-1.docker.io"

[host."https://zz-first.example"]
  capabilities = ["pull", "resolve"]

[host."http://aa-second.example:5000"]
  capabilities = ["pull"]
  skip_verify = true

[host."https://push-only.example"]
  capabilities = ["push"]
"#,
    );
    let all = sources(&m.load(), "ubuntu");
    assert_eq!(
        places(&all),
        [
            "zz-first.example/library/ubuntu",
            "aa-second.example:5000/library/ubuntu",
            "registry-1.docker.io/library/ubuntu",
        ]
    );
    let (first, second, upstream) = (&all[0], &all[1], &all[2]);
    assert!(first.resolve_tags && first.by_digest && !first.plain_http);
    assert_eq!(first.origin, format!("{}:3", shown(&file)));
    assert!(
        !second.resolve_tags && second.by_digest,
        "pull without resolve"
    );
    assert!(second.plain_http && second.skip_verify);
    assert!(upstream.upstream && upstream.resolve_tags);
    assert_eq!(upstream.origin, format!("{}:1", shown(&file)));
}

#[test]
fn server_overrides_the_upstream_endpoint() {
    let m = Machine::new();
    let file = m.hosts_toml(
        "r.example:5000",
        "server = \"http://internal.example:8080/registry\"\nskip_verify = true\nca = \"ca.pem\"\n",
    );
    let all = sources(&m.load(), "r.example:5000/team/app");
    let s = &all[0];
    assert_eq!(
        (s.host.as_str(), s.repository.as_str()),
        ("internal.example:8080", "team/app")
    );
    assert_eq!(s.api_path, "/registry/v2/");
    assert!(s.plain_http && s.skip_verify && s.upstream);
    assert_eq!(s.ca_certs, [file.parent().unwrap().join("ca.pem")]);
}

#[test]
fn a_port_registry_may_use_containerds_underscore_directory() {
    let m = Machine::new();
    m.hosts_toml("r.example_5000_", "[host.\"https://u.example\"]\n");
    m.hosts_toml("r.example:5000", "[host.\"https://colon.example\"]\n");
    assert_eq!(
        m.places("r.example:5000/x"),
        ["u.example/x", "r.example:5000/x"]
    );
}

#[test]
fn the_default_directory_serves_registries_without_their_own() {
    let m = Machine::new();
    m.hosts_toml("_default", "[host.\"https://cache.example\"]\n");
    m.hosts_toml("quay.io", "[host.\"https://quay-cache.example\"]\n");
    assert_eq!(
        m.places("ghcr.io/o/r"),
        ["cache.example/o/r", "ghcr.io/o/r"]
    );
    assert_eq!(
        m.places("quay.io/o/r"),
        ["quay-cache.example/o/r", "quay.io/o/r"]
    );
}

#[test]
fn ca_paths_are_relative_to_the_file_and_override_path_is_the_api_root() {
    let m = Machine::new();
    let file = m.hosts_toml(
        "nvcr.io",
        r#"[host."https://art.example/artifactory/api/docker/nvcr/v2"]
  override_path = true
  ca = ["certs/art.pem", "/etc/ssl/abs.pem"]

[host."https://plain.example/some/prefix"]
"#,
    );
    let all = sources(&m.load(), "nvcr.io/nvidia/cuda:12");
    assert_eq!(all[0].api_path, "/artifactory/api/docker/nvcr/v2/");
    assert_eq!(all[0].repository, "nvidia/cuda");
    let dir = file.parent().unwrap();
    assert_eq!(
        all[0].ca_certs,
        [dir.join("certs/art.pem"), "/etc/ssl/abs.pem".into()]
    );
    assert_eq!(all[1].api_path, "/some/prefix/v2/");
    assert_eq!(all[2].api_path, "/v2/");
}

#[test]
fn a_directory_without_hosts_toml_lends_its_crt_files_to_the_registry() {
    let m = Machine::new();
    let ca = m.write("certs.d/r.example/ca.crt", "pem");
    m.write("certs.d/r.example/client.cert", "pem");
    let config = m.load();
    let all = sources(&config, "r.example/x");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].ca_certs, [ca]);
    assert!(
        config
            .notes()
            .iter()
            .any(|n| n.contains("client certificates are not supported"))
    );
}

#[test]
fn unknown_fields_are_notes_and_malformed_files_errors_for_their_registry() {
    let m = Machine::new();
    let good = m.hosts_toml(
        "good.example",
        "[host.\"https://m.example\"]\n  colour = \"red\"\n",
    );
    let bad = m.hosts_toml(
        "bad.example",
        "server = \"https://bad.example\"\n[host.\"x\"\n",
    );
    let config = m.load();
    let note = format!(
        "{}:2: unknown field `colour` in [host.\"https://m.example\"] ignored",
        shown(&good)
    );
    assert!(config.notes().contains(&note), "{:?}", config.notes());
    assert_eq!(
        places(&sources(&config, "good.example/x")),
        ["m.example/x", "good.example/x"]
    );
    let e = config
        .sources(&"bad.example/x".parse().unwrap())
        .unwrap_err();
    assert!(matches!(e, HostsError::Syntax { line: 2, .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with(&format!("{}:2: not valid TOML", shown(&bad))),
        "{e}"
    );
}

#[test]
fn an_explicit_hosts_dir_must_exist() {
    let m = Machine::new();
    let mut options = m.options();
    options.hosts_dir_explicit = true;
    let e = HostsConfig::load(&options).unwrap_err();
    assert!(matches!(e, HostsError::HostsDirMissing { .. }), "{e:?}");
    assert!(e.to_string().contains("certs.d"), "{e}");
}
