//! containerd/platforms vectors (parse, normalize, match, order, index selection)
//! run through regpull's platform module, on the linux/amd64 host they were made on.

use regpull::platform::{MatchComparer, Platform, cpu_variant_from_arch, rank};
use serde_json::Value;

fn data() -> Value {
    serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/platforms.json"
    )))
    .expect("platforms.json parses")
}

fn vector_host() -> Platform {
    Platform::new("linux", "amd64", "")
}

fn spec(s: &str) -> Platform {
    Platform::parse_with_host(s, &vector_host()).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn from_json(v: &Value) -> Platform {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    Platform {
        os: s("os"),
        architecture: s("architecture"),
        variant: s("variant"),
        os_version: s("os_version"),
        os_features: v
            .get("os_features")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|f| f.as_str().unwrap().to_string()).collect())
            .unwrap_or_default(),
    }
}

fn comparer(kind: &str, host: &Platform) -> Option<MatchComparer> {
    match kind {
        "only" => Some(MatchComparer::only(host)),
        // `Ordered(p)` with one platform is the same comparer as `OnlyStrict(p)`.
        "only_strict" | "ordered" | "new_matcher" => Some(MatchComparer::only_strict(host)),
        "only_os" => Some(MatchComparer::only_os(host)),
        _ => None,
    }
}

/// Runs `check` over every record of a section; returns (passed, total) and fails
/// the test with every mismatch listed.
fn run(section: &str, check: impl Fn(&Value) -> Result<(), String>) {
    run_where(section, |_| true, check)
}

/// Like `run`, over the records that `keep` selects.
fn run_where(
    section: &str,
    keep: impl Fn(&Value) -> bool,
    check: impl Fn(&Value) -> Result<(), String>,
) {
    let d = data();
    let all = d[section]
        .as_array()
        .unwrap_or_else(|| panic!("section {section}"));
    let records: Vec<&Value> = all.iter().filter(|r| keep(r)).collect();
    let failures: Vec<String> = records.iter().filter_map(|r| check(r).err()).collect();
    println!(
        "platform conformance {section}: {} of {} pass",
        records.len() - failures.len(),
        records.len()
    );
    assert!(!records.is_empty());
    assert!(
        failures.is_empty(),
        "{section}: {} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn parse() {
    run("parse", |r| {
        let input = r["input"].as_str().unwrap();
        let got = Platform::parse_with_host(input, &vector_host());
        match (got, r["valid"].as_bool().unwrap()) {
            (Ok(p), true) => {
                let want = from_json(&r["platform"]);
                let checks = [
                    (p == want, format!("platform {p:?} != {want:?}")),
                    (
                        p.to_string() == r["format"].as_str().unwrap(),
                        format!("format {p}"),
                    ),
                    (
                        p.format_all() == r["format_all"].as_str().unwrap(),
                        format!("format_all {}", p.format_all()),
                    ),
                    (
                        p.normalize() == from_json(&r["normalized"]),
                        format!("normalized {:?}", p.normalize()),
                    ),
                ];
                match checks.into_iter().find(|(ok, _)| !ok) {
                    Some((_, why)) => Err(format!("{input:?}: {why}")),
                    None => Ok(()),
                }
            }
            (Err(e), false) => e
                .to_string()
                .contains(&format!("{input:?}"))
                .then_some(())
                .ok_or(format!("{input:?}: error must quote input: {e}")),
            (Ok(p), false) => Err(format!("{input:?}: expected an error, got {p:?}")),
            (Err(e), true) => Err(format!("{input:?}: expected valid, got {e}")),
        }
    });
}

#[test]
fn normalize() {
    run("normalize", |r| {
        let got = from_json(&r["input"]).normalize();
        let want = from_json(&r["expected"]);
        (got == want)
            .then_some(())
            .ok_or(format!("{}: got {got:?}, want {want:?}", r["input"]))
    });
}

#[test]
fn match_specifiers() {
    run("match", |r| {
        let (host, cand) = (
            r["host"].as_str().unwrap(),
            r["candidate"].as_str().unwrap(),
        );
        let m = comparer(r["matcher"].as_str().unwrap(), &spec(host)).expect("known matcher");
        let got = m.matches(&spec(cand));
        (got == r["match"].as_bool().unwrap())
            .then_some(())
            .ok_or(format!("{} {host} vs {cand}: got {got}", r["matcher"]))
    });
}

#[test]
fn match_structs() {
    run("match_struct", |r| {
        let (host, cand) = (from_json(&r["host"]), from_json(&r["candidate"]));
        let strict = MatchComparer::only_strict(&host).matches(&cand);
        let only = MatchComparer::only(&host).matches(&cand);
        let want = (
            r["match"].as_bool().unwrap(),
            r["only_match"].as_bool().unwrap(),
        );
        ((strict, only) == want)
            .then_some(())
            .ok_or(format!("{host:?} vs {cand:?}: got {:?}", (strict, only)))
    });
}

#[test]
fn order() {
    // `platforms.Any` (6 records) has no counterpart: regpull always has a preference.
    let offered = |r: &Value| comparer(r["matcher"].as_str().unwrap(), &vector_host()).is_some();
    let d = data();
    assert_eq!(
        d["order"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| !offered(r))
            .count(),
        6
    );
    run_where("order", offered, |r| {
        let host = spec(r["host"].as_str().unwrap());
        let m = comparer(r["matcher"].as_str().unwrap(), &host).unwrap();
        let parse_all = |k: &str| -> Vec<Platform> {
            r[k].as_array()
                .unwrap()
                .iter()
                .map(|p| spec(p.as_str().unwrap()))
                .collect()
        };
        let mut list = parse_all("platforms");
        list.sort_by(|a, b| m.compare(a, b));
        (list == parse_all("expected_order"))
            .then_some(())
            .ok_or(format!(
                "{} {}: got {:?}",
                r["matcher"],
                r["host"],
                list.iter().map(Platform::format_all).collect::<Vec<_>>()
            ))
    });
}

#[test]
fn index_selection_containerd() {
    run("index_selection_containerd", |r| {
        let host = spec(r["host"].as_str().unwrap());
        let entries: Vec<Option<Platform>> = r["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (!e.is_null()).then(|| from_json(e)))
            .collect();
        let got = rank(&entries, &MatchComparer::only(&host));
        let want: Vec<usize> = r["ranked_matching_indexes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_u64().unwrap() as usize)
            .collect();
        let selected = r["selected_index"].as_u64().map(|i| i as usize);
        (got == want && got.first().copied() == selected)
            .then_some(())
            .ok_or(format!(
                "{} {:?}: got {got:?}, want {want:?}",
                r["host"], r["manifest_file"]
            ))
    });
}

#[test]
fn cpu_variant() {
    run("cpu_variant_from_arch", |r| {
        let got = cpu_variant_from_arch(r["input"].as_str().unwrap()).ok();
        let want = r["expected"].as_str().map(str::to_string);
        (got == want)
            .then_some(())
            .ok_or(format!("{}: got {got:?}", r["input"]))
    });
}
