//! `migrate new`: the next file's name in the folder's numbering, its header, and
//! the `build.rs` line that makes cargo notice it.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use migrate_runtime::check::layout::{self, Layout};
use migrate_runtime::name;

use crate::Failure;

/// The name in the grammar's form: `Add-Tags` → `add_tags` (the checker's own rule).
pub fn corrected(name: &str) -> String {
    name::parts(&format!("0_{name}.sql")).1
}

/// The files to create for migration `name` in `dir`, each with its content; with
/// `reversible`, a native migration gets its `.down.sql` file too (the layouts of
/// other tools that have down scripts always get theirs).
pub fn next_files(
    dir: &Path,
    display_dir: &str,
    layout: Layout,
    name: &str,
    reversible: bool,
) -> Result<Vec<(PathBuf, String)>, Failure> {
    let now = utc_now();
    let entries = entries(dir)?;
    // The folder's versions: the leading digits of each entry (after refinery's `V`).
    let versions: Vec<&str> = entries
        .iter()
        .map(|e| e.strip_prefix('V').unwrap_or(e))
        .map(|e| {
            let end = e.find(|c: char| !c.is_ascii_digit()).unwrap_or(e.len());
            &e[..end]
        })
        .filter(|d| !d.is_empty())
        .collect();
    let width = versions.iter().map(|d| d.len()).max();
    let timestamps = width.is_some_and(|w| w >= 10);
    let next = |default_width: usize| -> Result<String, Failure> {
        let highest = versions.iter().filter_map(|d| d.parse::<u128>().ok()).max();
        let next = highest.map_or(1, |h| h + 1);
        let width = width.unwrap_or(default_width);
        let text = format!("{next:0width$}");
        if text.len() > width && width > 1 && versions.iter().all(|d| d.len() == width) {
            return Err(Failure(format!(
                "the versions in {display_dir} have {width} digits and {} is the highest: the next, {next}, does not fit; rename the files with one more digit first",
                highest.unwrap_or(0)
            )));
        }
        Ok(text)
    };
    let header = |comment: &str| {
        format!(
            "{comment} {name}\n{comment} Created {} UTC by `migrate new`.\n\n",
            now.iso
        )
    };
    let file = |file_name: String, body: String| (dir.join(file_name), body);
    let sequential_or_timestamp = |default_width| -> Result<String, Failure> {
        if timestamps || width.is_none() {
            Ok(now.compact.clone())
        } else {
            next(default_width)
        }
    };
    Ok(match layout {
        Layout::Native => {
            let version = if timestamps {
                timestamp_like(&now.compact, &versions)
            } else {
                next(3)?
            };
            let mut files = vec![file(format!("{version}_{name}.sql"), header("--"))];
            if reversible {
                files.push(file(
                    format!("{version}_{name}.down.sql"),
                    format!(
                        "{}-- Undo {version}_{name}.sql here: the build applies it, runs this file,\n-- and requires the schema from before it.\n",
                        header("--")
                    ),
                ));
            }
            files
        }
        Layout::Sqlx => {
            let version = sequential_or_timestamp(1)?;
            if entries.iter().any(|e| e.ends_with(".up.sql")) {
                vec![
                    file(format!("{version}_{name}.up.sql"), header("--")),
                    file(format!("{version}_{name}.down.sql"), header("--")),
                ]
            } else {
                vec![file(format!("{version}_{name}.sql"), header("--"))]
            }
        }
        Layout::Refinery | Layout::Prisma if reversible => {
            return Err(Failure(format!(
                "{display_dir} is in the {layout} layout, which has no down scripts: --reversible needs the native layout or one with down files (sqlx, diesel, golang-migrate, goose, dbmate)"
            )));
        }
        Layout::Refinery => vec![file(format!("V{}__{name}.sql", next(1)?), header("--"))],
        Layout::GolangMigrate => {
            let version = if timestamps {
                now.compact.clone()
            } else {
                next(1)?
            };
            vec![
                file(format!("{version}_{name}.up.sql"), header("--")),
                file(format!("{version}_{name}.down.sql"), header("--")),
            ]
        }
        Layout::Goose => {
            let version = sequential_or_timestamp(5)?;
            vec![file(
                format!("{version}_{name}.sql"),
                format!("{}-- +goose Up\n\n-- +goose Down\n", header("--")),
            )]
        }
        Layout::Dbmate => vec![file(
            format!("{}_{name}.sql", now.compact),
            format!("{}-- migrate:up\n\n-- migrate:down\n", header("--")),
        )],
        Layout::Diesel => {
            let folder = format!("{}_{name}", now.diesel);
            vec![
                file(format!("{folder}/up.sql"), header("--")),
                file(format!("{folder}/down.sql"), header("--")),
            ]
        }
        Layout::Prisma => vec![file(
            format!("{}_{name}/migration.sql", now.compact),
            header("--"),
        )],
        _ => {
            return Err(Failure(format!(
                "{display_dir} is in the {layout} layout, whose files (and journal) its own tool generates; create the migration with it"
            )));
        }
    })
}

