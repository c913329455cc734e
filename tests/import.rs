//! Moving a database from another tool: for each tool, a database file migrated by
//! that tool's rules (its history table with the rows it writes, and the schema its
//! migrations made) is imported on the first run, which then applies only the rest;
//! and the refusals, which leave the file byte for byte as it was.

use std::path::{Path, PathBuf};

use migrate::check::layout::Layout;
use migrate::import::Imported;
use migrate::rusqlite::Connection;
use migrate::rusqlite::types::Value;
use migrate::{Error, Migration, Migrations, checksum};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const SQL: [&str; 3] = [
    "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);",
    "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), body TEXT NOT NULL);",
    "CREATE INDEX posts_user ON posts (user_id);",
];
const NAMES: [&str; 3] = ["create_users", "create_posts", "index_posts"];

/// The three migrations of `sql` with these versions and source ids, with checksums
/// and chains computed as the macro does.
fn set_of(
    versions: [migrate::Version; 3],
    source_ids: [&'static str; 3],
    sql: [&'static str; 3],
) -> Migrations {
    let mut chain = checksum::CHAIN_START;
    let list: Vec<Migration> = (0..3)
        .map(|i| {
            let sum = checksum(sql[i]);
            chain = checksum::chain(&chain, versions[i], &sum);
            let file: &'static str =
                Box::leak(format!("{}_{}.sql", versions[i], NAMES[i]).into_boxed_str());
            Migration::new(versions[i], NAMES[i], file, sql[i], sum, chain)
                .with_source_id(source_ids[i])
        })
        .collect();
    Migrations::from_static(list.leak())
}

fn set(versions: [migrate::Version; 3], source_ids: [&'static str; 3]) -> Migrations {
    set_of(versions, source_ids, SQL)
}

/// A database file as the tool leaves it: the schema of the migrations it applied
/// (`applied`, run with plain rusqlite) and its history table (`history`).
fn database(sql: &[&str], history: &str) -> TestResult<(tempfile::TempDir, PathBuf)> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("app.db");
    let conn = Connection::open(&path)?;
    for statement in sql {
        conn.execute_batch(statement)?;
    }
    conn.execute_batch(history)?;
    Ok((dir, path))
}

/// Every row of `table`, every column, as stored.
fn rows(conn: &Connection, table: &str) -> TestResult<Vec<Vec<Value>>> {
    let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\" ORDER BY rowid"))?;
    let width = stmt.column_count();
    let rows = stmt
        .query_map([], |r| (0..width).map(|i| r.get::<_, Value>(i)).collect())?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

fn history(conn: &Connection) -> TestResult<Vec<(migrate::Version, String, i64)>> {
    let mut stmt = conn.prepare(
        "SELECT version, applied_at, duration_ms FROM schema_migrations ORDER BY version",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                migrate::Version::from(r.get::<_, i64>(0)?),
                r.get(1)?,
                r.get(2)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

fn applied_at(conn: &Connection, version: migrate::Version) -> TestResult<String> {
    Ok(conn.query_row(
        "SELECT applied_at FROM schema_migrations WHERE version = ?1",
        [i64::try_from(version)?],
        |r| r.get(0),
    )?)
}

/// Runs `set` on the database at `path`, which `tool` migrated (its table `table`),
/// and checks that `imported` were imported, the rest applied, the other table left
/// as it was (under `kept_as` for golang-migrate and dbmate), that a second run
/// changes nothing and that `status` is up to date.
fn imports(
    set: &Migrations,
    path: &Path,
    tool: Layout,
    table: &str,
    kept_as: Option<&str>,
    imported: &[migrate::Version],
) -> TestResult<Connection> {
    let mut conn = Connection::open(path)?;
    let before = rows(&conn, table)?;

    let report = set.run(&mut conn)?;
    let now_named = kept_as.unwrap_or(table);
    assert_eq!(
        report.imported,
        Some(Imported {
            tool,
            table: now_named.to_owned(),
            versions: imported.to_vec(),
        })
    );
    let applied: Vec<migrate::Version> = report
        .applied
        .iter()
        .map(|a| a.migration.version())
        .collect();
    let rest: Vec<migrate::Version> = set
        .iter()
        .map(Migration::version)
        .filter(|v| !imported.contains(v))
        .collect();
    assert_eq!(applied, rest, "only what {tool} had not applied runs");
    assert_eq!(
        rows(&conn, now_named)?,
        before,
        "the {tool} rows are unchanged"
    );
    let recorded = history(&conn)?;
    let versions: Vec<migrate::Version> = recorded.iter().map(|r| r.0).collect();
    let all: Vec<migrate::Version> = set.iter().map(Migration::version).collect();
    assert_eq!(versions, all);
    for (version, _, duration) in &recorded {
        if imported.contains(version) {
            assert_eq!(*duration, 0, "an imported row has no duration");
        }
    }
    let index: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE name = 'posts_user'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(index, 1);

    // Again: nothing to import or apply, and the file is not written.
    let bytes = std::fs::read(path)?;
    let again = set.run(&mut conn)?;
    assert!(again.applied.is_empty());
    assert_eq!(again.imported, None);
    assert_eq!(std::fs::read(path)?, bytes, "a second run writes nothing");
    assert!(set.status(&conn)?.is_up_to_date());
    Ok(conn)
}

/// Runs `set` (with `allow_out_of_order` as given) expecting a refusal, and checks
/// that the database file is byte for byte as it was.
fn refuses(set: &Migrations, path: &Path) -> TestResult<Error> {
    let bytes = std::fs::read(path)?;
    let mut conn = Connection::open(path)?;
    let err = set
        .run(&mut conn)
        .expect_err("the import should be refused");
    drop(conn);
    assert_eq!(std::fs::read(path)?, bytes, "a refusal changes nothing");
    Ok(err)
}

const SQLX_TABLE: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL,
    execution_time BIGINT NOT NULL
);";

#[test]
fn sqlx() -> TestResult {
    let set = set(
        [20240102030405, 20240102030406, 20240102030407],
        ["", "", ""],
    );
    let (_dir, path) = database(
        &SQL[..2],
        &format!(
            "{SQLX_TABLE}
             INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time)
             VALUES (20240102030405, 'create users', '2024-01-02 03:04:05', TRUE, x'8515e9ec', 1200),
                    (20240102030406, 'create posts', '2024-01-02 03:04:06', TRUE, x'026d89ab', 900);"
        ),
    )?;
    let conn = imports(
        &set,
        &path,
        Layout::Sqlx,
        "_sqlx_migrations",
        None,
        &[20240102030405, 20240102030406],
    )?;
    assert_eq!(
        applied_at(&conn, 20240102030405)?,
        "2024-01-02T03:04:05.000Z"
    );
    Ok(())
}

#[test]
fn refinery() -> TestResult {
    let set = set([1, 2, 3], ["1", "2", "3"]);
    let (_dir, path) = database(
        &SQL[..2],
        "CREATE TABLE IF NOT EXISTS refinery_schema_history(
             version INT4 PRIMARY KEY,
             name VARCHAR(255),
             applied_on VARCHAR(255),
             checksum VARCHAR(255));
         INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES
             (1, 'create_users', '2024-01-02T03:04:05.123456789+01:00', '2538125939546318329'),
             (2, 'create_posts', '2024-01-02T03:04:06Z', '9473286534112232713');",
    )?;
    let conn = imports(
        &set,
        &path,
        Layout::Refinery,
        "refinery_schema_history",
        None,
        &[1, 2],
    )?;
    // RFC 3339 with an offset, as refinery writes it, is stored in UTC.
    assert_eq!(applied_at(&conn, 1)?, "2024-01-02T02:04:05.123Z");
    assert_eq!(applied_at(&conn, 2)?, "2024-01-02T03:04:06.000Z");
    Ok(())
}

