//! Checks a migrations folder the way the `migrations!` macro does at build time.
//!
//! [`check_dir`] reads the numbered `.sql` files, checks their names, numbering,
//! encoding and statements, then applies them in order to an in-memory SQLite.
//! Every file-level problem is reported at once; SQL execution stops at the first
//! failing migration, since later ones depend on it.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::diagnostic::Diagnostic;
use crate::name::{self, NameError};
use crate::sql::{self, Statement, TokenKind};

/// The table in which the runtime records applied migrations.
pub const TRACKING_TABLE: &str = "schema_migrations";

/// Statements that open or close transactions, which a migration must not run.
const TRANSACTION_KEYWORDS: [&str; 6] =
    ["BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"];

/// Sequential versions have fewer digits than this; longer ones are timestamps.
const TIMESTAMP_DIGITS: usize = 10;

/// A migration file that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceMigration {
    /// The version number.
    pub version: i64,
    /// The description (`create_users`).
    pub name: String,
    /// The file name (`001_create_users.sql`).
    pub file_name: String,
    /// The file's path.
    pub path: PathBuf,
    /// The file's path as shown in messages, relative to the crate's `Cargo.toml`.
    pub display_path: String,
    /// The SQL, without a leading byte-order mark.
    pub sql: String,
    /// [`checksum`](crate::checksum()) of the SQL.
    pub checksum: [u8; 32],
}

/// Reads and checks every migration in `dir`, then applies them in order to an
/// in-memory database with `PRAGMA foreign_keys = ON`.
///
/// `display_dir` is how messages name the folder (the path the user wrote, relative
/// to `Cargo.toml`). Returns the migrations in version order.
///
/// # Errors
///
/// Every problem found, as [`Diagnostic`]s: all file-level problems (names,
/// numbering, encoding, empty files, transaction statements, use of
/// `schema_migrations`) at once, or the first failing SQL statement.
pub fn check_dir(dir: &Path, display_dir: &str) -> Result<Vec<SourceMigration>, Vec<Diagnostic>> {
    let display_dir = display_dir.trim_end_matches('/');
    let migrations = read_dir(dir, display_dir)?;
    validate(&migrations).map_err(|d| vec![d])?;
    Ok(migrations)
}

/// A candidate file whose name parsed.
struct Named {
    file_name: String,
    digits: String,
    version: i64,
    name: String,
}

/// Reads `dir` and runs every check that needs no database.
///
/// # Errors
///
/// Every file-level problem found.
pub fn read_dir(dir: &Path, display_dir: &str) -> Result<Vec<SourceMigration>, Vec<Diagnostic>> {
    let display = |file: &str| format!("{display_dir}/{file}");
    let entries = std::fs::read_dir(dir).map_err(|e| {
        let message = if e.kind() == std::io::ErrorKind::NotFound {
            "migrations folder not found".to_owned()
        } else {
            format!("cannot read the migrations folder: {e}")
        };
        vec![Diagnostic::new(display_dir, message).with_help(
            "the path is relative to the Cargo.toml of the crate that calls `migrations!`; create the folder or fix the path",
        )]
    })?;

    let mut diagnostics = Vec::new();
    let mut named = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| {
            vec![Diagnostic::new(
                display_dir,
                format!("cannot read the migrations folder: {e}"),
            )]
        })?;
        let os_name = entry.file_name();
        let Some(file_name) = os_name.to_str() else {
            let lossy = os_name.to_string_lossy();
            if name::is_candidate(&lossy) {
                diagnostics.push(
                    Diagnostic::new(display(&lossy), "migration file name is not valid UTF-8")
                        .with_help("rename the file to `<version>_<name>.sql` in ASCII"),
                );
            }
            continue;
        };
        // Folders are skipped; anything else named like a migration is read, so a broken
        // symlink is reported rather than silently left out.
        if !name::is_candidate(file_name) || entry.path().is_dir() {
            continue;
        }
        match name::parse_file_name(file_name) {
            Ok(parsed) => named.push(Named {
                file_name: file_name.to_owned(),
                digits: parsed.digits.to_owned(),
                version: parsed.version,
                name: parsed.name.to_owned(),
            }),
            Err(error) => diagnostics.push(name_error(&display(file_name), file_name, &error)),
        }
    }
    named.sort_by(|a, b| (a.version, &a.file_name).cmp(&(b.version, &b.file_name)));
    diagnostics.extend(numbering(&named, display_dir));

    if named.is_empty() && diagnostics.is_empty() {
        diagnostics.push(
            Diagnostic::new(display_dir, "no migrations found in the folder").with_help(
                "add a file named `<version>_<name>.sql`, for example `001_create_users.sql`",
            ),
        );
    }

    let mut migrations = Vec::with_capacity(named.len());
    for n in named {
        let path = dir.join(&n.file_name);
        let display_path = display(&n.file_name);
        match read_file(&path, &display_path) {
            Ok(sql) => {
                let found = statement_problems(&display_path, &sql);
                if found.is_empty() {
                    migrations.push(SourceMigration {
                        version: n.version,
                        checksum: crate::checksum(&sql),
                        name: n.name,
                        file_name: n.file_name,
                        path,
                        display_path,
                        sql,
                    });
                }
                diagnostics.extend(found);
            }
            Err(d) => diagnostics.push(d),
        }
    }
    if diagnostics.is_empty() {
        Ok(migrations)
    } else {
        Err(diagnostics)
    }
}

