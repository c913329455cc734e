//! A real-world set through the whole product: Karakeep's 94 migrations (drizzle-kit,
//! `NNNN_name.sql`, with table rebuilds, generated columns and CRLF files), embedded
//! unchanged by the macro and applied by the runtime to a database file whose
//! connection enforces foreign keys.
//!
//! drizzle-kit writes `PRAGMA foreign_keys=OFF … ON` around its rebuilds; they ask for
//! what the runner does around every migration, so the files build as they are.

use migrate::Migrations;
use migrate::rusqlite::Connection;

type TestResult = Result<(), Box<dyn std::error::Error>>;

static KARAKEEP: Migrations = migrate::migrations!("migrate-runtime/tests/corpus/karakeep");

#[test]
fn karakeep_builds_unchanged_with_its_foreign_keys_pragmas() {
    let with_pragma = KARAKEEP
        .iter()
        .filter(|m| m.sql().to_ascii_uppercase().contains("PRAGMA FOREIGN_KEYS"))
        .count();
    assert!(
        with_pragma >= 1,
        "the set still holds drizzle-kit's pragmas"
    );
    assert_eq!(KARAKEEP.len(), 94);
}

#[test]
fn karakeep_applies_to_a_file_and_then_is_up_to_date() -> TestResult {
    let karakeep = &KARAKEEP;

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
