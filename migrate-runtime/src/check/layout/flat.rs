//! Layouts of one file per migration, named `<version>_<name>…`: sqlx, golang-migrate
//! and refinery. Down files (sqlx, golang-migrate) are paired with their up files.

use rustc_hash::FxHashMap;
use std::path::Path;

use super::{Found, Layout, entries, is_sql, parse_version, split_dialect, too_large};
use crate::diagnostic::Diagnostic;

/// The up migrations of `dir` in `layout`, and the problems with the other `.sql` files.
pub(super) fn find(
    dir: &Path,
    display_dir: &str,
    layout: Layout,
) -> Result<(Vec<Found>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut found: Vec<Found> = Vec::new();
    let mut diagnostics = Vec::new();
    let mut downs = Vec::new();
    for (file_name, is_dir) in entries(dir, display_dir)? {
        if is_dir || !is_sql(&file_name) {
            continue;
        }
        let parsed = match layout {
            Layout::Refinery => refinery(&file_name),
            Layout::GolangMigrate => golang_migrate(&file_name),
            _ => sqlx(&file_name),
        };
        match parsed {
            Parsed::Up { digits, name } => {
                let Some(version) = parse_version(digits) else {
                    diagnostics.push(too_large(display_dir, &file_name));
                    continue;
                };
                let (name, dialect) = split_dialect(name);
                found.push(Found {
                    version,
                    name: name.to_owned(),
                    source_id: digits.to_owned(),
                    file_name: file_name.clone(),
                    no_transaction: false,
                    dialect,
                    down: None,
                });
            }
            Parsed::Down => downs.push(file_name.clone()),
            Parsed::Unversioned => diagnostics.push(
                Diagnostic::new(
                    format!("{display_dir}/{file_name}"),
                    format!("unversioned migration `{file_name}` is not supported"),
                )
                .with_help("refinery runs `U<n>__` migrations outside the version order, which this crate does not do; rename it to `V<n>__…` with a version after the ones applied before it, or keep it out of the folder"),
            ),
            Parsed::Invalid => diagnostics.push(
                Diagnostic::new(
                    format!("{display_dir}/{file_name}"),
                    format!("invalid migration file name `{file_name}`"),
                )
                .with_help(format!(
                    "in this layout, migrations are {}; rename the file, or move it out of the folder",
                    layout.expected()
                )),
            ),
        }
    }
    // The ups by file name and by version as written, so that pairing stays linear.
    let mut by_name: FxHashMap<String, usize> = FxHashMap::default();
    let mut by_digits: FxHashMap<String, Vec<usize>> = FxHashMap::default();
    for (i, f) in found.iter().enumerate() {
        by_name.entry(f.file_name.clone()).or_insert(i);
        by_digits.entry(f.source_id.clone()).or_default().push(i);
    }
    for down in downs {
        let up = up_name(&down);
        let digits: String = down.chars().take_while(char::is_ascii_digit).collect();
        // The up of the same name, else (sqlx and golang-migrate pair by version) the
        // up of the same version that has no down yet.
        let index = by_name.get(&up).copied().or_else(|| {
            by_digits
                .get(&digits)?
                .iter()
                .copied()
                .find(|&i| found[i].down.is_none())
        });
        match index.map(|i| &mut found[i]) {
            Some(f) => f.down = Some(down),
            None => diagnostics.push(
                Diagnostic::new(
                    format!("{display_dir}/{down}"),
                    format!("down file `{down}` has no up migration: `{up}` is not in the folder"),
                )
                .with_help(format!(
                    "a down file undoes the migration of the same name; add `{up}`, rename the down file after its up, or delete it"
                )),
            ),
        }
    }
    Ok((found, diagnostics))
}

/// The up file a down file is named after: its last `.down.` made `.up.`.
fn up_name(down: &str) -> String {
    match down.rfind(".down.") {
        Some(at) => format!("{}.up.{}", &down[..at], &down[at + 6..]),
        None => down.to_owned(),
    }
}

/// A file name read by a flat layout.
enum Parsed<'a> {
    /// An up migration: the version's digits and the description.
    Up { digits: &'a str, name: &'a str },
    /// A down migration, skipped.
    Down,
    /// refinery's `U<n>__`.
    Unversioned,
    /// Not a migration name of the layout.
    Invalid,
}

