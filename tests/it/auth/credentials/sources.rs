//! Which credential source answers, in what order, and that a broken one is
//! an error naming it.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use base64::Engine as _;

use super::{Fixture, PASSWORD, USER, assert_ok, basic_b64};
use crate::support::distribution::TokenRegistry;
use crate::support::image;
use crate::support::push::{PushAuth, Pusher};
use crate::support::{regpull_env, text};

#[test]
fn docker_config_auths_and_regpull_auth_explains_the_choice() {
    let f = Fixture::new();
    let dir = f.docker_config(&format!(
        r#"{{"auths":{{"http://{}/v2/":{{"auth":"{}"}}}}}}"#,
        f.reg.host,
        basic_b64()
    ));
    let env = [("DOCKER_CONFIG", dir.as_str())];
    assert_ok(&f.pull(&[], &env));
    let v = f.auth_json(&env);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["scheme"], "basic");
    assert!(
        v["credential_source"]
            .as_str()
            .unwrap()
            .contains("docker config"),
        "{v}"
    );
    assert!(
        v["credential_source"]
            .as_str()
            .unwrap()
            .contains(&format!("auths[\"http://{}/v2/\"]", f.reg.host))
    );
    let sources = v["sources"].as_array().unwrap();
    assert_eq!(sources[0]["source"], "environment");
    assert_eq!(sources[0]["answered"], false);
    assert_eq!(sources.last().unwrap()["answered"], true);
    assert!(!v.to_string().contains(PASSWORD) && !v.to_string().contains(&basic_b64()));

    let human = regpull_env(&["auth", &f.name], None, &env);
    assert!(human.status.success());
    let out = text(&human.stdout);
    for needle in [
        "credentials:",
        "- environment: none of",
        "* docker config",
        "challenge:    Basic",
        "pull access works",
    ] {
        assert!(out.contains(needle), "{needle:?} in:\n{out}");
    }
}

