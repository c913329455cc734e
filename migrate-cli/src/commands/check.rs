//! `migrate check`: every build-time check, every problem at once; then each
//! migration's schema changes, classified for deploy safety.

use std::process::ExitCode;

use migrate_runtime::SourceMigration;
use migrate_runtime::check;

use crate::Outcome;
use crate::cli::{Check, Database};
use crate::db::{self, Mode};
use crate::folder;

pub fn run(args: &Check) -> Outcome {
    let migrations = match folder::check(&args.folder)? {
        Ok(migrations) => migrations,
        Err(diagnostics) => {
            for d in &diagnostics {
                eprintln!("error: {d}\n");
            }
            eprintln!(
                "{}: {} problem(s)",
                folder::display(&args.folder),
                diagnostics.len()
            );
            return Ok(ExitCode::from(1));
        }
    };
    for m in &migrations {
        if let Some(unused) = &m.irreversible {
            println!(
                "note: {} is irreversible: {}",
                m.display_path, unused.reason
            );
        }
    }
    let shown: Vec<&SourceMigration> = match &args.db {
        None => migrations.iter().collect(),
        Some(path) => {
            let conn = db::open(
                &Database {
                    db: path.clone(),
                    busy_timeout: 5,
                },
                Mode::Read,
            )?;
            let set = migrate_runtime::Migrations::from_sources(migrations.clone());
            let status = set.status(&conn)?;
            let pending: Vec<migrate_runtime::Version> =
                status.pending.iter().map(|m| m.version()).collect();
            migrations
                .iter()
                .filter(|m| pending.contains(&m.version))
                .collect()
        }
    };
    let mut unacknowledged = 0;
    for m in &shown {
        if m.changes.is_empty() {
            continue;
        }
        println!("{}", m.display_path);
        for (change, done) in m.changes.iter().zip(check::acknowledged(m)) {
            let mark = if !change.needs_acknowledgement() {
                ""
            } else if done {
                " [acknowledged]"
            } else {
                unacknowledged += 1;
                " [not acknowledged]"
            };
            println!("  {change}{mark}");
        }
    }
    let what = if args.db.is_some() {
        "pending migration(s)"
    } else {
        "migration(s)"
    };
    println!(
        "{}: {} {what}, every check passed",
        folder::display(&args.folder),
        shown.len()
    );
    if args.db.is_some() && unacknowledged > 0 {
        eprintln!(
            "{unacknowledged} change(s) pending on {} may break the code still running during a deploy and are not acknowledged: ship the code that stops using them first, then acknowledge each with the `-- migrate:allow <kind> <object>` line shown by `migrate check --deploy-safety-from <version>`",
            args.db
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
