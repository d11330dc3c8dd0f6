//! registries.conf's `[[registry]]` tables: every field, prefix matching,
//! and the errors and notes that name file and line.

use regpull::hosts::HostsError;

use super::{Machine, places, shown, sources};

#[test]
fn no_configuration_means_the_upstream_only() {
    let m = Machine::new();
    let all = sources(&m.load(), "ubuntu");
    assert_eq!(all.len(), 1);
    let s = &all[0];
    assert_eq!(s.host, "registry-1.docker.io");
    assert_eq!(s.repository, "library/ubuntu");
    assert_eq!(s.api_path, "/v2/");
    assert!(!s.plain_http && !s.skip_verify && s.ca_certs.is_empty());
    assert!(s.resolve_tags && s.by_digest && s.upstream);
    assert_eq!(s.origin, "the reference");
}

#[test]
fn a_docker_hub_mirror_keeps_library_and_its_own_host() {
    let m = Machine::new();
    let conf = m.system_conf(
        r#"
[[registry]]
prefix = "docker.io"
location = "docker.io"

[[registry.mirror]]
location = "mirror.example/hub"

[[registry.mirror]]
location = "mirror.gcr.io"
insecure = true
"#,
    );
    let all = sources(&m.load(), "ubuntu:22.04");
    assert_eq!(
        places(&all),
        [
            "mirror.example/hub/library/ubuntu",
            "mirror.gcr.io/library/ubuntu",
            "registry-1.docker.io/library/ubuntu",
        ]
    );
    assert_eq!(all[0].origin, format!("{}:6", shown(&conf)));
    assert!(!all[0].plain_http && !all[0].skip_verify);
    assert!(all[1].plain_http && all[1].skip_verify, "insecure");
    assert_eq!(all[2].origin, format!("{}:2", shown(&conf)));
    assert!(all[2].upstream && !all[0].upstream && !all[1].upstream);
}

#[test]
fn location_rewrites_the_upstream_and_insecure_applies_to_it() {
    let m = Machine::new();
    m.system_conf(
        r#"
[[registry]]
prefix = "example.com/foo"
location = "internal.example:5000/bar"
insecure = true
"#,
    );
    let all = sources(&m.load(), "example.com/foo/app:1");
    assert_eq!(places(&all), ["internal.example:5000/bar/app"]);
    assert!(all[0].plain_http && all[0].skip_verify && all[0].upstream);
    // Outside the prefix nothing changes.
    assert_eq!(m.places("example.com/food/app"), ["example.com/food/app"]);
}

#[test]
fn the_longest_matching_prefix_wins() {
    let m = Machine::new();
    m.system_conf(
        r#"
[[registry]]
location = "quay.io"
[[registry.mirror]]
location = "short.example"

[[registry]]
prefix = "quay.io/team"
location = "quay.io/team"
[[registry.mirror]]
location = "long.example/t"

[[registry]]
prefix = "quay.io/team/app:v1"
location = "pinned.example/app"
"#,
    );
    assert_eq!(
        m.places("quay.io/team/app:v2"),
        ["long.example/t/app", "quay.io/team/app"]
    );
    assert_eq!(
        m.places("quay.io/other/x"),
        ["short.example/other/x", "quay.io/other/x"]
    );
    // A prefix with a tag takes that tag only; the tag still comes from the reference.
    assert_eq!(m.places("quay.io/team/app:v1"), ["pinned.example/app"]);
}

#[test]
fn a_wildcard_prefix_matches_subdomains_and_keeps_their_host() {
    let m = Machine::new();
    let conf = m.system_conf(
        r#"
[[registry]]
prefix = "*.corp.example"
insecure = true
[[registry.mirror]]
location = "cache.example/corp"
"#,
    );
    let all = sources(&m.load(), "a.b.corp.example/team/app");
    assert_eq!(
        places(&all),
        ["cache.example/corp/team/app", "a.b.corp.example/team/app"]
    );
    assert!(all[1].plain_http && all[1].upstream);
    assert_eq!(all[1].origin, format!("{}:2", shown(&conf)));
    assert_eq!(m.places("corp.example/x/y"), ["corp.example/x/y"]);
}

