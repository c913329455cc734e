//! Generated migration sequences that search for the ways the scoped check can drift
//! from the database: tables with and without foreign keys, `CREATE`/`DROP`/`RENAME` of
//! tables and columns with `legacy_alter_table` on and off, rebuilds in both orders,
//! triggers whose bodies write other tables (on tables and on views), views, and rows
//! that do and do not break a key.
//!
//! Each statement is generated from the schema as it is at that moment and executed
//! at once; a statement SQLite refuses is left out, so every sequence is one plain
//! SQLite runs. After every migration:
//!
//! - the scoped check reports exactly what `PRAGMA foreign_key_check` reports on the
//!   whole database, and
//! - the map of foreign keys and triggers equals one read again from the database.
//!
//! After every sequence, the build ([`validate`]) and the runner ([`Migrations::run`],
//! on a connection that enforces foreign keys) accept exactly the migrations that
//! plain SQLite accepts with foreign keys enforced the runner's way, and reject the
//! others at the same migration with the same rows; the build also applies its
//! documented whole-set rules, checked here independently.
//!
//! `MIGRATE_FK_CASES=N` runs N sequences (the default takes a few seconds);
//! `MIGRATE_FK_SEED=S` starts from seed S. A failing seed is kept in [`FOUND`].

use std::fmt::Write as _;

use rusqlite::Connection;

use super::{Scope, Violation, check};
use crate::check::{SourceMigration, validate};
use crate::{Error, Migrations};

/// Seeds that once failed, run first every time.
const FOUND: &[u64] = &[];

/// Triggers stop writing a table at this many rows, so that chains of triggers
/// cannot grow tables exponentially over a long sequence.
const ROWS: usize = 40;

/// How many sequences `cargo test` runs.
const DEFAULT_CASES: u64 = 400;

fn env_u64(name: &str) -> Option<u64> {
    #[expect(
        clippy::disallowed_methods,
        reason = "a test knob, not the macro's environment"
    )]
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[test]
fn the_scoped_check_never_drifts_from_the_database() {
    let cases = env_u64("MIGRATE_FK_CASES").unwrap_or(DEFAULT_CASES);
    let first = env_u64("MIGRATE_FK_SEED").unwrap_or(0);
    let mut stats = Stats::default();
    for seed in FOUND.iter().copied().chain(first..first + cases) {
        run_case(seed, &mut stats);
    }
    eprintln!("{stats:?}");
    // The generator must reach what it is meant to search, or the test proves little.
    assert!(stats.accepted > cases, "{stats:?}");
    assert!(stats.rejected > cases / 10, "{stats:?}");
    assert!(stats.legacy_renames > cases / 10, "{stats:?}");
    assert!(stats.trigger_writes > cases / 10, "{stats:?}");
    assert!(stats.whole_set_rejects > 0, "{stats:?}");
}

#[derive(Debug, Default)]
struct Stats {
    accepted: u64,
    rejected: u64,
    legacy_renames: u64,
    trigger_writes: u64,
    whole_set_rejects: u64,
}

/// What plain SQLite did with a generated migration.
struct Outcome {
    sql: String,
    /// `None` when accepted; the rows `PRAGMA foreign_key_check` reported otherwise.
    violations: Option<Vec<Violation>>,
}

