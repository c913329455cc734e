//! The everyday workflow on real files: adopting the SQLite lesson's database,
//! `allow_newer_database`, `baseline`, `repair`, the status table, `log` events,
//! `trial_with`, and the stale-binary check.

use std::path::Path;
use std::sync::Mutex;

use migrate::rusqlite::{Connection, functions::FunctionFlags};
use migrate::{Error, MigrationState, Migrations, Warning};

static LESSON: Migrations = migrate::migrations!("tests/sets/lesson");
static LESSON_RENAMED: Migrations = migrate::migrations!("tests/sets/lesson_renamed");
static V1: Migrations = migrate::migrations!("tests/sets/v1");
static V1_EDITED: Migrations = migrate::migrations!("tests/sets/v1_edited");
static V2: Migrations = migrate::migrations!("tests/sets/v2");
static FUNCTIONS: Migrations =
    migrate::migrations!("tests/sets/functions", functions(user_setting / 2));
static FAILING: Migrations = migrate::migrations!("tests/sets/failing");

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A database made by the lesson's own runner: its 000 bootstrap and 001, executed
/// as written (with their BEGIN/COMMIT and self-inserts), then a user row.
fn lesson_database(
    dir: &tempfile::TempDir,
) -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
    let path = dir.path().join("lesson.db");
    let conn = Connection::open(&path)?;
    for file in ["000_create_schema_migrations.sql", "001_create_users.sql"] {
        conn.execute_batch(&std::fs::read_to_string(
            Path::new("tests/lesson").join(file),
        )?)?;
    }
    conn.execute("INSERT INTO users (email) VALUES ('ada@example.com')", [])?;
    Ok(path)
}

#[test]
fn the_lessons_database_is_adopted_with_its_data_and_continues() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = lesson_database(&dir)?;
    let lesson_rows: Vec<(String, String, String)> = {
        let conn = Connection::open(&path)?;
        let mut stmt = conn
            .prepare("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?
    };
    assert_eq!(lesson_rows.len(), 2);

    let mut conn = Connection::open(&path)?;
    let report = LESSON.run(&mut conn)?;
    let adopted = report.adopted.as_ref().ok_or("adopted")?;
    assert_eq!(adopted.table, "schema_migrations_lesson");
    assert_eq!(adopted.versions, [1]);
    let applied: Vec<i128> = report
        .applied
        .iter()
        .map(|a| a.migration.version())
        .collect();
    assert_eq!(applied, [2]);

    // The user row is kept and got the new column.
    let (email, bio): (String, String) =
        conn.query_row("SELECT email, bio FROM users", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    assert_eq!((email.as_str(), bio.as_str()), ("ada@example.com", ""));
    // Every lesson row is kept, unchanged.
    let kept: Vec<(String, String, String)> = conn
        .prepare("SELECT version, name, applied_at FROM schema_migrations_lesson ORDER BY version")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    assert_eq!(kept, lesson_rows);
    // Our table: 001 with the lesson's applied_at, then 002.
    let ours: Vec<(i64, String, String)> = conn
        .prepare("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    assert_eq!(ours.len(), 2);
    assert_eq!(
        (ours[0].0, ours[0].1.as_str(), ours[0].2.as_str()),
        (1, "create_users", lesson_rows[1].2.as_str())
    );
    assert_eq!((ours[1].0, ours[1].1.as_str()), (2, "add_users_bio"));
    assert!(LESSON.status(&conn)?.is_up_to_date());
    // Second run: the quick check passes, nothing happens.
    let again = LESSON.run(&mut conn)?;
    assert!(again.applied.is_empty() && again.adopted.is_none());
    Ok(())
}

#[test]
fn a_lesson_row_whose_name_differs_is_refused_and_nothing_changes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = lesson_database(&dir)?;
    let before = std::fs::read(&path)?;
    let err = LESSON_RENAMED
        .run(&mut Connection::open(&path)?)
        .unwrap_err();
    let Error::AdoptMismatch { rows } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0].contains("('001', 'create_users')") && rows[0].contains("make_users"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path)?, before, "the file is untouched");
    Ok(())
}