const DIESEL_TABLE: &str = "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (
    version VARCHAR(50) PRIMARY KEY NOT NULL,
    run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);";

fn diesel_set() -> Migrations {
    set(
        [20240115143022, 20240116000000, 20240117000000],
        [
            "2024-01-15-143022",
            "2024-01-16-000000",
            "2024-01-17-000000",
        ],
    )
}

#[test]
fn diesel() -> TestResult {
    // diesel stores the folder's version without its `-`.
    let (_dir, path) = database(
        &SQL[..2],
        &format!(
            "{DIESEL_TABLE}
             INSERT INTO __diesel_schema_migrations (version, run_on) VALUES
                 ('20240115143022', '2024-01-15 14:31:00'), ('20240116000000', '2024-01-16 00:01:00');"
        ),
    )?;
    let conn = imports(
        &diesel_set(),
        &path,
        Layout::Diesel,
        "__diesel_schema_migrations",
        None,
        &[20240115143022, 20240116000000],
    )?;
    assert_eq!(
        applied_at(&conn, 20240116000000)?,
        "2024-01-16T00:01:00.000Z"
    );
    Ok(())
}

#[test]
fn diesel_versions_match_as_written_too() -> TestResult {
    let (_dir, path) = database(
        &SQL[..2],
        &format!(
            "{DIESEL_TABLE}
             INSERT INTO __diesel_schema_migrations (version) VALUES
                 ('2024-01-15-143022'), ('20240116000000');"
        ),
    )?;
    imports(
        &diesel_set(),
        &path,
        Layout::Diesel,
        "__diesel_schema_migrations",
        None,
        &[20240115143022, 20240116000000],
    )?;
    Ok(())
}

