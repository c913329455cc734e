//! Where a database stands compared with the embedded migrations.

use super::history::AppliedMigration;
use crate::{Migration, Migrations};

/// Where a database stands compared with the embedded migrations; see [`Migrations::status`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// Applied migrations whose checksum matches the embedded one.
    pub applied: Vec<AppliedMigration>,
    /// Embedded migrations not applied yet, in version order.
    pub pending: Vec<&'static Migration>,
    /// Applied migrations whose file changed since, with the embedded migration.
    pub modified: Vec<(AppliedMigration, &'static Migration)>,
    /// Applied migrations that the binary does not contain.
    pub unknown: Vec<AppliedMigration>,
}

impl Status {
    /// The highest applied version, if any migration is applied.
    pub fn version(&self) -> Option<crate::Version> {
        let known = self
            .applied
            .iter()
            .chain(self.modified.iter().map(|(a, _)| a));
        known.chain(&self.unknown).map(|a| a.version).max()
    }

    /// Whether the database matches the binary and nothing is pending.
    pub fn is_up_to_date(&self) -> bool {
        self.pending.is_empty() && self.modified.is_empty() && self.unknown.is_empty()
    }

    /// Pending migrations older than the highest applied one.
    pub fn out_of_order(&self) -> impl Iterator<Item = &'static Migration> + '_ {
        let latest = self.version().unwrap_or(crate::Version::MIN);
        self.pending
            .iter()
            .copied()
            .filter(move |m| m.version() < latest)
    }
}

/// Sorts the history against the embedded set; both are ordered by version.
pub(super) fn compare(migrations: &Migrations, history: Vec<AppliedMigration>) -> Status {
    let mut status = Status::default();
    let mut embedded = migrations.iter().peekable();
    for applied in history {
        while let Some(m) = embedded.next_if(|m| m.version() < applied.version) {
            status.pending.push(m);
        }
        match embedded.next_if(|m| m.version() == applied.version) {
            Some(m) if m.checksum_hex() == applied.checksum => status.applied.push(applied),
            Some(m) => status.modified.push((applied, m)),
            None => status.unknown.push(applied),
        }
    }
    status.pending.extend(embedded);
    status
}
