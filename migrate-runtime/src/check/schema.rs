//! What only the finished schema shows (damage, views that cannot be queried, foreign
//! keys to missing tables or to keys that are not unique, writes whose triggers,
//! defaults, checks or generated columns do not compile), and which statement of
//! which migration caused it.
//!
//! The checks run once, on the database all the migrations built. When one fails, the
//! migrations are applied again, statement by statement, watching only what failed:
//! the statement after which it last went from working (or not existing) to failing
//! is the one to blame, never an older migration that merely created the object.

use rusqlite::Connection;

use super::SourceMigration;
use crate::diagnostic::Diagnostic;
use crate::exec::sqlite_message;
use crate::sql::{self, Statement};

/// Something that must hold once all the migrations have run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Probe {
    /// `PRAGMA integrity_check` says `ok`.
    Integrity,
    /// The view can be queried.
    View(String),
    /// The foreign key `child.column` has its parent table.
    Parent {
        child: String,
        column: String,
        parent: String,
    },
    /// `PRAGMA foreign_key_check(child)` runs: every parent key it uses is unique.
    KeyCheck(String),
    /// A write (`INSERT`, `UPDATE` or `DELETE`) to a table or view compiles, with the
    /// triggers it fires and the defaults, checks and generated columns it computes.
    Write {
        table: String,
        verb: &'static str,
        sql: String,
    },
}

/// What a probe finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum State {
    /// The object does not exist (yet, or any more).
    Absent,
    /// It works.
    Works,
    /// It fails, with SQLite's message.
    Fails(String),
}

impl Probe {
    /// The schema object the probe is about.
    pub fn object(&self) -> &str {
        match self {
            Self::Integrity => "the database",
            Self::View(name) | Self::KeyCheck(name) => name,
            Self::Parent { child, .. } => child,
            Self::Write { table, .. } => table,
        }
    }

    pub fn state(&self, conn: &Connection) -> State {
        let exists = |kind: &str, name: &str| {
            conn.query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = ?1 AND name = ?2 COLLATE NOCASE",
                [kind, name],
                |r| r.get::<_, i64>(0),
            )
            .is_ok_and(|n| n > 0)
        };
        let fails = |e: &rusqlite::Error| State::Fails(sqlite_message(e).0);
        match self {
            Self::Integrity => match integrity(conn) {
                Ok(problems) if problems.is_empty() => State::Works,
                Ok(problems) => State::Fails(problems.join("; ")),
                Err(e) => fails(&e),
            },
            Self::View(view) => {
                if !exists("view", view) {
                    return State::Absent;
                }
                match conn.prepare(&format!("SELECT * FROM {} LIMIT 0", quote(view))) {
                    Ok(_) => State::Works,
                    Err(e) => fails(&e),
                }
            }
            Self::Parent {
                child,
                column,
                parent,
            } => {
                let declared = conn
                    .query_row(
                        "SELECT count(*) FROM pragma_foreign_key_list(?1)
                         WHERE \"from\" = ?2 COLLATE NOCASE AND \"table\" = ?3 COLLATE NOCASE",
                        [child, column, parent],
                        |r| r.get::<_, i64>(0),
                    )
                    .is_ok_and(|n| n > 0);
                if !exists("table", child) || !declared {
                    State::Absent
                } else if exists("table", parent) {
                    State::Works
                } else {
                    State::Fails(format!("no such table: {parent}"))
                }
            }
            Self::KeyCheck(child) => {
                if !exists("table", child) {
                    return State::Absent;
                }
                match crate::foreign_keys::check(conn, Some(child)) {
                    Ok(_) => State::Works,
                    Err(e) => fails(&e),
                }
            }
            Self::Write { table, sql, .. } => {
                if !exists("table", table) && !exists("view", table) {
                    return State::Absent;
                }
                match conn.prepare(sql) {
                    Ok(_) => State::Works,
                    Err(e) => fails(&e),
                }
            }
        }
    }
}

/// A `sqlite_schema` object: type, name, table and SQL.
pub(super) type Object = (String, String, String, Option<String>);

