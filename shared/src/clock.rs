//! Time helpers: the one RFC 3339 formatter (UTC, whole seconds, `Z`), and
//! the epoch-milliseconds instants the pacing lanes keep.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Now, as `2026-06-15T12:00:00Z`.
pub fn now_rfc3339() -> String {
    format_rfc3339(OffsetDateTime::now_utc())
}

/// Formats an instant as RFC 3339 in UTC with whole seconds and a `Z` suffix.
pub fn format_rfc3339(at: OffsetDateTime) -> String {
    let whole = at
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(at);
    whole
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

/// Now, as `2026-06-15T12:00:00.123Z` (sortable, for the audit trail).
pub fn now_rfc3339_millis() -> String {
    format_rfc3339_millis(OffsetDateTime::now_utc())
}

/// An instant as `2026-06-15T12:00:00.123Z`: UTC, always three fraction
/// digits, so such strings sort as the instants do.
pub fn format_rfc3339_millis(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{}.{:03}Z",
        format_rfc3339(utc).trim_end_matches('Z'),
        utc.millisecond()
    )
}

/// An epoch-milliseconds instant as [`format_rfc3339`] writes it.
pub fn format_epoch_ms(ms: i64) -> String {
    format_rfc3339(
        OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH),
    )
}

/// `YYYY-MM-DD`, the UTC day of an epoch-milliseconds instant.
pub fn utc_day(ms: i64) -> String {
    let date = OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Seconds since the Unix epoch.
pub fn now_epoch() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_seconds_utc_z() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_781_524_800_123_456_789).unwrap();
        assert_eq!(format_rfc3339(at), "2026-06-15T12:00:00Z");
        let offset = at.to_offset(time::UtcOffset::from_hms(-3, 0, 0).unwrap());
        assert_eq!(format_rfc3339(offset), "2026-06-15T12:00:00Z");
    }

    #[test]
    fn millis_form_sorts_like_time() {
        let a = OffsetDateTime::from_unix_timestamp_nanos(1_781_524_800_000_000_000).unwrap();
        let b = OffsetDateTime::from_unix_timestamp_nanos(1_781_524_800_123_000_000).unwrap();
        assert_eq!(format_rfc3339_millis(a), "2026-06-15T12:00:00.000Z");
        assert_eq!(format_rfc3339_millis(b), "2026-06-15T12:00:00.123Z");
        assert!(format_rfc3339_millis(a) < format_rfc3339_millis(b));
    }

    #[test]
    fn millis_form() {
        let s = now_rfc3339_millis();
        assert_eq!(s.len(), 24, "{s}");
        assert!(s.ends_with('Z') && s.as_bytes()[19] == b'.');
    }
}
