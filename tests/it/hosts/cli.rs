//! The configuration as a user meets it through `regpull pull`: a malformed
//! file stops the pull naming the file and line, an unknown field is
//! ignored with a `-v` note naming it, and a registries.conf mirror serves.

use crate::support::fake_registry::{FakeRegistry, Faults};
use crate::support::{image, pull_from, regpull, text};

#[test]
fn a_malformed_registries_conf_names_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("registries.conf");
    std::fs::write(
        &conf,
        "[[registry]]\nlocation = \"example.com\"\n\n[[registry.mirror]]\nlocation = \"m.example\npull-from-mirror = \"all\"\n",
    )
    .unwrap();
    let (conf, out) = (conf.display().to_string(), dir.path().join("oci"));
    let o = regpull(
        &[
            "pull",
            "--registries-conf",
            &conf,
            "-o",
            out.to_str().unwrap(),
            "example.com/app:1",
        ],
        None,
    );
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "a usage error: {err}");
    assert!(err.contains(&format!("{conf}:5:")), "file and line: {err}");
    assert!(!out.exists(), "nothing was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_field_is_a_note_and_the_mirror_it_names_serves() {
    let upstream = FakeRegistry::start(Faults::default()).await;
    let mirror = FakeRegistry::start(Faults::default()).await;
    let img = image::image("linux", "amd64", &[&[("f", b"from the mirror")]]);
    mirror.add_image("team/app", "1", &img);
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("registries.conf");
    std::fs::write(
        &conf,
        format!(
            "[[registry]]\nlocation = \"{}\"\nfavourite-colour = \"blue\"\n\n[[registry.mirror]]\nlocation = \"{}\"\n",
            upstream.host, mirror.host
        ),
    )
    .unwrap();
    let conf = conf.display().to_string();
    let out = dir.path().join("oci");
    let extra = ["-v", "--json", "--registries-conf", conf.as_str()];
    let o = pull_from(&upstream.host, "team/app:1", &out, &extra).await;
    let (stdout, stderr) = (text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("favourite-colour") && stderr.contains(&format!("{conf}:3")),
        "a note names the field, the file and the line: {stderr}"
    );
    assert!(
        stdout.contains(&format!("\"source\":\"{}\"", mirror.host)),
        "the mirror served: {stdout}"
    );
    assert!(
        upstream.requests().iter().all(|r| !r.contains("/blobs/")),
        "no blob from the upstream: {:?}",
        upstream.requests()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_containerd_hosts_toml_mirror_serves_and_one_without_resolve_waits_for_a_digest() {
    let upstream = FakeRegistry::start(Faults::default()).await;
    let mirror = FakeRegistry::start(Faults::default()).await;
    let img = image::image("linux", "amd64", &[&[("f", b"hosts.toml")]]);
    upstream.add_image("team/app", "1", &img);
    mirror.add_image("team/app", "1", &img);
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("certs.d").join(&upstream.host);
    std::fs::create_dir_all(&hosts).unwrap();
    // Pull only: the mirror may serve content by digest, not say what a tag is.
    std::fs::write(
        hosts.join("hosts.toml"),
        format!(
            "server = \"http://{}\"\n\n[host.\"http://{}\"]\ncapabilities = [\"pull\"]\n",
            upstream.host, mirror.host
        ),
    )
    .unwrap();
    let hosts_dir = dir.path().join("certs.d").display().to_string();
    let out = dir.path().join("oci");
    let extra = ["--json", "--hosts-dir", hosts_dir.as_str()];
    let o = pull_from(&upstream.host, "team/app:1", &out, &extra).await;
    let stdout = text(&o.stdout);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        stdout.contains(&format!("\"source\":\"{}\"", upstream.host)),
        "the tag is the upstream's to resolve: {stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "\"source\":\"{}\",\"type\":\"blob_source\"",
            mirror.host
        )),
        "blobs come from the mirror: {stdout}"
    );
    assert!(
        upstream.requests().iter().all(|r| !r.contains("/blobs/")),
        "no blob from the upstream: {:?}",
        upstream.requests()
    );
}
