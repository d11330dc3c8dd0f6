//! `regpull auth` names the mirrors a pull would try before the registry,
//! where each was configured and what it may serve, while the probe and the
//! credential trail stay the registry's own.

use super::{Fixture, PASSWORD, USER};
use crate::support::{regpull_env, text};

#[test]
fn auth_lists_the_mirrors_a_pull_tries_first() {
    let f = Fixture::new();
    let mirror = format!("{}=mirror.invalid:5000/hub", f.reg.host);
    let conf = f.path("registries.conf");
    std::fs::write(
        &conf,
        format!(
            "[[registry]]\nlocation = \"{}\"\n[[registry.mirror]]\nlocation = \"cache.invalid\"\npull-from-mirror = \"digest-only\"\n",
            f.reg.host
        ),
    )
    .unwrap();
    let conf = conf.display().to_string();
    let env = [("REGPULL_USERNAME", USER), ("REGPULL_PASSWORD", PASSWORD)];
    let args = ["--mirror", &mirror, "--registries-conf", &conf];

    let mut json = vec!["auth", "--json", &f.name];
    json.extend(args);
    let o = regpull_env(&json, None, &env);
    let v: serde_json::Value = serde_json::from_str(text(&o.stdout).trim()).unwrap();
    assert_eq!(v["ok"], true, "the probe is the registry's: {v}");
    let mirrors = v["mirrors"].as_array().unwrap();
    assert_eq!(mirrors.len(), 2, "{v}");
    assert_eq!(mirrors[0]["host"], "mirror.invalid:5000");
    assert_eq!(mirrors[0]["repository"], "hub/team/app");
    assert!(mirrors[0]["origin"].as_str().unwrap().contains("--mirror"));
    assert_eq!(mirrors[1]["host"], "cache.invalid");
    assert_eq!(mirrors[1]["resolve_tags"], false, "digest-only");
    assert!(
        mirrors[1]["origin"]
            .as_str()
            .unwrap()
            .contains("registries.conf")
    );
    assert!(!v.to_string().contains(PASSWORD));

    let mut human = vec!["auth", &f.name];
    human.extend(args);
    let o = regpull_env(&human, None, &env);
    let out = text(&o.stdout);
    assert!(o.status.success(), "{out}{}", text(&o.stderr));
    assert!(out.contains("mirrors (tried first"), "{out}");
    assert!(
        out.contains("cache.invalid/team/app (digests only"),
        "{out}"
    );
}
