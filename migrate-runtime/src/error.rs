//! The runtime's error type.

/// Why [`Migrations::run`](crate::Migrations::run) or [`status`](crate::Migrations::status) failed.
///
/// When it is returned, the database holds every migration that was committed
/// before the failure and nothing of the failing one.
#[non_exhaustive]
pub enum Error {
    /// An applied migration's file was edited after it ran.
    Modified {
        /// Its version.
        version: crate::Version,
        /// Its name, from the embedded set.
        name: String,
        /// The checksum recorded when it was applied.
        applied: String,
        /// The checksum of the embedded migration.
        embedded: String,
    },

    /// The database has applied migrations that this binary does not contain.
    UnknownApplied {
        /// The versions unknown to the binary.
        versions: Vec<crate::Version>,
    },

    /// A remote database (`remote::Remote`, feature `remote`) could not be reached,
    /// refused the request, or is not a libSQL/Turso primary; nothing more was changed
    /// (a migration applied before stays applied).
    Remote {
        /// The server's address.
        url: String,
        /// The HTTP status, when the server answered with an error status.
        status: Option<u16>,
        /// What went wrong, with the server's own message when it gave one.
        message: String,
    },

    /// Going down would undo a migration that has no down script, or one that never
    /// runs; nothing was changed.
    Irreversible {
        /// The migration's version.
        version: crate::Version,
        /// Its name.
        name: String,
        /// The down script to write or fix (`002_add_email.down.sql`; for a layout
        /// with down sections, the migration's file).
        file_name: String,
        /// Why the down script the folder has never runs (see
        /// [`Migration::irreversible_reason`](crate::Migration::irreversible_reason));
        /// `None` when there is none.
        reason: Option<Box<str>>,
        /// What to do: write or fix the down script, where.
        help: Box<str>,
    },

    /// Going down would undo a migration this binary does not contain: its down
    /// script is unknown. Nothing was changed.
    RevertUnknown {
        /// The applied versions unknown to the binary.
        versions: Vec<crate::Version>,
    },

    /// While reverting, another process applied a newer migration: a migration is
    /// undone only when it is the newest applied. The migration was left applied.
    RevertNotLatest {
        /// The migration that was to be reverted.
        version: crate::Version,
        /// The newest applied version.
        latest: crate::Version,
    },

    /// A pending migration is older than one already applied (usually merged late from a branch).
    OutOfOrder {
        /// The pending migration's version.
        version: crate::Version,
        /// Its name.
        name: String,
        /// The highest applied version.
        latest: crate::Version,
    },

    /// A statement of a migration failed; the migration was rolled back.
    Failed {
        /// The migration's version.
        version: crate::Version,
        /// Its name.
        name: String,
        /// The line of the statement in the migration file.
        line: usize,
        /// The statement that failed.
        statement: Box<str>,
        /// SQLite's message.
        message: String,
        /// The underlying error.
        error: Box<rusqlite::Error>,
        /// Whether it happened in a [`trial`](crate::Migrations::trial), on a copy.
        on_copy: bool,
        /// Whether it was the migration's down script, going down
        /// ([`rollback`](crate::Migrations::rollback), [`migrate_to`](crate::Migrations::migrate_to)).
        down: bool,
    },

    /// A migration left rows that break a foreign key; it was rolled back.
    ForeignKeyViolation {
        /// The migration's version.
        version: crate::Version,
        /// Its name.
        name: String,
        /// The rows that break a foreign key (from `PRAGMA foreign_key_check`).
        violations: Vec<crate::Violation>,
    },

    /// A `-- migrate:no-transaction` migration failed part-way. It is not recorded, and
    /// the statements that ran before the failure were **not** rolled back.
    FailedWithoutTransaction {
        /// The migration's version.
        version: crate::Version,
        /// Its name.
        name: String,
        /// The line of the statement that failed.
        line: usize,
        /// The statement that failed.
        statement: Box<str>,
        /// What went wrong.
        message: String,
        /// The lines of the statements that ran before it and stay applied.
        ran: Box<[usize]>,
    },

    /// The migrations call an application-defined SQL function, declared with
    /// `functions(…)`, that the connection does not have. Nothing was changed.
    MissingFunction {
        /// The function's name.
        name: String,
        /// Its number of arguments.
        arity: i32,
        /// SQLite's message.
        message: String,
    },

    /// A collation declared with `collations(…)` is not registered on the connection.
    MissingCollation {
        /// The collation's name.
        name: String,
    },

