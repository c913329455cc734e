//! The startup check reads one row: the highest version and its chain. These tests
//! show that it still refuses any history that differs from the binary, that the
//! stored chains stay right through out-of-order applies and damage, and the
//! all-in-one-transaction option.

use std::path::Path;

use migrate::checksum::to_hex;
use migrate::rusqlite::Connection;
use migrate::{Error, Migrations, check};

static EXAMPLE: Migrations = migrate::migrations!("migrations");
static V1: Migrations = migrate::migrations!("tests/sets/v1");
static V2: Migrations = migrate::migrations!("tests/sets/v2");
static TS_MAIN: Migrations = migrate::migrations!("tests/sets/ts_main");
static TS_MERGED: Migrations = migrate::migrations!("tests/sets/ts_merged");

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn chains(conn: &Connection) -> rusqlite::Result<Vec<(migrate::Version, String)>> {
    conn.prepare("SELECT version, chain FROM schema_migrations ORDER BY version")?
        .query_map([], |r| {
            Ok((migrate::Version::from(r.get::<_, i64>(0)?), r.get(1)?))
        })?
        .collect()
}

fn embedded_chains(set: &Migrations) -> Vec<(migrate::Version, String)> {
    set.iter()
        .map(|m| (m.version(), to_hex(m.chain())))
        .collect()
}

fn read(dir: &Path) -> Result<Migrations, String> {
    check::read_dir(dir, "m")
        .map(Migrations::from_sources)
        .map_err(|d| format!("{d:?}"))
}

#[test]
fn stored_chains_are_the_embedded_ones() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(dir.path().join("app.db"))?;
    EXAMPLE.run(&mut conn)?;
    assert_eq!(chains(&conn)?, embedded_chains(&EXAMPLE));
    Ok(())
}

/// For every position, a binary whose migration there differs from the applied one
/// (the statement changed, a column added) is refused, and the file is left as it was.
#[test]
fn an_edit_at_any_position_is_refused() -> TestResult {
    const N: usize = 12;
    let original = tempfile::tempdir()?;
    let sql = |i: usize, extra: &str| format!("CREATE TABLE t{i} (id INTEGER PRIMARY KEY{extra});");
    for i in 1..=N {
        std::fs::write(original.path().join(format!("{i:02}_t{i}.sql")), sql(i, ""))?;
    }
    let work = tempfile::tempdir()?;
    let db = work.path().join("app.db");
    read(original.path())?.run(&mut Connection::open(&db)?)?;
    let bytes = std::fs::read(&db)?;

    for edited in 1..=N {
        let dir = tempfile::tempdir()?;
        for i in 1..=N {
            let extra = if i == edited { ", note TEXT" } else { "" };
            std::fs::write(dir.path().join(format!("{i:02}_t{i}.sql")), sql(i, extra))?;
        }
        let set = read(dir.path())?;
        let err = set.run(&mut Connection::open(&db)?).unwrap_err();
        match err {
            Error::Modified { version, .. } => {
                assert_eq!(version, migrate::Version::try_from(edited)?)
            }
            other => panic!("edit of {edited}: expected Modified, got {other:?}"),
        }
        assert_eq!(
            std::fs::read(&db)?,
            bytes,
            "edit of {edited} changed the file"
        );
    }
    Ok(())
}

/// A migration merged late lands below the highest version: every chain is computed
/// again, so the history matches the merged binary's chain and a later start is quick.
#[test]
fn an_out_of_order_apply_recomputes_the_chains() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(dir.path().join("app.db"))?;
    TS_MAIN.run(&mut conn)?;
    assert_eq!(chains(&conn)?, embedded_chains(&TS_MAIN));
    let report = TS_MERGED.runner().allow_out_of_order(true).run(&mut conn)?;
    assert_eq!(report.applied.len(), 1);
    assert_eq!(chains(&conn)?, embedded_chains(&TS_MERGED));
    assert!(TS_MERGED.run(&mut conn)?.applied.is_empty());
    Ok(())
}

