//! Going down: each applied migration undone by its down script, newest first, in
//! its own transaction together with the removal of its tracking row.

use std::time::Instant;

use rusqlite::{Connection, MAIN_DB, Transaction, TransactionBehavior};

use super::apply::{apply, apply_without_transaction, lock_file};
use super::history::{read_history, read_tip, stored};
use super::status::compare;
use super::{Applied, Report, stale};
use crate::foreign_keys::{self, Scope};
use crate::rules::Settings;
use crate::{Error, Migration, Migrations, Result, Version};

impl Migrations {
    /// Undoes the last `steps` applied migrations, newest first, each with its down
    /// script, in its own `BEGIN IMMEDIATE` transaction together with the removal of
    /// its row in `schema_migrations`; `PRAGMA user_version` follows.
    ///
    /// The migrations to undo are chosen from the history read at the start. Several
    /// processes may call it at once: a migration another one already reverted is
    /// skipped, so each is reverted once. The report lists the reverted migrations in
    /// [`Report::reverted`].
    ///
    /// # Errors
    ///
    /// Before changing anything: [`Error::Irreversible`] when one of them has no down
    /// script, [`Error::RevertUnknown`] when the binary does not contain one,
    /// [`Error::Modified`] when an applied migration differs from the embedded one,
    /// [`Error::MissingFunction`] / [`Error::MissingCollation`] when a declared one is
    /// not registered on `conn`, and the errors of [`run`](Self::run) about the
    /// database. While reverting: [`Error::RevertNotLatest`] when another process
    /// applied a newer migration meanwhile, and
    /// [`Error::Failed`] (the step is rolled back, earlier steps stay reverted).
    pub fn rollback(&self, conn: &mut Connection, steps: usize) -> Result<Report> {
        let history = read_history(conn)?;
        let versions: Vec<Version> = history
            .iter()
            .rev()
            .take(steps)
            .map(|a| a.version)
            .collect();
        self.revert(conn, &versions)
    }

    /// Moves the database to exactly `target`: reverts every applied migration above
    /// it (as [`rollback`](Self::rollback) does), then applies the pending ones up to
    /// it (as [`run`](Self::run) does). `0` means before the first migration.
    ///
    /// # Errors
    ///
    /// As [`rollback`](Self::rollback) and [`run`](Self::run).
    pub fn migrate_to(&self, conn: &mut Connection, target: Version) -> Result<Report> {
        let history = read_history(conn)?;
        let versions: Vec<Version> = history
            .iter()
            .rev()
            .map(|a| a.version)
            .filter(|&v| v > target)
            .collect();
        let mut report = self.revert(conn, &versions)?;
        if self.iter().any(|m| m.version() <= target) {
            let up = self.runner().to(target).run(conn)?;
            report.applied = up.applied;
            report.warnings.extend(up.warnings);
            report.backup = up.backup;
            report.imported = up.imported;
            report.adopted = up.adopted;
        }
        Ok(report)
    }

    /// Reverts `versions` (applied, highest first).
    fn revert(&self, conn: &Connection, versions: &[Version]) -> Result<Report> {
        stale::check(self)?;
        let mut report = Report::default();
        if versions.is_empty() {
            return Ok(report);
        }
        let sqlite = |e| Error::from_sqlite(e, conn);
        super::default_busy_timeout(conn)?;
        let plan = self.plan(conn, versions)?;
        if conn.is_readonly(MAIN_DB).map_err(sqlite)? {
            return Err(Error::read_only(conn));
        }
        // A down script may call the application's functions, as an up does.
        self.runner().check_functions(conn)?;
        let off = foreign_keys::Off::new(conn).map_err(sqlite)?;
        let mut scope = if off.was_on {
            Some(Scope::load(conn).map_err(sqlite)?)
        } else {
            None
        };
        for migration in plan {
            if let Some(done) = revert_one(conn, migration, scope.as_mut())? {
                log::info!(target: "migrate", "reverted {migration} in {:?}", done.duration);
                report.reverted.push(done);
            }
        }
        Ok(report)
    }

    /// The embedded migrations to revert, each known, unmodified and reversible;
    /// checked before anything changes.
    fn plan(&self, conn: &Connection, versions: &[Version]) -> Result<Vec<&'static Migration>> {
        let status = compare(self, read_history(conn)?);
        if let Some((applied, migration)) = status.modified.first() {
            return Err(Error::Modified {
                version: migration.version(),
                name: migration.name().to_owned(),
                applied: applied.checksum.clone(),
                embedded: migration.checksum_hex(),
            });
        }
        let unknown: Vec<Version> = versions
            .iter()
            .copied()
            .filter(|&v| self.get(v).is_none())
            .collect();
        if !unknown.is_empty() {
            return Err(Error::RevertUnknown { versions: unknown });
        }
        let plan: Vec<&'static Migration> = versions.iter().filter_map(|&v| self.get(v)).collect();
        if let Some(m) = plan.iter().find(|m| !m.is_reversible()) {
            let (file_name, help) = down_file(m);
            return Err(Error::Irreversible {
                version: m.version(),
                name: m.name().to_owned(),
                file_name,
                reason: m.irreversible_reason().map(Box::from),
                help: help.into_boxed_str(),
            });
        }
        Ok(plan)
    }
}

