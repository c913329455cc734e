//! What `migrate up` prints while it works: a line per migration applied, and a
//! progress line on stderr while one migration runs longer than two seconds, fed by
//! SQLite's progress handler (it counts virtual machine steps).

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use migrate_runtime::Event;
use rusqlite::Connection;

/// After how long a running migration gets progress lines.
pub const SLOW: Duration = Duration::from_secs(2);

/// The progress handler is called every this many VM steps.
const STEPS: i32 = 10_000;

/// State shared by the runner's hook and SQLite's progress handler.
#[derive(Debug)]
pub struct Progress {
    started: Instant,
    /// Milliseconds since `started` at which the current migration began.
    migration_start_ms: AtomicU64,
    /// VM steps counted in the current migration, in units of `STEPS`.
    ticks: AtomicU64,
    /// When the last progress line was printed, in ms since `started`.
    last_line_ms: AtomicU64,
    /// The current migration, as shown.
    current: Mutex<String>,
}

impl Progress {
    /// Installs the progress handler on `conn`.
    pub fn install(conn: &mut Connection) -> Arc<Self> {
        let progress = Arc::new(Self {
            started: Instant::now(),
            migration_start_ms: AtomicU64::new(u64::MAX),
            ticks: AtomicU64::new(0),
            last_line_ms: AtomicU64::new(0),
            current: Mutex::new(String::new()),
        });
        let handler = Arc::clone(&progress);
        // rusqlite 0.32 returns `()` here, later versions a `Result`: neither can fail
        // for an open connection.
        #[allow(clippy::let_unit_value, reason = "`()` with rusqlite before 0.40")]
        let _ = conn.progress_handler(STEPS, Some(move || handler.tick()));
        progress
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Called by SQLite every `STEPS` steps; never interrupts (returns `false`).
    fn tick(&self) -> bool {
        let ticks = self.ticks.fetch_add(1, Ordering::Relaxed) + 1;
        let start = self.migration_start_ms.load(Ordering::Relaxed);
        if start == u64::MAX {
            return false;
        }
        let now = self.now_ms();
        let running = now.saturating_sub(start);
        let slow_ms = u64::try_from(SLOW.as_millis()).unwrap_or(u64::MAX);
        if running > slow_ms
            && now.saturating_sub(self.last_line_ms.load(Ordering::Relaxed)) >= 1000
        {
            self.last_line_ms.store(now, Ordering::Relaxed);
            let name = self.current.lock().map(|n| n.clone()).unwrap_or_default();
            let steps = ticks.saturating_mul(u64::try_from(STEPS).unwrap_or(0));
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "  … {name}: running for {} s, {steps} SQLite steps",
                running / 1000
            );
        }
        false
    }

    /// The runner's hook: prints a line per migration applied.
    pub fn event(&self, event: Event<'_>) {
        match event {
            Event::Started(migration) => {
                if let Ok(mut current) = self.current.lock() {
                    *current = migration.to_string();
                }
                self.ticks.store(0, Ordering::Relaxed);
                self.migration_start_ms
                    .store(self.now_ms(), Ordering::Relaxed);
            }
            Event::Applied(applied) => {
                self.migration_start_ms.store(u64::MAX, Ordering::Relaxed);
                println!(
                    "applied {}  {}  ({} row(s) changed)",
                    applied.migration,
                    duration(applied.duration),
                    applied.rows_changed
                );
            }
            _ => {}
        }
    }
}

/// `12 ms`, `3.4 s`.
pub fn duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}
