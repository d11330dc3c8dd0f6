//! What users read, pinned: `--help` texts. A change to them must be deliberate:
//! run with REGPULL_UPDATE_SNAPSHOTS=1 to rewrite the files, then review the diff.

use crate::support;

fn check(name: &str, args: &[&str]) {
    // Isolated, so that `[env: REGPULL_OUTPUT=...]` shows no value of the machine's.
    let out = support::regpull_command(args)
        .env_remove("COLUMNS")
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
    check("logout-help", &["logout", "--help"]);
    check("gc-help", &["gc", "--help"]);
    check("completions-help", &["completions", "--help"]);
    check("man-help", &["man", "--help"]);
    check("list-help", &["list", "--help"]);
    check("verify-help", &["verify", "--help"]);
    check("rm-help", &["rm", "--help"]);
    check("inspect-help", &["inspect", "--help"]);
    check("export-help", &["export", "--help"]);
    check("push-help", &["push", "--help"]);
}
