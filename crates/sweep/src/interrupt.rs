//! SIGINT and SIGTERM: stop a sweep cleanly.
//!
//! The first SIGINT or SIGTERM a process receives while a sweep runs calls the sweep's hook (it
//! stops new jobs from starting and writes the manifest with `status = "interrupted"`, the jobs
//! that did not run and those abandoned while running), then the process exits with 128 +
//! signal number (130 for SIGINT, 143 for SIGTERM). Jobs still running are abandoned, not
//! waited for: a job may run for minutes, longer than Slurm's grace period between SIGTERM and
//! SIGKILL. Their partial output is never trusted (they have no completion record), and a
//! resumed run redoes them. Without a running sweep the process just exits with 128 + signal.
//!
//! The handler only records the signal (signal-hook's self-pipe); a watcher thread does the
//! work, so nothing but async-signal-safe code runs inside the handler.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

type Hook = Arc<dyn Fn(i32) + Send + Sync>;

static HOOKS: Mutex<Vec<(u64, Hook)>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static WATCHER: OnceLock<bool> = OnceLock::new();

/// Exit code for a process stopped by `signal`: 128 + its number.
pub(crate) fn exit_code(signal: i32) -> i32 {
    128 + signal
}

/// `SIGINT`, `SIGTERM` or `signal <n>`.
pub(crate) fn signal_name(signal: i32) -> String {
    match signal {
        signal_hook::consts::SIGINT => "SIGINT".to_owned(),
        signal_hook::consts::SIGTERM => "SIGTERM".to_owned(),
        n => format!("signal {n}"),
    }
}

/// Keeps a hook registered; dropping it unregisters the hook.
pub(crate) struct Registration(u64);

impl Drop for Registration {
    fn drop(&mut self) {
        HOOKS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(id, _)| *id != self.0);
    }
}

/// Calls `hook(signal)` when SIGINT or SIGTERM arrives (then the process exits), as long as the
/// returned registration lives.
pub(crate) fn on_interrupt(hook: impl Fn(i32) + Send + Sync + 'static) -> Registration {
    ensure_watcher();
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    HOOKS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((id, Arc::new(hook)));
    Registration(id)
}

fn ensure_watcher() {
    WATCHER.get_or_init(|| {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("cannot install SIGINT/SIGTERM handlers: {e}");
                return false;
            }
        };
        let spawned = std::thread::Builder::new()
            .name("sweep-signals".to_owned())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    let hooks: Vec<Hook> = HOOKS
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .iter()
                        .map(|(_, h)| Arc::clone(h))
                        .collect();
                    for hook in hooks {
                        hook(signal);
                    }
                    std::process::exit(exit_code(signal));
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("cannot start the signal watcher thread: {e}");
            return false;
        }
        true
    });
}
