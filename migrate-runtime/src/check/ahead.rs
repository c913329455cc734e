//! The checkpoint restored ahead: while one thread detects the layout and reads the
//! files, another restores the build cache's longest checkpoint and loads its
//! foreign-key scope, to be used if the files show it is the state of their first
//! migrations, or told to stop when the check has no use for it.

use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::Connection;

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

/// Restores `checkpoint` into a new validation connection and loads its scope;
/// `None` when that fails (the validation then does without), or when `unneeded`
/// says, before either step, that nothing will use it.
pub(super) fn warm(
    checkpoint: &cache::Checkpoint,
    options: &Options<'_>,
    unneeded: &AtomicBool,
) -> Option<Warm> {
    let wanted = || !unneeded.load(Ordering::Relaxed);
    let mut conn = connection(options).ok().filter(|_| wanted())?;
    if !checkpoint.restore(&mut conn) || !wanted() {
        return None;
    }
    let scope = Scope::load(&conn).ok()?;
    Some(Warm {
        len: checkpoint.len,
        conn,
        scope,
    })
}

/// A checkpoint being restored on another thread ([`warm`]): joined when the
/// validation resumes from it; told to stop when the validation finds it has no use
/// for it (an unchanged folder, no checkpoint to resume from), so that the check
/// does not wait for a restore and a schema it will not use.
pub(super) struct Ahead<'scope, 'env> {
    pub(super) thread: std::thread::ScopedJoinHandle<'scope, Option<Warm>>,
    pub(super) unneeded: &'scope AtomicBool,
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
        self.unneeded.store(true, Ordering::Relaxed);
        let thread = self.thread;
        let _ = helper_thread().spawn_scoped(self.threads, move || drop(thread.join()));
    }
}

/// A thread of the build cache's work, named so in a profiler; starting it may fail,
/// and then the caller does without (or does the work itself).
pub(super) fn helper_thread() -> std::thread::Builder {
    std::thread::Builder::new().name("migrate-cache".to_owned())
}

/// Sets its flag when dropped.
pub(super) struct StopOnReturn<'a>(pub(super) &'a AtomicBool);

impl Drop for StopOnReturn<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
