//! The states a validation keeps as it goes: the build cache's checkpoints, and
//! copies in memory to start again from when a down script fails its proof.

use rusqlite::Connection;

use super::Options;
use super::cache::Cache;
use super::validate::connection;

/// The states a validation keeps: the build cache's checkpoints, captured for its
/// entry, and with lenient downs, copies in memory of the states before migrations
/// with a down script, so that when the proof of one fails, the validation starts
/// again without it from there (running that migration again) rather than from the
/// first migration: a set with ten failing down scripts was validated eleven times
/// over.
///
/// A copy costs time in proportion to the database, and the proofs almost always
/// pass, so one is taken only once the validation has run eight times as long as
/// the last copy took since the one before (or since it started): copies cost at
/// most an eighth of the validation, and a failing proof repeats at most eight
/// copies' worth of it. Which state is kept never changes the result: each is the
/// whole state after its first migrations, as a checkpoint of the build cache is.
pub(super) struct Kept<'a> {
    options: &'a Options<'a>,
    cache: Option<&'a Cache>,
    /// The checkpoints captured for the cache's entry: (migrations, image,
    /// [`may_break`](Self::may_break) then).
    pub(super) captured: Vec<(usize, Vec<u8>, bool)>,
    /// Whether a migration validated so far (or before the checkpoint it started
    /// from) may have broken the database's integrity: only then do the whole-set
    /// checks run `PRAGMA integrity_check` (see `integrity::may_break_integrity`).
    pub(super) may_break: bool,
    /// Whether copies are kept at all (with strict downs a failing proof ends the
    /// validation).
    copies: bool,
    /// The latest copy: the migrations it is after, and a connection holding it.
    latest: Option<(usize, Connection)>,
    since: std::time::Instant,
    /// How long the last copy took; a guess before the first.
    cost: std::time::Duration,
}

impl<'a> Kept<'a> {
    pub(super) fn new(options: &'a Options<'a>, cache: Option<&'a Cache>, copies: bool) -> Self {
        Self {
            options,
            cache,
            captured: Vec::new(),
            may_break: false,
            copies,
            latest: None,
            since: std::time::Instant::now(),
            cost: std::time::Duration::from_millis(2),
        }
    }

    /// Captures the image of `conn`, after its first `len` migrations, for the
    /// cache's entry.
    pub(super) fn capture(&mut self, len: usize, conn: &Connection) {
        if let Some(image) = self.cache.and_then(|cache| cache.capture(conn)) {
            self.captured.push((len, image, self.may_break));
        }
    }

    /// Keeps a copy of `conn`, after its first `len` migrations, if the validation
    /// has run long enough since the last one.
    pub(super) fn offer(&mut self, len: usize, conn: &Connection) {
        if !self.copies || self.since.elapsed() < self.cost * 8 {
            return;
        }
        let started = std::time::Instant::now();
        // Replaced, the older copy is no longer of use.
        self.latest = copy_of(conn, self.options).map(|copy| (len, copy));
        self.cost = started.elapsed();
        self.since = std::time::Instant::now();
    }

    /// The latest copy from before migration `index`, to validate again from.
    pub(super) fn take(&mut self, index: usize) -> Option<(usize, Connection)> {
        let latest = self.latest.take().filter(|(len, _)| *len <= index);
        self.since = std::time::Instant::now();
        latest
    }
}

/// A new validation connection ([`connection`]) holding a copy of `conn`'s main
/// database; `None` when it cannot be made (the validation then does without).
fn copy_of(conn: &Connection, options: &Options<'_>) -> Option<Connection> {
    let mut copy = connection(options).ok()?;
    let done = {
        let backup = rusqlite::backup::Backup::new(conn, &mut copy).ok()?;
        backup.step(-1).ok()?
    };
    (done == rusqlite::backup::StepResult::Done).then_some(copy)
}
