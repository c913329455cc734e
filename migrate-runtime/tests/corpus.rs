//! Differential test of the tokenizer and canonical form against SQLite itself, over
//! real migration sets from public projects (`tests/corpus`, see its README).
//!
//! Each set is applied twice, file by file, to two databases:
//! - **A**, the reference: SQLite splits each file itself (prepare with tail, via
//!   `rusqlite::Batch`) and executes the original text;
//! - **B**: each statement found by `migrate_runtime::sql::statements` is executed in
//!   its canonical form (the text the checksum hashes).
//!
//! Per file, both must see the same statements (compared in canonical form) and stop
//! at the same error, if any; per set, both must end with the same schema (the
//! canonical SQL of every `sqlite_master` entry, and the exact names of every table's
//! and view's columns, which keyword case or a view column's spelling would change).

use std::path::{Path, PathBuf};

#[allow(
    unused_imports,
    reason = "rusqlite 0.32's `Batch::next` is an inherent method; from 0.33 it is this trait's"
)]
use fallible_iterator::FallibleIterator as _;
use migrate_runtime::sql;
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, Statement};

/// Each set: folders merged and sorted by version (TrailBase's layout).
const SETS: &[&[&str]] = &[
    &["atuin/client"],
    &["atuin/client-record"],
    &["atuin/scripts"],
    &["atuin/server-sqlite"],
    &["karakeep"],
    &["pihole-gravity/base-v1", "pihole-gravity"],
    &["plume"],
    &["pocket-id"],
    &["screenpipe"],
    &["stash"],
    &["trailbase/base", "trailbase/main"],
    &["trailbase/logs"],
    &["trailbase/session"],
    &[
        "trailbase/base",
        "trailbase/main",
        "trailbase/testfixture-main",
    ],
    &["vaultwarden"],
];

/// Functions the projects register in their applications.
const APP_FUNCTIONS: &[&str] = &[
    "uuid_v7",
    "uuid_v4",
    "is_uuid_v7",
    "is_uuid",
    "is_email",
    "jsonschema",
    "hash_password",
    "ST_IsValid",
    "ST_GeomFromText",
    "ST_MakeEnvelope",
    "durationToTinyInt",
    "regexp",
    "basename",
    "phash_distance",
    "normalize",
    "vec_length",
];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// The version key of a migration path: leading digits of its file (or diesel
/// folder) name, `-` separators skipped, refinery's `V`/`U` prefix dropped.
fn version_key(path: &Path) -> (u128, String) {
    let file = path.file_name().unwrap().to_string_lossy();
    let name = if file == "up.sql" {
        path.parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    } else {
        file.into_owned()
    };
    let unprefixed = name.trim_start_matches(['V', 'U']);
    let mut digits = String::new();
    let mut chars = unprefixed.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if c != '-' {
            break;
        }
        chars.next();
    }
    // vaultwarden's `2024-03-13_170000_…` (a `_` where diesel expects `-`)
    if digits.len() == 8 && unprefixed.contains('-') {
        let rest: String = chars.skip(1).take_while(char::is_ascii_digit).collect();
        if rest.len() == 6 {
            digits.push_str(&rest);
        }
    }
    (digits.parse().unwrap_or(0), name)
}

fn up_migrations(folders: &[&str]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for folder in folders {
        for entry in std::fs::read_dir(corpus().join(folder)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                let up = path.join("up.sql");
                if up.is_file() {
                    files.push(up);
                }
            } else if name.ends_with(".sql") && !name.ends_with("down.sql") {
                files.push(path);
            }
        }
    }
    files.sort_by_key(|p| version_key(p));
    files
}

/// A connection like the projects' own: their functions registered (stand-ins that
/// return a fresh 16-byte blob for ids and geometries, 1 otherwise) and foreign keys
/// off, as their runners migrate (rusqlite's bundled SQLite defaults them to on).
fn open() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.pragma_update(None, "foreign_keys", false).unwrap();
    let counter = std::sync::atomic::AtomicU64::new(1);
    let counter = std::sync::Arc::new(counter);
    for name in APP_FUNCTIONS {
        let blob =
            name.starts_with("uuid") || name.starts_with("ST_Geom") || name.starts_with("ST_Make");
        let counter = counter.clone();
        conn.create_scalar_function(*name, -1, FunctionFlags::SQLITE_UTF8, move |_| {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(if blob {
                rusqlite::types::Value::Blob([n.to_be_bytes(), n.to_le_bytes()].concat())
            } else {
                rusqlite::types::Value::Integer(1)
            })
        })
        .unwrap();
    }
    conn
}

fn run(stmt: &mut Statement<'_>) -> rusqlite::Result<()> {
    let mut rows = stmt.raw_query();
    while rows.next()?.is_some() {}
    Ok(())
}

/// Statements (canonical) and the error that stopped the file, as SQLite splits it.
fn apply_as_sqlite(conn: &Connection, text: &str) -> (Vec<String>, Option<String>) {
    let mut seen = Vec::new();
    let mut batch = rusqlite::Batch::new(conn, text);
    loop {
        match batch.next() {
            Ok(Some(mut stmt)) => {
                seen.push(sql::canonical(&stmt.expanded_sql().unwrap()));
                if let Err(e) = run(&mut stmt) {
                    return (seen, Some(e.to_string()));
                }
            }
            Ok(None) => return (seen, None),
            Err(e) => return (seen, Some(message(&e))),
        }
    }
}