/// Where the down script of `m` is or goes, and what to do about it: beside an up
/// file spelled `….up.sql` or `up.sql` (native, sqlx, golang-migrate, diesel), the
/// same with `down`; in another tool's layout, where the up file is the whole
/// migration (goose and dbmate sections, sqlx's reversible pair), that tool's way;
/// in the native layout, `….down.sql` beside it.
fn down_file(m: &Migration) -> (String, String) {
    let file_name = m.file_name();
    let fix = |down: &str| match m.irreversible_reason() {
        Some(_) => format!("make its down script in `{down}` undo it"),
        None => format!("add `{down}` beside it"),
    };
    if let Some(stem) = file_name.strip_suffix("up.sql") {
        let down = format!("{stem}down.sql");
        let help = fix(&down);
        (down, help)
    } else if !m.source_id().is_empty() {
        let help = match m.irreversible_reason() {
            Some(_) => format!("make its down script in `{file_name}` undo it"),
            None => format!(
                "write its down script as the tool of its folder does (a down section in `{file_name}` for goose and dbmate, a `.down.sql` file beside a `.up.sql` one for sqlx)"
            ),
        };
        (file_name.to_owned(), help)
    } else {
        let stem = file_name.strip_suffix(".sql").unwrap_or(file_name);
        let down = format!("{stem}.down.sql");
        let help = fix(&down);
        (down, help)
    }
}

/// The down script as a migration, for running it and for its errors (named by the
/// down file).
fn as_migration(m: &Migration) -> Option<Migration> {
    let down = m.down()?;
    let as_up = Migration::new(
        m.version(),
        down.file_name(),
        down.file_name(),
        down.sql(),
        *down.checksum(),
        *m.chain(),
    );
    Some(if down.runs_in_transaction() {
        as_up
    } else {
        as_up.without_transaction()
    })
}

/// Reverts one migration, unless another process already did (`None`).
fn revert_one(
    conn: &Connection,
    migration: &'static Migration,
    scope: Option<&mut Scope>,
) -> Result<Option<Applied>> {
    revert_one_as_up(conn, migration, scope).map_err(|mut e| {
        if let Error::Failed { down, .. } = &mut e {
            *down = true;
        }
        e
    })
}

/// [`revert_one`], its errors as if the down script were a migration.
fn revert_one_as_up(
    conn: &Connection,
    migration: &'static Migration,
    scope: Option<&mut Scope>,
) -> Result<Option<Applied>> {
    let Some(down) = as_migration(migration) else {
        return Ok(None);
    };
    let statements = crate::sql::statements(down.sql());
    let _lock = if down.runs_in_transaction() {
        None
    } else {
        lock_file(conn)?
    };
    if !down.runs_in_transaction() {
        // Under the lock file: whether it is still applied and the newest.
        if !still_to_revert(conn, migration)? {
            return Ok(None);
        }
        let saved = Settings::save(conn, &statements).map_err(|e| Error::from_sqlite(e, conn))?;
        let (started, changes) = (Instant::now(), conn.total_changes());
        let result = apply_without_transaction(conn, &down, &statements, scope);
        saved.restore(conn);
        result?;
        let rows_changed = conn.total_changes() - changes;
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
            .map_err(|e| Error::from_sqlite(e, conn))?;
        forget(&tx, migration).map_err(|e| Error::from_sqlite(e, &tx))?;
        tx.commit().map_err(|e| Error::from_sqlite(e, conn))?;
        return Ok(Some(Applied {
            migration,
            duration: started.elapsed(),
            rows_changed,
        }));
    }
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
        .map_err(|e| Error::from_sqlite(e, conn))?;
    if !still_to_revert(&tx, migration)? {
        return Ok(None);
    }
    let saved = Settings::save(&tx, &statements).map_err(|e| Error::from_sqlite(e, &tx))?;
    let (started, changes) = (Instant::now(), tx.total_changes());
    let result = apply(&tx, &down, &statements, scope);
    saved.restore(&tx);
    result?;
    let rows_changed = tx.total_changes() - changes;
    forget(&tx, migration).map_err(|e| Error::from_sqlite(e, &tx))?;
    tx.commit().map_err(|e| {
        let last_line = down.sql().lines().count().max(1);
        super::apply::failed(conn, &down, "COMMIT", last_line, e)
    })?;
    Ok(Some(Applied {
        migration,
        duration: started.elapsed(),
        rows_changed,
    }))
}

/// Whether `migration` is still applied (another process may have reverted it),
/// and the newest applied: a migration is undone only from the top.
fn still_to_revert(conn: &Connection, migration: &Migration) -> Result<bool> {
    let tip = read_tip(conn).map_err(|e| Error::from_sqlite(e, conn))?;
    match tip {
        None => Ok(false),
        Some(tip) if tip.version == migration.version() => Ok(true),
        Some(tip) if tip.version < migration.version() => Ok(false),
        Some(tip) => {
            let applied: bool = conn
                .query_row(
                    "SELECT count(*) FROM schema_migrations WHERE version = ?1",
                    [stored(migration.version())],
                    |r| r.get::<_, i64>(0),
                )
                .map_err(|e| Error::from_sqlite(e, conn))?
                > 0;
            if applied {
                // Another process applied a newer migration meanwhile.
                Err(Error::RevertNotLatest {
                    version: migration.version(),
                    latest: tip.version,
                })
            } else {
                Ok(false)
            }
        }
    }
}

/// Removes the migration's row and sets `user_version` to the new highest version.
fn forget(conn: &Connection, migration: &Migration) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM schema_migrations WHERE version = ?1",
        [stored(migration.version())],
    )?;
    // As `record` does: the highest applied version when it fits, 0 when none is left.
    let version = read_tip(conn)?.map_or(0, |t| t.version);
    if let Ok(version) = i32::try_from(version) {
        conn.pragma_update(None, "user_version", version)?;
    }
    Ok(())
}
