//! Reading the folder: file names, numbering, encoding, and what the statements show
//! without running them.

use std::collections::BTreeMap;
use std::path::Path;

use super::{SourceMigration, TRACKING_TABLE};
use crate::diagnostic::Diagnostic;
use crate::name::{self, NameError};
use crate::sql::{self, Statement, TokenKind};

/// Statements that open or close transactions, which a migration must not run.
const TRANSACTION_KEYWORDS: [&str; 6] =
    ["BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"];

/// Sequential versions have fewer digits than this; longer ones are timestamps.
const TIMESTAMP_DIGITS: usize = 10;

/// A candidate file whose name parsed.
struct Named {
    file_name: String,
    digits: String,
    version: i64,
    name: String,
}

/// Reads `dir` and runs every check that needs no database.
///
/// # Errors
///
/// Every file-level problem found.
pub fn read_dir(dir: &Path, display_dir: &str) -> Result<Vec<SourceMigration>, Vec<Diagnostic>> {
    let display = |file: &str| format!("{display_dir}/{file}");
    let entries = std::fs::read_dir(dir).map_err(|e| {
        let message = if e.kind() == std::io::ErrorKind::NotFound {
            "migrations folder not found".to_owned()
        } else {
            format!("cannot read the migrations folder: {e}")
        };
        vec![Diagnostic::new(display_dir, message).with_help(
            "the path is relative to the Cargo.toml of the crate that calls `migrations!`; create the folder or fix the path",
        )]
    })?;

    let mut diagnostics = Vec::new();
    let mut named = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| {
            vec![Diagnostic::new(
                display_dir,
                format!("cannot read the migrations folder: {e}"),
            )]
        })?;
        let os_name = entry.file_name();
        let Some(file_name) = os_name.to_str() else {
            let lossy = os_name.to_string_lossy();
            if name::is_candidate(&lossy) {
                diagnostics.push(
                    Diagnostic::new(display(&lossy), "migration file name is not valid UTF-8")
                        .with_help("rename the file to `<version>_<name>.sql` in ASCII"),
                );
            }
            continue;
        };
        // Folders are skipped; anything else named like a migration is read, so a broken
        // symlink is reported rather than silently left out.
        if !name::is_candidate(file_name) || entry.path().is_dir() {
            continue;
        }
        match name::parse_file_name(file_name) {
            Ok(parsed) => named.push(Named {
                file_name: file_name.to_owned(),
                digits: parsed.digits.to_owned(),
                version: parsed.version,
                name: parsed.name.to_owned(),
            }),
            Err(error) => diagnostics.push(name_error(&display(file_name), file_name, &error)),
        }
    }
    named.sort_by(|a, b| (a.version, &a.file_name).cmp(&(b.version, &b.file_name)));
    diagnostics.extend(numbering(&named, display_dir));

    if named.is_empty() && diagnostics.is_empty() {
        diagnostics.push(
            Diagnostic::new(display_dir, "no migrations found in the folder").with_help(
                "add a file named `<version>_<name>.sql`, for example `001_create_users.sql`",
            ),
        );
    }

    let mut migrations = Vec::with_capacity(named.len());
    let mut chain = crate::checksum::CHAIN_START;
    for n in named {
        let path = dir.join(&n.file_name);
        let display_path = display(&n.file_name);
        match read_file(&path, &display_path) {
            Ok(sql) => {
                let transaction = match crate::rules::no_transaction(&sql) {
                    Ok(no_transaction) => !no_transaction,
                    Err(e) => {
                        diagnostics.push(
                            Diagnostic::at(&display_path, &sql, e.offset, e.message).with_help(format!(
                                "a migration that must run without a transaction (VACUUM, `PRAGMA journal_mode`, its own BEGIN/COMMIT) starts with the line `{}`; other `-- migrate:` comments are mistakes",
                                crate::rules::NO_TRANSACTION
                            )),
                        );
                        continue;
                    }
                };
                let found = statement_problems(&display_path, &sql, transaction);
                if found.is_empty() {
                    let checksum = crate::checksum(&sql);
                    chain = crate::checksum::chain(&chain, n.version, &checksum);
                    migrations.push(SourceMigration {
                        version: n.version,
                        checksum,
                        chain,
                        transaction,
                        name: n.name,
                        file_name: n.file_name,
                        path,
                        display_path,
                        sql,
                    });
                }
                diagnostics.extend(found);
            }
            Err(d) => diagnostics.push(d),
        }
    }
    if diagnostics.is_empty() {
        Ok(migrations)
    } else {
        Err(diagnostics)
    }
}

