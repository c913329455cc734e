//! The runner on real database files: apply, re-apply, refusals, rollback, faults,
//! and several processes migrating one file at once.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use migrate::rusqlite::{Connection, OpenFlags};
use migrate::{Error, Migrations};

static V1: Migrations = migrate::migrations!("tests/sets/v1");
static V1_EDITED: Migrations = migrate::migrations!("tests/sets/v1_edited");
static V2: Migrations = migrate::migrations!("tests/sets/v2");
static FAILING: Migrations = migrate::migrations!("tests/sets/failing");
static TS_MAIN: Migrations = migrate::migrations!("tests/sets/ts_main");
static TS_MERGED: Migrations = migrate::migrations!("tests/sets/ts_merged");
static EXAMPLE: Migrations = migrate::migrations!("migrations");

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn db_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("app.db")
}

/// A database file with `V1` applied, and its bytes.
fn v1_database() -> Result<(tempfile::TempDir, PathBuf, Vec<u8>), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = db_path(&dir);
    V1.run(&mut Connection::open(&path)?)?;
    let bytes = std::fs::read(&path)?;
    Ok((dir, path, bytes))
}

fn history(conn: &Connection) -> Vec<(i64, String)> {
    let mut stmt = conn
        .prepare("SELECT version, name FROM schema_migrations ORDER BY version")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn user_version(conn: &Connection) -> i64 {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

fn table_exists(conn: &Connection, name: &str) -> bool {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE name = ?1",
        [name],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
        > 0
}

#[test]
fn fresh_apply_then_second_run_applies_nothing_and_writes_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = db_path(&dir);
    let mut conn = Connection::open(&path)?;

    let report = EXAMPLE.run(&mut conn)?;
    let applied: Vec<migrate::Version> = report
        .applied
        .iter()
        .map(|a| a.migration.version())
        .collect();
    let expected: Vec<migrate::Version> = EXAMPLE.iter().map(|m| m.version()).collect();
    assert_eq!(applied, expected);
    assert_eq!(
        migrate::Version::from(user_version(&conn)),
        EXAMPLE.latest_version().unwrap()
    );
    assert_eq!(history(&conn).len(), EXAMPLE.len());
    let (checksum, applied_at): (String, String) = conn.query_row(
        "SELECT checksum, applied_at FROM schema_migrations WHERE version = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    assert_eq!(checksum, EXAMPLE.get(1).unwrap().checksum_hex());
    assert!(
        applied_at.ends_with('Z') && applied_at.contains('T'),
        "{applied_at}"
    );
    // The recreate migration kept the seeded book and converted its year.
    let year: i64 = conn.query_row("SELECT year FROM books", [], |r| r.get(0))?;
    assert_eq!(year, 1843);
    drop(conn);

    let before = std::fs::read(&path)?;
    let mut conn = Connection::open(&path)?;
    assert!(EXAMPLE.run(&mut conn)?.applied.is_empty());
    let status = EXAMPLE.status(&conn)?;
    assert!(status.is_up_to_date());
    assert_eq!(status.applied.len(), EXAMPLE.len());
    drop(conn);
    assert_eq!(
        std::fs::read(&path)?,
        before,
        "an up-to-date run must not write"
    );
    Ok(())
}

#[test]
fn status_reports_pending_without_changing_anything() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = db_path(&dir);
    let mut conn = Connection::open(&path)?;
    let status = V2.status(&conn)?;
    assert_eq!(status.pending.len(), 3);
    assert_eq!(status.version(), None);
    assert!(
        !table_exists(&conn, "schema_migrations"),
        "status must not create the table"
    );

    V1.run(&mut conn)?;
    let status = V2.status(&conn)?;
    assert_eq!(status.applied.len(), 2);
    assert_eq!(
        status
            .pending
            .iter()
            .map(|m| m.version())
            .collect::<Vec<_>>(),
        [3]
    );
    assert_eq!(status.version(), Some(2));
    Ok(())
}

#[test]
fn later_binary_applies_only_the_new_migration() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(db_path(&dir))?;
    V1.run(&mut conn)?;
    let report = V2.run(&mut conn)?;
    assert_eq!(report.applied.len(), 1);
    assert_eq!(report.applied[0].migration.name(), "index_posts");
    assert_eq!(user_version(&conn), 3);
    Ok(())
}

