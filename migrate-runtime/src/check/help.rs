//! Messages and help texts, chosen by the kind of statement that failed and SQLite's
//! error, so that each says what is true for the case at hand.

use rusqlite::Connection;

use super::schema::{Blame, Place, Probe, State};
use super::{Options, SourceMigration};
use crate::diagnostic::Diagnostic;
use crate::exec::sqlite_message;
use crate::foreign_keys::{Effect, effect, name_at};
use crate::sql::{self, Statement};

/// What a statement does, as far as choosing a help text goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    /// `ALTER TABLE from RENAME TO to`.
    RenameTable { from: String, to: String },
    /// `ALTER TABLE t RENAME [COLUMN] a TO b`.
    RenameColumn(String),
    /// `ALTER TABLE t DROP [COLUMN] c`.
    DropColumn(String),
    /// `DROP TABLE t`.
    DropTable(String),
    /// `DROP VIEW v`.
    DropView(String),
    /// `CREATE TABLE t`.
    CreateTable(String),
    /// `CREATE TRIGGER name … ON table`.
    CreateTrigger(String),
    /// `CREATE VIEW v`.
    CreateView(String),
    /// `INSERT`, `UPDATE` or `DELETE` on a table.
    Write(String),
    /// Anything else.
    Other,
}

impl Kind {
    pub fn of(statement: &Statement<'_>) -> Self {
        let (t, text) = (&statement.tokens, statement.text);
        let kw = |i: usize, k: &str| t.get(i).is_some_and(|tok| tok.is_keyword(text, k));
        match effect(statement) {
            Effect::Alters(from, Some(to)) => Self::RenameTable { from, to },
            Effect::Alters(table, None) => {
                let next = name_at(statement, 2).map_or(3, |(_, next)| next);
                if kw(next, "DROP") {
                    Self::DropColumn(table)
                } else if kw(next, "RENAME") {
                    Self::RenameColumn(table)
                } else {
                    Self::Other
                }
            }
            Effect::Drops(table) => Self::DropTable(table),
            Effect::DropsView(view) => Self::DropView(view),
            Effect::Creates(table) => Self::CreateTable(table),
            Effect::CreatesTrigger(name, _) => Self::CreateTrigger(name),
            Effect::Writes(table) => Self::Write(table),
            Effect::None if kw(0, "CREATE") => {
                let at = usize::from(kw(1, "TEMP") || kw(1, "TEMPORARY")) + 1;
                let skip = if kw(at + 1, "IF") { at + 4 } else { at + 1 };
                match name_at(statement, skip) {
                    Some((name, _)) if kw(at, "VIEW") => Self::CreateView(name),
                    _ => Self::Other,
                }
            }
            _ => Self::Other,
        }
    }
}

/// `f` from SQLite's `no such function: f` or `unknown function: f()`.
pub(super) fn missing_function(message: &str) -> Option<&str> {
    let name = message
        .strip_prefix("no such function: ")
        .or_else(|| message.strip_prefix("unknown function: "))?;
    Some(name.split('(').next().unwrap_or(name).trim())
}

/// The `functions(…)` line to add for `function`: its arity is counted from the first
/// call found in `texts`.
pub(super) fn declare_function(
    function: &str,
    texts: &[&str],
    functions: &[(&str, i32)],
) -> String {
    let arity = texts
        .iter()
        .find_map(|t| call_arity(t, function))
        .unwrap_or(0);
    let mut all: Vec<String> = functions.iter().map(|(n, a)| format!("{n}/{a}")).collect();
    all.push(format!("{function}/{arity}"));
    format!(
        "if the application registers `{function}` on its connection, declare it so that the build can stand in for it: `migrations!(\"…\", functions({}))`; otherwise use a built-in function (https://www.sqlite.org/lang_corefunc.html)",
        all.join(", ")
    )
}

