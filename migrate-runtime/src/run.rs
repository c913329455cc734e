//! Applies migrations to a database and reports where it stands.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rusqlite::{Connection, MAIN_DB, OptionalExtension, Transaction, TransactionBehavior};

use crate::check::TRACKING_TABLE;
use crate::foreign_keys::{self, Scope};
use crate::rules::Settings;
use crate::{Error, Migration, Migrations, Result};

/// The busy timeout set on a connection that has none, so that processes starting
/// together wait for each other instead of failing.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The columns of `schema_migrations`, in the order `read_history` selects them.
const TRACKING_COLUMNS: [&str; 6] = [
    "version",
    "name",
    "checksum",
    "chain",
    "applied_at",
    "duration_ms",
];

pub(crate) const CREATE_TRACKING_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    chain TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    duration_ms INTEGER NOT NULL
)";

/// The applied migration with the highest version: the one row the startup check reads.
const READ_TIP: &str = "SELECT version, chain FROM schema_migrations ORDER BY version DESC LIMIT 1";

const INSERT_APPLIED: &str =
    "INSERT INTO schema_migrations (version, name, checksum, chain, applied_at, duration_ms)
     VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?5)";

/// A row of `schema_migrations`: a migration applied to the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    /// The migration's version.
    pub version: i64,
    /// Its name when it was applied.
    pub name: String,
    /// Its checksum when it was applied, in lowercase hexadecimal.
    pub checksum: String,
    /// The [chain](crate::checksum::chain) over the applied migrations up to and
    /// including this one, in lowercase hexadecimal.
    pub chain: String,
    /// When it was applied, UTC, ISO 8601 (`2026-11-25T12:00:00.123Z`).
    pub applied_at: String,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
}

/// A migration applied by [`Migrations::run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The migration.
    pub migration: &'static Migration,
    /// How long its statements took, tracking row included.
    pub duration: Duration,
    /// How many rows its statements inserted, updated or deleted (SQLite's
    /// `total_changes`, triggers included; the tracking row not).
    pub rows_changed: u64,
}

/// What [`Migrations::run`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The migrations this call applied, in order. Empty when nothing was pending.
    pub applied: Vec<Applied>,
    /// What deserves attention although nothing failed.
    pub warnings: Vec<Warning>,
    /// The copy written before migrating, with [`Runner::backup_to`]; `None` when
    /// nothing was pending (or no backup was asked for).
    pub backup: Option<std::path::PathBuf>,
    /// Another tool's history, imported on the first run ([`import`](crate::import));
    /// `None` otherwise.
    pub imported: Option<crate::import::Imported>,
}

/// Something [`Migrations::run`] reports without failing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// The application's SQLite is older than the one that validated the migrations
    /// at build time, so a migration may use a feature it lacks.
    OlderSqlite {
        /// The SQLite version that validated the set ([`Migrations::validated_with`]).
        validated_with: &'static str,
        /// The SQLite version the application runs.
        running: &'static str,
    },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::OlderSqlite {
                validated_with,
                running,
            } => write!(
                f,
                "the migrations were validated with SQLite {validated_with} but the application runs SQLite {running}; \
                 test them with the application's SQLite (or build with rusqlite's `bundled` feature)"
            ),
        }
    }
}

/// `"3.46.1"` as `(3, 46, 1)`; unreadable parts count as 0.
fn parse_version(version: &str) -> (u32, u32, u32) {
    let mut parts = version.split('.').map(|p| p.parse().unwrap_or(0));
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
}

/// Where a database stands compared with the embedded migrations; see [`Migrations::status`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// Applied migrations whose checksum matches the embedded one.
    pub applied: Vec<AppliedMigration>,
    /// Embedded migrations not applied yet, in version order.
    pub pending: Vec<&'static Migration>,
    /// Applied migrations whose file changed since, with the embedded migration.
    pub modified: Vec<(AppliedMigration, &'static Migration)>,
    /// Applied migrations that the binary does not contain.
    pub unknown: Vec<AppliedMigration>,
}

impl Status {
    /// The highest applied version, if any migration is applied.
    pub fn version(&self) -> Option<i64> {
        let known = self
            .applied
            .iter()
            .chain(self.modified.iter().map(|(a, _)| a));
        known.chain(&self.unknown).map(|a| a.version).max()
    }

    /// Whether the database matches the binary and nothing is pending.
    pub fn is_up_to_date(&self) -> bool {
        self.pending.is_empty() && self.modified.is_empty() && self.unknown.is_empty()
    }

