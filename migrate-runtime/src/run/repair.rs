//! Rewriting the history without running migrations: `baseline` (a database that
//! already has the schema) and `repair` (an applied migration edited on purpose).

use std::time::Duration;

use rusqlite::{Connection, MAIN_DB, Transaction, TransactionBehavior};

use super::history::{CREATE_TRACKING_TABLE, read_history, read_tip, read_version, record, stored};
use super::status::compare;
use super::{Runner, Tip};
use crate::{Error, Migrations, Result, Version};

/// What [`Runner::baseline`] recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baselined {
    /// The versions recorded as applied, in order (empty when all were already).
    pub versions: Vec<Version>,
}

/// What [`Migrations::repair`] changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired {
    /// The version.
    pub version: Version,
    /// The checksum recorded before, in lowercase hexadecimal.
    pub old_checksum: String,
    /// The embedded migration's checksum, recorded now.
    pub new_checksum: String,
}

impl Runner<'_> {
    /// Records the migrations up to and including `version` as applied without
    /// running them, for a database that already has their schema (made by hand, or
    /// by another tool whose history is gone). The rows get `duration_ms` 0.
    ///
    /// The database's schema is first compared with the one those migrations produce
    /// on an empty in-memory database (tables, indexes, views and triggers, in
    /// canonical form); any difference refuses, changing nothing.
    ///
    /// # Errors
    ///
    /// [`Error::BaselineMismatch`] listing the differences; [`Error::BadVersion`] when no
    /// embedded migration has that version or a later one is applied; what
    /// [`run`](Self::run) refuses before applying ([`Error::Modified`]…); the
    /// in-memory run's error when the migrations themselves fail.
    pub fn baseline(&self, conn: &mut Connection, version: Version) -> Result<Baselined> {
        let conn: &Connection = conn;
        let sqlite = |e| Error::from_sqlite(e, conn);
        let all = self.migrations.as_slice();
        let Some(index) = all.iter().position(|m| m.version() == version) else {
            return Err(Error::BadVersion {
                version,
                message: format!(
                    "no embedded migration has version {version}; {}",
                    versions_hint(self.migrations)
                ),
            });
        };
        let status = compare(self.migrations, read_history(conn)?);
        self.verify(&status)?;
        if let Some(latest) = status.version().filter(|&v| v > version) {
            return Err(Error::BadVersion {
                version,
                message: format!(
                    "migration {latest} is already applied, after version {version}: a baseline only records migrations below what is applied"
                ),
            });
        }
        let upto = Migrations::from_static(&all[..=index]);
        let mut memory = Connection::open_in_memory().map_err(Error::Sqlite)?;
        upto.run(&mut memory)?;
        let expected = crate::schema::objects(&memory).map_err(Error::Sqlite)?;
        let actual = crate::schema::objects(conn).map_err(sqlite)?;
        let differences = crate::schema::differences(&actual, &expected);
        if !differences.is_empty() {
            return Err(Error::BaselineMismatch {
                version,
                differences,
            });
        }
        let pending: Vec<_> = status
            .pending
            .iter()
            .filter(|m| m.version() <= version)
            .copied()
            .collect();
        if pending.is_empty() {
            return Ok(Baselined {
                versions: Vec::new(),
            });
        }
        if conn.is_readonly(MAIN_DB).map_err(sqlite)? {
            return Err(Error::read_only(conn));
        }
        let tx =
            Transaction::new_unchecked(conn, TransactionBehavior::Immediate).map_err(sqlite)?;
        let sqlite = |e| Error::from_sqlite(e, &tx);
        tx.execute_batch(CREATE_TRACKING_TABLE).map_err(sqlite)?;
        let mut tip: Option<Tip> = read_tip(&tx).map_err(sqlite)?;
        for migration in &pending {
            tip = Some(
                record(
                    &tx,
                    self.migrations,
                    migration,
                    tip.as_ref(),
                    Duration::ZERO,
                )
                .map_err(sqlite)?,
            );
            log::info!(target: "migrate", "baseline: recorded {migration} as applied without running it");
        }
        tx.commit().map_err(|e| Error::from_sqlite(e, conn))?;
        Ok(Baselined {
            versions: pending.iter().map(|m| m.version()).collect(),
        })
    }
}