const GOLANG_MIGRATE_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool);
    CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version);";

#[test]
fn golang_migrate_is_kept_under_another_name() -> TestResult {
    let set = set([1, 2, 3], ["", "", ""]);
    // One row: the current version.
    let (_dir, path) = database(
        &SQL[..2],
        &format!(
            "{GOLANG_MIGRATE_TABLE} INSERT INTO schema_migrations (version, dirty) VALUES (2, 0);"
        ),
    )?;
    let conn = imports(
        &set,
        &path,
        Layout::GolangMigrate,
        "schema_migrations",
        Some("schema_migrations_golang_migrate"),
        &[1, 2],
    )?;
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('schema_migrations')")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    assert_eq!(
        columns,
        [
            "version",
            "name",
            "checksum",
            "chain",
            "applied_at",
            "duration_ms"
        ]
    );
    Ok(())
}

#[test]
fn golang_migrate_with_nothing_applied_imports_nothing() -> TestResult {
    let set = set([1, 2, 3], ["", "", ""]);
    let (_dir, path) = database(&[], GOLANG_MIGRATE_TABLE)?;
    imports(
        &set,
        &path,
        Layout::GolangMigrate,
        "schema_migrations",
        Some("schema_migrations_golang_migrate"),
        &[],
    )?;
    Ok(())
}

#[test]
fn dbmate_is_kept_under_another_name() -> TestResult {
    let set = set(
        [20240101120000, 20240101120001, 20240101120002],
        ["20240101120000", "20240101120001", "20240101120002"],
    );
    let (_dir, path) = database(
        &SQL[..2],
        "create table if not exists \"schema_migrations\" (version varchar(128) primary key);
         insert into schema_migrations (version) values ('20240101120000'), ('20240101120001');",
    )?;
    imports(
        &set,
        &path,
        Layout::Dbmate,
        "schema_migrations",
        Some("schema_migrations_dbmate"),
        &[20240101120000, 20240101120001],
    )?;
    Ok(())
}

const GOOSE_TABLE: &str = "CREATE TABLE goose_db_version (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version_id INTEGER NOT NULL,
    is_applied INTEGER NOT NULL,
    tstamp TIMESTAMP DEFAULT (datetime('now'))
);";