#[test]
fn an_older_binary_starts_on_a_newer_database_when_allowed() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("app.db");
    V2.run(&mut Connection::open(&path)?)?;
    let mut conn = Connection::open(&path)?;
    assert!(matches!(
        V1.run(&mut conn),
        Err(Error::UnknownApplied { .. })
    ));
    let report = V1.runner().allow_newer_database(true).run(&mut conn)?;
    let unknown: Vec<i128> = V2.iter().skip(V1.len()).map(|m| m.version()).collect();
    // Linked against an older system SQLite (a CI step), `OlderSqlite` comes too.
    let warnings: Vec<&Warning> = report
        .warnings
        .iter()
        .filter(|w| !matches!(w, Warning::OlderSqlite { .. }))
        .collect();
    assert_eq!(
        warnings,
        [&Warning::UnknownApplied {
            versions: unknown.clone()
        }]
    );
    assert!(warnings[0].to_string().contains(&unknown[0].to_string()));
    assert!(report.applied.is_empty());
    // Still refuses a modified one.
    let err = V1_EDITED
        .runner()
        .allow_newer_database(true)
        .run(&mut conn)
        .unwrap_err();
    assert!(matches!(err, Error::Modified { .. }), "{err:?}");
    Ok(())
}

#[test]
fn repair_records_the_edited_files_checksum_and_nothing_else() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("app.db");
    V1.run(&mut Connection::open(&path)?)?;
    let mut conn = Connection::open(&path)?;
    let err = V1_EDITED.run(&mut conn).unwrap_err();
    let Error::Modified { version, .. } = err else {
        panic!("{err:?}");
    };
    let schema_before = migrate::schema::objects(&conn)?;
    let repaired = V1_EDITED.repair(&mut conn, version)?;
    assert_ne!(repaired.old_checksum, repaired.new_checksum);
    assert_eq!(
        repaired.new_checksum,
        V1_EDITED.get(version).ok_or("embedded")?.checksum_hex()
    );
    assert_eq!(
        migrate::schema::objects(&conn)?,
        schema_before,
        "nothing ran"
    );
    assert!(V1_EDITED.status(&conn)?.is_up_to_date());
    assert!(V1_EDITED.run(&mut conn)?.applied.is_empty());
    // The old binary is now the modified one.
    assert!(matches!(V1.run(&mut conn), Err(Error::Modified { .. })));
    // Nothing to repair any more.
    assert!(matches!(
        V1_EDITED.repair(&mut conn, version),
        Err(Error::BadVersion { .. })
    ));
    Ok(())
}

#[test]
fn baseline_on_a_database_made_by_hand() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("app.db");
    // Build the schema with the set on a scratch database, then copy its SQL by hand.
    let mut scratch = Connection::open_in_memory()?;
    V2.run(&mut scratch)?;
    let conn = Connection::open(&path)?;
    for object in migrate::schema::objects(&scratch)? {
        conn.execute_batch(&object.sql)?;
    }
    drop(conn);
    let mut conn = Connection::open(&path)?;
    let latest = V2.latest_version().ok_or("latest")?;
    let first = V2.iter().next().ok_or("first")?.version();
    let err = V2.baseline(&mut conn, first).unwrap_err();
    assert!(matches!(err, Error::BaselineMismatch { .. }), "{err:?}");
    let done = V2.baseline(&mut conn, latest)?;
    assert_eq!(done.versions.len(), V2.len());
    assert!(V2.status(&conn)?.is_up_to_date());
    assert!(V2.run(&mut conn)?.applied.is_empty());
    Ok(())
}

