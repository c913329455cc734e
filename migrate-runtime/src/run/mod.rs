//! Applies migrations to a database and reports where it stands.
//!
//! One file per concern: `history` (the tracking table), `apply` (running one
//! migration), `status` (comparing a database with the set), `report` (what a run
//! returns); this file holds the runner's loop.

mod apply;
mod events;
mod history;
mod plan;
mod repair;
mod report;
mod rollback;
mod stale;
mod status;

use crate::backend::Database;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rusqlite::{Connection, MAIN_DB, Transaction, TransactionBehavior};

use self::apply::{apply, apply_without_transaction, failed, lock_file};
pub use self::events::Event;
use self::events::Hook;
pub(crate) use self::history::CREATE_TRACKING_TABLE;
pub(crate) use self::history::stored;
pub use self::history::{AppliedMigration, TRACKING_TABLE};
use self::history::{Tip, read_history, read_tip, record};
pub use self::repair::{Baselined, Repaired};
use self::report::parse_version;
pub use self::report::{Applied, Report, Warning};
use self::status::compare;
pub use self::status::{MigrationState, Status, StatusRow};
use crate::foreign_keys::{self, Scope};
use crate::rules::Settings;
use crate::{Error, Migration, Migrations, Result};

/// The busy timeout set on a connection that has none, so that processes starting
/// together wait for each other instead of failing.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Applies a [`Migrations`] set with options; from [`Migrations::runner`].
#[derive(Debug, Clone)]
pub struct Runner<'a> {
    migrations: &'a Migrations,
    allow_out_of_order: bool,
    allow_newer_database: bool,
    single_transaction: bool,
    backup_to: Option<std::path::PathBuf>,
    target: Option<crate::Version>,
    hook: Option<Hook<'a>>,
}

/// What a run knows between its transactions.
struct State {
    /// The tip as this run last saw or wrote it.
    known: Option<Tip>,
    /// The migrations still to apply, in order.
    pending: VecDeque<&'static Migration>,
    /// Foreign keys and triggers, when the connection enforces foreign keys.
    scope: Option<Scope>,
}

impl Migrations {
    /// Applies every pending migration, in version order, each in its own
    /// `BEGIN IMMEDIATE` transaction together with its row in `schema_migrations`.
    ///
    /// Several processes may call it at once on one database file: each migration is
    /// applied exactly once and all calls succeed. A connection without a busy timeout
    /// gets [`DEFAULT_BUSY_TIMEOUT`]. After each migration, `PRAGMA user_version` is set
    /// to its version when that fits in an `i32`.
    ///
    /// # Errors
    ///
    /// Before changing anything: [`Error::Modified`], [`Error::UnknownApplied`],
    /// [`Error::OutOfOrder`], [`Error::ForeignTrackingTable`], [`Error::NotADatabase`],
    /// [`Error::Corrupt`], [`Error::ReadOnly`]; on a first run that finds another tool's
    /// history ([`import`](crate::import)), [`Error::ImportUnknown`],
    /// [`Error::ImportUnfinished`], [`Error::ImportOutOfOrder`],
    /// [`Error::ImportSeveralTables`], [`Error::ImportUnreadable`]. While applying: [`Error::Failed`] (a
    /// statement failed) or [`Error::Locked`] (another connection held the database past
    /// the busy timeout); the migration in progress is then fully rolled back and earlier
    /// ones stay applied. On the lesson's table ([`adopt`](crate::adopt)),
    /// [`Error::AdoptMismatch`]. In a debug build, [`Error::Stale`] when a file was added
    /// to, removed from or changed in the folder the set was built from since the build
    /// (the crate's `build.rs` lacks `migrate::build::rerun_if_changed`).
    ///
    /// `db` is a `rusqlite::Connection`, or with the `remote` feature a
    /// `remote::Remote` libSQL/Turso primary (see [`Database`]).
    pub fn run<D: Database + ?Sized>(&self, db: &mut D) -> Result<Report> {
        // This function is compiled in the application's crate. A runner without
        // options holds nothing to free, so it is not dropped: dropping it after the
        // call would make the compiler generate, in every application, the code that
        // frees a `Report` or an `Error` should that drop panic.
        let runner = std::mem::ManuallyDrop::new(self.runner());
        db.apply_pending(&runner)
    }