    /// The lock file that serialises `-- migrate:no-transaction` migrations between
    /// processes could not be opened or locked.
    LockFile {
        /// The lock file, next to the database.
        path: String,
        /// Why.
        source: std::io::Error,
    },

    /// The backup asked for before migrating, or the copy for a trial, could not be
    /// written. Nothing was applied.
    Backup {
        /// Where the copy was to be written.
        path: String,
        /// Why.
        message: String,
    },

    /// The file is not a SQLite database. It was not modified.
    NotADatabase {
        /// The database path.
        path: String,
        /// SQLite's message.
        message: String,
    },

    /// The database file is damaged. Nothing was changed.
    Corrupt {
        /// The database path.
        path: String,
        /// SQLite's message.
        message: String,
    },

    /// The database (or its folder) cannot be written. It was not modified.
    ReadOnly {
        /// The database path.
        path: String,
        /// SQLite's message.
        message: String,
    },

    /// Another connection held a lock for longer than the busy timeout. Nothing was changed.
    Locked {
        /// The database path.
        path: String,
        /// SQLite's message.
        message: String,
    },

    /// The database has a `schema_migrations` table made by another tool.
    ForeignTrackingTable {
        /// The columns the existing table has.
        columns: Vec<String>,
    },

    /// Any other SQLite error.
    Sqlite(rusqlite::Error),

    /// On the first run, another tool's history records as applied migrations that the
    /// binary does not contain (see [`import`](crate::import)). Nothing was changed.
    ImportUnknown {
        /// The tool that made the table.
        tool: crate::Layout,
        /// The table.
        table: String,
        /// The migrations unknown to the binary, as the tool identifies them.
        rows: Vec<String>,
    },

    /// On the first run, another tool's history has migrations that neither finished nor
    /// were rolled back (a failed sqlx row, a dirty golang-migrate version, a Prisma
    /// migration started but not finished). Nothing was changed.
    ImportUnfinished {
        /// The tool that made the table.
        tool: crate::Layout,
        /// The table.
        table: String,
        /// The rows, as the tool identifies them, each with its state.
        rows: Vec<String>,
    },

    /// On the first run, another tool's history has a migration applied after older
    /// embedded ones it did not apply. Nothing was changed.
    ImportOutOfOrder {
        /// The tool that made the table.
        tool: crate::Layout,
        /// The table.
        table: String,
        /// The embedded versions older than `latest` that the tool did not apply.
        pending: Vec<crate::Version>,
        /// The highest version the tool applied.
        latest: crate::Version,
    },

    /// On the first run, the database has the history tables of several tools, so
    /// which one to import is unclear. Nothing was changed.
    ImportSeveralTables {
        /// The tables, each with its tool.
        tables: Vec<String>,
    },

    /// On the first run, another tool's history table cannot be read as that tool
    /// writes it. Nothing was changed.
    ImportUnreadable {
        /// The tool whose table name (and shape) it has.
        tool: crate::Layout,
        /// The table.
        table: String,
        /// What is wrong.
        message: String,
    },

    /// In a debug build, the folder the migrations were embedded from has changed
    /// since the binary was built: the binary is stale. Nothing was changed.
    Stale(Box<Stale>),

    /// On the first run, the SQLite lesson's `schema_migrations(version, name,
    /// applied_at)` has rows that do not match the embedded migrations. Nothing was changed.
    AdoptMismatch {
        /// Each row that does not match, with what is wrong.
        rows: Vec<String>,
    },

    /// `baseline` found a database whose schema differs from what the migrations up to
    /// that version produce. Nothing was changed.
    BaselineMismatch {
        /// The version asked for.
        version: crate::Version,
        /// Each object that differs.
        differences: Vec<String>,
    },

    /// `baseline` or `repair` was given a version the command cannot use on this
    /// database. Nothing was changed.
    BadVersion {
        /// The version given.
        version: crate::Version,
        /// What is wrong with it.
        message: String,
    },
}

/// The details of [`Error::Stale`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// The folder the set was built from (absolute).
    pub dir: String,
    /// The files that differ, each followed by `(added)`, `(removed)` or `(changed)`.
    pub files: Vec<String>,
}

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "this binary is stale: the migrations folder {} changed after it was built: {}; nothing was changed: \
             rebuild it (`cargo build`), and add `migrate::build::rerun_if_changed(\"migrations\");` to build.rs \
             (with `migrate` in [build-dependencies]) so that cargo rebuilds whenever a migration file is added",
            self.dir,
            self.files.join(", ")
        )
    }
}

fn db_path(conn: &rusqlite::Connection) -> String {
    match conn.path() {
        Some("") | None => ":memory:".to_owned(),
        Some(p) => p.to_owned(),
    }
}

