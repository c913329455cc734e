//! Layouts of one folder per migration: diesel (`<version>_<name>/up.sql`) and Prisma
//! Migrate (`<timestamp>_<name>/migration.sql`). Files beside the folders
//! (`migration_lock.toml`, a README) are skipped, but a `.sql` file there is an error:
//! it would never run.

use std::path::Path;

use super::{Found, Layout, entries, parse_version, too_large};
use crate::diagnostic::Diagnostic;

/// The migrations of `dir` in `layout`.
pub(super) fn find(
    dir: &Path,
    display_dir: &str,
    layout: Layout,
) -> Result<(Vec<Found>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let up_file = if layout == Layout::Diesel {
        "up.sql"
    } else {
        "migration.sql"
    };
    let mut diagnostics = Vec::new();
    // (version digits, found) in folder-name order
    let mut read: Vec<(String, Found)> = Vec::new();
    for (folder, is_dir) in entries(dir, display_dir)? {
        if !is_dir {
            // A `.sql` file beside the folders would never run: said, not skipped.
            if crate::name::is_candidate(&folder) {
                let stem = folder.get(..folder.len() - 4).unwrap_or(&folder);
                diagnostics.push(
                    Diagnostic::new(
                        format!("{display_dir}/{folder}"),
                        format!(
                            "`{folder}` is a file, but in the {layout} layout every migration is a folder holding `{up_file}`, so it would be left out"
                        ),
                    )
                    .with_help(format!(
                        "move it to `{stem}/{up_file}`, or, if the folder holds `<version>_<name>.sql` files, declare `layout = \"native\"` and make each subfolder a file"
                    )),
                );
            }
            continue;
        }
        let display = format!("{display_dir}/{folder}");
        if !dir.join(&folder).join(up_file).exists() {
            diagnostics.push(
                Diagnostic::new(&display, format!("migration folder `{folder}` has no `{up_file}`"))
                    .with_help(format!(
                        "in this layout every folder is a migration, and its `{up_file}` is what runs; add it, or move the folder out of the migrations folder"
                    )),
            );
            continue;
        }
        let parsed = if layout == Layout::Diesel {
            diesel_version(&folder)
        } else {
            prisma_version(&folder)
        };
        let Some((digits, name, source_id)) = parsed else {
            diagnostics.push(
                Diagnostic::new(
                    &display,
                    format!("invalid migration folder name `{folder}`"),
                )
                .with_help(format!(
                    "in this layout, migrations are {}",
                    layout.expected()
                )),
            );
            continue;
        };
        let no_transaction = layout == Layout::Diesel
            && !runs_in_transaction(&dir.join(&folder).join("metadata.toml"));
        read.push((
            digits,
            Found {
                version: 0,
                name,
                file_name: format!("{folder}/{up_file}"),
                source_id,
                no_transaction,
                dialect: None,
                down: (layout == Layout::Diesel && dir.join(&folder).join("down.sql").is_file())
                    .then(|| format!("{folder}/down.sql")),
            },
        ));
    }
    // diesel orders versions as written (`2018-12-08-182930` < `2018-12-08-182930-0001`):
    // digits padded on the right to the longest compare the same way, as numbers.
    let width = if layout == Layout::Diesel {
        read.iter().map(|(d, _)| d.len()).max().unwrap_or(0)
    } else {
        0
    };
    let mut found = Vec::with_capacity(read.len());
    for (digits, mut f) in read {
        let padded = format!("{digits:0<width$}");
        let Some(version) = parse_version(&padded) else {
            diagnostics.push(too_large(display_dir, &f.file_name));
            continue;
        };
        f.version = version;
        found.push(f);
    }
    if layout == Layout::Prisma {
        for pair in found.windows(2) {
            if pair[1].version < pair[0].version {
                diagnostics.push(
                    Diagnostic::new(
                        format!("{display_dir}/{}", pair[1].file_name),
                        format!(
                            "Prisma runs `{}` before `{}` (folder-name order), but its timestamp is earlier",
                            pair[0].file_name, pair[1].file_name
                        ),
                    )
                    .with_help("give every folder a timestamp of the same width, so that name order and time order agree"),
                );
            }
        }
    }
    Ok((found, diagnostics))
}

/// diesel's version of a folder: the text before the first `_` (`2018-12-08-182930`,
/// `00000000000000`, `2018-12-08-182930-0001`), as digits, then the name and the
/// version as written. In `2024-03-13_170000_name` diesel's version is `2024-03-13`;
/// the time after it is counted in the digits so that the folder sorts by its time.
fn diesel_version(folder: &str) -> Option<(String, String, String)> {
    let (written, rest) = folder.split_once('_').unwrap_or((folder, ""));
    let mut digits: String = written.chars().filter(|&c| c != '-').collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut name = rest;
    if digits.len() == 8
        && let Some((time, after)) = rest.split_once('_')
        && time.len() == 6
        && time.bytes().all(|b| b.is_ascii_digit())
    {
        digits.push_str(time);
        name = after;
    }
    Some((digits, name.to_owned(), written.to_owned()))
}

/// Prisma's folder `<timestamp>_<name>`: the digits, the name and the folder name.
fn prisma_version(folder: &str) -> Option<(String, String, String)> {
    let digits: String = folder.chars().take_while(char::is_ascii_digit).collect();
    let rest = &folder[digits.len()..];
    if digits.is_empty() || !(rest.is_empty() || rest.starts_with('_')) {
        return None;
    }
    let name = rest.strip_prefix('_').unwrap_or(rest);
    Some((digits, name.to_owned(), folder.to_owned()))
}

/// Whether diesel's `metadata.toml` leaves the migration in a transaction: it does
/// unless the file says `run_in_transaction = false`.
fn runs_in_transaction(metadata: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(metadata) else {
        return true;
    };
    !text.lines().any(|line| {
        let line = line.split('#').next().unwrap_or_default();
        line.split_once('=').is_some_and(|(key, value)| {
            key.trim() == "run_in_transaction" && value.trim() == "false"
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diesel_versions() {
        let v = |f: &str| diesel_version(f).unwrap();
        assert_eq!(
            v("2018-12-08-182930_constraints"),
            (
                "20181208182930".into(),
                "constraints".into(),
                "2018-12-08-182930".into()
            )
        );
        assert_eq!(
            v("2024-03-13_170000_sso_userscascade"),
            (
                "20240313170000".into(),
                "sso_userscascade".into(),
                "2024-03-13".into()
            )
        );
        assert_eq!(v("00000000000000_diesel_initial_setup").0, "00000000000000");
        assert_eq!(v("2018-12-08-182930-0001_x").0, "201812081829300001");
        assert!(diesel_version("init").is_none());
    }
}
