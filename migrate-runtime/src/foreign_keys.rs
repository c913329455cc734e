//! Foreign keys around a migration, the way SQLite documents schema changes
//! (<https://www.sqlite.org/lang_altertable.html#otheralter>): enforcement off outside
//! the transaction, so that `DROP TABLE` in a rebuild cascades nothing, then
//! `PRAGMA foreign_key_check` before COMMIT.
//!
//! The check is scoped to the tables a migration can have broken: those it writes,
//! creates, alters or drops, and the tables whose foreign keys point at them. The map
//! of foreign keys and triggers is read once and kept up to date from the statements,
//! so the cost of a check follows the migration, not the size of the schema. Writes
//! made by triggers count, read from the trigger bodies. A migration holding a
//! statement whose target cannot be read from its text gets the full check.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use rusqlite::Connection;

use crate::sql::Statement;

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

/// What a statement does to tables, as far as foreign keys are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Nothing a foreign key can see (`SELECT`, `CREATE INDEX`, `CREATE VIEW`...).
    None,
    /// Writes rows of a table.
    Writes(String),
    /// Creates a table.
    Creates(String),
    /// Alters a table, maybe renaming it.
    Alters(String, Option<String>),
    /// Drops a table.
    Drops(String),
    /// Creates a trigger on a table.
    CreatesTrigger(String, String),
    /// Drops a trigger.
    DropsTrigger(String),
    /// Could write anything (`WITH … INSERT`, a write to `sqlite_schema`...).
    Unknown,
}

/// The table named at token `at` (`[schema.]name`), lowercase, and the token after it.
pub(crate) fn name_at(statement: &Statement<'_>, at: usize) -> Option<(String, usize)> {
    let (t, text) = (&statement.tokens, statement.text);
    let (name, next) = if t.get(at + 1).is_some_and(|d| d.text(text) == ".") {
        (t.get(at + 2)?.identifier(text)?, at + 3)
    } else {
        (t.get(at)?.identifier(text)?, at + 1)
    };
    Some((name.to_ascii_lowercase(), next))
}

pub(crate) fn effect(statement: &Statement<'_>) -> Effect {
    let (t, text) = (&statement.tokens, statement.text);
    let kw = |i: usize, k: &str| t.get(i).is_some_and(|tok| tok.is_keyword(text, k));
    let Some(first) = statement.keyword() else {
        return Effect::Unknown;
    };
    // Skips `OR <conflict>` after INSERT/UPDATE, and `IF [NOT] EXISTS`.
    let skip_or = |i: usize| if kw(i, "OR") { i + 2 } else { i };
    let skip_if = |i: usize| {
        if kw(i, "IF") && kw(i + 1, "NOT") {
            i + 3
        } else if kw(i, "IF") {
            i + 2
        } else {
            i
        }
    };
    let named = |at: usize| name_at(statement, at).map(|(n, _)| n);
    let found = match first.as_str() {
        "INSERT" | "REPLACE" => {
            let at = skip_or(1);
            kw(at, "INTO")
                .then(|| named(at + 1))
                .flatten()
                .map(Effect::Writes)
        }
        "UPDATE" => named(skip_or(1)).map(Effect::Writes),
        "DELETE" => kw(1, "FROM")
            .then(|| named(2))
            .flatten()
            .map(Effect::Writes),
        "DROP" if kw(1, "TABLE") => named(skip_if(2)).map(Effect::Drops),
        "DROP" if kw(1, "TRIGGER") => named(skip_if(2)).map(Effect::DropsTrigger),
        "DROP" => Some(Effect::None),
        "ALTER" if kw(1, "TABLE") => name_at(statement, 2).map(|(table, next)| {
            let renamed = (kw(next, "RENAME") && kw(next + 1, "TO"))
                .then(|| named(next + 2))
                .flatten();
            Effect::Alters(table, renamed)
        }),
        "CREATE" => {
            let mut at = 1;
            if kw(at, "TEMP") || kw(at, "TEMPORARY") || kw(at, "UNIQUE") || kw(at, "VIRTUAL") {
                at += 1;
            }
            if kw(at, "TABLE") {
                named(skip_if(at + 1)).map(Effect::Creates)
            } else if kw(at, "TRIGGER") {
                let trigger = named(skip_if(at + 1));
                let on = t.iter().position(|tok| tok.is_keyword(text, "ON"));
                match (trigger, on.and_then(|i| named(i + 1))) {
                    (Some(trigger), Some(table)) => Some(Effect::CreatesTrigger(trigger, table)),
                    _ => None,
                }
            } else {
                Some(Effect::None)
            }
        }
        "SELECT" | "VALUES" | "ANALYZE" | "REINDEX" | "EXPLAIN" | "SAVEPOINT" | "RELEASE"
        | "BEGIN" | "COMMIT" | "END" | "ROLLBACK" | "VACUUM" | "ATTACH" | "DETACH" => {
            Some(Effect::None)
        }
        "PRAGMA" => {
            let p = crate::rules::pragma(statement);
            // writable_schema lets the schema be edited as rows; anything may follow.
            Some(if p.is_some_and(|p| p.name == "writable_schema") {
                Effect::Unknown
            } else {
                Effect::None
            })
        }
        _ => None,
    };
    match found {
        Some(Effect::Writes(t) | Effect::Creates(t) | Effect::Drops(t) | Effect::Alters(t, _))
            if t.starts_with("sqlite_") =>
        {
            Effect::Unknown
        }
        Some(e) => e,
        None => Effect::Unknown,
    }
}

