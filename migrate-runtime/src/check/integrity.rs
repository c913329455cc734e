//! Whether a migration may have damaged the database: only then do the whole-set
//! checks run `PRAGMA integrity_check` (see `schema::first_failure`).

use crate::sql::Statement;

/// The pragmas after which the database still passes `PRAGMA integrity_check`
/// whatever else a migration does: they only read, or change how SQLite enforces
/// foreign keys, rewrites `ALTER TABLE`, fires triggers, caches or plans. The
/// others, `writable_schema` (the schema edited as data), `schema_version`,
/// `ignore_check_constraints` (rows that fail a `CHECK`), `journal_mode` (a
/// rollback without a journal) and any not listed, can leave it damaged.
const INTACT_PRAGMAS: &[&str] = &[
    "analysis_limit",
    "application_id",
    "automatic_index",
    "busy_timeout",
    "cache_size",
    "cache_spill",
    "case_sensitive_like",
    "collation_list",
    "compile_options",
    "data_version",
    "database_list",
    "defer_foreign_keys",
    "foreign_key_check",
    "foreign_key_list",
    "foreign_keys",
    "function_list",
    "index_info",
    "index_list",
    "index_xinfo",
    "integrity_check",
    "legacy_alter_table",
    "module_list",
    "optimize",
    "pragma_list",
    "query_only",
    "quick_check",
    "recursive_triggers",
    "reverse_unordered_selects",
    "secure_delete",
    "table_info",
    "table_list",
    "table_xinfo",
    "temp_store",
    "trusted_schema",
    "user_version",
];

/// Whether `statements` may leave the database failing `PRAGMA integrity_check`:
/// only SQL that edits the database beneath SQLite's own statements can. SQLite
/// keeps a database it changes through its statements intact; what sets it aside is
/// a pragma not in [`INTACT_PRAGMAS`], an `ATTACH` (the check covers attached
/// databases too) or the `sqlite_dbpage` table (in an SQLite built with it).
pub(super) fn may_break_integrity(statements: &[Statement<'_>]) -> bool {
    statements.iter().any(|statement| {
        let (tokens, text) = (&statement.tokens, statement.text);
        if tokens.first().is_some_and(|t| t.is_keyword(text, "ATTACH")) {
            return true;
        }
        if let Some(pragma) = crate::rules::pragma(statement) {
            return !INTACT_PRAGMAS.contains(&pragma.name.as_str());
        }
        // The name, quoted or not: 13 to 15 bytes, read as a name only then.
        tokens.iter().any(|t| {
            (13..=15).contains(&t.text(text).len())
                && t.identifier(text)
                    .is_some_and(|name| name.eq_ignore_ascii_case("sqlite_dbpage"))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql;

    /// Every pragma not known to keep the database intact, in any case and with a
    /// schema, an `ATTACH` and `sqlite_dbpage` make the whole-set checks run
    /// `PRAGMA integrity_check`; the pragmas that keep it intact, table-valued
    /// pragmas, and the words in comments or strings do not.
    #[test]
    fn integrity_is_checked_after_whatever_may_break_it() {
        let breaks = |sql: &str| may_break_integrity(&sql::statements(sql));
        for sql in [
            "PRAGMA writable_schema = ON;",
            "pragma Writable_Schema=1",
            "PRAGMA main.schema_version = 3;",
            "CREATE TABLE t (x CHECK (x > 0));\nPRAGMA ignore_check_constraints = 1;",
            "PRAGMA journal_mode = OFF",
            "PRAGMA a_pragma_sqlite_does_not_have_yet(1);",
            "ATTACH ':memory:' AS other;",
            "CREATE TABLE t (x); attach database ':memory:' as other",
            "UPDATE sqlite_dbpage SET data = NULL WHERE pgno = 2",
            "UPDATE \"SQLITE_DBPAGE\" SET data = NULL WHERE pgno = 2",
            "INSERT INTO main.[sqlite_dbpage] VALUES (2, NULL)",
        ] {
            assert!(breaks(sql), "{sql}");
        }
        for sql in [
            "CREATE TABLE t (x);",
            "PRAGMA foreign_keys = OFF;\nCREATE TABLE t (x);\nPRAGMA FOREIGN_KEYS = on;",
            "PRAGMA defer_foreign_keys = ON; PRAGMA legacy_alter_table=1; PRAGMA user_version = 7;",
            "PRAGMA foreign_key_check; PRAGMA main.integrity_check; PRAGMA table_info(a);",
            "-- PRAGMA writable_schema = ON\nCREATE TABLE t (x); /* ATTACH 'x' AS y */",
            "INSERT INTO a VALUES ('PRAGMA writable_schema = ON'), ('sqlite_dbpage');",
            "SELECT * FROM pragma_table_info('a');",
            "CREATE TABLE attachments (id INTEGER PRIMARY KEY, sqlite_dbpages TEXT);",
        ] {
            assert!(!breaks(sql), "{sql}");
        }
    }

    /// Rows a migration inserts while `CHECK` constraints are ignored are damage the
    /// build reports, as a `writable_schema` edit is (`tests/ui/integrity.rs`).
    #[test]
    fn rows_failing_a_check_constraint_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("1_t.sql"),
            "CREATE TABLE t (x INTEGER CHECK (x > 0));",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("2_rows.sql"),
            "PRAGMA ignore_check_constraints = ON;\nINSERT INTO t VALUES (-1);\nPRAGMA ignore_check_constraints = OFF;",
        )
        .unwrap();
        let diagnostics = crate::check::check_dir(dir.path(), "m").unwrap_err();
        let shown = format!("{diagnostics:?}");
        assert!(
            shown.contains("integrity_check") && shown.contains("CHECK constraint failed"),
            "{shown}"
        );
    }
}
