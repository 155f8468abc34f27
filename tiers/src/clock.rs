//! The one wall clock: nanoseconds since the Unix epoch, the unit of every Strata timestamp
//! (TTL expiry here, demo rows and Agent Memory times in the server).

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in nanoseconds since the epoch (0 if the system clock is before 1970; saturating in
/// 2262, where `i64` nanoseconds end).
pub fn now_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}
