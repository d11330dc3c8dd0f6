//! How many ranges of one blob to fetch at once. Not a fixed split: start
//! with one; while more connections pay off in proportion (a per-connection
//! cap, as CDNs have), double them; while they still help, add one; settle
//! as soon as an addition did not help, back at the count before it (the
//! link, the disk or the store's total is then the limit, and more
//! connections would only cost requests). Pure: the caller measures, over
//! a [`Window`] that counts what the host delivered to the whole pull, not the
//! blob's own share; this decides.

use std::time::Instant;

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

/// One window the pace is measured over. It closes once the blob's own
/// bytes fill as many pieces as it has ranges in flight; its throughput is
/// what the whole pull received from the host meanwhile, not the blob's own
/// share: a range that only took bandwidth from the pull's other blobs (or
/// got what a finished blob left) is no gain.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    opened: Instant,
    own: u64,
    host: u64,
}

impl Window {
    /// Opens at `opened`, with the blob's and the host's byte counts then.
    pub fn open(opened: Instant, own: u64, host: u64) -> Self {
        Window { opened, own, host }
    }

    /// Whether the blob received `ranges` pieces' worth since it opened.
    pub fn full(&self, own: u64, ranges: usize, piece: u64) -> bool {
        own - self.own >= ranges as u64 * piece
    }

    /// The host's throughput (bytes per second) from opening to `now`.
    pub fn rate(&self, now: Instant, host: u64) -> f64 {
        let seconds = now.duration_since(self.opened).as_secs_f64().max(1e-3);
        (host - self.host) as f64 / seconds
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
    fn a_window_measures_the_host_not_the_blob() {
        let t0 = Instant::now();
        let mib = 1u64 << 20;
        // One blob's range over a second: 8 MiB of the host's 32 MiB.
        let w = Window::open(t0, 0, 0);
        assert!(!w.full(4 * mib, 1, 8 * mib));
        assert!(w.full(8 * mib, 1, 8 * mib));
        let one = w.rate(t0 + Duration::from_secs(1), 32 * mib);
        // Two ranges: the blob gets 16 MiB, but only because another blob
        // got 8 MiB less; the host still delivered 32 MiB.
        let w = Window::open(t0, 8 * mib, 32 * mib);
        assert!(w.full(24 * mib, 2, 8 * mib));
        let two = w.rate(t0 + Duration::from_secs(1), 64 * mib);
        assert_eq!(one, two);
        let mut pace = Pace::new(8);
        pace.observe(one);
        pace.observe(two);
        assert_eq!((pace.target(), pace.exploring()), (1, false));
    }

    #[test]
    fn the_bound_is_never_passed() {
        assert_eq!(settle(1, |n| n as f64).0, 1);
        assert_eq!(settle(3, |n| n as f64 * 1e6).0, 3);
    }
}
