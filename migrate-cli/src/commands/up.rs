//! `migrate up`: applies what is pending, a line per migration.

use std::process::ExitCode;

use crate::Outcome;
use crate::cli::Up;
use crate::db::{self, Mode};
use crate::folder;
use crate::progress::{Progress, duration};

pub fn run(args: &Up) -> Outcome {
    let migrations = folder::load(&args.folder)?;
    if let Some(to) = args.to
        && migrations.get(to).is_none()
    {
        return Err(crate::Failure(format!(
            "--to {to}: no migration in {} has that version",
            folder::display(&args.folder)
        )));
    }
    let mut conn = db::open(&args.database, Mode::Create)?;
    let progress = Progress::install(&mut conn);
    let hook = |event: migrate_runtime::Event<'_>| progress.event(event);
    let mut runner = migrations.runner();
    runner
        .on_event(&hook)
        .allow_newer_database(args.allow_newer_database)
        .allow_out_of_order(args.allow_out_of_order);
    if let Some(to) = args.to {
        runner.to(to);
    }
    let started = std::time::Instant::now();
    let report = runner.run(&mut conn)?;
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    if let Some(adopted) = &report.adopted {
        println!(
            "adopted the lesson's schema_migrations: {} migration(s) recorded, its rows kept in {}",
            adopted.versions.len(),
            adopted.table
        );
    }
    if let Some(imported) = &report.imported {
        println!(
            "imported the history of {} from {}: {} migration(s)",
            imported.tool,
            imported.table,
            imported.versions.len()
        );
    }
    let status = migrations.status(&conn)?;
    let at = status
        .version()
        .map_or_else(|| "no migration".to_owned(), |v| format!("version {v}"));
    if report.applied.is_empty() {
        println!(
            "nothing to apply: {} is at {at}",
            args.database.db.display()
        );
    } else {
        println!(
            "{} migration(s) applied in {}: {} is at {at}",
            report.applied.len(),
            duration(started.elapsed()),
            args.database.db.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
