//! The crontab line and the shell snippets of docs/ci-and-cron.md and
//! docs/exit-codes.md, run as written against the real registry, with only
//! their paths and image names replaced by the test's.

use crate::support;

use std::path::Path;
use std::process::Command;

use support::distribution::{Auth, Distribution};
use support::image;
use support::push::{PushAuth, Pusher};
use support::{require_tool, text};

/// The first fenced block of `lang` in `doc`.
fn block(doc: &str, lang: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs").join(doc);
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text
        .find(&format!("```{lang}\n"))
        .unwrap_or_else(|| panic!("{doc} has a {lang} block"));
    let body = &text[start + lang.len() + 4..];
    body[..body.find("```").unwrap()].to_string()
}

struct Site {
    reg: Distribution,
    dir: tempfile::TempDir,
    image: String,
    digest: String,
}

fn site() -> Site {
    let reg = Distribution::start(Auth::Open, false);
    let img = image::image(
        "linux",
        "amd64",
        &[&[("etc/motd", b"from the nightly list\n")]],
    );
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(Pusher::new(&reg.host, None, PushAuth::None).image("team/app", "1", &img));
    Site {
        image: format!("{}/team/app", reg.host),
        digest: img.manifest.digest.to_string(),
        reg,
        dir: tempfile::tempdir().unwrap(),
    }
}

/// `sh`/`bash` with only a minimal environment, as cron gives, and regpull on PATH.
fn shell(program: &str, script: &str, cwd: &Path) -> std::process::Output {
    let bin = support::regpull_exe().parent().unwrap();
    Command::new(program)
        .arg("-c")
        .arg(script)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("HOME", cwd)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap()
}

#[test]
fn the_crontab_line_prefetches_the_list_and_collects_garbage() {
    require_tool("flock", "util-linux");
    let s = site();
    let d = s.dir.path();
    std::fs::write(d.join("images.txt"), format!("# nightly\n{}:1\n", s.image)).unwrap();
    let line = block("ci-and-cron.md", "crontab");
    let line = line.trim();
    // Drop the five schedule fields; the rest is what cron runs with sh.
    let command = line.splitn(6, ' ').nth(5).unwrap();
    let command = command
        .replace(
            "/usr/local/bin/regpull",
            support::regpull_exe().to_str().unwrap(),
        )
        .replace(
            "/etc/regpull/images.txt",
            d.join("images.txt").to_str().unwrap(),
        )
        .replace("/shared/oci", d.join("oci").to_str().unwrap())
        .replace("/var/log/", &format!("{}/", d.display()))
        .replace("/var/lock/", &format!("{}/", d.display()));
    for night in 0..2 {
        let out = shell("sh", &command, d);
        assert!(out.status.success(), "night {night}: {}", text(&out.stderr));
    }
    let log = std::fs::read_to_string(d.join("regpull-prefetch.log")).unwrap();
    let results: Vec<&str> = log.lines().filter(|l| l.contains(&s.digest)).collect();
    assert_eq!(results.len(), 2, "one result line per night: {log}");
    assert!(log.contains("removed 0 unreferenced blobs"), "{log}");
    assert_eq!(
        support::blob_gets(&s.reg.log()),
        2,
        "the second night fetched no blob"
    );
}

#[test]
fn the_ci_snippet_pulls_by_digest_and_reports_from_the_events() {
    require_tool("jq", "jq");
    let s = site();
    let d = s.dir.path();
    let script = block("ci-and-cron.md", "bash");
    let pinned = script
        .lines()
        .find_map(|l| l.strip_prefix("image="))
        .expect("the snippet names its image");
    let script = script.replace(pinned, &format!("{}@{}", s.image, s.digest));
    let out = shell("bash", &script, d);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("fetched "), "{stdout}");
    assert!(d.join(".cache/oci/index.json").exists());
    let again = shell("bash", &script, d);
    assert!(
        text(&again.stdout).starts_with("fetched 0 bytes"),
        "{}",
        text(&again.stdout)
    );
}

#[test]
fn the_retry_loop_gives_up_at_once_on_a_failure_a_retry_cannot_mend() {
    let s = site();
    let d = s.dir.path();
    std::fs::write(d.join("images.txt"), format!("{}:missing\n", s.image)).unwrap();
    let script =
        block("exit-codes.md", "bash").replace("/shared/oci", d.join("oci").to_str().unwrap());
    let out = shell("bash", &script, d);
    // Not found: exit 4 on the first attempt, with no sleep before it.
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr).matches("error: pulling").count(), 1);
}
