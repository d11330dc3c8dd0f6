//! The test kit: real-tool checks and a builder for small, real images.
#![allow(dead_code)]

pub mod certs;
pub mod connect_proxy;
pub mod distribution;
pub mod distribution_proxy;
pub mod fake_registry;
pub mod image;
pub mod json_doc;
pub mod layers;
pub mod object_store;
pub mod push;
pub mod range;
pub mod relay;
pub mod sigv4;
pub mod tls_serve;
pub mod token_server;
pub mod tree;
pub mod vendor;

use std::process::Command;

/// Fails the test loudly when a real component is missing, naming the install command.
pub fn require_tool(program: &str, package: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "this test needs `{program}`, which is not installed: run `apt-get install -y {package}` \
         (scripts/test.sh does this for you)"
    );
}

/// Runs a command, failing the test with its output when it does not succeed.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Where cargo built the regpull binary. Only integration tests know; the
/// examples, which share this kit, find it themselves.
pub fn regpull_exe() -> &'static std::path::Path {
    let Some(exe) = option_env!("CARGO_BIN_EXE_regpull") else {
        panic!("regpull_exe() is for integration tests, where cargo names the binary");
    };
    std::path::Path::new(exe)
}

/// The regpull binary with `args`, isolated from the machine running the tests:
/// no credential or setting of its environment leaks in, HOME points nowhere,
/// and the AWS SDK may not probe the instance metadata service. How tests run
/// regpull (those that go through a shell use [`regpull_exe`]); wrap it with
/// [`wrapped`] to run it as another user, in a namespace, or timed.
pub fn regpull_command<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Command {
    let mut cmd = Command::new(regpull_exe());
    cmd.args(args);
    for var in ISOLATED_ENV {
        cmd.env_remove(var);
    }
    cmd.env("HOME", "/nonexistent/regpull-test-home")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

/// `wrapper` (`setpriv ... --`, `unshare ... --`, `time ...`) running `cmd`:
/// cmd's program and arguments follow the wrapper's own, and cmd's
/// environment changes apply to the wrapper, which passes them on, so what
/// runs wrapped is as isolated as `cmd` would be.
pub fn wrapped(mut wrapper: Command, cmd: &Command) -> Command {
    wrapper.arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapper.env(k, v),
            None => wrapper.env_remove(k),
        };
    }
    wrapper
}

/// This test binary, set to run only `module`'s test `name` (pass
/// `module_path!()`), in a process of its own: for a test that needs several
/// processes or another user. [`ran_one_test`] checks that the name matched.
pub fn own_test(module: &str, name: &str) -> Command {
    // module_path!() starts with the crate's name; test names do not.
    let module = module.split_once("::").map_or("", |(_, m)| m);
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", &format!("{module}::{name}"), "--test-threads=1"]);
    cmd
}

/// Fails unless an [`own_test`] process passed exactly one test: a name that
/// matches nothing (a test renamed or moved) would pass zero and exit 0.
pub fn ran_one_test(out: &std::process::Output) {
    let stdout = text(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed;"),
        "the test process did not pass exactly one test ({}):\n{stdout}{}",
        out.status,
        text(&out.stderr)
    );
}

