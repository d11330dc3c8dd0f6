//! `regpull login` and `logout`: the credentials checked before anything is
//! saved, stored as docker stores them, and removed again.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use super::{Fixture, PASSWORD, USER, assert_ok, basic_b64};
use crate::support::distribution::TokenRegistry;
use crate::support::{regpull_env, text};

#[test]
fn login_verifies_then_stores_like_docker_and_logout_removes() {
    let f = Fixture::new();
    let config_dir = f.dir.path().join("login-docker");
    let env = [("DOCKER_CONFIG", config_dir.to_str().unwrap())];
    let config = config_dir.join("config.json");

    let wrong = regpull_env(
        &["login", &f.reg.host, "-u", USER, "--password-stdin"],
        Some("nope"),
        &env,
    );
    assert_eq!(wrong.status.code(), Some(3), "{}", text(&wrong.stderr));
    assert!(
        text(&wrong.stderr).contains("nothing was saved"),
        "{}",
        text(&wrong.stderr)
    );
    assert!(!config.exists(), "a refused login writes nothing");

    let ok = regpull_env(
        &["login", &f.reg.host, "-u", USER, "--password-stdin"],
        Some(PASSWORD),
        &env,
    );
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(
        text(&ok.stdout).starts_with("Login Succeeded"),
        "{}",
        text(&ok.stdout)
    );
    assert!(!text(&ok.stdout).contains(PASSWORD));
    let mode = fs::metadata(&config).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let saved: serde_json::Value = serde_json::from_slice(&fs::read(&config).unwrap()).unwrap();
    assert_eq!(saved["auths"][&f.reg.host]["auth"], basic_b64());

    assert_ok(&f.pull(&[], &env));
    let out = regpull_env(&["logout", &f.reg.host], None, &env);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("Removed credentials"),
        "{}",
        text(&out.stdout)
    );
    let o = f.pull(&[], &env);
    assert_eq!(
        o.status.code(),
        Some(3),
        "after logout the pull is anonymous"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_to_a_token_registry_checks_the_credentials_at_the_realm() {
    let tr = TokenRegistry::start(Some((USER, PASSWORD))).await;
    let dir = tempfile::tempdir().unwrap();
    let auth_file = dir.path().join("auth.json");
    let (host, file) = (tr.registry.host.clone(), auth_file.display().to_string());
    let run = move |password: &'static str| {
        let (host, file) = (host.clone(), file.clone());
        tokio::task::spawn_blocking(move || {
            regpull_env(
                &[
                    "login",
                    &host,
                    "-u",
                    USER,
                    "--password-stdin",
                    "--auth-file",
                    &file,
                ],
                Some(password),
                &[],
            )
        })
    };
    let bad = run("wrong").await.unwrap();
    assert_eq!(bad.status.code(), Some(3), "{}", text(&bad.stderr));
    assert!(!auth_file.exists());
    let good = run(PASSWORD).await.unwrap();
    assert!(good.status.success(), "{}", text(&good.stderr));
    assert!(auth_file.exists());
    let scoped = tr
        .tokens
        .seen()
        .iter()
        .filter(|s| s.query.contains_key("scope"))
        .count();
    assert_eq!(
        scoped, 0,
        "login asks for a token without scope, as docker login does"
    );
}