    /// A runner with options, such as [`Runner::allow_out_of_order`].
    pub fn runner(&self) -> Runner<'_> {
        Runner {
            migrations: self,
            allow_out_of_order: false,
            allow_newer_database: false,
            single_transaction: false,
            backup_to: None,
            target: None,
            hook: None,
        }
    }

    /// Compares the database with the embedded migrations without changing anything.
    ///
    /// # Errors
    ///
    /// [`Error::NotADatabase`], [`Error::Corrupt`], [`Error::ForeignTrackingTable`] and
    /// other SQLite errors while reading `schema_migrations`.
    ///
    /// In a debug build, [`Error::Stale`] when the folder the set was built from has
    /// changed since (see [`Runner::run`]).
    pub fn status<D: Database + ?Sized>(&self, db: &D) -> Result<Status> {
        db.read_status(self)
    }

    /// [`status`](Self::status) from a history read by another backend.
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    pub(crate) fn status_from(&self, history: Vec<AppliedMigration>) -> Result<Status> {
        stale::check(self)?;
        Ok(compare(self, history))
    }

    /// [`status`](Self::status) on a local connection.
    pub(crate) fn status_local(&self, conn: &Connection) -> Result<Status> {
        stale::check(self)?;
        Ok(compare(self, read_history(conn)?))
    }
}

impl<'a> Runner<'a> {
    /// Starts against a database that has migrations applied that this binary does
    /// not contain (an older binary deployed again after a newer one ran, a
    /// rollback deploy), with a [`Warning::UnknownApplied`] naming them, instead of
    /// [`Error::UnknownApplied`]. An applied migration whose file was edited is still
    /// refused. Off by default.
    pub fn allow_newer_database(&mut self, allow: bool) -> &mut Self {
        self.allow_newer_database = allow;
        self
    }

    /// Applies the pending migrations up to and including `version` only.
    pub fn to(&mut self, version: crate::Version) -> &mut Self {
        self.target = Some(version);
        self
    }

