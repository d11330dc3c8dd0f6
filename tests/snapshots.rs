//! What users read, pinned: `--help` texts. A change to them must be deliberate:
//! run with REGPULL_UPDATE_SNAPSHOTS=1 to rewrite the files, then review the diff.

use std::path::PathBuf;
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
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.txt"));
    if std::env::var_os("REGPULL_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing; run with REGPULL_UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert_eq!(
        actual,
        expected,
        "`regpull {}` changed; see {}",
        args.join(" "),
        path.display()
    );
}

#[test]
fn help_texts() {
    check("help", &["--help"]);
    check("pull-help", &["pull", "--help"]);
    check("auth-help", &["auth", "--help"]);
    check("login-help", &["login", "--help"]);
    check("ref-help", &["ref", "--help"]);
}