/// `<digits>_<rest>`, both non-empty.
fn version_and_name(stem: &str) -> Option<(&str, &str)> {
    let (digits, name) = stem.split_once('_')?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty())
        .then_some((digits, name))
}

/// sqlx: `<version>_<description>.sql`, `.up.sql`, `.down.sql`.
fn sqlx(file_name: &str) -> Parsed<'_> {
    let stem = &file_name[..file_name.len() - 4];
    if stem.ends_with(".down") {
        return Parsed::Down;
    }
    let stem = stem.strip_suffix(".up").unwrap_or(stem);
    match version_and_name(stem) {
        Some((digits, name)) => Parsed::Up { digits, name },
        None => Parsed::Invalid,
    }
}

/// golang-migrate: `<version>_<name>.up.<ext>` / `.down.<ext>` (its pattern
/// `^([0-9]+)_(.*)\.(down|up)\.(.*)$`, so `x.up..sql` is the up file of `x`).
fn golang_migrate(file_name: &str) -> Parsed<'_> {
    let up = file_name.rfind(".up.");
    let down = file_name.rfind(".down.");
    let (at, is_up) = match (up, down) {
        (Some(u), Some(d)) if d > u => (d, false),
        (Some(u), _) => (u, true),
        (None, Some(d)) => (d, false),
        (None, None) => return Parsed::Invalid,
    };
    match version_and_name(&file_name[..at]) {
        Some(_) if !is_up => Parsed::Down,
        Some((digits, name)) => Parsed::Up { digits, name },
        None => Parsed::Invalid,
    }
}

/// refinery: `V<version>__<name>.sql`; `U<version>__<name>.sql` is unversioned.
fn refinery(file_name: &str) -> Parsed<'_> {
    let stem = &file_name[..file_name.len() - 4];
    let (kind, rest) = stem.split_at(stem.chars().next().map_or(0, char::len_utf8));
    let Some((digits, name)) = rest.split_once("__") else {
        return Parsed::Invalid;
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || name.is_empty() {
        return Parsed::Invalid;
    }
    match kind {
        "V" => Parsed::Up { digits, name },
        "U" => Parsed::Unversioned,
        _ => Parsed::Invalid,
    }
}

/// Whether a name is refinery's (`V1__x.sql`, `U1__x.sql`), for detection.
pub(super) fn is_refinery(file_name: &str) -> bool {
    is_sql(file_name) && !matches!(refinery(file_name), Parsed::Invalid)
}

/// Whether a name is an up file (`x.up.sql`), for detection.
pub(super) fn is_up(file_name: &str) -> bool {
    is_sql(file_name) && matches!(golang_migrate(file_name), Parsed::Up { .. })
}

/// Whether a name is `<digits>_<name>.sql`, for detection.
pub(super) fn is_numbered(file_name: &str) -> bool {
    is_sql(file_name) && matches!(sqlx(file_name), Parsed::Up { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(matches!(
            golang_migrate("30_ignore_autotag.up..sql"),
            Parsed::Up {
                digits: "30",
                name: "ignore_autotag"
            }
        ));
        assert!(matches!(
            golang_migrate("20240813211251_passkey_backup_flags..up.sql"),
            Parsed::Up {
                name: "passkey_backup_flags.",
                ..
            }
        ));
        assert!(matches!(golang_migrate("1_a.down.sql"), Parsed::Down));
        assert!(matches!(golang_migrate("1_a.sql"), Parsed::Invalid));
        assert!(matches!(
            sqlx("99_x.up.sql"),
            Parsed::Up {
                digits: "99",
                name: "x"
            }
        ));
        assert!(matches!(sqlx("99_x.down.sql"), Parsed::Down));
        assert!(matches!(sqlx("x.sql"), Parsed::Invalid));
        assert!(matches!(
            refinery("V2__a.sql"),
            Parsed::Up {
                digits: "2",
                name: "a"
            }
        ));
        assert!(matches!(refinery("U2__a.sql"), Parsed::Unversioned));
        assert!(matches!(refinery("V2_a.sql"), Parsed::Invalid));
    }
}