fn run_case(seed: u64, stats: &mut Stats) {
    let mut g = Gen {
        rng: fastrand::Rng::with_seed(seed),
        next: 0,
    };
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    let mut scope = Scope::default();
    let mut outcomes = Vec::new();
    for _ in 0..g.rng.usize(3..9) {
        conn.execute_batch("BEGIN").unwrap();
        let mut sql = String::new();
        for _ in 0..g.rng.usize(1..6) {
            for statement in g.statements(&conn) {
                let legacy: bool = conn
                    .query_row("PRAGMA legacy_alter_table", [], |r| r.get(0))
                    .unwrap();
                let before = conn.total_changes();
                if conn.execute_batch(&statement).is_ok() {
                    let _ = writeln!(sql, "{statement};");
                    stats.legacy_renames += u64::from(legacy && statement.contains("RENAME TO"));
                    let by_triggers = conn.total_changes() - before > conn.changes();
                    stats.trigger_writes += u64::from(by_triggers);
                }
                assert!(
                    !conn.is_autocommit(),
                    "seed {seed}: {statement} ended the transaction"
                );
            }
        }
        let statements = crate::sql::statements(&sql);
        let scoped = scope.check_after(&conn, &statements).map(sorted);
        let full = check(&conn, None).map(sorted);
        let context = || format!("seed {seed}, migration {}:\n{sql}", outcomes.len() + 1);
        match (&scoped, &full) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "scoped check differs, {}", context()),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{}", context()),
            _ => panic!("scoped {scoped:?}, full {full:?}, {}", context()),
        }
        let violations = full.unwrap_or_default();
        if violations.is_empty() {
            conn.execute_batch("COMMIT").unwrap();
            stats.accepted += 1;
            let fresh = Scope::load(&conn).unwrap();
            assert_eq!(
                scope.snapshot(),
                fresh.snapshot(),
                "map drifted, {}",
                context()
            );
        } else {
            conn.execute_batch("ROLLBACK").unwrap();
            stats.rejected += 1;
            scope = Scope::load(&conn).unwrap();
        }
        conn.execute_batch("PRAGMA legacy_alter_table = OFF")
            .unwrap();
        outcomes.push(Outcome {
            sql,
            violations: (!violations.is_empty()).then_some(violations),
        });
    }
    let whole_set_ok = whole_set_ok(&conn);
    stats.whole_set_rejects += u64::from(!whole_set_ok);
    check_build_and_runner(seed, &outcomes, whole_set_ok);
}

fn sorted(mut v: Vec<Violation>) -> Vec<Violation> {
    v.sort_by(|a, b| (&a.table, a.rowid, &a.parent).cmp(&(&b.table, b.rowid, &b.parent)));
    v
}

/// Chains recomputed for a subset of a sequence, as the macro computes them.
fn rechain(set: &mut [SourceMigration]) {
    let mut previous = crate::checksum::CHAIN_START;
    for m in set {
        m.chain = crate::checksum::chain(&previous, m.version, &m.checksum);
        previous = m.chain;
    }
}

/// The build's documented whole-set rules, read from the final database: the
/// integrity check passes, every view can be queried, every foreign key's parent
/// table exists, `PRAGMA foreign_key_check` runs (no parent key that is not
/// unique), and every trigger compiles when its event happens.
fn whole_set_ok(conn: &Connection) -> bool {
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    let views: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'view'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let views_ok = views
        .iter()
        .all(|v| conn.prepare(&format!("SELECT * FROM \"{v}\"")).is_ok());
    let dangling: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema AS m JOIN pragma_foreign_key_list(m.name) AS f
             WHERE m.type = 'table' AND lower(f.\"table\") NOT IN
                 (SELECT lower(name) FROM sqlite_schema WHERE type = 'table')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    // Every trigger compiles when its event happens.
    let triggers: Vec<(String, String)> = conn
        .prepare("SELECT tbl_name, sql FROM sqlite_schema WHERE type = 'trigger'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let triggers_ok = triggers.iter().all(|(on, sql)| {
        let event = if sql.contains(" INSERT ON ") {
            format!("INSERT INTO \"{on}\" SELECT * FROM \"{on}\" WHERE 0")
        } else if sql.contains(" UPDATE ON ") {
            format!("UPDATE \"{on}\" SET id = id")
        } else {
            format!("DELETE FROM \"{on}\"")
        };
        conn.prepare(&event).is_ok()
    });
    integrity == "ok" && views_ok && dangling == 0 && triggers_ok && check(conn, None).is_ok()
}

