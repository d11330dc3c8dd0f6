//! A runnable demo with no internet: a loopback CNCF Distribution registry with
//! token auth, a small multi-platform sample image pushed into it, and regpull
//! pulling it. Run it with `scripts/demo.sh`.

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::process::Command;

use support::distribution::TokenRegistry;
use support::image;
use support::push::{PushAuth, Pusher};

const USER: &str = "demo";
const PASSWORD: &str = "demo-password";

#[tokio::main]
async fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "demo-oci".to_string());
    let tr = TokenRegistry::start(Some((USER, PASSWORD))).await;
    let (reg, tokens) = (&tr.registry, &tr.tokens);
    println!(
        "registry  http://{}  (token auth, realm {})",
        reg.host, tokens.realm
    );

    let sample = image::multi_platform(false);
    let scope_token = tokens.mint("repository:demo/hello:pull,push");
    Pusher::new(
        &reg.host,
        None,
        PushAuth::Bearer(Box::new(move |_| scope_token.clone())),
    )
    .index("demo/hello", "1.0", &sample)
    .await;
    let name = format!("{}/demo/hello:1.0", reg.host);
    println!("pushed    {name} (linux/amd64, linux/arm64/v8, linux/arm/v7 + an attestation)\n");

    let regpull = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|examples| examples.parent())
        .map(|profile| profile.join("regpull"))
        .unwrap();
    let arm_out = format!("{out}-arm64");
    for (dir, extra) in [
        (&out, vec![]),
        (&arm_out, vec!["--platform", "linux/arm64"]),
    ] {
        println!(
            "$ echo *** | regpull pull {name} -o {dir} -u {USER} --password-stdin {}",
            extra.join(" ")
        );
        let mut cmd = Command::new(&regpull);
        cmd.args(["pull", &name, "-o", dir, "-u", USER, "--password-stdin"])
            .args(&extra)
            .stdin(std::process::Stdio::piped());
        let status = tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let mut child = cmd.spawn().expect("regpull runs");
            child
                .stdin
                .take()
                .unwrap()
                .write_all(PASSWORD.as_bytes())
                .unwrap();
            child.wait()
        })
        .await
        .unwrap()
        .unwrap();
        assert!(status.success(), "regpull failed");
    }
    println!(
        "\n{out}/index.json:\n{}",
        std::fs::read_to_string(format!("{out}/index.json")).unwrap()
    );
}
