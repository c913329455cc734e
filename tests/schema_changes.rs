//! Schema changes on real database files with data: the rebuild pattern under
//! foreign keys, migrations without a transaction, connection settings, declared
//! functions, and the SQLite version the set was validated with.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use migrate::rusqlite::{Connection, functions::FunctionFlags};
use migrate::{Error, Migrations, Warning};

static CASCADE_V1: Migrations = migrate::migrations!("tests/sets/cascade_v1");
static CASCADE: Migrations = migrate::migrations!("tests/sets/cascade");
static DANGLING: Migrations = migrate::migrations!("tests/sets/dangling");
static NOTX: Migrations = migrate::migrations!("tests/sets/notx");
static NOTX_FAILING: Migrations = migrate::migrations!("tests/sets/notx_failing");
static LEGACY: Migrations = migrate::migrations!("tests/sets/legacy");
static FUNCTIONS: Migrations =
    migrate::migrations!("tests/sets/functions", functions(user_setting / 2));
static SETTINGS: Migrations = migrate::migrations!("tests/sets/settings");
static TRIGGER_REBUILD: Migrations = migrate::migrations!("tests/sets/trigger_rebuild");
static COLLATIONS: Migrations = migrate::migrations!("tests/sets/collations", collations(unicase));
static MODULES: Migrations = migrate::migrations!("tests/sets/modules", modules(csv));
static GENERATOR_PRAGMAS: Migrations = migrate::migrations!("tests/sets/generator_pragmas");
static GENERATOR_PRAGMAS_NOTX: Migrations =
    migrate::migrations!("tests/sets/generator_pragmas_notx");

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn count(conn: &Connection, sql: &str) -> rusqlite::Result<i64> {
    conn.query_row(sql, [], |r| r.get(0))
}

fn pragma(conn: &Connection, name: &str) -> rusqlite::Result<i64> {
    count(conn, &format!("PRAGMA {name}"))
}

/// The first migration of `set` alone, read at run time: the database as it was
/// before the rest was written.
fn first_only(set: &Migrations) -> Result<Migrations, Box<dyn std::error::Error>> {
    let first = set.get(1).ok_or("no migration 1")?;
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join(first.file_name()), first.sql())?;
    let sources = migrate::check::check_dir(dir.path(), "v1").map_err(|d| format!("{d:?}"))?;
    Ok(Migrations::from_sources(sources))
}

/// A file database with foreign keys on, the authors/books schema and 3 authors with
/// 2 books each; one author is 'Anonymous'.
fn library() -> Result<(tempfile::TempDir, PathBuf, Connection), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("library.db");
    let mut conn = Connection::open(&path)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    CASCADE_V1.run(&mut conn)?;
    conn.execute_batch(
        "INSERT INTO authors VALUES (1, 'Ursula'), (2, 'Anonymous'), (3, 'Italo');
         INSERT INTO books (author_id, title) VALUES
             (1, 'a'), (1, 'b'), (2, 'c'), (2, 'd'), (3, 'e'), (3, 'f');",
    )?;
    Ok((dir, path, conn))
}

#[test]
fn a_rebuild_of_a_parent_table_keeps_every_cascading_child_row() -> TestResult {
    let (_dir, path, mut conn) = library()?;
    // The control: the same rebuild run as plain SQL on a copy, with foreign keys on,
    // deletes every book through ON DELETE CASCADE.
    let copy = path.with_file_name("copy.db");
    std::fs::copy(&path, &copy)?;
    let plain = Connection::open(&copy)?;
    plain.pragma_update(None, "foreign_keys", true)?;
    plain.execute_batch(&format!(
        "BEGIN; {} COMMIT;",
        CASCADE.get(2).ok_or("no 002")?.sql()
    ))?;
    assert_eq!(
        count(&plain, "SELECT count(*) FROM books")?,
        0,
        "the control lost no rows"
    );

    let report = CASCADE.run(&mut conn)?;
    assert_eq!(report.applied.len(), 1);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM books")?,
        6,
        "every book survives"
    );
    assert_eq!(count(&conn, "SELECT count(*) FROM authors")?, 3);
    assert_eq!(pragma(&conn, "foreign_keys")?, 1, "enforcement is back on");
    assert_eq!(
        count(&conn, "SELECT count(*) FROM pragma_foreign_key_check")?,
        0
    );
    // The new table is in place, with its CHECK.
    assert!(
        conn.execute("INSERT INTO authors VALUES (9, '')", [])
            .is_err()
    );
    // And the cascade still works afterwards.
    conn.execute("DELETE FROM authors WHERE id = 1", [])?;
    assert_eq!(count(&conn, "SELECT count(*) FROM books")?, 4);
    Ok(())
}