#[test]
fn goose_latest_row_of_each_version_decides() -> TestResult {
    let set = set([1, 2, 3], ["", "", ""]);
    // Version 0 is goose's own first row; 3 was applied, then rolled back.
    let (_dir, path) = database(
        &SQL[..2],
        &format!(
            "{GOOSE_TABLE}
             INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES
                 (0, 1, '2024-01-01 00:00:00'), (1, 1, '2024-01-01 00:00:01'),
                 (2, 1, '2024-01-01 00:00:02'), (3, 1, '2024-01-01 00:00:03'),
                 (3, 0, '2024-01-01 00:00:04');"
        ),
    )?;
    let conn = imports(
        &set,
        &path,
        Layout::Goose,
        "goose_db_version",
        None,
        &[1, 2],
    )?;
    assert_eq!(applied_at(&conn, 2)?, "2024-01-01T00:00:02.000Z");
    Ok(())
}

const PRISMA_TABLE: &str = "CREATE TABLE \"_prisma_migrations\" (
    \"id\"                    TEXT PRIMARY KEY NOT NULL,
    \"checksum\"              TEXT NOT NULL,
    \"finished_at\"           DATETIME,
    \"migration_name\"        TEXT NOT NULL,
    \"logs\"                  TEXT,
    \"rolled_back_at\"        DATETIME,
    \"started_at\"            DATETIME NOT NULL DEFAULT current_timestamp,
    \"applied_steps_count\"   INTEGER UNSIGNED NOT NULL DEFAULT 0
);";

fn prisma_set() -> Migrations {
    set(
        [20240101120000, 20240102120000, 20240103120000],
        [
            "20240101120000_create_users",
            "20240102120000_create_posts",
            "20240103120000_index_posts",
        ],
    )
}

#[test]
fn prisma_rolled_back_is_pending() -> TestResult {
    // The second migration failed and was marked rolled back
    // (`prisma migrate resolve --rolled-back`): it runs again.
    let (_dir, path) = database(
        &SQL[..1],
        &format!(
            "{PRISMA_TABLE}
             INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count) VALUES
                 ('a1', 'c1', '2024-01-01T12:00:00.000+00:00', '20240101120000_create_users', NULL, NULL, '2024-01-01T11:59:59.000+00:00', 1),
                 ('a2', 'c2', NULL, '20240102120000_create_posts', 'error', '2024-01-02T13:00:00.000+00:00', '2024-01-02T12:00:00.000+00:00', 0);"
        ),
    )?;
    let conn = imports(
        &prisma_set(),
        &path,
        Layout::Prisma,
        "_prisma_migrations",
        None,
        &[20240101120000],
    )?;
    assert_eq!(
        applied_at(&conn, 20240101120000)?,
        "2024-01-01T12:00:00.000Z"
    );
    Ok(())
}

const DRIZZLE_TABLE: &str = "CREATE TABLE IF NOT EXISTS \"__drizzle_migrations\" (
    id SERIAL PRIMARY KEY,
    hash text NOT NULL,
    created_at numeric
);";

fn drizzle_set() -> Migrations {
    set(
        [1, 2, 3],
        ["1700000000000", "1700000100000", "1700000200000"],
    )
}

#[test]
fn drizzle() -> TestResult {
    let (_dir, path) = database(
        &SQL[..2],
        &format!(
            "{DRIZZLE_TABLE}
             INSERT INTO \"__drizzle_migrations\" (\"hash\", \"created_at\") VALUES
                 ('9f2c', 1700000000000), ('77ab', 1700000100000);"
        ),
    )?;
    imports(
        &drizzle_set(),
        &path,
        Layout::Drizzle,
        "__drizzle_migrations",
        None,
        &[1, 2],
    )?;
    Ok(())
}

#[test]
fn drizzle_counts_every_migration_up_to_the_highest_created_at() -> TestResult {
    // drizzle never runs a journal entry whose `when` is not above the last row's.
    let (_dir, path) = database(
        &SQL[..2],
        &format!(
            "{DRIZZLE_TABLE}
             INSERT INTO \"__drizzle_migrations\" (\"hash\", \"created_at\") VALUES ('77ab', 1700000100000);"
        ),
    )?;
    imports(
        &drizzle_set(),
        &path,
        Layout::Drizzle,
        "__drizzle_migrations",
        None,
        &[1, 2],
    )?;
    Ok(())
}

