//! Full-jitter exponential backoff (as centrifuge-js does): the n-th retry waits a uniformly random
//! time in [0, min(cap, base·2ⁿ)], which spreads a crowd of reconnecting clients (no thundering herd).

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        // First retry within 0.5 s, never more than 5 s apart (contract §1.1).
        Backoff { base: Duration::from_millis(500), cap: Duration::from_secs(5) }
    }
}

impl Backoff {
    /// Delay before retry number `attempt` (0-based); `unit` is a random number in [0, 1).
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let ceiling = self.base.saturating_mul(1u32 << attempt.min(16)).min(self.cap);
        ceiling.mul_f64(unit.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_retry_within_base_and_capped() {
        let b = Backoff::default();
        assert!(b.delay(0, 0.999) <= Duration::from_millis(500));
        assert_eq!(b.delay(0, 0.0), Duration::ZERO);
        assert!(b.delay(1, 0.999) <= Duration::from_secs(1));
        assert!(b.delay(30, 0.999) <= Duration::from_secs(5));
        assert!(b.delay(30, 0.999) > Duration::from_millis(4900));
    }
}
