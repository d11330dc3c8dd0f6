//! A pre-signed URL that expires while a blob's ranges are being fetched:
//! the store's 403 "Request has expired" makes regpull ask the registry for
//! a fresh redirect and carry on, and the registry's credential never
//! reaches the object store, neither with the redirect nor with the ranges
//! asked of the stored URL directly.

use std::sync::atomic::Ordering;

use super::{SIZE, World, assert_pulled, assert_success};
use crate::support::fake_registry::Faults;
use crate::support::text;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_redirect_is_renewed_and_no_credential_reaches_the_store() {
    // The registry wants a Bearer token for everything, so regpull holds a
    // credential the store must never see.
    let faults = Faults {
        token_uses: Some(10_000),
        ..Faults::default()
    };
    let w = World::start(401, None, faults).await;
    // Each signed URL is good for two answers: five ranges outlive it.
    w.store.faults.lock().unwrap().expire_after = Some(2);
    let o = w.pull(&[]).await;
    assert_success(&o);
    assert_pulled(&w.out, &w.img).await;

    let answers = w.layer_answers();
    let expired = w.store.expired();
    let redirects = w.reg.shared.redirects_issued.load(Ordering::SeqCst);
    assert!(expired >= 1, "a URL expired mid-blob: {answers:?}");
    assert!(
        redirects >= 2 + expired,
        "{redirects} redirects: the config's, the layer's, and a fresh one \
         for each of {expired} refused URLs"
    );
    assert!(
        w.reg.shared.tokens_issued.load(Ordering::SeqCst) >= 1,
        "regpull held a registry token"
    );
    let seen = w.store.seen_authorization.lock().unwrap().clone();
    assert!(
        seen.is_empty(),
        "credentials reached the object store: {seen:?}"
    );
    assert!(
        answers.iter().all(|a| a.partial),
        "the blob came as ranges: {answers:?}"
    );
    let served: u64 = answers.iter().map(|a| a.sent).sum();
    assert_eq!(served, SIZE, "no range was fetched twice: {answers:?}");
    let said = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(
        !said.contains("secret-signature-value"),
        "a pre-signed URL's signature was printed:\n{said}"
    );
}