#[test]
fn edited_applied_migration_is_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = db_path(&dir);
    let mut conn = Connection::open(&path)?;
    V1.run(&mut conn)?;
    drop(conn);
    let before = std::fs::read(&path)?;

    let mut conn = Connection::open(&path)?;
    let err = V1_EDITED.run(&mut conn).unwrap_err();
    match &err {
        Error::Modified {
            version,
            name,
            applied,
            embedded,
        } => {
            assert_eq!((*version, name.as_str()), (2, "create_posts"));
            assert_eq!(applied, &V1.get(2).unwrap().checksum_hex());
            assert_eq!(embedded, &V1_EDITED.get(2).unwrap().checksum_hex());
        }
        other => panic!("expected Modified, got {other:?}"),
    }
    assert!(err.to_string().contains("must not be edited"), "{err}");
    let status = V1_EDITED.status(&conn)?;
    assert_eq!(status.modified.len(), 1);
    drop(conn);
    assert_eq!(std::fs::read(&path)?, before);
    Ok(())
}

#[test]
fn database_newer_than_the_binary_is_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(db_path(&dir))?;
    V2.run(&mut conn)?;
    match V1.run(&mut conn) {
        Err(Error::UnknownApplied { versions }) => assert_eq!(versions, [3]),
        other => panic!("expected UnknownApplied, got {other:?}"),
    }
    assert_eq!(V1.status(&conn)?.unknown.len(), 1);
    Ok(())
}

#[test]
fn older_pending_migration_needs_explicit_permission() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(db_path(&dir))?;
    TS_MAIN.run(&mut conn)?;
    match TS_MERGED.run(&mut conn) {
        Err(Error::OutOfOrder {
            version, latest, ..
        }) => {
            assert_eq!((version, latest), (20_240_201_000_000, 20_240_301_000_000));
        }
        other => panic!("expected OutOfOrder, got {other:?}"),
    }
    assert!(!table_exists(&conn, "b"));
    let report = TS_MERGED.runner().allow_out_of_order(true).run(&mut conn)?;
    assert_eq!(report.applied.len(), 1);
    assert!(table_exists(&conn, "b"));
    // Timestamps do not fit in user_version; it is left as it was.
    assert_eq!(user_version(&conn), 0);
    Ok(())
}

#[test]
fn failing_migration_rolls_back_completely_and_keeps_earlier_ones() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(db_path(&dir))?;
    V1.run(&mut conn)?;
    conn.execute_batch(
        "INSERT INTO users (email) VALUES ('same@example.com'), ('same@example.com');",
    )?;

    let err = FAILING.run(&mut conn).unwrap_err();
    match &err {
        Error::Failed {
            version,
            name,
            line,
            statement,
            message,
            ..
        } => {
            assert_eq!((*version, name.as_str(), *line), (3, "unique_email", 5));
            assert_eq!(
                statement.as_ref(),
                "CREATE UNIQUE INDEX users_email ON users (email)"
            );
            assert!(message.contains("UNIQUE constraint failed"), "{message}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(err.to_string().contains("rolled back"), "{err}");
    assert!(
        !table_exists(&conn, "audit"),
        "earlier statements of the failing migration remain"
    );
    assert_eq!(history(&conn).len(), 2);
    assert_eq!(user_version(&conn), 2);

    conn.execute("DELETE FROM users WHERE rowid = 2", [])?;
    assert_eq!(FAILING.run(&mut conn)?.applied.len(), 1);
    assert!(table_exists(&conn, "audit"));
    Ok(())
}

#[test]
fn a_file_that_is_not_a_database_is_left_untouched() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = db_path(&dir);
    let junk: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&path, &junk)?;
    let mut conn = Connection::open(&path)?;
    let err = V1.run(&mut conn).unwrap_err();
    assert!(matches!(err, Error::NotADatabase { .. }), "{err:?}");
    assert!(
        err.to_string().contains("is not a SQLite database"),
        "{err}"
    );
    drop(conn);
    assert_eq!(std::fs::read(&path)?, junk);
    Ok(())
}

