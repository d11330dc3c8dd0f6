//! The real CNCF Distribution registry (`docker-registry serve CONFIG`), started on
//! a free loopback port in open, htpasswd-over-TLS or token mode, or (with
//! [`Distribution::start_with`] and `distribution_proxy.rs`) as a pull-through
//! cache.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::certs;
use super::require_tool;

pub enum Auth {
    Open,
    /// HTTP Basic against an htpasswd file.
    Htpasswd {
        user: String,
        password: String,
    },
    /// Bearer tokens from `realm`, signed by the key whose certificate is `cert`.
    Token {
        realm: String,
        cert: PathBuf,
    },
}

pub struct Distribution {
    /// `127.0.0.1:PORT`
    pub host: String,
    /// The CA that signed the registry's certificate, in TLS mode.
    pub ca: Option<PathBuf>,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Distribution {
    pub fn start(auth: Auth, tls: bool) -> Self {
        Self::start_with(auth, tls, "")
    }

    /// As [`Distribution::start`], with `extra` appended to the configuration
    /// (top-level YAML sections, e.g. `proxy:`).
    pub fn start_with(auth: Auth, tls: bool, extra: &str) -> Self {
        require_tool("docker-registry", "docker-registry");
        let dir = tempfile::tempdir().unwrap();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\n  formatter: text\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:0\n",
            dir.path().join("data").display()
        );
        let mut ca = None;
        if tls {
            let t = certs::generate(dir.path());
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                t.cert_pem.display(),
                t.key_pem.display()
            ));
            ca = Some(t.ca_pem);
        }
        match &auth {
            Auth::Open => {}
            Auth::Htpasswd { user, password } => {
                require_tool("htpasswd", "apache2-utils");
                let out = Command::new("htpasswd")
                    .args(["-Bbn", user, password])
                    .output()
                    .unwrap();
                assert!(out.status.success(), "htpasswd failed");
                let path = dir.path().join("htpasswd");
                fs::write(&path, out.stdout).unwrap();
                config.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: regpull-test\n    path: {}\n",
                    path.display()
                ));
            }
            Auth::Token { realm, cert } => {
                config.push_str(&format!(
                    "auth:\n  token:\n    realm: {realm}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                    super::token_server::SERVICE,
                    super::token_server::ISSUER,
                    cert.display()
                ));
            }
        }
        config.push_str(extra);
        let config_path = dir.path().join("config.yml");
        fs::write(&config_path, config).unwrap();
        let log_path = dir.path().join("registry.log");
        let log = fs::File::create(&log_path).unwrap();
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("docker-registry starts");
        let host = wait_for_listen(&mut child, &log_path);
        Distribution {
            host,
            ca,
            dir,
            child,
        }
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Where the registry keeps its content (the filesystem driver's root).
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// SIGKILLs the registry, as a node or a container dying would, and
    /// reaps it: nothing of it answers afterwards.
    pub fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

/// Reads the registry's own "listening on ADDR" line: the port is the kernel's choice.
fn wait_for_listen(child: &mut Child, log_path: &std::path::Path) -> String {
    let mut addr = None;
    super::wait_until("docker-registry to listen", Duration::from_secs(60), || {
        let log = fs::read_to_string(log_path).unwrap_or_default();
        addr = log
            .lines()
            .find_map(|l| l.split("listening on ").nth(1))
            .and_then(|rest| rest.split(['"', ',']).next())
            .map(|a| a.trim().to_string());
        if addr.is_none()
            && let Some(status) = child.try_wait().unwrap()
        {
            panic!("docker-registry exited ({status}) before listening:\n{log}");
        }
        addr.is_some()
    });
    addr.unwrap()
}

impl Drop for Distribution {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Distribution registry in token mode with its token server and signing key.
pub struct TokenRegistry {
    pub registry: Distribution,
    pub tokens: super::token_server::TokenServer,
    _keys: tempfile::TempDir,
}

impl TokenRegistry {
    /// Tokens go to `user` only when given, to anyone otherwise.
    pub async fn start(user: Option<(&str, &str)>) -> Self {
        let keys = tempfile::tempdir().unwrap();
        let (key_pem, cert_der, cert) = certs::signing_pair(keys.path());
        let tokens = super::token_server::TokenServer::start(&key_pem, cert_der, user).await;
        let registry = Distribution::start(
            Auth::Token {
                realm: tokens.realm.clone(),
                cert,
            },
            false,
        );
        TokenRegistry {
            registry,
            tokens,
            _keys: keys,
        }
    }
}
