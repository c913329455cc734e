//! Moving a database from another migration tool: on the first run, the other tool's
//! history table is read and its applied migrations are recorded in `schema_migrations`.
//!
//! [`Migrations::run`](crate::Migrations::run) looks for the tables below when this
//! crate's `schema_migrations` does not exist yet (or is golang-migrate's or dbmate's
//! table of that name). It refuses, changing nothing, a history that does not match the
//! embedded set; otherwise, in one `BEGIN IMMEDIATE` transaction, it records every
//! migration the other tool applied (version, name, checksum and chain from the embedded
//! set; `applied_at` from the other tool's timestamp when it has one, else now;
//! `duration_ms` 0) and names it in [`Report::imported`](crate::Report::imported). The
//! next migrations then run as usual. The other tool's rows are left as they were.
//!
//! | tool | table | applied |
//! |------|-------|---------|
//! | sqlx | `_sqlx_migrations` | each row; `success = false` is refused |
//! | refinery | `refinery_schema_history` | each row |
//! | diesel | `__diesel_schema_migrations` | each row |
//! | golang-migrate | `schema_migrations(version, dirty)` | every migration up to its one row's version; `dirty` is refused |
//! | dbmate | `schema_migrations(version)` | each row |
//! | goose | `goose_db_version` | the latest row of each `version_id` with `is_applied`; version 0 is goose's own |
//! | Prisma | `_prisma_migrations` | `finished_at` set and `rolled_back_at` null; rolled back is pending; started but not finished is refused |
//! | drizzle | `__drizzle_migrations` | each row's `created_at`, and every migration whose journal `when` is not above the highest |
//!
//! golang-migrate and dbmate call their table `schema_migrations`, this crate's name:
//! it is kept, rows unchanged, as `schema_migrations_golang_migrate` or
//! `schema_migrations_dbmate`, in the same transaction.
//!
//! # Examples
//!
//! A database golang-migrate brought to version 1 continues with version 2:
//!
//! ```
//! use migrate_runtime::Layout;
//! use migrate_runtime::{Migration, Migrations, checksum};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sql = ["CREATE TABLE users (id INTEGER PRIMARY KEY)", "CREATE TABLE posts (id INTEGER PRIMARY KEY)"];
//! let one = checksum::chain(&checksum::CHAIN_START, 1, &checksum(sql[0]));
//! let two = checksum::chain(&one, 2, &checksum(sql[1]));
//! let set = Migrations::from_static(Box::leak(Box::new([
//!     Migration::new(1, "users", "1_users.up.sql", sql[0], checksum(sql[0]), one),
//!     Migration::new(2, "posts", "2_posts.up.sql", sql[1], checksum(sql[1]), two),
//! ])));
//!
//! let mut conn = rusqlite::Connection::open_in_memory()?;
//! conn.execute_batch(
//!     "CREATE TABLE users (id INTEGER PRIMARY KEY);
//!      CREATE TABLE schema_migrations (version uint64, dirty bool);
//!      INSERT INTO schema_migrations VALUES (1, false);",
//! )?;
//! let report = set.run(&mut conn)?;
//! let imported = report.imported.expect("golang-migrate's history");
//! assert_eq!(imported.tool, Layout::GolangMigrate);
//! assert_eq!(imported.table, "schema_migrations_golang_migrate");
//! assert_eq!(imported.versions, [1]);
//! assert_eq!(report.applied[0].migration.version(), 2);
//! # Ok(())
//! # }
//! ```

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, MAIN_DB, OptionalExtension, Transaction, TransactionBehavior};

use crate::Layout;
use crate::{Error, Migration, Migrations, Result};

/// The history [`Migrations::run`](crate::Migrations::run) imported from another
/// tool's table on its first run; see [`Report::imported`](crate::Report::imported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The tool whose table was read.
    pub tool: Layout,
    /// That table, as it is named now: unchanged, except golang-migrate's and dbmate's
    /// `schema_migrations`, kept as `schema_migrations_golang_migrate` or
    /// `schema_migrations_dbmate`.
    pub table: String,
    /// The versions recorded as applied in `schema_migrations`, in order.
    pub versions: Vec<crate::Version>,
}