fn ran_lines(lines: &[usize]) -> String {
    match lines {
        [] => "nothing had run before it".to_owned(),
        [one] => format!("the statement on line {one} ran and stays applied"),
        _ => format!(
            "the statements on lines {} ran and stay applied",
            list(lines)
        ),
    }
}

/// How `tool` repairs a migration that did not finish.
fn repair(tool: crate::Layout) -> &'static str {
    use crate::Layout;
    match tool {
        Layout::Sqlx => {
            "undo what the failed migration did, then delete its row, as sqlx itself refuses to run past it"
        }
        Layout::GolangMigrate => {
            "make the database match a version, then `migrate force <version>`"
        }
        Layout::Prisma => {
            "`prisma migrate resolve --rolled-back <name>` once undone, or `--applied <name>` once completed"
        }
        _ => "complete or undo those migrations the way the tool does",
    }
}

fn list<T: ToString>(values: &[T]) -> String {
    let shown: Vec<String> = values.iter().map(ToString::to_string).collect();
    shown.join(", ")
}

impl Error {
    /// The database behind `conn` was opened read-only.
    pub(crate) fn read_only(conn: &rusqlite::Connection) -> Self {
        Self::ReadOnly {
            path: db_path(conn),
            message: "the connection is read-only".to_owned(),
        }
    }

    /// Classifies an error from `conn`, naming the database file.
    pub(crate) fn from_sqlite(error: rusqlite::Error, conn: &rusqlite::Connection) -> Self {
        Self::about_file(&error, conn).unwrap_or(Self::Sqlite(error))
    }

    /// The file's error (not a database, damaged, read-only, locked) when `error` is
    /// about the database file rather than about SQL.
    pub(crate) fn about_file(error: &rusqlite::Error, conn: &rusqlite::Connection) -> Option<Self> {
        use rusqlite::ErrorCode;
        let (path, message) = (db_path(conn), crate::exec::sqlite_message(error).0);
        Some(match error.sqlite_error_code()? {
            ErrorCode::NotADatabase => Self::NotADatabase { path, message },
            ErrorCode::DatabaseCorrupt => Self::Corrupt { path, message },
            ErrorCode::ReadOnly | ErrorCode::CannotOpen => Self::ReadOnly { path, message },
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Self::Locked { path, message },
            _ => return None,
        })
    }
}

