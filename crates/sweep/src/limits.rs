//! Memory: what the jobs that run at once need, against what this process may use.
//!
//! An experiment estimates one job's peak memory ([`crate::Experiment::memory_need`]); before
//! anything runs the harness adds up the largest `threads` of those (the jobs that can run at
//! once) and compares the sum with the least of: `MemAvailable` (`/proc/meminfo`), the
//! process's cgroup (v2 `memory.max` minus `memory.current`, or v1 `memory.limit_in_bytes`
//! minus `memory.usage_in_bytes`), and its address-space and data-segment limits (`ulimit -v`,
//! `ulimit -d`, from `/proc/self/limits`). Where none of these can be read nothing is checked.

use std::path::Path;

use crate::ConfigError;

/// One job's estimated peak memory and the config key that dominates it.
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryNeed {
    /// Bytes, about.
    pub bytes: f64,
    /// The dotted config key of the largest part (named in the error).
    pub key: String,
    /// What the estimate is made of, for the error (e.g. `63 neurons, 2500 steps per cycle`).
    pub detail: String,
}

/// Memory this process may still use, and where that bound comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryLimit {
    /// Bytes.
    pub bytes: f64,
    /// E.g. `MemAvailable in /proc/meminfo`.
    pub source: String,
}

fn read(path: &str) -> Option<String> {
    crate::store::read_small_text(Path::new(path)).ok()
}

/// `MemAvailable` of a `/proc/meminfo` text, in bytes.
pub(crate) fn mem_available(meminfo: &str) -> Option<f64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// The soft limit of `name` (e.g. `Max address space`) in a `/proc/self/limits` text, in
/// bytes; `None` when unlimited or absent.
pub(crate) fn rlimit(limits: &str, name: &str) -> Option<f64> {
    let line = limits.lines().find(|l| l.starts_with(name))?;
    let soft = line[name.len()..].split_whitespace().next()?;
    soft.parse::<f64>().ok()
}

/// What the process's cgroup still allows (v2, else v1), in bytes.
fn cgroup_headroom() -> Option<(f64, String)> {
    let own = read("/proc/self/cgroup")?;
    let num = |text: Option<String>| text?.trim().parse::<f64>().ok();
    for line in own.lines() {
        let mut fields = line.splitn(3, ':');
        let (id, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        let dir = |root: &str| format!("{root}{}", path.trim_end_matches('/'));
        if id == "0" && controllers.is_empty() {
            let d = dir("/sys/fs/cgroup");
            if let Some(max) = num(read(&format!("{d}/memory.max"))) {
                let used = num(read(&format!("{d}/memory.current"))).unwrap_or(0.0);
                return Some((max - used, format!("the cgroup's memory.max ({d})")));
            }
        } else if controllers.split(',').any(|c| c == "memory") {
            let d = dir("/sys/fs/cgroup/memory");
            if let Some(max) = num(read(&format!("{d}/memory.limit_in_bytes")))
                && max < 1e18
            {
                let used = num(read(&format!("{d}/memory.usage_in_bytes"))).unwrap_or(0.0);
                return Some((
                    max - used,
                    format!("the cgroup's memory.limit_in_bytes ({d})"),
                ));
            }
        }
    }
    None
}

/// The least of the bounds this process can read (see the module docs).
pub fn memory_limit() -> Option<MemoryLimit> {
    let mut bounds: Vec<(f64, String)> = Vec::new();
    if let Some(b) = read("/proc/meminfo").as_deref().and_then(mem_available) {
        bounds.push((b, "MemAvailable in /proc/meminfo".to_owned()));
    }
    if let Some(c) = cgroup_headroom() {
        bounds.push(c);
    }
    if let Some(limits) = read("/proc/self/limits") {
        for (name, flag) in [
            ("Max address space", "ulimit -v"),
            ("Max data size", "ulimit -d"),
        ] {
            if let Some(b) = rlimit(&limits, name) {
                bounds.push((b, format!("the process's {flag} limit")));
            }
        }
    }
    bounds
        .into_iter()
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(bytes, source)| MemoryLimit {
            bytes: bytes.max(0.0),
            source,
        })
}

fn gib(b: f64) -> f64 {
    b / f64::from(1u32 << 30)
}

/// Refuses a run whose `threads` largest jobs (those that may run at once) need more memory
/// than `limit`; the error names the key that dominates the largest job and how many threads
/// would fit.
pub fn check_memory(
    needs: &[MemoryNeed],
    threads: usize,
    limit: &MemoryLimit,
) -> Result<(), ConfigError> {
    let mut sorted: Vec<&MemoryNeed> = needs.iter().collect();
    sorted.sort_by(|a, b| b.bytes.total_cmp(&a.bytes));
    let at_once = threads.min(sorted.len());
    let Some(largest) = sorted.first() else {
        return Ok(());
    };
    let total: f64 = sorted.iter().take(at_once).map(|n| n.bytes).sum();
    if total <= limit.bytes {
        return Ok(());
    }
    let mut fit = 0;
    let mut sum = 0.0;
    for n in &sorted {
        sum += n.bytes;
        if sum > limit.bytes {
            break;
        }
        fit += 1;
    }
    let advice = if fit == 0 {
        format!("make {} smaller", largest.key)
    } else {
        format!(
            "run with --threads {fit} or less, or make {} smaller",
            largest.key
        )
    };
    Err(ConfigError::invalid(
        largest.key.clone(),
        format!(
            "{at_once} jobs at once (one per thread) would need about {:.1} GiB of memory (the largest job about {:.1} GiB: {}), more than the {:.1} GiB this process may use ({}); {advice}",
            gib(total),
            gib(largest.bytes),
            largest.detail,
            gib(limit.bytes),
            limit.source
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(gib: f64) -> MemoryNeed {
        MemoryNeed {
            bytes: gib * f64::from(1u32 << 30),
            key: "network.n_latent".to_owned(),
            detail: "test".to_owned(),
        }
    }

    #[test]
    fn parses_meminfo_and_limits() {
        let meminfo = "MemTotal:       24000000 kB\nMemAvailable:   2000 kB\n";
        assert_eq!(mem_available(meminfo), Some(2000.0 * 1024.0));
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max data size             unlimited            unlimited            bytes     \n\
                      Max address space         1073741824           unlimited            bytes     \n";
        assert_eq!(rlimit(limits, "Max address space"), Some(1073741824.0));
        assert_eq!(rlimit(limits, "Max data size"), None);
    }

    #[test]
    fn counts_the_jobs_that_run_at_once() {
        let limit = MemoryLimit {
            bytes: 10.0 * f64::from(1u32 << 30),
            source: "test".to_owned(),
        };
        let needs = vec![need(3.0); 8];
        assert!(check_memory(&needs, 3, &limit).is_ok());
        let e = check_memory(&needs, 4, &limit).unwrap_err().to_string();
        assert!(e.contains("network.n_latent"), "{e}");
        assert!(e.contains("4 jobs at once"), "{e}");
        assert!(e.contains("--threads 3"), "{e}");
        // Fewer jobs than threads: only the jobs count.
        assert!(check_memory(&needs[..3], 64, &limit).is_ok());
        let e = check_memory(&[need(11.0)], 1, &limit)
            .unwrap_err()
            .to_string();
        assert!(e.contains("make network.n_latent smaller"), "{e}");
    }
}
