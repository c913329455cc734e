//! Down scripts at run time: `rollback` and `migrate_to` on real database files
//! with data, their refusals, and two processes rolling back one file at once.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use migrate::rusqlite::Connection;
use migrate::{Error, Migrations};

static REVERSIBLE: Migrations = migrate::migrations!("tests/sets/reversible");
static PARTIAL: Migrations = migrate::migrations!("tests/sets/reversible_partial");
static UP_SPELLING: Migrations =
    migrate::migrations!("tests/sets/reversible_up_spelling", layout = "native");
static V1_ONLY: Migrations = migrate::migrations!("tests/sets/v1");

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Every schema object but the tracking table, as SQLite stores it.
fn schema(conn: &Connection) -> Vec<(String, String, String, Option<String>)> {
    let mut stmt = conn
        .prepare(
            "SELECT type, name, tbl_name, sql FROM sqlite_schema
             WHERE name <> 'schema_migrations' AND name NOT LIKE 'sqlite_autoindex_schema%'
             ORDER BY type, name",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The tracking rows, without the times.
fn tracking(conn: &Connection) -> Vec<(i64, String, String, String)> {
    let mut stmt = conn
        .prepare("SELECT version, name, checksum, chain FROM schema_migrations ORDER BY version")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn user_version(conn: &Connection) -> i64 {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

fn versions(report: &migrate::Report) -> Vec<i128> {
    report
        .reverted
        .iter()
        .map(|r| r.migration.version())
        .collect()
}

fn fresh(dir: &tempfile::TempDir, name: &str) -> Result<Connection, Box<dyn std::error::Error>> {
    let mut conn = Connection::open(dir.path().join(name))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    REVERSIBLE.run(&mut conn)?;
    Ok(conn)
}

#[test]
fn the_set_embeds_its_down_scripts() {
    let downs: Vec<Option<&str>> = REVERSIBLE
        .iter()
        .map(|m| m.down().map(migrate::Down::file_name))
        .collect();
    assert_eq!(
        downs,
        [
            Some("001_create_users.down.sql"),
            Some("002_add_email.down.sql"),
            Some("003_create_posts.down.sql")
        ]
    );
    let down = REVERSIBLE.as_slice()[1].down().unwrap();
    assert_eq!(
        down.sql(),
        "DROP INDEX users_email;\nALTER TABLE users DROP COLUMN email;\n"
    );
    assert_eq!(*down.checksum(), migrate::checksum(down.sql()));
    assert!(down.runs_in_transaction());
    assert!(!PARTIAL.as_slice()[1].is_reversible());
    let up = UP_SPELLING.as_slice()[0];
    assert_eq!(up.file_name(), "001_create_users.up.sql");
    assert!(up.is_reversible());
}

#[test]
fn down_to_zero_and_up_again_equals_a_fresh_apply() -> TestResult {
    let dir = tempfile::tempdir()?;
    let reference = fresh(&dir, "fresh.db")?;
    let mut conn = fresh(&dir, "app.db")?;
    conn.execute_batch(
        "INSERT INTO users (id, name, email) VALUES (1, 'ada', 'ada@example.com');
         INSERT INTO posts (user_id, title) VALUES (1, 'hello');",
    )?;

    let report = conn_migrate_to(&mut conn, 0)?;
    assert_eq!(versions(&report), [3, 2, 1]);
    assert!(report.applied.is_empty());
    // DROP TABLE changes no row in SQLite's count; the downs here write none.
    assert!(report.reverted.iter().all(|r| r.rows_changed == 0));
    assert!(schema(&conn).is_empty(), "{:?}", schema(&conn));
    assert!(tracking(&conn).is_empty());
    assert_eq!(user_version(&conn), 0);

    let report = REVERSIBLE.run(&mut conn)?;
    assert_eq!(report.applied.len(), 3);
    assert_eq!(schema(&conn), schema(&reference));
    assert_eq!(tracking(&conn), tracking(&reference));
    assert_eq!(user_version(&conn), 3);
    assert!(REVERSIBLE.status(&conn)?.is_up_to_date());
    Ok(())
}

fn conn_migrate_to(conn: &mut Connection, target: i128) -> migrate::Result<migrate::Report> {
    REVERSIBLE.migrate_to(conn, target)
}

#[test]
fn rollback_by_steps_keeps_what_the_scripts_keep() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut conn = fresh(&dir, "app.db")?;
    conn.execute_batch(
        "INSERT INTO users (id, name, email) VALUES (1, 'ada', 'ada@example.com');
         INSERT INTO posts (user_id, title) VALUES (1, 'hello');",
    )?;
    let report = REVERSIBLE.rollback(&mut conn, 1)?;
    assert_eq!(versions(&report), [3]);
    assert_eq!(user_version(&conn), 2);
    assert_eq!(tracking(&conn).len(), 2);
    let report = REVERSIBLE.rollback(&mut conn, 1)?;
    assert_eq!(versions(&report), [2]);
    assert_eq!(user_version(&conn), 1);
    // The user stays, without the dropped column.
    let name: String = conn.query_row("SELECT name FROM users WHERE id = 1", [], |r| r.get(0))?;
    assert_eq!(name, "ada");
    assert!(conn.prepare("SELECT email FROM users").is_err());

    // Up to 2 only, then everything.
    let report = REVERSIBLE.migrate_to(&mut conn, 2)?;
    assert!(report.reverted.is_empty());
    assert_eq!(report.applied.len(), 1);
    assert_eq!(user_version(&conn), 2);
    let status = REVERSIBLE.status(&conn)?;
    assert_eq!(status.pending.len(), 1);
    REVERSIBLE.run(&mut conn)?;
    assert!(REVERSIBLE.status(&conn)?.is_up_to_date());

    // Zero steps, and more steps than applied.
    assert!(REVERSIBLE.rollback(&mut conn, 0)?.reverted.is_empty());
    let report = REVERSIBLE.rollback(&mut conn, 10)?;
    assert_eq!(versions(&report), [3, 2, 1]);
    assert!(tracking(&conn).is_empty());
    Ok(())
}

#[test]
fn a_step_without_a_down_script_is_refused_before_anything_changes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("app.db");
    let mut conn = Connection::open(&path)?;
    PARTIAL.run(&mut conn)?;
    let before = std::fs::read(&path)?;
    let error = PARTIAL.rollback(&mut conn, 2).unwrap_err();
    assert!(
        matches!(&error, Error::Irreversible { version: 2, file_name, .. } if file_name == "002_add_email.down.sql"),
        "{error}"
    );
    assert!(
        error.to_string().contains("nothing was reverted"),
        "{error}"
    );
    assert_eq!(
        std::fs::read(&path)?,
        before,
        "migration 3 was not reverted"
    );
    // The status shows which migrations can be undone.
    let status = PARTIAL.status(&conn)?;
    let reversible: Vec<bool> = status.rows().iter().map(|r| r.reversible).collect();
    assert_eq!(reversible, [true, false, true]);
    let shown = status.to_string();
    let lines: Vec<&str> = shown.lines().collect();
    assert!(lines[0].ends_with("  down"), "{shown}");
    assert!(
        lines[1].ends_with("  yes") && lines[2].ends_with("  no"),
        "{shown}"
    );
    // One step, above the irreversible one, is fine.
    assert_eq!(versions(&PARTIAL.rollback(&mut conn, 1)?), [3]);
    assert!(matches!(
        PARTIAL.migrate_to(&mut conn, 0),
        Err(Error::Irreversible { version: 2, .. })
    ));
    Ok(())
}

static PREFIX: Migrations = migrate::migrations!("tests/sets/reversible_prefix");

#[test]
fn a_version_the_binary_lacks_is_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("app.db");
    let mut conn = fresh(&dir, "app.db")?;
    let before = std::fs::read(&path)?;
    // An older binary: migrations 1 and 2 only, the same files.
    let error = PREFIX.rollback(&mut conn, 1).unwrap_err();
    assert!(
        matches!(&error, Error::RevertUnknown { versions } if versions == &[3]),
        "{error}"
    );
    assert!(
        error.to_string().contains("nothing was reverted"),
        "{error}"
    );
    assert!(matches!(
        PREFIX.migrate_to(&mut conn, 0),
        Err(Error::RevertUnknown { .. })
    ));
    assert_eq!(std::fs::read(&path)?, before);
    // A binary whose migration 1 was edited since: refused too.
    let error = V1_ONLY.rollback(&mut conn, 3).unwrap_err();
    assert!(
        matches!(&error, Error::Modified { version: 1, .. }),
        "{error}"
    );
    assert_eq!(std::fs::read(&path)?, before);
    Ok(())
}

static NOTX: Migrations = migrate::migrations!("tests/sets/reversible_notx");

#[test]
fn a_down_without_a_transaction_runs_under_the_lock_file() -> TestResult {
    let down = NOTX.as_slice()[0].down().unwrap();
    assert!(!down.runs_in_transaction());
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(dir.path().join("app.db"))?;
    NOTX.run(&mut conn)?;
    conn.execute("INSERT INTO blobs (data) VALUES (zeroblob(100000))", [])?;
    assert_eq!(versions(&NOTX.rollback(&mut conn, 1)?), [1]);
    assert!(schema(&conn).is_empty());
    assert!(tracking(&conn).is_empty());
    assert_eq!(user_version(&conn), 0);
    assert!(NOTX.rollback(&mut conn, 1)?.reverted.is_empty());
    Ok(())
}

/// Set by the test below for the child processes.
const CHILD_DB: &str = "MIGRATE_TEST_ROLLBACK_DB";

/// In a child process of the test below: goes down to `target` (by `migrate_to`, or
/// by a rollback of `steps`), printing what it reverted. Without the variable, on a
/// database of its own.
fn child(target: Option<i128>, steps: usize) -> TestResult {
    #[allow(clippy::disallowed_methods, reason = "set by the parent test")]
    let child_db = std::env::var_os(CHILD_DB);
    let dir = tempfile::tempdir()?;
    let mut conn = match &child_db {
        Some(path) => Connection::open(PathBuf::from(path))?,
        None => fresh(&dir, "app.db")?,
    };
    let report = match target {
        Some(target) => REVERSIBLE.migrate_to(&mut conn, target)?,
        None => REVERSIBLE.rollback(&mut conn, steps)?,
    };
    for r in &report.reverted {
        println!("\n<reverted {}>", r.migration.version());
    }
    if child_db.is_none() {
        assert_eq!(versions(&report), [3, 2]);
    }
    Ok(())
}

#[test]
fn migrate_to_one() -> TestResult {
    child(Some(1), 0)
}

#[test]
fn rollback_two_steps() -> TestResult {
    child(None, 2)
}

/// Runs `test` in two child processes at once on a database with the set applied;
/// returns the versions they reverted, sorted, and the tracking rows left.
fn race(test: &str) -> Result<(Vec<String>, usize), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("app.db");
    drop(fresh(&dir, "app.db")?);
    let spawned: Vec<_> = (0..2)
        .map(|_| {
            Command::new(std::env::current_exe()?)
                .args(["--exact", test, "--nocapture", "--test-threads", "1"])
                .env(CHILD_DB, &path)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
        })
        .collect::<Result<_, std::io::Error>>()?;
    let mut reverted = Vec::new();
    for child in spawned {
        let out = child.wait_with_output()?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        reverted.extend(
            stdout
                .lines()
                .filter_map(|l| l.split("<reverted ").nth(1))
                .map(|l| l.trim_end_matches('>').to_owned()),
        );
    }
    reverted.sort();
    let conn = Connection::open(&path)?;
    assert_eq!(user_version(&conn), i64::try_from(tracking(&conn).len())?);
    Ok((reverted, tracking(&conn).len()))
}

