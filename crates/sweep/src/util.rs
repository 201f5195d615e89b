//! Small self-contained helpers: FNV-1a hashing, RFC 3339 time stamps, shell quoting, git state.

use anyhow::Context as _;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// 64-bit FNV-1a hash of `bytes`; stable across platforms and releases (names run directories).
/// The `fnv` crate's hasher fed the bytes as they are (no length prefix).
pub fn fnv1a_64(bytes: &[u8]) -> u64 {
    let mut h = fnv::FnvHasher::default();
    std::hash::Hasher::write(&mut h, bytes);
    std::hash::Hasher::finish(&h)
}

/// `t` as an RFC 3339 UTC time stamp with millisecond precision, e.g.
/// `2025-11-22T14:05:03.120Z`. Times before 1970 are clamped to the epoch.
pub fn rfc3339_utc(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let millis = d.subsec_millis();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Proleptic Gregorian (year, month, day) of the day `z` days after 1970-01-01
/// (H. Hinnant's civil-from-days algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `args` joined by spaces, each quoted for a POSIX shell when it needs to be.
pub(crate) fn shell_join(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The commit checked out in the current directory (`git rev-parse HEAD`), with `-dirty` appended
/// when `git status --porcelain` reports changes; `"unknown"` when git is unavailable.
pub(crate) fn git_commit() -> String {
    let run = |args: &[&str]| -> Option<String> {
        let out = Command::new("git").args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let Some(head) = run(&["rev-parse", "HEAD"]).filter(|h| !h.is_empty()) else {
        return "unknown".to_owned();
    };
    match run(&["status", "--porcelain"]) {
        Some(status) if !status.is_empty() => format!("{head}-dirty"),
        _ => head,
    }
}

/// A duration in seconds as a short human text: `41.2 s`, `3 min 05 s`, `2 h 04 min`.
pub(crate) fn human_duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "?".to_owned();
    }
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else if secs < 3600.0 {
        let s = secs.round() as u64;
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        let m = (secs / 60.0).round() as u64;
        format!("{} h {:02} min", m / 60, m % 60)
    }
}

/// Removes the regular files directly in `dir` whose names satisfy `remove` (a missing `dir`
/// or a file removed meanwhile by another process is fine).
pub(crate) fn remove_files_where(dir: &Path, remove: impl Fn(&str) -> bool) -> anyhow::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().is_ok_and(|t| t.is_file()) && remove(&name) {
            remove_if_exists(&entry.path())?;
        }
    }
    Ok(())
}

/// Removes `path`; a file that is not there is fine.
pub(crate) fn remove_if_exists(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn fnv_known_values() {
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn rfc3339_known_values() {
        assert_eq!(rfc3339_utc(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(951_782_400_123); // leap day 2000
        assert_eq!(rfc3339_utc(t), "2000-02-29T00:00:00.123Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_763_820_303);
        assert_eq!(rfc3339_utc(t), "2025-11-22T14:05:03.000Z");
        let t = UNIX_EPOCH + Duration::from_secs(4_107_542_399); // 2100-02-28 23:59:59
        assert_eq!(rfc3339_utc(t), "2100-02-28T23:59:59.000Z");
        let t = UNIX_EPOCH + Duration::from_secs(4_107_542_400);
        assert_eq!(rfc3339_utc(t), "2100-03-01T00:00:00.000Z");
    }

    #[test]
    fn shell_quoting() {
        let args = ["exp-x", "--set", "a.b=it's x", "--out", "r/d"].map(String::from);
        assert_eq!(shell_join(&args), r"exp-x --set 'a.b=it'\''s x' --out r/d");
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(41.23), "41.2 s");
        assert_eq!(human_duration(185.0), "3 min 05 s");
        assert_eq!(human_duration(7440.0), "2 h 04 min");
    }
}