#[test]
fn a_read_only_database_is_left_untouched() -> TestResult {
    let (_dir, path, before) = v1_database()?;

    let mut conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    // Nothing pending: a read-only database can be checked.
    assert!(V1.run(&mut conn)?.applied.is_empty());
    let err = V2.run(&mut conn).unwrap_err();
    assert!(matches!(err, Error::ReadOnly { .. }), "{err:?}");
    drop(conn);
    assert_eq!(std::fs::read(&path)?, before);
    Ok(())
}

#[test]
fn a_database_locked_past_the_busy_timeout_is_left_untouched() -> TestResult {
    let (_dir, path, before) = v1_database()?;

    let holder = Connection::open(&path)?;
    holder.execute_batch("BEGIN EXCLUSIVE")?;
    let mut conn = Connection::open(&path)?;
    conn.busy_timeout(std::time::Duration::from_millis(50))?;
    let err = V2.run(&mut conn).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err:?}");
    holder.execute_batch("ROLLBACK")?;
    drop((holder, conn));
    assert_eq!(std::fs::read(&path)?, before);
    Ok(())
}

/// The quickstart example, built by `cargo test` beside this test binary.
fn quickstart_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let debug = exe.parent().and_then(Path::parent).unwrap();
    debug
        .join("examples")
        .join(format!("quickstart{}", std::env::consts::EXE_SUFFIX))
}

#[test]
fn processes_started_together_apply_each_migration_exactly_once() -> TestResult {
    let binary = quickstart_binary();
    assert!(
        binary.exists(),
        "{} is built by `cargo test`",
        binary.display()
    );
    for round in 0..4 {
        let dir = tempfile::tempdir()?;
        let path = db_path(&dir);
        if round % 2 == 1 {
            // WAL is a property of the file: every process opens it in WAL mode.
            let conn = Connection::open(&path)?;
            let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            assert_eq!(mode, "wal");
        }
        // Spawn all before waiting for any, so that they race for the database.
        let spawned: Vec<_> = (0..6)
            .map(|_| {
                Command::new(&binary)
                    .arg(&path)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
            })
            .collect::<Result<_, _>>()?;
        let children: Vec<_> = spawned
            .into_iter()
            .map(std::process::Child::wait_with_output)
            .collect::<Result<_, _>>()?;
        let mut applied_lines = Vec::new();
        for out in &children {
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "round {round}: a process failed: {}{stdout}",
                String::from_utf8_lossy(&out.stderr)
            );
            applied_lines.extend(
                stdout
                    .lines()
                    .filter_map(|l| l.strip_prefix("applied "))
                    .map(|l| l.split(' ').next().unwrap_or_default().to_owned()),
            );
        }
        applied_lines.sort();
        let expected: Vec<String> = EXAMPLE.iter().map(ToString::to_string).collect();
        assert_eq!(
            applied_lines, expected,
            "round {round}: each migration applied exactly once"
        );
        let conn = Connection::open(&path)?;
        assert_eq!(history(&conn).len(), EXAMPLE.len());
        assert!(EXAMPLE.status(&conn)?.is_up_to_date());
    }
    Ok(())
}

static SLOW_V1: Migrations = migrate::migrations!("tests/sets/slow_v1");
static SLOW: Migrations = migrate::migrations!("tests/sets/slow");

/// Set by the test below for the child process it kills.
const CHILD_DB: &str = "MIGRATE_TEST_CHILD_DB";

/// Applies the slow rewrite; the killed-process test runs this test in a child
/// process on its own database (named by `CHILD_DB`) and kills it mid-migration.
#[test]
fn slow_rewrite_applies() -> TestResult {
    #[allow(clippy::disallowed_methods, reason = "set by the parent test")]
    let child_db = std::env::var_os(CHILD_DB);
    let dir = tempfile::tempdir()?;
    let path = child_db.map_or_else(|| db_path(&dir), PathBuf::from);
    let mut conn = Connection::open(&path)?;
    SLOW_V1.run(&mut conn)?;
    conn.execute(
        "INSERT OR IGNORE INTO items (id, payload) VALUES (1, 'Item')",
        [],
    )?;
    SLOW.run(&mut conn)?;
    let payload: String =
        conn.query_row("SELECT payload FROM items WHERE id = 1", [], |r| r.get(0))?;
    assert_eq!(payload, "ITEMitem");
    Ok(())
}

