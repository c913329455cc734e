//! The foreign keys and triggers of a database, kept up to date from the statements
//! of each migration, so that `PRAGMA foreign_key_check` runs only on the tables a
//! migration can have broken.

use std::collections::{BTreeSet, HashMap, HashSet};

use rusqlite::Connection;

use super::effect::{Effect, effect, trigger_body_effects};
use super::{Violation, check};
use crate::sql::Statement;

/// A trigger: its table, and what its body does.
#[derive(Debug, Clone)]
struct Trigger {
    table: String,
    /// What the body does, once read ([`Trigger::body`]).
    body: Vec<Effect>,
    /// The trigger's text as the database stores it, while its body is unread: a
    /// body is read when a write to its table is followed, and most migrations write
    /// to no table with a trigger (reading the bodies of 100 triggers took 15
    /// million instructions in the macro's unoptimised build, on every restore of a
    /// checkpoint).
    unread: Option<String>,
}

impl Trigger {
    /// A trigger read from the database: its body is read when it is needed.
    fn stored(table: String, sql: String) -> Self {
        Self {
            table,
            body: Vec::new(),
            unread: Some(sql),
        }
    }

    /// What the body does, read now if it was not yet.
    fn body(&mut self) -> &mut Vec<Effect> {
        if let Some(sql) = self.unread.take() {
            self.body = crate::sql::statements(&sql)
                .first()
                .map_or_else(|| vec![Effect::Unknown], trigger_body_effects);
        }
        &mut self.body
    }
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
    /// Reads every foreign key and trigger of the database.
    pub fn load(conn: &Connection) -> rusqlite::Result<Self> {
        let mut scope = Self::default();
        let mut stmt = conn.prepare(concat!(
            "SELECT lower(m.name), lower(f.\"table\") FROM sqlite_schema AS m
             JOIN pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table' AND ",
            super::declares_keys!("m")
        ))?;
        let edges = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for edge in edges {
            let (child, parent) = edge?;
            scope.link(child, parent);
        }
        scope.load_triggers(conn)?;
        Ok(scope)
    }

    /// Reads every trigger again, as SQLite stored it: after a rename, only the
    /// database knows which trigger bodies were rewritten (`legacy_alter_table` and
    /// the SQLite version decide).
    fn load_triggers(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        self.triggers.clear();
        self.by_table.clear();
        let mut stmt = conn.prepare_cached(
            "SELECT lower(name), lower(tbl_name), sql FROM sqlite_schema WHERE type = 'trigger'
             UNION ALL
             SELECT lower(name), lower(tbl_name), sql FROM sqlite_temp_schema WHERE type = 'trigger'",
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
            self.add_trigger(name, Trigger::stored(table, sql));
        }
        Ok(())
    }

    /// Reads again, as SQLite stored them, the triggers whose bodies write any of
    /// `tables`: after a rename only the database knows whether their bodies were
    /// rewritten (`legacy_alter_table` and the SQLite version decide).
    fn reload_writers_of(&mut self, conn: &Connection, tables: &[String]) -> rusqlite::Result<()> {
        let names: Vec<String> = self
            .triggers
            .iter_mut()
            .filter_map(|(name, t)| {
                t.body()
                    .iter()
                    .any(|e| matches!(e, Effect::Writes(w) if tables.contains(w)))
                    .then(|| name.clone())
            })
            .collect();
        let mut stmt = conn.prepare_cached(
            "SELECT lower(tbl_name), sql FROM sqlite_schema WHERE type = 'trigger' AND lower(name) = ?1
             UNION ALL
             SELECT lower(tbl_name), sql FROM sqlite_temp_schema WHERE type = 'trigger' AND lower(name) = ?1",
        )?;
        for name in names {
            let found: Option<(String, String)> = stmt
                .query_map([&name], |r| Ok((r.get(0)?, r.get(1)?)))?
                .next()
                .transpose()?;
            match found {
                Some((table, sql)) => self.add_trigger(name, Trigger::stored(table, sql)),
                None => self.remove_trigger(&name),
            }
        }
        Ok(())
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

    /// Removes the triggers of a table or view that was dropped: SQLite drops them too.
    fn remove_triggers_on(&mut self, table: &str) {
        for name in self.by_table.remove(table).unwrap_or_default() {
            self.triggers.remove(&name);
        }
    }

    /// While a migration runs, after `ALTER TABLE from RENAME TO to`: SQLite moves the
    /// table's triggers, and may or may not rewrite the trigger bodies that name it
    /// (not under `legacy_alter_table`). Until the triggers are read again from the
    /// database, a body that wrote `from` is taken to write both names.
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
        let renamed = Effect::Writes(to.to_owned());
        for trigger in self.triggers.values_mut() {
            let body = trigger.body();
            let writes_from = body
                .iter()
                .any(|e| matches!(e, Effect::Writes(t) if t == from));
            if writes_from && !body.contains(&renamed) {
                body.push(renamed.clone());
            }
        }
    }

