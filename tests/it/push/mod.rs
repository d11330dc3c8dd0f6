//! `regpull push` against the real Distribution registry as destination
//! (htpasswd over TLS, token, open): images read back by skopeo and pulled
//! back by regpull with the same digests (`images.rs`), re-runs, mounts,
//! a killed push and chunks (`reruns.rs`), `--to` mirrors (`mirror.rs`), bad
//! input and refused credentials (`failures.rs`); a broken chunk resumed at
//! the kit's fake registry, which keeps what it received (`resume.rs`). A
//! module per concern, sharing the fixtures below.

use crate::support;

mod failures;
mod images;
mod mirror;
mod reruns;
mod resume;
mod slow_link;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;
use support::distribution::{Auth, Distribution, TokenRegistry};
use support::image::{TestImage, TestIndex};
use support::json_doc::validate;
use support::push::{PushAuth, Pusher};
use support::{regpull_command, require_tool, run_ok, text};

pub const USER: &str = "pusher";
/// Never to be seen in any output.
pub const PASSWORD: &str = "Pu5h-s3cret-never-printed";

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

enum Server {
    Plain(Distribution),
    Token(TokenRegistry),
}

/// A destination registry, and the flags regpull and skopeo need for it.
pub struct Dest {
    pub host: String,
    /// regpull's: CA, username, `--password-stdin` (the password goes on stdin).
    pub flags: Vec<String>,
    skopeo: Vec<String>,
    server: Server,
    _dir: tempfile::TempDir,
    // Serves the token server; dropped last.
    _rt: Option<tokio::runtime::Runtime>,
}

impl Dest {
    /// htpasswd (Basic) over TLS with its own CA.
    pub fn htpasswd() -> Dest {
        let reg = Distribution::start(
            Auth::Htpasswd {
                user: USER.into(),
                password: PASSWORD.into(),
            },
            true,
        );
        let dir = tempfile::tempdir().unwrap();
        let ca = reg.ca.clone().unwrap();
        std::fs::copy(&ca, dir.path().join("ca.crt")).unwrap();
        Dest {
            host: reg.host.clone(),
            flags: strings(&[
                "--ca-cert",
                ca.to_str().unwrap(),
                "--username",
                USER,
                "--password-stdin",
            ]),
            skopeo: strings(&[
                "--cert-dir",
                dir.path().to_str().unwrap(),
                "--creds",
                &format!("{USER}:{PASSWORD}"),
            ]),
            server: Server::Plain(reg),
            _dir: dir,
            _rt: None,
        }
    }

    /// Bearer tokens from the kit's token server, for this user only.
    pub fn token() -> Dest {
        let rt = runtime();
        let reg = rt.block_on(TokenRegistry::start(Some((USER, PASSWORD))));
        Dest {
            host: reg.registry.host.clone(),
            flags: strings(&["--username", USER, "--password-stdin"]),
            skopeo: strings(&[
                "--tls-verify=false",
                "--creds",
                &format!("{USER}:{PASSWORD}"),
            ]),
            server: Server::Token(reg),
            _dir: tempfile::tempdir().unwrap(),
            _rt: Some(rt),
        }
    }

    /// No authentication, plain HTTP.
    pub fn open() -> Dest {
        let reg = Distribution::start(Auth::Open, false);
        Dest {
            host: reg.host.clone(),
            flags: Vec::new(),
            skopeo: strings(&["--tls-verify=false"]),
            server: Server::Plain(reg),
            _dir: tempfile::tempdir().unwrap(),
            _rt: None,
        }
    }

    pub fn log(&self) -> String {
        match &self.server {
            Server::Plain(r) => r.log(),
            Server::Token(t) => t.registry.log(),
        }
    }

    /// `skopeo inspect [--raw] docker://HOST/REFERENCE`.
    pub fn skopeo_inspect(&self, reference: &str, raw: bool) -> String {
        require_tool("skopeo", "skopeo");
        let mut cmd = std::process::Command::new("skopeo");
        cmd.arg("inspect").args(&self.skopeo);
        if raw {
            cmd.arg("--raw");
        }
        cmd.arg(format!("docker://{}/{reference}", self.host));
        run_ok(&mut cmd)
    }

    /// `regpull ARGS DEST-FLAGS`, the password on stdin when the flags ask for it.
    pub fn regpull(&self, args: &[&str]) -> Run {
        let mut all = strings(args);
        all.extend(self.flags.iter().cloned());
        run(&all, self.flags.iter().any(|f| f == "--password-stdin"))
    }

