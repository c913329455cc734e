//! Running the migrations in order against an in-memory SQLite, the way the runner
//! applies them, then checking what a database without data cannot show by itself.

use std::collections::HashMap;

use rusqlite::Connection;

use super::SourceMigration;
use crate::diagnostic::Diagnostic;
use crate::exec::sqlite_message;
use crate::foreign_keys::{self, Scope, Violation};
use crate::sql::{self, Statement};

/// Applies `migrations` in order to an in-memory database, as the runner does on a
/// connection with foreign keys on: enforcement off outside each migration's
/// transaction, `PRAGMA foreign_key_check` before its COMMIT, connection settings it
/// changes put back after it, `-- migrate:no-transaction` migrations statement by
/// statement. `functions` (name, number of arguments) get stand-ins that return NULL.
///
/// After the whole set: `PRAGMA integrity_check`, every view queried, and every
/// foreign key's parent table and key checked.
///
/// # Errors
///
/// The first problem, named at the migration (and line) that introduced it.
pub fn validate(
    migrations: &[SourceMigration],
    functions: &[(&str, i32)],
) -> Result<(), Diagnostic> {
    let internal = |e: rusqlite::Error| {
        Diagnostic::new(
            "migrations",
            format!("cannot set up the in-memory validation database: {e}"),
        )
    };
    let conn = Connection::open_in_memory().map_err(internal)?;
    for &(name, arity) in functions {
        conn.create_scalar_function(
            name,
            arity,
            rusqlite::functions::FunctionFlags::SQLITE_UTF8
                | rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
            |_| Ok(rusqlite::types::Null),
        )
        .map_err(internal)?;
    }
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(internal)?;
    let _off = foreign_keys::Off::new(&conn).map_err(internal)?;
    let mut scope = Scope::default();
    let mut origins = Origins::default();
    for (index, m) in migrations.iter().enumerate() {
        let statements = sql::statements(&m.sql);
        origins.note(index, &statements);
        let saved = crate::rules::Settings::save(&conn, &statements).map_err(internal)?;
        let result = apply(&conn, m, &statements, &mut scope);
        saved.restore(&conn);
        result?;
    }
    whole_set_checks(&conn, migrations, &origins, functions)
}