#[test]
fn the_status_table_shows_each_migration_and_its_state() -> TestResult {
    let mut conn = Connection::open_in_memory()?;
    V1.run(&mut conn)?;
    let status = V2.status(&conn)?;
    let rows = status.rows();
    assert_eq!(rows.len(), V2.len());
    assert!(
        rows.iter()
            .take(V1.len())
            .all(|r| r.state == MigrationState::Applied && r.applied_at.is_some())
    );
    assert!(
        rows.iter()
            .skip(V1.len())
            .all(|r| r.state == MigrationState::Pending && r.duration_ms.is_none())
    );
    let table = status.to_string();
    let mut lines = table.lines();
    let header = lines.next().ok_or("header")?;
    assert!(
        header.starts_with("version  name")
            && header.ends_with("applied_at                duration"),
        "{table}"
    );
    let last = table.lines().last().ok_or("summary")?;
    assert_eq!(
        last,
        format!("{} applied, {} pending", V1.len(), V2.len() - V1.len())
    );
    assert!(table.contains(" pending  -"), "{table}");
    Ok(())
}

/// Collects the `migrate` log records of this test binary.
struct Collect(Mutex<Vec<(log::Level, String)>>);

impl log::Log for Collect {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target() == "migrate"
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            self.0
                .lock()
                .unwrap()
                .push((record.level(), record.args().to_string()));
        }
    }
    fn flush(&self) {}
}

static LOGGER: Collect = Collect(Mutex::new(Vec::new()));

#[test]
fn the_runner_logs_each_migration_and_statement() -> TestResult {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Debug);
    let mut conn = Connection::open_in_memory()?;
    V2.run(&mut conn)?;
    let dir = tempfile::tempdir()?;
    let newer = dir.path().join("newer.db");
    V2.run(&mut Connection::open(&newer)?)?;
    V1.runner()
        .allow_newer_database(true)
        .run(&mut Connection::open(&newer)?)?;
    let records = LOGGER.0.lock().unwrap().clone();
    let last = V2.iter().last().ok_or("last")?;
    assert!(
        records.iter().any(|(level, m)| *level == log::Level::Info
            && m.starts_with(&format!("applied migration {last} in "))
            && m.contains(" ms, ")
            && m.ends_with("row(s) changed")),
        "{records:#?}"
    );
    assert!(
        records.iter().any(
            |(level, m)| *level == log::Level::Debug && m.starts_with(&format!("{last} line "))
        ),
        "{records:#?}"
    );
    assert!(
        records
            .iter()
            .any(|(level, m)| *level == log::Level::Warn && m.contains("does not contain")),
        "{records:#?}"
    );
    Ok(())
}

#[test]
fn trial_with_gives_the_copy_the_applications_setup() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("app.db");
    Connection::open(&path)?.execute_batch("CREATE TABLE unrelated (x)")?;
    let err = FUNCTIONS.trial(&path).unwrap_err();
    assert!(matches!(err, Error::MissingFunction { .. }), "{err:?}");
    let trial = FUNCTIONS.trial_with(&path, |conn| {
        conn.create_scalar_function("user_setting", 2, FunctionFlags::SQLITE_UTF8, |_| {
            Ok(None::<String>)
        })
    })?;
    assert!(trial.is_ok(), "{trial:?}");
    assert_eq!(trial.applied.len(), FUNCTIONS.len());
    Ok(())
}

#[test]
fn a_failed_trial_says_the_original_is_unchanged() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("app.db");
    let mut conn = Connection::open(&path)?;
    V1.run(&mut conn)?;
    conn.execute_batch(
        "INSERT INTO users (email) VALUES ('same@example.com'), ('same@example.com');",
    )?;
    drop(conn);
    let before = std::fs::read(&path)?;
    let err = FAILING.trial(&path).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Failed {
                version: 3,
                on_copy: true,
                down: false,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(!text.contains("earlier migrations stay applied"), "{text}");
    assert!(
        text.contains("trial on a copy of the database")
            && text.contains("the original is unchanged"),
        "{text}"
    );
    assert_eq!(std::fs::read(&path)?, before);
    // On the real database, the usual text.
    let err = FAILING.run(&mut Connection::open(&path)?).unwrap_err();
    assert!(
        err.to_string().contains("earlier migrations stay applied"),
        "{err}"
    );
    Ok(())
}

