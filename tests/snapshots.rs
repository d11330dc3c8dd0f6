//! What users read, pinned: `--help` texts. A change to them must be deliberate:
//! run with REGPULL_UPDATE_SNAPSHOTS=1 to rewrite the files, then review the diff.

mod support;

use std::process::Command;

fn check(name: &str, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_regpull"))
        .args(args)
        .env_remove("COLUMNS")
        .env_remove("REGPULL_OUTPUT")
        .env_remove("REGPULL_JOBS")
        .env_remove("DOCKER_DEFAULT_PLATFORM")
        .output()
        .unwrap();
    assert!(out.status.success());
    let actual = String::from_utf8(out.stdout).unwrap();
    support::snapshot(name, &actual);
}

#[test]
fn help_texts() {
    check("help", &["--help"]);
    check("pull-help", &["pull", "--help"]);
    check("auth-help", &["auth", "--help"]);
    check("login-help", &["login", "--help"]);
    check("ref-help", &["ref", "--help"]);
    check("list-help", &["list", "--help"]);
    check("verify-help", &["verify", "--help"]);
    check("rm-help", &["rm", "--help"]);
    check("inspect-help", &["inspect", "--help"]);
}
