//! The one-way arrows: each top-level module of src/ imports only what the
//! table `MAY_IMPORT` allows, read from every `crate::`, `regpull::` and
//! module-escaping `super::` path.

use std::fs;

use super::rust_tokens::{code_only, tokens};
use super::{relative, rust_files, src};

/// Which top-level module may import which: the one-way arrows of DESIGN.md and
/// docs/architecture.md. A module may always use itself. An entry `a::b` allows
/// that submodule of `a` only.
const MAY_IMPORT: &[(&str, &[&str])] = &[
    // Pure types: only each other.
    ("reference", &["digest", "platform", "secret"]),
    ("digest", &["reference", "platform", "secret"]),
    ("platform", &["reference", "digest", "secret"]),
    ("secret", &["reference", "digest", "platform"]),
    // A leaf every module's errors name their class with.
    ("error_class", &[]),
    // Credentials, never HTTP.
    (
        "auth",
        &["reference", "digest", "platform", "secret", "error_class"],
    ),
    // HTTP: may ask auth for credentials; never layout.
    (
        "registry",
        &[
            "reference",
            "digest",
            "platform",
            "secret",
            "error_class",
            "auth",
        ],
    ),
    // The filesystem store; never registry.
    (
        "layout",
        &["reference", "digest", "platform", "secret", "error_class"],
    ),
    // Where to fetch from: configuration files parsed into sources; no HTTP.
    (
        "hosts",
        &["reference", "digest", "platform", "secret", "error_class"],
    ),
    // The only module that joins registry and layout.
    (
        "pull",
        &[
            "reference",
            "digest",
            "platform",
            "secret",
            "error_class",
            "auth",
            "registry",
            "layout",
            "hosts",
        ],
    ),
    // Layout to registry, the way pull joins them the other way.
    (
        "push",
        &[
            "reference",
            "digest",
            "platform",
            "secret",
            "error_class",
            "auth",
            "registry",
            "layout",
        ],
    ),
    (
        "unpack",
        &[
            "reference",
            "digest",
            "platform",
            "secret",
            "error_class",
            "layout",
        ],
    ),
    // Reads images through pull's local reader (intended: one way to read a stored
    // image); never the rest of pull, never registry.
    (
        "export",
        &[
            "reference",
            "digest",
            "platform",
            "secret",
            "error_class",
            "layout",
            "unpack",
            "pull::inspect",
        ],
    ),
    // The library's top error gathers every module's.
    ("error", LIBRARY),
    // The crate's table of contents (`pub mod`, `pub use`).
    ("lib", LIBRARY),
    // The binary: cli sits above everything; main only starts it.
    ("cli", BINARY),
    ("main", &["cli"]),
];

const LIBRARY: &[&str] = &[
    "reference",
    "digest",
    "platform",
    "secret",
    "error_class",
    "auth",
    "registry",
    "layout",
    "hosts",
    "pull",
    "push",
    "unpack",
    "export",
    "error",
];

const BINARY: &[&str] = &[
    "reference",
    "digest",
    "platform",
    "secret",
    "error_class",
    "auth",
    "registry",
    "layout",
    "hosts",
    "pull",
    "push",
    "unpack",
    "export",
    "error",
    "cli",
];

#[test]
fn modules_import_only_what_the_table_allows() {
    let mut wrong = Vec::new();
    for file in rust_files(&src()) {
        let text = fs::read_to_string(&file).unwrap();
        wrong.extend(imports_against_the_table(&relative(&file), &text));
    }
    assert!(
        wrong.is_empty(),
        "imports against the table:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_import_check_reports_arrows_against_the_table() {
    let check = |path: &str, text: &str| imports_against_the_table(path, text);
    let found = check(
        "layout/gc.rs",
        "use std::fs;\nuse crate::registry::Registry;\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("layout/gc.rs:2: layout -> registry"),
        "{found:?}"
    );
    // Groups, expressions, re-exported names and `super::` out of the module.
    let text = "use crate::{digest::Digest, pull::PullError};\n\
                fn f() { crate::registry::ping(); let _: crate::Layout; }\n\
                use super::super::super::pull::probe;\n";
    let found = check("unpack/a/b.rs", text);
    for arrow in [
        "unpack/a/b.rs:1: unpack -> pull",
        "unpack/a/b.rs:2: unpack -> registry",
        "unpack/a/b.rs:3: unpack -> pull",
    ] {
        assert!(
            found.iter().any(|f| f.starts_with(arrow)),
            "{arrow}: {found:?}"
        );
    }
    assert_eq!(found.len(), 3, "crate::Layout is layout's: {found:?}");
    // export may read through pull::inspect, and nothing else of pull.
    assert!(check("export/image.rs", "use crate::pull::inspect::local_image;").is_empty());
    assert_eq!(
        check("export/image.rs", "use crate::pull::PullError;").len(),
        1
    );
    // Not arrows: comments, strings, `super` inside an inline module, own module.
    let quiet = "// use crate::registry::X;\n/* crate::registry */ const S: &str = \"crate::registry::X\";\n\
                 mod tests { use super::*; }\nuse crate::layout::gc;\nuse super::BLOBS_DIR;\n";
    assert_eq!(check("layout/x.rs", quiet), Vec::<String>::new());
    // A module missing from the table is named, so the table grows with the code.
    assert!(check("sync/mod.rs", "")[0].contains("not in the table"));
    // push joins layout and registry on its own, never through pull.
    assert!(check("push/x.rs", "use crate::pull::PullError;")[0].contains("push -> pull"));
    // hosts is pure: it may not speak HTTP; pull may read it.
    let http = check("hosts/x.rs", "use crate::registry::Registry;");
    assert!(http[0].contains("hosts -> registry"), "{http:?}");
    assert!(check("pull/x.rs", "use crate::hosts::Source;").is_empty());
}

/// Every import in `text` (the file at `path`, relative to src/) that the table
/// does not allow, as `path:line: from -> to (the path)`.
fn imports_against_the_table(path: &str, text: &str) -> Vec<String> {
    let (from, depth) = module_of(path);
    let Some(allowed) = allowed_for(&from) else {
        return vec![format!(
            "{path}: module `{from}` is not in the table MAY_IMPORT"
        )];
    };
    let binary = from == "cli" || from == "main";
    let mut wrong = Vec::new();
    for (line, root, segments) in crate_paths(text, depth) {
        // `crate::` in the binary is the binary (cli); `regpull::` is the library.
        let mut target = segments.clone();
        let library = root == "regpull" || !binary;
        if library && let Some(module) = reexported(&target[0]) {
            target.splice(0..1, module);
        }
        if target[0] == from || allowed.iter().any(|a| covers(a, &target)) {
            continue;
        }
        let known = LIBRARY.contains(&target[0].as_str()) || target[0] == "cli";
        let why = if known {
            ""
        } else {
            " (no such module in the table)"
        };
        wrong.push(format!(
            "{path}:{line}: {from} -> {} ({root}::{}){why}",
            target[0],
            segments.join("::")
        ));
    }
    wrong
}

fn allowed_for(module: &str) -> Option<&'static [&'static str]> {
    MAY_IMPORT
        .iter()
        .find(|(m, _)| *m == module)
        .map(|(_, a)| *a)
}