#[test]
fn a_version_the_set_lacks_is_refused() -> TestResult {
    let set = set([1, 2, 3], ["", "", ""]);
    let (_dir, path) = database(
        &SQL[..2],
        &format!(
            "{SQLX_TABLE}
             INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (1, 'a', TRUE, x'00', 1), (2, 'b', TRUE, x'00', 1), (9, 'newer', TRUE, x'00', 1);"
        ),
    )?;
    match refuses(&set, &path)? {
        Error::ImportUnknown { tool, table, rows } => {
            assert_eq!((tool, table.as_str()), (Layout::Sqlx, "_sqlx_migrations"));
            assert_eq!(rows, ["9"]);
        }
        other => panic!("expected ImportUnknown, got {other:?}"),
    }
    Ok(())
}

#[test]
fn a_dirty_golang_migrate_version_is_refused() -> TestResult {
    let set = set([1, 2, 3], ["", "", ""]);
    let (_dir, path) = database(
        &SQL[..1],
        &format!(
            "{GOLANG_MIGRATE_TABLE} INSERT INTO schema_migrations (version, dirty) VALUES (2, 1);"
        ),
    )?;
    let err = refuses(&set, &path)?;
    match &err {
        Error::ImportUnfinished { tool, rows, .. } => {
            assert_eq!(*tool, Layout::GolangMigrate);
            assert_eq!(rows, &["2 (dirty)"]);
        }
        other => panic!("expected ImportUnfinished, got {other:?}"),
    }
    assert!(err.to_string().contains("nothing was changed"), "{err}");
    Ok(())
}

#[test]
fn a_failed_sqlx_migration_is_refused() -> TestResult {
    let set = set([1, 2, 3], ["", "", ""]);
    let (_dir, path) = database(
        &SQL[..1],
        &format!(
            "{SQLX_TABLE}
             INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (1, 'a', TRUE, x'00', 1), (2, 'b', FALSE, x'00', -1);"
        ),
    )?;
    match refuses(&set, &path)? {
        Error::ImportUnfinished { tool, rows, .. } => {
            assert_eq!(tool, Layout::Sqlx);
            assert_eq!(rows, ["2 (success = false)"]);
        }
        other => panic!("expected ImportUnfinished, got {other:?}"),
    }
    Ok(())
}

#[test]
fn a_prisma_migration_started_but_not_finished_is_refused() -> TestResult {
    let (_dir, path) = database(
        &SQL[..1],
        &format!(
            "{PRISMA_TABLE}
             INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES
                 ('a1', 'c1', '2024-01-01 12:00:00', '20240101120000_create_users', '2024-01-01 12:00:00', 1),
                 ('a2', 'c2', NULL, '20240102120000_create_posts', '2024-01-02 12:00:00', 0);"
        ),
    )?;
    match refuses(&prisma_set(), &path)? {
        Error::ImportUnfinished { tool, rows, .. } => {
            assert_eq!(tool, Layout::Prisma);
            assert_eq!(
                rows,
                ["20240102120000_create_posts (started at 2024-01-02 12:00:00 but not finished)"]
            );
        }
        other => panic!("expected ImportUnfinished, got {other:?}"),
    }
    Ok(())
}

#[test]
fn two_tools_tables_are_refused_and_named() -> TestResult {
    let set = set([1, 2, 3], ["", "", ""]);
    let (_dir, path) = database(
        &SQL[..1],
        &format!(
            "{GOLANG_MIGRATE_TABLE} INSERT INTO schema_migrations (version, dirty) VALUES (1, 0);
             {GOOSE_TABLE} INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1), (1, 1);"
        ),
    )?;
    match refuses(&set, &path)? {
        Error::ImportSeveralTables { tables } => assert_eq!(
            tables,
            [
                "schema_migrations (golang-migrate)",
                "goose_db_version (goose)"
            ]
        ),
        other => panic!("expected ImportSeveralTables, got {other:?}"),
    }
    Ok(())
}