#[test]
fn pull_from_mirror_and_mirror_by_digest_only() {
    let m = Machine::new();
    m.system_conf(
        r#"
[[registry]]
location = "r1.example"
[[registry.mirror]]
location = "all.example"
pull-from-mirror = "all"
[[registry.mirror]]
location = "digest.example"
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "tag.example"
pull-from-mirror = "tag-only"

[[registry]]
location = "r2.example"
mirror-by-digest-only = true
[[registry.mirror]]
location = "legacy.example"
"#,
    );
    let config = m.load();
    let caps = |r: &str| -> Vec<(String, bool, bool)> {
        sources(&config, r)
            .into_iter()
            .map(|s| (s.host, s.resolve_tags, s.by_digest))
            .collect()
    };
    let t = |h: &str, r, d| (h.to_string(), r, d);
    assert_eq!(
        caps("r1.example/x"),
        [
            t("all.example", true, true),
            t("digest.example", false, true),
            t("tag.example", true, false),
            t("r1.example", true, true),
        ]
    );
    assert_eq!(
        caps("r2.example/x"),
        [
            t("legacy.example", false, true),
            t("r2.example", true, true)
        ]
    );
}

#[test]
fn blocked_is_an_error_naming_file_and_line() {
    let m = Machine::new();
    let conf = m.system_conf("\n\n[[registry]]\nlocation = \"bad.example\"\nblocked = true\n");
    let e = m
        .load()
        .sources(&"bad.example/x:1".parse().unwrap())
        .unwrap_err();
    assert!(matches!(e, HostsError::Blocked { .. }));
    assert_eq!(
        e.to_string(),
        format!("pulling bad.example/x:1 is blocked by {}:3", shown(&conf))
    );
    assert_eq!(m.places("good.example/x"), ["good.example/x"]);
}

