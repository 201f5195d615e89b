//! Sharding: which jobs of a sweep this process runs (`--shard K/N`), and how many threads it
//! uses. Neither changes any job's seed or rows: a job is the same whichever shard or thread runs
//! it.

use crate::config::ConfigError;

/// Shard `index` of `count`: the jobs whose index `i` satisfies `i % count == index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// This shard, `0 <= index < count`.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// Whether job `job_index` belongs to this shard.
    pub fn contains(&self, job_index: usize) -> bool {
        job_index % self.count == self.index
    }

    /// `K/N`.
    pub fn text(&self) -> String {
        format!("{}/{}", self.index, self.count)
    }

    /// The manifest of this shard: `manifest-shard-K-of-N.toml`.
    pub fn manifest_name(&self) -> String {
        format!("manifest-shard-{}-of-{}.toml", self.index, self.count)
    }
}

/// Parses `--shard K/N`. `K` may be `slurm`: then `K = SLURM_ARRAY_TASK_ID - base`, where
/// `base` is `--array-base B` when given (the generated scripts always give it, so a task
/// re-submitted on its own, e.g. `sbatch --array=2 array.sh`, still computes shard 2) and
/// `SLURM_ARRAY_TASK_MIN` otherwise (right only when the whole array is submitted at once).
/// `env` looks up environment variables (`std::env::var` in the binary).
pub fn parse_shard(
    spec: &str,
    array_base: Option<usize>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Shard, ConfigError> {
    let usage = |msg: String| ConfigError::Usage(format!("--shard {spec}: {msg}"));
    let (k, n) = spec
        .split_once('/')
        .ok_or_else(|| usage("expected K/N, e.g. 0/4, or slurm/N".to_owned()))?;
    let count: usize = n
        .trim()
        .parse()
        .map_err(|_| usage(format!("'{n}' is not a number of shards")))?;
    if count == 0 {
        return Err(usage("the number of shards must be at least 1".to_owned()));
    }
    let index = if k.trim() == "slurm" {
        let var = |name: &str| -> Result<usize, ConfigError> {
            let v = env(name).ok_or_else(|| {
                usage(format!(
                    "{name} is not set (slurm/N works only inside a Slurm job array task)"
                ))
            })?;
            v.trim()
                .parse()
                .map_err(|_| usage(format!("{name}={v} is not a number")))
        };
        let task = var("SLURM_ARRAY_TASK_ID")?;
        let base = match array_base {
            Some(b) => b,
            None => var("SLURM_ARRAY_TASK_MIN")?,
        };
        task.checked_sub(base).ok_or_else(|| {
            usage(format!(
                "array task {task} is below the array's first index {base}"
            ))
        })?
    } else {
        if array_base.is_some() {
            return Err(ConfigError::Usage(
                "--array-base applies only to --shard slurm/N".to_owned(),
            ));
        }
        k.trim()
            .parse()
            .map_err(|_| usage(format!("'{k}' is not a shard index (or 'slurm')")))?
    };
    if index >= count {
        return Err(usage(format!(
            "shard {index} does not exist: shards are 0..{count} (0-based)"
        )));
    }
    Ok(Shard { index, count })
}

/// Worker threads: `--threads N`, else `SLURM_CPUS_PER_TASK` (what a Slurm task was given),
/// else all cores.
pub fn resolve_threads(
    flag: Option<usize>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<usize, ConfigError> {
    match flag {
        Some(0) => Err(ConfigError::Usage(
            "--threads 0: need at least 1 thread".to_owned(),
        )),
        Some(n) if n > MAX_THREADS => Err(ConfigError::Usage(format!(
            "--threads {n}: at most {MAX_THREADS} (one job runs per thread; this machine has {} cores)",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        ))),
        Some(n) => Ok(n),
        None => {
            if let Some(v) = env("SLURM_CPUS_PER_TASK") {
                match v.trim().parse::<usize>() {
                    Ok(n) if n > 0 && n <= MAX_THREADS => return Ok(n),
                    _ => tracing::warn!(
                        "ignoring SLURM_CPUS_PER_TASK={v} (not a number in 1..={MAX_THREADS})"
                    ),
                }
            }
            Ok(std::thread::available_parallelism().map_or(1, |n| n.get()))
        }
    }
}

/// Most worker threads a sweep starts (a job per thread; more would only exhaust the process's
/// thread and memory limits).
pub const MAX_THREADS: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn explicit_shards() {
        let s = parse_shard("2/4", None, env(&[])).unwrap();
        assert_eq!(s, Shard { index: 2, count: 4 });
        assert!(s.contains(2) && s.contains(6) && !s.contains(3));
        assert_eq!(s.manifest_name(), "manifest-shard-2-of-4.toml");
        for bad in ["4/4", "1/0", "x/2", "2", "1/y"] {
            let e = parse_shard(bad, None, env(&[])).unwrap_err().to_string();
            assert!(e.starts_with(&format!("--shard {bad}: ")), "{e}");
        }
        assert!(parse_shard("1/4", Some(0), env(&[])).is_err());
    }

    #[test]
    fn slurm_shards_use_the_base_written_in_the_script() {
        // The whole array 3..=6 submitted: task 5 is shard 2, with or without a base.
        let full = [("SLURM_ARRAY_TASK_ID", "5"), ("SLURM_ARRAY_TASK_MIN", "3")];
        assert_eq!(parse_shard("slurm/4", None, env(&full)).unwrap().index, 2);
        assert_eq!(
            parse_shard("slurm/4", Some(3), env(&full)).unwrap().index,
            2
        );
        // Task 5 re-submitted alone (min = 5): only the fixed base gives shard 2.
        let alone = [("SLURM_ARRAY_TASK_ID", "5"), ("SLURM_ARRAY_TASK_MIN", "5")];
        assert_eq!(
            parse_shard("slurm/4", Some(3), env(&alone)).unwrap().index,
            2
        );
        assert_eq!(parse_shard("slurm/4", None, env(&alone)).unwrap().index, 0);
        let e = parse_shard("slurm/4", Some(0), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("SLURM_ARRAY_TASK_ID is not set"), "{e}");
        let e = parse_shard("slurm/2", Some(0), env(&full))
            .unwrap_err()
            .to_string();
        assert!(e.contains("shard 5 does not exist"), "{e}");
    }

    #[test]
    fn threads_from_flag_then_slurm_then_cores() {
        let slurm = [("SLURM_CPUS_PER_TASK", "3")];
        assert_eq!(resolve_threads(Some(2), env(&slurm)).unwrap(), 2);
        assert_eq!(resolve_threads(None, env(&slurm)).unwrap(), 3);
        assert!(resolve_threads(None, env(&[])).unwrap() >= 1);
        assert!(resolve_threads(Some(0), env(&[])).is_err());
    }
}