// Written out rather than derived with thiserror: without the feature `remote`, the
// runtime then depends on no proc macro (thiserror-impl, syn).
impl std::fmt::Display for Error {
    #[allow(clippy::too_many_lines, reason = "one arm per variant")]
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Modified {
                version,
                name,
                applied,
                embedded,
            } => write!(
                f,
                "migration {version} ({name}) was applied with checksum {applied} but the embedded migration has checksum {embedded}; \
                 an applied migration must not be edited: restore the file as it was and put the change in a new migration"
            ),
            Self::UnknownApplied { versions } => write!(
                f,
                "the database has migration(s) {} applied that this binary does not know: the database is newer than the code; \
                 run a binary built with those migrations, restore a database that matches this one, \
                 or start anyway with `Migrations::runner().allow_newer_database(true)` (a rollback deploy)",
                list(versions)
            ),
            Self::Remote { url, message, .. } => write!(f, "{url}: {message}"),
            Self::Irreversible {
                version,
                name,
                reason,
                help,
                ..
            } => write!(
                f,
                "cannot revert migration {version} ({name}): {}, so it is irreversible; nothing was reverted; \
                 {help} (the build proves it undoes the migration), or stop the rollback above version {version}",
                reason.as_deref().unwrap_or("it has no down script")
            ),
            Self::RevertUnknown { versions } => write!(
                f,
                "cannot revert migration(s) {}: this binary does not contain them, so it has no down script for them; nothing was reverted; \
                 revert with a binary built with those migrations",
                list(versions)
            ),
            Self::RevertNotLatest { version, latest } => write!(
                f,
                "cannot revert migration {version}: migration {latest} was applied meanwhile (by another process), and migrations are undone newest first; \
                 run the rollback again"
            ),
            Self::OutOfOrder {
                version,
                name,
                latest,
            } => write!(
                f,
                "migration {version} ({name}) is pending but older than the latest applied migration {latest}; \
                 renumber it after {latest}, or allow it with `Migrations::runner().allow_out_of_order(true)`"
            ),
            Self::Failed {
                version,
                name,
                line,
                statement,
                message,
                on_copy,
                down,
                ..
            } => write!(
                f,
                "{}migration {version} ({name}) failed at line {line} and was rolled back: {message}\n  statement: {statement}\n  {}",
                if *down { "the down script of " } else { "" },
                if *on_copy {
                    "this was a trial on a copy of the database, which is deleted: the original is unchanged; fix the data or this migration, then try again"
                } else if *down {
                    "the migration stays applied, and those reverted before it stay reverted; fix the data or the down script, then roll back again"
                } else {
                    "earlier migrations stay applied; fix the data or this migration, then run again"
                }
            ),
            Self::ForeignKeyViolation {
                version,
                name,
                violations,
            } => write!(
                f,
                "migration {version} ({name}) was rolled back: it leaves rows that break a foreign key: {}; \
                 enforcement is off while a migration runs (so a rebuild's DROP TABLE deletes nothing) and checked before COMMIT: \
                 copy every row the other tables reference, or fix the rows",
                crate::foreign_keys::describe(violations)
            ),
            Self::FailedWithoutTransaction {
                version,
                name,
                line,
                statement,
                message,
                ran,
            } => write!(
                f,
                "migration {version} ({name}) failed at line {line}: {message}\n  statement: {statement}\n  \
                 it runs without a transaction, so {}; it is not recorded as applied: \
                 make it safe to run again (IF NOT EXISTS...) or undo those statements by hand, then run again",
                ran_lines(ran)
            ),
            Self::MissingFunction {
                name,
                arity,
                message,
            } => write!(
                f,
                "the migrations call the SQL function {name}/{arity}, which is not registered on this connection (SQLite: {message}); \
                 nothing was changed: register it (`Connection::create_scalar_function`) before running the migrations"
            ),
            Self::MissingCollation { name } => write!(
                f,
                "the migrations use the collation `{name}`, which is not registered on this connection; \
                 nothing was changed: register it (`Connection::create_collation`) before running the migrations"
            ),
            Self::LockFile { path, source } => write!(
                f,
                "cannot lock {path} (a migration runs without a transaction and takes this lock): {source}"
            ),
            Self::Backup { path, message } => write!(
                f,
                "cannot write the copy {path}: {message}; nothing was applied"
            ),
            Self::NotADatabase { path, message } => write!(
                f,
                "{path} is not a SQLite database (SQLite: {message}); check the path: the file was left untouched"
            ),
            Self::Corrupt { path, message } => write!(
                f,
                "{path} is damaged (SQLite: {message}); nothing was changed: restore it from a backup, \
                 or see what can be saved with `sqlite3 {path} '.recover'`"
            ),
            Self::ReadOnly { path, message } => write!(
                f,
                "{path} is read-only (SQLite: {message}); migrations need write access to the file and its folder"
            ),
            Self::Locked { path, message } => write!(
                f,
                "{path} is locked by another connection (SQLite: {message}); nothing was changed: retry, \
                 or raise the busy timeout with `Connection::busy_timeout`"
            ),
            Self::ForeignTrackingTable { columns } => write!(
                f,
                "the database has a `schema_migrations` table that migrate did not create (its columns: {}); \
                 golang-migrate's `(version, dirty)`, dbmate's `(version)` and the SQLite lesson's `(version, name, applied_at)` \
                 are taken over by the first `run` (or `migrate up`), which keeps them as `schema_migrations_golang_migrate`, \
                 `schema_migrations_dbmate` or `schema_migrations_lesson`, and `status` reads only migrate's own table; \
                 any other shape: move that table away (`ALTER TABLE schema_migrations RENAME TO …`) before migrating with migrate",
                columns.join(", ")
            ),
            Self::Sqlite(error) => write!(f, "SQLite error while migrating: {error}"),
            Self::ImportUnknown { tool, table, rows } => write!(
                f,
                "the `{table}` table of {tool} records migration(s) {} as applied, which this binary does not contain; \
                 nothing was changed: every migration {tool} applied must be embedded to continue from its history: \
                 build with the folder {tool} ran (with `layout = \"{tool}\"`), or restore a database that matches this binary",
                rows.join(", ")
            ),
            Self::ImportUnfinished { tool, table, rows } => write!(
                f,
                "the `{table}` table of {tool} records migration(s) that did not finish: {}; \
                 nothing was changed: what they left in the database is unknown: repair it with {tool} first ({}), \
                 then run again",
                rows.join(", "),
                repair(*tool)
            ),
            Self::ImportOutOfOrder {
                tool,
                table,
                pending,
                latest,
            } => write!(
                f,
                "the `{table}` table of {tool} has migration {latest} applied but not the older migration(s) {}; \
                 nothing was changed: apply them with {tool} first, or let them run after {latest} with \
                 `Migrations::runner().allow_out_of_order(true)`",
                list(pending)
            ),
            Self::ImportSeveralTables { tables } => write!(
                f,
                "the database has the migration tables of several tools: {}; nothing was changed: \
                 only one history can be imported: drop the table of the tool no longer in use, then run again",
                tables.join(", ")
            ),
            Self::ImportUnreadable {
                tool,
                table,
                message,
            } => write!(
                f,
                "the `{table}` table of {tool} cannot be imported: {message}; nothing was changed: \
                 repair the table (or move it away if {tool} did not make it), then run again"
            ),
            Self::Stale(stale) => write!(f, "{stale}"),
            Self::AdoptMismatch { rows } => write!(
                f,
                "the lesson's `schema_migrations` table does not match the embedded migrations: {}; nothing was changed: \
                 rows are matched by version and name, so name each migration file as the lesson's runner recorded it",
                rows.join("; ")
            ),
            Self::BaselineMismatch {
                version,
                differences,
            } => write!(
                f,
                "the database's schema is not what the migrations up to {version} produce: {}; nothing was changed: \
                 baseline at the version that matches the database, or bring the schema to that version first",
                differences.join("; ")
            ),
            Self::BadVersion { message, .. } => write!(f, "{message}; nothing was changed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Sqlite(error) => Some(error),
            Self::LockFile { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        Self::Sqlite(error)
    }
}

/// `{:?}` prints the message, as `{}` does: `unwrap()`, `expect()` and a `main` that
/// returns the error show what is wrong and what to do. Match on the variant for its
/// fields.
///
/// Written by hand because a derived `Debug` is marked `#[inline]`: every
/// application that unwraps a result of `run` compiled it, and the `Debug` of every
/// type the variants hold, again (about 25 ms of each release rebuild).
impl std::fmt::Debug for Error {
    #[inline(never)]
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_error_stays_small() {
        // `Result<T, Error>` is returned on every path; large variants are boxed.
        assert!(std::mem::size_of::<super::Error>() < 128);
    }