/// A damaged chain only costs the quick check: the full check still passes, and the
/// next migration applied writes every chain again.
#[test]
fn a_damaged_chain_is_checked_in_full_and_repaired_by_the_next_migration() -> TestResult {
    for damage in ["'not hex'", "X'00'", &format!("'{}'", "0".repeat(64))] {
        let dir = tempfile::tempdir()?;
        let mut conn = Connection::open(dir.path().join("app.db"))?;
        V1.run(&mut conn)?;
        conn.execute_batch(&format!(
            "UPDATE schema_migrations SET chain = {damage} WHERE version = 2"
        ))?;
        assert!(V1.run(&mut conn)?.applied.is_empty(), "{damage}");
        assert!(V1.status(&conn)?.is_up_to_date());
        let report = V2.run(&mut conn)?;
        assert_eq!(report.applied.len(), 1, "{damage}");
        assert_eq!(chains(&conn)?, embedded_chains(&V2), "{damage}");
    }
    Ok(())
}

/// A history row edited by hand to a new checksum, chain left alone, is still found
/// once anything makes the quick check fail; the chain is what the quick check trusts.
#[test]
fn a_binary_with_a_different_migration_is_refused_even_with_a_matching_tip_version() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(dir.path().join("app.db"))?;
    V2.run(&mut conn)?;
    // Same versions as V2, first migration different: the tip version matches, the chain does not.
    let other = tempfile::tempdir()?;
    for m in &V2 {
        let sql = if m.version() == 1 {
            format!("{}\nCREATE TABLE extra (id INTEGER PRIMARY KEY);", m.sql())
        } else {
            m.sql().to_owned()
        };
        std::fs::write(other.path().join(m.file_name()), sql)?;
    }
    let err = read(other.path())?.run(&mut conn).unwrap_err();
    assert!(
        matches!(err, Error::Modified { version: 1, .. }),
        "expected Modified for 1, got {err:?}"
    );
    Ok(())
}

#[test]
fn single_transaction_applies_all_or_nothing() -> TestResult {
    // The third migration fails on the rows the first two leave (the build would
    // refuse it, so the set is read at run time).
    let files = tempfile::tempdir()?;
    std::fs::write(
        files.path().join("1_users.sql"),
        "CREATE TABLE users (email TEXT)",
    )?;
    std::fs::write(
        files.path().join("2_seed.sql"),
        "INSERT INTO users VALUES ('a'), ('a')",
    )?;
    std::fs::write(
        files.path().join("3_unique.sql"),
        "CREATE UNIQUE INDEX u ON users (email)",
    )?;
    let failing = read(files.path())?;
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(dir.path().join("app.db"))?;
    let err = failing
        .runner()
        .single_transaction(true)
        .run(&mut conn)
        .unwrap_err();
    assert!(matches!(err, Error::Failed { version: 3, .. }), "{err:?}");
    let tables: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(tables, 0, "the first two migrations were rolled back too");

    let mut conn = Connection::open(dir.path().join("ok.db"))?;
    let report = EXAMPLE.runner().single_transaction(true).run(&mut conn)?;
    assert_eq!(report.applied.len(), EXAMPLE.len());
    assert_eq!(chains(&conn)?, embedded_chains(&EXAMPLE));
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    assert_eq!(
        Some(migrate::Version::from(version)),
        EXAMPLE.latest_version()
    );
    assert!(EXAMPLE.status(&conn)?.is_up_to_date());
    Ok(())
}

/// The quick check reads the tip row and nothing else: a checksum changed by hand in
/// an older row, chain left alone, goes unnoticed by `run` while `status` (which
/// reads every row) sees it. This is the documented trust model: the chain stands
/// for the history the runner wrote.
#[test]
fn the_quick_check_reads_only_the_tip_row() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(dir.path().join("app.db"))?;
    V2.run(&mut conn)?;
    conn.execute_batch("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")?;
    assert!(V2.run(&mut conn)?.applied.is_empty());
    assert_eq!(V2.status(&conn)?.modified.len(), 1);
    Ok(())
}