/// The same, with this crate's statements executed in canonical form.
fn apply_canonical(conn: &Connection, text: &str) -> (Vec<String>, Option<String>) {
    let mut seen = Vec::new();
    for statement in sql::statements(text) {
        let canonical = statement.canonical();
        let result = conn.prepare(&canonical).and_then(|mut stmt| run(&mut stmt));
        match result {
            Ok(()) => seen.push(canonical),
            Err(e) => return (seen, Some(message(&e))),
        }
    }
    (seen, None)
}

fn without_dot_commands(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with('.'))
        .flat_map(|l| [l, "\n"])
        .collect()
}

/// SQLite's message, without rusqlite's statement echo.
fn message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other.to_string(),
    }
}

fn schema(conn: &Connection) -> Vec<(String, String, String, String)> {
    let mut stmt = conn
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
        .unwrap();
    stmt.query_map([], |r| {
        let sql: Option<String> = r.get(3)?;
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            sql::canonical(&sql.unwrap_or_default()),
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// The exact column names of every table and view, as `SELECT *` would name them.
fn column_names(conn: &Connection) -> Vec<(String, Vec<String>)> {
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")
        .unwrap();
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    names
        .into_iter()
        .map(|name| {
            let mut columns = conn
                .prepare("SELECT name FROM pragma_table_xinfo(?1) ORDER BY cid")
                .unwrap();
            let columns = columns
                .query_map([&name], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            (name, columns)
        })
        .collect()
}

#[test]
fn canonical_statements_execute_like_the_originals() {
    let (mut files_total, mut statements_total, mut failed_files) = (0, 0, Vec::new());
    for folders in SETS {
        let files = up_migrations(folders);
        assert!(!files.is_empty(), "{folders:?}");
        let (a, b) = (open(), open());
        for file in &files {
            let raw = std::fs::read_to_string(file).unwrap();
            let raw = raw.strip_prefix('\u{feff}').unwrap_or(&raw);
            // The sqlite3 CLI's dot-commands (pihole's `.timeout 30000`) are not SQL.
            let text = &without_dot_commands(raw);
            let (reference, reference_error) = apply_as_sqlite(&a, text);
            let (ours, our_error) = apply_canonical(&b, text);
            let shown = file.strip_prefix(corpus()).unwrap().display();
            match &reference_error {
                None => assert_eq!(ours, reference, "{shown}: statements differ"),
                // SQLite stopped at the statement it could not prepare or run.
                Some(_) => assert_eq!(
                    ours[..],
                    reference[..ours.len().min(reference.len())],
                    "{shown}: statements differ"
                ),
            }
            assert_eq!(our_error, reference_error, "{shown}: outcome differs");
            if let Some(e) = reference_error {
                failed_files.push(format!("{shown}: {e}"));
            }
            files_total += 1;
            statements_total += ours.len();
        }
        assert_eq!(schema(&b), schema(&a), "{folders:?}: schemas differ");
        assert_eq!(
            column_names(&b),
            column_names(&a),
            "{folders:?}: column names differ"
        );
        assert!(!schema(&a).is_empty(), "{folders:?}: nothing was created");
    }
    eprintln!(
        "{files_total} files, {statements_total} statements; files stopped by an error in both: {failed_files:#?}"
    );
    assert!(files_total >= 440, "{files_total}");
    assert!(statements_total >= 2000, "{statements_total}");
    // The one expected failure, documented in TrailBase's SOURCE.md: `U3__user_id.sql`
    // ends with `PRAGMA foreign_keys=on`, which leaks into later files on a shared
    // autocommit connection and fails a `DROP TABLE _user` once fixture rows exist.
    let expected = |f: &String| {
        f == "trailbase/main/U1785764695__unverified_email.sql: FOREIGN KEY constraint failed"
    };
    assert!(failed_files.iter().all(expected), "{failed_files:#?}");
}

#[test]
fn checksums_ignore_line_endings_comments_and_indentation_across_the_corpus() {
    for folders in SETS {
        for file in up_migrations(folders) {
            let text = std::fs::read_to_string(&file).unwrap();
            let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
            let reindented: String = text
                .lines()
                .map(|l| format!("\t{}\n", l.trim_start()))
                .collect();
            let sum = migrate_runtime::checksum(&text);
            assert_eq!(
                sum,
                migrate_runtime::checksum(&format!("\u{feff}{text}")),
                "{}",
                file.display()
            );
            // Layout changes nothing, except inside string literals that span lines.
            let multiline_literal = sql::statements(&text).iter().any(|s| {
                s.tokens
                    .iter()
                    .any(|t| t.kind != sql::TokenKind::Word && t.text(s.text).contains('\n'))
            });
            if !multiline_literal {
                assert_eq!(sum, migrate_runtime::checksum(&crlf), "{}", file.display());
                assert_eq!(
                    sum,
                    migrate_runtime::checksum(&reindented),
                    "{}",
                    file.display()
                );
            }
        }
    }
}