/// The `collations(…)` line to add for `collation`.
pub(super) fn declare_collation(collation: &str, declared: &[&str]) -> String {
    let mut all: Vec<&str> = declared.to_vec();
    all.push(collation);
    format!(
        "if the application registers the collation `{collation}` on its connection, declare it so that the build can stand in for it (comparing bytes): `migrations!(\"…\", collations({}))`; otherwise use a built-in collation (`BINARY`, `NOCASE`, `RTRIM`)",
        all.join(", ")
    )
}

/// The SQL text of every trigger, view and table, for finding a function's calls
/// that a statement reaches through the schema.
fn schema_texts(conn: &Connection) -> Vec<String> {
    conn.prepare("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .unwrap_or_default()
}

/// The number of arguments of the first call to `function` in `sql`.
pub(super) fn call_arity(sql: &str, function: &str) -> Option<usize> {
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

/// How to add a `NOT NULL` column to a table with rows.
pub(super) const NOT_NULL_FIX: &str = "give the column a non-NULL default (`NOT NULL DEFAULT ''`), or rebuild the table: create the new table, copy the rows, drop the old one, rename the new one";

/// Where SQLite puts `legacy_alter_table`, in help texts.
const LEGACY: &str = "put `PRAGMA legacy_alter_table = ON;` at the top of the migration (the runner restores it after the migration)";

/// `error in view v: …`, `error in trigger t after drop column: …`: the kind
/// (`view`/`trigger`), the name, and SQLite's inner message.
fn schema_object_error(message: &str) -> Option<(&str, &str, &str)> {
    let rest = message.strip_prefix("error in ")?;
    let (kind, rest) = rest.split_once(' ')?;
    if kind != "view" && kind != "trigger" {
        return None;
    }
    let (head, inner) = rest.split_once(": ")?;
    let name = head.split(' ').next()?;
    Some((kind, name, inner))
}

/// The table in `no such table: [main.]t`, lowercase.
fn missing_table(message: &str) -> Option<String> {
    let t = message.strip_prefix("no such table: ")?;
    Some(t.strip_prefix("main.").unwrap_or(t).to_ascii_lowercase())
}

/// The first migration after `index` that creates `table` (lowercase), as `path:line`.
pub(super) fn created_later(
    migrations: &[SourceMigration],
    index: usize,
    table: &str,
) -> Option<String> {
    migrations.get(index + 1..)?.iter().find_map(|m| {
        sql::statements(&m.sql).iter().find_map(|s| {
            (effect(s) == Effect::Creates(table.to_owned())).then(|| {
                format!(
                    "{}:{}",
                    m.display_path,
                    sql::line_column(&m.sql, s.offset).0
                )
            })
        })
    })
}

/// A statement failed while the migration ran.
pub(super) struct Failure<'a> {
    pub conn: &'a Connection,
    pub migrations: &'a [SourceMigration],
    pub index: usize,
    pub statements: &'a [Statement<'a>],
    pub at: usize,
    pub options: &'a Options<'a>,
}

