//! Where a database stands compared with the embedded migrations.

use std::fmt;

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
    /// The versions of the embedded migrations that have a down script (that
    /// [`rollback`](Migrations::rollback) can undo), in order.
    pub reversible: Vec<crate::Version>,
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

/// Where one migration stands, in a [`StatusRow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MigrationState {
    /// Applied, with the embedded checksum.
    Applied,
    /// Embedded, not applied yet.
    Pending,
    /// Applied, but its file changed since.
    Modified,
    /// Applied, but not in this binary.
    Unknown,
}

impl MigrationState {
    /// The word the status table shows: `applied`, `pending`, `modified`, `unknown`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Pending => "pending",
            Self::Modified => "modified",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for MigrationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One line of the status table: a migration, embedded or applied, and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRow {
    /// The version.
    pub version: crate::Version,
    /// The name: the embedded one, else the one recorded when it was applied.
    pub name: String,
    /// Where it stands.
    pub state: MigrationState,
    /// When it was applied (UTC, ISO 8601); `None` when pending.
    pub applied_at: Option<String>,
    /// How long it took, in milliseconds; `None` when pending.
    pub duration_ms: Option<i64>,
    /// Whether the embedded migration has a down script (`false` for an unknown one).
    pub reversible: bool,
}

impl Status {
    /// Every migration, embedded or applied, in version order, with its state: the
    /// lines of the table that [`Display`](fmt::Display) shows.
    pub fn rows(&self) -> Vec<StatusRow> {
        let recorded = |a: &AppliedMigration, name: &str, state| StatusRow {
            version: a.version,
            name: name.to_owned(),
            state,
            applied_at: Some(a.applied_at.clone()),
            duration_ms: Some(a.duration_ms),
            reversible: self.reversible.binary_search(&a.version).is_ok(),
        };
        let mut rows: Vec<StatusRow> = self
            .applied
            .iter()
            .map(|a| recorded(a, &a.name, MigrationState::Applied))
            .chain(
                self.modified
                    .iter()
                    .map(|(a, m)| recorded(a, m.name(), MigrationState::Modified)),
            )
            .chain(
                self.unknown
                    .iter()
                    .map(|a| recorded(a, &a.name, MigrationState::Unknown)),
            )
            .chain(self.pending.iter().map(|m| StatusRow {
                version: m.version(),
                name: m.name().to_owned(),
                state: MigrationState::Pending,
                applied_at: None,
                duration_ms: None,
                reversible: m.is_reversible(),
            }))
            .collect();
        rows.sort_by_key(|r| r.version);
        rows
    }
}

/// The status table: one line per migration (version, name, state, applied_at,
/// duration and, when a migration of the set has a down script, `down`: `yes` or
/// `no`), then a summary line.
///
/// ```text
/// version  name          state    applied_at                duration
/// 1        create_users  applied  2026-11-25T12:00:00.123Z  3 ms
/// 2        add_email     pending  -                         -
/// 1 applied, 1 pending
/// ```
impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows = self.rows();
        let with_down = !self.reversible.is_empty();
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                let mut cells = vec![
                    r.version.to_string(),
                    r.name.clone(),
                    r.state.to_string(),
                    r.applied_at.clone().unwrap_or_else(|| "-".to_owned()),
                    r.duration_ms
                        .map_or_else(|| "-".to_owned(), |ms| format!("{ms} ms")),
                ];
                if with_down {
                    cells.push(if r.reversible { "yes" } else { "no" }.to_owned());
                }
                cells
            })
            .collect();
        let mut header = vec!["version", "name", "state", "applied_at", "duration"];
        if with_down {
            header.push("down");
        }
        let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
        for row in &cells {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, row: &[&str]| -> fmt::Result {
            let mut text = String::new();
            for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
                if i + 1 == row.len() {
                    text.push_str(cell);
                } else {
                    text.push_str(&format!("{cell:width$}  "));
                }
            }
            writeln!(f, "{}", text.trim_end())
        };
        line(f, &header)?;
        for row in &cells {
            let row: Vec<&str> = row.iter().map(String::as_str).collect();
            line(f, &row)?;
        }
        let counts = [
            (self.applied.len(), "applied"),
            (self.pending.len(), "pending"),
            (self.modified.len(), "modified"),
            (self.unknown.len(), "unknown"),
        ];
        let summary: Vec<String> = counts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
        if summary.is_empty() {
            write!(f, "no migrations")
        } else {
            write!(f, "{}", summary.join(", "))
        }
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
    status.reversible = migrations
        .iter()
        .filter(|m| m.is_reversible())
        .map(Migration::version)
        .collect();
    status
}
