//! docs/json.md as a schema: each `### \`type\`` heading and the field table
//! under it. Tests check every event regpull prints against it.

use std::collections::BTreeMap;

use serde_json::Value;

/// Field name -> the JSON types it may have, per event type.
pub type Schema = BTreeMap<String, BTreeMap<String, Vec<String>>>;

pub fn schema() -> Schema {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/json.md");
    let text = std::fs::read_to_string(path).expect("docs/json.md is readable");
    let mut schema = Schema::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("### `") {
            let name = h.trim_end().trim_end_matches('`').to_string();
            schema.insert(name.clone(), BTreeMap::new());
            current = Some(name);
            continue;
        }
        if line.starts_with("## ") {
            current = None;
        }
        let Some(event) = &current else { continue };
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | `field` | type | meaning |
        if cells.len() >= 4 && cells[1].starts_with('`') {
            let field = cells[1].trim_matches('`').to_string();
            let types = cells[2]
                .split(" or ")
                .map(|t| t.trim().to_string())
                .collect();
            schema.get_mut(event).unwrap().insert(field, types);
        }
    }
    schema
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Parses stdout as JSON lines and checks each against the schema; returns the events.
pub fn validate(stdout: &str) -> Vec<Value> {
    let schema = schema();
    let mut events = Vec::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
        let ty = v["type"]
            .as_str()
            .unwrap_or_else(|| panic!("event without a string type: {line}"));
        let fields = schema.get(ty).unwrap_or_else(|| {
            panic!("event type {ty:?} is not documented in docs/json.md: {line}")
        });
        let obj = v.as_object().unwrap();
        for (name, value) in obj {
            let allowed = fields
                .get(name)
                .unwrap_or_else(|| panic!("field {name:?} of {ty:?} is not documented: {line}"));
            let actual = type_of(value);
            assert!(
                allowed
                    .iter()
                    .any(|t| t == actual || (t == "number" && actual == "integer")),
                "field {name:?} of {ty:?} is {actual}, documented as {allowed:?}: {line}"
            );
        }
        for name in fields.keys() {
            assert!(
                obj.contains_key(name),
                "{ty:?} lacks documented field {name:?}: {line}"
            );
        }
        events.push(v);
    }
    events
}

/// The events of one type.
pub fn of_type<'a>(events: &'a [Value], ty: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == ty).collect()
}
