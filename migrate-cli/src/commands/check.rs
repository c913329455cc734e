//! `migrate check`: every build-time check, every problem at once.

use std::process::ExitCode;

use crate::Outcome;
use crate::cli::Folder;
use crate::folder;

pub fn run(args: &Folder) -> Outcome {
    match folder::check(args)? {
        Ok(migrations) => {
            for m in &migrations {
                if let Some(unused) = &m.irreversible {
                    println!(
                        "note: {} is irreversible: {}",
                        m.display_path, unused.reason
                    );
                }
            }
            println!(
                "{}: {} migration(s), every check passed",
                folder::display(args),
                migrations.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(diagnostics) => {
            for d in &diagnostics {
                eprintln!("error: {d}\n");
            }
            eprintln!(
                "{}: {} problem(s)",
                folder::display(args),
                diagnostics.len()
            );
            Ok(ExitCode::from(1))
        }
    }
}