    #[test]
    fn debug_prints_the_message() {
        let err = super::Error::Modified {
            version: 3,
            name: "add_email".into(),
            applied: "aa".into(),
            embedded: "bb".into(),
        };
        assert_eq!(format!("{err:?}"), err.to_string());
        assert!(format!("{err:?}").starts_with("migration 3 (add_email) was applied"));
    }

    #[test]
    fn display_and_source() {
        use super::Error;
        use std::error::Error as _;

        // A computed argument.
        let err = Error::UnknownApplied {
            versions: vec![7, 8],
        };
        assert!(err.to_string().starts_with(
            "the database has migration(s) 7, 8 applied that this binary does not know:"
        ));

        // The conditions: a down script, not on a copy.
        let err = Error::Failed {
            version: 12,
            name: "add_email".into(),
            line: 3,
            statement: "SELEC 1".into(),
            message: "syntax error".into(),
            error: Box::new(rusqlite::Error::QueryReturnedNoRows),
            on_copy: false,
            down: true,
        };
        assert_eq!(
            err.to_string(),
            "the down script of migration 12 (add_email) failed at line 3 and was rolled back: syntax error\n  \
             statement: SELEC 1\n  \
             the migration stays applied, and those reverted before it stay reverted; \
             fix the data or the down script, then roll back again"
        );
        // Its SQLite error is printed (`message`), not returned as the source.
        assert!(err.source().is_none());

        // `?` on a rusqlite error.
        let err = Error::from(rusqlite::Error::QueryReturnedNoRows);
        assert!(matches!(
            err,
            Error::Sqlite(rusqlite::Error::QueryReturnedNoRows)
        ));
        assert_eq!(
            err.to_string(),
            format!(
                "SQLite error while migrating: {}",
                rusqlite::Error::QueryReturnedNoRows
            )
        );
        let source = err
            .source()
            .and_then(|s| s.downcast_ref::<rusqlite::Error>());
        assert!(matches!(source, Some(rusqlite::Error::QueryReturnedNoRows)));

        // A field named `source`.
        let err = Error::LockFile {
            path: "app.db.lock".into(),
            source: std::io::Error::other("denied"),
        };
        assert_eq!(
            err.to_string(),
            "cannot lock app.db.lock (a migration runs without a transaction and takes this lock): denied"
        );
        assert_eq!(
            err.source().map(ToString::to_string).as_deref(),
            Some("denied")
        );
    }
}
