//! Running one migration's statements: in its transaction, or one at a time
//! without one, and the lock that serialises the latter between processes.

use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::foreign_keys::{self, Scope};
use crate::{Error, Migration, Result};

/// Runs a migration's statements one by one on an open transaction, then checks the
/// foreign keys it may have broken.
pub(super) fn apply(
    conn: &Connection,
    migration: &Migration,
    statements: &[crate::sql::Statement<'_>],
    scope: Option<&mut Scope>,
) -> Result<()> {
    for statement in statements {
        log_statement(migration, statement);
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

/// The `debug` event of each statement, with its line in the file.
fn log_statement(migration: &Migration, statement: &crate::sql::Statement<'_>) {
    if log::log_enabled!(target: "migrate", log::Level::Debug) {
        let line = crate::sql::line_column(migration.sql(), statement.offset).0;
        log::debug!(target: "migrate", "{migration} line {line}: {}", statement.text);
    }
}

/// Runs a `-- migrate:no-transaction` migration's statements one at a time.
pub(super) fn apply_without_transaction(
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
            statement: statement.into(),
            message,
            ran: ran.into(),
        }
    };
    for statement in statements {
        log_statement(migration, statement);
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
pub(super) fn execute_waiting(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
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
pub(super) fn lock_file(conn: &Connection) -> Result<Option<std::fs::File>> {
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
pub(super) fn failed(
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
        statement: statement.into(),
        message: crate::exec::sqlite_message(&error).0,
        error: Box::new(error),
        on_copy: false,
        down: false,
    })
}
