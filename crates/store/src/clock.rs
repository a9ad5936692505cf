//! Time stamps of the audit log: RFC 3339 in UTC, from a clock the caller may replace.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where the store reads the time of a write (default: [`SystemTime::now`]). Tests pass a
/// fixed or stepping clock.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(SystemTime::now)
}

/// `2025-07-01T09:30:12.123456Z`: RFC 3339, UTC, microseconds. Times before 1970 are
/// written as 1970-01-01T00:00:00.000000Z (a ledger written before the epoch is a broken clock).
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since.as_secs();
    let micros = since.subsec_micros();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// (year, month, day) of a count of days since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_in_utc_with_microseconds() {
        let t = |secs: u64, micros: u64| {
            rfc3339(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros))
        };
        assert_eq!(t(0, 0), "1970-01-01T00:00:00.000000Z");
        // 2025-07-01T09:30:12Z = 1751362212
        assert_eq!(t(1_751_362_212, 123_456), "2025-07-01T09:30:12.123456Z");
        // 2024-02-29T23:59:59Z = 1709251199 (a leap day)
        assert_eq!(t(1_709_251_199, 999_999), "2024-02-29T23:59:59.999999Z");
        // 2000-03-01T00:00:00Z = 951868800
        assert_eq!(t(951_868_800, 0), "2000-03-01T00:00:00.000000Z");
    }
}
