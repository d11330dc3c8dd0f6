//! Which bytes a `Range` header asks for, as S3 reads it: one range
//! (`bytes=a-b`, `bytes=a-`, `bytes=-n`); anything else is ignored and the
//! whole object served, which RFC 9110 allows. The fake registry reads it the
//! same way: a client's ranges get the same answer from either server.

#[derive(Debug, PartialEq)]
pub enum Ranged {
    Whole,
    /// First and last byte, both included (as in `Content-Range`).
    Part(u64, u64),
    /// Starts at or past the end: 416.
    Unsatisfiable,
}

pub fn parse(header: Option<&str>, len: u64) -> Ranged {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ranged::Whole;
    };
    let Some((first, last)) = spec.split_once('-').filter(|_| !spec.contains(',')) else {
        return Ranged::Whole;
    };
    let number = |s: &str| s.trim().parse::<u64>().ok();
    match (first.trim().is_empty(), last.trim().is_empty()) {
        // The last n bytes.
        (true, false) => match number(last) {
            Some(0) => Ranged::Unsatisfiable,
            Some(_) if len == 0 => Ranged::Unsatisfiable,
            Some(n) => Ranged::Part(len.saturating_sub(n), len - 1),
            None => Ranged::Whole,
        },
        (false, true) => match number(first) {
            Some(a) if a >= len => Ranged::Unsatisfiable,
            Some(a) => Ranged::Part(a, len - 1),
            None => Ranged::Whole,
        },
        (false, false) => match (number(first), number(last)) {
            (Some(a), Some(b)) if b < a => Ranged::Whole,
            (Some(a), Some(_)) if a >= len => Ranged::Unsatisfiable,
            (Some(a), Some(b)) => Ranged::Part(a, b.min(len - 1)),
            _ => Ranged::Whole,
        },
        (true, true) => Ranged::Whole,
    }
}
