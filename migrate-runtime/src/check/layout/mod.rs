//! Folder layouts: how the migration files of a folder are found, named, paired and
//! ordered, for this crate's own layout and for folders written or generated for other
//! tools. A layout changes nothing else: every check, the checksum and the runner are
//! the same for all.

mod detect;
mod drizzle;
mod flat;
mod folders;
mod sections;

use crate::Version;
use std::path::Path;

use super::source::Known;

use super::SourceMigration;
use crate::diagnostic::Diagnostic;

pub use crate::layout::Layout;

/// Reads the migrations of `dir` in `layout`, or in the layout detected from the
/// folder when `layout` is `None`, with every check that needs no database.
///
/// # Errors
///
/// Every file-level problem found.
pub fn read(
    dir: &Path,
    display_dir: &str,
    layout: Option<Layout>,
) -> Result<Vec<SourceMigration>, Vec<Diagnostic>> {
    read_known(dir, display_dir, layout, &|_, _| None, false)
}

/// [`read`], with the checksums of files `known` from the build cache.
pub(in crate::check) fn read_known(
    dir: &Path,
    display_dir: &str,
    layout: Option<Layout>,
    known: &Known<'_>,
    lenient_downs: bool,
) -> Result<Vec<SourceMigration>, Vec<Diagnostic>> {
    let layout = match layout {
        Some(layout) => layout,
        None => detect(dir, display_dir)?,
    };
    let found = match layout {
        Layout::Native => return super::source::read_dir_known(dir, display_dir, known),
        Layout::Sqlx | Layout::GolangMigrate | Layout::Refinery => {
            flat::find(dir, display_dir, layout)
        }
        Layout::Goose | Layout::Dbmate => sections::find(dir, display_dir, layout),
        Layout::Diesel | Layout::Prisma => folders::find(dir, display_dir, layout),
        Layout::Drizzle => drizzle::find(dir, display_dir),
    };
    let tag = |ds: Vec<Diagnostic>| ds.into_iter().map(|d| tagged(d, layout)).collect();
    let (found, diagnostics) = found.map_err(tag)?;
    let read = Reader {
        dir,
        display_dir,
        layout,
        known,
        lenient_downs,
    };
    finish(&read, found, diagnostics).map_err(tag)
}

/// The layout of `dir`, from the signals its files give (see the README's "Layouts of
/// other tools").
///
/// # Errors
///
/// The folder shows the signals of more than one tool.
pub fn detect(dir: &Path, display_dir: &str) -> Result<Layout, Vec<Diagnostic>> {
    detect::detect(dir, display_dir)
}

impl Layout {
    /// The file names of the layout, as help text.
    const fn expected(self) -> &'static str {
        match self {
            Self::Native => "`<version>_<name>.sql`",
            Self::Sqlx => {
                "`<version>_<description>.sql`, or `<version>_<description>.up.sql` with an optional `.down.sql`"
            }
            Self::Refinery => "`V<version>__<name>.sql`",
            Self::Diesel => {
                "folders `<version>_<name>/` holding `up.sql` (and `down.sql`), the version `YYYY-MM-DD-HHMMSS`"
            }
            Self::GolangMigrate => "`<version>_<name>.up.sql` with an optional `.down.sql`",
            Self::Goose => "`<version>_<name>.sql` with a `-- +goose Up` section",
            Self::Dbmate => "`<version>_<name>.sql` with a `-- migrate:up` section",
            Self::Prisma => "folders `<timestamp>_<name>/` holding `migration.sql`",
            Self::Drizzle => {
                "`<NNNN>_<name>.sql`, listed in `meta/_journal.json` when there is one"
            }
        }
    }
}

/// A diagnostic of a foreign layout, saying which layout was applied.
pub(super) fn tagged(mut d: Diagnostic, layout: Layout) -> Diagnostic {
    if layout != Layout::Native {
        // At the end of the first line: the lines after it list details.
        let tag = format!(" (layout `{layout}`)");
        let at = d.message.find('\n').unwrap_or(d.message.len());
        d.message.insert_str(at, &tag);
    }
    d
}

/// A migration file found by a layout, before it is read.
#[derive(Debug, Clone)]
struct Found {
    /// The version it runs at.
    version: Version,
    /// The description as written.
    name: String,
    /// The path relative to the folder, with `/`.
    file_name: String,
    /// The tool's identifier of the migration.
    source_id: String,
    /// The layout's metadata says it runs without a transaction (diesel's `metadata.toml`).
    no_transaction: bool,
    /// The SQL dialect named in the file name (`x.sqlite3.up.sql`), lowercase.
    dialect: Option<String>,
    /// Where its down script is, relative to the folder with `/`: a down file, or
    /// `file_name` itself for a down section (goose, dbmate).
    down: Option<String>,
}

/// The dialect suffixes of file names written for one database among several.
const DIALECTS: [&str; 8] = [
    "sqlite3",
    "sqlite",
    "postgres",
    "postgresql",
    "pg",
    "mysql",
    "mariadb",
    "mssql",
];