#[test]
fn two_processes_rolling_back_at_once_revert_each_step_once() -> TestResult {
    for round in 0..3 {
        // Both go to version 1: 2 and 3 are reverted once, by one or the other.
        let (reverted, left) = race("migrate_to_one")?;
        assert_eq!(
            reverted,
            ["2", "3"],
            "round {round}: each step reverted once"
        );
        assert_eq!(left, 1);
        // Two steps each, from the history each read at its start: whatever the
        // timing, no migration is reverted twice, and what is gone was reverted.
        let (reverted, left) = race("rollback_two_steps")?;
        let mut unique = reverted.clone();
        unique.dedup();
        assert_eq!(
            unique, reverted,
            "round {round}: reverted twice: {reverted:?}"
        );
        assert_eq!(reverted.len() + left, 3, "round {round}: {reverted:?}");
        assert!(reverted.len() >= 2);
    }
    Ok(())
}

static GOOSE: Migrations = migrate::migrations!("tests/sets/reversible_goose", layout = "goose");
static GOLANG: Migrations = migrate::migrations!("tests/sets/reversible_golang");

#[test]
fn other_tools_down_scripts_are_embedded_and_an_empty_one_is_irreversible() -> TestResult {
    for set in [&GOOSE, &GOLANG] {
        let reversible: Vec<bool> = set.iter().map(migrate::Migration::is_reversible).collect();
        assert_eq!(reversible, [true, false]);
    }
    // goose: the down section only, the rest blanked (lines kept).
    let down = GOOSE.as_slice()[0].down().unwrap();
    assert_eq!(down.file_name(), "00001_create_notes.sql");
    assert!(
        down.sql().trim().starts_with("DROP TABLE notes;"),
        "{:?}",
        down.sql()
    );
    assert_eq!(down.sql().lines().count(), 5);
    assert_eq!(
        GOLANG.as_slice()[0].down().unwrap().file_name(),
        "1_create_tags.down.sql"
    );

    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(dir.path().join("app.db"))?;
    GOLANG.run(&mut conn)?;
    let error = GOLANG.rollback(&mut conn, 1).unwrap_err();
    assert!(
        matches!(&error, Error::Irreversible { version: 2, .. }),
        "{error:?}"
    );
    // The note: the empty file is the tool's way of saying so.
    assert!(
        error.to_string().starts_with(
            "cannot revert migration 2 (add_color): its down script `tests/sets/reversible_golang/2_add_color.down.sql` holds no statement (how golang-migrate marks a migration that cannot be undone), so it is irreversible; nothing was reverted; make its down script in `2_add_color.down.sql` undo it"
        ),
        "{error}"
    );
    let mut conn = Connection::open(dir.path().join("goose.db"))?;
    GOOSE.migrate_to(&mut conn, 1)?;
    assert_eq!(versions(&GOOSE.migrate_to(&mut conn, 0)?), [1]);
    assert!(schema(&conn).is_empty());
    Ok(())
}