/// A collation the application registers: declared, the set builds with a stand-in;
/// `run` refuses a connection without it, changing nothing, and applies with it.
#[test]
fn a_declared_collation_builds_and_run_refuses_a_connection_without_it() -> TestResult {
    assert_eq!(COLLATIONS.collations(), ["unicase"]);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("app.db");
    let conn = Connection::open(&path)?;
    conn.execute_batch("CREATE TABLE keep (x)")?;
    drop(conn);
    let before = std::fs::read(&path)?;
    let mut conn = Connection::open(&path)?;
    match COLLATIONS.run(&mut conn) {
        Err(Error::MissingCollation { name }) => assert_eq!(name, "unicase"),
        other => panic!("expected MissingCollation, got {other:?}"),
    }
    drop(conn);
    assert_eq!(std::fs::read(&path)?, before, "nothing was written");
    let mut conn = Connection::open(&path)?;
    conn.create_collation("unicase", |a: &str, b: &str| {
        a.to_lowercase().cmp(&b.to_lowercase())
    })?;
    COLLATIONS.run(&mut conn)?;
    conn.execute("INSERT INTO users (email) VALUES ('A@x.org')", [])?;
    assert!(
        conn.execute("INSERT INTO users (email) VALUES ('a@X.org')", [])
            .is_err(),
        "the application's collation decides uniqueness"
    );
    Ok(())
}

/// A module the application loads as an extension: declared, the statements that
/// need it are not executed at build time and are listed; the set applies on a
/// connection that has the module.
#[test]
fn statements_needing_a_declared_module_are_listed_and_apply_with_the_module() -> TestResult {
    assert_eq!(
        MODULES.unvalidated(),
        [
            "tests/sets/modules/001_imports.sql:2: CREATE VIRTUAL TABLE imports USING csv(filename='tests/sets/modules/countries.csv', header=yes)",
            "tests/sets/modules/002_countries.sql:2: INSERT INTO countries (code, name) SELECT code, name FROM imports",
            "tests/sets/modules/002_countries.sql:3: DROP TABLE imports",
        ]
    );
    let mut conn = Connection::open_in_memory()?;
    assert!(
        MODULES.run(&mut conn).is_err(),
        "no module, no virtual table"
    );
    let mut conn = Connection::open_in_memory()?;
    rusqlite::vtab::csvtab::load_module(&conn)?;
    MODULES.run(&mut conn)?;
    assert_eq!(count(&conn, "SELECT count(*) FROM countries")?, 2);
    Ok(())
}

/// `PRAGMA foreign_keys=OFF` … `ON` around a rebuild, as drizzle-kit and Prisma
/// generate it, builds unchanged and applies like the runner's own procedure: no
/// child row is lost, enforcement is on afterwards. In a no-transaction migration the
/// pragmas take effect, and the setting is still put back.
#[test]
fn generated_foreign_keys_pragmas_around_a_rebuild_build_and_keep_every_child_row() -> TestResult {
    for set in [&GENERATOR_PRAGMAS, &GENERATOR_PRAGMAS_NOTX] {
        let (_dir, _path, mut conn) = library()?;
        let report = set.run(&mut conn)?;
        assert_eq!(report.applied.len(), 1);
        assert_eq!(
            count(&conn, "SELECT count(*) FROM books")?,
            6,
            "every book survives"
        );
        assert_eq!(pragma(&conn, "foreign_keys")?, 1, "enforcement is back on");
        assert!(
            conn.execute("INSERT INTO authors VALUES (9, '')", [])
                .is_err()
        );
        conn.execute("DELETE FROM authors WHERE id = 1", [])?;
        assert_eq!(
            count(&conn, "SELECT count(*) FROM books")?,
            4,
            "the cascade works"
        );
    }
    Ok(())
}

