//! Registry v2 protocol details, against the in-process fake registry: what
//! regpull sends, and how it reads the registry's answers.

use crate::support;

use support::fake_registry::{FakeRegistry, Faults};
use support::object_store::ObjectStore;
use support::{image, pull_from, text};

fn sample() -> image::TestImage {
    image::image("linux", "amd64", &[&[("a", b"one")], &[("b", b"two")]])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_requests_leave_out_a_service_the_challenge_did_not_name() {
    for service in [None, Some("registry.example")] {
        let reg = FakeRegistry::start(Faults {
            token_uses: Some(100),
            token_service: service.map(str::to_string),
            ..Default::default()
        })
        .await;
        reg.add_image("nvidia/tensorflow", "18.08-py3", &sample());
        let dir = tempfile::tempdir().unwrap();
        let o = pull_from(
            &reg.host,
            "nvidia/tensorflow:18.08-py3",
            &dir.path().join("oci"),
            &[],
        )
        .await;
        assert!(o.status.success(), "{}", text(&o.stderr));
        let queries = reg.shared.token_queries.lock().unwrap().clone();
        assert_eq!(queries.len(), 1, "{queries:?}");
        assert_eq!(
            queries[0].get("service").map(String::as_str),
            service,
            "an empty service= breaks nvcr.io"
        );
        assert_eq!(queries[0]["scope"], "repository:nvidia/tensorflow:pull");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_carry_the_regpull_user_agent() {
    let reg = FakeRegistry::start(Faults::default()).await;
    reg.add_image("app", "1", &sample());
    let dir = tempfile::tempdir().unwrap();
    let o = pull_from(&reg.host, "app:1", &dir.path().join("oci"), &[]).await;
    assert!(o.status.success(), "{}", text(&o.stderr));
    let agents = reg.shared.user_agents.lock().unwrap().clone();
    assert!(!agents.is_empty());
    let expected = format!("regpull/{}", env!("CARGO_PKG_VERSION"));
    assert!(agents.iter().all(|a| a == &expected), "{agents:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_errors_map_to_exit_classes_with_the_registrys_words() {
    let cases = [
        (404, "MANIFEST_UNKNOWN", 4, "check the repository and tag"),
        (404, "NAME_UNKNOWN", 4, "check the repository and tag"),
        (403, "DENIED", 3, "so the request was anonymous"),
        (429, "TOOMANYREQUESTS", 5, "rate limiting"),
        (503, "UNAVAILABLE", 6, "this may pass"),
    ];
    for (status, code, exit, hint) in cases {
        let reg = FakeRegistry::start(Faults {
            manifest_error: Some((status, code)),
            ..Default::default()
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let o = pull_from(
            &reg.host,
            "team/app:1",
            &dir.path().join("oci"),
            &["--retries", "0"],
        )
        .await;
        let stderr = text(&o.stderr);
        assert_eq!(o.status.code(), Some(exit), "{code}: {stderr}");
        assert!(
            stderr.contains(&format!("error: pulling {}/team/app:1", reg.host)),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("{status}")) && stderr.contains(code),
            "{stderr}"
        );
        assert!(stderr.contains(hint), "{code}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_redirects_to_object_storage_never_carry_the_registry_token() {
    let img = sample();
    let reg = FakeRegistry::start(Faults {
        token_uses: Some(100),
        ..Default::default()
    })
    .await;
    reg.add_image("app", "1", &img);
    let store = ObjectStore::start(reg.blobs()).await;
    reg.shared.faults.lock().unwrap().redirect_blobs_to = Some(store.base.clone());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oci");
    let o = pull_from(&reg.host, "app:1", &out, &["-vv"]).await;
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        store.seen_authorization.lock().unwrap().is_empty(),
        "the token went to object storage"
    );
    assert_eq!(
        *store.served.lock().unwrap(),
        3,
        "config and layers came from object storage"
    );
    for blob in img.blobs() {
        assert!(out.join("blobs/sha256").join(blob.digest.hex()).exists());
    }
    let stderr = text(&o.stderr);
    assert!(
        !stderr.contains("secret-signature-value"),
        "pre-signed query leaked: {stderr}"
    );
    assert!(
        stderr.contains("?<redacted>"),
        "the redirect target is logged without its query: {stderr}"
    );
}
