//! Keeps the module boundaries of docs/architecture.md from eroding: only the CLI
//! prints, exits or knows clap; pure modules do no I/O; files, the tests' too,
//! stay small; each top-level module imports only what the table `MAY_IMPORT`
//! allows (DESIGN.md's one-way arrows), read from `crate::`, `regpull::` and
//! escaping `super::` paths.

mod imports;
mod rust_tokens;

use std::fs;
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 400;

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn relative(p: &Path) -> String {
    p.strip_prefix(src()).unwrap().display().to_string()
}

#[test]
fn only_the_cli_prints_exits_or_parses_arguments() {
    let forbidden = [
        "println!",
        "eprintln!",
        "print!(",
        "eprint!(",
        "process::exit",
        "clap::",
        "indicatif",
        "std::env::var",
    ];
    for file in rust_files(&src()) {
        let rel = relative(&file);
        if rel.starts_with("cli/") || rel == "main.rs" {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap();
        for word in forbidden {
            assert!(!text.contains(word), "{rel} uses {word}; only src/cli/ may");
        }
    }
}

#[test]
fn pure_modules_do_no_io() {
    let pure = ["reference", "digest.rs", "platform", "secret.rs"];
    let io = [
        "std::fs",
        "std::net",
        "reqwest",
        "tokio",
        "crate::layout",
        "crate::registry",
    ];
    for file in rust_files(&src()) {
        let rel = relative(&file);
        if !pure.iter().any(|p| rel.starts_with(p)) || rel == "platform/host.rs" {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap();
        for word in io {
            assert!(
                !text.contains(word),
                "{rel} is a pure module but uses {word}"
            );
        }
    }
}

/// The tests too, and every file: a limit with exceptions erodes.
#[test]
fn no_source_file_is_over_the_size_limit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut over = Vec::new();
    for file in rust_files(&src())
        .into_iter()
        .chain(rust_files(&root.join("tests")))
    {
        let lines = fs::read_to_string(&file).unwrap().lines().count();
        if lines > MAX_LINES {
            let name = file.strip_prefix(root).unwrap().display();
            over.push(format!("{name} ({lines} lines)"));
        }
    }
    assert!(
        over.is_empty(),
        "split these files (limit {MAX_LINES} lines): {}",
        over.join(", ")
    );
}
