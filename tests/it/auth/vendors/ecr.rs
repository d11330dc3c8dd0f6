//! Amazon ECR: a Basic challenge with blobs redirected to S3, and Basic
//! credentials from ECR's API for AWS credentials, refreshed when they expire.

use super::{Profile, Vendor, assert_ok, base, pull, sample};
use crate::support::{image, text};

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