#[test]
fn a_rebuild_that_leaves_dangling_references_is_rolled_back() -> TestResult {
    let (_dir, path, mut conn) = library()?;
    let schema_before = count(&conn, "PRAGMA schema_version")?;
    let bytes = std::fs::read(&path)?;
    let err = DANGLING.run(&mut conn).unwrap_err();
    match &err {
        Error::ForeignKeyViolation {
            version,
            violations,
            ..
        } => {
            assert_eq!(*version, 2);
            let rows: Vec<(String, Option<i64>, String)> = violations
                .iter()
                .map(|v| (v.table.clone(), v.rowid, v.parent.clone()))
                .collect();
            assert_eq!(
                rows,
                [
                    ("books".to_owned(), Some(3), "authors".to_owned()),
                    ("books".to_owned(), Some(4), "authors".to_owned())
                ]
            );
        }
        other => panic!("expected ForeignKeyViolation, got {other:?}"),
    }
    let shown = err.to_string();
    assert!(
        shown.contains("`books` row 3 references a missing row of `authors`"),
        "{shown}"
    );
    assert_eq!(count(&conn, "SELECT count(*) FROM authors")?, 3);
    assert_eq!(count(&conn, "PRAGMA schema_version")?, schema_before);
    assert_eq!(pragma(&conn, "foreign_keys")?, 1);
    drop(conn);
    assert_eq!(std::fs::read(&path)?, bytes, "the file is as it was");
    Ok(())
}

#[test]
fn a_no_transaction_migration_can_vacuum_and_change_the_journal_mode() -> TestResult {
    assert!(!NOTX.get(2).ok_or("no 002")?.runs_in_transaction());
    assert!(NOTX.get(3).ok_or("no 003")?.runs_in_transaction());
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("app.db");
    let mut conn = Connection::open(&path)?;
    let report = NOTX.run(&mut conn)?;
    assert_eq!(report.applied.len(), 3);
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    assert_eq!(mode, "wal");
    assert_eq!(count(&conn, "SELECT count(*) FROM events")?, 10);
    assert_eq!(count(&conn, "SELECT count(*) FROM schema_migrations")?, 3);
    assert_eq!(
        count(&conn, "PRAGMA freelist_count")?,
        0,
        "VACUUM left no free pages behind the deleted rows"
    );
    assert!(path.with_file_name("app.db.migrate-lock").exists());
    Ok(())
}

#[test]
fn a_failing_no_transaction_migration_says_what_ran_and_is_not_recorded() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(dir.path().join("app.db"))?;
    first_only(&NOTX_FAILING)?.run(&mut conn)?;
    conn.execute_batch("INSERT INTO users (email) VALUES ('a@x'), ('a@x')")?;

    let err = NOTX_FAILING.run(&mut conn).unwrap_err();
    match &err {
        Error::FailedWithoutTransaction {
            version,
            line,
            ran,
            message,
            ..
        } => {
            assert_eq!((*version, *line), (2, 4));
            assert_eq!(ran.as_ref(), &[2, 3]);
            assert!(message.contains("UNIQUE constraint failed"), "{message}");
        }
        other => panic!("expected FailedWithoutTransaction, got {other:?}"),
    }
    let shown = err.to_string();
    assert!(
        shown.contains("the statements on lines 2, 3 ran and stay applied"),
        "{shown}"
    );
    // Not rolled back, and not recorded.
    assert_eq!(count(&conn, "SELECT count(*) FROM audit")?, 1);
    assert_eq!(count(&conn, "SELECT count(*) FROM schema_migrations")?, 1);
    assert!(conn.is_autocommit());
    Ok(())
}

#[test]
fn a_rename_old_first_rebuild_under_a_view_builds_and_applies_with_legacy_alter_table() -> TestResult
{
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(dir.path().join("app.db"))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    first_only(&LEGACY)?.run(&mut conn)?;
    conn.execute_batch(
        "INSERT INTO stock (item, quantity) VALUES ('nails', '3'), ('screws', '40')",
    )?;

    LEGACY.run(&mut conn)?;
    let low: Vec<(String, i64)> = conn
        .prepare("SELECT item, quantity FROM low_stock")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    assert_eq!(
        low,
        [("nails".to_owned(), 3)],
        "the view reads the new table"
    );
    assert_eq!(
        pragma(&conn, "legacy_alter_table")?,
        0,
        "the setting is restored"
    );
    assert_eq!(pragma(&conn, "foreign_keys")?, 1);
    Ok(())
}

