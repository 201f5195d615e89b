//! The bytes of a run's input files (pattern files, annotation tables, disruption files, saved
//! networks), by path as written in the config.
//!
//! The harness (`elise-sweep`) reads every input file once, when a run is planned, and hands
//! the bytes to validation and to the jobs in an [`Inputs`] value; parsers take their bytes from
//! it instead of opening files, so a job never sees a file change under it and never reads a
//! path relative to the wrong working directory. This type does no I/O.

use std::collections::BTreeMap;
use std::sync::Arc;

/// Input files by path (the config value as written, e.g. `data/patterns/x.txt`) → bytes.
/// Cloning is cheap (the bytes are shared).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    files: BTreeMap<String, Arc<[u8]>>,
}

impl Inputs {
    /// No input files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the bytes of `path`.
    pub fn insert(&mut self, path: impl Into<String>, bytes: impl Into<Arc<[u8]>>) {
        self.files.insert(path.into(), bytes.into());
    }

    /// Builder form of [`Inputs::insert`].
    #[must_use]
    pub fn with(mut self, path: impl Into<String>, bytes: impl Into<Arc<[u8]>>) -> Self {
        self.insert(path, bytes);
        self
    }

    /// The bytes of `path`, if it is one of the inputs.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(|b| &b[..])
    }

    /// The shared bytes of `path`, if it is one of the inputs.
    pub fn shared(&self, path: &str) -> Option<Arc<[u8]>> {
        self.files.get(path).cloned()
    }

    /// The bytes of `path`, or the problem to report when it was not read: a bug in the
    /// experiment (a file its `input_files` does not declare), or a parser called outside the
    /// harness without the file.
    pub fn require(&self, path: &str) -> Result<&[u8], String> {
        self.get(path).ok_or_else(|| {
            format!(
                "cannot read: '{path}' is not among the run's input files (the harness reads \
                 every input file before the run; this one was not declared)"
            )
        })
    }

    /// (path, bytes) in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(p, b)| (p.as_str(), &b[..]))
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Paths and sizes, not the bytes.
impl std::fmt::Debug for Inputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.files
                    .iter()
                    .map(|(p, b)| (p, format!("{} bytes", b.len()))),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_by_path_as_written() {
        let inputs = Inputs::new()
            .with("data/x.txt", b"abc".to_vec())
            .with("./data/x.txt", b"other".to_vec());
        assert_eq!(inputs.get("data/x.txt"), Some(&b"abc"[..]));
        assert_eq!(inputs.get("./data/x.txt"), Some(&b"other"[..]));
        assert_eq!(inputs.len(), 2);
        let e = inputs.require("y.txt").unwrap_err();
        assert!(e.contains("'y.txt'") && e.contains("cannot read"), "{e}");
        assert_eq!(
            format!("{inputs:?}"),
            r#"{"./data/x.txt": "5 bytes", "data/x.txt": "3 bytes"}"#
        );
        assert!(Inputs::new().is_empty());
    }
}