fn name_error(display_path: &str, file_name: &str, error: &NameError) -> Diagnostic {
    let rule = "names are `<version>_<name>.sql`: the version in digits, then `_`, then lowercase ASCII letters, digits and `_`";
    match error {
        NameError::Invalid { suggestion } => {
            let help = match suggestion {
                Some(s) => format!("rename it to `{s}`; {rule}"),
                None => format!("rename it, for example to `001_{}.sql`; {rule}", fallback_name(file_name)),
            };
            Diagnostic::new(
                display_path,
                format!("invalid migration file name `{file_name}`; expected `<version>_<name>.sql`"),
            )
            .with_help(help)
        }
        NameError::Down => Diagnostic::new(display_path, "down migrations are not supported").with_help(
            "migrations only go forward: delete the file or move it out of the folder, and write a new migration to undo a change",
        ),
        NameError::VersionTooLarge => Diagnostic::new(
            display_path,
            format!("migration version in `{file_name}` does not fit in a 64-bit signed integer"),
        )
        .with_help("use a shorter version: sequential numbers (`001`) or a timestamp (`20240101120000`)"),
    }
}

/// A description made from a file name with no readable version.
fn fallback_name(file_name: &str) -> String {
    let guess = name::suggest(&format!("0_{file_name}")).unwrap_or_default();
    guess
        .strip_prefix("0_")
        .and_then(|s| s.strip_suffix(".sql"))
        .unwrap_or("migration")
        .to_owned()
}

/// Duplicate versions, mixed widths and gaps in sequential numbering.
fn numbering(named: &[Named], display_dir: &str) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let display = |file: &str| format!("{display_dir}/{file}");

    let mut by_version: BTreeMap<i64, Vec<&Named>> = BTreeMap::new();
    for n in named {
        by_version.entry(n.version).or_default().push(n);
    }
    for (version, files) in &by_version {
        if files.len() > 1 {
            let names: Vec<String> = files.iter().map(|f| format!("`{}`", f.file_name)).collect();
            diagnostics.push(
                Diagnostic::new(
                    display(&files[1].file_name),
                    format!("duplicate migration version {version}: {}", names.join(" and ")),
                )
                .with_help("give each migration its own version; if two branches added the same number, renumber the newer file"),
            );
        }
    }

    // All versions use the most common number of digits (ties: the first file's).
    let mut widths: BTreeMap<usize, usize> = BTreeMap::new();
    for n in named {
        *widths.entry(n.digits.len()).or_default() += 1;
    }
    let Some(first) = named.first() else {
        return diagnostics;
    };
    let width = widths
        .iter()
        .max_by_key(|&(w, count)| (*count, *w == first.digits.len()))
        .map_or(first.digits.len(), |(w, _)| *w);
    for n in named.iter().filter(|n| n.digits.len() != width) {
        let padded = format!("{:0width$}", n.version);
        let help = if width >= TIMESTAMP_DIGITS {
            format!(
                "give it a {width}-digit version like the other migrations (for timestamps, `YYYYMMDDHHMMSS`), keeping the order in which the migrations must run"
            )
        } else if padded.len() == width {
            format!(
                "rename it to `{padded}_{}.sql`; all versions must have the same number of digits so that files sort in the order they run",
                n.name
            )
        } else {
            format!(
                "renumber the migrations so that every version has {} digits",
                padded.len()
            )
        };
        diagnostics.push(
            Diagnostic::new(
                display(&n.file_name),
                format!(
                    "migration version `{}` has {} digits but the other migrations use {width}",
                    n.digits,
                    n.digits.len()
                ),
            )
            .with_help(help),
        );
    }

    if width < TIMESTAMP_DIGITS {
        let versions: Vec<(&i64, &Vec<&Named>)> = by_version.iter().collect();
        for pair in versions.windows(2) {
            let ((&low, low_files), (&high, high_files)) = (pair[0], pair[1]);
            if high - low <= 1 {
                continue;
            }
            let pad = |v: i64| format!("{v:0width$}");
            let missing = if high - low - 1 <= 5 {
                let list: Vec<String> = (low + 1..high).map(pad).collect();
                list.join(", ")
            } else {
                format!("{} to {}", pad(low + 1), pad(high - 1))
            };
            let (low_file, high_file) = (&low_files[0].file_name, &high_files[0].file_name);
            diagnostics.push(
                Diagnostic::new(
                    display(high_file),
                    format!("gap in migration versions: {missing} missing between `{low_file}` and `{high_file}`"),
                )
                .with_help(format!(
                    "sequential versions must not skip a number: rename `{high_file}` to `{}_{}.sql` (and renumber the files after it), or use 14-digit timestamp versions, which only need to be unique",
                    pad(low + 1),
                    high_files[0].name
                )),
            );
        }
    }
    diagnostics
}

