//! The binary as scripts and people use it.

use crate::support;
use support::text;

use std::process::Output;

fn regpull(args: &[&str]) -> Output {
    support::regpull_command(args)
        .output()
        .expect("binary runs")
}

#[test]
fn ref_shows_how_a_name_is_read() {
    let out = regpull(&[
        "ref",
        "ubuntu",
        "localhost:5000/team/app@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("docker.io/library/ubuntu:latest"),
        "{stdout}"
    );
    assert!(
        stdout.contains("api host:   registry-1.docker.io"),
        "{stdout}"
    );
    assert!(stdout.contains("tag:        latest (default)"), "{stdout}");
    assert!(stdout.contains("registry:   localhost:5000"), "{stdout}");
    assert!(stdout.contains("repository: team/app"), "{stdout}");
    assert!(out.stderr.is_empty());
}

#[test]
fn ref_json_is_one_object_per_line() {
    let out = regpull(&[
        "ref",
        "--json",
        "nvcr.io/nvidia/tensorflow:18.08-py3",
        "Bad//name",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an invalid name is a usage error"
    );
    let lines = support::json_doc::validate(&text(&out.stdout));
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["type"], "reference");
    assert_eq!(lines[0]["valid"], true);
    assert_eq!(lines[0]["registry"], "nvcr.io");
    assert_eq!(lines[0]["api_host"], "nvcr.io");
    assert_eq!(lines[0]["repository"], "nvidia/tensorflow");
    assert_eq!(lines[0]["tag"], "18.08-py3");
    assert_eq!(lines[0]["digest"], serde_json::Value::Null);
    assert_eq!(
        lines[0]["normalized"],
        "nvcr.io/nvidia/tensorflow:18.08-py3"
    );
    assert_eq!(lines[1]["valid"], false);
    assert_eq!(lines[1]["input"], "Bad//name");
    assert_eq!(lines[1]["error_kind"], "invalid_format");
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: invalid reference \"Bad//name\""),
        "{stderr}"
    );
    assert!(stderr.contains("hint: "), "{stderr}");
}

#[test]
fn invalid_names_fail_with_the_rule_they_broke() {
    let cases = [
        ("UBUNTU", "must be lowercase"),
        ("ubuntu:.tag", "tag \".tag\" is invalid"),
        ("foo.com:http/bar", "port \"http\""),
        ("ubuntu@sha256:abc", "digest \"sha256:abc\""),
        (
            "ubuntu@sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c5958",
            "needs 64 hex characters",
        ),
    ];
    for (name, expected) in cases {
        let out = regpull(&["ref", name]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}: nothing on stdout");
    }
}

#[test]
fn help_lists_the_commands_and_usage_errors_exit_2() {
    let out = regpull(&["--help"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("ref "), "{}", text(&out.stdout));
    let out = regpull(&["no-such-command"]);
    assert_eq!(out.status.code(), Some(2));
    let out = regpull(&["ref"]);
    assert_eq!(out.status.code(), Some(2), "a name is required");
}

#[test]
fn completions_are_valid_scripts_naming_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let out = regpull(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        for command in ["pull", "auth", "login", "logout", "gc", "ref", "man"] {
            assert!(
                script.contains(command),
                "{shell} completion lacks {command}"
            );
        }
        assert!(
            script.contains("--platform"),
            "{shell}: options are completed"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("regpull.bash");
    std::fs::write(&path, regpull(&["completions", "bash"]).stdout).unwrap();
    support::run_ok(std::process::Command::new("bash").arg("-n").arg(&path));
    let out = regpull(&["completions", "tcsh"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
    assert!(
        text(&out.stderr).contains("possible values"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_man_pages_render_and_cover_every_command() {
    support::require_tool("man", "man-db");
    let out = regpull(&["man"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(".TH regpull 1"));
    let dir = tempfile::tempdir().unwrap();
    let out = regpull(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for page in [
        "regpull.1",
        "regpull-pull.1",
        "regpull-auth.1",
        "regpull-gc.1",
    ] {
        assert!(dir.path().join(page).exists(), "{page} was written");
    }
    let rendered = support::run_ok(
        std::process::Command::new("man")
            .arg("-l")
            .arg(dir.path().join("regpull-pull.1"))
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100"),
    );
    assert!(rendered.contains("--platform"), "{rendered}");
    assert!(
        rendered.contains("prefetch"),
        "the examples are in the page: {rendered}"
    );
}

#[test]
fn a_list_on_stdin_names_its_bad_lines_and_stdin_cannot_carry_two_things() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oci");
    let out = out.to_str().unwrap();
    let o = support::regpull(
        &["pull", "-o", out, "-f", "-"],
        Some("# only a bad line\n\nBad//Name --platform linux/arm64\n"),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains("error: -:3: \"Bad//Name --platform linux/arm64\": invalid reference"),
        "{stderr}"
    );
    assert!(stderr.contains("pulled 0 of 1 images"), "{stderr}");

    let o = support::regpull(
        &[
            "pull",
            "-o",
            out,
            "-f",
            "-",
            "-u",
            "bot",
            "--password-stdin",
        ],
        Some("alpine\n"),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("standard input already carries the password"),
        "{}",
        text(&o.stderr)
    );

    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "# nothing yet\n").unwrap();
    let o = support::regpull(&["pull", "-o", out, "-f", empty.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(0), "an empty list is not an error");
    assert!(
        text(&o.stderr).contains("note: the image lists name no image"),
        "{}",
        text(&o.stderr)
    );

    let o = support::regpull(&["pull", "-o", out, "-f", "/nonexistent/images.txt"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("cannot read the image list /nonexistent/images.txt"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn logs_on_a_terminal_are_coloured_unless_no_color_is_set() {
    support::require_tool("script", "util-linux");
    let dir = tempfile::tempdir().unwrap();
    // A refused connection on this machine logs an INFO line at -v.
    let command = format!(
        "{} -v pull 127.0.0.1:1/app:1 --retries 0 -o {}",
        support::regpull_exe().display(),
        dir.path().join("oci").display()
    );
    let on_a_terminal = |no_color: Option<&str>| {
        let mut cmd = std::process::Command::new("script");
        cmd.args(["-qc", &command, "/dev/null"])
            .env_remove("NO_COLOR");
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        text(&cmd.output().unwrap().stdout)
    };
    let coloured = on_a_terminal(None);
    assert!(coloured.contains("INFO"), "{coloured}");
    assert!(
        coloured.contains("\x1b[32m"),
        "colour on a terminal: {coloured:?}"
    );
    let plain = on_a_terminal(Some("1"));
    assert!(plain.contains("INFO"), "{plain}");
    assert!(!plain.contains("\x1b[32m"), "NO_COLOR: {plain:?}");
}