fn name_error(display_path: &str, file_name: &str, error: &NameError) -> Diagnostic {
    let rule = "names are `<version>_<name>.sql`: the version in digits, then `_`, then lowercase ASCII letters, digits and `_`";
    match error {
        NameError::Invalid { suggestion } => {
            let help = match suggestion {
                Some(s) => format!("rename it to `{s}`; {rule}"),
                None => format!("rename it, for example to `001_{}.sql`; {rule}", fallback_name(file_name)),
            };
            Diagnostic::new(
                display_path,
                format!("invalid migration file name `{file_name}`; expected `<version>_<name>.sql`"),
            )
            .with_help(help)
        }
        NameError::Down => Diagnostic::new(display_path, "down migrations are not supported").with_help(
            "migrations only go forward: delete the file or move it out of the folder, and write a new migration to undo a change",
        ),
        NameError::VersionTooLarge => Diagnostic::new(
            display_path,
            format!("migration version in `{file_name}` does not fit in a 64-bit signed integer"),
        )
        .with_help("use a shorter version: sequential numbers (`001`) or a timestamp (`20240101120000`)"),
    }
}

/// A description made from a file name with no readable version.
fn fallback_name(file_name: &str) -> String {
    let guess = name::suggest(&format!("0_{file_name}")).unwrap_or_default();
    guess
        .strip_prefix("0_")
        .and_then(|s| s.strip_suffix(".sql"))
        .unwrap_or("migration")
        .to_owned()
}

/// Duplicate versions, mixed widths and gaps in sequential numbering.
fn numbering(named: &[Named], display_dir: &str) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let display = |file: &str| format!("{display_dir}/{file}");

    let mut by_version: BTreeMap<i64, Vec<&Named>> = BTreeMap::new();
    for n in named {
        by_version.entry(n.version).or_default().push(n);
    }
    for (version, files) in &by_version {
        if files.len() > 1 {
            let names: Vec<String> = files.iter().map(|f| format!("`{}`", f.file_name)).collect();
            diagnostics.push(
                Diagnostic::new(
                    display(&files[1].file_name),
                    format!("duplicate migration version {version}: {}", names.join(" and ")),
                )
                .with_help("give each migration its own version; if two branches added the same number, renumber the newer file"),
            );
        }
    }

    // All versions use the most common number of digits (ties: the first file's).
    let mut widths: BTreeMap<usize, usize> = BTreeMap::new();
    for n in named {
        *widths.entry(n.digits.len()).or_default() += 1;
    }
    let Some(first) = named.first() else {
        return diagnostics;
    };
    let width = widths
        .iter()
        .max_by_key(|&(w, count)| (*count, *w == first.digits.len()))
        .map_or(first.digits.len(), |(w, _)| *w);
    for n in named.iter().filter(|n| n.digits.len() != width) {
        let padded = format!("{:0width$}", n.version);
        let help = if width >= TIMESTAMP_DIGITS {
            format!(
                "give it a {width}-digit version like the other migrations (for timestamps, `YYYYMMDDHHMMSS`), keeping the order in which the migrations must run"
            )
        } else if padded.len() == width {
            format!(
                "rename it to `{padded}_{}.sql`; all versions must have the same number of digits so that files sort in the order they run",
                n.name
            )
        } else {
            format!(
                "renumber the migrations so that every version has {} digits",
                padded.len()
            )
        };
        diagnostics.push(
            Diagnostic::new(
                display(&n.file_name),
                format!(
                    "migration version `{}` has {} digits but the other migrations use {width}",
                    n.digits,
                    n.digits.len()
                ),
            )
            .with_help(help),
        );
    }

    if width < TIMESTAMP_DIGITS {
        let versions: Vec<(&i64, &Vec<&Named>)> = by_version.iter().collect();
        for pair in versions.windows(2) {
            let ((&low, low_files), (&high, high_files)) = (pair[0], pair[1]);
            if high - low <= 1 {
                continue;
            }
            let pad = |v: i64| format!("{v:0width$}");
            let missing = if high - low - 1 <= 5 {
                let list: Vec<String> = (low + 1..high).map(pad).collect();
                list.join(", ")
            } else {
                format!("{} to {}", pad(low + 1), pad(high - 1))
            };
            let (low_file, high_file) = (&low_files[0].file_name, &high_files[0].file_name);
            diagnostics.push(
                Diagnostic::new(
                    display(high_file),
                    format!("gap in migration versions: {missing} missing between `{low_file}` and `{high_file}`"),
                )
                .with_help(format!(
                    "sequential versions must not skip a number: rename `{high_file}` to `{}_{}.sql` (and renumber the files after it), or use 14-digit timestamp versions, which only need to be unique",
                    pad(low + 1),
                    high_files[0].name
                )),
            );
        }
    }
    diagnostics
}