    /// Pending migrations older than the highest applied one.
    pub fn out_of_order(&self) -> impl Iterator<Item = &'static Migration> + '_ {
        let latest = self.version().unwrap_or(i64::MIN);
        self.pending
            .iter()
            .copied()
            .filter(move |m| m.version() < latest)
    }
}

/// Applies a [`Migrations`] set with options; from [`Migrations::runner`].
#[derive(Debug, Clone)]
pub struct Runner<'a> {
    migrations: &'a Migrations,
    allow_out_of_order: bool,
    single_transaction: bool,
    backup_to: Option<std::path::PathBuf>,
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

/// The highest applied version and its chain, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tip {
    version: i64,
    chain: Option<[u8; 32]>,
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
    /// ones stay applied.
    pub fn run(&self, conn: &mut Connection) -> Result<Report> {
        self.runner().run(conn)
    }

    /// A runner with options, such as [`Runner::allow_out_of_order`].
    pub fn runner(&self) -> Runner<'_> {
        Runner {
            migrations: self,
            allow_out_of_order: false,
            single_transaction: false,
            backup_to: None,
        }
    }

    /// Compares the database with the embedded migrations without changing anything.
    ///
    /// # Errors
    ///
    /// [`Error::NotADatabase`], [`Error::Corrupt`], [`Error::ForeignTrackingTable`] and
    /// other SQLite errors while reading `schema_migrations`.
    pub fn status(&self, conn: &Connection) -> Result<Status> {
        Ok(compare(self, read_history(conn)?))
    }
}

