//! The runtime files, run for real: a busybox image exported as a rootfs runs
//! under chroot, `/etc/rc` starts the entrypoint as Enroot starts it, and
//! Apptainer's run action starts it as `apptainer run` would.

use std::process::Command;

use serde_json::json;

use super::{Fixture, images, ok};
use crate::support::layers::{self, Compression, file, symlink, tar};
use crate::support::run_ok;

const NAME: &str = "docker.io/library/hello:1";

fn hello() -> crate::support::image::TestImage {
    images::busybox(json!({
        "Entrypoint": ["/srv/app/hello.sh"],
        "Cmd": ["default", "it's"],
        "Env": ["PATH=/bin", "GREETING=hi there"],
        "WorkingDir": "/srv/app",
        "Volumes": {"/data": {}},
        "Labels": {"org.example.team": "hpc"},
    }))
}

/// The chroot binary, by path: the commands below run with a cleared PATH.
fn chroot() -> Command {
    let path = run_ok(Command::new("sh").args(["-c", "command -v chroot"]));
    Command::new(path.trim())
}

/// `chroot ROOT ARGS...` with the environment enroot would give it: only
/// what `/etc/environment` says.
fn enroot_start(root: &std::path::Path, args: &[&str]) -> String {
    let env = std::fs::read_to_string(root.join("etc/environment")).unwrap();
    let mut cmd = chroot();
    cmd.env_clear()
        .arg(root)
        .args(["/bin/sh", "/etc/rc"])
        .args(args);
    for line in env.lines() {
        let (k, v) = line.split_once('=').unwrap();
        cmd.env(k, v);
    }
    run_ok(&mut cmd)
}

#[test]
fn a_rootfs_runs_under_chroot_and_etc_rc_starts_the_entrypoint() {
    let fx = Fixture::new(&[(NAME, &hello())]);
    let out = fx.path("rootfs");
    ok(&fx.export(NAME, &["-o", out.to_str().unwrap(), "--format", "rootfs"]));
    let shell = run_ok(
        chroot()
            .arg(&out)
            .args(["/bin/sh", "-c", "echo inside; pwd"]),
    );
    assert_eq!(shell, "inside\n/\n");
    assert_eq!(
        enroot_start(&out, &[]),
        "hello from /srv/app: hi there default it's\n"
    );
    assert_eq!(
        enroot_start(&out, &["a b", "$HOME"]),
        "hello from /srv/app: hi there a b $HOME\n"
    );
    let read = |p: &str| std::fs::read_to_string(out.join(p)).unwrap();
    assert_eq!(read("etc/environment"), "PATH=/bin\nGREETING=hi there\n");
    assert_eq!(
        read("etc/fstab"),
        "${ENROOT_ROOTFS}/data /data none x-create=dir,bind,rw,nosuid,nodev\n"
    );
    assert!(read("etc/rc").starts_with("# org.example.team hpc\n"));
    assert!(read("etc/rc.local").starts_with("# This file is sourced by /etc/rc"));
}

#[test]
fn apptainers_run_action_starts_the_entrypoint_with_the_image_env() {
    let fx = Fixture::new(&[(NAME, &hello())]);
    let out = fx.path("rootfs");
    ok(&fx.export(NAME, &["-o", out.to_str().unwrap(), "--format", "rootfs"]));
    let run = |args: &[&str]| {
        run_ok(
            chroot()
                .env_clear()
                .env("PATH", "/bin")
                .arg(&out)
                .arg("/.run")
                .args(args),
        )
    };
    // Apptainer starts in the caller's directory, not WorkingDir.
    assert_eq!(run(&[]), "hello from /: hi there default it's\n");
    assert_eq!(run(&["x", "\"q\""]), "hello from /: hi there x \"q\"\n");
    let env =
        std::fs::read_to_string(out.join(".singularity.d/env/10-docker2singularity.sh")).unwrap();
    assert_eq!(
        env,
        "#!/bin/sh\nexport PATH=\"/bin\"\nexport GREETING=\"${GREETING:-\"hi there\"}\"\n"
    );
    let labels: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join(".singularity.d/labels.json")).unwrap())
            .unwrap();
    assert_eq!(labels["org.example.team"], "hpc");
    assert_eq!(labels["org.opencontainers.image.base.name"], NAME);
    assert_eq!(
        std::fs::read_link(out.join("singularity"))
            .unwrap()
            .to_str(),
        Some(".singularity.d/runscript")
    );
    for p in [
        "proc",
        "sys",
        "dev",
        "tmp",
        "home",
        "etc/hosts",
        "etc/resolv.conf",
    ] {
        assert!(
            out.join(p).exists(),
            "Apptainer's mount point {p} is missing"
        );
    }
}

#[test]
fn runtime_files_replace_symlinks_instead_of_writing_through_them() {
    let mut img = hello();
    // A layer that makes /etc/rc and /etc/environment symlinks to files the
    // image needs: writing through them would change those files.
    let hostile = tar(&[
        symlink("etc/rc", "/bin/busybox"),
        symlink("etc/environment", "../srv/app/hello.sh"),
        file("etc/hosts", "127.0.0.1 keep\n"),
    ]);
    let (blob, diff_id) = layers::layer_blob(&hostile, Compression::Gzip);
    let config: serde_json::Value = serde_json::from_slice(&img.config.bytes).unwrap();
    let mut diff_ids: Vec<regpull::Digest> = config["rootfs"]["diff_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| regpull::Digest::parse(d.as_str().unwrap()).unwrap())
        .collect();
    diff_ids.push(diff_id);
    img.layers.push(blob);
    let img = layers::image_of(img.layers, &diff_ids, config["config"].clone());
    let fx = Fixture::new(&[(NAME, &img)]);
    let out = fx.path("rootfs");
    ok(&fx.export(NAME, &["-o", out.to_str().unwrap(), "--format", "rootfs"]));
    let busybox = run_ok(Command::new("sh").args(["-c", "command -v busybox"]));
    assert_eq!(
        std::fs::read(out.join("bin/busybox")).unwrap(),
        std::fs::read(busybox.trim()).unwrap()
    );
    assert!(
        std::fs::read_to_string(out.join("srv/app/hello.sh"))
            .unwrap()
            .starts_with("#!/bin/sh\necho")
    );
    assert!(
        std::fs::symlink_metadata(out.join("etc/rc"))
            .unwrap()
            .is_file()
    );
    // What the image has is kept where the runtimes only need something there.
    assert_eq!(
        std::fs::read_to_string(out.join("etc/hosts")).unwrap(),
        "127.0.0.1 keep\n"
    );
}
