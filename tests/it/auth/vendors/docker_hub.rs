//! Docker Hub: its token names and its key in docker's config.

use super::{Profile, Vendor, assert_ok, base, base64_of, pull, sample};
use crate::support::text;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_hub_names_tokens_and_config_key() {
    let v = Vendor::start(Profile {
        other_hosts: vec!["auth.docker.io"],
        service: Some("registry.docker.io"),
        anonymous_pull: true,
        user: ("hubuser".into(), "hub-pat".into()),
        ..base("registry-1.docker.io", "https://auth.docker.io/token")
    })
    .await;
    v.add_image("library/alpine", "3.20", &sample());
    let (o, dir) = pull(&v, "alpine:3.20", &[], None, &[]).await;
    assert_ok(&o, &[]);
    assert!(
        text(&o.stdout).starts_with("docker.io/library/alpine:3.20 "),
        "{}",
        text(&o.stdout)
    );
    let index = std::fs::read_to_string(dir.path().join("oci/index.json")).unwrap();
    assert!(index.contains("\"docker.io/library/alpine:3.20\""));
    let r = &v.token_requests()[0];
    assert_eq!(
        (
            r.host.as_str(),
            r.params["service"].as_str(),
            r.params["scope"].as_str()
        ),
        (
            "auth.docker.io",
            "registry.docker.io",
            "repository:library/alpine:pull"
        )
    );
    assert!(r.basic.is_none(), "anonymous");

    let cfg = tempfile::tempdir().unwrap();
    let auth = base64_of("hubuser:hub-pat");
    std::fs::write(
        cfg.path().join("config.json"),
        format!(r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
    let (o, _d) = pull(
        &v,
        "alpine:3.20",
        &[],
        None,
        &[("DOCKER_CONFIG", cfg.path().to_str().unwrap())],
    )
    .await;
    assert_ok(&o, &["hub-pat"]);
    assert_eq!(
        v.token_requests().last().unwrap().basic.as_deref(),
        Some("hubuser:hub-pat")
    );
}