/// A set whose third migration does not need the second.
fn independent_set() -> Migrations {
    set_of(
        [1, 2, 3],
        ["", "", ""],
        [
            SQL[0],
            SQL[1],
            "CREATE TABLE tags (id INTEGER PRIMARY KEY);",
        ],
    )
}

const REFINERY_1_AND_3: &str = "CREATE TABLE refinery_schema_history(
        version INT4 PRIMARY KEY, name VARCHAR(255), applied_on VARCHAR(255), checksum VARCHAR(255));
    INSERT INTO refinery_schema_history VALUES
        (1, 'create_users', '2024-01-02T03:04:05Z', '1'), (3, 'index_posts', '2024-01-03T03:04:05Z', '3');";

#[test]
fn a_gap_is_refused_without_allow_out_of_order() -> TestResult {
    let set = independent_set();
    let (_dir, path) = database(
        &[SQL[0], "CREATE TABLE tags (id INTEGER PRIMARY KEY);"],
        REFINERY_1_AND_3,
    )?;
    match refuses(&set, &path)? {
        Error::ImportOutOfOrder {
            pending, latest, ..
        } => assert_eq!((pending, latest), (vec![2], 3)),
        other => panic!("expected ImportOutOfOrder, got {other:?}"),
    }
    Ok(())
}

#[test]
fn a_gap_is_imported_with_allow_out_of_order() -> TestResult {
    let set = independent_set();
    let (_dir, path) = database(
        &[SQL[0], "CREATE TABLE tags (id INTEGER PRIMARY KEY);"],
        REFINERY_1_AND_3,
    )?;
    let mut conn = Connection::open(&path)?;
    let report = set.runner().allow_out_of_order(true).run(&mut conn)?;
    assert_eq!(report.imported.map(|i| i.versions), Some(vec![1, 3]));
    let applied: Vec<migrate::Version> = report
        .applied
        .iter()
        .map(|a| a.migration.version())
        .collect();
    assert_eq!(applied, [2]);
    assert!(set.status(&conn)?.is_up_to_date());
    assert!(
        set.runner()
            .allow_out_of_order(true)
            .run(&mut conn)?
            .applied
            .is_empty()
    );
    Ok(())
}

#[test]
fn golang_migrate_with_two_rows_is_refused() -> TestResult {
    let set = set([1, 2, 3], ["", "", ""]);
    let (_dir, path) = database(
        &SQL[..2],
        &format!("{GOLANG_MIGRATE_TABLE} INSERT INTO schema_migrations VALUES (1, 0), (2, 0);"),
    )?;
    assert!(matches!(
        refuses(&set, &path)?,
        Error::ImportUnreadable {
            tool: Layout::GolangMigrate,
            ..
        }
    ));
    Ok(())
}

#[test]
fn a_schema_migrations_of_another_shape_is_still_foreign() -> TestResult {
    let set = set([1, 2, 3], ["", "", ""]);
    let (_dir, path) = database(
        &[],
        "CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, migration TEXT NOT NULL);",
    )?;
    assert!(matches!(
        refuses(&set, &path)?,
        Error::ForeignTrackingTable { .. }
    ));
    Ok(())
}

#[test]
fn processes_starting_together_import_once() -> TestResult {
    let set: &'static Migrations = Box::leak(Box::new(set([1, 2, 3], ["", "", ""])));
    let (_dir, path) = database(
        &SQL[..2],
        &format!(
            "{SQLX_TABLE}
             INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (1, 'a', TRUE, x'00', 1), (2, 'b', TRUE, x'00', 1);"
        ),
    )?;
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || -> Result<_, String> {
                let mut conn = Connection::open(path).map_err(|e| e.to_string())?;
                set.run(&mut conn).map_err(|e| e.to_string())
            })
        })
        .collect();
    let mut imported = 0;
    let mut applied = 0;
    for run in runs {
        let report = run.join().expect("no panic")?;
        imported += usize::from(report.imported.is_some());
        applied += report.applied.len();
    }
    assert_eq!((imported, applied), (1, 1));
    let conn = Connection::open(&path)?;
    assert!(set.status(&conn)?.is_up_to_date());
    Ok(())
}
