//! The checkpoint restored ahead: while one thread detects the layout and reads the
//! files, another restores the build cache's longest checkpoint and loads its
//! foreign-key scope, to be used if the files show it is the state of their first
//! migrations, or told to stop when the check has no use for it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use rusqlite::{Connection, InterruptHandle};

use super::Options;
use super::cache;
use super::validate::connection;
use crate::foreign_keys::Scope;

/// A stored checkpoint restored ahead, with the foreign-key scope of its schema
/// loaded (which parses the schema): what a validation resuming from it starts
/// with, done on another thread while the files are read.
pub(super) struct Warm {
    pub(super) len: usize,
    pub(super) conn: Connection,
    pub(super) scope: Scope,
}

/// Whether the checkpoint restored ahead is still wanted, and how to interrupt the
/// SQLite statement it is in when it no longer is.
#[derive(Default)]
pub(super) struct Unneeded {
    said: AtomicBool,
    /// The restored connection's, while its schema is being read.
    interrupt: Mutex<Option<InterruptHandle>>,
}

impl Unneeded {
    /// Says that nothing will use the checkpoint: the thread stops before its next
    /// step, and the schema reading it is in stops at SQLite's next check for an
    /// interrupt (when an unchanged set needs no checkpoint, parsing the schema of
    /// 1,000 migrations kept the expansion waiting for up to 10 ms in one build).
    pub(super) fn say(&self) {
        self.said.store(true, Ordering::Relaxed);
        let interrupt = self
            .interrupt
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(handle) = interrupt.as_ref() {
            handle.interrupt();
        }
    }

    fn wanted(&self) -> bool {
        !self.said.load(Ordering::Relaxed)
    }
}

/// Restores `checkpoint` into a new validation connection and loads its scope;
/// `None` when that fails (the validation then does without), or when `unneeded`
/// says, before or during either step, that nothing will use it.
pub(super) fn warm(
    checkpoint: &cache::Checkpoint,
    options: &Options<'_>,
    unneeded: &Unneeded,
) -> Option<Warm> {
    let mut conn = connection(options).ok().filter(|_| unneeded.wanted())?;
    if !checkpoint.restore(&mut conn) {
        return None;
    }
    *unneeded
        .interrupt
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some(conn.get_interrupt_handle());
    // Checked after the handle is in place: said before, the thread stops here;
    // said after, the interrupt reaches the schema reading.
    let scope = unneeded.wanted().then(|| Scope::load(&conn));
    unneeded
        .interrupt
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    Some(Warm {
        len: checkpoint.len,
        conn,
        scope: scope?.ok()?,
    })
}

/// A checkpoint being restored on another thread ([`warm`]): joined when the
/// validation resumes from it; told to stop when the validation finds it has no use
/// for it (an unchanged folder, no checkpoint to resume from), so that the check
/// does not wait for a restore and a schema it will not use.
pub(super) struct Ahead<'scope, 'env> {
    pub(super) thread: std::thread::ScopedJoinHandle<'scope, Option<Warm>>,
    pub(super) unneeded: &'scope Unneeded,
    /// Where a thread is started to wait for it when it is told to stop.
    pub(super) threads: &'scope std::thread::Scope<'scope, 'env>,
}

impl Ahead<'_, '_> {
    pub(super) fn join(self) -> Option<Warm> {
        self.thread.join().ok().flatten()
    }

    /// Tells the thread to stop, and leaves what it restored, if it finished, to be
    /// freed by another thread (closing a restored database and freeing its
    /// foreign-key map took 1.8 ms, unoptimised).
    pub(super) fn stop(self) {
        self.unneeded.say();
        let thread = self.thread;
        let _ = helper_thread().spawn_scoped(self.threads, move || drop(thread.join()));
    }
}

/// A thread of the build cache's work, named so in a profiler; starting it may fail,
/// and then the caller does without (or does the work itself).
pub(super) fn helper_thread() -> std::thread::Builder {
    std::thread::Builder::new().name("migrate-cache".to_owned())
}

/// Says [`Unneeded`] when dropped.
pub(super) struct StopOnReturn<'a>(pub(super) &'a Unneeded);

impl Drop for StopOnReturn<'_> {
    fn drop(&mut self) {
        self.0.say();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Said before it starts, the restore ahead does nothing.
    #[test]
    fn said_before_the_restore_stops_it() {
        let unneeded = Unneeded::default();
        unneeded.say();
        assert!(!unneeded.wanted());
        let checkpoint = cache::Checkpoint::empty_for_tests();
        assert!(warm(&checkpoint, &Options::default(), &unneeded).is_none());
    }

    /// Said while the restored connection runs a statement, the statement stops
    /// with SQLite's interrupt instead of running to its end.
    #[test]
    fn said_during_a_statement_interrupts_it() -> rusqlite::Result<()> {
        let unneeded = Unneeded::default();
        let conn = Connection::open_in_memory()?;
        *unneeded
            .interrupt
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(conn.get_interrupt_handle());
        let result = std::thread::scope(|threads| {
            let running = threads.spawn(move || {
                // Far longer than the test when interrupted: counting to 10^9.
                conn.query_row(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000) SELECT count(*) FROM n",
                    [],
                    |r| r.get::<_, i64>(0),
                )
            });
            while !running.is_finished() {
                std::thread::sleep(std::time::Duration::from_millis(20));
                unneeded.say();
            }
            running.join()
        });
        let Ok(result) = result else {
            panic!("the statement's thread panicked");
        };
        assert!(
            matches!(&result, Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::OperationInterrupted)),
            "{result:?}"
        );
        Ok(())
    }
}
