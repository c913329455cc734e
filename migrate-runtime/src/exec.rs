//! Executes one statement, stepping through any rows it returns.

use rusqlite::Connection;

/// Prepares `sql` (exactly one statement) and runs it to completion.
pub(crate) fn execute(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.raw_query();
    while rows.next()?.is_some() {}
    Ok(())
}
