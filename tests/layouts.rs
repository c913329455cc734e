//! One small folder per layout of another tool (`tests/layouts/<layout>/`), embedded
//! with `migrations!(…, layout = "…")` and applied to a file database.

use migrate::Migrations;
use migrate::rusqlite::Connection;

static SQLX: Migrations = migrate::migrations!("tests/layouts/sqlx", layout = "sqlx");
static GOLANG_MIGRATE: Migrations =
    migrate::migrations!("tests/layouts/golang-migrate", layout = "golang-migrate");
static REFINERY: Migrations = migrate::migrations!("tests/layouts/refinery", layout = "refinery");
static DIESEL: Migrations = migrate::migrations!("tests/layouts/diesel", layout = "diesel");
static GOOSE: Migrations = migrate::migrations!("tests/layouts/goose", layout = "goose");
static DBMATE: Migrations = migrate::migrations!("tests/layouts/dbmate", layout = "dbmate");
static PRISMA: Migrations = migrate::migrations!("tests/layouts/prisma", layout = "prisma");
static DRIZZLE: Migrations = migrate::migrations!("tests/layouts/drizzle", layout = "drizzle");

/// The same folders, their layout detected.
static DETECTED: [Migrations; 8] = [
    migrate::migrations!("tests/layouts/sqlx"),
    migrate::migrations!("tests/layouts/golang-migrate"),
    migrate::migrations!("tests/layouts/refinery"),
    migrate::migrations!("tests/layouts/diesel"),
    migrate::migrations!("tests/layouts/goose"),
    migrate::migrations!("tests/layouts/dbmate"),
    migrate::migrations!("tests/layouts/prisma"),
    migrate::migrations!("tests/layouts/drizzle"),
];

/// What a set gives: versions, which run in a transaction, source ids, and the
/// database's tables, indexes and triggers after `run`.
struct Outcome {
    versions: Vec<migrate::Version>,
    transactions: Vec<bool>,
    source_ids: Vec<&'static str>,
    objects: Vec<String>,
}

fn apply(set: &Migrations) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Connection::open(dir.path().join("app.db")).unwrap();
    let report = set.run(&mut conn).unwrap();
    assert_eq!(report.applied.len(), set.len());
    assert!(set.run(&mut conn).unwrap().applied.is_empty());
    let mut stmt = conn
        .prepare("SELECT type || ' ' || name FROM sqlite_schema WHERE name NOT LIKE '%schema_migrations%' AND name NOT LIKE 'sqlite_%' ORDER BY 1")
        .unwrap();
    let objects = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    Outcome {
        versions: set.iter().map(migrate::Migration::version).collect(),
        transactions: set
            .iter()
            .map(migrate::Migration::runs_in_transaction)
            .collect(),
        source_ids: set.iter().map(migrate::Migration::source_id).collect(),
        objects,
    }
}

#[test]
fn sqlx_orders_numbers_as_numbers_and_reads_no_transaction() {
    let o = apply(&SQLX);
    // `99_` before `999_` before `1000_`; the empty file is kept
    assert_eq!(o.versions, [1, 99, 999, 1000, 1001]);
    assert_eq!(o.transactions, [true, true, false, true, true]);
    assert_eq!(o.source_ids, ["1", "99", "999", "1000", "1001"]);
    assert_eq!(SQLX.get(1000).unwrap().sql(), "");
    // the SQLite sibling of a file written for Postgres
    assert_eq!(SQLX.get(1001).unwrap().file_name(), "1001_bio.sqlite.sql");
    assert_eq!(o.objects, ["table users"]);
}

#[test]
fn golang_migrate_picks_the_sqlite_variant_and_leaves_own_transactions_alone() {
    let o = apply(&GOLANG_MIGRATE);
    assert_eq!(o.versions, [1, 2, 10]);
    assert_eq!(o.transactions, [true, true, false]);
    assert_eq!(
        GOLANG_MIGRATE.get(2).unwrap().file_name(),
        "2_users.sqlite3.up.sql"
    );
    assert_eq!(o.objects, ["table accounts", "table audit", "table users"]);
}

#[test]
fn refinery_allows_gaps() {
    let o = apply(&REFINERY);
    assert_eq!(o.versions, [1, 3, 10]);
    assert_eq!(
        o.objects,
        ["index posts_user", "table posts", "table users"]
    );
}

#[test]
fn diesel_compares_its_three_version_formats_as_numbers() {
    let o = apply(&DIESEL);
    assert_eq!(
        o.versions,
        [
            0,
            201_812_081_829_300_000,
            201_812_081_829_300_001,
            201_901_010_000_000_000,
            202_403_131_700_000_000
        ]
    );
    assert_eq!(
        o.source_ids,
        [
            "00000000000000",
            "2018-12-08-182930",
            "2018-12-08-182930-0001",
            "2019-01-01-000000",
            "2024-03-13"
        ]
    );
    // metadata.toml's `run_in_transaction = false`
    assert_eq!(o.transactions, [true, true, true, false, true]);
    assert_eq!(o.objects, ["table posts", "table tags", "table users"]);
}

#[test]
fn goose_runs_the_up_section_only() {
    let o = apply(&GOOSE);
    assert_eq!(o.versions, [1, 2, 20_240_101_120_000]);
    assert_eq!(o.transactions, [true, false, true]);
    let first = GOOSE.get(1).unwrap().sql();
    assert!(!first.contains("DROP TABLE"), "{first}");
    assert_eq!(
        first.lines().nth(2).unwrap().trim(),
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, updated INTEGER);"
    );
    assert_eq!(o.objects, ["table users", "trigger users_touch"]);
}

#[test]
fn dbmate_reads_transaction_false() {
    let o = apply(&DBMATE);
    assert_eq!(
        o.versions,
        [20_240_101_000_000, 20_240_102_000_000, 20_240_103_000_000]
    );
    assert_eq!(o.transactions, [true, false, true]);
    assert_eq!(o.objects, ["index users_email", "table users"]);
}

#[test]
fn prisma_names_migrations_by_folder() {
    let o = apply(&PRISMA);
    assert_eq!(
        o.source_ids,
        ["20240101000000_init", "20240102000000_posts"]
    );
    assert_eq!(
        PRISMA.get(20_240_101_000_000).unwrap().file_name(),
        "20240101000000_init/migration.sql"
    );
    assert_eq!(
        o.objects,
        ["index User_email_key", "table Post", "table User"]
    );
}

#[test]
fn drizzle_follows_its_journal() {
    let o = apply(&DRIZZLE);
    assert_eq!(o.versions, [0, 1, 2]);
    assert_eq!(
        DRIZZLE
            .iter()
            .map(migrate::Migration::file_name)
            .collect::<Vec<_>>(),
        ["0000_users.sql", "0002_rename_tags.sql", "0001_posts.sql"]
    );
    assert_eq!(
        o.source_ids,
        ["1715334238443", "1715871797713", "1715973963014"]
    );
    // `COMMIT; … BEGIN;` steps out of the runner's transaction and back in
    assert_eq!(o.transactions, [true, true, true]);
    assert_eq!(
        o.objects,
        [
            "index posts_tag",
            "table labels",
            "table posts",
            "table users"
        ]
    );
}

#[test]
fn detection_reads_each_folder_as_declared() {
    let declared = [
        &SQLX,
        &GOLANG_MIGRATE,
        &REFINERY,
        &DIESEL,
        &GOOSE,
        &DBMATE,
        &PRISMA,
        &DRIZZLE,
    ];
    for (detected, declared) in DETECTED.iter().zip(declared) {
        assert_eq!(detected.as_slice(), declared.as_slice());
    }
}
