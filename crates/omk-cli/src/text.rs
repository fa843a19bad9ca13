//! Wording shared by the narration of a run and its result: counts with their nouns, and
//! durations.

/// Returns `count` and `noun`, plural when it is not one.
pub(crate) fn plural(count: u64, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

/// Returns `ms` as `12.3s`, `4m05s` or `1h30m`.
pub(crate) fn seconds(ms: u64) -> String {
    let whole = ms / 1000;
    if whole < 60 {
        #[expect(clippy::cast_precision_loss, reason = "under a minute of milliseconds")]
        let secs = ms as f64 / 1000.0;
        format!("{secs:.1}s")
    } else if whole < 3600 {
        format!("{}m{:02}s", whole / 60, whole % 60)
    } else {
        format!("{}h{:02}m", whole / 3600, whole % 3600 / 60)
    }
}