    /// Pulls `reference` (every platform, digests kept) back into a fresh
    /// layout; the digest regpull recorded.
    pub fn pull_back(&self, reference: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("oci");
        let name = format!("{}/{reference}", self.host);
        let o = out.to_str().unwrap();
        let r = self.regpull(&[
            "pull",
            &name,
            "-o",
            o,
            "--all-platforms",
            "--preserve-digests",
        ]);
        assert_eq!(r.code, Some(0), "pulling {name} back: {}", r.stderr);
        let line = r.stdout.lines().next().unwrap_or_default().to_string();
        line.split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string()
    }
}

fn strings(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

/// What one regpull run printed.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The `--json` events, each checked against docs/json.md.
    pub events: Vec<Value>,
}

impl Run {
    pub fn of_type(&self, ty: &str) -> Vec<&Value> {
        self.events.iter().filter(|e| e["type"] == ty).collect()
    }

    /// The digests of the events of type `ty`.
    pub fn digests(&self, ty: &str) -> Vec<String> {
        self.of_type(ty)
            .iter()
            .map(|e| e["digest"].as_str().unwrap().to_string())
            .collect()
    }

    /// Fails when the password shows anywhere.
    pub fn no_secret(&self) {
        for (what, out) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            assert!(!out.contains(PASSWORD), "the password is in {what}:\n{out}");
        }
    }
}

pub fn run(args: &[String], password_on_stdin: bool) -> Run {
    let mut cmd = regpull_command(args);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("regpull runs");
    let mut stdin = child.stdin.take().unwrap();
    if password_on_stdin {
        stdin.write_all(PASSWORD.as_bytes()).unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stdout = text(&out.stdout);
    let json = args.iter().any(|a| a == "--json");
    Run {
        code: out.status.code(),
        events: if json { validate(&stdout) } else { Vec::new() },
        stdout,
        stderr: text(&out.stderr),
    }
}

/// An open registry to pull test images from, seeded through its push API.
pub struct Source {
    pub reg: Distribution,
}

impl Source {
    pub fn start() -> Source {
        Source {
            reg: Distribution::start(Auth::Open, false),
        }
    }

    pub fn image(&self, repo: &str, tag: &str, img: &TestImage) -> &Self {
        runtime().block_on(Pusher::new(&self.reg.host, None, PushAuth::None).image(repo, tag, img));
        self
    }

    pub fn index(&self, repo: &str, tag: &str, idx: &TestIndex) -> &Self {
        runtime().block_on(Pusher::new(&self.reg.host, None, PushAuth::None).index(repo, tag, idx));
        self
    }

    /// `regpull pull HOST/REFERENCE -o LAYOUT EXTRA...`; the name it recorded.
    pub fn pull(&self, reference: &str, layout: &Path, extra: &[&str]) -> String {
        let name = format!("{}/{reference}", self.reg.host);
        let mut args = strings(&["pull", &name, "-o", layout.to_str().unwrap(), "-q"]);
        args.extend(strings(extra));
        let r = run(&args, false);
        assert_eq!(r.code, Some(0), "pulling {name}: {}", r.stderr);
        name
    }
}

/// A fresh layout directory: (its temporary parent, the layout path).
pub fn new_layout() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("oci");
    (dir, layout)
}

/// A layout holding `images` under their names, written by the kit.
pub fn stored(images: &[(&str, &TestImage)]) -> (tempfile::TempDir, PathBuf) {
    let (dir, path) = new_layout();
    let layout = regpull::Layout::open_or_create(&path).unwrap();
    for (name, img) in images {
        support::image::store(&layout, name, img);
    }
    (dir, path)
}

/// The digest of the layout's entry named `name`.
pub fn layout_digest(layout: &Path, name: &str) -> String {
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == name)
        .unwrap_or_else(|| panic!("{name} is not in {}", layout.display()))["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Blob uploads the registry completed (`PUT .../blobs/uploads/...` answered 201).
pub fn completed_uploads(log: &str) -> usize {
    log.lines()
        .filter(|l| {
            l.contains("http.request.method=PUT")
                && l.contains("/blobs/uploads/")
                && l.contains("response.status=201")
        })
        .count()
}

/// Chunks the registry took (`PATCH` answered 202).
pub fn chunks(log: &str) -> usize {
    log.lines()
        .filter(|l| l.contains("http.request.method=PATCH") && l.contains("response.status=202"))
        .count()
}

/// sha256 of bytes, as `sha256:HEX`.
pub fn sha256(bytes: &[u8]) -> String {
    regpull::Digest::sha256_of(bytes).to_string()
}
