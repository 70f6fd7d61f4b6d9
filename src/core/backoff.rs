//! Retry delays: the first retry after a loss is immediate (a short blip costs one round trip, not
//! a random wait), later ones use full-jitter exponential backoff (as centrifuge-js does): retry n
//! (n ≥ 1) waits a uniformly random time in [0, min(cap, base·2ⁿ⁻¹)], which spreads a crowd of
//! reconnecting clients (no thundering herd after the first try).

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        // Retries within 0.5 s at first, never more than 5 s apart (contract §1.1).
        Backoff { base: Duration::from_millis(500), cap: Duration::from_secs(5) }
    }
}

impl Backoff {
    /// Delay before retry number `attempt` (0-based); `unit` is a random number in [0, 1).
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        if attempt == 0 {
            return Duration::ZERO;
        }
        let ceiling = self.base.saturating_mul(1u32 << (attempt - 1).min(16)).min(self.cap);
        ceiling.mul_f64(unit.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_retry_immediate_then_jittered_and_capped() {
        let b = Backoff::default();
        assert_eq!(b.delay(0, 0.999), Duration::ZERO);
        assert!(b.delay(1, 0.999) <= Duration::from_millis(500));
        assert!(b.delay(1, 0.999) > Duration::from_millis(490));
        assert_eq!(b.delay(1, 0.0), Duration::ZERO);
        assert!(b.delay(2, 0.999) <= Duration::from_secs(1));
        assert!(b.delay(30, 0.999) <= Duration::from_secs(5));
        assert!(b.delay(30, 0.999) > Duration::from_millis(4900));
    }
}