static DATA: Migrations = migrate::migrations!("tests/sets/reversible_data");

#[test]
fn a_down_that_fails_on_the_data_rolls_back_completely() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("app.db");
    let mut conn = Connection::open(&path)?;
    DATA.run(&mut conn)?;
    // Data the build could not see: two users with one name.
    conn.execute_batch(
        "INSERT INTO users (name) VALUES ('ada'), ('ada');
         INSERT INTO audit (what) VALUES ('kept');",
    )?;
    let error = DATA.rollback(&mut conn, 1).unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Failed {
                version: 2,
                line: 2,
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains("UNIQUE constraint failed")
            && error
                .to_string()
                .starts_with("the down script of migration 2 (")
            && error.to_string().contains(
                "the migration stays applied, and those reverted before it stay reverted; fix the data or the down script, then roll back again"
            ),
        "{error}"
    );
    assert!(matches!(&error, Error::Failed { down: true, .. }));
    // Nothing of the step stayed: its DROP TABLE is undone, the row kept.
    let what: String = conn.query_row("SELECT what FROM audit", [], |r| r.get(0))?;
    assert_eq!(what, "kept");
    assert_eq!(tracking(&conn).len(), 2);
    assert_eq!(user_version(&conn), 2);
    // With the data fixed, it goes down.
    conn.execute("DELETE FROM users WHERE id = 2", [])?;
    assert_eq!(versions(&DATA.rollback(&mut conn, 1)?), [2]);
    Ok(())
}