#[test]
fn a_process_killed_mid_migration_leaves_it_unapplied() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = db_path(&dir);
    let journal = dir.path().join("app.db-journal");
    let mut conn = Connection::open(&path)?;
    SLOW_V1.run(&mut conn)?;
    conn.execute_batch(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 400000)
         INSERT INTO items (payload) SELECT printf('Item %d %s', x, hex(randomblob(24))) FROM n",
    )?;
    drop(conn);
    assert!(!journal.exists());

    common::kill_while_writing("slow_rewrite_applies", CHILD_DB, &path, &journal, 0)?;
    assert!(journal.exists(), "the killed child leaves a hot journal");

    // Opening the database rolls the hot journal back: the migration is not applied.
    let mut conn = Connection::open(&path)?;
    let status = SLOW.status(&conn)?;
    assert_eq!(
        status
            .pending
            .iter()
            .map(|m| m.version())
            .collect::<Vec<_>>(),
        [2]
    );
    assert!(!table_exists(&conn, "items_log"));
    let payload: String =
        conn.query_row("SELECT payload FROM items WHERE id = 1", [], |r| r.get(0))?;
    assert!(payload.starts_with("Item 1 "), "{payload}");
    assert_eq!(user_version(&conn), 1);

    assert_eq!(SLOW.run(&mut conn)?.applied.len(), 1);
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    assert_eq!(check, "ok");
    let rewritten: i64 = conn.query_row(
        "SELECT count(*) FROM items WHERE payload GLOB 'ITEM *item *'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(rewritten, 400_000);
    Ok(())
}

#[test]
fn a_tracking_table_made_by_another_tool_is_named() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(db_path(&dir))?;
    // A tool whose shape is not one the import knows (golang-migrate's and dbmate's
    // are imported: tests/import.rs).
    conn.execute_batch(
        "CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, migration TEXT NOT NULL)",
    )?;
    let err = V1.run(&mut conn).unwrap_err();
    match &err {
        Error::ForeignTrackingTable { columns } => assert_eq!(columns, &["id", "migration"]),
        other => panic!("expected ForeignTrackingTable, got {other:?}"),
    }
    assert!(!table_exists(&conn, "users"));
    Ok(())
}

static DEFERRED: Migrations = migrate::migrations!("tests/sets/deferred");
static DEFERRED_V1: Migrations = migrate::migrations!("tests/sets/deferred_v1");

#[test]
fn rows_left_breaking_a_foreign_key_roll_the_migration_back() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(db_path(&dir))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    DEFERRED_V1.run(&mut conn)?;
    conn.execute_batch("INSERT INTO authors VALUES (1); INSERT INTO books VALUES (1, 1);")?;
    match DEFERRED.run(&mut conn) {
        Err(Error::ForeignKeyViolation {
            version,
            violations,
            ..
        }) => {
            assert_eq!(version, 2);
            assert_eq!(
                violations,
                [migrate::Violation {
                    table: "books".into(),
                    rowid: Some(1),
                    parent: "authors".into()
                }]
            );
        }
        other => panic!("expected ForeignKeyViolation, got {other:?}"),
    }
    assert!(conn.is_autocommit(), "no transaction is left open");
    let on: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    assert!(on, "enforcement is back on after the failure");
    assert!(!table_exists(&conn, "cleanup_log"));
    let authors: i64 = conn.query_row("SELECT count(*) FROM authors", [], |r| r.get(0))?;
    assert_eq!(authors, 1);
    assert_eq!(history(&conn).len(), 1);
    Ok(())
}

/// SQLite's procedure checks foreign keys only when the connection enforced them:
/// an application that keeps them off gets the migration applied, and them still off.
#[test]
fn a_connection_without_foreign_keys_is_not_checked() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(db_path(&dir))?;
    conn.pragma_update(None, "foreign_keys", false)?;
    DEFERRED_V1.run(&mut conn)?;
    conn.execute_batch("INSERT INTO authors VALUES (1); INSERT INTO books VALUES (1, 1);")?;
    assert_eq!(DEFERRED.run(&mut conn)?.applied.len(), 1);
    let on: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    assert!(!on);
    Ok(())
}

