//! Formatting an applied migration does not make the runner refuse it, unless the
//! formatting changes what SQLite stores (a view column named after its source text).

use migrate::rusqlite::Connection;
use migrate::{Error, Migrations};

static ORIGINAL: Migrations = migrate::migrations!("tests/sets/format_original");
static REFORMATTED: Migrations = migrate::migrations!("tests/sets/format_reformatted");
static VIEW: Migrations = migrate::migrations!("tests/sets/format_view");
static VIEW_REFORMATTED: Migrations = migrate::migrations!("tests/sets/format_view_reformatted");

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn column_names(conn: &Connection, table: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_xinfo(?1) ORDER BY cid")
        .unwrap();
    stmt.query_map([table], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_reformatted_migration_is_not_modified() -> TestResult {
    let original = ORIGINAL.iter().next().unwrap();
    let reformatted = REFORMATTED.iter().next().unwrap();
    assert_ne!(original.sql(), reformatted.sql());
    assert_eq!(original.checksum(), reformatted.checksum());

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("app.db");
    let mut conn = Connection::open(&path)?;
    assert_eq!(ORIGINAL.run(&mut conn)?.applied.len(), 1);
    drop(conn);

    let mut conn = Connection::open(&path)?;
    let report = REFORMATTED.run(&mut conn)?;
    assert!(report.applied.is_empty(), "{report:?}");
    let status = REFORMATTED.status(&conn)?;
    assert!(status.is_up_to_date(), "{status:?}");
    Ok(())
}

#[test]
fn reformatting_an_unaliased_view_column_is_a_modification() -> TestResult {
    let (mut a, mut b) = (Connection::open_in_memory()?, Connection::open_in_memory()?);
    VIEW.run(&mut a)?;
    VIEW_REFORMATTED.run(&mut b)?;
    // SQLite names the column after its source text, so the two views differ...
    let names = column_names(&a, "user_domains");
    assert_eq!(names[1], "substr(email, instr(email, '@') + 1)");
    assert_ne!(names, column_names(&b, "user_domains"));

    // ...and the runner refuses the reformatted set over the original database.
    match VIEW_REFORMATTED.run(&mut a) {
        Err(Error::Modified { version: 1, .. }) => {}
        other => panic!("expected Error::Modified, got {other:?}"),
    }
    Ok(())
}
