//! `migrate down`: undoes applied migrations with their down scripts, a line per
//! migration.

use std::process::ExitCode;

use crate::cli::Down;
use crate::db::{self, Mode};
use crate::progress::duration;
use crate::{Failure, Outcome, folder};

pub fn run(args: &Down) -> Outcome {
    let migrations = folder::load(&args.folder)?;
    if let Some(to) = args.to
        && to != 0
        && migrations.get(to).is_none()
    {
        return Err(Failure(format!(
            "--to {to}: no migration in {} has that version (0 undoes them all)",
            folder::display(&args.folder)
        )));
    }
    let mut conn = db::open(&args.database, Mode::Write)?;
    let started = std::time::Instant::now();
    let report = match args.to {
        Some(to) => {
            let current = migrations.status(&conn)?.version();
            if current.is_some_and(|v| v > to) {
                migrations.migrate_to(&mut conn, to)?
            } else {
                migrate_runtime::Report::default()
            }
        }
        None => migrations.rollback(&mut conn, args.steps.unwrap_or(1))?,
    };
    for reverted in &report.reverted {
        println!(
            "reverted {} ({}, {} row(s) changed)",
            reverted.migration,
            duration(reverted.duration),
            reverted.rows_changed
        );
    }
    let status = migrations.status(&conn)?;
    let at = status
        .version()
        .map_or_else(|| "no migration".to_owned(), |v| format!("version {v}"));
    if report.reverted.is_empty() {
        println!(
            "nothing to revert: {} is at {at}",
            args.database.db.display()
        );
    } else {
        println!(
            "{} migration(s) reverted in {}: {} is at {at}",
            report.reverted.len(),
            duration(started.elapsed()),
            args.database.db.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
