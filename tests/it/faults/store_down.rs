//! A registry that redirects its blobs to an object store this machine
//! cannot reach (a firewall that lets the registry through but not S3, a
//! proxy that knows only the registry), or that accepts the connection and
//! says nothing: the error names the store, says which registry URL sent the
//! pull there, and keeps the pre-signed URL's signature out.

use crate::support;

use std::net::{SocketAddr, TcpListener};

use support::fake_registry::{FakeRegistry, Faults};
use support::{image, pull_from, text};

struct Failed {
    reg: FakeRegistry,
    img: image::TestImage,
    code: Option<i32>,
    stderr: String,
}

/// A pull, with `extra` flags, of a one-layer image from a registry that
/// redirects its blobs to `store`.
async fn pull_redirected_to(store: SocketAddr, extra: &[&str]) -> Failed {
    let faults = Faults {
        redirect_blobs_to: Some(format!("http://{store}")),
        ..Faults::default()
    };
    let reg = FakeRegistry::start(faults).await;
    let img = image::image("linux", "amd64", &[&[("a", b"layer")]]);
    reg.add_image("app", "1", &img);
    let dir = tempfile::tempdir().unwrap();
    let o = pull_from(&reg.host, "app:1", &dir.path().join("oci"), extra).await;
    Failed {
        reg,
        img,
        code: o.status.code(),
        stderr: text(&o.stderr),
    }
}

/// The store, the registry URL that redirected there and the blob are
/// named; the signature is not; the hint says the store must be reachable.
fn assert_store_named(f: &Failed, store: SocketAddr, what: &str) {
    let stderr = &f.stderr;
    assert_eq!(f.code, Some(6), "a network failure: {stderr}");
    assert!(
        stderr.contains(&format!("{what}http://{store}/bucket/sha256:")),
        "the store is named: {stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "(redirected from http://{}/v2/app/blobs/",
            f.reg.host
        )),
        "and the registry URL that sent the pull there: {stderr}"
    );
    // The config and the layer are fetched at once: either may fail first.
    let blobs = std::iter::once(&f.img.config).chain(&f.img.layers);
    let named: Vec<_> = blobs
        .filter(|b| stderr.contains(&format!("downloading blob {}", b.digest)))
        .collect();
    assert_eq!(named.len(), 1, "the blob is named: {stderr}");
    assert!(
        stderr.contains(&format!("hint: {} keeps its blobs at {store}", f.reg.host)),
        "the hint says the store must be reachable: {stderr}"
    );
    assert!(
        !stderr.contains("secret-signature") && !stderr.contains("AKIDEXAMPLE"),
        "no signature: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_object_store_is_named_with_the_registry_url_that_sent_the_pull_there() {
    let store = support::closed_port();
    let f = pull_redirected_to(store, &["--retries", "0"]).await;
    assert_store_named(&f, store, "cannot reach ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_store_that_never_answers_is_named_with_the_registry_url_that_sent_the_pull_there()
 {
    // Connections are accepted (the kernel's backlog) and never answered.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let store = silent.local_addr().unwrap();
    let f = pull_redirected_to(store, &["--retries", "0", "--timeout", "1"]).await;
    drop(silent);
    assert_store_named(&f, store, "");
    assert!(
        f.stderr.contains("sent nothing for 1 s (--timeout)"),
        "{}",
        f.stderr
    );
}