#[test]
fn a_file_added_after_the_build_makes_the_binary_stale() -> TestResult {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("001_a.sql"), "CREATE TABLE a (x);")?;
    let sources =
        migrate::check::check_dir(dir.path(), "migrations").map_err(|d| format!("{d:?}"))?;
    let folder: &'static str = Box::leak(dir.path().display().to_string().into_boxed_str());
    let set = Migrations::from_sources(sources).with_source_dir(folder);
    let mut conn = Connection::open_in_memory()?;
    set.run(&mut conn)?;

    std::fs::write(dir.path().join("002_b.sql"), "CREATE TABLE b (x);")?;
    let err = set.run(&mut conn).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, Error::Stale(stale) if stale.files == ["002_b.sql (added)"]),
        "{err:?}"
    );
    assert!(
        text.contains("rerun_if_changed") && text.contains("cargo build"),
        "{text}"
    );
    assert!(matches!(set.status(&conn), Err(Error::Stale(_))));

    std::fs::remove_file(dir.path().join("002_b.sql"))?;
    std::fs::write(dir.path().join("001_a.sql"), "CREATE TABLE a (x, y);")?;
    let err = set.run(&mut conn).unwrap_err();
    assert!(
        matches!(&err, Error::Stale(stale) if stale.files == ["001_a.sql (changed)"]),
        "{err:?}"
    );
    // Reformatting keeps the checksum: not stale.
    std::fs::write(dir.path().join("001_a.sql"), "create table a (x)")?;
    set.run(&mut conn)?;
    // A folder that is gone (a deployed binary) is not compared.
    drop(dir);
    set.run(&mut conn)?;
    Ok(())
}

#[test]
fn a_migration_folder_added_after_the_build_makes_a_diesel_set_stale() -> TestResult {
    let dir = tempfile::tempdir()?;
    let first = dir.path().join("2024-01-15-143022_create_users");
    std::fs::create_dir(&first)?;
    std::fs::write(
        first.join("up.sql"),
        "CREATE TABLE users (id INTEGER PRIMARY KEY);",
    )?;
    std::fs::write(first.join("down.sql"), "DROP TABLE users;")?;
    let options = migrate::check::Options {
        layout: Some(migrate::Layout::Diesel),
        ..Default::default()
    };
    let sources = migrate::check::check_dir_opts(dir.path(), "migrations", &options)
        .map_err(|d| format!("{d:?}"))?;
    let folder: &'static str = Box::leak(dir.path().display().to_string().into_boxed_str());
    let set = Migrations::from_sources(sources).with_source_dir(folder);
    let mut conn = Connection::open_in_memory()?;
    set.run(&mut conn)?;

    let second = dir.path().join("2024-02-01-090000_create_tags");
    std::fs::create_dir(&second)?;
    std::fs::write(
        second.join("up.sql"),
        "CREATE TABLE tags (id INTEGER PRIMARY KEY);",
    )?;
    let err = set.run(&mut conn).unwrap_err();
    assert!(
        matches!(&err, Error::Stale(stale) if stale.files == ["2024-02-01-090000_create_tags/up.sql (added)"]),
        "{err:?}"
    );
    std::fs::remove_dir_all(&second)?;
    std::fs::remove_dir_all(&first)?;
    let err = set.run(&mut conn).unwrap_err();
    assert!(
        matches!(&err, Error::Stale(stale) if stale.files == ["2024-01-15-143022_create_users/up.sql (removed)"]),
        "{err:?}"
    );
    Ok(())
}