/// What a trigger does when it fires: the effects of the statements of its body.
fn trigger_body_effects(statement: &Statement<'_>) -> Vec<Effect> {
    let (t, text) = (&statement.tokens, statement.text);
    let begin = t.iter().position(|tok| tok.is_keyword(text, "BEGIN"));
    let end = t.iter().rposition(|tok| tok.is_keyword(text, "END"));
    match (begin, end) {
        (Some(b), Some(e)) if b < e => {
            let body = &text[t[b].end..t[e].start];
            crate::sql::statements(body).iter().map(effect).collect()
        }
        _ => vec![Effect::Unknown],
    }
}

/// A trigger: its table, and what its body does.
#[derive(Debug, Clone)]
struct Trigger {
    table: String,
    body: Vec<Effect>,
}

/// The foreign keys and triggers of a database, kept up to date from the statements
/// of each migration, to scope `PRAGMA foreign_key_check`.
#[derive(Debug, Default)]
pub(crate) struct Scope {
    /// For each table (lowercase), the tables whose foreign keys reference it.
    children: HashMap<String, BTreeSet<String>>,
    /// For each table, the tables it references.
    parents: HashMap<String, BTreeSet<String>>,
    /// Every trigger, by name.
    triggers: HashMap<String, Trigger>,
    /// For each table, the names of its triggers.
    by_table: HashMap<String, BTreeSet<String>>,
}

impl Scope {
    /// Reads every foreign key and trigger of the main database.
    pub fn load(conn: &Connection) -> rusqlite::Result<Self> {
        let mut scope = Self::default();
        let mut stmt = conn.prepare(
            "SELECT lower(m.name), lower(f.\"table\") FROM sqlite_schema AS m
             JOIN pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table'",
        )?;
        let edges = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for edge in edges {
            let (child, parent) = edge?;
            scope.link(child, parent);
        }
        let mut stmt = conn.prepare(
            "SELECT lower(name), lower(tbl_name), sql FROM sqlite_schema WHERE type = 'trigger'",
        )?;
        let triggers = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for trigger in triggers {
            let (name, table, sql) = trigger?;
            let body = crate::sql::statements(&sql)
                .first()
                .map_or_else(|| vec![Effect::Unknown], trigger_body_effects);
            scope.add_trigger(name, Trigger { table, body });
        }
        Ok(scope)
    }

    fn add_trigger(&mut self, name: String, trigger: Trigger) {
        self.remove_trigger(&name);
        self.by_table
            .entry(trigger.table.clone())
            .or_default()
            .insert(name.clone());
        self.triggers.insert(name, trigger);
    }