/// The build and the runner see the same sequence as plain SQLite.
fn check_build_and_runner(seed: u64, outcomes: &[Outcome], whole_set_ok: bool) {
    let all: Vec<&str> = outcomes.iter().map(|o| o.sql.as_str()).collect();
    let all = crate::check::sources(&all);
    let mut accepted: Vec<SourceMigration> = Vec::new();
    for (i, outcome) in outcomes.iter().enumerate() {
        let version = crate::Version::try_from(i + 1).unwrap();
        // Versions, names and chains as in the whole sequence; validation reads only
        // the SQL and the order.
        let m = all[i].clone();
        let Some(expected) = &outcome.violations else {
            accepted.push(m);
            continue;
        };
        // A rejected migration: the build names it, and the runner refuses it with
        // the rows plain SQLite found, after applying everything before it.
        let mut with = accepted.clone();
        with.push(m.clone());
        rechain(&mut with);
        let diagnostic = validate(&with, &[]).expect_err("the build accepts a violation");
        assert_eq!(
            diagnostic.path, m.display_path,
            "seed {seed}: {diagnostic:?}\n{}",
            outcome.sql
        );
        assert!(
            diagnostic.message.contains("foreign key"),
            "seed {seed}: {diagnostic:?}"
        );
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        match Migrations::from_sources(with).run(&mut conn) {
            Err(Error::ForeignKeyViolation {
                version: v,
                violations,
                ..
            }) => {
                assert_eq!(v, version, "seed {seed}");
                assert_eq!(sorted(violations), *expected, "seed {seed}");
            }
            other => panic!(
                "seed {seed}: the runner gives {other:?} for\n{}",
                outcome.sql
            ),
        }
    }
    rechain(&mut accepted);
    let built = validate(&accepted, &[]);
    assert_eq!(
        built.is_ok(),
        whole_set_ok,
        "seed {seed}: build {built:?}, sequence:\n{}",
        accepted
            .iter()
            .map(|m| m.sql.as_str())
            .collect::<Vec<_>>()
            .join("--\n")
    );
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let count = accepted.len();
    let report = Migrations::from_sources(accepted).run(&mut conn);
    match report {
        Ok(report) => assert_eq!(report.applied.len(), count, "seed {seed}"),
        Err(e) => panic!("seed {seed}: the runner refuses what plain SQLite accepts: {e}"),
    }
}

/// Generates statements from the schema as it is.
struct Gen {
    rng: fastrand::Rng,
    next: u32,
}

struct Table {
    name: String,
    sql: String,
    columns: Vec<String>,
}

