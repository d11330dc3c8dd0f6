//! NVIDIA NGC: the `$oauthtoken` user by default, no service in the token
//! request, a realm that moves to authn.nvidia.com, and `regpull auth`'s
//! explanation of an NGC login.

use super::{Profile, Vendor, assert_ok, base, pull, sample};
use crate::support::{image, regpull_env, snapshot, text};

const NGC_KEY: &str = "nvapi-0123456789abcdef";

fn ngc() -> Profile {
    Profile {
        other_hosts: vec!["authn.nvidia.com"],
        user: ("$oauthtoken".into(), NGC_KEY.into()),
        token_uses: 2,
        realm_after_expiry: Some("https://authn.nvidia.com/token".into()),
        ..base("nvcr.io", "https://nvcr.io/proxy_auth")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ngc_defaults_the_user_sends_no_service_and_follows_its_realm_switch() {
    let v = Vendor::start(ngc()).await;
    v.add_image(
        "nvidia/tensorflow",
        "18.08-py3",
        &image::docker_image("linux", "amd64", &[&[("a", b"1")], &[("b", b"2")]]),
    );
    let (o, _d) = pull(
        &v,
        "nvcr.io/nvidia/tensorflow:18.08-py3",
        &["--password-stdin", "--jobs", "1"],
        Some(NGC_KEY),
        &[],
    )
    .await;
    assert_ok(&o, &[NGC_KEY]);
    let reqs = v.token_requests();
    assert!(
        reqs.iter().all(|r| !r.params.contains_key("service")),
        "no service= for nvcr.io: {reqs:?}"
    );
    assert!(
        reqs.iter()
            .all(|r| r.basic.as_deref() == Some(&format!("$oauthtoken:{NGC_KEY}") as &str))
    );
    assert_eq!(reqs[0].host, "nvcr.io");
    assert!(
        reqs.iter().any(|r| r.host == "authn.nvidia.com"),
        "the expired token was renewed at the new realm: {reqs:?}"
    );

    let (o, _d) = pull(
        &v,
        "nvcr.io/nvidia/tensorflow:18.08-py3",
        &[],
        None,
        &[("NGC_API_KEY", NGC_KEY)],
    )
    .await;
    assert_ok(&o, &[NGC_KEY]);

    let (o, _d) = pull(
        &v,
        "nvcr.io/nvidia/tensorflow:18.08-py3",
        &["-u", "me@example.com", "--password-stdin"],
        Some(NGC_KEY),
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(3));
    assert!(
        text(&o.stderr).contains("NGC expects username '$oauthtoken'"),
        "{}",
        text(&o.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regpull_auth_explains_an_ngc_login() {
    let v = Vendor::start(ngc()).await;
    v.add_image("nvidia/pytorch", "24.01-py3", &sample());
    let mut args: Vec<String> = vec!["auth".into(), "nvcr.io/nvidia/pytorch:24.01-py3".into()];
    args.extend(v.connect_args());
    let o = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        regpull_env(&args, None, &[("NGC_API_KEY", NGC_KEY)])
    })
    .await
    .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(!text(&o.stdout).contains(NGC_KEY));
    snapshot("auth-ngc", &text(&o.stdout));
}