impl Failure<'_> {
    fn m(&self) -> &SourceMigration {
        &self.migrations[self.index]
    }

    fn line_of(&self, statement: &Statement<'_>) -> usize {
        sql::line_column(&self.m().sql, statement.offset).0
    }

    /// The diagnostic for SQLite's `error` on statement `at`.
    pub fn diagnostic(&self, error: &rusqlite::Error) -> Diagnostic {
        let m = self.m();
        let statement = &self.statements[self.at];
        let (message, offset) = sqlite_message(error);
        let offset = statement.offset + offset.filter(|&o| o <= statement.text.len()).unwrap_or(0);
        let help = self.help(statement, &message);
        Diagnostic::at(&m.display_path, &m.sql, offset, message).with_help(help)
    }

    fn help(&self, statement: &Statement<'_>, message: &str) -> String {
        let kind = Kind::of(statement);
        if message.starts_with("Cannot add a NOT NULL column") {
            return format!("the table already has rows when this migration runs; {NOT_NULL_FIX}");
        }
        if statement.text.starts_with('.') && message.contains("syntax error") {
            let command = statement.text.lines().next().unwrap_or_default();
            return format!(
                "`{command}` is a command of the `sqlite3` shell, not SQL: only that program understands it, and SQLite's library (which the runner uses) does not; remove the line (the runner sets a busy timeout on connections without one)"
            );
        }
        if message.contains("syntax error")
            || message.contains("incomplete input")
            || message.contains("unrecognized token")
        {
            return "fix the syntax of this statement; SQLite's grammar is at https://www.sqlite.org/lang.html".into();
        }
        if message.contains("constraint failed") {
            return "the rows this statement writes break a constraint of the schema built by the earlier migrations (applied in order to an empty database, with foreign keys enforced); fix the data or the constraint".into();
        }
        if let Some((object, name, inner)) = schema_object_error(message) {
            return self.broken_object_help(&kind, object, name, inner);
        }
        if let Some(function) = missing_function(message) {
            let schema = schema_texts(self.conn);
            let mut texts = vec![statement.text];
            texts.extend(schema.iter().map(String::as_str));
            return declare_function(function, &texts, self.options.functions);
        }
        if let Some(collation) = message.strip_prefix("no such collation sequence: ") {
            return declare_collation(collation, self.options.collations);
        }
        if let Some(module) = message.strip_prefix("no such module: ") {
            let mut all: Vec<&str> = self.options.modules.to_vec();
            all.push(module);
            return format!(
                "`{module}` is a virtual table module that SQLite does not have built in, so the application loads it as an extension, which the build cannot do; declare it, `migrations!(\"…\", modules({}))`, and the statements that use it are not executed at build time (they are listed in `MIGRATIONS.unvalidated()`); otherwise use a built-in module such as `fts5` or `rtree`",
                all.join(", ")
            );
        }
        if let Some(table) = missing_table(message)
            && let Some(place) = created_later(self.migrations, self.index, &table)
        {
            return format!(
                "`{table}` is created by a later migration ({place}), and migrations run in version order; move this statement into a migration after that one"
            );
        }
        if message.starts_with("no such table") || message.starts_with("no such column") {
            return "check the name, and that the migration creating it has a lower version: migrations run in version order".into();
        }
        if let Kind::DropColumn(table) = &kind
            && message.starts_with("cannot drop")
        {
            return format!(
                "SQLite cannot drop a column that is a key, is UNIQUE, is indexed or is used by a foreign key, a CHECK or a generated column; drop what uses it first, or rebuild `{table}` without the column (create the new table, copy the rows, drop the old one, rename the new one)"
            );
        }
        "the statement fails on the schema built by the migrations before it, applied in order to an empty database; fix the statement".into()
    }

    /// `, broken since path:line`: where an earlier migration broke view `name`, when
    /// it was already broken before this migration.
    fn broken_since(&self, object: &str, name: &str) -> String {
        if object != "view" {
            return String::new();
        }
        let probe = Probe::View(name.to_owned());
        if !matches!(probe.state(self.conn), State::Fails(_)) {
            return String::new();
        }
        let earlier = &self.migrations[..self.index];
        super::schema::blame(earlier, self.options, &probe)
            .ok()
            .and_then(|b| b.broke)
            .and_then(|b| Place::new(earlier, b))
            .map_or_else(String::new, |p| {
                format!(", broken since {} (fix it there if that migration is not applied anywhere yet)", p.describe())
            })
    }

    /// SQLite refused a schema change because view or trigger `name` no longer works.
    fn broken_object_help(&self, kind: &Kind, object: &str, name: &str, inner: &str) -> String {
        let drop = if object == "view" {
            format!("`DROP VIEW {name};`")
        } else {
            format!("`DROP TRIGGER {name};`")
        };
        match kind {
            Kind::RenameTable { from, .. } => {
                // A create-new-first rebuild: the old table was dropped above, and the
                // view still reads it when the new one is renamed into its place.
                let dropped_above = missing_table(inner).and_then(|gone| {
                    self.statements[..self.at]
                        .iter()
                        .rev()
                        .find(|s| effect(s) == Effect::Drops(gone.clone()))
                        .map(|s| (gone, self.line_of(s)))
                });
                match dropped_above {
                    Some((gone, line)) => format!(
                        "{object} `{name}` reads `{gone}`, which line {line} dropped, and SQLite refuses to rename any table while a view or trigger is broken: {LEGACY}, or {drop} before the rebuild and create `{name}` again after it"
                    ),
                    None => format!(
                        "SQLite checks every view and trigger when a table is renamed (to rewrite the ones that use `{from}`), and refuses the RENAME because {object} `{name}` no longer works ({inner}){}; {LEGACY}, or {drop} before this statement and create `{name}` again after it",
                        self.broken_since(object, name)
                    ),
                }
            }
            Kind::DropColumn(table) => format!(
                "{object} `{name}` uses the column this statement drops from `{table}`; {drop} before this statement and create `{name}` again without the column after it"
            ),
            Kind::RenameColumn(table) => format!(
                "SQLite rewrites every view and trigger that uses the renamed column of `{table}`, and {object} `{name}` no longer works ({inner}){}; {drop} before this statement and create `{name}` again after it",
                self.broken_since(object, name)
            ),
            _ => format!(
                "{object} `{name}` no longer works ({inner}); {drop} before this statement and create `{name}` again after it"
            ),
        }
    }
}