/// A table another tool keeps its history in.
#[derive(Debug, Clone, Copy)]
struct Source {
    tool: Layout,
    /// Its name in the database.
    table: &'static str,
    /// The columns its tool creates that the import reads.
    columns: &'static [&'static str],
}

/// The tables with a name of their own, and the columns each tool creates (that the
/// import reads). Checked against each tool's source:
///
/// - sqlx, `sqlx-sqlite/src/migrate.rs`: `CREATE TABLE IF NOT EXISTS _sqlx_migrations
///   (version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on TIMESTAMP NOT
///   NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, checksum BLOB NOT NULL,
///   execution_time BIGINT NOT NULL)`; `dirty_version` is the first row `WHERE success =
///   false`, and sqlx refuses to migrate while there is one.
/// - refinery, `refinery_core/src/traits/mod.rs`: `refinery_schema_history(version INT4
///   PRIMARY KEY, name VARCHAR(255), applied_on VARCHAR(255), checksum VARCHAR(255))`,
///   a row inserted after each migration, `applied_on` in RFC 3339.
/// - diesel, `diesel_migrations/src/migration/setup_migration_table.sql`:
///   `__diesel_schema_migrations(version VARCHAR(50) PRIMARY KEY NOT NULL, run_on
///   TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`; the version stored is
///   `migrations_internals::version_from_string`: the folder name up to the first `_`,
///   with every `-` removed (`2024-01-15-143022_x` is stored as `20240115143022`).
/// - goose, `internal/dialect/dialectquery/sqlite3.go`: `goose_db_version(id INTEGER
///   PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL,
///   tstamp TIMESTAMP DEFAULT (datetime('now')))`, created with a row for version 0;
///   "the most recent record for each migration specifies whether it has been applied
///   or rolled back" (`ensureDBVersion`, rows read `ORDER BY id DESC`).
/// - Prisma, `sql-schema-connector/src/flavour/sqlite.rs`: `_prisma_migrations(id,
///   checksum, finished_at DATETIME, migration_name, logs, rolled_back_at DATETIME,
///   started_at DATETIME NOT NULL, applied_steps_count)`; `migrate deploy` stops on a
///   row neither finished nor rolled back (a failed migration) and ignores rolled back
///   rows.
/// - drizzle, `drizzle-orm/src/sqlite-core/dialect.ts` (`migrate`):
///   `__drizzle_migrations(id SERIAL PRIMARY KEY, hash text NOT NULL, created_at
///   numeric)`, each row's `created_at` the journal entry's `when` (`folderMillis`);
///   a migration runs only when `when` is above the highest `created_at`.
const NAMED: [Source; 6] = [
    Source {
        tool: Layout::Sqlx,
        table: "_sqlx_migrations",
        columns: &["version", "success", "installed_on"],
    },
    Source {
        tool: Layout::Refinery,
        table: "refinery_schema_history",
        columns: &["version", "applied_on"],
    },
    Source {
        tool: Layout::Diesel,
        table: "__diesel_schema_migrations",
        columns: &["version", "run_on"],
    },
    Source {
        tool: Layout::Goose,
        table: "goose_db_version",
        columns: &["id", "version_id", "is_applied", "tstamp"],
    },
    Source {
        tool: Layout::Prisma,
        table: "_prisma_migrations",
        columns: &[
            "migration_name",
            "finished_at",
            "rolled_back_at",
            "started_at",
        ],
    },
    Source {
        tool: Layout::Drizzle,
        table: "__drizzle_migrations",
        columns: &["created_at"],
    },
];

/// golang-migrate's table, `database/sqlite3/sqlite3.go`: `CREATE TABLE IF NOT EXISTS
/// schema_migrations (version uint64, dirty bool)` with a unique index on `version`.
/// `SetVersion` deletes every row and inserts one: the current version, `dirty` while
/// its migration runs (and after it failed).
const GOLANG_MIGRATE: Source = Source {
    tool: Layout::GolangMigrate,
    table: "schema_migrations",
    columns: &["version", "dirty"],
};

