//! Each vendor's documented behaviour, simulated over TLS under the vendor's own
//! host names (reached with --resolve): a file per vendor (NGC, Docker Hub,
//! ECR, GCR, GHCR, ACR), sharing the helpers here.

use crate::support;

use support::image;
use support::vendor::{Profile, TokenFields, Vendor};
use support::{regpull_env, text};

mod acr;
mod docker_hub;
mod ecr;
mod gcr;
mod ghcr;
mod ngc;
mod proxy;

fn base(registry: &'static str, realm: &str) -> Profile {
    Profile {
        registry,
        other_hosts: vec![],
        basic_service: None,
        realm: realm.to_string(),
        service: None,
        unquoted_service: false,
        ping_scope: None,
        user: ("user".into(), "password".into()),
        anonymous_pull: false,
        token_fields: TokenFields::Both,
        token_get: true,
        token_post: false,
        expires_in: Some(300),
        token_uses: 1000,
        realm_after_expiry: None,
        blob_redirect_host: None,
        deny_wrong_scope: false,
        ecr_api: None,
        basic_uses: None,
    }
}

async fn pull(
    v: &Vendor,
    reference: &str,
    extra: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> (std::process::Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = vec![
        "pull".into(),
        reference.into(),
        "-o".into(),
        dir.path().join("oci").display().to_string(),
        "-vv".into(),
    ];
    args.extend(v.connect_args());
    args.extend(extra.iter().map(|s| s.to_string()));
    let stdin = stdin.map(str::to_string);
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let o = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        regpull_env(&args, stdin.as_deref(), &env)
    })
    .await
    .unwrap();
    (o, dir)
}

fn sample() -> image::TestImage {
    image::image("linux", "amd64", &[&[("etc/vendor", b"simulated")]])
}

fn assert_ok(o: &std::process::Output, secrets: &[&str]) {
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_no_secret(o, secrets);
}

fn assert_no_secret(o: &std::process::Output, secrets: &[&str]) {
    for s in secrets {
        assert!(
            !text(&o.stderr).contains(s) && !text(&o.stdout).contains(s),
            "a secret was printed"
        );
    }
}

fn base64_of(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}