    /// Every table a write to `table` may write through triggers, recursively; `None`
    /// when a trigger body does something that cannot be read.
    fn written_through_triggers(&mut self, table: &str) -> Option<BTreeSet<String>> {
        let mut written = BTreeSet::new();
        let mut queue = vec![table.to_owned()];
        while let Some(t) = queue.pop() {
            for name in self.by_table.get(&t).into_iter().flatten() {
                let body = self.triggers.get_mut(name).map(Trigger::body);
                for e in body.map_or(&[][..], |body| body.as_slice()) {
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
                if children.is_empty() {
                    self.children.remove(&parent);
                }
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
    ///
    /// The statements are followed in order, so a write counts the triggers that
    /// existed when it ran. Whatever only SQLite knows for sure (trigger bodies after
    /// a rename, which tables exist) is read back from the database at the end, so
    /// the map never drifts from the schema.
    pub fn check_after(
        &mut self,
        conn: &Connection,
        statements: &[Statement<'_>],
    ) -> rusqlite::Result<Vec<Violation>> {
        let effects: Vec<Effect> = statements.iter().map(effect).collect();
        if effects.contains(&Effect::Unknown) {
            return self.check_everything(conn);
        }
        // Tables whose rows may have changed, and tables whose schema did.
        let mut touched: HashSet<String> = HashSet::new();
        let mut changed: HashSet<String> = HashSet::new();
        let mut dropped: HashSet<String> = HashSet::new();
        // Old names of the tables renamed, whose writers SQLite may have rewritten.
        let mut renamed: Vec<String> = Vec::new();
        for (statement, e) in statements.iter().zip(&effects) {
            match e {
                Effect::None | Effect::Unknown => {}
                Effect::Writes(t) => {
                    touched.insert(t.clone());
                    match self.written_through_triggers(t) {
                        Some(more) => touched.extend(more),
                        None => return self.check_everything(conn),
                    }
                }
                Effect::Creates(t) => {
                    dropped.remove(t);
                    touched.insert(t.clone());
                    changed.insert(t.clone());
                }
                Effect::Alters(t, to) => {
                    touched.insert(t.clone());
                    changed.insert(t.clone());
                    if let Some(u) = to {
                        // The old name's children may now reference the new name, or
                        // (legacy_alter_table) still the old one, which no longer exists.
                        let children = self.children.get(t).into_iter().flatten().cloned();
                        let children: Vec<String> = children.collect();
                        touched.extend(children.iter().cloned());
                        changed.extend(children);
                        dropped.insert(t.clone());
                        dropped.remove(u);
                        touched.insert(u.clone());
                        changed.insert(u.clone());
                        self.rename_in_triggers(t, u);
                        renamed.push(t.clone());
                    }
                }
                Effect::Drops(t) => {
                    dropped.insert(t.clone());
                    touched.insert(t.clone());
                    self.remove_triggers_on(t);
                }
                Effect::DropsView(v) => self.remove_triggers_on(v),
                Effect::CreatesTrigger(name, on) => {
                    // `IF NOT EXISTS` over an existing trigger changes nothing.
                    if !(self.triggers.contains_key(name) && if_not_exists(statement)) {
                        let trigger = Trigger {
                            table: on.clone(),
                            body: trigger_body_effects(statement),
                            unread: None,
                        };
                        self.add_trigger(name.clone(), trigger);
                    }
                }
                Effect::DropsTrigger(name) => self.remove_trigger(name),
            }
        }
        if !renamed.is_empty() {
            self.reload_writers_of(conn, &renamed)?;
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
            match check(conn, Some(table)) {
                Ok(found) => violations.extend(found),
                // A name a trigger body writes need not exist: such a trigger fails
                // when it fires, so it did not fire.
                Err(e) if is_no_such_table(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(violations)
    }

    /// The fallback: reads the whole map again and checks every table.
    fn check_everything(&mut self, conn: &Connection) -> rusqlite::Result<Vec<Violation>> {
        *self = Self::load(conn)?;
        check(conn, None)
    }
}

impl Scope {
    /// The map as comparable data: every (child, parent) edge, and every trigger's
    /// table and body.
    #[cfg(test)]
    pub(super) fn snapshot(&self) -> Snapshot {
        let edges = self
            .parents
            .iter()
            .flat_map(|(child, parents)| parents.iter().map(|p| (child.clone(), p.clone())))
            .collect();
        let triggers = self
            .triggers
            .iter()
            .map(|(name, t)| (name.clone(), (t.table.clone(), t.clone().body().clone())))
            .collect();
        (edges, triggers)
    }
}

/// Every (child, parent) edge, and every trigger's table and body, by name.
#[cfg(test)]
pub(super) type Snapshot = (
    BTreeSet<(String, String)>,
    std::collections::BTreeMap<String, (String, Vec<Effect>)>,
);

/// Whether `CREATE [TEMP] TRIGGER IF NOT EXISTS …`.
fn if_not_exists(statement: &Statement<'_>) -> bool {
    let (t, text) = (&statement.tokens, statement.text);
    t.iter()
        .position(|tok| tok.is_keyword(text, "TRIGGER"))
        .is_some_and(|i| {
            t.get(i + 1).is_some_and(|k| k.is_keyword(text, "IF"))
                && t.get(i + 2).is_some_and(|k| k.is_keyword(text, "NOT"))
        })
}

fn is_no_such_table(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(_, Some(msg)) if msg.starts_with("no such table"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::statements;

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

    /// The load reads the keys of the tables whose SQL holds `REFERENCES` only: every
    /// way of declaring a key, in any case, is found, as SQLite lists them.
    #[test]
    fn the_load_finds_keys_declared_in_any_case_and_way() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE p (id INTEGER PRIMARY KEY);
             CREATE TABLE \"Mixed\" (a INT ReFeReNcEs p);
             CREATE TABLE t2 (a INT, b INT, CONSTRAINT k FOREIGN KEY (a) rEfErEnCeS \"P\" (id));
             CREATE TABLE t3 (a INT);
             ALTER TABLE t3 ADD COLUMN b INT REFERENCES Mixed;
             CREATE TABLE t4 (a INT /* no keys: references in a comment */, \"references\" INT);
             CREATE TABLE t5 AS SELECT * FROM t2;",
        )
        .unwrap();
        let listed: BTreeSet<(String, String)> = conn
            .prepare(
                "SELECT lower(m.name), lower(f.\"table\") FROM sqlite_schema AS m
                 JOIN pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table'",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(listed.len(), 3);
        assert_eq!(Scope::load(&conn).unwrap().snapshot().0, listed);
    }

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
}