/// A whole-set check failed: the diagnostic names the statement that broke it.
pub(super) fn whole_set(
    conn: &Connection,
    migrations: &[SourceMigration],
    options: &Options<'_>,
    probe: &Probe,
    message: &str,
    blame: Blame,
) -> Diagnostic {
    let broke = blame.broke.and_then(|b| Place::new(migrations, b));
    let created = blame.created.and_then(|c| Place::new(migrations, c));
    let Some(broke) = broke else {
        let path = migrations
            .last()
            .map_or("migrations", |m| m.display_path.as_str());
        return Diagnostic::new(
            path,
            format!(
                "`{}` fails once all migrations have run: {message}",
                probe.object()
            ),
        );
    };
    let born_broken = blame.broke == blame.created;
    let at_created = created
        .as_ref()
        .filter(|_| !born_broken)
        .map_or_else(String::new, |c| format!(" (created at {})", c.describe()));
    let kind = Kind::of(broke.statement());
    match probe {
        Probe::Integrity => broke
            .diagnostic(format!("after this statement the database fails `PRAGMA integrity_check`: {message}"))
            .with_help("the statement edits the schema as data (`PRAGMA writable_schema`) and leaves it inconsistent; change the schema with CREATE, ALTER and DROP statements, or rebuild the table"),
        Probe::View(view) => {
            let schema = schema_texts(conn);
            let texts: Vec<&str> = schema.iter().map(String::as_str).collect();
            if let Some(function) = missing_function(message) {
                let what = if born_broken {
                    format!("view `{view}` cannot be queried: {message}")
                } else {
                    format!("this statement breaks view `{view}`{at_created}: {message}")
                };
                return broke
                    .diagnostic(what)
                    .with_help(declare_function(function, &texts, options.functions));
            }
            if let Some(collation) = message.strip_prefix("no such collation sequence: ") {
                return broke
                    .diagnostic(format!("view `{view}` cannot be queried: {message}"))
                    .with_help(declare_collation(collation, options.collations));
            }
            if born_broken {
                return broke
                    .diagnostic(format!("view `{view}` cannot be queried: {message}"))
                    .with_help("the view reads something that does not exist when it is created; check the names, and that what it reads is created by an earlier statement or migration");
            }
            let help = view_help(&broke, &kind, view, message);
            broke
                .diagnostic(format!("this statement breaks view `{view}`{at_created}: {message}"))
                .with_help(help)
        }
        Probe::Parent {
            child,
            column,
            parent,
        } => {
            if born_broken {
                return broke
                    .diagnostic(format!("foreign key `{child}.{column}` references table `{parent}`, which does not exist once all migrations have run"))
                    .with_help("every insert into this table would fail with foreign keys on; create the parent table, fix the name, or drop the constraint by rebuilding the table");
            }
            let declared = created
                .as_ref()
                .map_or_else(String::new, |c| format!(" (declared at {})", c.describe()));
            broke
                .diagnostic(format!("after this statement, table `{parent}` no longer exists, and foreign key `{child}.{column}`{declared} references it"))
                .with_help(format!("with foreign keys on, every insert into `{child}` would fail; in this migration, rebuild `{child}` without the key or pointing at the table that replaces `{parent}`, or keep `{parent}`"))
        }
        Probe::KeyCheck(child) => {
            let what = if born_broken {
                format!("foreign key check fails: {message}")
            } else {
                format!("after this statement the foreign keys of `{child}`{at_created} fail to check: {message}")
            };
            broke.diagnostic(what).with_help("a foreign key must reference its parent's PRIMARY KEY, or columns with a UNIQUE constraint or index (https://www.sqlite.org/foreignkeys.html#fk_indexes)")
        }
        Probe::Write { table, verb, .. } => {
            write_error(conn, &broke, &kind, table, verb, message, options.functions)
        }
    }
}

