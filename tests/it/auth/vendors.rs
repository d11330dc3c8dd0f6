//! Each vendor's documented behaviour, simulated over TLS under the vendor's own
//! host names (reached with --resolve): NGC, Docker Hub, ECR, GCR, GHCR, ACR.

use crate::support;

use support::image;
use support::vendor::{Profile, TokenFields, Vendor};
use support::{regpull_env, snapshot, text};

const NGC_KEY: &str = "nvapi-0123456789abcdef";
const GCR_KEY: &str = "{\n  \"type\": \"service_account\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIE:abc\\n-----END PRIVATE KEY-----\\n\"\n}\n";

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
    for s in secrets {
        assert!(
            !text(&o.stderr).contains(s) && !text(&o.stdout).contains(s),
            "a secret was printed"
        );
    }
}

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

fn base64_of(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecr_basic_challenge_with_blobs_on_s3() {
    let registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
    let bucket = "prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com";
    let token = "eyJwYXlsb2FkIjoiZWNyLXRva2VuIn0=";
    let v = Vendor::start(Profile {
        other_hosts: vec![bucket],
        basic_service: Some("ecr.amazonaws.com"),
        user: ("AWS".into(), token.into()),
        blob_redirect_host: Some(bucket),
        ..base(registry, "unused")
    })
    .await;
    v.add_image("team/app", "1.0", &sample());
    let (o, dir) = pull(
        &v,
        &format!("{registry}/team/app:1.0"),
        &["-u", "AWS", "--password-stdin"],
        Some(token),
        &[],
    )
    .await;
    assert_ok(&o, &[token, "sim-signature"]);
    assert!(
        v.storage_authorization().is_empty(),
        "S3 got an Authorization header"
    );
    for blob in sample().blobs() {
        assert!(
            dir.path()
                .join("oci/blobs/sha256")
                .join(blob.digest.hex())
                .exists()
        );
    }
}

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
async fn ghcr_placeholder_scope_on_ping_is_not_reused() {
    let v = Vendor::start(Profile {
        service: Some("ghcr.io"),
        ping_scope: Some("repository:user/image:pull"),
        anonymous_pull: true,
        ..base("ghcr.io", "https://ghcr.io/token")
    })
    .await;
    v.add_image("org/tool", "v2", &sample());
    let (o, _d) = pull(&v, "ghcr.io/org/tool:v2", &[], None, &[]).await;
    assert_ok(&o, &[]);
    assert_eq!(
        v.token_requests()[0].params["scope"],
        "repository:org/tool:pull"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acr_post_only_token_endpoint_with_access_token_only() {
    let host = "myregistry.azurecr.io";
    let v = Vendor::start(Profile {
        service: Some("myregistry.azurecr.io"),
        user: (
            "00000000-0000-0000-0000-000000000000".into(),
            "acr-secret".into(),
        ),
        token_fields: TokenFields::AccessTokenOnly,
        token_get: false,
        token_post: true,
        expires_in: None,
        ..base(host, "https://myregistry.azurecr.io/oauth2/token")
    })
    .await;
    v.add_image("samples/hello", "latest", &sample());
    let (o, _d) = pull(
        &v,
        &format!("{host}/samples/hello"),
        &[
            "-u",
            "00000000-0000-0000-0000-000000000000",
            "--password-stdin",
        ],
        Some("acr-secret"),
        &[],
    )
    .await;
    assert_ok(&o, &["acr-secret"]);
    let reqs = v.token_requests();
    assert_eq!(reqs[0].method, "GET");
    let post = reqs
        .iter()
        .find(|r| r.method == "POST")
        .expect("fell back to the OAuth2 POST");
    assert_eq!(post.params["grant_type"], "password");
    assert_eq!(post.params["scope"], "repository:samples/hello:pull");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecr_tokens_come_from_aws_credentials_and_are_refreshed_when_expired() {
    let registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
    let (access, secret) = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    let v = Vendor::start(Profile {
        basic_service: Some("ecr.amazonaws.com"),
        ecr_api: Some((access, secret)),
        basic_uses: Some(3),
        ..base(registry, "unused")
    })
    .await;
    v.add_image(
        "team/app",
        "1.0",
        &image::image(
            "linux",
            "amd64",
            &[&[("a", b"1")], &[("b", b"2")], &[("c", b"3")]],
        ),
    );
    let endpoint = v.api_endpoint();
    let ca = v.ca.display().to_string();
    let env = [
        ("AWS_ACCESS_KEY_ID", access),
        ("AWS_SECRET_ACCESS_KEY", secret),
        ("AWS_ENDPOINT_URL_ECR", endpoint.as_str()),
        ("SSL_CERT_FILE", ca.as_str()),
    ];
    let (o, dir) = pull(
        &v,
        &format!("{registry}/team/app:1.0"),
        &["--jobs", "1"],
        None,
        &env,
    )
    .await;
    assert_ok(&o, &[secret, "ecr-password"]);
    let (calls, rejected) = v.ecr_calls();
    assert_eq!(
        rejected, 0,
        "every GetAuthorizationToken call was correctly signed"
    );
    assert_eq!(
        calls, 2,
        "one token, then one refresh after the registry said it expired"
    );
    assert!(
        text(&o.stderr).contains("reported an expired credential"),
        "{}",
        text(&o.stderr)
    );
    assert!(dir.path().join("oci/index.json").exists());

    let wrong = [
        ("AWS_ACCESS_KEY_ID", access),
        ("AWS_SECRET_ACCESS_KEY", "not-the-secret"),
        ("AWS_ENDPOINT_URL_ECR", endpoint.as_str()),
        ("SSL_CERT_FILE", ca.as_str()),
    ];
    let (o, _d) = pull(&v, &format!("{registry}/team/app:1.0"), &[], None, &wrong).await;
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains("ECR GetAuthorizationToken for 123456789012 in us-east-1"),
        "{stderr}"
    );
    assert!(!stderr.contains("not-the-secret"));
    assert_eq!(
        v.ecr_calls().1,
        1,
        "the badly signed call reached the simulator and was refused"
    );
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
