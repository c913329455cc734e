//! Statements SQLite runs without complaint that do not do what they say: a missing
//! comma that makes a column part of another's type, `CREATE … IF NOT EXISTS` over an
//! object of another shape, and `PRAGMA user_version`, which the runner owns.

use rusqlite::Connection;

use super::SourceMigration;
use crate::diagnostic::Diagnostic;
use crate::foreign_keys::{Effect, effect, name_at};
use crate::sql::{Statement, TokenKind};

/// Checks made before `statement` runs.
pub(super) fn before(
    conn: &Connection,
    m: &SourceMigration,
    statement: &Statement<'_>,
) -> Result<(), Diagnostic> {
    if let Some(p) = crate::rules::pragma(statement)
        && p.sets
        && p.name == "user_version"
    {
        return Err(at(m, statement, 0, "`PRAGMA user_version` is set by the runner: after every migration it stores the highest applied version there, so this value would be overwritten")
            .with_help("remove this line; read where a database stands with `MIGRATIONS.status(&conn)?.version()`, or from the `schema_migrations` table"));
    }
    if_not_exists(conn, m, statement)
}

/// Checks made after `statement` ran.
pub(super) fn after(
    conn: &Connection,
    m: &SourceMigration,
    statement: &Statement<'_>,
) -> Result<(), Diagnostic> {
    let table = match effect(statement) {
        Effect::Creates(table) if !is_virtual_or_select(statement) => table,
        Effect::Alters(table, None) if is_add_column(statement) => table,
        _ => return Ok(()),
    };
    missing_comma(conn, m, statement, &table)
}

fn at(m: &SourceMigration, statement: &Statement<'_>, token: usize, message: &str) -> Diagnostic {
    let offset = statement.offset + statement.tokens.get(token).map_or(0, |t| t.start);
    Diagnostic::at(&m.display_path, &m.sql, offset, message)
}

fn kw(statement: &Statement<'_>, i: usize, k: &str) -> bool {
    statement
        .tokens
        .get(i)
        .is_some_and(|t| t.is_keyword(statement.text, k))
}

fn is_virtual_or_select(statement: &Statement<'_>) -> bool {
    let mut at = 1;
    if kw(statement, at, "TEMP") || kw(statement, at, "TEMPORARY") {
        at += 1;
    }
    if !kw(statement, at, "TABLE") {
        return true;
    }
    at += 1;
    if kw(statement, at, "IF") {
        at += 3;
    }
    name_at(statement, at).is_none_or(|(_, next)| kw(statement, next, "AS"))
}

fn is_add_column(statement: &Statement<'_>) -> bool {
    name_at(statement, 2).is_some_and(|(_, next)| kw(statement, next, "ADD"))
}

