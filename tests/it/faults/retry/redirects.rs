//! Redirects of every kind are followed; a loop ends at once, unretried,
//! and is said of the URL asked.

use super::{big_image, run};
use crate::support;
use crate::support::fake_registry::{FakeRegistry, Faults};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_of_every_kind_are_followed_and_loops_end() {
    let img = big_image();
    for status in [301, 302, 303, 307, 308] {
        let reg = FakeRegistry::start(Faults {
            relative_redirect: Some(status),
            ..Default::default()
        })
        .await;
        reg.add_image("app", "1", &img);
        let r = run(&reg, 2).await;
        assert!(r.result.is_ok(), "{status}: {:?}", r.result.err());
    }
    let reg = FakeRegistry::start(Faults {
        redirect_loop: true,
        ..Default::default()
    })
    .await;
    reg.add_image("app", "1", &img);
    let r = run(&reg, 5).await;
    let err = r.result.unwrap_err();
    assert!(format!("{:?}", err).contains("redirect"), "{err:?}");
    assert!(r.pauses.is_empty(), "a redirect loop is not retried");
    // Said of the URL asked, not as a redirect target that cannot be reached.
    let said = support::error_chain(&err);
    assert!(
        said.contains(&format!("cannot reach http://{}/v2/app/", reg.host))
            && !said.contains("redirected from"),
        "{said}"
    );
}