/// A rename-old-first rebuild under `legacy_alter_table` of a table that another
/// table's trigger writes: SQLite leaves that trigger's body on the name `meal_plan`,
/// which the new table takes. The set builds (that it compiles is the build half), and
/// applies to a file over three runs and one, with the trigger chain still firing.
#[test]
fn a_legacy_rebuild_of_a_table_written_by_a_trigger_builds_and_applies() -> TestResult {
    let dir = tempfile::tempdir()?;
    // The database an application made with the first two migrations, then the third.
    let path = dir.path().join("staged.db");
    let mut conn = Connection::open(&path)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    first_only(&TRIGGER_REBUILD)?.run(&mut conn)?;
    conn.execute_batch("INSERT INTO products (id, name) VALUES (1, 'oats')")?;
    let two = dir.path().join("two");
    std::fs::create_dir(&two)?;
    for m in TRIGGER_REBUILD.iter().take(2) {
        std::fs::write(two.join(m.file_name()), m.sql())?;
    }
    let sources = migrate::check::check_dir(&two, "two").map_err(|d| format!("{d:?}"))?;
    Migrations::from_sources(sources).run(&mut conn)?;
    let report = TRIGGER_REBUILD.run(&mut conn)?;
    assert_eq!(report.applied.len(), 1);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM meal_plan WHERE product_id = 1")?,
        1,
        "the update fired p_upd into the new meal_plan"
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM log")?,
        1,
        "and mp_ins on it"
    );

    // All three in one run.
    let mut fresh = Connection::open(dir.path().join("fresh.db"))?;
    fresh.pragma_update(None, "foreign_keys", true)?;
    assert_eq!(TRIGGER_REBUILD.run(&mut fresh)?.applied.len(), 3);
    assert!(TRIGGER_REBUILD.status(&fresh)?.is_up_to_date());
    Ok(())
}

#[test]
fn settings_a_migration_changes_are_restored_after_it() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(dir.path().join("app.db"))?;
    conn.pragma_update(None, "recursive_triggers", false)?;
    conn.pragma_update(None, "legacy_alter_table", false)?;
    SETTINGS.run(&mut conn)?;
    assert_eq!(pragma(&conn, "recursive_triggers")?, 0);
    assert_eq!(pragma(&conn, "legacy_alter_table")?, 0);

    // Also when the migration fails: a set read at run time whose statement fails after the pragma.
    let files = tempfile::tempdir()?;
    std::fs::write(
        files.path().join("1_fails.sql"),
        "PRAGMA recursive_triggers = ON;\nINSERT INTO missing VALUES (1);",
    )?;
    let failing = Migrations::from_sources(
        migrate::check::read_dir(files.path(), "m").map_err(|d| format!("{d:?}"))?,
    );
    let mut conn = Connection::open(dir.path().join("other.db"))?;
    assert!(matches!(failing.run(&mut conn), Err(Error::Failed { .. })));
    assert_eq!(pragma(&conn, "recursive_triggers")?, 0);
    Ok(())
}

fn register_user_setting(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "user_setting",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(format!("{}:{}", ctx.get::<i64>(0)?, ctx.get::<String>(1)?)),
    )
}

#[test]
fn a_declared_function_builds_and_run_refuses_a_connection_without_it() -> TestResult {
    assert_eq!(FUNCTIONS.functions().len(), 1);
    assert_eq!(FUNCTIONS.functions()[0].to_string(), "user_setting/2");
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("app.db");
    let mut conn = Connection::open(&path)?;
    let err = FUNCTIONS.run(&mut conn).unwrap_err();
    match &err {
        Error::MissingFunction { name, arity, .. } => {
            assert_eq!((name.as_str(), *arity), ("user_setting", 2))
        }
        other => panic!("expected MissingFunction, got {other:?}"),
    }
    assert!(err.to_string().contains("user_setting/2"), "{err}");
    assert_eq!(
        count(&conn, "SELECT count(*) FROM sqlite_schema")?,
        0,
        "nothing applied"
    );

    register_user_setting(&conn)?;
    FUNCTIONS.run(&mut conn)?;
    conn.execute("INSERT INTO settings VALUES (7, 'theme', 'dark')", [])?;
    let theme: String = conn.query_row("SELECT theme FROM themes", [], |r| r.get(0))?;
    assert_eq!(theme, "7:theme");
    Ok(())
}