/// `CREATE [TEMP] [UNIQUE] TABLE|INDEX|VIEW|TRIGGER IF NOT EXISTS name …` over an
/// object whose definition differs: SQLite silently does nothing.
fn if_not_exists(
    conn: &Connection,
    m: &SourceMigration,
    statement: &Statement<'_>,
) -> Result<(), Diagnostic> {
    if !kw(statement, 0, "CREATE") {
        return Ok(());
    }
    let mut kind_at = 1;
    if kw(statement, kind_at, "TEMP") || kw(statement, kind_at, "TEMPORARY") {
        // Temporary objects live in another schema; not checked.
        return Ok(());
    }
    if kw(statement, kind_at, "UNIQUE") {
        kind_at += 1;
    }
    let kind = ["TABLE", "INDEX", "VIEW", "TRIGGER"]
        .into_iter()
        .find(|k| kw(statement, kind_at, k));
    let Some(kind) = kind else {
        return Ok(());
    };
    if !(kw(statement, kind_at + 1, "IF")
        && kw(statement, kind_at + 2, "NOT")
        && kw(statement, kind_at + 3, "EXISTS"))
    {
        return Ok(());
    }
    let Some((name, _)) = name_at(statement, kind_at + 4) else {
        return Ok(());
    };
    let existing: Option<(String, Option<String>)> = conn
        .query_row(
            "SELECT type, sql FROM sqlite_schema WHERE name = ?1 COLLATE NOCASE",
            [&name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok();
    let Some((existing_kind, existing_sql)) = existing else {
        return Ok(());
    };
    let existing_sql = existing_sql.unwrap_or_default();
    let same = existing_kind.eq_ignore_ascii_case(kind)
        && crate::sql::statements(&existing_sql)
            .first()
            .is_some_and(|e| shape(e) == shape(statement));
    if same {
        return Ok(());
    }
    let shown: String = existing_sql.chars().take(240).collect();
    let ellipsis = if existing_sql.chars().count() > 240 {
        "…"
    } else {
        ""
    };
    let what = kind.to_ascii_lowercase();
    Err(at(
        m,
        statement,
        0,
        &format!("`{name}` already exists with another definition, so this `CREATE {kind} IF NOT EXISTS` does nothing; the existing {existing_kind}: `{shown}{ellipsis}`"),
    )
    .with_help(format!("`IF NOT EXISTS` skips the statement whenever the name is taken, whatever the definition; to change the {what}, drop and create it again (or use ALTER TABLE, or rebuild the table), or make this statement match the existing definition, or remove it")))
}

/// A definition compared without layout, letter case of words, quoting of names, or
/// `IF NOT EXISTS`.
fn shape(statement: &Statement<'_>) -> Vec<String> {
    let text = statement.text;
    let mut out = Vec::with_capacity(statement.tokens.len());
    let mut i = 0;
    while i < statement.tokens.len() {
        if kw(statement, i, "IF") && kw(statement, i + 1, "NOT") && kw(statement, i + 2, "EXISTS") {
            i += 3;
            continue;
        }
        let t = statement.tokens[i];
        out.push(match t.kind {
            TokenKind::Word | TokenKind::QuotedIdent => {
                t.identifier(text).unwrap_or_default().to_ascii_uppercase()
            }
            _ => t.text(text).to_owned(),
        });
        i += 1;
    }
    out
}

/// Words that name a storage type (what decides a column's affinity).
const TYPE_WORDS: &[&str] = &[
    "ANY",
    "BIGINT",
    "BLOB",
    "BOOL",
    "BOOLEAN",
    "CHAR",
    "CHARACTER",
    "CLOB",
    "DATE",
    "DATETIME",
    "DECIMAL",
    "DOUBLE",
    "FLOAT",
    "INT",
    "INT2",
    "INT8",
    "INTEGER",
    "JSON",
    "MEDIUMINT",
    "NCHAR",
    "NUMERIC",
    "NVARCHAR",
    "REAL",
    "SMALLINT",
    "STRING",
    "TEXT",
    "TIME",
    "TIMESTAMP",
    "TINYINT",
    "UUID",
    "VARCHAR",
];

/// Words that can stand between type words in one type (`UNSIGNED BIG INT`,
/// `DOUBLE PRECISION`, `TIMESTAMP WITH TIME ZONE`, `CHARACTER VARYING`).
const TYPE_MODIFIERS: &[&str] = &[
    "BIG",
    "LOCAL",
    "LONG",
    "NATIONAL",
    "NATIVE",
    "PRECISION",
    "SIGNED",
    "UNSIGNED",
    "VARYING",
    "WITH",
    "WITHOUT",
    "ZONE",
];

/// A column whose declared type holds what looks like another column: `bio TEXT`
/// then `slug TEXT` without a comma is one column `bio` of type `TEXT slug TEXT`.
fn missing_comma(
    conn: &Connection,
    m: &SourceMigration,
    statement: &Statement<'_>,
    table: &str,
) -> Result<(), Diagnostic> {
    let columns: Vec<(String, String)> = conn
        .prepare_cached("SELECT name, type FROM pragma_table_info(?1)")
        .and_then(|mut s| {
            s.query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
        .unwrap_or_default();
    for (column, declared) in &columns {
        // Words of the type, without sizes such as `(255)`.
        let words: Vec<&str> = declared
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty() && !w.chars().all(|c| c.is_ascii_digit()))
            .collect();
        let is_type = |w: &str| TYPE_WORDS.iter().any(|t| t.eq_ignore_ascii_case(w));
        let is_modifier = |w: &str| TYPE_MODIFIERS.iter().any(|t| t.eq_ignore_ascii_case(w));
        let other_column = |w: &str| {
            columns
                .iter()
                .any(|(c, _)| c != column && c.eq_ignore_ascii_case(w))
        };
        let mut suspect = None;
        for (i, word) in words.iter().enumerate() {
            let repeated = i > 0 && is_type(word) && words[i - 1].eq_ignore_ascii_case(word);
            let swallowed = i > 0
                && !is_type(word)
                && !is_modifier(word)
                && (other_column(word)
                    || (words[..i].iter().any(|w| is_type(w))
                        && words[i + 1..].iter().any(|w| is_type(w))));
            if repeated || swallowed {
                suspect = Some((*word, repeated));
                break;
            }
        }
        let Some((word, repeated)) = suspect else {
            continue;
        };
        let declared = declared.split_whitespace().collect::<Vec<_>>().join(" ");
        let tokens = &statement.tokens;
        let named = tokens.iter().position(|t| {
            t.identifier(statement.text)
                .is_some_and(|id| id.eq_ignore_ascii_case(column))
        });
        let token = named.map_or(0, |c| {
            let mut hits = (c + 1..tokens.len())
                .filter(|&i| tokens[i].text(statement.text).eq_ignore_ascii_case(word));
            let hit = if repeated { hits.nth(1) } else { hits.next() };
            hit.unwrap_or(c)
        });
        let (message, help) = if repeated {
            (
                format!(
                    "column `{column}` of `{table}` has the declared type `{declared}`, which repeats `{word}`: a comma and a column name are probably missing"
                ),
                format!("remove the repeated `{word}`, or add the missing `,` and column name"),
            )
        } else {
            (
                format!(
                    "column `{column}` of `{table}` has the declared type `{declared}`: a comma is probably missing before `{word}`, so SQLite took `{word}` as part of the type and `{table}` has no column `{word}`"
                ),
                format!(
                    "add the `,` that ends `{column}`'s definition before `{word}`; SQLite accepts any words as a type name, so nothing else reports it"
                ),
            )
        };
        return Err(at(m, statement, token, &message).with_help(help));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::statements;

    #[test]
    fn shapes_ignore_layout_case_quotes_and_if_not_exists() {
        let a = statements("CREATE TABLE IF NOT EXISTS users (id INTEGER, name TEXT)");
        let b = statements("create table \"Users\"(\n  id integer,\n  name text\n)");
        let c = statements("CREATE TABLE users (id INTEGER, name TEXT, email TEXT)");
        assert_eq!(shape(&a[0]), shape(&b[0]));
        assert_ne!(shape(&a[0]), shape(&c[0]));
    }

    /// Each footgun: plain SQLite runs the files without an error, and the build
    /// refuses them with the expected message.
    #[test]
    fn catalogue_plain_sqlite_accepts_and_the_build_refuses() {
        let cases: &[(&str, &[&str], &str)] = &[
            (
                "undeclared function in a DEFAULT",
                &["CREATE TABLE t (id INTEGER PRIMARY KEY, u TEXT DEFAULT (uuid7()))"],
                "every INSERT on `t` would fail: unknown function: uuid7()",
            ),
            (
                "undeclared function in a trigger body",
                &[
                    "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT)",
                    "CREATE TRIGGER t_s AFTER UPDATE ON t BEGIN UPDATE t SET s = slugify(NEW.s) WHERE id = NEW.id; END",
                ],
                "no such function: slugify",
            ),
            (
                "trigger writing a table dropped later",
                &[
                    "CREATE TABLE t (id INTEGER PRIMARY KEY); CREATE TABLE log (n INTEGER);
                     CREATE TRIGGER t_log AFTER DELETE ON t BEGIN INSERT INTO log VALUES (OLD.id); END",
                    "DROP TABLE log",
                ],
                "trigger `t_log` of `t` fails whenever it fires",
            ),
            (
                "trigger using a column dropped later",
                &[
                    "CREATE TABLE t (id INTEGER PRIMARY KEY); CREATE TABLE log (n INTEGER, m INTEGER);
                     CREATE TRIGGER t_log AFTER INSERT ON t BEGIN INSERT INTO log (n, m) VALUES (NEW.id, 1); END",
                    "PRAGMA legacy_alter_table = ON; ALTER TABLE log DROP COLUMN m",
                ],
                "trigger `t_log` of `t` fails whenever it fires",
            ),
            (
                "missing comma after a bare type",
                &["CREATE TABLE users (id INTEGER PRIMARY KEY, bio TEXT\n slug TEXT)"],
                "a comma is probably missing before `slug`",
            ),
            (
                "missing comma, two types",
                &["CREATE TABLE users (id INTEGER PRIMARY KEY, bio TEXT\n age INTEGER NOT NULL)"],
                "a comma is probably missing before `age`",
            ),
            (
                "missing comma in ADD COLUMN, a column named elsewhere",
                &[
                    "CREATE TABLE users (id INTEGER PRIMARY KEY, slug TEXT)",
                    "ALTER TABLE users ADD COLUMN bio TEXT slug",
                ],
                "a comma is probably missing before `slug`",
            ),
            (
                "repeated type word",
                &["CREATE TABLE users (id INTEGER PRIMARY KEY, n INTEGER INTEGER)"],
                "which repeats `INTEGER`",
            ),
            (
                "CREATE TABLE IF NOT EXISTS over another shape",
                &[
                    "CREATE TABLE users (id INTEGER PRIMARY KEY)",
                    "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, email TEXT)",
                ],
                "`users` already exists with another definition",
            ),
            (
                "CREATE INDEX IF NOT EXISTS over another index",
                &[
                    "CREATE TABLE users (id INTEGER PRIMARY KEY, a, b); CREATE INDEX users_x ON users (a)",
                    "CREATE INDEX IF NOT EXISTS users_x ON users (b)",
                ],
                "`users_x` already exists with another definition",
            ),
            (
                "CREATE VIEW IF NOT EXISTS over another view",
                &[
                    "CREATE TABLE users (id INTEGER PRIMARY KEY, a); CREATE VIEW v AS SELECT id FROM users",
                    "CREATE VIEW IF NOT EXISTS v AS SELECT id, a FROM users",
                ],
                "`v` already exists with another definition",
            ),
            (
                "CREATE TRIGGER IF NOT EXISTS over another trigger",
                &[
                    "CREATE TABLE users (id INTEGER PRIMARY KEY, a);
                     CREATE TRIGGER tr AFTER INSERT ON users BEGIN SELECT 1; END",
                    "CREATE TRIGGER IF NOT EXISTS tr AFTER DELETE ON users BEGIN SELECT 2; END",
                ],
                "`tr` already exists with another definition",
            ),
            (
                "CREATE TABLE IF NOT EXISTS over a table altered since",
                &[
                    "CREATE TABLE users (id INTEGER PRIMARY KEY)",
                    "ALTER TABLE users ADD COLUMN email TEXT",
                    "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY)",
                ],
                "`users` already exists with another definition",
            ),
            (
                "PRAGMA user_version",
                &["CREATE TABLE t (x); PRAGMA user_version = 3"],
                "`PRAGMA user_version` is set by the runner",
            ),
        ];
        for (name, files, expected) in cases {
            let plain = Connection::open_in_memory().unwrap();
            for file in *files {
                plain
                    .execute_batch(file)
                    .unwrap_or_else(|e| panic!("{name}: plain SQLite refuses it: {e}"));
            }
            let d = crate::check::validate(&crate::check::sources(files), &[]).expect_err(name);
            assert!(d.message.contains(expected), "{name}: {d}");
        }
        // Not footguns: SQLite itself refuses an unknown function in a CHECK or a
        // generated column when the table is created, and the build says which line
        // to add.
        for create in [
            "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT CHECK (is_slug(s)))",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, u TEXT AS (slugify(s)))",
        ] {
            assert!(
                Connection::open_in_memory()
                    .unwrap()
                    .execute_batch(create)
                    .is_err()
            );
            let d =
                crate::check::validate(&crate::check::sources(&[create]), &[]).expect_err(create);
            assert!(
                d.help.as_deref().is_some_and(|h| h.contains("functions(")),
                "{d}"
            );
        }
        // What is the same again is fine.
        let same = [
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)",
            "CREATE TABLE IF NOT EXISTS \"users\" (\n  id integer primary key,\n  name text\n)",
            "CREATE TABLE t (a UNSIGNED BIG INT, b DOUBLE PRECISION, c VARCHAR(255), d TIMESTAMP WITH TIME ZONE, e CHARACTER VARYING(3))",
        ];
        crate::check::validate(&crate::check::sources(&same), &[]).unwrap();
    }
}
