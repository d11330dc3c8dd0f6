//! One TOML file read for its spans: every error and note says the file and
//! the line, because people edit registries.conf and hosts.toml by hand.
//!
//! The documents are read as `toml::de::DeTable` (values with byte spans, in
//! file order with the crate's `preserve_order`) rather than deserialized into
//! structs: serde would drop unknown fields silently or reject them, and
//! regpull wants to keep going and say where each ignored field is.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::HostsError;

/// A TOML value with its byte range in the file.
pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// A file's path and text, kept together so spans can become line numbers.
pub(crate) struct TomlFile {
    pub path: PathBuf,
    text: String,
}

impl TomlFile {
    pub fn new(path: impl Into<PathBuf>, text: String) -> Self {
        TomlFile {
            path: path.into(),
            text,
        }
    }

    /// Reads `path`; `Ok(None)` when it does not exist (callers decide
    /// whether that is fine).
    pub fn read_if_exists(path: &Path) -> Result<Option<Self>, HostsError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(TomlFile::new(path, text))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(HostsError::read(path, e)),
        }
    }

    /// The document, or the parser's complaint at its line.
    pub fn parse(&self) -> Result<DeTable<'_>, HostsError> {
        DeTable::parse(&self.text)
            .map(Spanned::into_inner)
            .map_err(|e| HostsError::Syntax {
                path: self.path.clone(),
                line: e.span().map_or(1, |s| self.line(&s)),
                message: e.message().trim().to_string(),
            })
    }

    /// The 1-based line a span starts on.
    pub fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        1 + self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
    }

    /// `path:line`, the way messages and `Source::origin` name a spot.
    pub fn at(&self, span: &Range<usize>) -> String {
        format!("{}:{}", self.path.display(), self.line(span))
    }

    pub fn invalid(&self, span: &Range<usize>, message: impl Into<String>) -> HostsError {
        HostsError::Invalid {
            path: self.path.clone(),
            line: self.line(span),
            message: message.into(),
        }
    }

    /// The fields of `table` that regpull reads, by name; every other key
    /// becomes a note (`what` says where, as in "[[registry]]").
    pub fn fields<'t, 'i>(
        &self,
        table: &'t DeTable<'i>,
        known: &[&str],
        what: &str,
        notes: &mut Vec<String>,
    ) -> Fields<'t, 'i> {
        let mut found = Vec::new();
        for (key, value) in table {
            let name: &str = key.get_ref();
            if known.contains(&name) {
                found.push((name.to_string(), value));
            } else {
                notes.push(format!(
                    "{}: unknown field `{name}` in {what} ignored",
                    self.at(&key.span())
                ));
            }
        }
        Fields { found }
    }

    pub fn string<'v>(&self, value: &'v Value<'_>, key: &str) -> Result<&'v str, HostsError> {
        value
            .get_ref()
            .as_str()
            .ok_or_else(|| self.wrong_type(value, key, "a string"))
    }

    pub fn boolean(&self, value: &Value<'_>, key: &str) -> Result<bool, HostsError> {
        value
            .get_ref()
            .as_bool()
            .ok_or_else(|| self.wrong_type(value, key, "true or false"))
    }

    /// A string or an array of strings (hosts.toml's `ca`), as a list.
    pub fn strings(&self, value: &Value<'_>, key: &str) -> Result<Vec<String>, HostsError> {
        let expected = "a string or a list of strings";
        match value.get_ref() {
            DeValue::String(s) => Ok(vec![s.to_string()]),
            DeValue::Array(items) => items
                .iter()
                .map(|item| {
                    item.get_ref()
                        .as_str()
                        .map(str::to_string)
                        .ok_or_else(|| self.wrong_type(item, key, expected))
                })
                .collect(),
            _ => Err(self.wrong_type(value, key, expected)),
        }
    }

    /// The tables of an array of tables (`[[registry]]`), or of a plain table.
    pub fn tables<'v, 'i>(
        &self,
        value: &'v Value<'i>,
        key: &str,
    ) -> Result<Vec<&'v Value<'i>>, HostsError> {
        let all: Vec<&Value<'i>> = match value.get_ref() {
            DeValue::Array(items) => items.iter().collect(),
            DeValue::Table(_) => vec![value],
            _ => return Err(self.wrong_type(value, key, "a table or an array of tables")),
        };
        match all.iter().find(|v| v.get_ref().as_table().is_none()) {
            Some(bad) => Err(self.wrong_type(bad, key, "a table")),
            None => Ok(all),
        }
    }

    fn wrong_type(&self, value: &Value<'_>, key: &str, expected: &str) -> HostsError {
        self.invalid(
            &value.span(),
            format!(
                "`{key}` must be {expected}, not {}",
                value.get_ref().type_str()
            ),
        )
    }
}

/// The known fields found in one table.
pub(crate) struct Fields<'t, 'i> {
    found: Vec<(String, &'t Value<'i>)>,
}

impl<'t, 'i> Fields<'t, 'i> {
    pub fn get(&self, name: &str) -> Option<&'t Value<'i>> {
        self.found.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> TomlFile {
        TomlFile::new("/etc/x.conf", text.to_string())
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let f = file("a = 1\n\nb = = 2\n");
        let e = f.parse().err().unwrap().to_string();
        assert!(e.starts_with("/etc/x.conf:3: not valid TOML"), "{e}");
    }

    #[test]
    fn unknown_fields_become_notes_with_their_line() {
        let f = file("known = true\n# c\nodd = 1\n");
        let doc = f.parse().unwrap();
        let mut notes = Vec::new();
        let fields = f.fields(&doc, &["known"], "the top level", &mut notes);
        assert!(f.boolean(fields.get("known").unwrap(), "known").unwrap());
        assert_eq!(
            notes,
            ["/etc/x.conf:3: unknown field `odd` in the top level ignored"]
        );
    }

    #[test]
    fn wrong_types_are_errors_at_the_value() {
        let f = file("\nca = [\"a\", 3]\nflag = \"yes\"\n");
        let doc = f.parse().unwrap();
        let e = f.strings(&doc["ca"], "ca").unwrap_err().to_string();
        assert_eq!(
            e,
            "/etc/x.conf:2: `ca` must be a string or a list of strings, not integer"
        );
        let e = f.boolean(&doc["flag"], "flag").unwrap_err().to_string();
        assert_eq!(e, "/etc/x.conf:3: `flag` must be true or false, not string");
    }
}
