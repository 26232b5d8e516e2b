//! In-memory rate limits: a fixed one-minute window per key.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Keys kept before old windows are swept.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Default)]
pub(crate) struct Limits {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Limits {
    /// Counts one attempt for `key`; `Err(wait)` when more than `limit` fell in the window.
    pub(crate) fn check(&self, key: &str, limit: u32) -> Result<(), Duration> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > limit {
            return Err(WINDOW
                .saturating_sub(now.duration_since(entry.0))
                .max(Duration::from_secs(1)));
        }
        Ok(())
    }
}
