//! Telling a folder's layout from its files, when `migrations!` does not name one.

use crate::Version;
use std::path::Path;

use super::{Layout, entries, flat, is_sql, sections};
use crate::diagnostic::Diagnostic;

/// A tool's signal found in the folder: the layout, and where it was seen.
type Signal = (Layout, String);

/// The layout of `dir`. Distinctive signals first: refinery names (`V1__x.sql`),
/// diesel folders with `up.sql`, Prisma folders with `migration.sql` (or
/// `migration_lock.toml`), drizzle's `meta/_journal.json` or `--> statement-breakpoint`,
/// goose's `-- +goose Up`, dbmate's `-- migrate:up`, `.up.sql` files
/// (golang-migrate, or sqlx when a file starts with `-- no-transaction` or plain
/// `<version>_<name>.sql` files sit beside them). Without any: `<version>_<name>.sql`
/// files are sqlx when they were plainly not written for the native rules (see
/// [`written_for_sqlx`]), else native, whose own checks then explain any misnamed file.
/// A folder that cannot be read is native, whose reader reports it.
pub(super) fn detect(dir: &Path, display_dir: &str) -> Result<Layout, Vec<Diagnostic>> {
    let Ok(listed) = entries(dir, display_dir) else {
        return Ok(Layout::Native);
    };
    let mut signals: Vec<Signal> = Vec::new();
    let mut signal = |layout: Layout, seen: String| {
        if !signals.iter().any(|(l, _)| *l == layout) {
            signals.push((layout, seen));
        }
    };
    let mut no_transaction = false;
    let mut numbered = false;
    for (name, is_dir) in &listed {
        if *is_dir {
            let sub = dir.join(name);
            if sub.join("up.sql").is_file() {
                signal(Layout::Diesel, format!("`{name}/up.sql`"));
            }
            if sub.join("migration.sql").is_file() {
                signal(Layout::Prisma, format!("`{name}/migration.sql`"));
            }
            if name == "meta" && sub.join("_journal.json").is_file() {
                signal(Layout::Drizzle, "`meta/_journal.json`".to_owned());
            }
            continue;
        }
        if name == "migration_lock.toml" {
            signal(Layout::Prisma, "`migration_lock.toml`".to_owned());
        }
        if !is_sql(name) {
            continue;
        }
        // What the file's text shows: `-- no-transaction` first, goose's and
        // dbmate's up annotations, drizzle's breakpoints.
        let seen = |bytes: &[u8]| {
            let text = String::from_utf8_lossy(bytes);
            let (goose, dbmate) = sections::annotations(&text);
            (
                text.starts_with("-- no-transaction"),
                goose,
                dbmate,
                crate::check::search::contains(&text, "--> statement-breakpoint", '>'),
            )
        };
        let (starts_no_transaction, goose, dbmate, breakpoint) =
            super::super::read_once::read_ahead(&dir.join(name), seen).unwrap_or_default();
        if flat::is_refinery(name) {
            signal(Layout::Refinery, format!("`{name}`"));
        } else if flat::is_up(name) {
            signal(Layout::GolangMigrate, format!("`{name}`"));
            no_transaction |= starts_no_transaction;
        } else if flat::is_numbered(name) && !name.ends_with(".down.sql") {
            numbered = true;
        }
        if goose {
            signal(Layout::Goose, format!("`-- +goose Up` in `{name}`"));
        }
        if dbmate {
            signal(Layout::Dbmate, format!("`-- migrate:up` in `{name}`"));
        }
        if breakpoint {
            signal(
                Layout::Drizzle,
                format!("`--> statement-breakpoint` in `{name}`"),
            );
        }
    }
    match signals.as_slice() {
        [] if numbered && written_for_sqlx(&listed) => Ok(Layout::Sqlx),
        [] => Ok(Layout::Native),
        [(Layout::GolangMigrate, _)] if no_transaction || numbered => Ok(Layout::Sqlx),
        [(layout, _)] => Ok(*layout),
        several => Err(vec![ambiguous(display_dir, several)]),
    }
}

/// The error for a folder showing the signals of several tools.
fn ambiguous(display_dir: &str, signals: &[Signal]) -> Diagnostic {
    let name = |l: Layout| match l {
        Layout::GolangMigrate => "golang-migrate or sqlx".to_owned(),
        other => other.name().to_owned(),
    };
    let seen: Vec<String> = signals
        .iter()
        .map(|(l, seen)| format!("{} ({seen})", name(*l)))
        .collect();
    let lines: Vec<String> = signals
        .iter()
        .map(|(l, _)| format!("`migrations!(\"{display_dir}\", layout = \"{l}\")`"))
        .collect();
    Diagnostic::new(
        display_dir,
        format!(
            "cannot tell which tool's layout the folder uses: it has the files of {}",
            seen.join(", ")
        ),
    )
    .with_help(format!(
        "name the layout in the macro: {}",
        lines.join(" or ")
    ))
}

/// Whether flat `.sql` files are sqlx's rather than misnamed native ones: every name
/// is `<digits>_<description>.sql` with a distinct version that fits in an `Version`, and
/// either some description is outside the native grammar (upper case, `-`, `.`, spaces)
/// or the versions are unpadded sequential numbers of several widths (`1_`, …, `10_`). A native
/// folder with a typo (`3_c.sql` among `001`, `002`) stays native.
fn written_for_sqlx(listed: &[(String, bool)]) -> bool {
    // A list sorted once and a handful of widths: a set's insertions cost more
    // than the rest of the detection in the macro's unoptimised build.
    let mut versions: Vec<Version> = Vec::with_capacity(listed.len());
    let mut widths: Vec<usize> = Vec::new();
    let (mut padded, mut foreign_name) = (false, false);
    for (name, is_dir) in listed {
        // down files follow their up's name; the ups tell the layout
        if *is_dir || !is_sql(name) || name.ends_with(".down.sql") {
            continue;
        }
        // a name that is not UTF-8 (shown with U+FFFD) is the native reader's to report
        let Some(stem) = name
            .strip_suffix(".sql")
            .filter(|_| !name.contains('\u{fffd}'))
        else {
            return false;
        };
        let Some((digits, description)) = stem.split_once('_') else {
            return false;
        };
        if digits.is_empty()
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || description.is_empty()
        {
            return false;
        }
        let Ok(version) = digits.parse::<Version>() else {
            return false;
        };
        versions.push(version);
        if !widths.contains(&digits.len()) {
            widths.push(digits.len());
        }
        padded |= digits.len() > 1 && digits.starts_with('0');
        foreign_name |= !description
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    }
    versions.sort_unstable();
    if versions.windows(2).any(|pair| pair[0] == pair[1]) {
        return false;
    }
    // unpadded sequential numbers (not timestamps, whose widths differing is a mistake)
    foreign_name || (!padded && widths.len() > 1 && widths.iter().all(|&w| w < 10))
}