impl Gen {
    fn fresh(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.rng.usize(..items.len())])
    }

    /// A key value: small, so that rows often, but not always, find their parent.
    fn key(&mut self) -> String {
        if self.rng.u8(..10) == 0 {
            "NULL".into()
        } else {
            self.rng.u8(1..6).to_string()
        }
    }

    /// A table that may not exist, for a dangling reference now and then.
    fn parent(&mut self, tables: &[Table]) -> String {
        match self.pick(tables) {
            Some(t) if self.rng.u8(..12) != 0 => t.name.clone(),
            _ => self.fresh("t"),
        }
    }

    /// One step: usually one statement, sometimes a whole rebuild.
    fn statements(&mut self, conn: &Connection) -> Vec<String> {
        let tables = tables(conn);
        let names = |kind: &str| -> Vec<String> {
            conn.prepare(&format!(
                "SELECT name FROM sqlite_schema WHERE type = '{kind}' ORDER BY name"
            ))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
        };
        let (views, triggers) = (names("view"), names("trigger"));
        let Some(t) = self
            .pick(&tables)
            .map(|t| (t.name.clone(), t.sql.clone(), t.columns.clone()))
        else {
            return vec![self.create_table(&tables)];
        };
        let (table, table_sql, columns) = t;
        let other = self
            .pick(&tables)
            .map_or_else(|| table.clone(), |t| t.name.clone());
        let fk_columns: Vec<&String> = columns.iter().filter(|c| c.starts_with('p')).collect();
        let plain: Vec<&String> = columns.iter().filter(|c| c.starts_with('c')).collect();
        match self.rng.u8(..24) {
            0..=2 => vec![self.create_table(&tables)],
            3..=6 => {
                let key = self.key();
                let id = self.rng.u8(1..8);
                match fk_columns.first() {
                    Some(p) => vec![format!(
                        "INSERT OR REPLACE INTO {table} (id, {p}) VALUES ({id}, {key})"
                    )],
                    None => vec![format!("INSERT OR IGNORE INTO {table} (id) VALUES ({id})")],
                }
            }
            7 => vec![format!(
                "DELETE FROM {table} WHERE id = {}",
                self.rng.u8(1..6)
            )],
            8 => match fk_columns.first() {
                Some(p) => vec![format!("UPDATE {table} SET {p} = {}", self.key())],
                None => vec![format!("UPDATE {table} SET id = id + 10 WHERE id = 1")],
            },
            9 => vec![format!("DROP TABLE {table}")],
            10 => {
                let to = self.fresh("t");
                vec![format!("ALTER TABLE {table} RENAME TO {to}")]
            }
            11 => {
                let name = self.fresh("c");
                vec![format!("ALTER TABLE {table} ADD COLUMN {name} INTEGER")]
            }
            12 => {
                let name = self.fresh("p");
                let parent = self.parent(&tables);
                vec![format!(
                    "ALTER TABLE {table} ADD COLUMN {name} INTEGER REFERENCES {parent} (id)"
                )]
            }
            13 => match self.pick(&plain) {
                Some(c) if self.rng.bool() => {
                    let to = self.fresh("c");
                    vec![format!("ALTER TABLE {table} RENAME COLUMN {c} TO {to}")]
                }
                Some(c) => vec![format!("ALTER TABLE {table} DROP COLUMN {c}")],
                None => vec![],
            },
            14 | 15 => self.rebuild(&table, &table_sql, &columns),
            16 | 17 => {
                let name = self.fresh("tr");
                let event = ["INSERT", "UPDATE", "DELETE"][self.rng.usize(..3)];
                let row = if event == "DELETE" { "OLD" } else { "NEW" };
                let target = tables
                    .iter()
                    .find(|t| t.name == other)
                    .map_or_else(Vec::new, |t| t.columns.clone());
                let body = match target.iter().find(|c| c.starts_with('p')) {
                    Some(p) if self.rng.bool() => {
                        format!(
                            "INSERT OR IGNORE INTO {other} ({p}) SELECT {row}.id % 5 + 1 WHERE (SELECT count(*) FROM {other}) < {ROWS}"
                        )
                    }
                    Some(p) => format!("UPDATE {other} SET {p} = {row}.id % 7"),
                    None if self.rng.bool() => {
                        format!("DELETE FROM {other} WHERE id = {row}.id")
                    }
                    None => format!(
                        "INSERT OR IGNORE INTO {other} (id) SELECT {row}.id + 20 WHERE (SELECT count(*) FROM {other}) < {ROWS}"
                    ),
                };
                // Now and then an existing trigger again, which changes nothing (with
                // another definition it is a build error, see check/footguns.rs).
                if let Some(existing) = self.pick(&triggers)
                    && self.rng.u8(..6) == 0
                {
                    let sql: String = conn
                        .query_row(
                            "SELECT sql FROM sqlite_schema WHERE name = ?1",
                            [existing],
                            |r| r.get(0),
                        )
                        .unwrap();
                    return vec![sql.replacen(
                        "CREATE TRIGGER ",
                        "CREATE TRIGGER IF NOT EXISTS ",
                        1,
                    )];
                }
                vec![format!(
                    "CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {body}; END"
                )]
            }
            18 => match self.pick(&triggers) {
                Some(tr) => vec![format!("DROP TRIGGER {tr}")],
                None => vec![],
            },
            19 => {
                let view = self.fresh("v");
                let mut out = vec![format!("CREATE VIEW {view} AS SELECT * FROM {table}")];
                if let Some(p) = fk_columns.first() {
                    let trigger = self.fresh("tr");
                    out.push(format!(
                        "CREATE TRIGGER {trigger} INSTEAD OF INSERT ON {view} BEGIN INSERT OR REPLACE INTO {table} (id, {p}) VALUES (NEW.id, NEW.{p}); END"
                    ));
                }
                out
            }
            20 => match (self.pick(&views), fk_columns.first()) {
                (Some(v), Some(p)) => vec![format!(
                    "INSERT INTO {v} (id, {p}) VALUES ({}, {})",
                    self.rng.u8(1..8),
                    self.key()
                )],
                (Some(v), None) if self.rng.bool() => vec![format!("DROP VIEW {v}")],
                _ => vec![],
            },
            21 => vec![format!(
                "PRAGMA legacy_alter_table = {}",
                if self.rng.bool() { "ON" } else { "OFF" }
            )],
            22 => vec![format!("DELETE FROM {table}")],
            _ => vec![format!(
                "INSERT OR IGNORE INTO {table} (id) SELECT id + 1 FROM {other} LIMIT 3"
            )],
        }
    }

    fn create_table(&mut self, tables: &[Table]) -> String {
        let name = self.fresh("t");
        let mut sql = format!("CREATE TABLE {name} (id INTEGER PRIMARY KEY, c0 INTEGER");
        for _ in 0..self.rng.usize(0..3) {
            // A parent among the tables, this one, or one that does not exist (yet).
            let parent = if self.rng.u8(..8) == 0 {
                name.clone()
            } else {
                self.parent(tables)
            };
            let column = self.fresh("p");
            let _ = write!(sql, ", {column} INTEGER REFERENCES {parent} (id)");
            if self.rng.bool() {
                sql.push_str(" ON DELETE CASCADE");
            }
        }
        sql.push(')');
        sql
    }

    /// A rebuild: the new table first (then rename it into place), or, under
    /// `legacy_alter_table` or not, the old one renamed out of the way first.
    fn rebuild(&mut self, table: &str, table_sql: &str, columns: &[String]) -> Vec<String> {
        let extra = self.fresh("c");
        let keep = if self.rng.u8(..4) == 0 {
            " WHERE id % 2 = 0"
        } else {
            ""
        };
        let cols = columns.join(", ");
        let body = table_sql
            .find('(')
            .map_or("(id INTEGER PRIMARY KEY)", |i| &table_sql[i..]);
        let body = format!("{}, {extra} TEXT)", &body[..body.len() - 1]);
        if self.rng.bool() {
            let new = self.fresh("t");
            vec![
                format!("CREATE TABLE {new} {body}"),
                format!("INSERT INTO {new} ({cols}) SELECT {cols} FROM {table}{keep}"),
                format!("DROP TABLE {table}"),
                format!("ALTER TABLE {new} RENAME TO {table}"),
            ]
        } else {
            let old = self.fresh("old");
            let mut out = Vec::new();
            if self.rng.bool() {
                out.push("PRAGMA legacy_alter_table = ON".into());
            }
            out.extend([
                format!("ALTER TABLE {table} RENAME TO {old}"),
                format!("CREATE TABLE {table} {body}"),
                format!("INSERT INTO {table} ({cols}) SELECT {cols} FROM {old}{keep}"),
                format!("DROP TABLE {old}"),
            ]);
            out
        }
    }
}

fn tables(conn: &Connection) -> Vec<Table> {
    let found: Vec<(String, String)> = conn
        .prepare(
            "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    found
        .into_iter()
        .map(|(name, sql)| {
            let columns = conn
                .prepare("SELECT name FROM pragma_table_info(?1)")
                .unwrap()
                .query_map([&name], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            Table { name, sql, columns }
        })
        .collect()
}
