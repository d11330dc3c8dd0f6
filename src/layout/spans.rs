//! Which byte ranges of a blob are on disk: a set of disjoint, merged spans.
//! A blob fetched as parallel ranges is written out of order, so "how far did
//! we get" is no longer one number; it is this set.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spans {
    /// start -> end (exclusive); never empty, never touching or overlapping.
    by_start: BTreeMap<u64, u64>,
}

impl Spans {
    /// Adds `[start, end)`, merging it with the spans it touches.
    pub fn insert(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let (mut start, mut end) = (start, end);
        // The span that starts at or before `start` may reach into this one.
        if let Some((&s, &e)) = self.by_start.range(..=start).next_back()
            && e >= start
        {
            start = s;
            end = end.max(e);
        }
        let touching: Vec<(u64, u64)> = self
            .by_start
            .range(start..=end)
            .map(|(&s, &e)| (s, e))
            .collect();
        for (s, e) in touching {
            self.by_start.remove(&s);
            end = end.max(e);
        }
        self.by_start.insert(start, end);
    }

    /// Where the run of bytes from 0 ends: everything before it is on disk.
    pub fn prefix(&self) -> u64 {
        match self.by_start.first_key_value() {
            Some((&0, &end)) => end,
            _ => 0,
        }
    }

    /// Bytes covered.
    pub fn total(&self) -> u64 {
        self.by_start.iter().map(|(s, e)| e - s).sum()
    }

    /// The gaps in `[0, size)`, in order.
    pub fn missing(&self, size: u64) -> Vec<(u64, u64)> {
        let mut gaps = Vec::new();
        let mut at = 0;
        for (&s, &e) in &self.by_start {
            if s >= size {
                break;
            }
            if s > at {
                gaps.push((at, s));
            }
            at = at.max(e);
        }
        if at < size {
            gaps.push((at, size));
        }
        gaps
    }

    /// Only what lies inside `[0, limit)`.
    pub fn clamp(&mut self, limit: u64) {
        self.by_start.retain(|&s, _| s < limit);
        for e in self.by_start.values_mut() {
            *e = (*e).min(limit);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.by_start.iter().map(|(&s, &e)| (s, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(list: &[(u64, u64)]) -> Spans {
        let mut s = Spans::default();
        for &(a, b) in list {
            s.insert(a, b);
        }
        s
    }

    #[test]
    fn spans_merge_whatever_order_they_arrive_in() {
        let s = spans(&[(20, 30), (0, 10), (10, 20), (40, 50), (45, 60)]);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![(0, 30), (40, 60)]);
        assert_eq!(s.prefix(), 30);
        assert_eq!(s.total(), 50);
        assert_eq!(s.missing(70), vec![(30, 40), (60, 70)]);
        // A span that covers several at once swallows them.
        let s = spans(&[(5, 6), (8, 9), (2, 3), (0, 100)]);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![(0, 100)]);
        assert!(s.missing(100).is_empty());
    }

    #[test]
    fn without_byte_zero_there_is_no_prefix() {
        let s = spans(&[(1, 10)]);
        assert_eq!(s.prefix(), 0);
        assert_eq!(s.missing(10), vec![(0, 1)]);
        assert_eq!(Spans::default().missing(5), vec![(0, 5)]);
        assert_eq!(spans(&[(3, 3)]), Spans::default());
    }

    #[test]
    fn clamping_drops_what_lies_past_the_limit() {
        let mut s = spans(&[(0, 10), (20, 40), (50, 60)]);
        s.clamp(30);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![(0, 10), (20, 30)]);
    }
}