/// Reads a migration as UTF-8, dropping a leading byte-order mark.
fn read_file(path: &Path, display_path: &str) -> Result<String, Diagnostic> {
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostic::new(display_path, format!("cannot read the migration: {e}")).with_help(
            "the file is named like a migration but cannot be read (a broken symbolic link, or missing permissions); fix it or remove it from the folder",
        )
    })?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let lossy = String::from_utf8_lossy(bytes);
            // The lossy text has the same bytes up to the first invalid one.
            return Err(Diagnostic::at(
                display_path,
                &lossy,
                offset,
                format!(
                    "migration is not valid UTF-8: invalid byte 0x{:02X} at byte offset {offset}",
                    bytes[offset]
                ),
            )
            .with_help("save the file as UTF-8 (it is probably Latin-1 or UTF-16)"));
        }
    };
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    };
    if let Some(offset) = text.find('\0') {
        return Err(
            Diagnostic::at(display_path, &text, offset, "migration contains a NUL byte")
                .with_help("SQLite stops reading a statement at a NUL byte and would silently skip the rest; remove it (the file may be corrupted or UTF-16)"),
        );
    }
    Ok(text)
}

/// Problems visible in the statements themselves: none at all, use of the tracking
/// table and, in a migration that runs in a transaction, statements that cannot.
fn statement_problems(display_path: &str, sql: &str, transaction: bool) -> Vec<Diagnostic> {
    let statements = sql::statements(sql);
    if statements.is_empty() {
        return vec![
            Diagnostic::new(
                display_path,
                "migration has no SQL statement (the file is empty or only holds comments)",
            )
            .with_help("add the statements, or delete the file if it is not needed"),
        ];
    }
    let mut diagnostics = tracking_table_use(display_path, sql, &statements);
    if transaction {
        diagnostics.extend(transaction_problems(display_path, sql, &statements));
    }
    diagnostics
}

/// Statements a migration in a transaction cannot run: transaction control, and those
/// of [`rules::outside_transaction_only`](crate::rules::outside_transaction_only).
fn transaction_problems(
    display_path: &str,
    sql: &str,
    statements: &[Statement<'_>],
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    // (statement, keyword, line) of each statement that controls a transaction
    let transaction: Vec<(&Statement<'_>, String, usize)> = statements
        .iter()
        .filter_map(|s| {
            let keyword = s
                .keyword()
                .filter(|k| TRANSACTION_KEYWORDS.contains(&k.as_str()))?;
            Some((s, keyword, sql::line_column(sql, s.offset).0))
        })
        .collect();
    if let Some((first, _, _)) = transaction.first() {
        let listed: Vec<String> = transaction
            .iter()
            .map(|(_, keyword, line)| format!("`{keyword}` on line {line}"))
            .collect();
        let lines: Vec<String> = transaction
            .iter()
            .map(|(_, _, line)| line.to_string())
            .collect();
        let mut d = Diagnostic::at(
            display_path,
            sql,
            first.offset,
            format!(
                "migration controls its own transaction: {}",
                listed.join(", ")
            ),
        );
        for (s, _, _) in &transaction[1..] {
            d = d.with_snippet(sql, s.offset);
        }
        diagnostics.push(d.with_help(format!(
            "each migration already runs in its own transaction, committed together with its row in `{TRACKING_TABLE}`; remove line{} {}, or, for a migration that must manage its own transactions, make `{}` its first line",
            if lines.len() > 1 { "s" } else { "" },
            lines.join(", "),
            crate::rules::NO_TRANSACTION
        )));
    }
    for s in statements {
        if let Some((what, help)) = crate::rules::outside_transaction_only(s) {
            diagnostics.push(
                Diagnostic::at(
                    display_path,
                    sql,
                    s.offset,
                    format!("{what} cannot run inside the migration's transaction"),
                )
                .with_help(help),
            );
        }
    }
    diagnostics
}

/// Statements naming the tracking table.
fn tracking_table_use(
    display_path: &str,
    sql: &str,
    statements: &[Statement<'_>],
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();

    for s in statements {
        let hit = s.tokens.iter().find(|t| {
            t.kind != TokenKind::String
                && t.identifier(s.text)
                    .is_some_and(|id| id.eq_ignore_ascii_case(TRACKING_TABLE))
        });
        if let Some(token) = hit {
            diagnostics.push(
                Diagnostic::at(
                    display_path,
                    sql,
                    s.offset + token.start,
                    format!("migration uses the tracking table `{TRACKING_TABLE}`"),
                )
                .with_help(format!(
                    "the runner records every migration in `{TRACKING_TABLE}` itself; remove this statement, and keep your own data in tables of your own"
                )),
            );
        }
    }
    diagnostics
}