/// sqlx pairs a down file with the up of its version: `1_x.down.sql` beside `1_x.sql`.
static SQLX: Migrations = migrate::migrations!("tests/sets/reversible_sqlx_plain", layout = "sqlx");

#[test]
fn sqlx_pairs_down_files_by_version() {
    let downs: Vec<Option<&str>> = SQLX
        .iter()
        .map(|m| m.down().map(migrate::Down::file_name))
        .collect();
    assert_eq!(
        downs,
        [Some("1_create_a.down.sql"), Some("2_create_b.down.sql")]
    );
}

/// A rename and its reverse: SQLite stores the table's SQL again, quoted
/// (`CREATE TABLE "items"`), which the proof accepts as the same schema.
static RENAME: Migrations = migrate::migrations!("tests/sets/reversible_rename");

#[test]
fn a_rename_undone_by_the_reverse_rename_is_proven() -> TestResult {
    assert!(RENAME.iter().all(migrate::Migration::is_reversible));
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(dir.path().join("app.db"))?;
    RENAME.run(&mut conn)?;
    conn.execute("INSERT INTO products (title) VALUES ('kept')", [])?;
    assert_eq!(versions(&RENAME.rollback(&mut conn, 1)?), [2]);
    let label: String = conn.query_row("SELECT label FROM items", [], |r| r.get(0))?;
    assert_eq!(label, "kept");
    Ok(())
}