impl Runner<'_> {
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
    pub fn run(&self, conn: &mut Connection) -> Result<Report> {
        let conn: &Connection = conn;
        let mut report = Report {
            applied: Vec::new(),
            warnings: self.warnings(),
            backup: None,
            imported: None,
        };
        // The startup check: one row. Any error (no table yet, a busy database, another
        // tool's table) takes the slow path, which reports it properly.
        if self.is_up_to_date(conn) {
            return Ok(report);
        }
        let sqlite = |e| Error::from_sqlite(e, conn);
        let timeout: i64 = conn
            .query_row("PRAGMA busy_timeout", [], |r| r.get(0))
            .map_err(sqlite)?;
        if timeout <= 0 {
            conn.busy_timeout(DEFAULT_BUSY_TIMEOUT).map_err(sqlite)?;
        }
        report.imported = crate::import::import(conn, self.migrations, self.allow_out_of_order)?;

        // Without a lock first: on an up-to-date database, nothing is written.
        let history = read_history(conn)?;
        let mut state = State {
            known: history.last().map(Tip::of),
            pending: VecDeque::new(),
            scope: None,
        };
        let status = compare(self.migrations, history);
        self.verify(&status)?;
        if status.pending.is_empty() {
            return Ok(report);
        }
        state.pending = status.pending.into();
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
                report.applied.push(Applied {
                    migration,
                    duration,
                    rows_changed,
                });
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
        state.pending = status.pending.into();
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
        report.applied.push(Applied {
            migration,
            duration,
            rows_changed,
        });
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
        let Some(last) = self.migrations.as_slice().last() else {
            return false;
        };
        matches!(
            read_tip(conn),
            Ok(Some(Tip { version, chain: Some(chain) }))
                if version == last.version() && chain == *last.chain()
        )
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
        if !status.unknown.is_empty() {
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

/// The highest applied version and its chain; `None` when nothing is applied.
fn read_tip(conn: &Connection) -> rusqlite::Result<Option<Tip>> {
    let mut stmt = conn.prepare_cached(READ_TIP)?;
    stmt.query_row([], |row| {
        let chain = match row.get_ref(1)? {
            rusqlite::types::ValueRef::Text(hex) => std::str::from_utf8(hex)
                .ok()
                .and_then(crate::checksum::from_hex),
            _ => None,
        };
        Ok(Tip {
            version: row.get(0)?,
            chain,
        })
    })
    .optional()
}

impl Tip {
    fn of(applied: &AppliedMigration) -> Self {
        Self {
            version: applied.version,
            chain: crate::checksum::from_hex(&applied.chain),
        }
    }
}

/// Writes `migration`'s row in `schema_migrations` (and `user_version`) on the open
/// transaction, and returns the new tip.
///
/// In version order, on a history whose tip carries the embedded chain, the row's chain
/// continues the tip's. Otherwise (a migration applied out of order lands below the
/// tip; a stored chain was damaged) every stored chain is computed again from the
/// embedded checksums, which the caller has verified against the stored ones.
fn record(
    conn: &Connection,
    migrations: &Migrations,
    migration: &Migration,
    tip: Option<&Tip>,
    duration: std::time::Duration,
) -> rusqlite::Result<Tip> {
    let continues = match tip {
        None => Some(crate::checksum::CHAIN_START),
        Some(t) if t.version < migration.version() => t
            .chain
            .filter(|c| migrations.get(t.version).is_some_and(|m| m.chain() == c)),
        Some(_) => None,
    };
    let chain = continues.map_or([0; 32], |previous| {
        crate::checksum::chain(&previous, migration.version(), migration.checksum())
    });
    conn.prepare_cached(INSERT_APPLIED)?
        .execute(rusqlite::params![
            migration.version(),
            migration.name(),
            migration.checksum_hex(),
            crate::checksum::to_hex(&chain),
            i64::try_from(duration.as_millis()).unwrap_or(i64::MAX),
        ])?;
    let tip = match continues {
        Some(_) => Tip {
            version: migration.version(),
            chain: Some(chain),
        },
        None => rechain(conn, migrations)?,
    };
    if let Ok(version) = i32::try_from(tip.version) {
        conn.pragma_update(None, "user_version", version)?;
    }
    Ok(tip)
}

/// Computes every stored chain again, in version order, from the embedded checksums.
fn rechain(conn: &Connection, migrations: &Migrations) -> rusqlite::Result<Tip> {
    let versions: Vec<i64> = conn
        .prepare("SELECT version FROM schema_migrations ORDER BY version")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = conn.prepare("UPDATE schema_migrations SET chain = ?2 WHERE version = ?1")?;
    let mut chain = crate::checksum::CHAIN_START;
    for &version in &versions {
        // Every applied version is embedded: `verify` refused unknown ones.
        let checksum = migrations.get(version).map_or([0; 32], |m| *m.checksum());
        chain = crate::checksum::chain(&chain, version, &checksum);
        update.execute(rusqlite::params![version, crate::checksum::to_hex(&chain)])?;
    }
    Ok(Tip {
        version: versions.last().copied().unwrap_or(0),
        chain: Some(chain),
    })
}

/// Runs a migration's statements one by one on an open transaction, then checks the
/// foreign keys it may have broken.
fn apply(
    conn: &Connection,
    migration: &Migration,
    statements: &[crate::sql::Statement<'_>],
    scope: Option<&mut Scope>,
) -> Result<()> {
    for statement in statements {
        crate::exec::execute(conn, statement.text).map_err(|e| {
            let line = crate::sql::line_column(migration.sql(), statement.offset).0;
            failed(conn, migration, statement.text, line, e)
        })?;
    }
    if let Some(scope) = scope {
        let violations = scope
            .check_after(conn, statements)
            .map_err(|e| failed(conn, migration, "PRAGMA foreign_key_check", 1, e))?;
        if !violations.is_empty() {
            return Err(Error::ForeignKeyViolation {
                version: migration.version(),
                name: migration.name().to_owned(),
                violations,
            });
        }
    }
    Ok(())
}

/// Runs a `-- migrate:no-transaction` migration's statements one at a time.
fn apply_without_transaction(
    conn: &Connection,
    migration: &Migration,
    statements: &[crate::sql::Statement<'_>],
    scope: Option<&mut Scope>,
) -> Result<()> {
    let sql = migration.sql();
    let mut ran = Vec::new();
    let partial = |ran: &[usize], line: usize, statement: &str, message: String| {
        Error::FailedWithoutTransaction {
            version: migration.version(),
            name: migration.name().to_owned(),
            line,
            statement: statement.to_owned(),
            message,
            ran: ran.to_vec(),
        }
    };
    for statement in statements {
        let line = crate::sql::line_column(sql, statement.offset).0;
        if let Err(e) = execute_waiting(conn, statement.text) {
            if let Some(file) = Error::about_file(&e, conn) {
                return Err(file);
            }
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            return Err(partial(
                &ran,
                line,
                statement.text,
                crate::exec::sqlite_message(&e).0,
            ));
        }
        ran.push(line);
    }
    let last = ran.last().copied().unwrap_or(1);
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
        return Err(partial(
            &ran,
            last,
            "",
            "it leaves a transaction open (a BEGIN without COMMIT), which was rolled back"
                .to_owned(),
        ));
    }
    if let Some(scope) = scope {
        let violations = scope.check_after(conn, statements).map_err(|e| {
            partial(
                &ran,
                last,
                "PRAGMA foreign_key_check",
                crate::exec::sqlite_message(&e).0,
            )
        })?;
        if !violations.is_empty() {
            return Err(partial(
                &ran,
                last,
                "PRAGMA foreign_key_check",
                format!(
                    "it leaves rows that break a foreign key: {}",
                    foreign_keys::describe(&violations)
                ),
            ));
        }
    }
    Ok(())
}

/// Runs one statement outside any transaction. Some (`PRAGMA journal_mode = WAL`,
/// `VACUUM`) fail with SQLITE_BUSY at once, without calling the busy handler, while
/// another connection reads; a statement that failed so, with no transaction left
/// open, changed nothing and is tried again until the connection's busy timeout.
fn execute_waiting(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        match crate::exec::execute(conn, sql) {
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && conn.is_autocommit() =>
            {
                let timeout: i64 = conn
                    .query_row("PRAGMA busy_timeout", [], |r| r.get(0))
                    .unwrap_or(0);
                let timeout = Duration::from_millis(u64::try_from(timeout).unwrap_or(0));
                if started.elapsed() >= timeout {
                    return Err(e);
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

/// Serialises `-- migrate:no-transaction` migrations between processes: an exclusive
/// lock on `<database>.migrate-lock`, released when the file closes (also when the
/// process dies). An in-memory database needs none.
fn lock_file(conn: &Connection) -> Result<Option<std::fs::File>> {
    let Some(path) = conn.path().filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let path = format!("{path}.migrate-lock");
    let locked = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .and_then(|file| file.lock().map(|()| file));
    locked
        .map(Some)
        .map_err(|source| Error::LockFile { path, source })
}

/// A statement (or the COMMIT) of `migration` failed. When the cause is the database
/// file (locked, read-only, damaged) rather than the SQL, that file error is returned.
fn failed(
    conn: &Connection,
    migration: &Migration,
    statement: &str,
    line: usize,
    error: rusqlite::Error,
) -> Error {
    Error::about_file(&error, conn).unwrap_or_else(|| Error::Failed {
        version: migration.version(),
        name: migration.name().to_owned(),
        line,
        statement: statement.to_owned(),
        message: crate::exec::sqlite_message(&error).0,
        error: Box::new(error),
    })
}

/// The rows of `schema_migrations` by version; empty when the table does not exist.
fn read_history(conn: &Connection) -> Result<Vec<AppliedMigration>> {
    let sqlite = |e| Error::from_sqlite(e, conn);
    let exists = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [TRACKING_TABLE],
            |_| Ok(()),
        )
        .optional()
        .map_err(sqlite)?
        .is_some();
    if !exists {
        return Ok(Vec::new());
    }
    let mut stmt = conn
        .prepare(
            "SELECT version, name, checksum, chain, applied_at, duration_ms FROM schema_migrations ORDER BY version",
        )
        .map_err(|e| foreign_table(conn).unwrap_or_else(|| Error::from_sqlite(e, conn)))?;
    let rows = stmt
        .query_map([], |row| {
            Ok(AppliedMigration {
                version: row.get(0)?,
                name: row.get(1)?,
                checksum: row.get(2)?,
                // Only the quick check trusts the chain: an unreadable one is no error.
                chain: row.get_ref(3)?.as_str().unwrap_or_default().to_owned(),
                applied_at: row.get(4)?,
                duration_ms: row.get(5)?,
            })
        })
        .map_err(sqlite)?;
    rows.collect::<rusqlite::Result<_>>().map_err(sqlite)
}

/// When `schema_migrations` lacks this crate's columns (another tool made it), says so.
fn foreign_table(conn: &Connection) -> Option<Error> {
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info('schema_migrations')")
        .ok()?;
    let columns: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .ok()?
        .collect::<rusqlite::Result<_>>()
        .ok()?;
    let missing = TRACKING_COLUMNS
        .iter()
        .any(|c| !columns.iter().any(|have| have.eq_ignore_ascii_case(c)));
    missing.then_some(Error::ForeignTrackingTable { columns })
}

/// Sorts the history against the embedded set; both are ordered by version.
fn compare(migrations: &Migrations, history: Vec<AppliedMigration>) -> Status {
    let mut status = Status::default();
    let mut embedded = migrations.iter().peekable();
    for applied in history {
        while let Some(m) = embedded.next_if(|m| m.version() < applied.version) {
            status.pending.push(m);
        }
        match embedded.next_if(|m| m.version() == applied.version) {
            Some(m) if m.checksum_hex() == applied.checksum => status.applied.push(applied),
            Some(m) => status.modified.push((applied, m)),
            None => status.unknown.push(applied),
        }
    }
    status.pending.extend(embedded);
    status
}
