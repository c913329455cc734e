//! The real-world corpus (`tests/corpus`) read in each set's own upstream layout, not
//! renamed: detection picks the tool's layout, the build-time checks run, and the
//! runtime applies the set to a file database with the same result as running the
//! same texts in the tool's order with plain rusqlite.

use std::path::{Path, PathBuf};

use migrate_runtime::check::layout::{self, Layout};
use migrate_runtime::check::{Downs, Options, SourceMigration, check_dir_opts};
use rusqlite::Connection;

/// What checking a set gives today.
#[derive(Debug, Clone, Copy)]
enum Expected {
    /// It validates and applies, with this many migrations.
    Ok(usize),
    /// The diagnostics contain this text; ` … ` separates parts that must each be
    /// there (a column SQLite reports only in some builds sits between them).
    Err(&'static str),
    /// It validates and applies with this many migrations, the ones whose down
    /// scripts fail the proof irreversible (`downs = "lenient"`, the default in
    /// another tool's layout); with `downs = "strict"`, the diagnostics contain this
    /// text. The second number counts the down scripts that fail the proof.
    Downs(usize, usize, &'static str),
}

/// Application functions the build declares: name and number of arguments.
type Functions = &'static [(&'static str, i32)];

/// (set, layout detection picks, application functions, expected outcome)
const SETS: &[(&str, Layout, Functions, Expected)] = &[
    ("atuin/client", Layout::Sqlx, &[], Expected::Ok(12)),
    ("atuin/client-record", Layout::Sqlx, &[], Expected::Ok(3)),
    // sqlx-reversible and golang-migrate read the same; no `-- no-transaction`.
    // Its down file is MySQL (`drop index` in ALTER TABLE): the set builds with that
    // migration irreversible; a strict build rejects it.
    (
        "atuin/scripts",
        Layout::GolangMigrate,
        &[],
        Expected::Downs(
            2,
            1,
            "atuin/scripts/20250402170430_unique_names.down.sql:2: … near \"index\": syntax error",
        ),
    ),
    ("atuin/server-sqlite", Layout::Sqlx, &[], Expected::Ok(7)),
    (
        "screenpipe",
        Layout::Sqlx,
        &[("vec_length", 1)],
        Expected::Ok(50),
    ),
    (
        "trailbase/main",
        Layout::Refinery,
        TRAILBASE,
        Expected::Err("unversioned migration"),
    ),
    (
        "trailbase/base",
        Layout::Refinery,
        TRAILBASE,
        Expected::Err("unversioned migration"),
    ),
    ("trailbase/logs", Layout::Refinery, &[], Expected::Ok(2)),
    ("trailbase/session", Layout::Refinery, &[], Expected::Ok(2)),
    (
        "trailbase/testfixture-main",
        Layout::Refinery,
        TRAILBASE,
        Expected::Err("unversioned migration"),
    ),
    // Down scripts are proven since issue 16: these sets ship downs that do not
    // undo their ups. They build, with those migrations irreversible; a strict
    // build names the first one.
    (
        "vaultwarden",
        Layout::Diesel,
        &[],
        Expected::Downs(
            56,
            1,
            "vaultwarden/2020-08-02-025025_add_favorites_table/down.sql: down script does not undo",
        ),
    ),
    (
        "plume",
        Layout::Diesel,
        &[],
        Expected::Downs(
            37,
            6,
            "plume/2018-10-06-161156_change_default_license/down.sql:38: … near \"SELECT\": syntax error",
        ),
    ),
    ("karakeep", Layout::Drizzle, &[], Expected::Ok(94)),
    (
        "stash",
        Layout::GolangMigrate,
        &[("durationToTinyInt", 1)],
        Expected::Downs(
            75,
            2,
            "stash/1_initial.down.sql: down script does not undo `1_initial.up.sql`",
        ),
    ),
    (
        "pocket-id",
        Layout::GolangMigrate,
        &[("normalize", -1)],
        // its down creates `oidc_clients`, which the up left (renamed from a copy)
        Expected::Downs(
            72,
            10,
            "pocket-id/20240820205521_multiple_callback_urls.down.sql:3: … table oidc_clients already exists",
        ),
    ),
    (
        "pihole-gravity",
        Layout::Sqlx,
        &[],
        Expected::Err(
            "pihole-gravity/1_to_2.sql:1:1: near \".\": syntax error (layout `sqlx`)\n  |\n1 | .timeout 30000\n  | ^\n  = help: `.timeout 30000` is a command of the `sqlite3` shell, not SQL",
        ),
    ),
    // goose down section without `;` between its statements (line 75 where SQLite
    // reports no offset, else 76, where the second statement starts)
    (
        "gophish",
        Layout::Goose,
        &[],
        Expected::Downs(
            25,
            1,
            "gophish/20190105192341_0.8.0_rbac.sql:7 … near \"DROP\": syntax error",
        ),
    ),
    (
        "ncps",
        Layout::Goose,
        &[],
        Expected::Downs(
            21,
            4,
            "ncps/20251230224159_add-cascade-to-nars-fk.sql: down script does not undo",
        ),
    ),
    (
        "securedrop-app",
        Layout::Dbmate,
        &[],
        Expected::Downs(
            12,
            1,
            "securedrop-app/20260511000000_fix_sources_projected_pending_truncation.sql: down script does not undo",
        ),
    ),
    ("pingvin-share", Layout::Prisma, &[], Expected::Ok(24)),
    ("homarr", Layout::Drizzle, &[], Expected::Ok(42)),
];