/// Reads an [`Object`] from a row selecting `type, name, tbl_name, sql`, in that order.
pub(super) fn object(r: &rusqlite::Row<'_>) -> rusqlite::Result<Object> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

/// `"name"`, quoted for SQL.
pub(super) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn integrity(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let problems: Vec<String> = conn
        .prepare("PRAGMA integrity_check")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(problems.into_iter().filter(|p| p != "ok").collect())
}

/// The first whole-set check that fails on the finished schema, and SQLite's message:
/// integrity (when a migration [may have broken it](super::integrity::may_break_integrity)), views,
/// foreign key parents, foreign key checks, then the writes that fire triggers or
/// compute default expressions. Each check runs once over the schema; only a
/// failure is narrowed down to one object.
pub(super) fn first_failure(
    conn: &Connection,
    check_integrity: bool,
) -> rusqlite::Result<Option<(Probe, String)>> {
    let fails = |probe: Probe| match probe.state(conn) {
        State::Fails(message) => Some((probe, message)),
        _ => None,
    };
    let problems = if check_integrity {
        integrity(conn)?
    } else {
        // The crate's tests check the claim on every database they build.
        #[cfg(test)]
        assert_eq!(
            integrity(conn)?,
            Vec::<String>::new(),
            "no migration may have damaged the database, yet it fails integrity_check"
        );
        Vec::new()
    };
    if !problems.is_empty() {
        return Ok(Some((Probe::Integrity, problems.join("; "))));
    }
    let names = |kind: &str| -> rusqlite::Result<Vec<String>> {
        conn.prepare(
            "SELECT name FROM sqlite_schema WHERE type = ?1 AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
        )?
        .query_map([kind], |r| r.get(0))?
        .collect()
    };
    for name in names("view")? {
        if let Err(e) = conn.prepare(&format!("SELECT * FROM {} LIMIT 0", quote(&name))) {
            return Ok(Some((Probe::View(name), sqlite_message(&e).0)));
        }
    }
    let dangling: Option<(String, String, String)> = conn
        .prepare(concat!(
            // `NOT IN` a list read once: a subquery per foreign key would scan the
            // schema once per key.
            "SELECT m.name, f.\"from\", f.\"table\" FROM sqlite_schema AS m
             JOIN pragma_foreign_key_list(m.name) AS f
             WHERE m.type = 'table' AND ",
            crate::foreign_keys::declares_keys!("m"),
            " AND lower(f.\"table\") NOT IN
                 (SELECT lower(p.name) FROM sqlite_schema AS p WHERE p.type = 'table')
             ORDER BY m.rowid",
        ))?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .next()
        .transpose()?;
    if let Some((child, column, parent)) = dangling {
        let message = format!("no such table: {parent}");
        return Ok(Some((
            Probe::Parent {
                child,
                column,
                parent,
            },
            message,
        )));
    }
    if crate::foreign_keys::check(conn, None).is_err() {
        let found = names("table")?
            .into_iter()
            .find_map(|name| fails(Probe::KeyCheck(name)));
        if found.is_some() {
            return Ok(found);
        }
    }
    // The writes that compile what SQLite checks only then: the triggers they fire,
    // and the default expressions of an INSERT. SQLite lists the triggers and the
    // tables that may have one; the tokens of those tables decide.
    let objects: Vec<Object> = conn
        .prepare(WRITTEN_OBJECTS)?
        .query_map([], object)?
        .collect::<rusqlite::Result<_>>()?;
    let mut writes: Vec<(String, &'static str)> = Vec::new();
    // Those already listed, so that listing each once stays linear.
    let mut listed: rustc_hash::FxHashSet<(String, &'static str)> =
        rustc_hash::FxHashSet::default();
    for (kind, name, on, sql) in &objects {
        let sql = sql.as_deref().unwrap_or_default();
        let wanted = match kind.as_str() {
            "trigger" => trigger_event(sql).map(|verb| (on.clone(), verb)),
            "table" if has_default_expression(sql) => Some((name.clone(), "INSERT")),
            _ => None,
        };
        if let Some(w) = wanted
            && listed.insert(w.clone())
        {
            writes.push(w);
        }
    }
    for (table, verb) in writes {
        // Each table or view comes from the schema: it exists, so the probe's state
        // is whether the write compiles (asking `Probe::state` would scan the schema
        // twice per write).
        if let Some(probe) = write(conn, &table, verb)?
            && let Probe::Write { sql, .. } = &probe
            && let Err(e) = conn.prepare(sql)
        {
            let message = sqlite_message(&e).0;
            return Ok(Some((probe, message)));
        }
    }
    Ok(None)
}

/// The triggers, and the tables that may have a default expression: their text has
/// `default` and a `(` after it (`lower`, in case a migration made `LIKE` case
/// sensitive); in schema order.
const WRITTEN_OBJECTS: &str = "SELECT type, name, tbl_name, sql FROM sqlite_schema
    WHERE (type = 'trigger' OR (type = 'table' AND lower(sql) LIKE '%default%(%'))
        AND name NOT LIKE 'sqlite_%'
    ORDER BY rowid";

/// The event of a trigger: `INSERT`, `UPDATE` or `DELETE`, the first of them in its
/// header, which comes before its body. The tokens are read only up to it: the
/// whole trigger tokenized took 69,000 instructions per trigger, unoptimised.
fn trigger_event(trigger_sql: &str) -> Option<&'static str> {
    sql::tokens(trigger_sql).find_map(|tok| {
        ["INSERT", "UPDATE", "DELETE"]
            .into_iter()
            .find(|verb| tok.is_keyword(trigger_sql, verb))
    })
}

/// Whether a `CREATE TABLE` has a `DEFAULT (expression)`, which SQLite compiles only
/// when a row is inserted.
fn has_default_expression(table_sql: &str) -> bool {
    // The tokenizer runs only on a table where a `DEFAULT` is followed by `(` or a
    // comment, after spaces: the check runs on every table, in the unoptimised
    // build the macro runs in.
    maybe_default_expression(table_sql) && tokens_have_default_expression(table_sql)
}

/// [`has_default_expression`], from the tokens.
fn tokens_have_default_expression(table_sql: &str) -> bool {
    let Some(statement) = sql::statements(table_sql).into_iter().next() else {
        return false;
    };
    let (t, text) = (&statement.tokens, statement.text);
    t.windows(2)
        .any(|w| w[0].is_keyword(text, "DEFAULT") && w[1].text(text) == "(")
}

/// Whether `DEFAULT`, in any case, appears followed by white space and then `(` or
/// the start of a comment (`/*`, `--`): a cheap necessary condition of
/// [`has_default_expression`].
fn maybe_default_expression(sql: &str) -> bool {
    let bytes = sql.as_bytes();
    let mut from = 0;
    while let Some(found) = bytes[from..]
        .windows(7)
        .position(|w| w.eq_ignore_ascii_case(b"DEFAULT"))
    {
        let after = from + found + 7;
        let next = bytes[after..]
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map(|i| after + i);
        if let Some(i) = next
            && (bytes[i] == b'(' || bytes[i..].starts_with(b"/*") || bytes[i..].starts_with(b"--"))
        {
            return true;
        }
        from = after;
    }
    false
}

/// The `verb` write on `table` to prepare (never to run); `None` for a table without
/// plain columns.
fn write(conn: &Connection, table: &str, verb: &'static str) -> rusqlite::Result<Option<Probe>> {
    let name = quote(table);
    let sql = match verb {
        // Every default is computed, as when a row leaves columns out.
        "INSERT" => format!("INSERT INTO {name} DEFAULT VALUES"),
        "UPDATE" => {
            // `hidden` is 0 for a plain column, 1 for a hidden one, 2 or 3 for a
            // generated one.
            let columns: Vec<String> = conn
                .prepare_cached("SELECT name FROM pragma_table_xinfo(?1) WHERE hidden = 0")?
                .query_map([table], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            if columns.is_empty() {
                return Ok(None);
            }
            let set: Vec<String> = columns
                .iter()
                .map(|c| format!("{} = {}", quote(c), quote(c)))
                .collect();
            format!("UPDATE {name} SET {}", set.join(", "))
        }
        _ => format!("DELETE FROM {name}"),
    };
    Ok(Some(Probe::Write {
        table: table.to_owned(),
        verb,
        sql,
    }))
}

/// Where a probe's failure comes from: the statement after which it last went from
/// working or absent to failing, and the one that created the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Blame {
    /// (migration index, statement index) of the breaking statement.
    pub broke: Option<(usize, usize)>,
    /// (migration index, statement index) where the object last came into existence.
    pub created: Option<(usize, usize)>,
}

/// Applies the migrations again on a fresh database, statement by statement, and
/// watches `probe`.
pub(super) fn blame(
    migrations: &[SourceMigration],
    options: &super::Options<'_>,
    probe: &Probe,
) -> rusqlite::Result<Blame> {
    let conn = super::validate::connection(options)?;
    let skipped = super::modules::unvalidated(migrations, options.modules);
    let _off = crate::foreign_keys::Off::new(&conn)?;
    let mut blame = Blame::default();
    let mut before = probe.state(&conn);
    for (index, m) in migrations.iter().enumerate() {
        let statements = sql::statements(&m.sql);
        let saved = crate::rules::Settings::save(&conn, &statements)?;
        if m.transaction {
            conn.execute_batch("BEGIN")?;
        }
        for (at, statement) in statements.iter().enumerate() {
            if skipped.contains(&(index, at)) {
                continue;
            }
            // The set passed validation up to here, so statements run as they did then.
            crate::exec::execute(&conn, statement.text)?;
            let after = probe.state(&conn);
            if before == State::Absent && after != State::Absent {
                blame.created = Some((index, at));
            }
            if matches!(after, State::Fails(_)) && !matches!(before, State::Fails(_)) {
                blame.broke = Some((index, at));
            }
            before = after;
        }
        if m.transaction {
            conn.execute_batch("COMMIT")?;
        }
        saved.restore(&conn);
    }
    Ok(blame)
}

/// A statement of a migration, as `(migration, statement)` indexes, made concrete.
pub(super) struct Place<'m> {
    pub migration: &'m SourceMigration,
    statements: Vec<Statement<'m>>,
    at: usize,
}

impl<'m> Place<'m> {
    pub fn new(migrations: &'m [SourceMigration], (index, at): (usize, usize)) -> Option<Self> {
        let migration = migrations.get(index)?;
        let statements = sql::statements(&migration.sql);
        (at < statements.len()).then_some(Self {
            migration,
            statements,
            at,
        })
    }

    pub fn statement(&self) -> &Statement<'m> {
        &self.statements[self.at]
    }

    /// The statements of the migration before this one.
    pub fn earlier(&self) -> &[Statement<'m>] {
        &self.statements[..self.at]
    }

    /// The statements of the migration after this one.
    pub fn later(&self) -> &[Statement<'m>] {
        &self.statements[self.at + 1..]
    }

    /// `path:line`.
    pub fn describe(&self) -> String {
        format!(
            "{}:{}",
            self.migration.display_path,
            sql::line_column(&self.migration.sql, self.statement().offset).0
        )
    }

    /// A diagnostic pointing at the statement.
    pub fn diagnostic(&self, message: String) -> Diagnostic {
        Diagnostic::at(
            &self.migration.display_path,
            &self.migration.sql,
            self.statement().offset,
            message,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The event is the first `INSERT`, `UPDATE` or `DELETE` keyword of the header,
    /// whatever the trigger's name, comments, case or body.
    #[test]
    fn a_triggers_event_is_read_from_its_header() {
        for (sql, event) in [
            (
                "CREATE TRIGGER t AFTER INSERT ON x BEGIN UPDATE y SET a = 1; END",
                Some("INSERT"),
            ),
            (
                r#"CREATE TRIGGER IF NOT EXISTS "insert" BEFORE DELETE ON x BEGIN INSERT INTO y VALUES (1); END"#,
                Some("DELETE"),
            ),
            (
                "create temp trigger `update` instead of update of a, b on v begin delete from y; end",
                Some("UPDATE"),
            ),
            (
                "CREATE TRIGGER /* INSERT */ t -- DELETE\n BEFORE update ON x BEGIN SELECT 1; END",
                Some("UPDATE"),
            ),
            ("CREATE TRIGGER t", None),
        ] {
            assert_eq!(trigger_event(sql), event, "{sql}");
        }
    }

    /// The cheap tests never say no where the tokens say yes: `DEFAULT` and `(` in
    /// every case, with every kind of space and comment between them, among
    /// identifiers, strings and comments that hold the words. Both: the one on the
    /// text, and SQLite's selection of the tables in [`first_failure`], with `LIKE`
    /// made case sensitive or not.
    #[test]
    fn the_prefilter_of_default_expressions_misses_none() {
        let conn = Connection::open_in_memory().unwrap();
        let mut tables = 0;
        let defaults = ["DEFAULT", "default", "DeFault"];
        let gaps = [
            "",
            " ",
            "\t",
            "\n",
            "\r\n",
            "\x0c",
            "  /* c */ ",
            "/*x*/",
            "-- c\n",
            " --\n  ",
        ];
        let tails = ["(1)", "(datetime('now'))", "0", "'('", "CURRENT_TIMESTAMP"];
        let mut yes = 0;
        for default in defaults {
            for gap in gaps {
                for tail in tails {
                    for prefix in [
                        "",
                        "\"default_col\" TEXT, ",
                        "/* DEFAULT ( */ ",
                        "note TEXT DEFAULT 'DEFAULT (' , ",
                    ] {
                        let sql = format!("CREATE TABLE t ({prefix}c TEXT {default}{gap}{tail})");
                        let tokens = tokens_have_default_expression(&sql);
                        assert!(!tokens || maybe_default_expression(&sql), "{sql}");
                        assert_eq!(has_default_expression(&sql), tokens, "{sql}");
                        yes += usize::from(tokens);
                        if tokens {
                            tables += 1;
                            let table = sql.replacen("TABLE t ", &format!("TABLE t{tables} "), 1);
                            conn.execute_batch(&table).unwrap();
                        }
                    }
                }
            }
        }
        assert!(yes > 100, "{yes}");
        for sensitive in ["OFF", "ON"] {
            conn.execute_batch(&format!("PRAGMA case_sensitive_like = {sensitive}"))
                .unwrap();
            let selected: i64 = conn
                .query_row(
                    &format!("SELECT count(*) FROM ({WRITTEN_OBJECTS}) WHERE type = 'table'"),
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(selected, tables, "case_sensitive_like = {sensitive}");
        }
        assert!(!maybe_default_expression(
            "CREATE TABLE t (a DEFAULT 0, b DEFAULT CURRENT_TIMESTAMP)"
        ));
        assert!(!maybe_default_expression("CREATE TABLE t (a DEFAULT"));
    }
}
