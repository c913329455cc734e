//! Copies of a database: the backup written before migrating, and the trial run of
//! the pending migrations on a copy of real data.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::{Applied, Error, Migrations, Result, Violation};

/// What [`Migrations::trial`] found on the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trial {
    /// The pending migrations, applied to the copy in order, each with its duration
    /// and the number of rows it changed.
    pub applied: Vec<Applied>,
    /// `PRAGMA integrity_check` on the migrated copy: empty when it says `ok`.
    pub integrity: Vec<String>,
    /// `PRAGMA foreign_key_check` on the migrated copy.
    pub violations: Vec<Violation>,
    /// How long copying the database took.
    pub copy_duration: Duration,
}

impl Trial {
    /// Whether the migrated copy passed both checks.
    pub fn is_ok(&self) -> bool {
        self.integrity.is_empty() && self.violations.is_empty()
    }

    /// Each pending migration the trial applied, with its schema changes classified
    /// for deploy safety (see [`Migration::changes`](crate::Migration::changes)):
    /// what a deploy of these migrations does to the code still running.
    pub fn changes(&self) -> Vec<(&'static crate::Migration, Vec<crate::changes::Change>)> {
        self.applied
            .iter()
            .map(|a| (a.migration, a.migration.changes()))
            .collect()
    }
}

/// The report: each migration applied to the copy with its time, rows changed and
/// classified schema changes, then the checks' results.
///
/// ```text
/// 002_drop_bio: 3 ms, 0 rows
///   line 1: drop-column users.bio (destructive)
/// integrity: ok; foreign keys: ok
/// ```
impl std::fmt::Display for Trial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (a, (_, changes)) in self.applied.iter().zip(self.changes()) {
            writeln!(
                f,
                "{}: {} ms, {} rows",
                a.migration,
                a.duration.as_millis(),
                a.rows_changed
            )?;
            for change in changes {
                writeln!(f, "  {change}")?;
            }
        }
        let integrity = if self.integrity.is_empty() {
            "ok".to_owned()
        } else {
            self.integrity.join("; ")
        };
        let violations = if self.violations.is_empty() {
            "ok".to_owned()
        } else {
            crate::foreign_keys::describe(&self.violations)
        };
        write!(f, "integrity: {integrity}; foreign keys: {violations}")
    }
}

impl Migrations {
    /// Applies the pending migrations to a copy of the database at `path`, and checks
    /// the result, leaving `path` untouched: the dress rehearsal to run against a
    /// copy of production data before a deploy.
    ///
    /// The database is copied with SQLite's online backup API (consistent even while
    /// an application writes to it) to a temporary file, which is deleted afterwards.
    /// The copy's connection enforces foreign keys, so a migration that leaves rows
    /// breaking one fails here as it would in an application that enforces them.
    ///
    /// It suits a `cargo test` (a `#[test]` function) against a fixture database:
    ///
    /// ```no_run
    /// # static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::Migrations::from_static(&[]);
    /// fn migrations_apply_to_a_copy_of_production_data() {
    ///     let trial = MIGRATIONS.trial("tests/fixtures/production-sample.db").unwrap();
    ///     assert!(trial.is_ok(), "{trial:?}");
    ///     for applied in &trial.applied {
    ///         println!("{}: {:?}, {} rows", applied.migration, applied.duration, applied.rows_changed);
    ///     }
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// What [`run`](Self::run) would return on that database (a failing migration, an
    /// edited one...), [`Error::NotADatabase`] and the like for `path`, and
    /// [`Error::Backup`] when the copy cannot be written.
    pub fn trial(&self, path: impl AsRef<Path>) -> Result<Trial> {
        self.trial_with(path, |_| Ok(()))
    }

    /// [`trial`](Self::trial), with the application's connection setup applied to the
    /// copy's connection before migrating: the functions and collations it registers,
    /// its pragmas. A set that declares `functions(…)` or `collations(…)` needs it,
    /// since [`run`](Self::run) refuses a connection without them.
    ///
    /// ```no_run
    /// # static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::Migrations::from_static(&[]);
    /// use rusqlite::functions::FunctionFlags;
    ///
    /// let trial = MIGRATIONS.trial_with("tests/fixtures/production-sample.db", |conn| {
    ///     conn.create_scalar_function("uuid_v7", 0, FunctionFlags::SQLITE_UTF8, |_| Ok("x".to_owned()))
    /// })?;
    /// assert!(trial.is_ok(), "{trial:?}");
    /// # Ok::<(), migrate_runtime::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`trial`](Self::trial); an error `setup` returns is [`Error::Sqlite`].
    pub fn trial_with(
        &self,
        path: impl AsRef<Path>,
        setup: impl FnOnce(&Connection) -> rusqlite::Result<()>,
    ) -> Result<Trial> {
        let source = Connection::open_with_flags(
            path.as_ref(),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| Error::Backup {
            path: path.as_ref().display().to_string(),
            message: e.to_string(),
        })?;
        let copy = TempCopy::new()?;
        let started = std::time::Instant::now();
        backup(&source, &copy.0)?;
        let copy_duration = started.elapsed();
        drop(source);

        let mut conn = Connection::open(&copy.0).map_err(|e| copy.error(&e))?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(|e| copy.error(&e))?;
        setup(&conn)?;
        let report = self.run(&mut conn).map_err(|mut e| {
            if let Error::Failed { on_copy, .. } = &mut e {
                *on_copy = true;
            }
            e
        })?;
        let integrity: Vec<String> = conn
            .prepare("PRAGMA integrity_check")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|e| Error::from_sqlite(e, &conn))?;
        let integrity = if integrity.first().is_some_and(|r: &String| r == "ok") {
            Vec::new()
        } else {
            integrity
        };
        let violations =
            crate::foreign_keys::check(&conn, None).map_err(|e| Error::from_sqlite(e, &conn))?;
        Ok(Trial {
            applied: report.applied,
            integrity,
            violations,
            copy_duration,
        })
    }
}

/// Writes a consistent copy of `conn`'s main database to `to`, which must not exist,
/// readable and writable by the owner only on Unix.
pub(crate) fn backup(conn: &Connection, to: &Path) -> Result<()> {
    let error = |message: String| Error::Backup {
        path: to.display().to_string(),
        message,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(to).map_err(|e| error(e.to_string()))?;
    let copied = (|| -> rusqlite::Result<()> {
        let mut target = Connection::open(to)?;
        let step = rusqlite::backup::Backup::new(conn, &mut target)?;
        step.run_to_completion(256, Duration::from_millis(5), None)
    })();
    copied.map_err(|e| {
        let _ = std::fs::remove_file(to);
        error(e.to_string())
    })
}

/// A temporary database file, removed (with its journal) when dropped.
struct TempCopy(PathBuf);

impl TempCopy {
    fn new() -> Result<Self> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "migrate-trial-{}-{}.db",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        // A file left by a process with the same id that died: it is ours to replace.
        let _ = std::fs::remove_file(&path);
        Ok(Self(path))
    }

    fn error(&self, e: &rusqlite::Error) -> Error {
        Error::Backup {
            path: self.0.display().to_string(),
            message: e.to_string(),
        }
    }
}

impl Drop for TempCopy {
    fn drop(&mut self) {
        for suffix in ["", "-journal", "-wal", "-shm", ".migrate-lock"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}
