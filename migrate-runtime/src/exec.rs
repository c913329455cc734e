//! Executes one statement, stepping through any rows it returns.

use rusqlite::Connection;

/// Prepares `sql` (exactly one statement) and runs it to completion.
pub(crate) fn execute(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.raw_query();
    while rows.next()?.is_some() {}
    Ok(())
}

/// SQLite's own message for `error`, and the byte offset it points at, if any.
pub(crate) fn sqlite_message(error: &rusqlite::Error) -> (String, Option<usize>) {
    match error {
        rusqlite::Error::SqlInputError { msg, offset, .. } => {
            (msg.clone(), usize::try_from(*offset).ok())
        }
        rusqlite::Error::SqliteFailure(_, Some(msg)) => (msg.clone(), None),
        other => (other.to_string(), None),
    }
}