/// Does the table entry `entry` (`pull` or `pull::inspect`) allow `target`?
fn covers(entry: &str, target: &[String]) -> bool {
    let entry: Vec<&str> = entry.split("::").collect();
    target.len() >= entry.len() && entry.iter().zip(target).all(|(e, t)| e == t)
}

/// The top-level module a file belongs to, and how deep its own module is
/// (`lib.rs` 0, `digest.rs` and `pull/mod.rs` 1, `pull/inspect/local.rs` 3).
fn module_of(path: &str) -> (String, usize) {
    let mut parts: Vec<&str> = path.trim_end_matches(".rs").split('/').collect();
    if parts.last() == Some(&"mod") {
        parts.pop();
    }
    match parts[0] {
        "lib" | "main" => (parts[0].to_string(), 0),
        top => (top.to_string(), parts.len()),
    }
}

/// Names lib.rs re-exports (`pub use layout::Layout;`), as module paths.
fn reexported(name: &str) -> Option<Vec<String>> {
    let lib = fs::read_to_string(src().join("lib.rs")).unwrap();
    lib.lines()
        .filter_map(|l| l.trim().strip_prefix("pub use ")?.strip_suffix(';'))
        .flat_map(use_tree_paths)
        .find(|p| p.last().map(String::as_str) == Some(name))
        .map(|mut p| {
            p.pop();
            p
        })
}

/// Every path that starts at a crate root, as `(line, root, segments)`:
/// `crate::` and `regpull::` anywhere (imports and expressions), and
/// `super::` chains that climb out of the file's top-level module.
fn crate_paths(text: &str, depth: usize) -> Vec<(usize, String, Vec<String>)> {
    let tokens = tokens(&code_only(text));
    let mut found = Vec::new();
    // One entry per open brace: does it open an inline `mod x { ... }`?
    let mut braces: Vec<bool> = Vec::new();
    for (i, (line, tok)) in tokens.iter().enumerate() {
        let before = |n: usize| i.checked_sub(n).map(|j| tokens[j].1.as_str());
        match tok.as_str() {
            "{" => braces.push(before(2) == Some("mod")),
            "}" => {
                braces.pop();
            }
            "crate" | "regpull" | "super"
                if !matches!(before(1), Some("::" | "$"))
                    && tokens.get(i + 1).is_some_and(|t| t.1 == "::") =>
            {
                let mut at = i;
                let mut climbs = 0;
                while tok == "super" && tokens.get(at).is_some_and(|t| t.1 == "super") {
                    climbs += 1;
                    at += 2;
                }
                if tok != "super" {
                    at += 2;
                }
                let inline = braces.iter().filter(|m| **m).count();
                if tok == "super" && climbs < depth + inline {
                    continue; // still inside the file's top-level module
                }
                let root = if tok == "regpull" { "regpull" } else { "crate" };
                for segments in use_tree(&tokens, &mut at) {
                    found.push((*line, root.to_string(), segments));
                }
            }
            _ => {}
        }
    }
    found
}

/// The paths a use tree names: `a::{b, c::d}` is `a::b` and `a::c::d`. For an
/// expression (`a::b::f(x)`) it reads up to where the path ends.
fn use_tree(tokens: &[(usize, String)], at: &mut usize) -> Vec<Vec<String>> {
    let Some((_, tok)) = tokens.get(*at) else {
        return Vec::new();
    };
    *at += 1;
    if tok == "{" {
        let mut all = Vec::new();
        while tokens.get(*at).is_some_and(|t| t.1 != "}") {
            all.extend(use_tree(tokens, at));
            if tokens.get(*at).is_some_and(|t| t.1 == ",") {
                *at += 1;
            }
        }
        *at += 1;
        return all;
    }
    let head = vec![tok.clone()];
    if tokens.get(*at).is_none_or(|t| t.1 != "::") {
        return vec![head];
    }
    *at += 1;
    let rest = use_tree(tokens, at);
    if rest.is_empty() {
        return vec![head];
    }
    rest.into_iter()
        .map(|tail| head.iter().cloned().chain(tail).collect())
        .collect()
}

fn use_tree_paths(text: &str) -> Vec<Vec<String>> {
    use_tree(&tokens(text), &mut 0)
}