#[test]
fn malformed_toml_names_file_and_line() {
    let m = Machine::new();
    let conf = m.system_conf("[[registry]]\nlocation = \"a.example\"\ninsecure = tru\n");
    let e = m.try_load().unwrap_err();
    assert!(matches!(e, HostsError::Syntax { line: 3, .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.starts_with(&format!("{}:3: not valid TOML", shown(&conf))),
        "{text}"
    );
}

#[test]
fn invalid_values_name_file_and_line() {
    let cases = [
        (
            "[[registry]]\nlocation = \"a.example\"\n[[registry.mirror]]\nlocation = \"m.example\"\npull-from-mirror = \"sometimes\"\n",
            5,
            "not \"sometimes\"",
        ),
        (
            "[[registry]]\n\nlocation = \"https://a.example\"\n",
            3,
            "URL scheme",
        ),
        (
            "[[registry]]\nprefix = \"\"\n",
            1,
            "needs a `prefix` or a `location`",
        ),
        (
            "[[registry]]\nprefix = \"*.a.example\"\nlocation = \"b.example\"\n",
            3,
            "takes no `location`",
        ),
        (
            "[[registry]]\nprefix = \"*.a.example/x\"\n",
            2,
            "wildcard prefix",
        ),
        (
            "[[registry]]\nlocation = \"a.example\"\ninsecure = \"yes\"\n",
            3,
            "true or false",
        ),
        (
            "[[registry]]\nlocation = \"a.example\"\n[[registry.mirror]]\ninsecure = true\n",
            3,
            "needs a `location`",
        ),
        (
            "[[registry]]\nlocation = \"a.example\"\npull-from-mirror = \"all\"\n",
            3,
            "belongs in a [[registry.mirror]]",
        ),
        (
            "[[registry]]\nlocation = \"a.example\"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = \"m\"\npull-from-mirror = \"all\"\n",
            6,
            "cannot be set",
        ),
    ];
    for (text, line, words) in cases {
        let m = Machine::new();
        let conf = m.system_conf(text);
        let e = m.try_load().expect_err(text);
        assert!(matches!(e, HostsError::Invalid { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.starts_with(&format!("{}:{line}: ", shown(&conf))),
            "{msg}"
        );
        assert!(msg.contains(words), "{msg}");
    }
}

#[test]
fn unknown_and_unused_fields_are_notes_with_file_and_line() {
    let m = Machine::new();
    let conf = m.system_conf(
        r#"unqualified-search-registries = ["docker.io"]
short-name-mode = "enforcing"

[aliases]
"ubuntu" = "docker.io/library/ubuntu"

[[registry]]
location = "a.example"
colour = "blue"
[[registry.mirror]]
location = "m.example"
weight = 3
"#,
    );
    let config = m.load();
    let notes = config.notes().join("\n");
    let at = |line: usize| format!("{}:{line}: ", shown(&conf));
    assert!(notes.contains(&format!("read {}", shown(&conf))), "{notes}");
    assert!(
        notes.contains(&format!(
            "{}`unqualified-search-registries` is not used",
            at(1)
        )),
        "{notes}"
    );
    assert!(
        notes.contains(&format!("{}`short-name-mode` is not used", at(2))),
        "{notes}"
    );
    assert!(
        notes.contains(&format!("{}`aliases` is not used", at(4))),
        "{notes}"
    );
    assert!(
        notes.contains(&format!(
            "{}unknown field `colour` in [[registry]] ignored",
            at(9)
        )),
        "{notes}"
    );
    assert!(
        notes.contains(&format!(
            "{}unknown field `weight` in [[registry.mirror]] ignored",
            at(12)
        )),
        "{notes}"
    );
    assert_eq!(m.places("a.example/x"), ["m.example/x", "a.example/x"]);
}

#[test]
fn the_v1_format_is_read_for_its_insecure_and_block_lists() {
    let m = Machine::new();
    m.system_conf(
        r#"
[registries.search]
registries = ["docker.io"]
[registries.insecure]
registries = ["plain.example:5000"]
[registries.block]
registries = ["evil.example"]
"#,
    );
    let config = m.load();
    let s = &sources(&config, "plain.example:5000/x")[0];
    assert!(s.plain_http && s.skip_verify);
    let e = config
        .sources(&"evil.example/x".parse().unwrap())
        .unwrap_err();
    assert!(matches!(e, HostsError::Blocked { .. }), "{e}");
    assert!(
        config
            .notes()
            .iter()
            .any(|n| n.contains("[registries.search] is not used"))
    );
}

#[test]
fn mixing_v1_and_v2_is_an_error() {
    let m = Machine::new();
    let conf = m.system_conf(
        "[[registry]]\nlocation = \"a.example\"\n\n[registries.block]\nregistries = [\"b.example\"]\n",
    );
    let e = m.try_load().unwrap_err().to_string();
    assert!(e.starts_with(&format!("{}:4: ", shown(&conf))), "{e}");
    assert!(e.contains("regpull reads v2 [[registry]] tables"), "{e}");
}

#[test]
fn a_repeated_prefix_in_one_file_keeps_the_first() {
    let m = Machine::new();
    let conf = m.system_conf(
        "[[registry]]\nlocation = \"a.example\"\ninsecure = true\n\n[[registry]]\nlocation = \"a.example\"\n",
    );
    let config = m.load();
    assert!(sources(&config, "a.example/x")[0].plain_http);
    let note = format!(
        "{}:5: prefix \"a.example\" was already configured at {}:1",
        shown(&conf),
        shown(&conf)
    );
    assert!(
        config.notes().iter().any(|n| n.starts_with(&note)),
        "{:?}",
        config.notes()
    );
}

#[test]
fn a_location_that_leaves_no_repository_is_an_error_when_used() {
    let m = Machine::new();
    m.system_conf("[[registry]]\nprefix = \"a.example/app\"\nlocation = \"b.example\"\n");
    let e = m
        .load()
        .sources(&"a.example/app".parse().unwrap())
        .unwrap_err();
    assert!(matches!(e, HostsError::Rewrite { .. }), "{e}");
    assert!(e.to_string().contains("names no repository"), "{e}");
}
