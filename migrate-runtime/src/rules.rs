//! What a migration may hold besides valid SQL: the first-line directive, the
//! statements that cannot run inside a transaction, and the connection settings a
//! migration may change (the runner puts them back afterwards).
//!
//! The macro and the runner share these rules, so that what builds is what runs.

use crate::sql::{Statement, TokenKind};

/// The first-line directive of a migration that runs without a transaction.
pub const NO_TRANSACTION: &str = "-- migrate:no-transaction";

/// A `-- migrate:…` comment that is not a valid first-line directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectiveError {
    /// Byte offset of the comment in the migration.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// Whether `sql` starts with [`NO_TRANSACTION`] (spaces around the words are allowed).
///
/// # Errors
///
/// A `-- migrate:` comment with an unknown directive, or a directive that is not on
/// the first line, where it would silently do nothing.
pub fn no_transaction(sql: &str) -> Result<bool, DirectiveError> {
    let mut found = false;
    for token in crate::sql::tokenize(sql) {
        if token.kind != TokenKind::Comment {
            continue;
        }
        let text = token.text(sql);
        let Some(body) = text.strip_prefix("--") else {
            continue;
        };
        let Some(directive) = body.trim().strip_prefix("migrate:") else {
            continue;
        };
        let on_first_line = !sql[..token.start].contains('\n');
        match directive.trim() {
            // An acknowledgement of a change, read by the deploy-safety check.
            allow if allow.split_whitespace().next() == Some("allow") => {}
            "no-transaction" if on_first_line => found = true,
            "no-transaction" => {
                return Err(DirectiveError {
                    offset: token.start,
                    message: format!("`{NO_TRANSACTION}` must be the first line of the migration"),
                });
            }
            other => {
                return Err(DirectiveError {
                    offset: token.start,
                    message: format!(
                        "unknown directive `migrate:{other}`; the directives are `{NO_TRANSACTION}`, on the first line, and `-- migrate:allow <kind> <object>`, which acknowledges a change"
                    ),
                });
            }
        }
    }
    Ok(found)
}

/// A `PRAGMA` statement: its name (lowercase, schema dropped) and whether it sets a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pragma {
    /// The pragma's name, lowercase.
    pub name: String,
    /// Whether it assigns a value (`= value` or `(value)`) rather than reading one.
    pub sets: bool,
}

/// The pragma `statement` runs, if it is a `PRAGMA` statement.
pub fn pragma(statement: &Statement<'_>) -> Option<Pragma> {
    let (t, text) = (&statement.tokens, statement.text);
    if !t.first()?.is_keyword(text, "PRAGMA") {
        return None;
    }
    let name_at = if t.get(2).is_some_and(|d| d.text(text) == ".") {
        3
    } else {
        1
    };
    let name = t.get(name_at)?.identifier(text)?.to_ascii_lowercase();
    let sets = t
        .get(name_at + 1)
        .is_some_and(|n| matches!(n.text(text), "=" | "("));
    Some(Pragma { name, sets })
}

/// Pragmas that a migration running in a transaction must not set, and what to do instead.
///
/// Decided from SQLite's documentation (<https://www.sqlite.org/pragma.html>), and
/// each shown on a real database in this module's tests.
pub const REJECTED_PRAGMAS: &[(&str, &str)] = &[
    (
        "journal_mode",
        "SQLite cannot change into or out of WAL inside a transaction, and the journal mode belongs to the application's connection setup; set it there, or in a migration whose first line is `-- migrate:no-transaction`",
    ),
    (
        "locking_mode",
        "the locking mode outlives the migration and changes how the application's connection locks the file; set it in the application's connection setup",
    ),
    (
        "synchronous",
        "SQLite refuses to change the safety level inside a transaction, and it belongs to the application's connection setup; set it there",
    ),
    (
        "page_size",
        "a new page size only applies after a VACUUM, which cannot run in a transaction; put both in a migration whose first line is `-- migrate:no-transaction`",
    ),
    (
        "auto_vacuum",
        "switching auto_vacuum on an existing database needs a VACUUM, which cannot run in a transaction; put both in a migration whose first line is `-- migrate:no-transaction`",
    ),
    (
        "case_sensitive_like",
        "it changes LIKE for the application's connection and cannot be read back, so the runner could not restore it; use `GLOB` or a `COLLATE` clause in the statement instead",
    ),
];

/// Connection settings a migration may change. They work inside a transaction but
/// outlive it, so the runner (and the build-time check) reads each one a migration
/// sets before the migration and puts it back after, on every path.
pub const RESTORED_PRAGMAS: &[&str] = &[
    "automatic_index",
    "busy_timeout",
    "cache_size",
    "cache_spill",
    "cell_size_check",
    "defer_foreign_keys",
    "ignore_check_constraints",
    "legacy_alter_table",
    "query_only",
    "recursive_triggers",
    "reverse_unordered_selects",
    "secure_delete",
    "temp_store",
    "trusted_schema",
    "writable_schema",
];