/// TrailBase's application functions (see `tests/corpus/trailbase/SOURCE.md`).
const TRAILBASE: &[(&str, i32)] = &[
    ("is_uuid_v7", 1),
    ("uuid_v7", 0),
    ("is_uuid", 1),
    ("is_email", 1),
    ("is_json", 1),
    ("jsonschema", 2),
    ("jsonschema", 3),
];

fn corpus(set: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(set)
}

fn shown(ds: &[migrate_runtime::diagnostic::Diagnostic]) -> String {
    ds.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A file database in a fresh temporary folder, with stand-ins for `functions`.
fn database(functions: &[(&str, i32)]) -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let conn = Connection::open(dir.path().join("app.db")).unwrap();
    for &(name, arity) in functions {
        conn.create_scalar_function(
            name,
            arity,
            rusqlite::functions::FunctionFlags::SQLITE_UTF8,
            |_| Ok(rusqlite::types::Null),
        )
        .unwrap();
    }
    (dir, conn)
}

/// Every object (type, name, table), each table's columns, and each table's row count,
/// without the runner's tracking table.
fn schema(conn: &Connection) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT type, name, tbl_name FROM sqlite_schema WHERE tbl_name <> 'schema_migrations' ORDER BY type, name")
        .unwrap();
    let objects: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::new();
    for (kind, name, table) in objects {
        out.push(format!("{kind} {name} on {table}"));
        if kind != "table" {
            continue;
        }
        let mut columns = conn
            .prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)")
            .unwrap();
        let columns: Vec<String> = columns
            .query_map([&name], |r| {
                Ok(format!(
                    "{} {} {} {:?} {}",
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        out.push(format!("  columns {}", columns.join(", ")));
        // virtual tables of a module the connection lacks cannot be counted
        if let Ok(rows) = conn.query_row(
            &format!("SELECT count(*) FROM \"{}\"", name.replace('"', "\"\"")),
            [],
            |r| r.get::<_, i64>(0),
        ) {
            let rows = if name == "sqlite_sequence" {
                conn.query_row(
                    "SELECT count(*) FROM sqlite_sequence WHERE name <> 'schema_migrations'",
                    [],
                    |r| r.get(0),
                )
                .unwrap()
            } else {
                rows
            };
            out.push(format!("  rows {rows}"));
        }
    }
    out
}

/// The texts applied with plain rusqlite in the order read, each in its own
/// transaction unless it runs without one, as the tools do, with foreign keys off (the
/// bundled SQLite turns them on by default; the runner turns them off around each
/// migration).
fn plain(migrations: &[SourceMigration], functions: &[(&str, i32)]) -> Vec<String> {
    let (_dir, conn) = database(functions);
    for m in migrations {
        conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        let result = if m.transaction {
            conn.execute_batch("BEGIN")
                .and_then(|()| conn.execute_batch(&m.sql))
                .and_then(|()| conn.execute_batch("COMMIT"))
        } else {
            conn.execute_batch(&m.sql)
        };
        result.unwrap_or_else(|e| panic!("{}: {e}", m.display_path));
    }
    // Every real set leaves its database intact: the build looks for damage only
    // after a migration that can cause it, and none of these needs to.
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    schema(&conn)
}

/// The set applied by the runtime.
/// Applies the set as the macro embeds it, packed (after checking that it unpacks to
/// the migrations read), twice, and returns the schema.
fn runtime(migrations: Vec<SourceMigration>, functions: &[(&str, i32)]) -> Vec<String> {
    let (_dir, mut conn) = database(functions);
    let count = migrations.len();
    let (text, table) = migrate_runtime::packed::encode(&migrations);
    let set = migrate_runtime::Migrations::from_packed(migrate_runtime::packed::Packed::new(
        count,
        Box::leak(text.into_boxed_str()),
        Box::leak(table.into_boxed_str()),
    ));
    let read = migrate_runtime::Migrations::from_sources(migrations);
    assert_eq!(
        set.as_slice(),
        read.as_slice(),
        "the packed set unpacks as read"
    );
    let report = set.run(&mut conn).unwrap();
    assert_eq!(report.applied.len(), count);
    assert!(set.status(&conn).unwrap().is_up_to_date());
    assert!(
        set.run(&mut conn).unwrap().applied.is_empty(),
        "a second run applies nothing"
    );
    schema(&conn)
}

#[test]
fn every_set_in_its_own_layout() {
    let mut failures = Vec::new();
    for &(set, layout, functions, expected) in SETS {
        let dir = corpus(set);
        assert_eq!(
            layout::detect(&dir, set).ok(),
            Some(layout),
            "{set}: detected layout"
        );
        let detected = check_dir_opts(
            &dir,
            set,
            &Options {
                functions,
                ..Options::default()
            },
        );
        if let Expected::Downs(_, failing, text) = expected {
            // With the proof strict, the build fails at the first bad down script.
            let strict = check_dir_opts(
                &dir,
                set,
                &Options {
                    functions,
                    downs: Downs::Strict,
                    ..Options::default()
                },
            );
            match strict {
                Err(ds) if text.split(" … ").all(|part| shown(&ds).contains(part)) => {}
                got => failures.push(format!(
                    "{set}, downs strict: expected {text:?}, got {}",
                    match got {
                        Ok(ms) => format!("{} migrations", ms.len()),
                        Err(ds) => shown(&ds),
                    }
                )),
            }
            // The first file the strict build names is an irreversible migration's.
            let file = text.split([':', ' ']).next().unwrap_or_default();
            if let Ok(migrations) = &detected {
                let unproven = migrations
                    .iter()
                    .filter(|m| {
                        m.irreversible
                            .as_ref()
                            .is_some_and(|u| u.reason.contains("does not pass the build's proof"))
                    })
                    .count();
                if unproven != failing {
                    failures.push(format!(
                        "{set}: {unproven} down scripts fail the proof, expected {failing}"
                    ));
                }
                let named = migrations.iter().any(|m| {
                    m.irreversible.as_ref().is_some_and(|u| {
                        u.path == corpus("").join(file)
                            && u.reason.contains("does not pass the build's proof")
                    })
                });
                if !named {
                    failures.push(format!("{set}: {file} is not marked irreversible"));
                }
            }
        }
        match (expected, detected) {
            (Expected::Ok(count) | Expected::Downs(count, ..), Ok(migrations)) => {
                orders_and_ids_follow_the_tools(set, &migrations);
                if migrations.len() != count {
                    failures.push(format!(
                        "{set}: {} migrations, expected {count}",
                        migrations.len()
                    ));
                    continue;
                }
                let versions: Vec<migrate_runtime::Version> =
                    migrations.iter().map(|m| m.version).collect();
                assert!(
                    versions.windows(2).all(|w| w[0] < w[1]),
                    "{set}: {versions:?}"
                );
                let expected_schema = plain(&migrations, functions);
                assert_eq!(runtime(migrations, functions), expected_schema, "{set}");
            }
            (Expected::Err(text), Err(ds))
                if text.split(" … ").all(|part| shown(&ds).contains(part)) =>
            {
                // A set whose down scripts fail still reads in the tool's order.
                if let Ok(read) = layout::read(&dir, set, Some(layout)) {
                    orders_and_ids_follow_the_tools(set, &read);
                }
            }
            (expected, got) => failures.push(format!(
                "{set}: expected {expected:?}, got {}",
                match got {
                    Ok(ms) => format!("{} migrations", ms.len()),
                    Err(ds) => shown(&ds),
                }
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The order each tool gives, where file-name order would be wrong, and the ids.
fn orders_and_ids_follow_the_tools(set: &str, read: &[SourceMigration]) {
    match set {
        "stash" => stash(read),
        "vaultwarden" => vaultwarden(read),
        "homarr" => homarr(read),
        "pocket-id" => pocket_id(read),
        "ncps" => ncps(read),
        "pingvin-share" => pingvin(read),
        _ => {}
    }
}

/// golang-migrate: numeric, unpadded.
fn stash(stash: &[SourceMigration]) {
    assert_eq!(
        stash[..3].iter().map(|m| m.version).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(stash[29].file_name, "30_ignore_autotag.up..sql");
}

/// diesel: `2024-03-13_170000_…` sorts by its time, and keeps diesel's version as its id.
fn vaultwarden(vaultwarden: &[SourceMigration]) {
    let quirk = vaultwarden
        .iter()
        .position(|m| m.source_id == "2024-03-13")
        .unwrap();
    assert_eq!(vaultwarden[quirk].version, 20_240_313_170_000);
    assert!(vaultwarden[quirk - 1].source_id.as_str() < "2024-03-13");
    assert_eq!(vaultwarden[0].source_id, "2018-01-14-171611");
    // the comment-only diesel ups are kept, with nothing to run
    assert!(
        vaultwarden
            .iter()
            .any(|m| migrate_runtime::sql::statements(&m.sql).is_empty())
    );
}

/// drizzle: the journal's `when` is the id; files stepping out of the transaction keep it.
fn homarr(homarr: &[SourceMigration]) {
    assert_eq!(homarr[0].source_id, "1715334238443");
    assert!(homarr.iter().all(|m| m.transaction));
}

/// pocket-id's files bring their own BEGIN/COMMIT.
fn pocket_id(pocket: &[SourceMigration]) {
    assert!(pocket.iter().filter(|m| !m.transaction).count() >= 71);
}

/// goose: NO TRANSACTION, and only the Up section runs, at its file lines.
fn ncps(ncps: &[SourceMigration]) {
    assert_eq!(ncps.iter().filter(|m| !m.transaction).count(), 2);
    assert!(ncps.iter().all(|m| !m.sql.contains("+goose")));
}

/// Prisma: the folder name is the id.
fn pingvin(pingvin: &[SourceMigration]) {
    assert_eq!(pingvin[0].source_id, "20221011172612_init");
    assert_eq!(pingvin[0].file_name, "20221011172612_init/migration.sql");
}

/// Every file of the shared corpus is in this crate's copy (CI has only the repository).
#[test]
fn the_copy_is_complete() {
    let shared = Path::new("/work/shared/corpus");
    if !shared.is_dir() {
        return;
    }
    fn files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut all = Vec::new();
    files(shared, shared, &mut all);
    for file in all {
        assert_eq!(
            std::fs::read(shared.join(&file)).unwrap(),
            std::fs::read(corpus("").join(&file)).unwrap_or_default(),
            "{}",
            file.display()
        );
    }
}

#[test]
fn the_build_cache_changes_nothing_on_real_sets() {
    // Each real set, in its own layout, checked with an empty cache, then from what
    // that check wrote: the output is the full check's, migration for migration.
    let cache = tempfile::tempdir().expect("cache folder");
    for &(set, _, functions, _) in SETS {
        let dir = corpus(set);
        let check = |cache: Option<&Path>| {
            format!(
                "{:#?}",
                check_dir_opts(
                    &dir,
                    set,
                    &Options {
                        functions,
                        cache,
                        ..Options::default()
                    },
                )
            )
        };
        let full = check(None);
        assert_eq!(check(Some(cache.path())), full, "{set}, empty cache");
        assert_eq!(check(Some(cache.path())), full, "{set}, from the cache");
    }
    let entries = std::fs::read_dir(cache.path()).expect("cache").count();
    assert!(entries > 0, "the checks wrote entries");
}

/// The classification of every real set that builds: how many changes of each kind,
/// in kind order. A change to the classification shows here as a diff.
const CLASSIFIED: &[(&str, &str)] = &[
    (
        "atuin/client",
        "create-table 2, add-column 5, create-index 8, drop-index 1, drop-table 1",
    ),
    ("atuin/client-record", "create-table 2, create-index 5"),
    (
        "atuin/scripts",
        "create-table 2, create-index 2, tighten-column 1",
    ),
    (
        "atuin/server-sqlite",
        "create-table 6, create-index 5, drop-table 1, drop-column 1",
    ),
    (
        "screenpipe",
        "create-table 29, add-column 60, create-index 82, create-trigger 23, drop-index 26, change-trigger 6, loosen-column 7, drop-column 8, drop-trigger 11, rename-column 1, tighten-column 16",
    ),
    (
        "trailbase/logs",
        "create-table 1, add-column 1, create-index 4, drop-index 1, loosen-column 1, drop-column 2, tighten-column 2",
    ),
    ("trailbase/session", "create-table 3, create-index 4"),
    (
        "vaultwarden",
        "create-table 29, add-column 37, loosen-column 3, drop-table 1, drop-column 2, rename-column 8, tighten-column 5",
    ),
    (
        "plume",
        "create-table 24, add-column 12, create-index 5, drop-column 2, rename-column 1, tighten-column 33",
    ),
    (
        "karakeep",
        "create-table 36, add-column 80, create-index 81, drop-index 15, loosen-column 1, drop-table 2, drop-column 5, rename-table 2, rename-column 3, tighten-column 1",
    ),
    (
        "stash",
        "create-table 58, add-column 74, create-index 100, drop-index 40, loosen-column 3, drop-table 2, drop-column 48, rename-table 4, rename-column 5, tighten-column 39",
    ),
    (
        "pocket-id",
        "create-table 31, add-column 42, create-index 32, drop-index 2, loosen-column 7, drop-table 9, drop-column 6, rename-table 1, tighten-column 31",
    ),
    ("gophish", "create-table 19, add-column 22, rename-column 2"),
    (
        "ncps",
        "create-table 13, add-column 21, create-index 34, drop-index 11, drop-table 1, tighten-column 20",
    ),
    (
        "securedrop-app",
        "create-table 6, add-column 3, create-index 6, create-view 4, create-trigger 3, change-view 6",
    ),
    (
        "pingvin-share",
        "create-table 11, add-column 15, create-index 8, drop-index 1, loosen-column 3, drop-column 5, rename-column 1, tighten-column 5",
    ),
    (
        "homarr",
        "create-table 35, add-column 27, create-index 13, drop-index 1, loosen-column 3, drop-column 11, rename-column 25, tighten-column 6",
    ),
];

#[test]
fn the_real_sets_classifications_are_kept() {
    let mut got = Vec::new();
    for &(set, _, functions, expected) in SETS {
        if matches!(expected, Expected::Err(_)) {
            continue;
        }
        let migrations = check_dir_opts(
            &corpus(set),
            set,
            &Options {
                functions,
                ..Options::default()
            },
        )
        .unwrap_or_else(|ds| panic!("{set}: {}", shown(&ds)));
        let mut counts = std::collections::BTreeMap::new();
        for change in migrations.iter().flat_map(|m| &m.changes) {
            *counts.entry(change.kind).or_insert(0) += 1;
        }
        let counts: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
        got.push((set.to_owned(), counts.join(", ")));
    }
    let shown: Vec<String> = got
        .iter()
        .map(|(s, c)| format!("    (\"{s}\", \"{c}\"),"))
        .collect();
    let expected: Vec<(String, String)> = CLASSIFIED
        .iter()
        .map(|(s, c)| ((*s).to_owned(), (*c).to_owned()))
        .collect();
    assert_eq!(got, expected, "\n{}", shown.join("\n"));
}

/// Copies the folder `from` into `to`, sub-folders included.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn edits_of_real_sets_check_the_same_with_and_without_the_cache() {
    // Each real set that builds, copied, in its own layout: after a build filled
    // the cache, its newest file edited, then removed, then put back, its middle and
    // its first file edited. Each state is checked without the cache, then with the
    // entry the previous states left (a checkpoint before the newest migration,
    // restored on real schemas with their triggers and foreign keys): the output is
    // the same, migration for migration, diagnostic for diagnostic.
    for &(set, _, functions, expected) in SETS {
        if matches!(expected, Expected::Err(_)) {
            continue;
        }
        let copy = tempfile::tempdir().expect("copy");
        let dir = copy.path().join("migrations");
        copy_dir(&corpus(set), &dir);
        let cache = tempfile::tempdir().expect("cache folder");
        let check = |cache: Option<&Path>| {
            let options = Options {
                functions,
                cache,
                ..Options::default()
            };
            format!("{:#?}", check_dir_opts(&dir, set, &options))
        };
        let built = check_dir_opts(
            &dir,
            set,
            &Options {
                functions,
                cache: Some(cache.path()),
                ..Options::default()
            },
        )
        .unwrap_or_else(|ds| panic!("{set}: {}", shown(&ds)));
        let file = |i: usize| built[i].path.clone();
        let (newest, middle, first) = (file(built.len() - 1), file(built.len() / 2), file(0));
        let original = std::fs::read(&newest).unwrap();
        let append = |path: &Path| {
            let mut text = std::fs::read(path).unwrap();
            text.extend_from_slice(b"\n-- edited by the test\n");
            std::fs::write(path, text).unwrap();
        };
        let compare = |state: &str| {
            let full = check(None);
            assert_eq!(check(Some(cache.path())), full, "{set}, {state}");
        };
        append(&newest);
        compare("the newest file edited");
        std::fs::remove_file(&newest).unwrap();
        compare("the newest file removed");
        std::fs::write(&newest, &original).unwrap();
        compare("the newest file put back");
        append(&middle);
        compare("a middle file edited");
        append(&first);
        compare("the first file edited");
    }
}