/// Splits a dialect suffix off a description: `add_users.sqlite3` → (`add_users`, `sqlite3`).
fn split_dialect(name: &str) -> (&str, Option<String>) {
    if let Some((base, suffix)) = name.rsplit_once('.') {
        let lower = suffix.to_ascii_lowercase();
        if !base.is_empty() && DIALECTS.contains(&lower.as_str()) {
            return (base, Some(lower));
        }
    }
    (name, None)
}

/// Whether a dialect is SQLite's.
fn is_sqlite(dialect: Option<&str>) -> bool {
    matches!(dialect, Some("sqlite" | "sqlite3"))
}

/// Keeps, of siblings that differ only by a dialect suffix, the SQLite one, else the
/// generic one; others stay when neither exists.
fn select_dialects(found: Vec<Found>) -> Vec<Found> {
    let key = |f: &Found| (f.version, f.name.clone());
    let rank = |f: &Found| match f.dialect.as_deref() {
        d if is_sqlite(d) => 2,
        None => 1,
        Some(_) => 0,
    };
    let mut best: std::collections::BTreeMap<(Version, String), u8> =
        std::collections::BTreeMap::new();
    for f in &found {
        let entry = best.entry(key(f)).or_default();
        *entry = (*entry).max(rank(f));
    }
    found
        .into_iter()
        .filter(|f| {
            let top = best[&key(f)];
            top == 0 || rank(f) == top
        })
        .collect()
}

/// Parses a version written in digits.
fn parse_version(digits: &str) -> Option<Version> {
    digits.parse().ok()
}

/// The diagnostic for a version beyond [`Version::MAX`].
fn too_large(display_dir: &str, file_name: &str) -> Diagnostic {
    Diagnostic::new(
        format!("{display_dir}/{file_name}"),
        format!(
            "migration version in `{file_name}` is beyond the largest version, {}",
            Version::MAX
        ),
    )
    .with_help("versions are kept exactly up to 38 digits (and 39-digit ones up to that largest one); use a shorter version")
}

/// The non-hidden entries of `dir`, sorted by name: (name, is a folder). Names that
/// are not UTF-8 are shown lossily.
///
/// # Errors
///
/// The folder is missing or cannot be read.
fn entries(dir: &Path, display_dir: &str) -> Result<Vec<(String, bool)>, Vec<Diagnostic>> {
    let read = std::fs::read_dir(dir)
        .map_err(|e| vec![super::source::folder_unreadable(display_dir, &e)])?;
    let mut out = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| {
            vec![Diagnostic::new(
                display_dir,
                format!("cannot read the migrations folder: {e}"),
            )]
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        out.push((name, super::source::entry_is_dir(&entry)));
    }
    // The tuples' order (two names not UTF-8 may read the same), with the names
    // compared as bytes: the tuples' own comparison costs twice as much in the
    // macro's unoptimised build.
    out.sort_unstable_by(|(a, a_dir), (b, b_dir)| {
        a.as_bytes().cmp(b.as_bytes()).then(a_dir.cmp(b_dir))
    });
    Ok(out)
}

/// Whether a file name ends in `.sql`, in any case.
fn is_sql(name: &str) -> bool {
    name.len() > 4
        && name
            .get(name.len() - 4..)
            .is_some_and(|ext| ext.eq_ignore_ascii_case(".sql"))
}

/// The text a layout executes from a migration file, and whether the layout's
/// annotations say it runs without a transaction.
type Prepared = (String, bool);

/// What [`finish`] reads a folder with.
struct Reader<'a> {
    dir: &'a Path,
    display_dir: &'a str,
    layout: Layout,
    known: &'a Known<'a>,
    /// A down script with a problem makes its migration irreversible rather than
    /// failing the build.
    lenient_downs: bool,
}

/// The down script of a migration in another tool's layout, with the content checks
/// of its up: `Err(reason)` when it cannot be used, which makes the migration
/// irreversible (it holds no statement, the tool's way of saying so; or, with
/// `lenient_downs`, it has a problem).
fn read_down(
    read: &Reader<'_>,
    file_name: &str,
    up_no_transaction: bool,
) -> Result<Result<crate::source::SourceDown, crate::source::UnusedDown>, Vec<Diagnostic>> {
    let lenient = |ds: Vec<Diagnostic>| match ds.first() {
        Some(d) if read.lenient_downs => Ok(Err(crate::source::UnusedDown {
            path: read.dir.join(file_name),
            reason: unproven(d),
        })),
        _ => Err(ds),
    };
    match read_down_strict(read, file_name, up_no_transaction) {
        Ok(down) => Ok(down),
        Err(ds) => lenient(ds),
    }
}

/// Why a migration is irreversible when its down script has the problem `d`.
pub(in crate::check) fn unproven(d: &Diagnostic) -> String {
    let at = d
        .location
        .map(|l| format!(":{}:{}", l.line, l.column))
        .unwrap_or_default();
    let first = d.message.lines().next().unwrap_or_default();
    format!(
        "its down script does not pass the build's proof ({}{at}: {first}), so it never runs",
        d.path
    )
}

