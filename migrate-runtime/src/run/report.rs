//! What a run reports: the migrations it applied and its warnings.

use std::time::Duration;

use crate::Migration;

/// A migration applied by [`Migrations::run`](crate::Migrations::run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The migration.
    pub migration: &'static Migration,
    /// How long its statements took, tracking row included.
    pub duration: Duration,
    /// How many rows its statements inserted, updated or deleted (SQLite's
    /// `total_changes`, triggers included; the tracking row not).
    pub rows_changed: u64,
}

/// What [`Migrations::run`](crate::Migrations::run) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The migrations this call applied, in order. Empty when nothing was pending.
    pub applied: Vec<Applied>,
    /// What deserves attention although nothing failed.
    pub warnings: Vec<Warning>,
    /// The copy written before migrating, with [`Runner::backup_to`](crate::Runner::backup_to); `None` when
    /// nothing was pending (or no backup was asked for).
    pub backup: Option<std::path::PathBuf>,
    /// Another tool's history, imported on the first run ([`import`](crate::import));
    /// `None` otherwise.
    pub imported: Option<crate::import::Imported>,
    /// The hand-rolled `schema_migrations(version, name, applied_at)` of the SQLite
    /// lesson, converted on the first run ([`adopt`](crate::adopt)); `None` otherwise.
    pub adopted: Option<crate::adopt::Adopted>,
    /// The migrations this call undid with their down scripts
    /// ([`rollback`](crate::Migrations::rollback), [`migrate_to`](crate::Migrations::migrate_to)),
    /// newest first, with how long each down took and the rows it changed.
    pub reverted: Vec<Applied>,
}

/// Something [`Migrations::run`](crate::Migrations::run) reports without failing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// The application's SQLite is older than the one that validated the migrations
    /// at build time, so a migration may use a feature it lacks.
    OlderSqlite {
        /// The SQLite version that validated the set ([`Migrations::validated_with`](crate::Migrations::validated_with)).
        validated_with: &'static str,
        /// The SQLite version the application runs.
        running: &'static str,
    },
    /// The database has migrations applied that this binary does not contain,
    /// tolerated with [`Runner::allow_newer_database`](crate::Runner::allow_newer_database).
    UnknownApplied {
        /// Their versions.
        versions: Vec<crate::Version>,
    },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::OlderSqlite {
                validated_with,
                running,
            } => write!(
                f,
                "the migrations were validated with SQLite {validated_with} but the application runs SQLite {running}; \
                 test them with the application's SQLite (or build with rusqlite's `bundled` feature)"
            ),
            Self::UnknownApplied { versions } => {
                let shown: Vec<String> = versions.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "the database has migration(s) {} applied that this binary does not contain (allowed by `allow_newer_database`); \
                     the schema is newer than this code expects",
                    shown.join(", ")
                )
            }
        }
    }
}

/// `"3.46.1"` as `(3, 46, 1)`; unreadable parts count as 0.
pub(super) fn parse_version(version: &str) -> (u32, u32, u32) {
    let mut parts = version.split('.').map(|p| p.parse().unwrap_or(0));
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
}
