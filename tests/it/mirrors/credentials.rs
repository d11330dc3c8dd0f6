//! Credentials per host: the upstream (the real Distribution with token
//! auth, tokens for one user only) and a mirror that asks for a login of its
//! own (the fake registry with HTTP Basic, recording every `Authorization`
//! header it is sent). The upstream's credential never reaches the mirror,
//! whether it comes from an auth file, the command line or the environment.

use base64::Engine as _;

use super::{Pull, assert_pulled, image_of, mirror, pull_env};
use crate::support::distribution::TokenRegistry;
use crate::support::fake_registry::{FakeRegistry, Faults};
use crate::support::image::TestImage;
use crate::support::push::{PushAuth, Pusher};

const USER: &str = "upstream-user";
const PASSWORD: &str = "upstream-secret";
const MIRROR_USER: &str = "mirror-user";
const MIRROR_PASSWORD: &str = "mirror-secret";

fn basic(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

/// An upstream that gives tokens to [`USER`] only, holding the image, and a
/// mirror that takes [`MIRROR_USER`] only and holds nothing: every pull
/// asks the mirror first, then goes to the upstream with the upstream's
/// credential.
struct World {
    upstream: TokenRegistry,
    mirror: FakeRegistry,
    img: TestImage,
    dir: tempfile::TempDir,
}

impl World {
    async fn start(seed: u64) -> World {
        let upstream = TokenRegistry::start(Some((USER, PASSWORD))).await;
        let img = image_of(seed, 1, 200_000);
        let token = upstream.tokens.mint("repository:team/app:pull,push");
        Pusher::new(
            &upstream.registry.host,
            None,
            PushAuth::Bearer(Box::new(move |_| token.clone())),
        )
        .image("team/app", "1", &img)
        .await;
        let mirror = FakeRegistry::start(Faults {
            basic_auth: Some((MIRROR_USER.into(), MIRROR_PASSWORD.into())),
            ..Faults::default()
        })
        .await;
        World {
            upstream,
            mirror,
            img,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The pull through the mirror with `extra` arguments and `env`; it must
    /// succeed from the upstream after the mirror was skipped.
    async fn pull(&self, extra: &[&str], env: &[(&str, &str)]) -> Pull {
        let upstream = &self.upstream.registry.host;
        let m = mirror(upstream, &self.mirror.host);
        let mut args = vec![m[0].as_str(), &m[1], "--retries", "0"];
        args.extend_from_slice(extra);
        let out = self.dir.path().join("oci");
        let p = pull_env(&format!("{upstream}/team/app:1"), &out, &args, env).await;
        p.assert_success();
        assert_pulled(&out, &self.img).await;
        assert_eq!(p.resolved_sources(), std::slice::from_ref(upstream));
        p.assert_blobs_from(upstream);
        p
    }

    /// The token server was asked with the upstream's credential.
    fn upstream_got_its_credential(&self) {
        let seen = self.upstream.tokens.seen();
        let expected = format!("{USER}:{PASSWORD}");
        assert!(
            !seen.is_empty() && seen.iter().all(|s| s.basic.as_deref() == Some(&expected)),
            "the upstream's token server got the upstream's credential: {seen:?}"
        );
    }

    /// Every Authorization header the mirror was sent.
    fn mirror_saw(&self) -> Vec<String> {
        self.mirror.authorizations()
    }
}

/// Nothing the mirror was sent carries the upstream's password, in Basic
/// or in the clear.
fn assert_no_upstream_secret(seen: &[String]) {
    let leaked: Vec<&String> = seen
        .iter()
        .filter(|h| h.contains(&basic(USER, PASSWORD)) || h.contains(PASSWORD))
        .collect();
    assert!(
        leaked.is_empty(),
        "the upstream's credential reached the mirror: {leaked:?}"
    );
}

/// The mirror, which asks for a login regpull has none for, was sent no
/// credential at all and skipped (401); the upstream got its own.
fn no_credential_reached_the_mirror(w: &World, p: &Pull) {
    let seen = w.mirror_saw();
    assert_no_upstream_secret(&seen);
    assert!(
        seen.is_empty(),
        "the mirror was sent no credential: {seen:?}"
    );
    let skip = p.skip_of(&w.mirror.host, "manifest of ");
    assert_eq!(skip["status"], 401, "{skip}");
    w.upstream_got_its_credential();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_host_gets_its_own_credential_from_an_auth_file() {
    let w = World::start(41).await;
    let auth_file = w.dir.path().join("auth.json");
    let auths = serde_json::json!({"auths": {
        w.upstream.registry.host.clone(): {"auth": basic(USER, PASSWORD)},
        w.mirror.host.clone(): {"auth": basic(MIRROR_USER, MIRROR_PASSWORD)},
    }});
    std::fs::write(&auth_file, auths.to_string()).unwrap();
    let p = w
        .pull(&["--auth-file", auth_file.to_str().unwrap()], &[])
        .await;
    // The mirror took its login and did not have the image.
    let skip = p.skip_of(&w.mirror.host, "manifest of ");
    assert_eq!(skip["status"], 404, "{skip}");
    let seen = w.mirror_saw();
    let own = format!("Basic {}", basic(MIRROR_USER, MIRROR_PASSWORD));
    assert!(
        !seen.is_empty() && seen.iter().all(|h| *h == own),
        "the mirror got its own credential only: {seen:?}"
    );
    w.upstream_got_its_credential();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_given_on_the_command_line_never_reach_a_mirror() {
    let w = World::start(42).await;
    let p = w
        .pull(&["--username", USER, "--password", PASSWORD], &[])
        .await;
    no_credential_reached_the_mirror(&w, &p);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_the_environment_never_reach_a_mirror() {
    let w = World::start(43).await;
    let env = [("REGPULL_USERNAME", USER), ("REGPULL_PASSWORD", PASSWORD)];
    let p = w.pull(&[], &env).await;
    no_credential_reached_the_mirror(&w, &p);
}
