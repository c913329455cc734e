//! A real-world set through the whole product: Karakeep's 94 migrations (drizzle-kit,
//! `NNNN_name.sql`, with table rebuilds, generated columns and CRLF files), checked as
//! the macro checks them and applied by the runtime to a database file whose
//! connection enforces foreign keys.
//!
//! drizzle-kit writes `PRAGMA foreign_keys=OFF … ON` around its rebuilds, which SQLite
//! ignores inside a transaction; the build refuses those two lines, and the set without
//! them (the runner turns enforcement off around every migration) applies.

use std::path::Path;

use migrate::rusqlite::Connection;
use migrate::{Migrations, check};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const KARAKEEP: &str = "migrate-runtime/tests/corpus/karakeep";

/// Copies the set without its `PRAGMA foreign_keys` lines.
fn without_foreign_keys_pragmas(to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(KARAKEEP)? {
        let path = entry?.path();
        let text = std::fs::read_to_string(&path)?;
        let kept: Vec<&str> = text
            .split_inclusive('\n')
            .filter(|line| {
                !line
                    .trim_start()
                    .to_ascii_uppercase()
                    .starts_with("PRAGMA FOREIGN_KEYS")
            })
            .collect();
        std::fs::write(to.join(path.file_name().unwrap_or_default()), kept.concat())?;
    }
    Ok(())
}

#[test]
fn karakeep_pragma_lines_are_refused_at_their_lines() {
    let diagnostics = check::check_dir(Path::new(KARAKEEP), "karakeep").unwrap_err();
    let found: Vec<String> = diagnostics
        .iter()
        .map(|d| d.to_string().lines().next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        found,
        [
            "karakeep/0084_rule_engine_multi_list_support.sql:15:1: `PRAGMA foreign_keys` cannot run inside the migration's transaction",
            "karakeep/0084_rule_engine_multi_list_support.sql:54:1: `PRAGMA foreign_keys` cannot run inside the migration's transaction",
        ]
    );
}

#[test]
fn karakeep_applies_to_a_file_and_then_is_up_to_date() -> TestResult {
    let files = tempfile::tempdir()?;
    without_foreign_keys_pragmas(files.path())?;
    let sources = check::check_dir(files.path(), "karakeep").map_err(|ds| format!("{ds:#?}"))?;
    let karakeep = Migrations::from_sources(sources);
    assert_eq!(karakeep.len(), 94);

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("karakeep.db");
    let mut conn = Connection::open(&path)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    let report = karakeep.run(&mut conn)?;
    assert_eq!(report.applied.len(), 94);
    let on: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    assert!(on, "foreign keys are on again after the run");

    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    assert_eq!(integrity, "ok");
    let violations: i64 =
        conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })?;
    assert_eq!(violations, 0);
    let user_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    assert_eq!(user_version, 93);
    drop(conn);

    let mut conn = Connection::open(&path)?;
    assert!(karakeep.run(&mut conn)?.applied.is_empty());
    assert!(karakeep.status(&conn)?.is_up_to_date());
    Ok(())
}