fn read_down_strict(
    read: &Reader<'_>,
    file_name: &str,
    up_no_transaction: bool,
) -> Result<Result<crate::source::SourceDown, crate::source::UnusedDown>, Vec<Diagnostic>> {
    let (dir, display_dir, layout) = (read.dir, read.display_dir, read.layout);
    let path = dir.join(file_name);
    let display_path = format!("{display_dir}/{file_name}");
    let text = super::source::read_file(&path, &display_path).map_err(|d| vec![d])?;
    let (sql, no_transaction) = match layout {
        // one file: the same annotations say how both sections run
        Layout::Goose | Layout::Dbmate => {
            (sections::down_section(layout, &text), up_no_transaction)
        }
        Layout::Sqlx => {
            let no_transaction = text.starts_with("-- no-transaction");
            (text, no_transaction)
        }
        Layout::Diesel => (text, up_no_transaction),
        _ => (text, false),
    };
    if crate::sql::statements(&sql).is_empty() {
        let what = match layout {
            Layout::Goose | Layout::Dbmate => format!("its down section in `{display_path}`"),
            _ => format!("its down script `{display_path}`"),
        };
        return Ok(Err(crate::source::UnusedDown {
            path,
            reason: format!(
                "{what} holds no statement (how {layout} marks a migration that cannot be undone)"
            ),
        }));
    }
    let transaction = super::statements::foreign_content(&display_path, &sql, no_transaction)?;
    Ok(Ok(crate::source::SourceDown {
        checksum: crate::checksum(&sql),
        file_name: file_name.to_owned(),
        path,
        display_path,
        sql,
        transaction,
    }))
}

/// Sorts and checks what a layout found, reads every file and runs the content checks.
fn finish(
    read: &Reader<'_>,
    found: Vec<Found>,
    mut diagnostics: Vec<Diagnostic>,
) -> Result<Vec<SourceMigration>, Vec<Diagnostic>> {
    let (dir, display_dir, layout, known) = (read.dir, read.display_dir, read.layout, read.known);
    let display = |file: &str| format!("{display_dir}/{file}");
    let mut found = select_dialects(found);
    // Stable: a layout that found them in run order (drizzle's journal) keeps it.
    found.sort_by_key(|f| f.version);
    for pair in found.windows(2) {
        if pair[0].version == pair[1].version {
            diagnostics.push(
                Diagnostic::new(
                    display(&pair[1].file_name),
                    format!(
                        "duplicate migration version {}: `{}` and `{}`",
                        pair[0].version, pair[0].file_name, pair[1].file_name
                    ),
                )
                .with_help("each migration needs a version of its own; give one of them the next free version"),
            );
        }
    }
    if found.is_empty() && diagnostics.is_empty() {
        diagnostics.push(
            Diagnostic::new(display_dir, "no migrations found in the folder").with_help(format!(
                "in this layout, migrations are {}",
                layout.expected()
            )),
        );
    }
    let mut migrations = Vec::with_capacity(found.len());
    let mut chain = crate::checksum::CHAIN_START;
    for f in found {
        let path = dir.join(&f.file_name);
        let display_path = display(&f.file_name);
        let text = match super::source::read_file(&path, &display_path) {
            Ok(text) => text,
            Err(d) => {
                diagnostics.push(d);
                continue;
            }
        };
        let prepared = match layout {
            Layout::Goose | Layout::Dbmate => sections::prepare(layout, &display_path, &text),
            Layout::Sqlx => {
                let no_transaction = text.starts_with("-- no-transaction");
                Ok((text, no_transaction))
            }
            _ => Ok((text, false)),
        };
        let (sql, no_transaction) = match prepared {
            Ok(p) => p,
            Err(d) => {
                diagnostics.push(d);
                continue;
            }
        };
        match super::statements::foreign_content(
            &display_path,
            &sql,
            no_transaction || f.no_transaction,
        ) {
            Ok(transaction) => {
                let (down, irreversible) = match &f.down {
                    Some(down) => match read_down(read, down, no_transaction || f.no_transaction) {
                        Ok(Ok(down)) => (Some(down), None),
                        Ok(Err(reason)) => (None, Some(reason)),
                        Err(ds) => {
                            diagnostics.extend(ds);
                            continue;
                        }
                    },
                    None => (None, None),
                };
                let cached = known(&display_path, &sql);
                let checksum = cached.map_or_else(|| crate::checksum(&sql), |k| k.checksum);
                chain = super::cache::next_chain(&chain, f.version, &checksum, cached.as_ref());
                migrations.push(SourceMigration {
                    version: f.version,
                    name: f.name,
                    file_name: f.file_name,
                    path,
                    display_path,
                    sql,
                    checksum,
                    chain,
                    transaction,
                    source_id: f.source_id,
                    down,
                    irreversible,
                    changes: Vec::new(),
                });
            }
            Err(ds) => diagnostics.extend(ds),
        }
    }
    if diagnostics.is_empty() {
        Ok(migrations)
    } else {
        Err(diagnostics)
    }
}