#[test]
fn the_validating_sqlite_is_recorded_and_an_older_one_is_reported() -> TestResult {
    let mut conn = Connection::open_in_memory()?;
    let warnings = CASCADE.run(&mut conn)?.warnings;
    if cfg!(feature = "bundled") {
        // The application's SQLite is the macro's: one libsqlite3-sys, both bundled.
        assert_eq!(CASCADE.validated_with(), Some(rusqlite::version()));
        assert!(warnings.is_empty(), "{warnings:?}");
    } else {
        // The system SQLite (CI: Debian's 3.40) is older than any bundled one.
        let validated_with = CASCADE.validated_with().ok_or("validated_with")?;
        assert_eq!(
            warnings,
            [Warning::OlderSqlite {
                validated_with,
                running: rusqlite::version()
            }]
        );
    }

    static NEWER: Migrations = CASCADE_V1.with_validated_with("99.1.0");
    let mut conn = Connection::open_in_memory()?;
    let report = NEWER.run(&mut conn)?;
    assert_eq!(
        report.warnings,
        [Warning::OlderSqlite {
            validated_with: "99.1.0",
            running: rusqlite::version()
        }]
    );
    assert!(
        report.warnings[0]
            .to_string()
            .contains("validated with SQLite 99.1.0")
    );
    // Reported on every run, also when nothing is pending.
    assert_eq!(NEWER.run(&mut conn)?.warnings.len(), 1);
    Ok(())
}

/// Set for the child processes of the race below.
const RACE_DB: &str = "MIGRATE_TEST_RACE_DB";

/// Applies the no-transaction set; the race test runs it in several processes.
#[test]
fn notx_set_applies() -> TestResult {
    #[allow(clippy::disallowed_methods, reason = "set by the parent test")]
    let race_db = std::env::var_os(RACE_DB);
    let dir = tempfile::tempdir()?;
    let path = race_db.map_or_else(|| dir.path().join("app.db"), PathBuf::from);
    let mut conn = Connection::open(&path)?;
    NOTX.run(&mut conn)?;
    assert!(NOTX.status(&conn)?.is_up_to_date());
    Ok(())
}

