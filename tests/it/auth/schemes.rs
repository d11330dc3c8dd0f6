//! Authentication against the real Distribution registry: htpasswd Basic over TLS
//! with a generated CA, and Bearer tokens from a token server. No secret ever
//! reaches stdout or stderr.

use crate::support;

use support::distribution::{Auth, Distribution, TokenRegistry};
use support::image;
use support::push::{PushAuth, Pusher};
use support::token_server::SERVICE;
use support::{regpull, regpull_env, text};

const USER: &str = "ci-bot";
const PASSWORD: &str = "s3cr3t:with-colon-and\"quote";

fn assert_no_secret(o: &std::process::Output, secrets: &[&str]) {
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    // Every JWT starts with the base64 of `{"`.
    for s in secrets.iter().copied().chain([basic.as_str(), "eyJ"]) {
        assert!(!text(&o.stdout).contains(s), "secret on stdout");
        assert!(
            !text(&o.stderr).contains(s),
            "secret on stderr: {}",
            text(&o.stderr)
        );
    }
}

#[test]
fn htpasswd_over_tls_with_a_private_ca() {
    let reg = Distribution::start(
        Auth::Htpasswd {
            user: USER.into(),
            password: PASSWORD.into(),
        },
        true,
    );
    let ca = reg.ca.clone().unwrap();
    let img = image::image("linux", "amd64", &[&[("f", b"tls")]]);
    tokio::runtime::Runtime::new().unwrap().block_on(
        Pusher::new(
            &reg.host,
            Some(&ca),
            PushAuth::Basic(USER.into(), PASSWORD.into()),
        )
        .image("secure/app", "1", &img),
    );
    let name = format!("{}/secure/app:1", reg.host);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oci");
    let out = out.to_str().unwrap();
    let ca_arg = ca.to_str().unwrap();

    let ok = regpull(
        &[
            "pull",
            "-vv",
            &name,
            "-o",
            out,
            "--ca-cert",
            ca_arg,
            "-u",
            USER,
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert_eq!(
        text(&ok.stdout).trim(),
        format!("{name} {} linux/amd64", img.manifest.digest)
    );
    assert_no_secret(&ok, &[PASSWORD]);

    let wrong = regpull(
        &[
            "pull",
            "-vv",
            &name,
            "-o",
            out,
            "--ca-cert",
            ca_arg,
            "-u",
            USER,
            "--password-stdin",
        ],
        Some("not-it"),
    );
    assert_eq!(wrong.status.code(), Some(3), "{}", text(&wrong.stderr));
    let stderr = text(&wrong.stderr);
    assert!(
        stderr.contains(&format!("error: pulling {name}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("still answers 401 after authenticating"),
        "says the credential sent was refused: {stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "hint: the credentials sent to {} came from command-line flags: --username and --password-stdin",
            reg.host
        )) && stderr.contains("`regpull auth "),
        "{stderr}"
    );
    assert_no_secret(&wrong, &[PASSWORD, "not-it"]);

    // The same refusal as JSON events: the source by name, never the secret.
    let wrong_json = regpull(
        &[
            "pull",
            "-vv",
            "--json",
            &name,
            "-o",
            out,
            "--ca-cert",
            ca_arg,
            "-u",
            USER,
            "--password-stdin",
        ],
        Some("not-it"),
    );
    assert_eq!(wrong_json.status.code(), Some(3));
    assert_no_secret(&wrong_json, &[PASSWORD, "not-it"]);
    let events = support::json_doc::validate(&text(&wrong_json.stdout));
    let failed = support::json_doc::of_type(&events, "image_failed");
    assert_eq!(
        failed[0]["credential_source"],
        "command-line flags: --username and --password-stdin"
    );
    assert_eq!(failed[0]["class"], "auth");

    let anonymous = regpull(&["pull", &name, "-o", out, "--ca-cert", ca_arg], None);
    let stderr = text(&anonymous.stderr);
    assert_eq!(anonymous.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "registry {} answers 401: it wants credentials and none were found for it",
            reg.host
        )) && !stderr.contains("after authenticating"),
        "says no credential was sent, not that one was refused: {stderr}"
    );

    // The CA is trusted only when asked; SSL_CERT_FILE works as for curl.
    let untrusted = regpull(
        &["pull", &name, "-o", out, "-u", USER, "--password-stdin"],
        Some(PASSWORD),
    );
    assert_eq!(
        untrusted.status.code(),
        Some(2),
        "{}",
        text(&untrusted.stderr)
    );
    assert!(
        text(&untrusted.stderr).contains("--ca-cert"),
        "{}",
        text(&untrusted.stderr)
    );
    let via_env = regpull_env(
        &["pull", &name, "-o", out, "-q"],
        None,
        &[
            ("SSL_CERT_FILE", ca.to_str().unwrap()),
            ("REGPULL_USERNAME", USER),
            ("REGPULL_PASSWORD", PASSWORD),
        ],
    );
    assert!(via_env.status.success(), "{}", text(&via_env.stderr));
    assert_no_secret(&via_env, &[PASSWORD]);

    // --insecure: no verification at all, when asked for.
    let insecure = regpull(
        &[
            "pull",
            &name,
            "-o",
            out,
            "-q",
            "--insecure",
            "-u",
            USER,
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    assert!(insecure.status.success(), "{}", text(&insecure.stderr));

    // docker's certs.d convention.
    let certs_d = dir.path().join("certs.d");
    std::fs::create_dir_all(certs_d.join(&reg.host)).unwrap();
    std::fs::copy(&ca, certs_d.join(&reg.host).join("ca.crt")).unwrap();
    let o = regpull(
        &[
            "pull",
            &name,
            "-o",
            out,
            "-q",
            "--certs-dir",
            certs_d.to_str().unwrap(),
            "-u",
            USER,
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_from_the_realm_with_basic_credentials() {
    let tr = TokenRegistry::start(Some((USER, PASSWORD))).await;
    let (reg, tokens) = (&tr.registry, &tr.tokens);
    let img = image::image("linux", "amd64", &[&[("f", b"token")]]);
    let minted = {
        let pairs: Vec<(String, String)> = ["tok/app"]
            .iter()
            .map(|r| {
                (
                    r.to_string(),
                    tokens.mint(&format!("repository:{r}:pull,push")),
                )
            })
            .collect();
        move |scope: &str| {
            pairs
                .iter()
                .find(|(r, _)| scope.contains(r.as_str()))
                .unwrap()
                .1
                .clone()
        }
    };
    Pusher::new(&reg.host, None, PushAuth::Bearer(Box::new(minted)))
        .image("tok/app", "2", &img)
        .await;
    let name = format!("{}/tok/app:2", reg.host);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oci").to_str().unwrap().to_string();

    let o = {
        let (name, out) = (name.clone(), out.clone());
        tokio::task::spawn_blocking(move || {
            regpull(
                &[
                    "pull",
                    "-vv",
                    &name,
                    "-o",
                    &out,
                    "-u",
                    USER,
                    "--password-stdin",
                ],
                Some(PASSWORD),
            )
        })
        .await
        .unwrap()
    };
    assert!(o.status.success(), "{}\n{}", text(&o.stderr), reg.log());
    assert!(
        text(&o.stderr).contains("Bearer tokens from"),
        "-vv shows the handshake: {}",
        text(&o.stderr)
    );
    assert_eq!(
        text(&o.stdout).trim(),
        format!("{name} {} linux/amd64", img.manifest.digest)
    );
    let seen = tokens.seen();
    assert!(!seen.is_empty());
    for s in &seen {
        assert_eq!(s.query.get("service").map(String::as_str), Some(SERVICE));
        assert_eq!(
            s.query.get("scope").map(String::as_str),
            Some("repository:tok/app:pull")
        );
        assert_eq!(
            s.basic.as_deref(),
            Some(format!("{USER}:{PASSWORD}").as_str())
        );
    }
    assert_eq!(seen.len(), 1, "one token serves the whole pull: {seen:?}");
    let token = tokens.mint("repository:tok/app:pull");
    assert_no_secret(&o, &[PASSWORD, &token[..40]]);

    let anon = tokio::task::spawn_blocking(move || regpull(&["pull", &name, "-o", &out], None))
        .await
        .unwrap();
    assert_eq!(anon.status.code(), Some(3), "{}", text(&anon.stderr));
    let stderr = text(&anon.stderr);
    assert!(
        stderr.contains("token request to") && stderr.contains("refused (401)"),
        "{stderr}"
    );
}
