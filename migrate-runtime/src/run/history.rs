//! The tracking table, `schema_migrations`: its shape, its rows, and the chain stored
//! with each.

use rusqlite::{Connection, OptionalExtension};

use crate::{Error, Migration, Migrations, Result};

/// The table in which the runtime records applied migrations.
///
/// One row per applied migration: `version` (an integer; a version beyond 64 bits,
/// such as a 20-digit timestamp, as 39-digit zero-padded decimal text, which sorts
/// after every integer and among itself in numeric order), `name`, `checksum` and
/// `chain` (lowercase hexadecimal), `applied_at` (UTC, ISO 8601) and `duration_ms`.
/// The table is keyed by `version` (`WITHOUT ROWID`), so the startup check reads the
/// highest one with one index descent.
pub const TRACKING_TABLE: &str = "schema_migrations";

/// The columns of `schema_migrations`, in the order `read_history` selects them.
pub(super) const TRACKING_COLUMNS: [&str; 6] = [
    "version",
    "name",
    "checksum",
    "chain",
    "applied_at",
    "duration_ms",
];

pub(crate) const CREATE_TRACKING_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    chain TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    duration_ms INTEGER NOT NULL
) WITHOUT ROWID";

/// A version as stored in `schema_migrations`: an integer when it fits in 64 bits,
/// else 39-digit zero-padded decimal text (so that versions sort in numeric order).
pub(crate) fn stored(version: crate::Version) -> rusqlite::types::Value {
    match i64::try_from(version) {
        Ok(v) => rusqlite::types::Value::Integer(v),
        Err(_) => rusqlite::types::Value::Text(format!("{version:039}")),
    }
}

/// A version read back from `schema_migrations` (see [`stored`]).
pub(crate) fn read_version(
    value: rusqlite::types::ValueRef<'_>,
) -> rusqlite::Result<crate::Version> {
    use rusqlite::types::{FromSqlError, ValueRef};
    match value {
        ValueRef::Integer(v) => Ok(crate::Version::from(v)),
        ValueRef::Text(t) => std::str::from_utf8(t)
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    0,
                    rusqlite::types::Type::Text,
                    Box::new(FromSqlError::InvalidType),
                )
            }),
        other => Err(rusqlite::Error::FromSqlConversionFailure(
            0,
            other.data_type(),
            Box::new(FromSqlError::InvalidType),
        )),
    }
}

/// The applied migration with the highest version: the one row the startup check reads.
pub(super) const READ_TIP: &str =
    "SELECT version, chain FROM schema_migrations ORDER BY version DESC LIMIT 1";

pub(super) const INSERT_APPLIED: &str =
    "INSERT INTO schema_migrations (version, name, checksum, chain, applied_at, duration_ms)
     VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?5)";

/// A row of `schema_migrations`: a migration applied to the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    /// The migration's version.
    pub version: crate::Version,
    /// Its name when it was applied.
    pub name: String,
    /// Its checksum when it was applied, in lowercase hexadecimal.
    pub checksum: String,
    /// The [chain](crate::checksum::chain) over the applied migrations up to and
    /// including this one, in lowercase hexadecimal.
    pub chain: String,
    /// When it was applied, UTC, ISO 8601 (`2026-11-25T12:00:00.123Z`).
    pub applied_at: String,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
}

/// The highest applied version and its chain, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Tip {
    pub(super) version: crate::Version,
    pub(super) chain: Option<[u8; 32]>,
}

/// The highest applied version and its chain; `None` when nothing is applied.
pub(super) fn read_tip(conn: &Connection) -> rusqlite::Result<Option<Tip>> {
    let mut stmt = conn.prepare_cached(READ_TIP)?;
    stmt.query_row([], |row| {
        let chain = match row.get_ref(1)? {
            rusqlite::types::ValueRef::Text(hex) => std::str::from_utf8(hex)
                .ok()
                .and_then(crate::checksum::from_hex),
            _ => None,
        };
        Ok(Tip {
            version: read_version(row.get_ref(0)?)?,
            chain,
        })
    })
    .optional()
}

impl Tip {
    pub(super) fn of(applied: &AppliedMigration) -> Self {
        Self {
            version: applied.version,
            chain: crate::checksum::from_hex(&applied.chain),
        }
    }
}

