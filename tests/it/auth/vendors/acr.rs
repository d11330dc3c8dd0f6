//! Azure ACR: a token endpoint that takes POST only and answers with
//! `access_token` only.

use super::{Profile, TokenFields, Vendor, assert_ok, base, pull, sample};

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
