//! The order across all three: `--mirror`, registries.conf mirrors,
//! hosts.toml hosts, the upstream; repeats dropped.

use regpull::hosts::{HostsError, parse_mirror_flag};

use super::{Machine, places, sources};

fn all_three() -> Machine {
    let m = Machine::new()
        .mirror("docker.io", "http://flag.example/hub")
        .mirror("quay.io", "quay-flag.example")
        .mirror("docker.io", "flag2.example");
    m.system_conf(
        r#"[[registry]]
prefix = "docker.io"
location = "docker.io"
[[registry.mirror]]
location = "conf.example/dh"
"#,
    );
    m.hosts_toml(
        "docker.io",
        "server = \"https://registry-1.docker.io\"\n[host.\"https://hosts.example\"]\n",
    );
    m
}

#[test]
fn flags_then_registries_conf_then_hosts_toml_then_upstream() {
    let m = all_three();
    let all = sources(&m.load(), "docker.io/library/ubuntu:24.04");
    assert_eq!(
        places(&all),
        [
            "flag.example/hub/library/ubuntu",
            "flag2.example/library/ubuntu",
            "conf.example/dh/library/ubuntu",
            "hosts.example/library/ubuntu",
            "registry-1.docker.io/library/ubuntu",
        ]
    );
    assert!(all[0].plain_http && all[0].resolve_tags && all[0].by_digest);
    assert_eq!(all[0].origin, "--mirror docker.io=http://flag.example/hub");
    assert_eq!(all.iter().filter(|s| s.upstream).count(), 1);
    assert!(all.last().unwrap().upstream);
    // A user's repository is not under library/.
    assert_eq!(
        places(&sources(&m.load(), "someone/app"))[0],
        "flag.example/hub/someone/app"
    );
}

#[test]
fn repeats_keep_the_first_and_never_displace_the_upstream() {
    let m = Machine::new()
        .mirror("docker.io", "conf.example/dh")
        .mirror("docker.io", "registry-1.docker.io");
    m.system_conf(
        "[[registry]]\nlocation = \"docker.io\"\n[[registry.mirror]]\nlocation = \"conf.example/dh\"\ninsecure = true\n",
    );
    m.hosts_toml("docker.io", "[host.\"https://conf.example/dh\"]\n");
    let all = sources(&m.load(), "alpine");
    assert_eq!(
        places(&all),
        [
            "conf.example/dh/library/alpine",
            // hosts.toml's path is an API root, not a repository prefix: another place.
            "conf.example/library/alpine",
            "registry-1.docker.io/library/alpine",
        ]
    );
    assert!(!all[0].plain_http, "the --mirror came first and was kept");
    assert_eq!(all[1].api_path, "/dh/v2/");
    assert!(all[2].upstream);
}

#[test]
fn a_docker_io_location_means_docker_hubs_api_host() {
    let m = Machine::new();
    m.system_conf("[[registry]]\nprefix = \"quay.io/mirror-of-hub\"\nlocation = \"docker.io\"\n");
    assert_eq!(
        m.places("quay.io/mirror-of-hub/nginx"),
        ["registry-1.docker.io/library/nginx"]
    );
}

#[test]
fn a_relocated_upstream_ignores_the_hosts_toml_server() {
    let m = Machine::new();
    m.system_conf("[[registry]]\nprefix = \"r.example\"\nlocation = \"elsewhere.example/r\"\n");
    m.hosts_toml(
        "r.example",
        "server = \"https://server.example\"\n[host.\"https://h.example\"]\n",
    );
    assert_eq!(
        m.places("r.example/app"),
        ["h.example/app", "elsewhere.example/r/app"]
    );
}

#[test]
fn the_mirror_flag_parses_for_clap_and_bad_values_fail_load() {
    assert_eq!(
        parse_mirror_flag("docker.io=mirror.example:5000/hub").unwrap(),
        ("docker.io".into(), "mirror.example:5000/hub".into())
    );
    let e = parse_mirror_flag("mirror.example").unwrap_err();
    assert!(matches!(e, HostsError::MirrorFlag { .. }));
    assert!(
        e.to_string().starts_with("--mirror \"mirror.example\""),
        "{e}"
    );
    let m = Machine::new().mirror("docker.io", "ftp://x");
    assert!(matches!(m.try_load(), Err(HostsError::MirrorFlag { .. })));
}
