//! Adopting a database made by the SQLite lesson's hand-rolled runner.
//!
//! That runner keeps `schema_migrations(version TEXT PRIMARY KEY, name TEXT,
//! applied_at TEXT)`, written by the migrations themselves: its first migration,
//! `000_create_schema_migrations.sql`, creates the table and inserts
//! `('000', 'create_schema_migrations', …)`, and each later one ends with its own row
//! (`('001', 'create_users', …)`).
//!
//! On the first [`run`](crate::Migrations::run), that table is converted in one
//! `BEGIN IMMEDIATE` transaction: each row is matched to the embedded migration with
//! the same version number **and** name (a mismatch refuses, changing nothing, and
//! lists the rows); the lesson's table is kept, rows unchanged, as
//! `schema_migrations_lesson`; this crate's `schema_migrations` is created with a row
//! per matched migration (checksum and chain from the embedded files, `applied_at`
//! from the lesson's row, `duration_ms` 0). The bootstrap row
//! (`create_schema_migrations`) stands for the table itself and needs no file. The
//! same `run` then applies what is pending.
//!
//! The folder for this crate keeps the lesson's files from `001` on, renamed as its
//! rows name them, without the bootstrap and without the `INSERT INTO
//! schema_migrations` lines (the build refuses any use of the tracking table); the
//! checksums are this crate's, of the files as they are now.

use rusqlite::{Connection, MAIN_DB, OptionalExtension, Transaction, TransactionBehavior};

use crate::run::{CREATE_TRACKING_TABLE, stored};
use crate::{Error, Migration, Migrations, Result, Version};

/// The name the lesson's table is kept under.
pub const KEPT_AS: &str = "schema_migrations_lesson";

/// The bootstrap migration's name, whose row stands for the table itself.
pub const BOOTSTRAP: &str = "create_schema_migrations";

/// What [`Migrations::run`](crate::Migrations::run) did with the lesson's table; see
/// [`Report::adopted`](crate::Report::adopted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adopted {
    /// Where the lesson's rows are kept, unchanged: [`KEPT_AS`].
    pub table: String,
    /// The versions recorded as applied in `schema_migrations`, in order.
    pub versions: Vec<Version>,
}

/// A row of the lesson's table.
struct Row {
    version: String,
    name: String,
    applied_at: Option<String>,
}

/// Converts the lesson's `schema_migrations` when the database has one; see the
/// module docs.
pub(crate) fn adopt(conn: &Connection, migrations: &Migrations) -> Result<Option<Adopted>> {
    // Without a lock first: a database that is not the lesson's is not written.
    if plan(conn, migrations)?.is_none() {
        return Ok(None);
    }
    let sqlite = |e| Error::from_sqlite(e, conn);
    if conn.is_readonly(MAIN_DB).map_err(sqlite)? {
        return Err(Error::read_only(conn));
    }
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate).map_err(sqlite)?;
    let Some(plan) = plan(&tx, migrations)? else {
        return Ok(None);
    };
    let sqlite = |e| Error::from_sqlite(e, &tx);
    tx.execute_batch(&format!(
        "ALTER TABLE schema_migrations RENAME TO {KEPT_AS}; {CREATE_TRACKING_TABLE}"
    ))
    .map_err(sqlite)?;
    let mut chain = crate::checksum::CHAIN_START;
    let mut insert = tx
        .prepare(
            "INSERT INTO schema_migrations (version, name, checksum, chain, applied_at, duration_ms)
             VALUES (?1, ?2, ?3, ?4, coalesce(?5, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), 0)",
        )
        .map_err(sqlite)?;
    for (m, applied_at) in &plan {
        chain = crate::checksum::chain(&chain, m.version(), m.checksum());
        insert
            .execute(rusqlite::params![
                stored(m.version()),
                m.name(),
                m.checksum_hex(),
                crate::checksum::to_hex(&chain),
                applied_at,
            ])
            .map_err(sqlite)?;
    }
    drop(insert);
    if let Some(version) = plan
        .last()
        .and_then(|(m, _)| i32::try_from(m.version()).ok())
    {
        tx.pragma_update(None, "user_version", version)
            .map_err(sqlite)?;
    }
    tx.commit().map_err(|e| Error::from_sqlite(e, conn))?;
    let versions: Vec<Version> = plan.iter().map(|(m, _)| m.version()).collect();
    log::info!(
        target: "migrate",
        "adopted the lesson's schema_migrations: {} migration(s) recorded, its rows kept as {KEPT_AS}",
        versions.len()
    );
    Ok(Some(Adopted {
        table: KEPT_AS.to_owned(),
        versions,
    }))
}

/// The embedded migrations the lesson's table records, each with its `applied_at`;
/// `None` when `schema_migrations` is not the lesson's.
#[allow(clippy::type_complexity, reason = "a private plan, read right below")]
fn plan(
    conn: &Connection,
    migrations: &Migrations,
) -> Result<Option<Vec<(&'static Migration, Option<String>)>>> {
    let sqlite = |e| Error::from_sqlite(e, conn);
    let mut columns: Vec<String> = conn
        .prepare("SELECT lower(name) FROM pragma_table_info('schema_migrations')")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(sqlite)?;
    columns.sort_unstable();
    if columns != ["applied_at", "name", "version"] {
        return Ok(None);
    }
    let rows: Vec<Row> = conn
        .prepare("SELECT CAST(version AS TEXT), name, CAST(applied_at AS TEXT) FROM schema_migrations ORDER BY version")
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok(Row {
                    version: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    name: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    applied_at: r.get(2)?,
                })
            })?
            .collect()
        })
        .map_err(sqlite)?;
    let mut problems = Vec::new();
    let kept_exists = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE name = ?1 COLLATE NOCASE",
            [KEPT_AS],
            |_| Ok(()),
        )
        .optional()
        .map_err(sqlite)?
        .is_some();
    if kept_exists {
        problems.push(format!(
            "the lesson's table is to be kept as `{KEPT_AS}`, but a table of that name exists"
        ));
    }
    let mut matched: Vec<(&'static Migration, Option<String>)> = Vec::new();
    for row in rows {
        let shown = format!("('{}', '{}')", row.version, row.name);
        let Ok(version) = row.version.trim().parse::<Version>() else {
            problems.push(format!("{shown}: the version is not a number"));
            continue;
        };
        match migrations.get(version) {
            Some(m) if m.name() == row.name => matched.push((m, row.applied_at)),
            _ if row.name == BOOTSTRAP => {}
            Some(m) => problems.push(format!(
                "{shown}: the embedded migration {version} is named `{}` ({}); rename the file `{}_{}.sql`",
                m.name(),
                m.file_name(),
                row.version,
                row.name
            )),
            None => problems.push(format!(
                "{shown}: no embedded migration has version {version}"
            )),
        }
    }
    if !problems.is_empty() {
        return Err(Error::AdoptMismatch { rows: problems });
    }
    Ok(Some(matched))
}
