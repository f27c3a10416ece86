//! One retry policy for every HTTP client of seaworthy: the API server requests of the
//! live source and the sinks' deliveries.
//!
//! A retry waits what the server asked (`Retry-After`, in seconds or as an HTTP date,
//! capped), else an exponential backoff with jitter: half of each pause is fixed, half
//! random, so that many scanners retrying one overloaded server spread out instead of
//! arriving together.

use std::time::{Duration, SystemTime};

/// How long retries wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The pause after the first failure; doubled after each further one.
    pub first: Duration,
    /// The longest backoff pause.
    pub max: Duration,
    /// The longest wait honoured from a `Retry-After` header.
    pub max_retry_after: Duration,
}

impl Backoff {
    /// The wait before retry number `retry` (1 after the first failure). `jitter` in
    /// `[0, 1)` picks where in the pause's random half it ends; [`Backoff::wait`] draws it.
    pub fn wait_with(&self, retry: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        if let Some(asked) = retry_after {
            return asked.min(self.max_retry_after);
        }
        let doubled = self.first.saturating_mul(2_u32.saturating_pow(retry.saturating_sub(1)));
        let pause = doubled.min(self.max);
        pause / 2 + (pause / 2).mul_f64(jitter.clamp(0.0, 1.0))
    }

    /// [`Backoff::wait_with`] with a random jitter.
    pub fn wait(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        self.wait_with(retry, retry_after, fastrand::f64())
    }
}

/// A `Retry-After` header value (RFC 9110 §10.2.3): delay seconds, or an HTTP date,
/// as a wait from `now` (a date in the past is no wait). `None` when it is neither.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Backoff = Backoff {
        first: Duration::from_millis(200),
        max: Duration::from_secs(5),
        max_retry_after: Duration::from_secs(30),
    };

    #[test]
    fn retry_after_is_read_in_seconds_and_as_an_http_date() {
        let now = httpdate::parse_http_date("Tue, 01 Dec 2026 12:00:00 GMT").expect("a date");
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(retry_after("Tue, 01 Dec 2026 12:00:42 GMT", now), Some(Duration::from_secs(42)));
        assert_eq!(retry_after("Tue, 01 Dec 2026 11:59:00 GMT", now), Some(Duration::ZERO), "past: no wait");
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("-3", now), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_honours_the_server_within_a_cap() {
        // Half fixed, half jitter: 200 ms → [100, 200), 400 ms → [200, 400), …, capped at 5 s.
        assert_eq!(POLICY.wait_with(1, None, 0.0), Duration::from_millis(100));
        assert_eq!(POLICY.wait_with(1, None, 0.5), Duration::from_millis(150));
        assert_eq!(POLICY.wait_with(2, None, 0.0), Duration::from_millis(200));
        assert_eq!(POLICY.wait_with(20, None, 1.0), Duration::from_secs(5));
        for retry in 1..8 {
            let wait = POLICY.wait(retry, None);
            let pause = (POLICY.first * 2_u32.pow(retry - 1)).min(POLICY.max);
            assert!(wait >= pause / 2 && wait <= pause, "retry {retry}: {wait:?} within [{:?}, {pause:?}]", pause / 2);
        }
        assert_eq!(POLICY.wait_with(1, Some(Duration::from_secs(3)), 0.9), Duration::from_secs(3));
        assert_eq!(POLICY.wait_with(1, Some(Duration::from_secs(3600)), 0.9), Duration::from_secs(30));
    }
}