/// dbmate's table, `pkg/driver/sqlite/sqlite.go`: `create table if not exists
/// schema_migrations (version varchar(128) primary key)`, one row per applied migration
/// (inserted in the migration's transaction, deleted on rollback).
const DBMATE: Source = Source {
    tool: Layout::Dbmate,
    table: "schema_migrations",
    columns: &["version"],
};

/// The name golang-migrate's or dbmate's `schema_migrations` is kept under.
fn kept_as(tool: Layout) -> Option<&'static str> {
    match tool {
        Layout::GolangMigrate => Some("schema_migrations_golang_migrate"),
        Layout::Dbmate => Some("schema_migrations_dbmate"),
        _ => None,
    }
}

/// A row of the other tool's table, as that tool reads it.
struct Entry {
    /// How the tool identifies the migration (its version or name, as stored).
    id: String,
    state: State,
    /// When it was applied, as stored; `Null` when the tool keeps no time.
    at: Value,
}

enum State {
    Applied,
    /// Not applied: rolled back, by the tool's own rules.
    Pending,
    /// Neither applied nor rolled back; why, in the tool's words.
    Unfinished(String),
}

/// What the import writes.
struct Plan {
    source: Source,
    /// The migrations to record, in version order, with the tool's timestamp.
    applied: Vec<(&'static Migration, Value)>,
}

/// Imports another tool's history when this is the first run; see the module docs.
/// Called by the runner before it reads `schema_migrations`.
pub(crate) fn import(
    conn: &Connection,
    migrations: &Migrations,
    allow_out_of_order: bool,
) -> Result<Option<Imported>> {
    // Without a lock first: a refusal takes no lock and writes nothing.
    if plan(conn, migrations, allow_out_of_order)?.is_none() {
        return Ok(None);
    }
    if conn
        .is_readonly(MAIN_DB)
        .map_err(|e| Error::from_sqlite(e, conn))?
    {
        return Err(Error::read_only(conn));
    }
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
        .map_err(|e| Error::from_sqlite(e, conn))?;
    // Under the lock again: another process may have imported in between.
    let Some(plan) = plan(&tx, migrations, allow_out_of_order)? else {
        return Ok(None);
    };
    let imported = write(&tx, &plan).map_err(|e| Error::from_sqlite(e, &tx))?;
    tx.commit().map_err(|e| Error::from_sqlite(e, conn))?;
    Ok(Some(imported))
}

/// Finds the other tool's table and checks its history against the embedded set;
/// `None` when there is nothing to import.
fn plan(conn: &Connection, migrations: &Migrations, allow: bool) -> Result<Option<Plan>> {
    let sqlite = |e| Error::from_sqlite(e, conn);
    let Some(source) = find(conn)? else {
        return Ok(None);
    };
    let columns = columns(conn, source.table).map_err(sqlite)?;
    let missing: Vec<&str> = source
        .columns
        .iter()
        .copied()
        .filter(|c| !columns.iter().any(|have| have.eq_ignore_ascii_case(c)))
        .collect();
    if !missing.is_empty() {
        return Err(unreadable(
            source,
            format!(
                "it lacks the column(s) {}, which {} creates",
                missing.join(", "),
                source.tool
            ),
        ));
    }
    if let Some(name) = kept_as(source.tool)
        && table_exists(conn, name).map_err(sqlite)?
    {
        return Err(unreadable(
            source,
            format!(
                "it is to be kept as `{name}` (this crate's table takes the name `schema_migrations`), \
                 but a table of that name exists"
            ),
        ));
    }
    let entries = read(conn, source)?;
    let applied = resolve(source, &entries, migrations)?;
    if !allow && let Some((latest, _)) = applied.last() {
        let skipped: Vec<crate::Version> = migrations
            .iter()
            .filter(|m| m.version() < latest.version())
            .filter(|m| !applied.iter().any(|(a, _)| a.version() == m.version()))
            .map(Migration::version)
            .collect();
        if !skipped.is_empty() {
            return Err(Error::ImportOutOfOrder {
                tool: source.tool,
                table: source.table.to_owned(),
                pending: skipped,
                latest: latest.version(),
            });
        }
    }
    Ok(Some(Plan { source, applied }))
}

/// The other tool's table, on a first run: this crate's `schema_migrations` does not
/// exist, or is golang-migrate's or dbmate's. `None` when there is none, or when
/// `schema_migrations` is this crate's or of a shape the runner reports itself.
fn find(conn: &Connection) -> Result<Option<Source>> {
    let sqlite = |e| Error::from_sqlite(e, conn);
    let mut found = Vec::new();
    if table_exists(conn, "schema_migrations").map_err(sqlite)? {
        let mut columns = columns(conn, "schema_migrations").map_err(sqlite)?;
        for c in &mut columns {
            c.make_ascii_lowercase();
        }
        columns.sort_unstable();
        match columns.as_slice() {
            [d, v] if d == "dirty" && v == "version" => found.push(GOLANG_MIGRATE),
            [v] if v == "version" => found.push(DBMATE),
            // This crate's table (not a first run), or one the runner reports as foreign.
            _ => return Ok(None),
        }
    }
    for source in NAMED {
        if table_exists(conn, source.table).map_err(sqlite)? {
            found.push(source);
        }
    }
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        several => Err(Error::ImportSeveralTables {
            tables: several
                .iter()
                .map(|s| format!("{} ({})", s.table, s.tool))
                .collect(),
        }),
    }
}