/// A UTC timestamp with the digit count of the folder's versions (all versions have
/// one width in the native layout), above the highest one.
fn timestamp_like(compact: &str, versions: &[&str]) -> String {
    let width = versions
        .iter()
        .map(|d| d.len())
        .max()
        .unwrap_or(compact.len());
    let mut stamp: String = compact.chars().take(width).collect();
    while stamp.len() < width {
        stamp.push('0');
    }
    let highest = versions.iter().filter_map(|d| d.parse::<u128>().ok()).max();
    match (stamp.parse::<u128>(), highest) {
        (Ok(value), Some(h)) if value <= h => format!("{:0width$}", h + 1),
        _ => stamp,
    }
}

/// The names in `dir`, sorted, without hidden ones.
fn entries(dir: &Path) -> Result<Vec<String>, Failure> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Failure(format!("cannot read {}: {e}", dir.display())))?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    Ok(names)
}

/// The folder's layout: the one given, else the detected one (an empty folder is native).
pub fn layout_of(dir: &Path, display_dir: &str, given: Option<Layout>) -> Result<Layout, Failure> {
    if let Some(layout) = given {
        return Ok(layout);
    }
    layout::detect(dir, display_dir).map_err(|ds| {
        Failure(ds.first().map_or_else(
            || "cannot tell the folder's layout".to_owned(),
            |d| d.to_string().lines().next().unwrap_or_default().to_owned(),
        ))
    })
}

/// The current UTC time, in the forms file names use.
struct Now {
    /// `20260101120000`
    compact: String,
    /// `2026-01-01-120000` (diesel)
    diesel: String,
    /// `2026-01-01 12:00:00`
    iso: String,
}

fn utc_now() -> Now {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    from_unix(secs)
}

/// A time in seconds since 1970-01-01 UTC, in the forms file names use.
fn from_unix(secs: u64) -> Now {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rest = secs % 86_400;
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    // Howard Hinnant's `civil_from_days`.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    Now {
        compact: format!("{y:04}{mo:02}{d:02}{h:02}{m:02}{s:02}"),
        diesel: format!("{y:04}-{mo:02}-{d:02}-{h:02}{m:02}{s:02}"),
        iso: format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02}"),
    }
}

/// The `build.rs` line for the folder, as `--build-rs` writes it.
pub fn build_line(relative: &str) -> String {
    format!("println!(\"cargo:rerun-if-changed={relative}\");")
}

/// Where the crate beside the folder is, and the folder relative to it: the nearest
/// ancestor of the folder holding a `Cargo.toml`.
pub fn crate_of(dir: &Path) -> Option<(PathBuf, String)> {
    let absolute = std::path::absolute(dir).ok()?;
    let mut root = absolute.parent()?;
    loop {
        if root.join("Cargo.toml").is_file() {
            let relative = absolute
                .strip_prefix(root)
                .ok()?
                .to_string_lossy()
                .replace('\\', "/");
            return Some((root.to_path_buf(), relative));
        }
        root = root.parent()?;
    }
}

/// Whether `build.rs` already makes cargo watch the folder.
pub fn has_line(build_rs: &str, relative: &str) -> bool {
    build_rs.lines().any(|line| {
        (line.contains("rerun-if-changed") || line.contains("rerun_if_changed"))
            && line.contains(relative)
    })
}

/// `build.rs` with the line added: a new file, or the line as the first of `main`.
pub fn with_line(build_rs: Option<&str>, relative: &str) -> Option<String> {
    let line = build_line(relative);
    match build_rs {
        None => Some(format!("fn main() {{\n    {line}\n}}\n")),
        Some(text) => {
            let at = text.find("fn main()")?;
            let brace = at + text[at..].find('{')?;
            Some(format!(
                "{}\n    {line}{}",
                &text[..=brace],
                &text[brace + 1..]
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_become_utc_dates() {
        for (secs, compact) in [
            (0, "19700101000000"),
            (951_782_400, "20000229000000"),
            (1_704_067_199, "20231231235959"),
            (1_704_067_200, "20240101000000"),
            (4_107_542_400, "21000301000000"),
        ] {
            assert_eq!(from_unix(secs).compact, compact, "{secs}");
        }
        let now = from_unix(1_709_210_096);
        assert_eq!(
            (now.compact.as_str(), now.diesel.as_str(), now.iso.as_str()),
            ("20240229123456", "2024-02-29-123456", "2024-02-29 12:34:56")
        );
    }

    #[test]
    fn the_build_rs_line_is_found_and_added() {
        assert!(has_line(
            "fn main() {\n    migrate::build::rerun_if_changed(\"db/migrations\");\n}",
            "db/migrations"
        ));
        assert!(!has_line("fn main() {}", "migrations"));
        let added = with_line(
            Some("// build\nfn main() {\n    other();\n}\n"),
            "migrations",
        );
        assert_eq!(
            added.as_deref(),
            Some(
                "// build\nfn main() {\n    println!(\"cargo:rerun-if-changed=migrations\");\n    other();\n}\n"
            )
        );
        assert_eq!(with_line(Some("pub fn helper() {}"), "migrations"), None);
    }

    #[test]
    fn names_are_corrected_as_the_checker_corrects_them() {
        assert_eq!(corrected("add_tags"), "add_tags");
        assert_eq!(corrected("Add-Tags"), "add_tags");
        assert_eq!(corrected("add  tags!"), "add_tags");
    }
}
