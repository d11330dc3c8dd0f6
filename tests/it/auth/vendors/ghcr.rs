//! GitHub GHCR: a placeholder scope on the ping that must not be reused.

use super::{Profile, Vendor, assert_ok, base, pull, sample};

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
