//! `migrate repair`: after a deliberate edit of an applied migration, records the
//! file's checksum, once the old and new texts have been shown.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::{Command, ExitCode};

use migrate_runtime::{Migration, sql};

use crate::cli::Repair;
use crate::db::{self, Mode};
use crate::{Failure, Outcome, folder};

pub fn run(args: &Repair) -> Outcome {
    let migrations = folder::load(&args.folder)?;
    let mut conn = db::open(&args.database, Mode::Write)?;
    let status = migrations.status(&conn)?;
    let Some((applied, migration)) = status
        .modified
        .iter()
        .find(|(a, _)| a.version == args.version)
    else {
        // The runtime says why (not applied, not embedded, nothing to repair).
        migrations.repair(&mut conn, args.version)?;
        return Err(Failure(format!(
            "migration {} cannot be repaired",
            args.version
        )));
    };
    let new = sql::canonical(migration.sql());
    let old = applied_text(&args.folder.dir, migration, &applied.checksum);
    println!(
        "migration {migration}: the database recorded checksum {}, the file now has {}",
        applied.checksum,
        migration.checksum_hex()
    );
    match &old {
        Some(old) => side_by_side(old, &new),
        None => {
            println!(
                "the applied text is not available (no version of {} in git history has checksum {}); the file's canonical text now:",
                migration.file_name(),
                applied.checksum
            );
            for line in new.lines() {
                println!("  {line}");
            }
        }
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(Failure(
                "refusing to repair without --yes: stdin is not a terminal, so nobody confirmed the texts above; nothing was changed"
                    .to_owned(),
            ));
        }
        print!(
            "record the new checksum for migration {}? nothing is run: the database keeps what the old text did [y/N] ",
            args.version
        );
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("nothing was changed");
            return Ok(ExitCode::from(1));
        }
    }
    let repaired = migrations.repair(&mut conn, args.version)?;
    println!(
        "repaired migration {migration}: checksum {} recorded (was {})",
        repaired.new_checksum, repaired.old_checksum
    );
    Ok(ExitCode::SUCCESS)
}

/// The canonical text of the version of the file, in git history, whose checksum is
/// the one recorded; `None` without git or without such a version.
fn applied_text(dir: &Path, migration: &Migration, checksum: &str) -> Option<String> {
    let git = |args: &[&str]| -> Option<Vec<u8>> {
        let output = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()?;
        output.status.success().then_some(output.stdout)
    };
    let file = format!("./{}", migration.file_name());
    let commits = git(&["log", "--all", "--format=%H", "--", &file])?;
    for commit in String::from_utf8_lossy(&commits).lines() {
        let Some(bytes) = git(&["show", &format!("{commit}:{file}")]) else {
            continue;
        };
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        if migrate_runtime::checksum::to_hex(&migrate_runtime::checksum(text)) == checksum {
            return Some(sql::canonical(text));
        }
    }
    None
}

/// The two canonical texts in two columns, `|` where a line differs.
fn side_by_side(old: &str, new: &str) {
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    let width = old
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(12, 70);
    println!("{:width$}   file now", "applied (from git)");
    for i in 0..old.len().max(new.len()) {
        let (a, b) = (
            old.get(i).copied().unwrap_or(""),
            new.get(i).copied().unwrap_or(""),
        );
        let mark = if a == b { ' ' } else { '|' };
        let a: String = a.chars().take(width).collect();
        println!("{a:width$} {mark} {b}");
    }
}