/// Why `statement` cannot run in a migration's transaction, and what to do: its
/// description (`` `VACUUM` ``) and help. `None` when it can.
pub fn outside_transaction_only(statement: &Statement<'_>) -> Option<(String, &'static str)> {
    const OWN_MIGRATION: &str = "SQLite refuses it inside a transaction; put it in a migration of its own whose first line is `-- migrate:no-transaction`";
    let keyword = statement.keyword()?;
    match keyword.as_str() {
        "VACUUM" | "ATTACH" | "DETACH" => Some((format!("`{keyword}`"), OWN_MIGRATION)),
        "PRAGMA" => {
            let p = pragma(statement).filter(|p| p.sets)?;
            let (_, help) = REJECTED_PRAGMAS.iter().find(|(name, _)| *name == p.name)?;
            Some((format!("`PRAGMA {}`", p.name), help))
        }
        _ => None,
    }
}

/// `PRAGMA foreign_keys = OFF` … `ON`, which drizzle-kit, Prisma and hand-written
/// rebuilds put around a table rebuild, is accepted: it asks for what the runner
/// already does around every migration (enforcement off outside the transaction,
/// `PRAGMA foreign_key_check` before COMMIT). Inside the migration's transaction
/// SQLite ignores it; in a `-- migrate:no-transaction` migration it takes effect for
/// the rest of that migration, and the runner puts the setting back after it.
pub const FOREIGN_KEYS: &str = "foreign_keys";

