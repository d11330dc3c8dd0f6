//! Google GCR: a JSON key as the password, an unquoted service, scope
//! checks, and each of its documented usernames.

use super::{Profile, Vendor, assert_ok, base, base64_of, pull, sample};

const GCR_KEY: &str = "{\n  \"type\": \"service_account\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIE:abc\\n-----END PRIVATE KEY-----\\n\"\n}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcr_json_key_unquoted_service_and_scope_checks() {
    let v = Vendor::start(Profile {
        service: Some("gcr.io"),
        unquoted_service: true,
        user: ("_json_key".into(), GCR_KEY.into()),
        deny_wrong_scope: true,
        ..base("gcr.io", "https://gcr.io/v2/token")
    })
    .await;
    v.add_image("my-project/app", "1", &sample());
    let key = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(key.path(), GCR_KEY).unwrap();
    let key_path = key.path().to_str().unwrap();
    let (o, _d) = pull(
        &v,
        "gcr.io/my-project/app:1",
        &[],
        None,
        &[("GOOGLE_APPLICATION_CREDENTIALS", key_path)],
    )
    .await;
    assert_ok(&o, &["PRIVATE KEY"]);
    let r = v.token_requests().last().unwrap().clone();
    assert_eq!(r.params["service"], "gcr.io");
    assert_eq!(
        r.basic.as_deref(),
        Some(format!("_json_key:{GCR_KEY}").as_str()),
        "the whole file, newlines and all"
    );
    // GCR's documented `--password "$(cat keyfile.json)"`: the JSON as an argument.
    let (o, _d) = pull(
        &v,
        "gcr.io/my-project/app:1",
        &["-u", "_json_key", "--password", GCR_KEY],
        None,
        &[],
    )
    .await;
    assert_ok(&o, &["PRIVATE KEY"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcr_accepts_each_of_its_documented_usernames() {
    let users = [
        ("_json_key", GCR_KEY.to_string()),
        ("_json_key_base64", base64_of(GCR_KEY)),
        ("oauth2accesstoken", "ya29.a0AfH6SMBexample".to_string()),
    ];
    for (user, secret) in users {
        let v = Vendor::start(Profile {
            service: Some("gcr.io"),
            unquoted_service: true,
            // --password-stdin drops one trailing newline; Google parses the JSON either way.
            user: (user.into(), secret.trim_end().to_string()),
            deny_wrong_scope: true,
            ..base(
                "europe-west1-docker.pkg.dev",
                "https://europe-west1-docker.pkg.dev/v2/token",
            )
        })
        .await;
        v.add_image("proj/repo/app", "1", &sample());
        let (o, _d) = pull(
            &v,
            "europe-west1-docker.pkg.dev/proj/repo/app:1",
            &["-u", user, "--password-stdin"],
            Some(&secret),
            &[],
        )
        .await;
        assert_ok(&o, &[&secret]);
    }
}