fn table_exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
        [name],
        |_| Ok(()),
    )
    .optional()
    .map(|found| found.is_some())
}

fn columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    conn.prepare("SELECT name FROM pragma_table_info(?1)")?
        .query_map([table], |r| r.get(0))?
        .collect()
}

fn unreadable(source: Source, message: String) -> Error {
    Error::ImportUnreadable {
        tool: source.tool,
        table: source.table.to_owned(),
        message,
    }
}

/// The rows of the other tool's table, with that tool's reading of each.
fn read(conn: &Connection, source: Source) -> Result<Vec<Entry>> {
    let sqlite = |e| Error::from_sqlite(e, conn);
    // Each query selects the migration's identifier, the tool's flag (success, dirty,
    // is_applied; NULL when it has none) and when it was applied (NULL when unknown).
    let query = match source.tool {
        Layout::Sqlx => {
            "SELECT version, success, installed_on FROM _sqlx_migrations ORDER BY version"
        }
        Layout::Refinery => {
            "SELECT version, NULL, applied_on FROM refinery_schema_history ORDER BY version"
        }
        Layout::Diesel => {
            "SELECT version, NULL, run_on FROM __diesel_schema_migrations ORDER BY version"
        }
        Layout::GolangMigrate => "SELECT version, dirty, NULL FROM schema_migrations",
        Layout::Dbmate => "SELECT version, NULL, NULL FROM schema_migrations ORDER BY version",
        // The latest row of each version decides: newest first.
        Layout::Goose => {
            "SELECT version_id, is_applied, tstamp FROM goose_db_version ORDER BY id DESC"
        }
        Layout::Prisma => {
            "SELECT migration_name, rolled_back_at, finished_at, started_at \
             FROM _prisma_migrations ORDER BY started_at"
        }
        // `created_at` is when the migration was generated, not applied: no time.
        _ => "SELECT created_at, NULL, NULL FROM __drizzle_migrations ORDER BY created_at",
    };
    let mut stmt = conn.prepare(query).map_err(sqlite)?;
    let mut rows = stmt.query([]).map_err(sqlite)?;
    let mut entries: Vec<Entry> = Vec::new();
    while let Some(row) = rows.next().map_err(sqlite)? {
        let id = text(row.get_ref(0).map_err(sqlite)?);
        let flag = row.get_ref(1).map_err(sqlite)?;
        let at = row.get_ref(2).map_err(sqlite)?;
        let state = match source.tool {
            Layout::Sqlx if !truthy(flag) => State::Unfinished("success = false".to_owned()),
            Layout::GolangMigrate if truthy(flag) => State::Unfinished("dirty".to_owned()),
            Layout::Goose if !truthy(flag) => State::Pending,
            // `flag` is `rolled_back_at`, `at` is `finished_at`.
            Layout::Prisma if flag != ValueRef::Null => State::Pending,
            Layout::Prisma if at == ValueRef::Null => State::Unfinished(format!(
                "started at {} but not finished",
                text(row.get_ref(3).map_err(sqlite)?)
            )),
            _ => State::Applied,
        };
        if source.tool == Layout::Goose && (id == "0" || entries.iter().any(|e| e.id == id)) {
            continue;
        }
        entries.push(Entry {
            id,
            state,
            at: Value::try_from(at).unwrap_or(Value::Null),
        });
    }
    if source.tool == Layout::GolangMigrate && entries.len() > 1 {
        return Err(unreadable(
            source,
            format!(
                "golang-migrate keeps one row, the current version, and this table has {}",
                entries.len()
            ),
        ));
    }
    Ok(entries)
}