/// The [`RESTORED_PRAGMAS`] that a migration's statements set, each once, in order
/// of appearance, and [`FOREIGN_KEYS`] when it sets it.
pub fn restored_settings(statements: &[Statement<'_>]) -> Vec<&'static str> {
    let mut found: Vec<&'static str> = Vec::new();
    for statement in statements {
        let Some(p) = pragma(statement).filter(|p| p.sets) else {
            continue;
        };
        let name = if p.name == FOREIGN_KEYS {
            Some(FOREIGN_KEYS)
        } else {
            RESTORED_PRAGMAS.iter().copied().find(|&n| n == p.name)
        };
        if let Some(name) = name
            && !found.contains(&name)
        {
            found.push(name);
        }
    }
    found
}

/// The [`RESTORED_PRAGMAS`] a migration sets, with the values they had before it.
#[derive(Debug, Default)]
pub(crate) struct Settings(Vec<(&'static str, rusqlite::types::Value)>);

impl Settings {
    /// Reads the current value of every setting the statements change.
    pub fn save(
        conn: &rusqlite::Connection,
        statements: &[Statement<'_>],
    ) -> rusqlite::Result<Self> {
        let mut saved = Vec::new();
        for name in restored_settings(statements) {
            let value = conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))?;
            saved.push((name, value));
        }
        Ok(Self(saved))
    }

    /// Puts every saved setting back, outside the migration's transaction.
    pub fn restore(&self, conn: &rusqlite::Connection) {
        use rusqlite::types::Value;
        for (name, value) in &self.0 {
            let literal = match value {
                Value::Integer(i) => i.to_string(),
                Value::Text(t) => format!("'{}'", t.replace('\'', "''")),
                _ => continue,
            };
            let _ = conn.execute_batch(&format!("PRAGMA {name} = {literal}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;
    use crate::sql::statements;

    #[test]
    fn the_directive_is_the_first_line_only() {
        assert_eq!(
            no_transaction("-- migrate:no-transaction\nVACUUM"),
            Ok(true)
        );
        assert_eq!(
            no_transaction("--   migrate:no-transaction  \r\nVACUUM"),
            Ok(true)
        );
        assert_eq!(no_transaction("VACUUM -- migrate:no-transaction"), Ok(true));
        assert_eq!(no_transaction("-- no-transaction\nVACUUM"), Ok(false));
        assert_eq!(
            no_transaction("SELECT '-- migrate:no-transaction'"),
            Ok(false)
        );
        let late = no_transaction("-- header\n-- migrate:no-transaction\nVACUUM").unwrap_err();
        assert_eq!(late.offset, 10);
        assert!(late.message.contains("must be the first line"), "{late:?}");
        let typo = no_transaction("-- migrate:notransaction\nVACUUM").unwrap_err();
        assert!(
            typo.message
                .starts_with("unknown directive `migrate:notransaction`"),
            "{typo:?}"
        );
    }

    #[test]
    fn pragmas_are_parsed_with_or_without_schema_and_value() {
        let parse = |sql: &str| pragma(&statements(sql)[0]);
        let p = |name: &str, sets| {
            Some(Pragma {
                name: name.to_owned(),
                sets,
            })
        };
        assert_eq!(parse("PRAGMA foreign_keys = OFF"), p("foreign_keys", true));
        assert_eq!(parse("pragma main.Foreign_Keys=0"), p("foreign_keys", true));
        assert_eq!(
            parse("PRAGMA \"journal_mode\"(WAL)"),
            p("journal_mode", true)
        );
        assert_eq!(parse("PRAGMA foreign_keys"), p("foreign_keys", false));
        assert_eq!(parse("PRAGMA table_info"), p("table_info", false));
        assert_eq!(parse("SELECT 1"), None);
    }

    fn rejected(sql: &str) -> Option<String> {
        outside_transaction_only(&statements(sql)[0]).map(|(what, _)| what)
    }

    #[test]
    fn statements_that_cannot_run_in_a_transaction() {
        for (sql, what) in [
            ("VACUUM", "`VACUUM`"),
            ("vacuum main", "`VACUUM`"),
            ("ATTACH 'x.db' AS x", "`ATTACH`"),
            ("DETACH x", "`DETACH`"),
            ("PRAGMA journal_mode = WAL", "`PRAGMA journal_mode`"),
            ("PRAGMA main.page_size = 8192", "`PRAGMA page_size`"),
        ] {
            assert_eq!(rejected(sql).as_deref(), Some(what), "{sql}");
        }
        for sql in [
            "PRAGMA foreign_keys",
            "PRAGMA foreign_keys = OFF",
            "PRAGMA foreign_keys=ON",
            "PRAGMA journal_mode",
            "PRAGMA foreign_key_check",
            "PRAGMA user_version",
            "PRAGMA legacy_alter_table = ON",
            "PRAGMA defer_foreign_keys = ON",
            "CREATE TABLE vacuum (x)",
            "SELECT 1",
        ] {
            assert_eq!(rejected(sql), None, "{sql}");
        }
    }

    #[test]
    fn restored_settings_are_found_once_each() {
        let sql = "PRAGMA legacy_alter_table=ON; ALTER TABLE a RENAME TO b; PRAGMA legacy_alter_table = OFF; PRAGMA recursive_triggers(1); PRAGMA user_version = 3";
        assert_eq!(
            restored_settings(&statements(sql)),
            ["legacy_alter_table", "recursive_triggers"]
        );
    }

    /// Every pragma decision above, shown on a real database file: the rejected ones
    /// fail or do nothing inside a transaction, the restored ones work there and
    /// outlive it.
    #[test]
    fn each_decision_matches_what_sqlite_does_in_a_transaction() -> rusqlite::Result<()> {
        let dir =
            tempfile::tempdir().map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
        let conn = Connection::open(dir.path().join("a.db"))?;
        conn.execute_batch("CREATE TABLE t (x); PRAGMA foreign_keys = ON")?;
        let get = |name: &str| -> rusqlite::Result<String> {
            conn.query_row(&format!("PRAGMA {name}"), [], |r| {
                Ok(match r.get_ref(0)? {
                    rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                    other => other.as_str().unwrap_or_default().to_owned(),
                })
            })
        };

        conn.execute_batch("BEGIN")?;
        for sql in [
            "VACUUM",
            "ATTACH ':memory:' AS other",
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = OFF",
        ] {
            let r = conn.execute_batch(sql).and_then(|()| get("journal_mode"));
            let worked = r.is_ok_and(|mode| mode != "delete")
                || (sql.contains("synchronous") && get("synchronous").as_deref() == Ok("0"));
            assert!(!worked, "{sql} worked in a transaction");
        }
        conn.execute_batch("PRAGMA foreign_keys = OFF")?;
        assert_eq!(
            get("foreign_keys")?,
            "1",
            "foreign_keys changed inside a transaction"
        );
        conn.execute_batch("PRAGMA page_size = 8192")?;
        for name in RESTORED_PRAGMAS {
            let before = get(name)?;
            let other = match (*name, before.as_str()) {
                ("busy_timeout" | "cache_size", _) => "1234",
                ("temp_store" | "secure_delete", "2") => "1",
                (_, "0") => "1",
                _ => "0",
            };
            conn.execute_batch(&format!("PRAGMA {name} = {other}"))?;
            assert_eq!(
                get(name)?,
                other,
                "{name} did not change inside a transaction"
            );
        }
        conn.execute_batch("COMMIT")?;
        assert_eq!(
            get("page_size")?,
            "4096",
            "page_size changed without VACUUM"
        );
        assert_eq!(
            get("legacy_alter_table")?,
            "1",
            "the setting did not outlive the transaction"
        );
        Ok(())
    }
}