#[test]
fn credential_helpers_per_registry_and_as_the_store() {
    let f = Fixture::new();
    let answer = f.path("helper-answer.json");
    let reply = serde_json::json!({"ServerURL": f.reg.host, "Username": USER, "Secret": PASSWORD});
    fs::write(&answer, reply.to_string()).unwrap();
    let script = format!(
        r#"server=$(cat); if [ "$server" = "{}" ]; then cat "{}"; else echo "credentials not found in native keychain"; exit 1; fi"#,
        f.reg.host,
        answer.display()
    );
    let path = f.helper("fake", &script);
    let helpers = f.docker_config(&format!(r#"{{"credHelpers":{{"{}":"fake"}}}}"#, f.reg.host));
    let env = [("DOCKER_CONFIG", helpers.as_str()), ("PATH", path.as_str())];
    assert_ok(&f.pull(&[], &env));

    let store = f.docker_config(r#"{"credsStore":"fake","auths":{}}"#);
    let env = [("DOCKER_CONFIG", store.as_str()), ("PATH", path.as_str())];
    assert_ok(&f.pull(&[], &env));
    let v = f.auth_json(&env);
    assert!(
        v["credential_source"]
            .as_str()
            .unwrap()
            .contains("docker-credential-fake (credsStore"),
        "{v}"
    );
}

/// Environment, extra arguments, and what the error must name.
type BrokenCase<'a> = (Vec<(&'a str, String)>, Vec<&'a str>, String);

#[test]
fn broken_sources_are_errors_that_name_them() {
    let f = Fixture::new();
    let bad_json = f.docker_config("{\"auths\": {");
    let config_path = format!("{bad_json}/config.json");
    let failing = f.helper("boom", "echo 'keychain locked' >&2; exit 3");
    let fine_path = std::env::var("PATH").unwrap_or_default();
    let enroot = f.path("enroot/.credentials");
    fs::write(&enroot, format!("machine {} login robot", f.reg.host)).unwrap();
    let cases: Vec<BrokenCase> = vec![
        (
            vec![("DOCKER_CONFIG", bad_json.clone())],
            vec![],
            config_path.clone(),
        ),
        (
            vec![
                (
                    "DOCKER_CONFIG",
                    f.docker_config(&format!(r#"{{"credHelpers":{{"{}":"boom"}}}}"#, f.reg.host)),
                ),
                ("PATH", failing),
            ],
            vec![],
            "docker-credential-boom".into(),
        ),
        (
            vec![
                (
                    "DOCKER_CONFIG",
                    f.docker_config(r#"{"credsStore":"absent"}"#),
                ),
                ("PATH", fine_path),
            ],
            vec![],
            "docker-credential-absent is not installed".into(),
        ),
        (
            vec![],
            vec!["--auth-file", "/nonexistent/auth.json"],
            "/nonexistent/auth.json".into(),
        ),
        (
            vec![(
                "ENROOT_CONFIG_PATH",
                enroot.parent().unwrap().display().to_string(),
            )],
            vec![],
            enroot.display().to_string(),
        ),
        (
            vec![("REGPULL_USERNAME", USER.into())],
            vec![],
            "REGPULL_USERNAME is set but REGPULL_PASSWORD is not".into(),
        ),
    ];
    for (env, extra, needle) in cases {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let o = f.pull(&extra, &env);
        let stderr = text(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{needle}: {stderr}");
        assert!(stderr.contains(&needle), "{needle:?} in: {stderr}");
        assert!(
            stderr.contains("does not fall back to anonymous"),
            "{stderr}"
        );
    }
}

#[test]
fn podman_auth_json_kubernetes_secrets_enroot_and_hpc_variables() {
    let f = Fixture::new();
    let auths = format!(
        r#"{{"auths":{{"{}":{{"auth":"{}"}}}}}}"#,
        f.reg.host,
        basic_b64()
    );
    let podman = f.path("run/containers/auth.json");
    fs::write(&podman, &auths).unwrap();
    let runtime_dir = f.dir.path().join("run").display().to_string();
    assert_ok(&f.pull(&[], &[("XDG_RUNTIME_DIR", runtime_dir.as_str())]));
    assert_ok(&f.pull(&[], &[("REGISTRY_AUTH_FILE", podman.to_str().unwrap())]));

    let secret = f.path("k8s/pull-secret.json");
    let encoded = base64::engine::general_purpose::STANDARD.encode(&auths);
    fs::write(&secret, format!(r#"{{"kind":"Secret","type":"kubernetes.io/dockerconfigjson","data":{{".dockerconfigjson":"{encoded}"}}}}"#)).unwrap();
    assert_ok(&f.pull(&["--auth-file", secret.to_str().unwrap()], &[]));

    let enroot = f.path("enroot/.credentials");
    let host_only = f.reg.host.clone();
    fs::write(
        &enroot,
        format!(
            "machine {host_only} login {USER} password {}\n",
            PASSWORD.replace(' ', "")
        ),
    )
    .unwrap();
    assert_ok(&f.pull(
        &[],
        &[(
            "ENROOT_CONFIG_PATH",
            enroot.parent().unwrap().to_str().unwrap(),
        )],
    ));

    assert_ok(&f.pull(
        &[],
        &[
            ("APPTAINER_DOCKER_USERNAME", USER),
            ("APPTAINER_DOCKER_PASSWORD", PASSWORD),
        ],
    ));
    assert_ok(&f.pull(
        &[],
        &[
            ("SINGULARITY_DOCKER_USERNAME", USER),
            ("SINGULARITY_DOCKER_PASSWORD", PASSWORD),
        ],
    ));
}

#[test]
fn the_documented_order_decides_which_source_answers() {
    let f = Fixture::new();
    let wrong = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:wrong"));
    let config = f.docker_config(&format!(
        r#"{{"auths":{{"{}":{{"auth":"{wrong}"}}}}}}"#,
        f.reg.host
    ));
    let key_file = f.path("key.txt");
    fs::write(&key_file, format!("{PASSWORD}\n")).unwrap();
    // The environment comes before docker's config.
    let env = [
        ("DOCKER_CONFIG", config.as_str()),
        ("REGPULL_USERNAME", USER),
        ("REGPULL_PASSWORD", PASSWORD),
    ];
    assert_ok(&f.pull(&[], &env));
    // Flags come before the environment (here with a wrong password, which then fails).
    let o = f.pull(&["-u", USER, "--password", "wrong"], &env);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        text(&o.stderr).contains("came from command-line flags"),
        "{}",
        text(&o.stderr)
    );
    // --password-file with a trailing newline, ahead of everything else.
    assert_ok(&f.pull(
        &["-u", USER, "--password-file", key_file.to_str().unwrap()],
        &env,
    ));
    // Only the docker config: its wrong password is what was sent, and the hint says so.
    let o = f.pull(&[], &[("DOCKER_CONFIG", config.as_str())]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        text(&o.stderr).contains(&format!("came from docker config {config}/config.json")),
        "{}",
        text(&o.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_token_from_a_helper_uses_the_oauth2_refresh_grant() {
    let tr = TokenRegistry::start(Some(("nobody", "unused"))).await;
    tr.tokens.accept_refresh_token("refresh-me-please");
    let img = image::image("linux", "amd64", &[&[("f", b"oauth")]]);
    let minted = tr.tokens.mint("repository:idt/app:pull,push");
    Pusher::new(
        &tr.registry.host,
        None,
        PushAuth::Bearer(Box::new(move |_| minted.clone())),
    )
    .image("idt/app", "1", &img)
    .await;
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-oidc");
    fs::write(&helper, "#!/bin/sh\ncat >/dev/null\nprintf '{\"ServerURL\":\"x\",\"Username\":\"<token>\",\"Secret\":\"refresh-me-please\"}'\n").unwrap();
    fs::set_permissions(&helper, fs::Permissions::from_mode(0o755)).unwrap();
    let config = dir.path().join("docker");
    fs::create_dir_all(&config).unwrap();
    fs::write(config.join("config.json"), r#"{"credsStore":"oidc"}"#).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (name, out) = (
        format!("{}/idt/app:1", tr.registry.host),
        dir.path().join("oci"),
    );
    let config = config.display().to_string();
    let o = tokio::task::spawn_blocking(move || {
        regpull_env(
            &["pull", &name, "-o", out.to_str().unwrap(), "-q"],
            None,
            &[("DOCKER_CONFIG", config.as_str()), ("PATH", path.as_str())],
        )
    })
    .await
    .unwrap();
    let seen = tr.tokens.seen();
    assert!(o.status.success(), "{}\n{seen:?}", text(&o.stderr));
    assert!(
        seen.iter()
            .any(|s| s.query.get("grant_type").map(String::as_str) == Some("refresh_token")),
        "{seen:?}"
    );
    assert!(
        seen.iter().all(|s| s.basic.is_none()),
        "no Basic credentials were sent with an identity token"
    );
    assert!(!text(&o.stderr).contains("refresh-me-please"));
}