/// Reads a migration as UTF-8, dropping a leading byte-order mark.
fn read_file(path: &Path, display_path: &str) -> Result<String, Diagnostic> {
    let bytes = std::fs::read(path)
        .map_err(|e| Diagnostic::new(display_path, format!("cannot read the migration: {e}")))?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let lossy = String::from_utf8_lossy(bytes);
            // The lossy text has the same bytes up to the first invalid one.
            let mut d = Diagnostic::at(
                display_path,
                &lossy,
                offset,
                format!(
                    "migration is not valid UTF-8: invalid byte 0x{:02X} at byte offset {offset}",
                    bytes[offset]
                ),
            );
            d.help = Some("save the file as UTF-8 (it is probably Latin-1 or UTF-16)".to_owned());
            return Err(d);
        }
    };
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    };
    if let Some(offset) = text.find('\0') {
        return Err(
            Diagnostic::at(display_path, &text, offset, "migration contains a NUL byte")
                .with_help("SQLite stops reading a statement at a NUL byte and would silently skip the rest; remove it (the file may be corrupted or UTF-16)"),
        );
    }
    Ok(text)
}

/// Problems visible in the statements themselves: none at all, transaction control,
/// use of the tracking table.
fn statement_problems(display_path: &str, sql: &str) -> Vec<Diagnostic> {
    let statements = sql::statements(sql);
    if statements.is_empty() {
        return vec![
            Diagnostic::new(
                display_path,
                "migration has no SQL statement (the file is empty or only holds comments)",
            )
            .with_help("add the statements, or delete the file if it is not needed"),
        ];
    }
    let mut diagnostics = Vec::new();

    let transaction: Vec<(&Statement<'_>, String)> = statements
        .iter()
        .filter_map(|s| {
            s.keyword()
                .filter(|k| TRANSACTION_KEYWORDS.contains(&k.as_str()))
                .map(|k| (s, k))
        })
        .collect();
    if let Some((first, _)) = transaction.first() {
        let listed: Vec<String> = transaction
            .iter()
            .map(|(s, k)| format!("`{k}` on line {}", sql::line_column(sql, s.offset).0))
            .collect();
        let lines: Vec<String> = transaction
            .iter()
            .map(|(s, _)| sql::line_column(sql, s.offset).0.to_string())
            .collect();
        let mut d = Diagnostic::at(
            display_path,
            sql,
            first.offset,
            format!(
                "migration controls its own transaction: {}",
                listed.join(", ")
            ),
        );
        for (s, _) in &transaction[1..] {
            d = d.with_snippet(sql, s.offset);
        }
        diagnostics.push(d.with_help(format!(
            "each migration already runs in its own transaction, committed together with its row in `{TRACKING_TABLE}`; remove line{} {}",
            if lines.len() > 1 { "s" } else { "" },
            lines.join(", ")
        )));
    }

    let mut seen = HashSet::new();
    for s in &statements {
        let hit = s.tokens.iter().find(|t| {
            t.kind != TokenKind::String
                && t.identifier(s.text)
                    .is_some_and(|id| id.eq_ignore_ascii_case(TRACKING_TABLE))
        });
        if let Some(token) = hit {
            let offset = s.offset + token.start;
            if seen.insert(offset) {
                diagnostics.push(
                    Diagnostic::at(
                        display_path,
                        sql,
                        offset,
                        format!("migration uses the tracking table `{TRACKING_TABLE}`"),
                    )
                    .with_help(format!(
                        "the runner records every migration in `{TRACKING_TABLE}` itself; remove this statement, and keep your own data in tables of your own"
                    )),
                );
            }
        }
    }
    diagnostics
}

/// Applies `migrations` in order to an in-memory database, each in a transaction,
/// with foreign keys enforced.
///
/// # Errors
///
/// The first statement that fails, or an added `NOT NULL` column without a default.
pub fn validate(migrations: &[SourceMigration]) -> Result<(), Diagnostic> {
    let internal = |e: rusqlite::Error| {
        Diagnostic::new(
            "migrations",
            format!("cannot open the in-memory validation database: {e}"),
        )
    };
    let conn = Connection::open_in_memory().map_err(internal)?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(internal)?;
    for m in migrations {
        conn.execute_batch("BEGIN").map_err(internal)?;
        for statement in sql::statements(&m.sql) {
            let added = added_column_target(&statement)
                .map(|table| (table.clone(), columns(&conn, &table)));
            crate::exec::execute(&conn, statement.text)
                .map_err(|e| sql_error(m, &statement, &e))?;
            if let Some((table, Ok(before))) = added {
                check_added_columns(&conn, m, &statement, &table, &before)?;
            }
        }
        if let Err(e) = conn.execute_batch("COMMIT") {
            // A deferred constraint failed; the transaction is still open to inspect.
            let mut message = format!("migration fails at COMMIT: {}", sqlite_message(&e).0);
            let violations = foreign_key_violations(&conn);
            if !violations.is_empty() {
                message = format!("{message}: {}", violations.join("; "));
            }
            return Err(Diagnostic::new(&m.display_path, message).with_help(
                "a deferred foreign key is violated once all the statements have run; fix the rows the migration leaves behind",
            ));
        }
    }
    Ok(())
}

/// Rows that break a foreign key, as `` `books` row 1 references a missing row of `authors` ``.
fn foreign_key_violations(conn: &Connection) -> Vec<String> {
    let Ok(mut stmt) = conn.prepare("PRAGMA foreign_key_check") else {
        return Vec::new();
    };
    let rows = stmt.query_map([], |r| {
        let (table, rowid, parent): (String, Option<i64>, String) =
            (r.get(0)?, r.get(1)?, r.get(2)?);
        let row = rowid.map_or_else(|| "a row".to_owned(), |id| format!("row {id}"));
        Ok(format!(
            "`{table}` {row} references a missing row of `{parent}`"
        ))
    });
    rows.map(|rows| rows.filter_map(Result::ok).take(5).collect())
        .unwrap_or_default()
}

/// SQLite's own message for `error`, and the byte offset it points at, if any.
pub fn sqlite_message(error: &rusqlite::Error) -> (String, Option<usize>) {
    match error {
        rusqlite::Error::SqlInputError { msg, offset, .. } => {
            (msg.clone(), usize::try_from(*offset).ok())
        }
        rusqlite::Error::SqliteFailure(_, Some(msg)) => (msg.clone(), None),
        other => (other.to_string(), None),
    }
}

fn sql_error(
    m: &SourceMigration,
    statement: &Statement<'_>,
    error: &rusqlite::Error,
) -> Diagnostic {
    let (message, offset) = sqlite_message(error);
    let offset = statement.offset + offset.filter(|&o| o <= statement.text.len()).unwrap_or(0);
    let help = if message.contains("syntax error")
        || message.contains("incomplete input")
        || message.contains("unrecognized token")
    {
        "fix the syntax of this statement; SQLite's grammar is at https://www.sqlite.org/lang.html"
    } else if message.contains("constraint failed") {
        "the rows this statement writes break a constraint of the schema built by the earlier migrations (applied in order to an empty database, with foreign keys enforced); fix the data or the constraint"
    } else if message.starts_with("no such table") || message.starts_with("no such column") {
        "check the name, and that the migration creating it has a lower version: migrations run in version order"
    } else if message.starts_with("no such function") {
        "the bundled SQLite that validates migrations has no such function; use a built-in function (https://www.sqlite.org/lang_corefunc.html)"
    } else {
        "the statement fails on the schema built by the migrations before it, applied in order to an empty database; fix the statement"
    };
    Diagnostic::at(&m.display_path, &m.sql, offset, message).with_help(help)
}

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
            .with_help(
                "SQLite accepts this on the empty validation database but refuses it on any table with rows (\"Cannot add a NOT NULL column with default value NULL\"); give the column a non-NULL default (`NOT NULL DEFAULT ''`), or rebuild the table: create the new table, copy the rows, drop the old one, rename the new one",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in files {
            std::fs::write(dir.path().join(name), content).unwrap();
        }
        dir
    }

    fn messages(files: &[(&str, &[u8])]) -> Vec<String> {
        let dir = dir_with(files);
        match check_dir(dir.path(), "m") {
            Ok(_) => Vec::new(),
            Err(ds) => ds.into_iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn accepts_a_valid_set_and_ignores_other_files() {
        let dir = dir_with(&[
            ("001_users.sql", b"CREATE TABLE users (id INTEGER PRIMARY KEY);"),
            ("002_posts.sql", b"\xEF\xBB\xBFCREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INT REFERENCES users(id))"),
            ("README.md", b"not sql"),
            (".003_hidden.sql", b"garbage"),
        ]);
        std::fs::create_dir(dir.path().join("004_dir.sql")).unwrap();
        let ms = check_dir(dir.path(), "m").unwrap();
        assert_eq!(ms.iter().map(|m| m.version).collect::<Vec<_>>(), [1, 2]);
        assert!(ms[1].sql.starts_with("CREATE"), "BOM dropped");
        assert_eq!(ms[1].display_path, "m/002_posts.sql");
        assert_eq!(
            ms[0].checksum,
            crate::checksum("CREATE TABLE users (id INTEGER PRIMARY KEY)")
        );
    }

    #[test]
    fn reports_every_file_level_problem_at_once() {
        let got = messages(&[
            ("001_a.sql", b"SELECT 1"),
            ("001_b.sql", b"SELECT 1"),
            ("0002_c.sql", b"SELECT 1"),
            ("005_d.sql", b"-- nothing"),
            ("Bad Name.sql", b"SELECT 1"),
            ("006_e.sql", b"SELECT \xff"),
            ("007_f.sql", b"BEGIN;\nSELECT 1;\nCOMMIT;"),
            ("008_g.sql", b"INSERT INTO schema_migrations VALUES (1)"),
        ]);
        let all = got.join("\n\n");
        for expected in [
            "duplicate migration version 1: `001_a.sql` and `001_b.sql`",
            "m/0002_c.sql: migration version `0002` has 4 digits but the other migrations use 3",
            "rename it to `002_c.sql`",
            "gap in migration versions: 003, 004 missing between `0002_c.sql` and `005_d.sql`",
            "invalid migration file name `Bad Name.sql`",
            "m/005_d.sql: migration has no SQL statement",
            "m/006_e.sql:1:8: migration is not valid UTF-8: invalid byte 0xFF at byte offset 7",
            "m/007_f.sql:1:1: migration controls its own transaction: `BEGIN` on line 1, `COMMIT` on line 3",
            "remove lines 1, 3",
            "m/008_g.sql:1:13: migration uses the tracking table `schema_migrations`",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
        }
        assert_eq!(got.len(), 8, "{all}");
    }

    #[test]
    fn nul_bytes_and_unreadable_files_are_reported() {
        let dir = dir_with(&[("001_a.sql", b"SELECT 1;\n\0DROP TABLE x;")]);
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("gone.sql"), dir.path().join("002_b.sql"))
            .unwrap();
        let got: Vec<String> = check_dir(dir.path(), "m")
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            got[0].starts_with("m/001_a.sql:2:1: migration contains a NUL byte"),
            "{got:?}"
        );
        #[cfg(unix)]
        assert!(
            got[1].starts_with("m/002_b.sql: cannot read the migration:"),
            "{got:?}"
        );
    }

    #[test]
    fn timestamps_may_have_gaps_but_not_duplicates() {
        assert!(
            messages(&[
                ("20240101000000_a.sql", b"SELECT 1"),
                ("20240305120000_b.sql", b"SELECT 1")
            ])
            .is_empty()
        );
        assert_eq!(
            messages(&[("0_a.sql", b"SELECT 1"), ("1_b.sql", b"SELECT 1")]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn missing_and_empty_folders() {
        let dir = dir_with(&[("notes.txt", b"")]);
        let err = check_dir(dir.path(), "m").unwrap_err();
        assert!(
            err[0].to_string().starts_with("m: no migrations found"),
            "{err:?}"
        );
        let err = check_dir(&dir.path().join("nope"), "nope").unwrap_err();
        assert!(
            err[0]
                .to_string()
                .starts_with("nope: migrations folder not found"),
            "{err:?}"
        );
    }

    #[test]
    fn sql_errors_point_at_file_line_and_column() {
        let got = messages(&[
            ("001_a.sql", b"CREATE TABLE a (id INTEGER PRIMARY KEY);"),
            (
                "002_b.sql",
                b"-- posts\nCREATE TABLE b (id INTEGER);\n\n  CREAT TABLE c (id INTEGER);\n",
            ),
        ]);
        assert_eq!(got.len(), 1);
        assert!(
            got[0].starts_with(
                "m/002_b.sql:4:3: near \"CREAT\": syntax error\n  |\n4 |   CREAT TABLE c"
            ),
            "{}",
            got[0]
        );
    }

    #[test]
    fn runtime_errors_point_at_the_statement() {
        let got = messages(&[("001_a.sql", b"CREATE TABLE a (id INTEGER PRIMARY KEY);\nINSERT INTO a VALUES (1);\nINSERT INTO a VALUES (1);")]);
        assert!(
            got[0].starts_with("m/001_a.sql:3:1: UNIQUE constraint failed: a.id"),
            "{}",
            got[0]
        );
    }

    #[test]
    fn foreign_keys_are_enforced() {
        let got = messages(&[(
            "001_a.sql",
            b"CREATE TABLE a (id INTEGER PRIMARY KEY);\nCREATE TABLE b (a_id INT REFERENCES a(id));\nINSERT INTO b VALUES (7);",
        )]);
        assert!(
            got[0].starts_with("m/001_a.sql:3:1: FOREIGN KEY constraint failed"),
            "{}",
            got[0]
        );
    }

    #[test]
    fn deferred_foreign_keys_are_checked_at_commit() {
        let got = messages(&[
            ("001_a.sql", b"CREATE TABLE a (id INTEGER PRIMARY KEY);\nCREATE TABLE b (a_id INT REFERENCES a(id) DEFERRABLE INITIALLY DEFERRED);"),
            ("002_b.sql", b"INSERT INTO b VALUES (7);"),
        ]);
        assert_eq!(
            got[0].lines().next().unwrap(),
            "m/002_b.sql: migration fails at COMMIT: FOREIGN KEY constraint failed: `b` row 1 references a missing row of `a`"
        );
    }

    #[test]
    fn not_null_column_without_default_is_refused() {
        let base: (&str, &[u8]) = ("001_a.sql", b"CREATE TABLE \"a\" (id INTEGER PRIMARY KEY);");
        let got = messages(&[
            base,
            (
                "002_b.sql",
                b"ALTER TABLE main.\"a\" ADD COLUMN email TEXT NOT NULL;",
            ),
        ]);
        assert!(
            got[0].starts_with(
                "m/002_b.sql:1:33: column `email` is added to `a` as NOT NULL without a default"
            ),
            "{}",
            got[0]
        );
        for ok in [
            &b"ALTER TABLE a ADD COLUMN email TEXT NOT NULL DEFAULT ''"[..],
            b"ALTER TABLE a ADD email TEXT",
            b"ALTER TABLE a ADD COLUMN n INT NOT NULL DEFAULT 0",
        ] {
            assert!(messages(&[base, ("002_b.sql", ok)]).is_empty());
        }
    }

    #[test]
    fn trigger_bodies_and_semicolons_in_strings_are_fine() {
        assert!(messages(&[(
            "001_a.sql",
            b"CREATE TABLE a (x TEXT DEFAULT ';');\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE a SET x = 'a;b';\nEND;\nINSERT INTO a VALUES ('-- not a comment')"
        )])
        .is_empty());
    }
}
