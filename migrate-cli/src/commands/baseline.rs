//! `migrate baseline`: records migrations as applied on a database that already has
//! their schema.

use std::process::ExitCode;

use migrate_runtime::Error;

use crate::cli::Baseline;
use crate::db::{self, Mode};
use crate::{Failure, Outcome, folder};

pub fn run(args: &Baseline) -> Outcome {
    let migrations = folder::load(&args.folder)?;
    let mut conn = db::open(&args.database, Mode::Write)?;
    match migrations.baseline(&mut conn, args.version) {
        Ok(done) if done.versions.is_empty() => {
            println!(
                "nothing to record: every migration up to {} is already applied",
                args.version
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(done) => {
            let shown: Vec<String> = done.versions.iter().map(ToString::to_string).collect();
            println!(
                "recorded {} migration(s) as applied without running them: {}",
                done.versions.len(),
                shown.join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(Error::BaselineMismatch {
            version,
            differences,
        }) => {
            let mut message = format!(
                "the schema of {} is not what the migrations up to {version} produce ({} difference(s)); nothing was changed",
                args.database.db.display(),
                differences.len()
            );
            for d in differences {
                message.push_str("\n- ");
                message.push_str(&d);
            }
            Err(Failure(message))
        }
        Err(e) => Err(e.into()),
    }
}
