//! Helpers for experiments' integration tests: run the CLI into a fresh temporary directory
//! that is removed when the handle is dropped (also when the test panics).

use crate::{Experiment, RunDir, RunSummary, run_cli};
use std::path::{Path, PathBuf};

/// A run directory under the system's temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempRun {
    path: PathBuf,
}

impl TempRun {
    /// A fresh, not yet existing directory named after `tag` and the process id.
    pub fn new(tag: &str) -> Self {
        let path = std::env::temp_dir().join(format!("elise-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        Self { path }
    }
    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn dir(&self) -> RunDir {
        RunDir::new(&self.path)
    }
}

impl Drop for TempRun {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Runs `exp-<name> ARGS --out <temp dir>` in-process and returns the summary and the directory.
///
/// # Panics
/// If the command line is rejected (a test bug).
pub fn run_in_temp_dir<E: Experiment>(tag: &str, args: &[&str]) -> (RunSummary, TempRun) {
    let run = TempRun::new(tag);
    let mut argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    argv.extend(["--out".to_owned(), run.path().display().to_string()]);
    let summary = run_cli::<E>(&argv).unwrap_or_else(|e| panic!("{args:?}: {e:#}"));
    (summary, run)
}
