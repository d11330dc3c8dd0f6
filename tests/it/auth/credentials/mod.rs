//! Every credential source, end to end against the real Distribution registry:
//! which one answers, in what order, and that a broken one is an error naming
//! it (sources.rs); `login` and `logout` (login.rs).

use crate::support;

mod login;
mod mirrors;
mod sources;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use base64::Engine as _;
use support::distribution::{Auth, Distribution};
use support::image;
use support::push::{PushAuth, Pusher};
use support::{regpull_env, text};

const USER: &str = "robot$ci";
const PASSWORD: &str = "p@ss:word\"with{json}";

struct Fixture {
    reg: Distribution,
    name: String,
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let reg = Distribution::start(
            Auth::Htpasswd {
                user: USER.into(),
                password: PASSWORD.into(),
            },
            false,
        );
        let img = image::image("linux", "amd64", &[&[("f", b"creds")]]);
        tokio::runtime::Runtime::new().unwrap().block_on(
            Pusher::new(
                &reg.host,
                None,
                PushAuth::Basic(USER.into(), PASSWORD.into()),
            )
            .image("team/app", "1", &img),
        );
        let name = format!("{}/team/app:1", reg.host);
        Fixture {
            reg,
            name,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        let p = self.dir.path().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        p
    }

    fn out(&self) -> String {
        self.dir.path().join("oci").display().to_string()
    }

    fn pull(&self, extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        let out = self.out();
        let mut args = vec!["pull", &self.name, "-o", &out, "-q"];
        args.extend(extra);
        regpull_env(&args, None, env)
    }

    fn auth_json(&self, env: &[(&str, &str)]) -> serde_json::Value {
        let o = regpull_env(&["auth", "--json", &self.name], None, env);
        let mut events = support::json_doc::validate(&text(&o.stdout));
        assert_eq!(events.len(), 1, "{}{}", text(&o.stdout), text(&o.stderr));
        events.remove(0)
    }

    /// Writes `json` as `config.json` in a fresh directory; returns the directory.
    fn docker_config(&self, json: &str) -> String {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = self.path(&format!("docker{n}/config.json"));
        fs::write(&dir, json).unwrap();
        dir.parent().unwrap().display().to_string()
    }

    /// A `docker-credential-NAME` script in its own PATH directory.
    fn helper(&self, name: &str, script: &str) -> String {
        let path = self.path(&format!("bin/docker-credential-{name}"));
        fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        format!(
            "{}:{}",
            path.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }
}

fn basic_b64() -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
}

fn assert_ok(o: &std::process::Output) {
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(!text(&o.stderr).contains(PASSWORD) && !text(&o.stdout).contains(PASSWORD));
}