fn view_help(broke: &Place<'_>, kind: &Kind, view: &str, message: &str) -> String {
    let recreate = format!(
        "`DROP VIEW {view};` before this statement and create `{view}` again after it, in this migration"
    );
    match kind {
        Kind::DropTable(table) => {
            // A rename-old-first rebuild without legacy_alter_table: the RENAME above
            // pointed the view at the old table, which this statement drops.
            let renamed = broke
                .earlier()
                .iter()
                .rev()
                .find(|s| matches!(effect(s), Effect::Alters(_, Some(to)) if to == *table));
            // A create-new-first rebuild: a later statement renames the new table
            // into `table`'s place, and it lacks what the view reads.
            let replaced = broke
                .later()
                .iter()
                .find(|s| matches!(effect(s), Effect::Alters(_, Some(to)) if to == *table));
            if let Some(rename) = replaced
                && renamed.is_none()
            {
                return format!(
                    "this rebuild replaces `{table}` (the RENAME at line {}) with a table that lacks what view `{view}` reads ({message}); `DROP VIEW {view};` before the rebuild and create it again after the RENAME, reading only what the new table has, or keep what it reads in the new table",
                    sql::line_column(&broke.migration.sql, rename.offset).0
                );
            }
            match renamed {
                Some(rename) => format!(
                    "the RENAME at line {} made view `{view}` read `{table}`: SQLite rewrites the views that use a renamed table. For this \"rename the old table first\" rebuild, {LEGACY}, so that the view keeps reading the new table; or {recreate}",
                    sql::line_column(&broke.migration.sql, rename.offset).0
                ),
                None => format!(
                    "SQLite does not check views when a table they read is dropped; {recreate} over what replaces `{table}`, or drop the view for good"
                ),
            }
        }
        Kind::DropColumn(_) => format!(
            "under `legacy_alter_table` SQLite does not check views when a column is dropped; {recreate} without the column"
        ),
        Kind::RenameTable { from, .. } => format!(
            "under `legacy_alter_table` a RENAME leaves the views that use `{from}` reading the old name; {recreate}"
        ),
        Kind::DropView(dropped) => format!(
            "view `{view}` reads view `{dropped}`; drop `{view}` too, or create it again over what replaces `{dropped}`"
        ),
        _ => format!("view `{view}` no longer works ({message}); {recreate}"),
    }
}

