//! The serde form of timestamps: RFC 3339 in UTC with exactly three fractional digits.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// Serializes `at` as RFC 3339 in UTC with milliseconds, for `#[serde(with = "omk_events::timestamp")]`.
pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// Deserializes an RFC 3339 timestamp with any offset into UTC.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
    parse(&text).map_err(serde::de::Error::custom)
}

/// Parses an RFC 3339 timestamp with any offset into UTC.
///
/// The form the log writes, `2026-11-21T20:00:07.123Z`, is read without the general parser.
pub fn parse(text: &str) -> Result<DateTime<Utc>, String> {
    parse_written(text)
        .or_else(|| DateTime::parse_from_rfc3339(text).ok().map(|at| at.with_timezone(&Utc)))
        .ok_or_else(|| {
            format!(
                "invalid timestamp {text:?}: expected RFC 3339, such as 2026-11-21T20:00:07.123Z"
            )
        })
}

/// Parses exactly `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn parse_written(text: &str) -> Option<DateTime<Utc>> {
    let bytes = text.as_bytes();
    if bytes.len() != 24 || bytes[23] != b'Z' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        bytes[range]
            .iter()
            .try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'.')];
    if separators.iter().any(|&(at, c)| bytes[at] != c) {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(
        i32::try_from(number(0..4)?).ok()?,
        number(5..7)?,
        number(8..10)?,
    )?;
    let time = chrono::NaiveTime::from_hms_milli_opt(
        number(11..13)?,
        number(14..16)?,
        number(17..19)?,
        number(20..23)?,
    )?;
    Some(date.and_time(time).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_form_and_any_rfc3339_parse_alike() {
        let written = parse("2026-11-21T20:00:07.123Z");
        let general =
            DateTime::parse_from_rfc3339("2026-11-21T20:00:07.123Z").map(|it| it.to_utc());
        assert_eq!(written.ok(), general.ok());
        assert_eq!(
            parse("2026-11-21T21:00:07.123+01:00").ok(),
            parse("2026-11-21T20:00:07.123Z").ok()
        );
        assert!(parse("2026-13-21T20:00:07.123Z").is_err());
        assert!(parse("2026-11-21T20:00:07.1x3Z").is_err());
        assert!(parse("yesterday").is_err());
    }
}