    /// Calls `hook` when each migration starts and when it is applied (a tool's
    /// progress display). The same happenings are `log` events too.
    pub fn on_event(&mut self, hook: &'a (dyn Fn(Event<'_>) + 'a)) -> &mut Self {
        self.hook = Some(Hook(hook));
        self
    }

    /// Applies a pending migration even when a newer one is already applied
    /// (for example, merged late from a branch). Off by default.
    pub fn allow_out_of_order(&mut self, allow: bool) -> &mut Self {
        self.allow_out_of_order = allow;
        self
    }

    /// Applies all pending migrations in one transaction: either all of them are
    /// applied or, when one fails, none is. One commit (one `fsync`) instead of one per
    /// migration. Off by default.
    pub fn single_transaction(&mut self, single: bool) -> &mut Self {
        self.single_transaction = single;
        self
    }

    /// Before applying anything, and only when something is pending, writes a
    /// consistent copy of the database to `path` with SQLite's online backup API,
    /// readable by the owner only (on Unix), and names it in [`Report::backup`].
    /// `path` must not exist: an earlier backup is never overwritten.
    pub fn backup_to(&mut self, path: impl Into<std::path::PathBuf>) -> &mut Self {
        self.backup_to = Some(path.into());
        self
    }

    /// Applies every pending migration; see [`Migrations::run`].
    ///
    /// # Errors
    ///
    /// As [`Migrations::run`], and [`Error::Backup`] when the backup asked for with
    /// [`backup_to`](Self::backup_to) cannot be written (nothing is applied then).
    pub fn run<D: Database + ?Sized>(&self, db: &mut D) -> Result<Report> {
        db.apply_pending(self)
    }

    /// [`run`](Self::run) on a local connection.
    pub(crate) fn run_local(&self, conn: &Connection) -> Result<Report> {
        stale::check(self.migrations)?;
        let mut report = self.new_report();
        // The startup check: one row. Any error (no table yet, a busy database, another
        // tool's table) takes the slow path, which reports it properly.
        if self.is_up_to_date(conn) {
            events::warned(&report.warnings);
            return Ok(report);
        }
        let sqlite = |e| Error::from_sqlite(e, conn);
        default_busy_timeout(conn)?;
        report.adopted = crate::adopt::adopt(conn, self.migrations)?;
        report.imported = crate::import::import(conn, self.migrations, self.allow_out_of_order)?;

        // Without a lock first: on an up-to-date database, nothing is written.
        let history = read_history(conn)?;
        let mut state = State {
            known: history.last().map(Tip::of),
            pending: VecDeque::new(),
            scope: None,
        };
        state.pending = self.plan(history, &mut report)?;
        if state.pending.is_empty() {
            return Ok(report);
        }
        if conn.is_readonly(MAIN_DB).map_err(sqlite)? {
            return Err(Error::read_only(conn));
        }
        self.check_functions(conn)?;
        if let Some(path) = &self.backup_to {
            crate::trial::backup(conn, path)?;
            report.backup = Some(path.clone());
        }

        // SQLite's procedure for schema changes: enforcement off outside the
        // transactions (restored when `off` drops, on every path), checked before COMMIT.
        let off = foreign_keys::Off::new(conn).map_err(sqlite)?;
        if off.was_on {
            state.scope = Some(Scope::load(conn).map_err(sqlite)?);
        }
        let mut created = false;
        loop {
            let Some(&next) = state.pending.front() else {
                return Ok(report);
            };
            if !next.runs_in_transaction() {
                self.run_without_transaction(conn, &mut state, &mut report)?;
                continue;
            }
            let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
                .map_err(|e| Error::from_sqlite(e, conn))?;
            if !created {
                tx.execute_batch(CREATE_TRACKING_TABLE)
                    .map_err(|e| Error::from_sqlite(e, &tx))?;
                created = true;
            }
            // Under the lock, one row tells whether another process applied something
            // since the history was read; only then is the whole history read again.
            let mut tip = read_tip(&tx).map_err(|e| Error::from_sqlite(e, &tx))?;
            if tip != state.known {
                tip = self.reread(&tx, &mut state)?;
            }
            let first = report.applied.len();
            while let Some(&migration) = state.pending.front() {
                if !migration.runs_in_transaction() {
                    break;
                }
                events::started(self.hook, migration);
                let statements = crate::sql::statements(migration.sql());
                let saved =
                    Settings::save(&tx, &statements).map_err(|e| Error::from_sqlite(e, &tx))?;
                let (started, changes) = (Instant::now(), tx.total_changes());
                let result = apply(&tx, migration, &statements, state.scope.as_mut());
                saved.restore(&tx);
                result?;
                let (duration, rows_changed) = (started.elapsed(), tx.total_changes() - changes);
                tip = Some(
                    record(&tx, self.migrations, migration, tip.as_ref(), duration)
                        .map_err(|e| Error::from_sqlite(e, &tx))?,
                );
                state.pending.pop_front();
                events::applied(
                    self.hook,
                    &mut report,
                    Applied {
                        migration,
                        duration,
                        rows_changed,
                    },
                );
                if !self.single_transaction {
                    break;
                }
            }
            if report.applied.len() == first {
                tx.commit().map_err(|e| Error::from_sqlite(e, conn))?;
                continue;
            }
            // A deferred constraint can fail here; the transaction then rolls back on drop.
            tx.commit().map_err(|e| {
                let migration = report.applied[report.applied.len() - 1].migration;
                let last_line = migration.sql().lines().count().max(1);
                failed(conn, migration, "COMMIT", last_line, e)
            })?;
            state.known = tip;
        }
    }

    /// Reads the whole history again (another process changed it), verifies it, and
    /// returns the new tip.
    fn reread(&self, conn: &Connection, state: &mut State) -> Result<Option<Tip>> {
        let history = read_history(conn)?;
        let tip = history.last().map(Tip::of);
        let status = compare(self.migrations, history);
        self.verify(&status)?;
        state.pending = self.pending(status);
        state.known.clone_from(&tip);
        if let Some(scope) = state.scope.as_mut() {
            *scope = Scope::load(conn).map_err(|e| Error::from_sqlite(e, conn))?;
        }
        Ok(tip)
    }

    /// Applies the first pending migration, a `-- migrate:no-transaction` one: under the
    /// migration lock file, statement by statement, then its row in a transaction.
    fn run_without_transaction(
        &self,
        conn: &Connection,
        state: &mut State,
        report: &mut Report,
    ) -> Result<()> {
        let _lock = lock_file(conn)?;
        conn.execute_batch(CREATE_TRACKING_TABLE)
            .map_err(|e| Error::from_sqlite(e, conn))?;
        self.reread(conn, state)?;
        let Some(&migration) = state.pending.front() else {
            return Ok(());
        };
        if migration.runs_in_transaction() {
            return Ok(());
        }
        events::started(self.hook, migration);
        let statements = crate::sql::statements(migration.sql());
        let saved = Settings::save(conn, &statements).map_err(|e| Error::from_sqlite(e, conn))?;
        let (started, changes) = (Instant::now(), conn.total_changes());
        let result = apply_without_transaction(conn, migration, &statements, state.scope.as_mut());
        saved.restore(conn);
        result?;
        let (duration, rows_changed) = (started.elapsed(), conn.total_changes() - changes);
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
            .map_err(|e| Error::from_sqlite(e, conn))?;
        let tip = read_tip(&tx).map_err(|e| Error::from_sqlite(e, &tx))?;
        let tip = record(&tx, self.migrations, migration, tip.as_ref(), duration)
            .map_err(|e| Error::from_sqlite(e, &tx))?;
        tx.commit().map_err(|e| Error::from_sqlite(e, conn))?;
        state.known = Some(tip);
        state.pending.pop_front();
        events::applied(
            self.hook,
            report,
            Applied {
                migration,
                duration,
                rows_changed,
            },
        );
        Ok(())
    }

    /// Fails when a function declared with `functions(…)` is not registered on `conn`.
    fn check_functions(&self, conn: &Connection) -> Result<()> {
        for f in self.migrations.functions() {
            let arguments = vec!["NULL"; usize::try_from(f.arity).unwrap_or(0)].join(", ");
            let call = format!("SELECT \"{}\"({arguments})", f.name.replace('"', "\"\""));
            if let Err(e) = conn.prepare(&call) {
                return Err(Error::MissingFunction {
                    name: f.name.to_owned(),
                    arity: f.arity,
                    message: crate::exec::sqlite_message(&e).0,
                });
            }
        }
        let declared = self.migrations.collations();
        if !declared.is_empty() {
            let registered: Vec<String> = conn
                .prepare("SELECT name FROM pragma_collation_list")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            if let Some(missing) = declared
                .iter()
                .find(|c| !registered.iter().any(|r| r.eq_ignore_ascii_case(c)))
            {
                return Err(Error::MissingCollation {
                    name: (*missing).to_owned(),
                });
            }
        }
        Ok(())
    }

    fn warnings(&self) -> Vec<Warning> {
        let running = rusqlite::version();
        match self.migrations.validated_with() {
            Some(validated_with) if parse_version(running) < parse_version(validated_with) => {
                vec![Warning::OlderSqlite {
                    validated_with,
                    running,
                }]
            }
            _ => Vec::new(),
        }
    }

    /// Whether the highest applied migration is the last embedded one, with the same
    /// chain: then every checksum matches and nothing is pending. Reads one row.
    fn is_up_to_date(&self, conn: &Connection) -> bool {
        let Some((last, last_chain)) = self.migrations.tip() else {
            return false;
        };
        matches!(
            read_tip(conn),
            Ok(Some(Tip { version, chain: Some(chain) }))
                if version == last && chain == last_chain
        )
    }

    /// The pending migrations of `status` this run applies (up to [`to`](Self::to)).
    fn pending(&self, status: Status) -> VecDeque<&'static Migration> {
        let target = self.target.unwrap_or(crate::Version::MAX);
        status
            .pending
            .into_iter()
            .filter(|m| m.version() <= target)
            .collect()
    }

    fn verify(&self, status: &Status) -> Result<()> {
        if let Some((applied, migration)) = status.modified.first() {
            return Err(Error::Modified {
                version: migration.version(),
                name: migration.name().to_owned(),
                applied: applied.checksum.clone(),
                embedded: migration.checksum_hex(),
            });
        }
        if !status.unknown.is_empty() && !self.allow_newer_database {
            return Err(Error::UnknownApplied {
                versions: status.unknown.iter().map(|a| a.version).collect(),
            });
        }
        if let (false, Some(m), Some(latest)) = (
            self.allow_out_of_order,
            status.out_of_order().next(),
            status.version(),
        ) {
            return Err(Error::OutOfOrder {
                version: m.version(),
                name: m.name().to_owned(),
                latest,
            });
        }
        Ok(())
    }
}

/// Gives `conn` [`DEFAULT_BUSY_TIMEOUT`] when it has no busy timeout, so that a
/// process waits for another one's migration instead of failing at once.
fn default_busy_timeout(conn: &Connection) -> Result<()> {
    let sqlite = |e| Error::from_sqlite(e, conn);
    let timeout: i64 = conn
        .query_row("PRAGMA busy_timeout", [], |r| r.get(0))
        .map_err(sqlite)?;
    if timeout <= 0 {
        conn.busy_timeout(DEFAULT_BUSY_TIMEOUT).map_err(sqlite)?;
    }
    Ok(())
}