fn write_error(
    conn: &Connection,
    broke: &Place<'_>,
    kind: &Kind,
    table: &str,
    verb: &str,
    message: &str,
    functions: &[(&str, i32)],
) -> Diagnostic {
    let schema = schema_texts(conn);
    let texts: Vec<&str> = schema.iter().map(String::as_str).collect();
    // The trigger that uses what is missing, when the message names it.
    let missing = missing_table(message)
        .or_else(|| {
            message
                .strip_prefix("no such column: ")
                .map(|c| c.rsplit('.').next().unwrap_or(c).to_ascii_lowercase())
        })
        .or_else(|| {
            // `table log has no column named m`
            let (_, column) = message.split_once(" has no column named ")?;
            Some(column.to_ascii_lowercase())
        });
    let trigger = missing.and_then(|name| {
        let triggers: Vec<(String, String)> = conn
            .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ?1 COLLATE NOCASE ORDER BY rowid")
            .and_then(|mut s| s.query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .unwrap_or_default();
        triggers.into_iter().find_map(|(trigger, sql)| {
            let uses = sql::tokenize(&sql).iter().any(|t| {
                t.identifier(&sql)
                    .is_some_and(|id| id.eq_ignore_ascii_case(&name))
            });
            uses.then_some(trigger)
        })
    });
    let what = match (kind, &trigger) {
        (Kind::CreateTrigger(created), _) => format!(
            "trigger `{created}` fails whenever it fires: every {verb} on `{table}` would fail with {message}"
        ),
        (Kind::CreateTable(created), _) if created.eq_ignore_ascii_case(table) => {
            format!("every {verb} on `{table}` would fail: {message}")
        }
        (_, Some(trigger)) => format!(
            "after this statement trigger `{trigger}` of `{table}` fails whenever it fires, so every {verb} on `{table}` would fail: {message}"
        ),
        _ => format!(
            "after this statement every {verb} on `{table}` would fail, through a trigger, default, CHECK or generated column of `{table}`: {message}"
        ),
    };
    let help = if let Some(function) = missing_function(message) {
        declare_function(function, &texts, functions)
    } else {
        match (kind, &trigger) {
            (Kind::CreateTrigger(created), _) => format!(
                "SQLite checks a trigger's body only when it fires; fix the names in `{created}`, or create it after what it uses"
            ),
            (Kind::CreateTable(_), _) => {
                "SQLite checks defaults only when a row is written; fix the expression".into()
            }
            (_, Some(trigger)) => format!(
                "SQLite does not check triggers when what they use is dropped or renamed; in this migration, drop trigger `{trigger}` too (`DROP TRIGGER {trigger};`), or create it again over what replaces it"
            ),
            _ => format!(
                "a trigger or default of `{table}` uses what this statement removes or renames; in this migration, drop the triggers of `{table}` that use it and create them again, or rebuild `{table}`"
            ),
        }
    };
    broke.diagnostic(what).with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arity_counts_top_level_arguments_of_the_first_call() {
        assert_eq!(call_arity("SELECT f()", "f"), Some(0));
        assert_eq!(call_arity("SELECT F(a, g(b, c), (d))", "f"), Some(3));
        assert_eq!(call_arity("SELECT x.f, f('a,b', 2)", "f"), Some(2));
        assert_eq!(call_arity("SELECT g(1)", "f"), None);
    }

    #[test]
    fn sqlite_messages_are_read() {
        assert_eq!(missing_function("no such function: f"), Some("f"));
        assert_eq!(missing_function("unknown function: nofn()"), Some("nofn"));
        assert_eq!(
            schema_object_error("error in view post_list after drop column: no such column: slug"),
            Some(("view", "post_list", "no such column: slug"))
        );
        assert_eq!(
            schema_object_error("error in trigger t: no such table: main.x"),
            Some(("trigger", "t", "no such table: main.x"))
        );
        assert_eq!(
            missing_table("no such table: main.Posts"),
            Some("posts".into())
        );
    }
}