    fn remove_trigger(&mut self, name: &str) {
        if let Some(trigger) = self.triggers.remove(name)
            && let Some(names) = self.by_table.get_mut(&trigger.table)
        {
            names.remove(name);
        }
    }

    /// After `ALTER TABLE from RENAME TO to`: SQLite moves the triggers and rewrites
    /// the trigger bodies that name the table.
    fn rename_in_triggers(&mut self, from: &str, to: &str) {
        if let Some(names) = self.by_table.remove(from) {
            for name in &names {
                if let Some(trigger) = self.triggers.get_mut(name) {
                    to.clone_into(&mut trigger.table);
                }
            }
            self.by_table
                .entry(to.to_owned())
                .or_default()
                .extend(names);
        }
        for trigger in self.triggers.values_mut() {
            for e in &mut trigger.body {
                if let Effect::Writes(t) = e
                    && t == from
                {
                    to.clone_into(t);
                }
            }
        }
    }

    /// Every table a write to `table` may write through triggers, recursively; `None`
    /// when a trigger body does something that cannot be read.
    fn written_through_triggers(&self, table: &str) -> Option<BTreeSet<String>> {
        let mut written = BTreeSet::new();
        let mut queue = vec![table.to_owned()];
        while let Some(t) = queue.pop() {
            for name in self.by_table.get(&t).into_iter().flatten() {
                for e in self.triggers.get(name).map_or(&[][..], |tr| &tr.body) {
                    match e {
                        Effect::None => {}
                        Effect::Writes(w) => {
                            if written.insert(w.clone()) {
                                queue.push(w.clone());
                            }
                        }
                        _ => return None,
                    }
                }
            }
        }
        Some(written)
    }

    fn link(&mut self, child: String, parent: String) {
        self.children
            .entry(parent.clone())
            .or_default()
            .insert(child.clone());
        self.parents.entry(child).or_default().insert(parent);
    }

    fn unlink(&mut self, child: &str) {
        for parent in self.parents.remove(child).unwrap_or_default() {
            if let Some(children) = self.children.get_mut(&parent) {
                children.remove(child);
            }
        }
    }

