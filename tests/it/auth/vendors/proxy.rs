//! A site's HTTPS proxy in front of everything (`HTTPS_PROXY`, with a
//! credential of its own in the URL, as squid setups have): ECR and the S3
//! bucket its blobs redirect to are both reached through tunnels the proxy
//! opens, the proxy's credential goes to the proxy alone and is never
//! printed; `NO_PROXY` sends the hosts it names direct; a proxy that refuses
//! the credential or is down is named, its password kept out.

use super::{Profile, Vendor, assert_no_secret, assert_ok, base, base64_of, pull, sample};
use crate::support::connect_proxy::ConnectProxy;
use crate::support::text;

const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const BUCKET: &str = "prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com";
const TOKEN: &str = "eyJwYXlsb2FkIjoiZWNyLXRva2VuIn0=";
const PROXY_USER: &str = "site-user";
const PROXY_PASSWORD: &str = "proxy-pa55word";

async fn ecr() -> Vendor {
    let v = Vendor::start(Profile {
        other_hosts: vec![BUCKET],
        basic_service: Some("ecr.amazonaws.com"),
        user: ("AWS".into(), TOKEN.into()),
        blob_redirect_host: Some(BUCKET),
        ..base(REGISTRY, "unused")
    })
    .await;
    v.add_image("team/app", "1.0", &sample());
    v
}

fn proxy_url(proxy: &ConnectProxy) -> String {
    format!("http://{PROXY_USER}:{PROXY_PASSWORD}@{}", proxy.addr)
}

async fn pull_via(v: &Vendor, env: &[(&str, &str)]) -> std::process::Output {
    let reference = format!("{REGISTRY}/team/app:1.0");
    let (o, _dir) = pull(
        v,
        &reference,
        &["-u", "AWS", "--password-stdin"],
        Some(TOKEN),
        env,
    )
    .await;
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_and_its_object_store_are_reached_through_the_proxy_with_its_credential() {
    let v = ecr().await;
    let wanted = format!(
        "Basic {}",
        base64_of(&format!("{PROXY_USER}:{PROXY_PASSWORD}"))
    );
    let proxy = ConnectProxy::start(v.addr, Some(wanted.clone())).await;
    let url = proxy_url(&proxy);
    let o = pull_via(&v, &[("HTTPS_PROXY", &url)]).await;
    assert_ok(
        &o,
        &[
            TOKEN,
            PROXY_PASSWORD,
            &base64_of(&format!("{PROXY_USER}:{PROXY_PASSWORD}")),
        ],
    );

    let tunnels = proxy.tunnels();
    let targets: Vec<&str> = tunnels.iter().map(|t| t.target.as_str()).collect();
    assert!(
        targets.contains(&format!("{REGISTRY}:443").as_str())
            && targets.contains(&format!("{BUCKET}:443").as_str()),
        "the registry and the bucket, both through the proxy: {targets:?}"
    );
    assert!(
        tunnels
            .iter()
            .all(|t| t.proxy_authorization.as_deref() == Some(wanted.as_str())),
        "every tunnel carried the proxy's credential: {tunnels:?}"
    );
    assert!(
        v.storage_authorization().is_empty(),
        "S3 got an Authorization header"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_proxy_sends_the_hosts_it_names_direct() {
    let v = ecr().await;
    let proxy = ConnectProxy::start(v.addr, None).await;
    let url = proxy_url(&proxy);
    let direct = format!("{REGISTRY},.s3.us-east-1.amazonaws.com");
    let o = pull_via(&v, &[("HTTPS_PROXY", &url), ("NO_PROXY", &direct)]).await;
    assert_ok(&o, &[TOKEN, PROXY_PASSWORD]);
    assert!(proxy.tunnels().is_empty(), "{:?}", proxy.tunnels());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_that_refuses_its_credential_is_named_and_the_password_kept_out() {
    let v = ecr().await;
    let proxy = ConnectProxy::start(v.addr, Some("Basic another".into())).await;
    let url = proxy_url(&proxy);
    let o = pull_via(&v, &[("HTTPS_PROXY", &url), ("REGPULL_RETRIES", "0")]).await;
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "a credential refused: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the proxy refused its credential (407 Proxy Authentication Required) on the way to https://{REGISTRY}/v2/"
        )),
        "the proxy is named as the cause: {stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "hint: HTTPS_PROXY=http://{} names the proxy",
            proxy.addr
        )),
        "the hint names the variable and the proxy, without its credential: {stderr}"
    );
    assert_no_secret(&o, &[PROXY_PASSWORD, TOKEN]);
    assert!(!proxy.tunnels().is_empty(), "the proxy was asked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_that_is_down_is_named_and_the_password_kept_out() {
    let v = ecr().await;
    let port = crate::support::closed_port().port();
    let url = format!("http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{port}");
    let o = pull_via(&v, &[("HTTPS_PROXY", &url), ("REGPULL_RETRIES", "0")]).await;
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(6), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot reach https://{REGISTRY}/v2/ through the proxy"
        )),
        "the proxy is named as the cause: {stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "hint: the connection went through HTTPS_PROXY=http://127.0.0.1:{port}: check that the proxy runs"
        )) && stderr.contains(&format!("list {REGISTRY} in NO_PROXY")),
        "the hint names the variable and the proxy, without its credential: {stderr}"
    );
    assert_no_secret(&o, &[PROXY_PASSWORD]);
}
