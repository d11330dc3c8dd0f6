//! `inspect` and `verify --repair` against the real CNCF Distribution registry,
//! and `verify`/`list` while a pull writes into the same layout.

mod concurrent_pull;
mod inspect;
mod repair;
mod repair_retries;

use crate::support;

use std::process::Output;

use support::image::{self, TestImage};

fn seed_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn run(args: &[&str]) -> Output {
    support::regpull_command(args).output().unwrap()
}

fn app_image() -> TestImage {
    image::image(
        "linux",
        "amd64",
        &[
            &[("etc/hello", b"hello from layer one\n")],
            &[("usr/share/big", &image::noise(3, 200_000))],
        ],
    )
}