#[test]
fn processes_racing_apply_a_no_transaction_migration_once() -> TestResult {
    for round in 0..3 {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("app.db");
        let children: Vec<_> = (0..5)
            .map(|_| {
                Command::new(std::env::current_exe()?)
                    .args(["--exact", "notx_set_applies", "--test-threads", "1"])
                    .env(RACE_DB, &path)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
            })
            .collect::<Result<_, _>>()?;
        for child in children {
            let out = child.wait_with_output()?;
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        let conn = Connection::open(&path)?;
        assert_eq!(count(&conn, "SELECT count(*) FROM schema_migrations")?, 3);
        assert_eq!(count(&conn, "SELECT count(*) FROM events")?, 10);
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        assert_eq!(mode, "wal");
    }
    Ok(())
}

/// Temporary trial copies of this process still on disk.
fn trial_leftovers() -> usize {
    let prefix = format!("migrate-trial-{}-", std::process::id());
    std::fs::read_dir(std::env::temp_dir())
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_trial_runs_on_a_copy_and_leaves_the_original_byte_identical() -> TestResult {
    let (_dir, path, conn) = library()?;
    drop(conn);
    let before = std::fs::read(&path)?;

    let trial = CASCADE.trial(&path)?;
    assert!(trial.is_ok(), "{trial:?}");
    let applied: Vec<(migrate::Version, u64)> = trial
        .applied
        .iter()
        .map(|a| (a.migration.version(), a.rows_changed))
        .collect();
    assert_eq!(applied, [(2, 3)], "002 copies the 3 authors");
    assert_eq!(std::fs::read(&path)?, before, "the original is untouched");

    // A trial of a migration that would break foreign keys fails as the real run would.
    let err = DANGLING.trial(&path).unwrap_err();
    assert!(matches!(err, Error::ForeignKeyViolation { .. }), "{err:?}");
    assert_eq!(std::fs::read(&path)?, before);
    assert_eq!(trial_leftovers(), 0, "the temporary copies are deleted");
    Ok(())
}

#[test]
fn a_backup_is_written_only_when_something_is_pending_and_restores() -> TestResult {
    let (dir, path, mut conn) = library()?;
    let backup = dir.path().join("before-002.db");
    let report = CASCADE.runner().backup_to(&backup).run(&mut conn)?;
    assert_eq!(report.applied.len(), 1);
    assert_eq!(report.backup.as_deref(), Some(backup.as_path()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "owner only");
    }
    // The backup is the database before 002: restore it over the migrated one.
    drop(conn);
    std::fs::copy(&backup, &path)?;
    let mut conn = Connection::open(&path)?;
    assert!(CASCADE_V1.status(&conn)?.is_up_to_date());
    assert_eq!(count(&conn, "SELECT count(*) FROM books")?, 6);
    assert_eq!(CASCADE.status(&conn)?.pending.len(), 1);

    // Nothing pending: no backup.
    CASCADE.run(&mut conn)?;
    let unused = dir.path().join("unused.db");
    let report = CASCADE.runner().backup_to(&unused).run(&mut conn)?;
    assert_eq!(report.backup, None);
    assert!(!unused.exists());

    // An existing file is never overwritten, and then nothing is applied.
    let (_dir2, _path2, mut conn2) = library()?;
    let err = CASCADE
        .runner()
        .backup_to(&backup)
        .run(&mut conn2)
        .unwrap_err();
    assert!(matches!(err, Error::Backup { .. }), "{err:?}");
    assert_eq!(CASCADE.status(&conn2)?.pending.len(), 1);
    Ok(())
}

static NOTX_SLOW: Migrations = migrate::migrations!("tests/sets/notx_slow");

/// Set for the child process killed below.
const KILL_DB: &str = "MIGRATE_TEST_KILL_DB";

/// Applies the slow no-transaction set; the test below kills it mid-way.
#[test]
fn notx_slow_set_applies() -> TestResult {
    #[allow(clippy::disallowed_methods, reason = "set by the parent test")]
    let kill_db = std::env::var_os(KILL_DB);
    let dir = tempfile::tempdir()?;
    let path = kill_db.map_or_else(|| dir.path().join("app.db"), PathBuf::from);
    let mut conn = Connection::open(&path)?;
    NOTX_SLOW.run(&mut conn)?;
    assert!(NOTX_SLOW.status(&conn)?.is_up_to_date());
    Ok(())
}

/// A process killed inside a no-transaction migration: the statement in progress is
/// rolled back from its journal, the migration is not recorded, the lock dies with
/// the process, and the next run applies the migration.
#[test]
fn a_process_killed_in_a_no_transaction_migration_leaves_it_unrecorded() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("app.db");
    let journal = dir.path().join("app.db-journal");
    let mut conn = Connection::open(&path)?;
    first_only(&NOTX_SLOW)?.run(&mut conn)?;
    conn.execute_batch(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 400000)
         INSERT INTO items (payload) SELECT printf('item %d %s', x, hex(randomblob(24))) FROM n",
    )?;
    drop(conn);

    // A journal of 1 MiB is the UPDATE's: the statements before it write a few pages,
    // and a kill during them would leave nothing of the migration to look at.
    common::kill_while_writing("notx_slow_set_applies", KILL_DB, &path, &journal, 1 << 20)?;

    let mut conn = Connection::open(&path)?;
    assert_eq!(NOTX_SLOW.status(&conn)?.pending.len(), 1, "not recorded");
    assert_eq!(
        count(&conn, "SELECT count(*) FROM items_log")?,
        0,
        "the first statement stays"
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM items WHERE payload GLOB 'ITEM *'"
        )?,
        0,
        "the interrupted UPDATE is rolled back"
    );
    // The lock file is free: this run would otherwise wait forever.
    assert_eq!(NOTX_SLOW.run(&mut conn)?.applied.len(), 1);
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    assert_eq!(check, "ok");
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM items WHERE payload GLOB 'ITEM *'"
        )?,
        400_000
    );
    Ok(())
}