/// The embedded migrations the other tool applied, in version order, or the refusal.
fn resolve(
    source: Source,
    entries: &[Entry],
    migrations: &Migrations,
) -> Result<Vec<(&'static Migration, Value)>> {
    let unfinished: Vec<String> = entries
        .iter()
        .filter_map(|e| match &e.state {
            State::Unfinished(why) => Some(format!("{} ({why})", e.id)),
            _ => None,
        })
        .collect();
    if !unfinished.is_empty() {
        return Err(Error::ImportUnfinished {
            tool: source.tool,
            table: source.table.to_owned(),
            rows: unfinished,
        });
    }
    let mut applied: Vec<(&'static Migration, Value)> = Vec::new();
    let mut unknown = Vec::new();
    for entry in entries.iter().filter(|e| matches!(e.state, State::Applied)) {
        match matching(migrations, &entry.id) {
            Some(m) if applied.iter().any(|(a, _)| a.version() == m.version()) => {}
            Some(m) => applied.push((m, entry.at.clone())),
            None => unknown.push(entry.id.clone()),
        }
    }
    if !unknown.is_empty() {
        return Err(Error::ImportUnknown {
            tool: source.tool,
            table: source.table.to_owned(),
            rows: unknown,
        });
    }
    match source.tool {
        // One row, the current version: everything up to it is applied.
        Layout::GolangMigrate => {
            if let Some(current) = applied.first().map(|(m, _)| m.version()) {
                applied = migrations
                    .iter()
                    .filter(|m| m.version() <= current)
                    .map(|m| (m, Value::Null))
                    .collect();
            }
        }
        // drizzle never runs a migration whose `when` is not above the highest
        // `created_at`: it counts as applied, row or not.
        Layout::Drizzle => {
            let highest = entries
                .iter()
                .filter_map(|e| e.id.parse::<crate::Version>().ok())
                .max();
            for m in migrations {
                let when = m.source_id().parse::<crate::Version>().ok();
                if let (Some(when), Some(highest)) = (when, highest)
                    && when <= highest
                    && !applied.iter().any(|(a, _)| a.version() == m.version())
                {
                    applied.push((m, Value::Null));
                }
            }
        }
        _ => {}
    }
    applied.sort_by_key(|(m, _)| m.version());
    Ok(applied)
}

/// The embedded migration the other tool calls `id`: the one whose
/// [`source_id`](Migration::source_id) is `id`; else, comparing as diesel stores
/// versions (up to the first `_`, without `-`), the one whose `source_id` reads the
/// same, or whose version is that number.
fn matching(migrations: &Migrations, id: &str) -> Option<&'static Migration> {
    let key = |s: &str| s.split('_').next().unwrap_or_default().replace('-', "");
    let own = |m: &&Migration| !m.source_id().is_empty();
    if let Some(m) = migrations.iter().filter(own).find(|m| m.source_id() == id) {
        return Some(m);
    }
    let wanted = key(id);
    if wanted.is_empty() {
        return None;
    }
    if let Some(m) = migrations
        .iter()
        .filter(own)
        .find(|m| key(m.source_id()) == wanted)
    {
        return Some(m);
    }
    wanted.parse().ok().and_then(|v| migrations.get(v))
}

