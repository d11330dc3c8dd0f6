//! Every `ParseNormalizedNamed` vector of distribution/reference, through `ImageRef::parse`.

use regpull::reference::ImageRef;
use serde_json::Value;

fn field<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

#[test]
fn every_parse_normalized_named_record_matches() {
    let data: Vec<Value> = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/references.json"
    )))
    .expect("references.json parses");
    let records: Vec<&Value> = data
        .iter()
        .filter(|r| field(r, "api") == Some("ParseNormalizedNamed"))
        .collect();
    let mut failures = Vec::new();
    let mut failed_records = 0;
    for r in &records {
        let before = failures.len();
        let input = field(r, "input").unwrap();
        let valid = r["valid"].as_bool().unwrap();
        match (ImageRef::parse(input), valid) {
            (Ok(got), true) => {
                let checks = [
                    ("domain", Some(got.domain().to_string())),
                    ("path", Some(got.repository().to_string())),
                    ("tag", got.tag().map(str::to_string)),
                    ("digest", got.digest().map(|d| d.to_string())),
                    ("name", Some(got.name())),
                    ("string", Some(got.to_string())),
                    ("normalized", Some(got.normalized())),
                    ("familiar", Some(got.familiar())),
                    ("familiar_name", Some(got.familiar_name())),
                ];
                for (k, actual) in checks {
                    let expected = field(r, k).map(str::to_string);
                    if expected != actual {
                        failures.push(format!(
                            "{input:?}: {k} expected {expected:?}, got {actual:?}"
                        ));
                    }
                }
            }
            (Err(e), false) => {
                let kind = field(r, "error_kind").unwrap();
                if e.kind() != kind {
                    failures.push(format!(
                        "{input:?}: error kind expected {kind}, got {} ({e})",
                        e.kind()
                    ));
                }
                if !e.to_string().contains(&format!("{input:?}")) {
                    failures.push(format!("{input:?}: error does not quote the input: {e}"));
                }
            }
            (Ok(got), false) => {
                failures.push(format!("{input:?}: expected an error, parsed as {got}"))
            }
            (Err(e), true) => failures.push(format!("{input:?}: expected valid, got {e}")),
        }
        if failures.len() > before {
            failed_records += 1;
        }
    }
    println!(
        "reference conformance: {} of {} ParseNormalizedNamed records pass",
        records.len() - failed_records,
        records.len()
    );
    assert_eq!(records.len(), 343, "the vector file changed");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