/// Writes `migration`'s row in `schema_migrations` (and `user_version`) on the open
/// transaction, and returns the new tip.
///
/// In version order, on a history whose tip carries the embedded chain, the row's chain
/// continues the tip's. Otherwise (a migration applied out of order lands below the
/// tip; a stored chain was damaged) every stored chain is computed again from the
/// embedded checksums, which the caller has verified against the stored ones.
pub(super) fn record(
    conn: &Connection,
    migrations: &Migrations,
    migration: &Migration,
    tip: Option<&Tip>,
    duration: std::time::Duration,
) -> rusqlite::Result<Tip> {
    let continues = match tip {
        None => Some(crate::checksum::CHAIN_START),
        Some(t) if t.version < migration.version() => t
            .chain
            .filter(|c| migrations.get(t.version).is_some_and(|m| m.chain() == c)),
        Some(_) => None,
    };
    let chain = continues.map_or([0; 32], |previous| {
        crate::checksum::chain(&previous, migration.version(), migration.checksum())
    });
    conn.prepare_cached(INSERT_APPLIED)?
        .execute(rusqlite::params![
            stored(migration.version()),
            migration.name(),
            migration.checksum_hex(),
            crate::checksum::to_hex(&chain),
            i64::try_from(duration.as_millis()).unwrap_or(i64::MAX),
        ])?;
    let tip = match continues {
        Some(_) => Tip {
            version: migration.version(),
            chain: Some(chain),
        },
        None => rechain(conn, migrations)?,
    };
    if let Ok(version) = i32::try_from(tip.version) {
        conn.pragma_update(None, "user_version", version)?;
    }
    Ok(tip)
}

/// Computes every stored chain again, in version order, from the embedded checksums.
pub(super) fn rechain(conn: &Connection, migrations: &Migrations) -> rusqlite::Result<Tip> {
    let versions: Vec<crate::Version> = conn
        .prepare("SELECT version FROM schema_migrations ORDER BY version")?
        .query_map([], |r| read_version(r.get_ref(0)?))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = conn.prepare("UPDATE schema_migrations SET chain = ?2 WHERE version = ?1")?;
    let mut chain = crate::checksum::CHAIN_START;
    for &version in &versions {
        // Every applied version is embedded: `verify` refused unknown ones.
        let checksum = migrations.get(version).map_or([0; 32], |m| *m.checksum());
        chain = crate::checksum::chain(&chain, version, &checksum);
        update.execute(rusqlite::params![
            stored(version),
            crate::checksum::to_hex(&chain)
        ])?;
    }
    Ok(Tip {
        version: versions.last().copied().unwrap_or(0),
        chain: Some(chain),
    })
}

/// The rows of `schema_migrations` by version; empty when the table does not exist.
pub(super) fn read_history(conn: &Connection) -> Result<Vec<AppliedMigration>> {
    let sqlite = |e| Error::from_sqlite(e, conn);
    let exists = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [TRACKING_TABLE],
            |_| Ok(()),
        )
        .optional()
        .map_err(sqlite)?
        .is_some();
    if !exists {
        return Ok(Vec::new());
    }
    let mut stmt = conn
        .prepare(
            "SELECT version, name, checksum, chain, applied_at, duration_ms FROM schema_migrations ORDER BY version",
        )
        .map_err(|e| foreign_table(conn).unwrap_or_else(|| Error::from_sqlite(e, conn)))?;
    let rows = stmt
        .query_map([], |row| {
            Ok(AppliedMigration {
                version: read_version(row.get_ref(0)?)?,
                name: row.get(1)?,
                checksum: row.get(2)?,
                // Only the quick check trusts the chain: an unreadable one is no error.
                chain: row.get_ref(3)?.as_str().unwrap_or_default().to_owned(),
                applied_at: row.get(4)?,
                duration_ms: row.get(5)?,
            })
        })
        .map_err(sqlite)?;
    rows.collect::<rusqlite::Result<_>>().map_err(sqlite)
}

/// When `schema_migrations` lacks this crate's columns (another tool made it), says so.
pub(super) fn foreign_table(conn: &Connection) -> Option<Error> {
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info('schema_migrations')")
        .ok()?;
    let columns: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .ok()?
        .collect::<rusqlite::Result<_>>()
        .ok()?;
    let missing = TRACKING_COLUMNS
        .iter()
        .any(|c| !columns.iter().any(|have| have.eq_ignore_ascii_case(c)));
    missing.then_some(Error::ForeignTrackingTable { columns })
}
