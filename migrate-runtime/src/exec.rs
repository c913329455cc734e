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
///
/// The offset comes from rusqlite's `Error::SqlInputError`, which rusqlite before
/// 0.41 has only with its `modern_sqlite` feature (on with `bundled`): this crate
/// names that variant only with its `statement-offsets` feature (enabled by the macro
/// for its build-time check, and by the facade's `bundled`), so the application's
/// rusqlite keeps the features the application chose. Without it, the message of such
/// an error is read from the error itself and no offset is given.
pub(crate) fn sqlite_message(error: &rusqlite::Error) -> (String, Option<usize>) {
    match error {
        #[cfg(feature = "statement-offsets")]
        rusqlite::Error::SqlInputError { msg, offset, .. } => {
            (msg.clone(), usize::try_from(*offset).ok())
        }
        rusqlite::Error::SqliteFailure(_, Some(msg)) => (msg.clone(), None),
        other => (
            input_error_message(other).unwrap_or_else(|| other.to_string()),
            None,
        ),
    }
}

/// The `msg` of an error that carries SQLite's message next to the SQL it was about
/// (rusqlite's `SqlInputError`, whose `Display` appends the SQL and the offset), read
/// from its `Debug` form so that the variant need not be named.
fn input_error_message(error: &rusqlite::Error) -> Option<String> {
    let debug = format!("{error:?}");
    if !debug.starts_with("SqlInputError") {
        return None;
    }
    let quoted = &debug[debug.find("msg: \"")? + "msg: \"".len()..];
    let mut msg = String::new();
    let mut chars = quoted.chars();
    loop {
        match chars.next()? {
            '"' => return Some(msg),
            '\\' => match chars.next()? {
                'n' => msg.push('\n'),
                'r' => msg.push('\r'),
                't' => msg.push('\t'),
                '0' => msg.push('\0'),
                'u' => {
                    let hex: String = chars.by_ref().skip(1).take_while(|&c| c != '}').collect();
                    msg.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                c => msg.push(c),
            },
            c => msg.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_of_a_prepare_error_is_sqlites_alone() {
        let conn = Connection::open_in_memory().unwrap();
        for (sql, expected) in [
            ("SELEC 1", "near \"SELEC\": syntax error"),
            ("SELECT * FROM \"tab\\le\"", "no such table: tab\\le"),
            ("SELECT 'a\nb' FROM nowhere", "no such table: nowhere"),
            (
                "SELECT count(*) GROUP BY count(*)",
                "aggregate functions are not allowed in the GROUP BY clause",
            ),
        ] {
            let error = execute(&conn, sql).unwrap_err();
            assert_eq!(sqlite_message(&error).0, expected, "{error:?}");
            assert_eq!(
                input_error_message(&error).unwrap_or(expected.to_owned()),
                expected
            );
        }
        let error = rusqlite::Error::InvalidQuery;
        assert_eq!(sqlite_message(&error).0, error.to_string());
    }
}
