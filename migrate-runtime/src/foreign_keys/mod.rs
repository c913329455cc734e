//! Foreign keys around a migration, the way SQLite documents schema changes
//! (<https://www.sqlite.org/lang_altertable.html#otheralter>): enforcement off outside
//! the transaction, so that `DROP TABLE` in a rebuild cascades nothing, then
//! `PRAGMA foreign_key_check` before COMMIT.
//!
//! The check is scoped to the tables a migration can have broken: those it writes,
//! creates, alters or drops, and the tables whose foreign keys point at them. The map
//! of foreign keys and triggers is read once and kept up to date from the statements,
//! so the cost of a check follows the migration, not the size of the schema. Writes
//! made by triggers count, read from the trigger bodies. What only SQLite knows for
//! sure is read back from the database: the foreign keys of every table whose schema
//! changed, and, after a rename, every trigger body (`legacy_alter_table` decides
//! whether SQLite rewrote them). A migration holding a statement whose target cannot
//! be read from its text gets the full check.
//!
//! `generated.rs` searches for drift with thousands of generated migration sequences.

mod effect;
#[cfg(test)]
mod generated;
mod scope;

/// The SQL condition that a row `$m` of `sqlite_schema` may declare foreign keys,
/// for the queries that read every table's keys: `pragma_foreign_key_list` prepares
/// a statement per table it is given (about 6 µs each in the macro's unoptimised
/// SQLite), and a table whose SQL lacks `REFERENCES`, which every foreign key clause
/// holds and SQLite matches in ASCII case only, has none.
macro_rules! declares_keys {
    ($m:literal) => {
        concat!("instr(lower(", $m, ".sql), 'references') > 0")
    };
}
pub(crate) use declares_keys;

use std::fmt;

use rusqlite::Connection;

#[cfg(feature = "check")]
use crate::sql::Statement;
#[cfg(feature = "check")]
pub(crate) use effect::{Effect, effect, name_at};
pub(crate) use scope::Scope;

/// A row that breaks a foreign key, from `PRAGMA foreign_key_check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The table holding the row.
    pub table: String,
    /// The row's rowid (`None` for a `WITHOUT ROWID` table).
    pub rowid: Option<i64>,
    /// The table the row references.
    pub parent: String,
}

/// `` `books` row 1 references a missing row of `authors` ``.
impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rowid {
            Some(id) => write!(f, "`{}` row {id}", self.table)?,
            None => write!(f, "a row of `{}`", self.table)?,
        }
        write!(f, " references a missing row of `{}`", self.parent)
    }
}

/// Shows at most five violations, then how many more there are.
pub(crate) fn describe(violations: &[Violation]) -> String {
    let mut shown: Vec<String> = violations.iter().take(5).map(ToString::to_string).collect();
    if violations.len() > 5 {
        shown.push(format!("and {} more", violations.len() - 5));
    }
    shown.join("; ")
}

/// Where a violation most likely comes from: the first statement writing the child
/// table, else the first changing the parent, else the first naming either.
#[cfg(feature = "check")]
pub(crate) fn culprit<'s, 'a>(
    statements: &'s [Statement<'a>],
    v: &Violation,
) -> Option<&'s Statement<'a>> {
    let (child, parent) = (v.table.to_ascii_lowercase(), v.parent.to_ascii_lowercase());
    let effects: Vec<Effect> = statements.iter().map(effect).collect();
    let at = |wanted: &dyn Fn(&Effect) -> bool| effects.iter().position(wanted);
    let found = at(&|e| matches!(e, Effect::Writes(t) if *t == child))
        .or_else(|| {
            at(&|e| {
                matches!(e, Effect::Writes(t) | Effect::Drops(t) | Effect::Alters(t, _) if *t == parent)
            })
        })
        .or_else(|| first_naming(statements, &[&child, &parent]))?;
    statements.get(found)
}

/// The index of the first statement naming any of `names` (a table, a view...).
#[cfg(feature = "check")]
pub(crate) fn first_naming(statements: &[Statement<'_>], names: &[&str]) -> Option<usize> {
    statements.iter().position(|s| {
        s.tokens.iter().any(|t| {
            t.identifier(s.text)
                .is_some_and(|id| names.iter().any(|n| id.eq_ignore_ascii_case(n)))
        })
    })
}

/// Switches enforcement off for as long as it lives, then back to what it was.
pub(crate) struct Off<'c> {
    conn: &'c Connection,
    /// Whether enforcement was on, so `foreign_key_check` runs before each COMMIT.
    pub was_on: bool,
}

impl<'c> Off<'c> {
    /// Must be called outside a transaction: SQLite ignores the pragma inside one.
    pub fn new(conn: &'c Connection) -> rusqlite::Result<Self> {
        let was_on: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
        if was_on {
            conn.execute_batch("PRAGMA foreign_keys = OFF")?;
        }
        Ok(Self { conn, was_on })
    }
}

impl Drop for Off<'_> {
    fn drop(&mut self) {
        if self.was_on {
            // A transaction left open by a failure is rolled back first, or the pragma
            // would be ignored.
            if !self.conn.is_autocommit() {
                let _ = self.conn.execute_batch("ROLLBACK");
            }
            let _ = self.conn.execute_batch("PRAGMA foreign_keys = ON");
        }
    }
}

/// `PRAGMA foreign_key_check`, on one table or all of them.
pub(crate) fn check(conn: &Connection, table: Option<&str>) -> rusqlite::Result<Vec<Violation>> {
    let mut stmt = match table {
        Some(_) => conn
            .prepare_cached("SELECT \"table\", rowid, parent FROM pragma_foreign_key_check(?1)")?,
        None => {
            conn.prepare_cached("SELECT \"table\", rowid, parent FROM pragma_foreign_key_check")?
        }
    };
    let map = |r: &rusqlite::Row<'_>| {
        Ok(Violation {
            table: r.get(0)?,
            rowid: r.get(1)?,
            parent: r.get(2)?,
        })
    };
    match table {
        Some(t) => stmt.query_map([t], map)?.collect(),
        None => stmt.query_map([], map)?.collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enforcement_is_restored_on_drop_even_with_a_transaction_open() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        {
            let off = Off::new(&conn).unwrap();
            assert!(off.was_on);
            let on: bool = conn
                .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
                .unwrap();
            assert!(!on);
            conn.execute_batch("BEGIN").unwrap();
        }
        assert!(conn.is_autocommit());
        let on: bool = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert!(on);
    }
}
