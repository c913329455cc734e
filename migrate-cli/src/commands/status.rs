//! `migrate status`: the table, and an exit code scripts can test.

use std::process::ExitCode;

use crate::Outcome;
use crate::cli::Status;
use crate::db::{self, Mode};
use crate::folder;

pub fn run(args: &Status) -> Outcome {
    let migrations = folder::load(&args.folder)?;
    let conn = db::open(&args.database, Mode::Read)?;
    let status = migrations.status(&conn)?;
    println!("{status}");
    Ok(
        if !status.modified.is_empty() || !status.unknown.is_empty() {
            ExitCode::from(2)
        } else if !status.pending.is_empty() {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        },
    )
}
