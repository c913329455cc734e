//! A real-world set through the whole product: Karakeep's 94 migrations (drizzle-kit,
//! `NNNN_name.sql`, with table rebuilds, `PRAGMA foreign_keys`, generated columns and
//! CRLF files) embedded by the macro and applied by the runtime to a database file.

use migrate::Migrations;
use migrate::rusqlite::Connection;

static KARAKEEP: Migrations = migrate::migrations!("migrate-runtime/tests/corpus/karakeep");

#[test]
fn karakeep_applies_to_a_file_and_then_is_up_to_date() -> Result<(), Box<dyn std::error::Error>> {
    assert_eq!(KARAKEEP.len(), 94);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("karakeep.db");
    let mut conn = Connection::open(&path)?;
    let report = KARAKEEP.run(&mut conn)?;
    assert_eq!(report.applied.len(), 94);

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
    assert!(KARAKEEP.run(&mut conn)?.applied.is_empty());
    assert!(KARAKEEP.status(&conn)?.is_up_to_date());
    Ok(())
}