/// A stored value as text: numbers in decimal (a whole real without `.0`).
fn text(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".to_owned(),
        ValueRef::Integer(i) => i.to_string(),
        #[expect(
            clippy::cast_possible_truncation,
            reason = "only a whole number within i64 is converted"
        )]
        ValueRef::Real(r) if r.fract() == 0.0 && r.abs() < 9.0e18 => (r as i64).to_string(),
        ValueRef::Real(r) => r.to_string(),
        ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
    }
}

/// A stored boolean as its tool wrote it: a number, or `true`/`false` text.
fn truthy(value: ValueRef<'_>) -> bool {
    match value {
        ValueRef::Null => false,
        ValueRef::Integer(i) => i != 0,
        ValueRef::Real(r) => r != 0.0,
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            let t = String::from_utf8_lossy(t).trim().to_ascii_lowercase();
            !matches!(t.as_str(), "" | "0" | "f" | "false")
        }
    }
}

/// `applied_at` from the other tool's timestamp: text that the SQLite date functions read
/// (`2024-01-15 14:30:22`, RFC 3339 with an offset), or Unix time in seconds or
/// milliseconds; now when there is none.
const INSERT_IMPORTED: &str =
    "INSERT INTO schema_migrations (version, name, checksum, chain, applied_at, duration_ms)
     VALUES (?1, ?2, ?3, ?4, coalesce(
         CASE typeof(?5)
             WHEN 'text' THEN strftime('%Y-%m-%dT%H:%M:%fZ', ?5)
             WHEN 'integer' THEN strftime('%Y-%m-%dT%H:%M:%fZ',
                 CASE WHEN abs(?5) >= 100000000000 THEN ?5 / 1000.0 ELSE ?5 END, 'unixepoch')
             WHEN 'real' THEN strftime('%Y-%m-%dT%H:%M:%fZ',
                 CASE WHEN abs(?5) >= 100000000000 THEN ?5 / 1000.0 ELSE ?5 END, 'unixepoch')
         END,
         strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), 0)";

/// Keeps golang-migrate's or dbmate's table under its new name, creates
/// `schema_migrations` and records the imported migrations, on the open transaction.
fn write(conn: &Connection, plan: &Plan) -> rusqlite::Result<Imported> {
    let mut table = plan.source.table.to_owned();
    if let Some(name) = kept_as(plan.source.tool) {
        conn.execute_batch(&format!("ALTER TABLE schema_migrations RENAME TO {name}"))?;
        name.clone_into(&mut table);
    }
    conn.execute_batch(crate::run::CREATE_TRACKING_TABLE)?;
    let mut insert = conn.prepare(INSERT_IMPORTED)?;
    let mut chain = crate::checksum::CHAIN_START;
    for (m, at) in &plan.applied {
        chain = crate::checksum::chain(&chain, m.version(), m.checksum());
        insert.execute(rusqlite::params![
            crate::run::stored(m.version()),
            m.name(),
            m.checksum_hex(),
            crate::checksum::to_hex(&chain),
            at,
        ])?;
    }
    if let Some(version) = plan
        .applied
        .last()
        .and_then(|(m, _)| i32::try_from(m.version()).ok())
    {
        conn.pragma_update(None, "user_version", version)?;
    }
    Ok(Imported {
        tool: plan.source.tool,
        table,
        versions: plan.applied.iter().map(|(m, _)| m.version()).collect(),
    })
}