/// One migration, in a transaction unless it says otherwise.
fn apply(
    conn: &Connection,
    m: &SourceMigration,
    statements: &[Statement<'_>],
    scope: &mut Scope,
) -> Result<(), Diagnostic> {
    let internal =
        |e: rusqlite::Error| Diagnostic::new(&m.display_path, format!("validation failed: {e}"));
    if m.transaction {
        conn.execute_batch("BEGIN").map_err(internal)?;
    }
    for statement in statements {
        let added =
            added_column_target(statement).map(|table| (table.clone(), columns(conn, &table)));
        crate::exec::execute(conn, statement.text).map_err(|e| sql_error(m, statement, &e))?;
        if let Some((table, Ok(before))) = added {
            check_added_columns(conn, m, statement, &table, &before)?;
        }
    }
    if !m.transaction && !conn.is_autocommit() {
        let message = "migration leaves a transaction open: it runs without a transaction (`-- migrate:no-transaction`) and this `BEGIN` has no `COMMIT`";
        let begin = statements
            .iter()
            .rev()
            .find(|s| s.keyword().as_deref() == Some("BEGIN"));
        return Err(match begin {
            Some(s) => Diagnostic::at(&m.display_path, &m.sql, s.offset, message),
            None => Diagnostic::new(&m.display_path, message),
        }
        .with_help("end every transaction the migration opens with `COMMIT`; the runner records the migration only after its last statement"));
    }
    let violations = scope
        .check_after(conn, statements)
        .map_err(|e| foreign_key_error(m, statements, &e))?;
    if !violations.is_empty() {
        return Err(violation_error(m, statements, &violations));
    }
    if m.transaction {
        conn.execute_batch("COMMIT").map_err(|e| {
            Diagnostic::new(
                &m.display_path,
                format!("migration fails at COMMIT: {}", sqlite_message(&e).0),
            )
            .with_help("a deferred constraint fails once all the statements have run; fix the rows the migration leaves behind")
        })?;
    }
    Ok(())
}

/// Rows left breaking a foreign key, pointed at the first statement naming their table.
fn violation_error(
    m: &SourceMigration,
    statements: &[Statement<'_>],
    violations: &[Violation],
) -> Diagnostic {
    let message = format!(
        "migration leaves rows that break a foreign key: {}",
        foreign_keys::describe(violations)
    );
    let help = "the runner checks foreign keys before each COMMIT (enforcement is off during the migration, so a rebuild's DROP TABLE cascades nothing) and rolls back a migration that leaves dangling references: copy every row the other tables reference, or fix the rows";
    let offset = foreign_keys::culprit(statements, &violations[0]).map(|s| s.offset);
    match offset {
        Some(offset) => Diagnostic::at(&m.display_path, &m.sql, offset, message),
        None => Diagnostic::new(&m.display_path, message),
    }
    .with_help(help)
}

/// `PRAGMA foreign_key_check` itself failed: a foreign key whose parent key is not unique.
fn foreign_key_error(
    m: &SourceMigration,
    statements: &[Statement<'_>],
    error: &rusqlite::Error,
) -> Diagnostic {
    let message = sqlite_message(error).0;
    // `foreign key mismatch - "child" referencing "parent"`
    let child = message.split('"').nth(1).unwrap_or_default();
    let offset = foreign_keys::first_naming(statements, &[child]).map(|i| statements[i].offset);
    let help = if message.starts_with("foreign key mismatch") {
        "a foreign key must reference its parent's PRIMARY KEY, or columns with a UNIQUE constraint or index (https://www.sqlite.org/foreignkeys.html#fk_indexes)"
    } else {
        "the foreign key check failed on the schema this migration leaves; fix the foreign keys it declares"
    };
    let message = format!("foreign key check fails after this migration: {message}");
    match offset {
        Some(offset) => Diagnostic::at(&m.display_path, &m.sql, offset, message),
        None => Diagnostic::new(&m.display_path, message),
    }
    .with_help(help)
}

/// Which migration last created or altered each schema object, and where.
#[derive(Default)]
struct Origins {
    /// Lowercase object name to (migration index, byte offset of the statement).
    by_name: HashMap<String, (usize, usize)>,
    /// Tables and views dropped, and where.
    dropped: HashMap<String, (usize, usize)>,
    /// Names given by `ALTER TABLE … RENAME TO`, and where.
    renamed_to: HashMap<String, (usize, usize)>,
}

impl Origins {
    fn note(&mut self, index: usize, statements: &[Statement<'_>]) {
        for s in statements {
            let (t, text) = (&s.tokens, s.text);
            let kw = |i: usize, k: &str| t.get(i).is_some_and(|tok| tok.is_keyword(text, k));
            let mut at = 1;
            let named = if kw(0, "CREATE") {
                if ["TEMP", "TEMPORARY", "UNIQUE", "VIRTUAL"]
                    .iter()
                    .any(|k| kw(at, k))
                {
                    at += 1;
                }
                if !["TABLE", "VIEW", "INDEX", "TRIGGER"]
                    .iter()
                    .any(|k| kw(at, k))
                {
                    continue;
                }
                at += 1;
                if kw(at, "IF") {
                    at += 3;
                }
                foreign_keys::name_at(s, at)
            } else if kw(0, "ALTER") && kw(1, "TABLE") {
                foreign_keys::name_at(s, 2).map(|(name, next)| {
                    match (kw(next, "RENAME") && kw(next + 1, "TO"))
                        .then(|| foreign_keys::name_at(s, next + 2))
                        .flatten()
                    {
                        Some((new, at)) => {
                            self.renamed_to.insert(new.clone(), (index, s.offset));
                            (new, at)
                        }
                        None => (name, next),
                    }
                })
            } else if kw(0, "DROP") && (kw(1, "TABLE") || kw(1, "VIEW")) {
                let at = if kw(2, "IF") { 4 } else { 2 };
                if let Some((name, _)) = foreign_keys::name_at(s, at) {
                    self.dropped.insert(name, (index, s.offset));
                }
                None
            } else {
                None
            };
            if let Some((name, _)) = named {
                self.by_name.insert(name, (index, s.offset));
            }
        }
    }

    /// A diagnostic at the statement that made `object`, or at the last migration.
    fn diagnostic(
        &self,
        migrations: &[SourceMigration],
        object: &str,
        message: String,
    ) -> Diagnostic {
        Self::at(
            migrations,
            self.by_name.get(&object.to_ascii_lowercase()).copied(),
            message,
        )
    }

    /// Where the statement that made `object` is, as `path:line`.
    fn place(&self, migrations: &[SourceMigration], object: &str) -> Option<String> {
        let &(index, offset) = self.by_name.get(&object.to_ascii_lowercase())?;
        let m = &migrations[index];
        Some(format!(
            "{}:{}",
            m.display_path,
            sql::line_column(&m.sql, offset).0
        ))
    }

    /// A diagnostic at (migration index, statement offset), or at the last migration.
    fn at(
        migrations: &[SourceMigration],
        place: Option<(usize, usize)>,
        message: String,
    ) -> Diagnostic {
        match place {
            Some((index, offset)) => {
                let m = &migrations[index];
                Diagnostic::at(&m.display_path, &m.sql, offset, message)
            }
            None => Diagnostic::new(
                migrations
                    .last()
                    .map_or("migrations", |m| m.display_path.as_str()),
                message,
            ),
        }
    }
}

/// What only the finished schema shows: damage, views that cannot run, foreign keys
/// to missing tables or to keys that are not unique.
fn whole_set_checks(
    conn: &Connection,
    migrations: &[SourceMigration],
    origins: &Origins,
    functions: &[(&str, i32)],
) -> Result<(), Diagnostic> {
    let internal = |e: rusqlite::Error| {
        Diagnostic::new(
            "migrations",
            format!("cannot check the schema the migrations build: {e}"),
        )
    };
    let problems: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(internal)?;
    if problems.first().is_some_and(|p: &String| p != "ok") {
        return Err(Diagnostic::new(
            migrations.last().map_or("migrations", |m| m.display_path.as_str()),
            format!("the database the migrations build fails `PRAGMA integrity_check`: {}", problems.join("; ")),
        )
        .with_help("a migration edits the schema as data (`PRAGMA writable_schema`) and leaves it inconsistent; rebuild the table instead"));
    }

    let views: Vec<(String, String)> = conn
        .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'view' ORDER BY rowid")
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .map_err(internal)?;
    for (view, view_sql) in views {
        let query = format!("SELECT * FROM \"{}\" LIMIT 0", view.replace('"', "\"\""));
        if let Err(e) = conn.prepare(&query) {
            return Err(view_error(
                migrations,
                origins,
                functions,
                &view,
                &view_sql,
                &sqlite_message(&e).0,
            ));
        }
    }

    let keys: Vec<(String, String, String)> = conn
        .prepare(
            "SELECT m.name, f.\"table\", f.\"from\" FROM sqlite_schema AS m
             JOIN pragma_foreign_key_list(m.name) AS f
             WHERE m.type = 'table' AND NOT EXISTS
                 (SELECT 1 FROM sqlite_schema AS p WHERE p.type = 'table' AND p.name = f.\"table\" COLLATE NOCASE)",
        )
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect())
        .map_err(internal)?;
    if let Some((child, parent, column)) = keys.into_iter().next() {
        return Err(origins
            .diagnostic(
                migrations,
                &child,
                format!("foreign key `{child}.{column}` references table `{parent}`, which does not exist once all migrations have run"),
            )
            .with_help("every insert into this table would fail with foreign keys on; create the parent table, fix the name, or drop the constraint by rebuilding the table"));
    }
    if let Err(e) = foreign_keys::check(conn, None) {
        let message = sqlite_message(&e).0;
        // `foreign key mismatch - "child" referencing "parent"`
        let child = message.split('"').nth(1).unwrap_or_default().to_owned();
        return Err(origins
            .diagnostic(migrations, &child, format!("foreign key check fails: {message}"))
            .with_help("a foreign key must reference its parent's PRIMARY KEY, or columns with a UNIQUE constraint or index (https://www.sqlite.org/foreignkeys.html#fk_indexes)"));
    }
    Ok(())
}

/// A view that cannot be queried, named at the migration that broke it: the one that
/// dropped what it reads, the rename that pointed it at a table dropped since, or the
/// one that created it.
fn view_error(
    migrations: &[SourceMigration],
    origins: &Origins,
    functions: &[(&str, i32)],
    view: &str,
    view_sql: &str,
    message: &str,
) -> Diagnostic {
    let created = origins
        .place(migrations, view)
        .map_or_else(String::new, |p| format!(" (created at {p})"));
    if let Some(function) = message.strip_prefix("no such function: ") {
        let arity = call_arity(view_sql, function).unwrap_or(0);
        let mut all: Vec<String> = functions.iter().map(|(n, a)| format!("{n}/{a}")).collect();
        all.push(format!("{function}/{arity}"));
        return origins
            .diagnostic(migrations, view, format!("view `{view}` cannot be queried: {message}"))
            .with_help(format!(
                "if the application registers `{function}` on its connection, declare it so that the build can stand in for it: `migrations!(\"…\", functions({}))`; otherwise use a built-in function",
                all.join(", ")
            ));
    }
    let missing = message
        .strip_prefix("no such table: ")
        .map(|t| t.strip_prefix("main.").unwrap_or(t).to_ascii_lowercase());
    if let Some(table) = &missing {
        if let Some(&rename) = origins.renamed_to.get(table) {
            return Origins::at(
                migrations,
                Some(rename),
                format!("this RENAME points view `{view}`{created} at `{table}`, which is dropped later: the view cannot be queried ({message})"),
            )
            .with_help("a modern RENAME rewrites the views and triggers that use the table; for this \"rename the old table first\" rebuild, put `PRAGMA legacy_alter_table = ON;` at the top of the migration (the runner restores it after the migration), or create the new table first and rename it into place");
        }
        if let Some(&drop) = origins.dropped.get(table) {
            return Origins::at(
                migrations,
                Some(drop),
                format!("dropping `{table}` breaks view `{view}`{created}: {message}"),
            )
            .with_help("views are not checked when what they read is dropped; drop the view in this migration too, or create it again over what replaces the table");
        }
    }
    origins
        .diagnostic(migrations, view, format!("view `{view}` cannot be queried: {message}"))
        .with_help("the view reads something the migrations leave missing or different; create the view again after the change")
}

/// The number of arguments of the first call to `function` in `sql`.
fn call_arity(sql: &str, function: &str) -> Option<usize> {
    let tokens = sql::tokenize(sql);
    let code: Vec<_> = tokens
        .iter()
        .filter(|t| !matches!(t.kind, sql::TokenKind::Space | sql::TokenKind::Comment))
        .collect();
    let start = code.windows(2).position(|w| {
        w[0].identifier(sql)
            .is_some_and(|id| id.eq_ignore_ascii_case(function))
            && w[1].text(sql) == "("
    })?;
    let (mut depth, mut commas, mut empty) = (0usize, 0usize, true);
    for t in &code[start + 1..] {
        match t.text(sql) {
            "(" => depth += 1,
            ")" => {
                depth -= 1;
                if depth == 0 {
                    return Some(if empty { 0 } else { commas + 1 });
                }
            }
            "," if depth == 1 => commas += 1,
            _ if depth >= 1 => empty = false,
            _ => {}
        }
    }
    None
}

fn sql_error(
    m: &SourceMigration,
    statement: &Statement<'_>,
    error: &rusqlite::Error,
) -> Diagnostic {
    let (message, offset) = sqlite_message(error);
    let offset = statement.offset + offset.filter(|&o| o <= statement.text.len()).unwrap_or(0);
    let (not_null, declare);
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
    } else if message.starts_with("error in view") || message.starts_with("error in trigger") {
        "a RENAME rewrites every view and trigger that uses the table, and this one no longer parses; for the \"rename the old table first\" rebuild, put `PRAGMA legacy_alter_table = ON;` at the top of the migration (the runner restores it after the migration), or create the new table first and rename it into place"
    } else if message.starts_with("no such table") || message.starts_with("no such column") {
        "check the name, and that the migration creating it has a lower version: migrations run in version order"
    } else if let Some(function) = message.strip_prefix("no such function: ") {
        let arity = call_arity(statement.text, function).unwrap_or(0);
        declare = format!(
            "if the application registers `{function}` on its connection, declare it so that the build can stand in for it: `migrations!(\"…\", functions({function}/{arity}))`; otherwise use a built-in function (https://www.sqlite.org/lang_corefunc.html)"
        );
        &declare
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

#[cfg(test)]
mod tests {
    use super::call_arity;

    #[test]
    fn arity_counts_top_level_arguments_of_the_first_call() {
        assert_eq!(call_arity("SELECT f()", "f"), Some(0));
        assert_eq!(call_arity("SELECT F(a, g(b, c), (d))", "f"), Some(3));
        assert_eq!(call_arity("SELECT x.f, f('a,b', 2)", "f"), Some(2));
        assert_eq!(call_arity("SELECT g(1)", "f"), None);
    }
}
