//! The WWW-Authenticate vectors: well-formed headers parse to the expected
//! challenges; malformed ones give an error or the lenient result, never a panic.

use std::collections::BTreeMap;

use regpull::registry::challenge::{Challenge, parse};
use serde_json::Value;

fn expected(v: &Value) -> Vec<Challenge> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| Challenge {
            scheme: c["scheme"].as_str().unwrap().to_string(),
            params: c["params"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect::<BTreeMap<_, _>>(),
            token68: c.get("token68").and_then(Value::as_str).map(str::to_string),
        })
        .collect()
}

#[test]
fn every_challenge_record() {
    let data: Vec<Value> = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/challenges.json"
    )))
    .unwrap();
    let mut failures = Vec::new();
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for r in &data {
        let input = r["input"].as_str().unwrap();
        let category = r["category"].as_str().unwrap();
        let parsed = parse(input);
        let ok = if category == "malformed" {
            match (&parsed.error, r.get("lenient_expected")) {
                (Some(_), _) => true,
                (None, Some(l)) if !l.is_null() => parsed.challenges == expected(l),
                (None, _) => true,
            }
        } else {
            parsed.error.is_none() && parsed.challenges == expected(&r["expected"])
        };
        let entry = counts.entry(category.to_string()).or_default();
        entry.1 += 1;
        if ok {
            entry.0 += 1;
        } else {
            failures.push(format!("[{category}] {input:?}: got {parsed:?}"));
        }
    }
    for (cat, (pass, total)) in &counts {
        println!("challenge conformance {cat}: {pass} of {total} pass");
    }
    assert_eq!(data.len(), 67);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn no_prefix_of_any_record_panics() {
    let data: Vec<Value> = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/challenges.json"
    )))
    .unwrap();
    let mut parsed = 0;
    for r in &data {
        let input = r["input"].as_str().unwrap();
        for (i, _) in input.char_indices() {
            let p = parse(&input[..i]);
            parsed += 1;
            // Whatever it says, every challenge it returns has a scheme.
            assert!(
                p.challenges.iter().all(|c| !c.scheme.is_empty()),
                "{:?}",
                &input[..i]
            );
        }
    }
    assert!(parsed > 3000);
}
