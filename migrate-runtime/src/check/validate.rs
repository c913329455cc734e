//! Running the migrations in order against an in-memory SQLite.

use rusqlite::Connection;

use super::SourceMigration;
use crate::diagnostic::Diagnostic;
use crate::exec::sqlite_message;
use crate::sql::{self, Statement};

/// Applies `migrations` in order to an in-memory database, each in a transaction,
/// with foreign keys enforced.
///
/// # Errors
///
/// The first statement that fails, or an added `NOT NULL` column without a default.
pub fn validate(migrations: &[SourceMigration]) -> Result<(), Diagnostic> {
    let internal = |e: rusqlite::Error| {
        Diagnostic::new(
            "migrations",
            format!("cannot open the in-memory validation database: {e}"),
        )
    };
    let conn = Connection::open_in_memory().map_err(internal)?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(internal)?;
    for m in migrations {
        conn.execute_batch("BEGIN").map_err(internal)?;
        for statement in sql::statements(&m.sql) {
            let added = added_column_target(&statement)
                .map(|table| (table.clone(), columns(&conn, &table)));
            crate::exec::execute(&conn, statement.text)
                .map_err(|e| sql_error(m, &statement, &e))?;
            if let Some((table, Ok(before))) = added {
                check_added_columns(&conn, m, &statement, &table, &before)?;
            }
        }
        if let Err(e) = conn.execute_batch("COMMIT") {
            // A deferred constraint failed; the transaction is still open to inspect.
            let mut message = format!("migration fails at COMMIT: {}", sqlite_message(&e).0);
            let violations = foreign_key_violations(&conn);
            if !violations.is_empty() {
                message = format!("{message}: {}", violations.join("; "));
            }
            return Err(Diagnostic::new(&m.display_path, message).with_help(
                "a deferred foreign key is violated once all the statements have run; fix the rows the migration leaves behind",
            ));
        }
    }
    Ok(())
}

/// Rows that break a foreign key, as `` `books` row 1 references a missing row of `authors` ``.
fn foreign_key_violations(conn: &Connection) -> Vec<String> {
    let Ok(mut stmt) = conn.prepare("PRAGMA foreign_key_check") else {
        return Vec::new();
    };
    let rows = stmt.query_map([], |r| {
        let (table, rowid, parent): (String, Option<i64>, String) =
            (r.get(0)?, r.get(1)?, r.get(2)?);
        let row = rowid.map_or_else(|| "a row".to_owned(), |id| format!("row {id}"));
        Ok(format!(
            "`{table}` {row} references a missing row of `{parent}`"
        ))
    });
    rows.map(|rows| rows.filter_map(Result::ok).take(5).collect())
        .unwrap_or_default()
}

fn sql_error(
    m: &SourceMigration,
    statement: &Statement<'_>,
    error: &rusqlite::Error,
) -> Diagnostic {
    let (message, offset) = sqlite_message(error);
    let offset = statement.offset + offset.filter(|&o| o <= statement.text.len()).unwrap_or(0);
    let not_null;
    let help = if message.starts_with("Cannot add a NOT NULL column") {
        not_null = format!("the table already has rows when this migration runs; {NOT_NULL_FIX}");
        &not_null
    } else if message.contains("syntax error")
        || message.contains("incomplete input")
        || message.contains("unrecognized token")
    {
        "fix the syntax of this statement; SQLite's grammar is at https://www.sqlite.org/lang.html"
    } else if message.contains("constraint failed") {
        "the rows this statement writes break a constraint of the schema built by the earlier migrations (applied in order to an empty database, with foreign keys enforced); fix the data or the constraint"
    } else if message.starts_with("no such table") || message.starts_with("no such column") {
        "check the name, and that the migration creating it has a lower version: migrations run in version order"
    } else if message.starts_with("no such function") {
        "the bundled SQLite that validates migrations has no such function; use a built-in function (https://www.sqlite.org/lang_corefunc.html)"
    } else {
        "the statement fails on the schema built by the migrations before it, applied in order to an empty database; fix the statement"
    };
    Diagnostic::at(&m.display_path, &m.sql, offset, message).with_help(help)
}

/// How to add a `NOT NULL` column to a table with rows.
const NOT_NULL_FIX: &str = "give the column a non-NULL default (`NOT NULL DEFAULT ''`), or rebuild the table: create the new table, copy the rows, drop the old one, rename the new one";

/// For `ALTER TABLE [schema.]table ADD [COLUMN] …`, the table, as `(schema, table)`.
fn added_column_target(statement: &Statement<'_>) -> Option<(String, String)> {
    let t = &statement.tokens;
    let text = statement.text;
    if t.len() < 5 || !t[0].is_keyword(text, "ALTER") || !t[1].is_keyword(text, "TABLE") {
        return None;
    }
    let (schema, table, next) = if t.len() > 5 && t[3].text(text) == "." {
        (t[2].identifier(text)?, t[4].identifier(text)?, 5)
    } else {
        ("main".to_owned(), t[2].identifier(text)?, 3)
    };
    t[next].is_keyword(text, "ADD").then_some((schema, table))
}

/// Column names of a table.
fn columns(conn: &Connection, (schema, table): &(String, String)) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1, ?2)")?;
    let names = stmt.query_map([table, schema], |row| row.get(0))?;
    names.collect()
}

fn check_added_columns(
    conn: &Connection,
    m: &SourceMigration,
    statement: &Statement<'_>,
    (schema, table): &(String, String),
    before: &[String],
) -> Result<(), Diagnostic> {
    let internal = |e: rusqlite::Error| sql_error(m, statement, &e);
    let mut stmt = conn
        .prepare("SELECT name, \"notnull\", dflt_value FROM pragma_table_info(?1, ?2)")
        .map_err(internal)?;
    let rows = stmt
        .query_map([table, schema], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, bool>(1)?,
                row.get::<_, Option<String>>(2)?,
            ))
        })
        .map_err(internal)?;
    for row in rows {
        let (column, not_null, default) = row.map_err(internal)?;
        let null_default = default
            .as_deref()
            .is_none_or(|d| d.trim().eq_ignore_ascii_case("NULL"));
        if not_null && null_default && !before.contains(&column) {
            // Point at the column's name, the token after ADD [COLUMN].
            let text = statement.text;
            let add = statement
                .tokens
                .iter()
                .position(|t| t.is_keyword(text, "ADD"))
                .unwrap_or(0);
            let mut at = add + 1;
            if statement
                .tokens
                .get(at)
                .is_some_and(|t| t.is_keyword(text, "COLUMN"))
            {
                at += 1;
            }
            let offset = statement.offset + statement.tokens.get(at).map_or(0, |t| t.start);
            return Err(Diagnostic::at(
                &m.display_path,
                &m.sql,
                offset,
                format!("column `{column}` is added to `{table}` as NOT NULL without a default"),
            )
            .with_help(format!(
                "SQLite accepts this on the empty validation database but refuses it on any table with rows (\"Cannot add a NOT NULL column with default value NULL\"); {NOT_NULL_FIX}"
            )));
        }
    }
    Ok(())
}
