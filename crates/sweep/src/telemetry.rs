//! Logging setup: `tracing` to stderr, filtered by `RUST_LOG`, drawn around an active progress
//! bar so log lines do not tear it.

use std::io::{self, IsTerminal as _, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};

use indicatif::ProgressBar;

static ACTIVE_BAR: Mutex<Option<(u64, ProgressBar)>> = Mutex::new(None);
static NEXT_BAR_ID: AtomicU64 = AtomicU64::new(1);

/// Makes `bar` the bar that log lines suspend; returns its id for [`clear_active_bar`].
pub(crate) fn set_active_bar(bar: ProgressBar) -> u64 {
    let id = NEXT_BAR_ID.fetch_add(1, Ordering::Relaxed);
    *ACTIVE_BAR.lock().unwrap_or_else(|e| e.into_inner()) = Some((id, bar));
    id
}

/// Forgets the active bar if it is still the one with `id`.
pub(crate) fn clear_active_bar(id: u64) {
    let mut active = ACTIVE_BAR.lock().unwrap_or_else(|e| e.into_inner());
    if active.as_ref().is_some_and(|(a, _)| *a == id) {
        *active = None;
    }
}

/// Stderr, with an active progress bar hidden while a log line is written.
struct StderrAroundBar;

impl Write for StderrAroundBar {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let bar = ACTIVE_BAR
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|(_, b)| b.clone());
        match bar {
            Some(bar) => bar.suspend(|| io::stderr().write_all(buf))?,
            None => io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// Installs the global `tracing` subscriber: human-readable lines on stderr, filter from
/// `RUST_LOG` (default `info`), colours only when stderr is a terminal. Idempotent; does nothing
/// if another subscriber is already installed.
pub fn init_tracing() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(|| StderrAroundBar)
            .with_ansi(io::stderr().is_terminal())
            .try_init();
    });
}
