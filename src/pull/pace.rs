//! How many ranges of one blob to fetch at once. Not a fixed split: start
//! with one; while more connections pay off in proportion (a per-connection
//! cap, as CDNs have), double them; while they still help, add one; settle
//! as soon as an addition did not help, back at the count before it (the
//! link, the disk or the store's total is then the limit, and more
//! connections would only cost requests). Pure: the caller measures, this
//! decides.

/// Ranges a big blob starts with: one, so a server that one stream already
/// saturates (a registry on the same network) costs no extra requests.
pub const START: usize = 1;

/// An addition counts only if it raised throughput by at least this share;
/// smaller gains are noise.
const GAIN: f64 = 1.10;

/// The share of the ideal gain (throughput in proportion to connections)
/// that counts as "in proportion": then the count doubles.
const PROPORTIONAL: f64 = 0.75;

#[derive(Debug)]
pub struct Pace {
    target: usize,
    /// The count the best throughput was measured at.
    before: usize,
    max: usize,
    /// The best throughput seen (bytes per second).
    best: f64,
    settled: bool,
}

impl Pace {
    /// At most `max` at once (the registry host's connection bound).
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Pace {
            target: START.min(max),
            before: 0,
            max,
            best: 0.0,
            settled: max <= START,
        }
    }

    /// How many ranges to keep in flight now.
    pub fn target(&self) -> usize {
        self.target
    }

    /// Whether the count is still being explored: the caller measures a
    /// window at the current count and reports it to [`Pace::observe`].
    pub fn exploring(&self) -> bool {
        !self.settled
    }

    /// The throughput measured over a window with `target` ranges in flight.
    pub fn observe(&mut self, bytes_per_second: f64) {
        if self.settled {
            return;
        }
        let ratio = bytes_per_second / self.best;
        let ideal = self.target as f64 / self.before.max(1) as f64;
        if self.before == 0 || ratio >= 1.0 + PROPORTIONAL * (ideal - 1.0) {
            self.grow(bytes_per_second, self.target * 2);
        } else if ratio >= GAIN {
            self.grow(bytes_per_second, self.target + 1);
        } else {
            // The last addition did not pay for itself.
            self.target = self.before;
            self.settled = true;
        }
    }

    fn grow(&mut self, bytes_per_second: f64, to: usize) {
        self.best = bytes_per_second;
        self.before = self.target;
        if self.target >= self.max {
            self.settled = true;
        } else {
            self.target = to.min(self.max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds a throughput curve (bytes/s by connection count) until settled.
    fn settle(max: usize, curve: impl Fn(usize) -> f64) -> (usize, Vec<usize>) {
        let mut pace = Pace::new(max);
        let mut seen = vec![pace.target()];
        while pace.exploring() {
            pace.observe(curve(pace.target()));
            seen.push(pace.target());
        }
        (pace.target(), seen)
    }

    #[test]
    fn a_per_connection_cap_grows_to_the_host_bound() {
        // 40 MB/s per connection and a 10 Gbit/s link: every connection adds.
        let (target, seen) = settle(8, |n| (n as f64 * 40e6).min(1.25e9));
        assert_eq!(target, 8);
        assert_eq!(seen, [1, 2, 4, 8, 8]);
    }

    #[test]
    fn a_saturated_link_steps_back_to_the_last_count_that_helped() {
        // 40 MB/s per connection, 150 MB/s in all: beyond four, nothing.
        let (target, seen) = settle(8, |n| (n as f64 * 40e6).min(150e6));
        assert_eq!(target, 4);
        assert_eq!(seen, [1, 2, 4, 8, 4]);
    }

    #[test]
    fn gains_short_of_proportion_add_one_at_a_time() {
        // Each connection adds less than the one before: 100, 150, 180, 190.
        let rates = [0.0, 100e6, 150e6, 180e6, 190e6, 195e6, 196e6, 196e6, 196e6];
        let (target, seen) = settle(8, |n| rates[n]);
        // Two give 1.5x of one, short of proportion: one more at a time, and
        // back to three once the fourth adds under a tenth.
        assert_eq!(seen, [1, 2, 3, 4, 3]);
        assert_eq!(target, 3);
    }

    #[test]
    fn one_fast_stream_stays_at_the_start() {
        let (target, _) = settle(8, |_| 1e9);
        assert_eq!(target, START);
    }

    #[test]
    fn the_bound_is_never_passed() {
        assert_eq!(settle(1, |n| n as f64).0, 1);
        assert_eq!(settle(3, |n| n as f64 * 1e6).0, 3);
    }
}
