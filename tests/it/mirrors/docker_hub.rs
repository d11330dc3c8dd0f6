//! A Docker Hub mirror, as sites set one up for `docker.io`: a short name
//! (`alpine:3`) is asked of the mirror as `library/alpine` (under the
//! mirror's prefix, when it has one), and a mirror that serves everything
//! means Docker Hub is never contacted. Docker Hub's hosts are pointed
//! (`--resolve`) at a listener that counts connections, so a pull that
//! tried them would be seen, with or without a network.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{assert_pulled, image_of, pull};
use crate::support::fake_registry::{FakeRegistry, Faults};

/// A listener that counts the connections made to it and drops each.
struct Trap {
    addr: String,
    connections: Arc<AtomicUsize>,
    _task: tokio::task::JoinHandle<()>,
}

impl Trap {
    async fn start() -> Trap {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                drop(socket);
            }
        });
        Trap {
            addr,
            connections,
            _task: task,
        }
    }

    /// `--resolve` arguments sending Docker Hub's hosts here.
    fn resolve_docker_hub(&self) -> Vec<String> {
        ["registry-1.docker.io", "index.docker.io", "auth.docker.io"]
            .iter()
            .flat_map(|h| ["--resolve".to_string(), format!("{h}={}", self.addr)])
            .collect()
    }
}

/// Pulls `alpine:3` through `--mirror docker.io=MIRROR` (MIRROR being the
/// fake registry's host followed by `suffix`); returns the requests the
/// mirror saw.
async fn pull_alpine(seed: u64, repo_at_mirror: &str, suffix: &str) -> Vec<String> {
    let img = image_of(seed, 1, 100_000);
    let mirror = FakeRegistry::start(Faults::default()).await;
    mirror.add_image(repo_at_mirror, "3", &img);
    let trap = Trap::start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oci");
    let mut args = vec![
        "--mirror".to_string(),
        format!("docker.io={}{suffix}", mirror.host),
    ];
    args.extend(trap.resolve_docker_hub());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let p = pull("alpine:3", &out, &args).await;
    p.assert_success().assert_all_from(&mirror.host);
    assert_pulled(&out, &img).await;
    assert_eq!(
        trap.connections.load(Ordering::SeqCst),
        0,
        "Docker Hub was contacted"
    );
    mirror.requests()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_docker_hub_mirror_is_asked_for_library_images_and_hub_is_never_contacted() {
    let requests = pull_alpine(51, "library/alpine", "").await;
    assert!(
        requests.contains(&"GET /v2/library/alpine/manifests/3".to_string()),
        "the mirror was asked for library/alpine: {requests:?}"
    );
    assert!(
        requests
            .iter()
            .filter(|r| *r != "GET /v2/")
            .all(|r| r.contains("/v2/library/alpine/")),
        "nothing but library/alpine: {requests:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_with_a_prefix_is_asked_under_it() {
    let requests = pull_alpine(52, "hub/library/alpine", "/hub").await;
    assert!(
        requests.contains(&"GET /v2/hub/library/alpine/manifests/3".to_string()),
        "the mirror was asked for hub/library/alpine: {requests:?}"
    );
}
