//! Opening the database file, with one-line errors that say what is wrong.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::Failure;
use crate::cli::Database;

/// How a command opens the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Read only; the file must exist.
    Read,
    /// Read and write; the file must exist.
    Write,
    /// Read and write; created when missing.
    Create,
}

/// Opens `--db`, and reads its schema once so that a file that is not a database
/// fails here, with a message naming it.
pub fn open(database: &Database, mode: Mode) -> Result<Connection, Failure> {
    let path = &database.db;
    let shown = path.display();
    if path.is_dir() {
        return Err(Failure(format!("{shown} is a folder, not a database file")));
    }
    if mode != Mode::Create && !path.exists() {
        return Err(Failure(format!(
            "database not found: {shown}; check the path given to --db (`migrate up` creates a new database)"
        )));
    }
    if mode == Mode::Create && !path.exists() {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(parent) = parent.filter(|p| !p.is_dir()) {
            return Err(Failure(format!(
                "cannot create the database {shown}: the folder {} does not exist",
                parent.display()
            )));
        }
    }
    let flags = match mode {
        Mode::Read => OpenFlags::SQLITE_OPEN_READ_ONLY,
        Mode::Write => OpenFlags::SQLITE_OPEN_READ_WRITE,
        Mode::Create => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| describe(path, &e))?;
    conn.busy_timeout(Duration::from_secs(database.busy_timeout))
        .map_err(|e| describe(path, &e))?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| describe(path, &e))?;
    Ok(conn)
}

/// A one-line message for an SQLite error about the database file.
pub fn describe(path: &Path, e: &rusqlite::Error) -> Failure {
    use rusqlite::ErrorCode;
    let shown = path.display();
    let message = match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => {
            format!("{shown} is not an SQLite database (file is not a database)")
        }
        Some(ErrorCode::DatabaseCorrupt) => {
            format!("{shown} is damaged ({e}); restore it from a backup")
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => format!(
            "{shown} is locked by another connection ({e}); try again when it is done, or wait longer with --busy-timeout"
        ),
        Some(ErrorCode::ReadOnly) => {
            format!("{shown} is read-only ({e}); check the file's permissions")
        }
        Some(ErrorCode::CannotOpen) => format!(
            "cannot open the database {shown} ({e}); check that its folder exists and is writable"
        ),
        _ => format!("{shown}: {e}"),
    };
    Failure(message)
}