#[test]
fn a_reader_blocking_the_commit_past_the_busy_timeout_is_a_lock_error() -> TestResult {
    let (_dir, path, before) = v1_database()?;

    // A read transaction keeps its shared lock until it ends: COMMIT cannot write.
    let reader = Connection::open(&path)?;
    reader.execute_batch("BEGIN")?;
    let _: i64 = reader.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    let mut conn = Connection::open(&path)?;
    conn.busy_timeout(std::time::Duration::from_millis(50))?;
    let err = V2.run(&mut conn).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err:?}");
    assert!(
        conn.is_autocommit(),
        "the migration's transaction was rolled back"
    );
    reader.execute_batch("COMMIT")?;

    assert_eq!(V2.status(&conn)?.pending.len(), 1);
    drop((reader, conn));
    assert_eq!(std::fs::read(&path)?, before);
    Ok(())
}

#[test]
fn a_damaged_database_is_left_untouched() -> TestResult {
    let (_dir, path, _) = v1_database()?;
    // Overwrite the schema table's page header (right after the 100-byte file header).
    let mut bytes = std::fs::read(&path)?;
    bytes[100..140].fill(0xA5);
    std::fs::write(&path, &bytes)?;

    let mut conn = Connection::open(&path)?;
    let err = V2.run(&mut conn).unwrap_err();
    assert!(
        matches!(err, Error::Corrupt { .. } | Error::NotADatabase { .. }),
        "{err:?}"
    );
    drop(conn);
    assert_eq!(std::fs::read(&path)?, bytes);
    Ok(())
}

static LONG_VERSIONS: Migrations =
    migrate::migrations!("tests/sets/long_versions", layout = "sqlx");

/// Versions beyond 64 bits (20- and 21-digit) are kept exactly, stored as zero-padded
/// text after the integer ones, and the startup check finds the highest of them.
#[test]
fn versions_beyond_64_bits_are_kept_exactly_and_in_order() -> TestResult {
    let expected: [migrate::Version; 4] = [
        20_240_101_120_000,
        20_240_101_120_000_000_001,
        99_999_999_999_999_999_999,
        100_000_000_000_000_000_000,
    ];
    let versions: Vec<migrate::Version> = LONG_VERSIONS.iter().map(|m| m.version()).collect();
    assert_eq!(versions, expected);

    let dir = tempfile::tempdir()?;
    let path = db_path(&dir);
    // The first three, as a database applied them before the fourth was written.
    let three = tempfile::tempdir()?;
    for m in LONG_VERSIONS.iter().take(3) {
        std::fs::write(three.path().join(m.file_name()), m.sql())?;
    }
    let options = migrate::check::Options {
        layout: Some(migrate::Layout::Sqlx),
        ..Default::default()
    };
    let first = migrate::check::check_dir_opts(three.path(), "three", &options)
        .map_err(|d| format!("{d:?}"))?;
    let mut conn = Connection::open(&path)?;
    assert_eq!(
        Migrations::from_sources(first)
            .run(&mut conn)?
            .applied
            .len(),
        3
    );
    let report = LONG_VERSIONS.run(&mut conn)?;
    let applied: Vec<migrate::Version> = report
        .applied
        .iter()
        .map(|a| a.migration.version())
        .collect();
    assert_eq!(applied, [expected[3]], "only the newest is pending");

    let stored: Vec<(String, String)> = conn
        .prepare(
            "SELECT typeof(version), CAST(version AS TEXT) FROM schema_migrations ORDER BY version",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    assert_eq!(
        stored,
        [
            ("integer".to_owned(), "20240101120000".to_owned()),
            ("text".to_owned(), format!("{:039}", expected[1])),
            ("text".to_owned(), format!("{:039}", expected[2])),
            ("text".to_owned(), format!("{:039}", expected[3])),
        ]
    );
    let status = LONG_VERSIONS.status(&conn)?;
    assert!(status.is_up_to_date(), "{status:?}");
    assert_eq!(status.version(), Some(expected[3]));
    drop(conn);
    let before = std::fs::read(&path)?;
    let mut conn = Connection::open(&path)?;
    assert!(LONG_VERSIONS.run(&mut conn)?.applied.is_empty());
    drop(conn);
    assert_eq!(
        std::fs::read(&path)?,
        before,
        "the startup check wrote nothing"
    );
    Ok(())
}