static UNPROVEN_GOLANG: Migrations = migrate::migrations!("tests/sets/unproven_golang");
static UNPROVEN_NATIVE: Migrations =
    migrate::migrations!("tests/sets/unproven_native", downs = "lenient");

#[test]
fn another_tools_down_that_fails_the_proof_builds_irreversible_and_never_runs() -> TestResult {
    let reversible: Vec<bool> = UNPROVEN_GOLANG
        .iter()
        .map(migrate::Migration::is_reversible)
        .collect();
    assert_eq!(reversible, [true, false, false]);
    let reasons: Vec<Option<&str>> = UNPROVEN_GOLANG
        .iter()
        .map(migrate::Migration::irreversible_reason)
        .collect();
    assert_eq!(reasons[0], None);
    let leaves = reasons[1].unwrap();
    assert!(
        leaves.contains("does not pass the build's proof")
            && leaves.contains("tests/sets/unproven_golang/2_add_color.down.sql")
            && leaves.contains("does not undo"),
        "{leaves}"
    );
    let mysql = reasons[2].unwrap();
    assert!(
        mysql.contains("tests/sets/unproven_golang/3_unique_names.down.sql:2:")
            && mysql.contains("syntax error"),
        "{mysql}"
    );

    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(dir.path().join("app.db"))?;
    UNPROVEN_GOLANG.run(&mut conn)?;
    let before = (schema(&conn), tracking(&conn));
    for refused in [
        UNPROVEN_GOLANG.rollback(&mut conn, 1),
        UNPROVEN_GOLANG.migrate_to(&mut conn, 0),
    ] {
        let error = refused.unwrap_err();
        assert!(
            matches!(
                &error,
                Error::Irreversible {
                    version: 3,
                    reason: Some(_),
                    ..
                }
            ),
            "{error:?}"
        );
        let shown = error.to_string();
        assert!(
            shown.starts_with("cannot revert migration 3 (unique_names): its down script does not pass the build's proof")
                && shown.contains("make its down script in `3_unique_names.down.sql` undo it"),
            "{shown}"
        );
    }
    assert_eq!((schema(&conn), tracking(&conn)), before, "nothing reverted");
    Ok(())
}

#[test]
fn downs_lenient_in_the_native_layout() -> TestResult {
    let m = &UNPROVEN_NATIVE.as_slice()[1];
    assert!(!m.is_reversible());
    assert!(m.irreversible_reason().unwrap().contains("does not undo"));
    // The down file the build read is not taken for a file added since.
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(dir.path().join("app.db"))?;
    UNPROVEN_NATIVE.run(&mut conn)?;
    let error = UNPROVEN_NATIVE.rollback(&mut conn, 1).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("make its down script in `002_add_color.down.sql` undo it"),
        "{error}"
    );
    Ok(())
}