/// Environment variables regpull reads that tests set explicitly or not at all.
pub const ISOLATED_ENV: &[&str] = &[
    "REGPULL_USERNAME",
    "REGPULL_PASSWORD",
    "REGPULL_OUTPUT",
    "REGPULL_JOBS",
    "REGPULL_CONNECTIONS",
    "REGPULL_RETRIES",
    "REGPULL_TIMEOUT",
    "REGPULL_CERTS_DIR",
    "REGPULL_AUTH_FILE",
    "DOCKER_DEFAULT_PLATFORM",
    "DOCKER_CONFIG",
    "REGISTRY_AUTH_FILE",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_HOME",
    "ENROOT_CONFIG_PATH",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "NGC_API_KEY",
    "SREGISTRY_NVIDIA_TOKEN",
    "APPTAINER_DOCKER_USERNAME",
    "APPTAINER_DOCKER_PASSWORD",
    "SINGULARITY_DOCKER_USERNAME",
    "SINGULARITY_DOCKER_PASSWORD",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_ECR",
    // reqwest reads both spellings; a proxy of the machine's must not carry
    // the tests' loopback traffic.
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// The regpull binary's output for `args`, with `stdin` fed to it. Only
/// integration tests know where cargo built the binary; the demo example, which
/// shares this kit, finds it itself.
pub fn regpull(args: &[&str], stdin: Option<&str>) -> std::process::Output {
    regpull_env(args, stdin, &[])
}

/// `regpull` with extra environment variables set.
pub fn regpull_env(
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> std::process::Output {
    use std::io::Write;
    let mut cmd = regpull_command(args);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    cmd.envs(env.iter().copied());
    let mut child = cmd.spawn().expect("regpull runs");
    if let Some(input) = stdin
        && let Err(e) = child.stdin.take().unwrap().write_all(input.as_bytes())
    {
        // A child that exits before reading its input (a usage error found
        // first) closes the pipe: what it printed is what the test checks.
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

/// A loopback address nothing listens on (bound, then let go): a host that
/// is down.
pub fn closed_port() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Blob GETs (not HEADs) the Distribution registry logged, so far.
pub fn blob_gets(log: &str) -> usize {
    log.lines()
        .filter(|l| {
            l.contains("http.request.method=GET")
                && l.contains("/blobs/sha256:")
                && l.contains("response.status=200")
        })
        .count()
}

/// `regpull pull HOST/REFERENCE -o OUT EXTRA...`, run off the async runtime so
/// in-process servers keep serving while it runs.
#[cfg(test)]
pub async fn pull_from(
    host: &str,
    reference: &str,
    out: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec![
        "pull".to_string(),
        format!("{host}/{reference}"),
        "-o".into(),
        out.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        regpull(&args, None)
    })
    .await
    .unwrap()
}

/// Compares `actual` with `tests/snapshots/NAME.txt`; REGPULL_UPDATE_SNAPSHOTS=1
/// rewrites the file instead, for review in the diff.
pub fn snapshot(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.txt"));
    if std::env::var_os("REGPULL_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing; run with REGPULL_UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert_eq!(actual, expected, "output changed; see {}", path.display());
}

/// Polls `cond` until it holds, failing the test with `what` once `timeout`
/// has passed: the timeout only guards against a hang, so make it generous;
/// the poll is short, so waiting costs little. Blocking, so that sync and
/// async tests share it: in a multi-threaded runtime the in-process servers
/// keep serving on the other workers while it waits.
pub fn wait_until(what: &str, timeout: std::time::Duration, mut cond: impl FnMut() -> bool) {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let mut poll = || {
        let deadline = std::time::Instant::now() + timeout;
        while !cond() {
            assert!(
                std::time::Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    };
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Err(_) => poll(),
        Ok(RuntimeFlavor::CurrentThread) => panic!(
            "wait_until({what:?}) would stop a current-thread runtime's servers: \
             use #[tokio::test(flavor = \"multi_thread\")]"
        ),
        Ok(_) => tokio::task::block_in_place(poll),
    }
}

/// Runs `cmd` to completion and returns its output with its peak resident
/// memory in KiB, measured by GNU time (package `time`). (The kernel's own
/// count for a child, `wait4`, also counts the moments before `exec` when the
/// child still shares this test process's memory.)
pub fn run_measured(cmd: &Command) -> (std::process::Output, u64) {
    assert!(
        std::path::Path::new("/usr/bin/time").exists(),
        "this test needs GNU time: run `apt-get install -y time` (scripts/test.sh does this for you)"
    );
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut timed = Command::new("/usr/bin/time");
    timed.args(["-f", "%M", "-o"]).arg(report.path());
    let out = wrapped(timed, cmd)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let kib = std::fs::read_to_string(report.path()).unwrap();
    let kib = kib
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("GNU time said {kib:?}"));
    (out, kib)
}

/// An error and every cause under it, as the command line prints them.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut said = Vec::new();
    let mut cause = Some(err);
    while let Some(c) = cause {
        said.push(c.to_string());
        cause = c.source();
    }
    said.join(" / ")
}