    /// Reads the foreign keys of `table` again (after it was created or altered).
    fn refresh(&mut self, conn: &Connection, table: &str) -> rusqlite::Result<()> {
        self.unlink(table);
        let mut stmt = conn
            .prepare_cached("SELECT DISTINCT lower(\"table\") FROM pragma_foreign_key_list(?1)")?;
        let parents: Vec<String> = stmt
            .query_map([table], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for parent in parents {
            self.link(table.to_owned(), parent);
        }
        Ok(())
    }

    /// After a migration's statements ran: updates the map, then runs
    /// `PRAGMA foreign_key_check` on every table the migration may have broken.
    pub fn check_after(
        &mut self,
        conn: &Connection,
        statements: &[Statement<'_>],
    ) -> rusqlite::Result<Vec<Violation>> {
        let effects: Vec<Effect> = statements.iter().map(effect).collect();
        if effects.contains(&Effect::Unknown) {
            *self = Self::load(conn)?;
            return check(conn, None);
        }
        // Tables whose rows may have changed, and tables whose schema did.
        let mut touched: HashSet<String> = HashSet::new();
        let mut changed: HashSet<String> = HashSet::new();
        let mut dropped: HashSet<String> = HashSet::new();
        let mut written: Vec<String> = Vec::new();
        for (statement, e) in statements.iter().zip(&effects) {
            match e {
                Effect::None | Effect::Unknown => {}
                Effect::Writes(t) => {
                    touched.insert(t.clone());
                    written.push(t.clone());
                }
                Effect::Creates(t) => {
                    dropped.remove(t);
                    touched.insert(t.clone());
                    changed.insert(t.clone());
                }
                Effect::Alters(t, renamed) => {
                    touched.insert(t.clone());
                    changed.insert(t.clone());
                    if let Some(u) = renamed {
                        // The old name's children may now reference the new name.
                        touched.extend(self.children.get(t).into_iter().flatten().cloned());
                        changed.extend(self.children.get(t).into_iter().flatten().cloned());
                        dropped.insert(t.clone());
                        dropped.remove(u);
                        touched.insert(u.clone());
                        changed.insert(u.clone());
                        self.rename_in_triggers(t, u);
                    }
                }
                Effect::Drops(t) => {
                    dropped.insert(t.clone());
                    touched.insert(t.clone());
                    if let Some(names) = self.by_table.remove(t) {
                        for name in names {
                            self.triggers.remove(&name);
                        }
                    }
                }
                Effect::CreatesTrigger(name, on) => {
                    let trigger = Trigger {
                        table: on.clone(),
                        body: trigger_body_effects(statement),
                    };
                    self.add_trigger(name.clone(), trigger);
                }
                Effect::DropsTrigger(name) => self.remove_trigger(name),
            }
        }
        // What the triggers of the written tables write, as they are now (a trigger
        // created after the write is counted too: the scope only grows).
        for table in &written {
            match self.written_through_triggers(table) {
                Some(more) => touched.extend(more),
                None => {
                    *self = Self::load(conn)?;
                    return check(conn, None);
                }
            }
        }
        for table in &changed {
            if dropped.contains(table) {
                self.unlink(table);
            } else {
                self.refresh(conn, table)?;
            }
        }
        for table in &dropped {
            self.unlink(table);
        }
        let mut tables: BTreeSet<&String> =
            touched.iter().filter(|t| !dropped.contains(*t)).collect();
        for table in &touched {
            tables.extend(
                self.children
                    .get(table)
                    .into_iter()
                    .flatten()
                    .filter(|c| !dropped.contains(*c)),
            );
        }
        let mut violations = Vec::new();
        for table in tables {
            violations.extend(check(conn, Some(table))?);
        }
        Ok(violations)
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
    use crate::sql::statements;

    fn effects(sql: &str) -> Vec<Effect> {
        statements(sql).iter().map(effect).collect()
    }

    #[test]
    fn statements_are_read_for_the_tables_they_change() {
        use Effect::*;
        let s = |x: &str| x.to_owned();
        assert_eq!(
            effects(
                "INSERT OR IGNORE INTO main.\"Books\" VALUES (1); REPLACE INTO a VALUES (1);
                 UPDATE OR FAIL b SET x = 1; DELETE FROM c; DROP TABLE IF EXISTS d;
                 ALTER TABLE e RENAME TO f; ALTER TABLE g ADD COLUMN y; CREATE TABLE IF NOT EXISTS h (x);
                 CREATE TEMP TRIGGER IF NOT EXISTS t1 AFTER INSERT ON i BEGIN SELECT 1; END;
                 DROP TRIGGER t1; CREATE INDEX j ON k (x); SELECT 1; PRAGMA legacy_alter_table = ON"
            ),
            [
                Writes(s("books")),
                Writes(s("a")),
                Writes(s("b")),
                Writes(s("c")),
                Drops(s("d")),
                Alters(s("e"), Some(s("f"))),
                Alters(s("g"), Option::None),
                Creates(s("h")),
                CreatesTrigger(s("t1"), s("i")),
                DropsTrigger(s("t1")),
                None,
                None,
                None,
            ]
        );
        for unknown in [
            "WITH x AS (SELECT 1) INSERT INTO a SELECT * FROM x",
            "UPDATE sqlite_schema SET sql = ''",
            "PRAGMA writable_schema = ON",
            "FOO BAR",
        ] {
            assert_eq!(effects(unknown), [Unknown], "{unknown}");
        }
    }

    /// Runs `setup`, loads the scope, runs `migration` with enforcement off and
    /// returns the scoped check, which must equal the full one.
    fn scoped(setup: &str, migration: &str) -> Vec<Violation> {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(setup).unwrap();
        let mut scope = Scope::load(&conn).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        conn.execute_batch(migration).unwrap();
        let found = scope.check_after(&conn, &statements(migration)).unwrap();
        assert_eq!(
            found,
            check(&conn, None).unwrap(),
            "scoped check differs from the full one"
        );
        found
    }

    const PARENT_CHILD: &str = "
        CREATE TABLE parent (id INTEGER PRIMARY KEY);
        CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE);
        CREATE TABLE other (id INTEGER PRIMARY KEY);
        INSERT INTO parent VALUES (1), (2);
        INSERT INTO child VALUES (10, 1), (20, 2);";

    #[test]
    fn a_rebuild_that_keeps_the_rows_passes_and_one_that_loses_them_is_found() {
        let rebuild = |keep: &str| {
            format!(
                "CREATE TABLE parent_new (id INTEGER PRIMARY KEY, name TEXT);
                 INSERT INTO parent_new (id) SELECT id FROM parent WHERE {keep};
                 DROP TABLE parent;
                 ALTER TABLE parent_new RENAME TO parent;"
            )
        };
        assert_eq!(scoped(PARENT_CHILD, &rebuild("1")), []);
        let lost = scoped(PARENT_CHILD, &rebuild("id = 1"));
        assert_eq!(
            lost,
            [Violation {
                table: "child".into(),
                rowid: Some(20),
                parent: "parent".into()
            }]
        );
    }

    #[test]
    fn writes_dropped_parents_and_triggers_are_all_in_scope() {
        assert_eq!(
            scoped(PARENT_CHILD, "INSERT INTO child VALUES (30, 3)").len(),
            1
        );
        assert_eq!(
            scoped(PARENT_CHILD, "DELETE FROM parent WHERE id = 2").len(),
            1
        );
        assert_eq!(scoped(PARENT_CHILD, "DROP TABLE parent").len(), 2);
        assert_eq!(scoped(PARENT_CHILD, "INSERT INTO other VALUES (1)"), []);
        // A trigger on `other` breaks `child`: the table written has a trigger, so the full check runs.
        let trigger = "CREATE TRIGGER t AFTER INSERT ON other BEGIN INSERT INTO child VALUES (NEW.id + 100, 99); END;";
        let setup = format!("{PARENT_CHILD}{trigger}");
        assert_eq!(scoped(&setup, "INSERT INTO other VALUES (5)").len(), 1);
        // Created in the same migration too.
        assert_eq!(
            scoped(
                PARENT_CHILD,
                &format!("{trigger} INSERT INTO other VALUES (5);")
            )
            .len(),
            1
        );
    }

    #[test]
    fn writes_through_chains_of_triggers_are_followed() {
        let chain = "CREATE TABLE hop (x);
            CREATE TRIGGER t1 AFTER INSERT ON other BEGIN SELECT 1; INSERT INTO hop VALUES (NEW.id); END;
            CREATE TRIGGER t2 AFTER INSERT ON hop BEGIN INSERT INTO child VALUES (NEW.x + 100, 99); END;";
        let setup = format!("{PARENT_CHILD}{chain}");
        assert_eq!(scoped(&setup, "INSERT INTO other VALUES (5)").len(), 1);
        // After a rename, the trigger follows the table and its body the new name.
        let renamed = format!("{setup} ALTER TABLE hop RENAME TO hop2;");
        assert_eq!(scoped(&renamed, "INSERT INTO other VALUES (6)").len(), 1);
        assert_eq!(
            scoped(
                PARENT_CHILD,
                &format!("{chain} ALTER TABLE hop RENAME TO hop3; INSERT INTO other VALUES (7);")
            )
            .len(),
            1
        );
        // A body that only reads or raises writes nothing.
        let raise = format!(
            "{PARENT_CHILD} CREATE TRIGGER guard BEFORE INSERT ON other BEGIN SELECT RAISE(IGNORE) WHERE NEW.id < 0; END;"
        );
        assert_eq!(scoped(&raise, "INSERT INTO other VALUES (8)"), []);
    }

    #[test]
    fn a_rename_with_legacy_alter_table_leaves_children_on_the_old_name() {
        let migration = "PRAGMA legacy_alter_table = ON; ALTER TABLE parent RENAME TO parent_old;";
        assert_eq!(scoped(PARENT_CHILD, migration).len(), 2);
        assert_eq!(
            scoped(PARENT_CHILD, "ALTER TABLE parent RENAME TO renamed"),
            []
        );
    }

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