impl Migrations {
    /// [`Runner::baseline`] without options.
    ///
    /// # Errors
    ///
    /// As [`Runner::baseline`].
    pub fn baseline(&self, conn: &mut Connection, version: Version) -> Result<Baselined> {
        self.runner().baseline(conn, version)
    }

    /// After a deliberate edit of an applied migration, records the embedded file's
    /// checksum for that version only (and computes the chain again from the stored
    /// checksums), so that [`run`](Self::run) no longer refuses it. Nothing is run:
    /// the database keeps what the old text did.
    ///
    /// # Errors
    ///
    /// [`Error::BadVersion`] when the version is not applied, not embedded, or not
    /// modified; [`Error::UnknownApplied`] when the database has migrations the binary
    /// does not know; SQLite errors ([`Error::ReadOnly`], [`Error::Locked`]…).
    pub fn repair(&self, conn: &mut Connection, version: Version) -> Result<Repaired> {
        let conn: &Connection = conn;
        let sqlite = |e| Error::from_sqlite(e, conn);
        let status = compare(self, read_history(conn)?);
        if !status.unknown.is_empty() {
            return Err(Error::UnknownApplied {
                versions: status.unknown.iter().map(|a| a.version).collect(),
            });
        }
        let Some((applied, migration)) = status.modified.iter().find(|(a, _)| a.version == version)
        else {
            let message = if status.applied.iter().any(|a| a.version == version) {
                format!(
                    "migration {version} is applied with the embedded file's checksum: there is nothing to repair"
                )
            } else if self.get(version).is_some() {
                format!(
                    "migration {version} is not applied: there is nothing to repair; `run` applies it"
                )
            } else {
                format!(
                    "no embedded migration has version {version}; {}",
                    versions_hint(self)
                )
            };
            return Err(Error::BadVersion { version, message });
        };
        if conn.is_readonly(MAIN_DB).map_err(sqlite)? {
            return Err(Error::read_only(conn));
        }
        let tx =
            Transaction::new_unchecked(conn, TransactionBehavior::Immediate).map_err(sqlite)?;
        let sqlite = |e| Error::from_sqlite(e, &tx);
        tx.execute(
            "UPDATE schema_migrations SET checksum = ?2, name = ?3 WHERE version = ?1",
            rusqlite::params![stored(version), migration.checksum_hex(), migration.name()],
        )
        .map_err(sqlite)?;
        chain_stored(&tx).map_err(sqlite)?;
        tx.commit().map_err(|e| Error::from_sqlite(e, conn))?;
        log::warn!(
            target: "migrate",
            "repair: migration {migration} now recorded with checksum {} (was {})",
            migration.checksum_hex(),
            applied.checksum
        );
        Ok(Repaired {
            version,
            old_checksum: applied.checksum.clone(),
            new_checksum: migration.checksum_hex(),
        })
    }
}

/// Computes every stored chain again from the stored checksums, so that a history
/// that still holds another modified row does not pass the quick check.
fn chain_stored(conn: &Connection) -> rusqlite::Result<()> {
    let rows: Vec<(Version, String)> = conn
        .prepare("SELECT version, checksum FROM schema_migrations ORDER BY version")?
        .query_map([], |r| Ok((read_version(r.get_ref(0)?)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = conn.prepare("UPDATE schema_migrations SET chain = ?2 WHERE version = ?1")?;
    let mut chain = crate::checksum::CHAIN_START;
    for (version, checksum) in rows {
        let checksum = crate::checksum::from_hex(&checksum).unwrap_or([0; 32]);
        chain = crate::checksum::chain(&chain, version, &checksum);
        update.execute(rusqlite::params![
            stored(version),
            crate::checksum::to_hex(&chain)
        ])?;
    }
    Ok(())
}

fn versions_hint(migrations: &Migrations) -> String {
    match (migrations.as_slice().first(), migrations.as_slice().last()) {
        (Some(first), Some(last)) => format!(
            "the embedded versions go from {} to {}",
            first.version(),
            last.version()
        ),
        _ => "the set is empty".to_owned(),
    }
}
