//! Reading the folder: file names, numbering, down scripts and encoding; what the
//! statements show without running them is in `statements`.

use crate::Version;
use rustc_hash::FxHashMap;
use std::path::Path;

use super::SourceMigration;
use super::cache::KnownFile;
use crate::diagnostic::Diagnostic;
use crate::name::{self, NameError};
use crate::source::SourceDown;
use crate::sql;

use super::naming::{Plan, name_error, numbering};
use super::statements::statement_problems;

/// Sequential versions have fewer digits than this; longer ones are timestamps.
pub(super) const TIMESTAMP_DIGITS: usize = 10;

/// The width of a folder with no readable version at all (`001_…`).
pub(super) const DEFAULT_DIGITS: usize = 3;

/// The grammar, as help text.
pub(super) const NAME_RULE: &str = "names are `<version>_<name>.sql`: the version in digits, then `_`, then lowercase ASCII letters, digits and `_`";

/// A candidate file whose name parsed.
pub(super) struct Named {
    pub(super) file_name: String,
    pub(super) digits: String,
    pub(super) version: Version,
    pub(super) name: String,
    /// Spelled `<version>_<name>.up.sql` rather than `<version>_<name>.sql`.
    pub(super) up: bool,
}

/// A candidate file whose name did not parse.
pub(super) struct Misnamed {
    /// The name as shown (lossy when it is not UTF-8).
    pub(super) file_name: String,
    pub(super) problem: Problem,
    /// The version digits as written, when the name starts with some.
    pub(super) digits: Option<String>,
    /// The description in the grammar's form.
    pub(super) name: String,
}

/// Why a candidate's name is not a migration name.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Problem {
    Invalid,
    NotUtf8,
    TooLarge,
    Down,
}

/// The files of a folder, sorted by file name.
struct Listing {
    named: Vec<Named>,
    /// `<version>_<name>.down.sql` files.
    downs: Vec<Named>,
    misnamed: Vec<Misnamed>,
    /// Subfolders named like a migration that hold `.sql` files (`007_tags/up.sql`).
    folders: Vec<(String, Vec<String>)>,
}

/// Reads `dir` and runs every check that needs no database.
///
/// # Errors
///
/// Every file-level problem found.
pub fn read_dir(dir: &Path, display_dir: &str) -> Result<Vec<SourceMigration>, Vec<Diagnostic>> {
    read_dir_known(dir, display_dir, &|_, _| None)
}

/// What the build cache knows of a file, when the same file (display path and SQL)
/// passed every check that reads one file alone.
pub(super) type Known<'a> = dyn Fn(&str, &str) -> Option<KnownFile> + 'a;

/// [`read_dir`], with the files `known` to pass the one-file checks taken as they
/// were (the build cache).
pub(super) fn read_dir_known(
    dir: &Path,
    display_dir: &str,
    known: &Known<'_>,
) -> Result<Vec<SourceMigration>, Vec<Diagnostic>> {
    let display = |file: &str| format!("{display_dir}/{file}");
    let Listing {
        named,
        downs,
        misnamed,
        folders,
    } = list(dir, display_dir)?;
    let mut diagnostics = Vec::new();
    let named = mixed_spellings(named, display_dir, &mut diagnostics);
    let plan = Plan::new(&named, &misnamed);

    diagnostics.extend(
        misnamed
            .iter()
            .map(|m| name_error(&display(&m.file_name), m, &plan)),
    );
    let mut down_of = pair_downs(&named, downs, display_dir, &mut diagnostics);
    diagnostics.extend(
        folders
            .iter()
            .map(|(folder, files)| folder_error(display_dir, folder, files)),
    );
    diagnostics.extend(numbering(&named, &plan, display_dir));

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
                let cached = known(&display_path, &sql);
                let transaction = match cached {
                    Some(k) => k.transaction,
                    None => match crate::rules::no_transaction(&sql) {
                        Ok(no_transaction) => !no_transaction,
                        Err(e) => {
                            diagnostics.push(
                                Diagnostic::at(&display_path, &sql, e.offset, e.message).with_help(format!(
                                    "a migration that must run without a transaction (VACUUM, `PRAGMA journal_mode`, its own BEGIN/COMMIT) starts with the line `{}`; a change that may break the code still running is acknowledged by a line `-- migrate:allow <kind> <object>`; other `-- migrate:` comments are mistakes",
                                    crate::rules::NO_TRANSACTION
                                )),
                            );
                            continue;
                        }
                    },
                };
                let found = match cached {
                    Some(_) => Vec::new(),
                    None => statement_problems(&display_path, &sql, transaction),
                };
                let down = match down_of.remove(&n.file_name) {
                    Some(file_name) => match read_down(dir, display_dir, file_name, &n.file_name) {
                        Ok(down) => Some(down),
                        Err(found) => {
                            diagnostics.extend(found);
                            None
                        }
                    },
                    None => None,
                };
                if found.is_empty() {
                    let checksum = cached.map_or_else(|| crate::checksum(&sql), |k| k.checksum);
                    chain = super::cache::next_chain(&chain, n.version, &checksum, cached.as_ref());
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
                        source_id: String::new(),
                        down,
                        irreversible: None,
                        changes: Vec::new(),
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

/// The `.sql` files of `path` when it is a folder named like a migration (a digit
/// first, a `_` later: `007_tags/`, diesel's `2024-01-15-143022_tags/`).
fn migration_folder(path: &Path, name: &str, is_dir: bool) -> Option<Vec<String>> {
    if !is_dir || !name.starts_with(|c: char| c.is_ascii_digit()) || !name.contains('_') {
        return None;
    }
    let mut files: Vec<String> = std::fs::read_dir(path)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| name::is_candidate(n))
        .collect();
    files.sort();
    (!files.is_empty()).then_some(files)
}

/// Whether a folder entry is a folder, following a symbolic link; the entry's type
/// needs no `stat` on most file systems.
pub(super) fn entry_is_dir(entry: &std::fs::DirEntry) -> bool {
    match entry.file_type() {
        Ok(t) if !t.is_symlink() => t.is_dir(),
        _ => entry.path().is_dir(),
    }
}

/// A subfolder named like a migration, in the native layout, which reads files only.
fn folder_error(display_dir: &str, folder: &str, files: &[String]) -> Diagnostic {
    let shown: Vec<String> = files.iter().map(|f| format!("`{f}`")).collect();
    Diagnostic::new(
        format!("{display_dir}/{folder}"),
        format!(
            "`{folder}/` is a folder holding {}, but the native layout reads `<version>_<name>.sql` files only, so it would be left out",
            shown.join(", ")
        ),
    )
    .with_help(format!(
        "this is the folder shape of diesel (`up.sql`) or Prisma (`migration.sql`): declare the layout, \
         `migrations!(\"{display_dir}\", layout = \"diesel\")`, or move the SQL to a file `{folder}.sql`"
    ))
}

/// The migrations folder is missing or cannot be listed.
pub(super) fn folder_unreadable(display_dir: &str, e: &std::io::Error) -> Diagnostic {
    let message = if e.kind() == std::io::ErrorKind::NotFound {
        "migrations folder not found".to_owned()
    } else {
        format!("cannot read the migrations folder: {e}")
    };
    Diagnostic::new(display_dir, message).with_help(
        "the path is relative to the Cargo.toml of the crate that calls `migrations!`; create the folder or fix the path",
    )
}

/// The migration candidates of `dir`: non-hidden `*.sql` entries that are not folders,
/// split by whether their name parses. `named` is sorted by version, then file name.
fn list(dir: &Path, display_dir: &str) -> Result<Listing, Vec<Diagnostic>> {
    let cannot_read = |e: std::io::Error| {
        vec![Diagnostic::new(
            display_dir,
            format!("cannot read the migrations folder: {e}"),
        )]
    };
    let entries = std::fs::read_dir(dir).map_err(|e| vec![folder_unreadable(display_dir, &e)])?;
    let mut entries = entries
        .map(|entry| entry.map(|entry| (entry.file_name(), entry)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(cannot_read)?;
    // By name, compared as bytes (as `OsString`s compare), each name read once.
    entries.sort_unstable_by(|(a, _), (b, _)| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));

    let mut listing = Listing {
        named: Vec::new(),
        downs: Vec::new(),
        misnamed: Vec::new(),
        folders: Vec::new(),
    };
    for (os_name, entry) in entries {
        let lossy = os_name.to_string_lossy();
        let is_dir = entry_is_dir(&entry);
        if let Some(files) = migration_folder(&entry.path(), &lossy, is_dir) {
            listing.folders.push((lossy.into_owned(), files));
            continue;
        }
        // Folders are skipped; anything else named like a migration is read, so a broken
        // symlink is reported rather than silently left out.
        if !name::is_candidate(&lossy) || is_dir {
            continue;
        }
        let misnamed = |problem| {
            let (digits, name) = name::parts(&lossy);
            Misnamed {
                file_name: lossy.clone().into_owned(),
                problem,
                digits: digits.map(str::to_owned),
                name,
            }
        };
        let Some(file_name) = os_name.to_str() else {
            listing.misnamed.push(misnamed(Problem::NotUtf8));
            continue;
        };
        let (spelling, base) = spelling(file_name);
        match name::parse_file_name(&base) {
            Ok(parsed) => {
                let named = Named {
                    file_name: file_name.to_owned(),
                    digits: parsed.digits.to_owned(),
                    version: parsed.version,
                    name: parsed.name.to_owned(),
                    up: spelling == Spelling::Up,
                };
                if spelling == Spelling::Down {
                    listing.downs.push(named);
                } else {
                    listing.named.push(named);
                }
            }
            Err(NameError::Invalid { .. }) if spelling == Spelling::Down => {
                listing.misnamed.push(misnamed(Problem::Down));
            }
            Err(NameError::Invalid { .. }) => listing.misnamed.push(misnamed(Problem::Invalid)),
            Err(NameError::Down) => listing.misnamed.push(misnamed(Problem::Down)),
            Err(NameError::VersionTooLarge) => {
                listing.misnamed.push(misnamed(Problem::TooLarge));
            }
        }
    }
    listing
        .named
        .sort_by(|a, b| (a.version, &a.file_name).cmp(&(b.version, &b.file_name)));
    Ok(listing)
}

/// How a native file name says what it holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Spelling {
    /// `<version>_<name>.sql`
    Plain,
    /// `<version>_<name>.up.sql`
    Up,
    /// `<version>_<name>.down.sql`
    Down,
}

/// The spelling of `file_name`, and the name as `<version>_<name>.sql`.
fn spelling(file_name: &str) -> (Spelling, std::borrow::Cow<'_, str>) {
    if let Some(stem) = file_name.strip_suffix(".down.sql") {
        (Spelling::Down, format!("{stem}.sql").into())
    } else if let Some(stem) = file_name.strip_suffix(".up.sql") {
        (Spelling::Up, format!("{stem}.sql").into())
    } else {
        (Spelling::Plain, file_name.into())
    }
}

/// Reports a migration written both as `<v>_<name>.sql` and `<v>_<name>.up.sql`, and
/// keeps the first only, so the pair is not also reported as a duplicate version.
fn mixed_spellings(
    named: Vec<Named>,
    display_dir: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Named> {
    let mut kept: Vec<Named> = Vec::with_capacity(named.len());
    // The first file kept for each version, digits and name: looking the twin up
    // in a map keeps this linear (the macro runs it unoptimised on every build).
    let mut first: FxHashMap<(Version, String, String), usize> = FxHashMap::default();
    for n in named {
        let key = (n.version, n.digits.clone(), n.name.clone());
        let twin = first.get(&key).map(|&i| &kept[i]).filter(|k| k.up != n.up);
        if let Some(twin) = twin {
            let (plain, up) = if twin.up { (&n, twin) } else { (twin, &n) };
            diagnostics.push(
                Diagnostic::new(
                    format!("{display_dir}/{}", up.file_name),
                    format!(
                        "migration {} is written twice, as `{}` and as `{}`: one migration uses one spelling",
                        n.version, plain.file_name, up.file_name
                    ),
                )
                .with_help(format!(
                    "keep one file: `{}` (with `{}_{}.down.sql` for its down script) or `{}`; delete the other",
                    plain.file_name, n.digits, n.name, up.file_name
                )),
            );
            continue;
        }
        first.entry(key).or_insert(kept.len());
        kept.push(n);
    }
    kept
}

/// Pairs each `.down.sql` file with its up file: the up's file name → the down's.
/// An orphan down, or one whose name differs from its up's, is reported.
fn pair_downs(
    named: &[Named],
    downs: Vec<Named>,
    display_dir: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> FxHashMap<String, String> {
    let mut pairs = FxHashMap::default();
    let mut by_version: FxHashMap<Version, Vec<&Named>> = FxHashMap::default();
    for n in named {
        by_version.entry(n.version).or_default().push(n);
    }
    for d in downs {
        let display_path = format!("{display_dir}/{}", d.file_name);
        let same_version: &[&Named] = by_version.get(&d.version).map_or(&[], Vec::as_slice);
        let exact = same_version
            .iter()
            .find(|n| n.digits == d.digits && n.name == d.name);
        match (exact, same_version.first()) {
            (Some(up), _) => {
                if let Some(previous) = pairs.insert(up.file_name.clone(), d.file_name.clone()) {
                    diagnostics.push(Diagnostic::new(
                        display_path,
                        format!(
                            "`{}` already has a down file, `{previous}`",
                            up.file_name
                        ),
                    ));
                }
            }
            (None, Some(up)) => diagnostics.push(
                Diagnostic::new(
                    display_path,
                    format!(
                        "down file `{}` does not match its up migration `{}`: a down file is named like its up, with `.down.sql`",
                        d.file_name, up.file_name
                    ),
                )
                .with_help(format!(
                    "rename `{}` to `{}_{}.down.sql`, or rename `{}` if the down file has the right name",
                    d.file_name, up.digits, up.name, up.file_name
                )),
            ),
            (None, None) => diagnostics.push(
                Diagnostic::new(
                    display_path,
                    format!(
                        "down file `{}` has no up migration: neither `{}_{}.sql` nor `{}_{}.up.sql` is in the folder",
                        d.file_name, d.digits, d.name, d.digits, d.name
                    ),
                )
                .with_help(format!(
                    "a down file undoes the migration of the same name; add `{}_{}.sql`, rename the down file after its up, or delete it",
                    d.digits, d.name
                )),
            ),
        }
    }
    pairs
}

/// Reads and checks a native down file, with the up files' content rules; an
/// empty one is an error (delete it to make the migration irreversible).
fn read_down(
    dir: &Path,
    display_dir: &str,
    file_name: String,
    up: &str,
) -> Result<SourceDown, Vec<Diagnostic>> {
    let path = dir.join(&file_name);
    let display_path = format!("{display_dir}/{file_name}");
    let sql = read_file(&path, &display_path).map_err(|d| vec![d])?;
    let transaction = match crate::rules::no_transaction(&sql) {
        Ok(no_transaction) => !no_transaction,
        Err(e) => {
            return Err(vec![Diagnostic::at(&display_path, &sql, e.offset, e.message).with_help(format!(
                "a down script that must run without a transaction starts with the line `{}`; a change that may break the code still running is acknowledged by a line `-- migrate:allow <kind> <object>`; other `-- migrate:` comments are mistakes",
                crate::rules::NO_TRANSACTION
            ))]);
        }
    };
    if sql::statements(&sql).is_empty() {
        return Err(vec![
            Diagnostic::new(
                &display_path,
                format!("down file has no SQL statement (the file is empty or only holds comments), so it would not undo `{up}`"),
            )
            .with_help(format!(
                "write the statements that undo `{up}`, or delete `{file_name}` to make the migration irreversible"
            )),
        ]);
    }
    let found = statement_problems(&display_path, &sql, transaction);
    if !found.is_empty() {
        return Err(found);
    }
    Ok(SourceDown {
        checksum: crate::checksum(&sql),
        file_name,
        path,
        display_path,
        sql,
        transaction,
    })
}

/// Reads a migration as UTF-8, dropping a leading byte-order mark.
pub(super) fn read_file(path: &Path, display_path: &str) -> Result<String, Diagnostic> {
    let bytes = super::read_once::read(path).map_err(|e| {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::naming::*;
    use std::collections::BTreeMap;

    fn folder(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for name in files {
            std::fs::write(dir.path().join(name), "SELECT 1;").unwrap();
        }
        dir
    }

    fn messages(dir: &Path) -> Vec<String> {
        match read_dir(dir, "m") {
            Ok(_) => Vec::new(),
            Err(ds) => ds.iter().map(ToString::to_string).collect(),
        }
    }

    fn renames(dir: &Path) -> BTreeMap<String, Option<Target>> {
        let listing = list(dir, "m").unwrap();
        Plan::new(&listing.named, &listing.misnamed).renames
    }

    const SIX: [&str; 6] = [
        "001_a.sql",
        "002_b.sql",
        "003_c.sql",
        "004_d.sql",
        "005_e.sql",
        "006_f.sql",
    ];

    #[test]
    fn a_bad_name_gets_the_next_free_version_in_the_folders_width() {
        let dir = folder(&[&SIX[..], &["3_Add-Tags.sql"]].concat());
        assert_eq!(
            messages(dir.path()),
            [
                "m/3_Add-Tags.sql: invalid migration file name `3_Add-Tags.sql`; expected `<version>_<name>.sql`\n= help: rename it to `007_add_tags.sql` (version 003 is taken by `003_c.sql`; 007 is the next free version); names are `<version>_<name>.sql`: the version in digits, then `_`, then lowercase ASCII letters, digits and `_`"
            ]
        );
        // a free version next to the others is kept, in the folder's width
        let dir = folder(&["001_a.sql", "002_b.sql", "004_d.sql", "V3__Fill_Gap.sql"]);
        assert_eq!(
            renames(dir.path())["V3__Fill_Gap.sql"]
                .as_ref()
                .unwrap()
                .file_name,
            "003_fill_gap.sql"
        );
        assert_eq!(messages(dir.path()).len(), 1, "no gap reported");
        // one that would leave a gap is not
        let dir = folder(&["001_a.sql", "002_b.sql", "9-later.sql"]);
        let got = messages(dir.path());
        assert!(
            got[0].contains(
                "rename it to `003_later.sql` (009 would leave a gap; 003 is the next free version)"
            ),
            "{got:?}"
        );
        // no version at all, in a timestamped folder
        let dir = folder(&["20241231235959_a.sql", "Seed Users.sql"]);
        let got = messages(dir.path());
        assert!(
            got[0].contains("rename it to `20250101000000_seed_users.sql` (20250101000000 is the first free timestamp after the newest migration)"),
            "{got:?}"
        );
        // a free timestamp of its own is kept
        let dir = folder(&["20240101120000_a.sql", "20230101120000-Old.sql"]);
        assert!(messages(dir.path())[0].contains("rename it to `20230101120000_old.sql`;"));
    }

    #[test]
    fn a_timestamp_among_sequential_versions_is_one_mix_not_a_gap() {
        let dir = folder(&[&SIX[..], &["20240101119999_add_tags.sql"]].concat());
        assert_eq!(
            messages(dir.path()),
            [
                "m/20240101119999_add_tags.sql: the folder mixes sequential versions and timestamps: 6 files numbered like `001_a.sql`, 1 file with a timestamp like `20240101119999_add_tags.sql`\n= help: use one scheme: rename `20240101119999_add_tags.sql` to `007_add_tags.sql` (the next free sequential version), or rename every migration to a timestamp of one width (`YYYYMMDDHHMMSS`), keeping the order they must run in"
            ]
        );
        let dir = folder(&[
            "20240101120000_a.sql",
            "20240102120000_b.sql",
            "001_init.sql",
            "002_more.sql",
            "20240103120000_c.sql",
        ]);
        let got = messages(dir.path());
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].starts_with("m/001_init.sql: the folder mixes sequential versions and timestamps: 2 files numbered like `001_init.sql`, 3 files with a timestamp like `20240101120000_a.sql`\n= help: use one scheme: rename `001_init.sql` to `20240103120001_init.sql` and `002_more.sql` to `20240103120002_more.sql` (the first free timestamps after the newest migration), or rename every migration to a sequential number"), "{got:?}");
    }

    #[test]
    fn a_duplicate_names_the_new_file_first() {
        let dir = folder(&[&SIX[..], &["003_b_second.sql"]].concat());
        assert_eq!(
            messages(dir.path()),
            [
                "m/003_c.sql: duplicate migration version 3: `003_c.sql` reuses the version of `003_b_second.sql`\n= help: rename `003_c.sql` to `007_c.sql`, the next free version; of two files with the same version, the one whose name sorts later is taken as the new one, as the other may already be applied to a database; if `003_b_second.sql` is the new one, rename `003_b_second.sql` to `007_b_second.sql` instead"
            ]
        );
    }

    #[test]
    fn one_digit_is_singular() {
        let dir = folder(&["001_a.sql", "002_b.sql", "3_c.sql"]);
        assert_eq!(
            messages(dir.path()),
            [
                "m/3_c.sql: migration version `3` has 1 digit but the other migrations use 3\n= help: rename it to `003_c.sql`; all versions must have the same number of digits so that files sort in the order they run"
            ]
        );
        assert_eq!(count(2, "file"), "2 files");
    }

    #[test]
    fn the_next_timestamp_is_the_next_second() {
        for (from, to) in [
            (20_241_231_235_959, 20_250_101_000_000),
            (20_240_228_235_959, 20_240_229_000_000),
            (20_230_228_235_959, 20_230_301_000_000),
            (20_240_101_120_000, 20_240_101_120_001),
            (20_240_101_119_999, 20_240_101_120_000),
        ] {
            assert_eq!(next_timestamp(from, 14), Some(to), "{from}");
        }
        assert_eq!(next_timestamp(202_512_312_359, 12), Some(202_601_010_000));
        assert_eq!(next_timestamp(2_024_022_923, 10), Some(2_024_030_100));
        assert_eq!(next_timestamp(202_401_011_299, 12), Some(202_401_011_300));
        assert_eq!(next_timestamp(7, 3), Some(8));
    }

    #[cfg(unix)]
    #[test]
    fn a_file_name_that_is_not_utf8_gets_a_name_too() {
        use std::os::unix::ffi::OsStrExt;
        let dir = folder(&["001_a.sql"]);
        let name = std::ffi::OsStr::from_bytes(b"001_caf\xe9.sql");
        std::fs::write(dir.path().join(name), "SELECT 1").unwrap();
        let got = messages(dir.path());
        assert!(
            got[0].starts_with("m/001_caf\u{fffd}.sql: migration file name is not valid UTF-8\n= help: rename it to `002_caf.sql` (version 001 is taken by `001_a.sql`; 002 is the next free version)"),
            "{got:?}"
        );
    }

    /// A random folder that passes: sequential versions of one width from a start, or
    /// timestamps; sometimes empty.
    fn good_folder(rng: &mut fastrand::Rng) -> (usize, Vec<String>) {
        const WORDS: [&str; 6] = ["users", "posts", "add_email", "tags", "x", "index_2"];
        let word = |rng: &mut fastrand::Rng| WORDS[rng.usize(..WORDS.len())];
        match rng.u8(..10) {
            0 => (DEFAULT_DIGITS, Vec::new()),
            1..=3 => {
                let mut seen = std::collections::BTreeSet::new();
                let width = [14, 14, 12][rng.usize(..3)];
                for _ in 0..rng.usize(1..=6) {
                    let edge = rng.bool();
                    let (mo, d, h, mi, s) = if edge {
                        (12, 31, 23, 59, 59)
                    } else {
                        (
                            rng.i64(1..=12),
                            rng.i64(1..=28),
                            rng.i64(0..24),
                            rng.i64(0..60),
                            rng.i64(0..60),
                        )
                    };
                    let t = format!("{}{mo:02}{d:02}{h:02}{mi:02}{s:02}", rng.i64(2019..=2025));
                    seen.insert(t[..width].to_owned());
                }
                let files = seen
                    .into_iter()
                    .map(|t| format!("{t}_{}.sql", word(rng)))
                    .collect();
                (width, files)
            }
            _ => {
                let width = [1, 2, 3, 3, 4, 6][rng.usize(..6)];
                let (start, n) = if width == 1 {
                    (rng.i64(0..=1), rng.i64(1..=4))
                } else {
                    ([0, 1, 1, 5][rng.usize(..4)], rng.i64(1..=12))
                };
                let files = (start..start + n)
                    .map(|v| format!("{v:0width$}_{}.sql", word(rng)))
                    .collect();
                (width, files)
            }
        }
    }

    /// A name that fails the check in a folder of `width` holding `good`.
    fn bad_name(rng: &mut fastrand::Rng, width: usize, good: &[String]) -> String {
        const DESCRIPTIONS: [&str; 7] = [
            "Add-Tags",
            "create users",
            "Seed",
            "ADD_INDEX",
            "drop.old.table",
            "café",
            "x",
        ];
        let description = DESCRIPTIONS[rng.usize(..DESCRIPTIONS.len())];
        let plain = name::parts(&format!("0_{description}.sql")).1;
        let existing = good.get(rng.usize(..good.len().max(1))).map(|f| {
            let digits = f.split('_').next().unwrap_or_default().to_owned();
            let version: Version = digits.parse().unwrap_or(1);
            (digits, version)
        });
        let (digits, version) = existing.unwrap_or_else(|| (format!("{:0width$}", 1), 1));
        let fresh = format!(
            "{:0width$}",
            if width >= TIMESTAMP_DIGITS {
                version + 1
            } else {
                version + Version::try_from(good.len()).unwrap_or(0)
            }
        );
        match rng.u8(..12) {
            0 => format!("{digits}-{description}.sql"),
            1 => format!("{fresh} {description}.sql"),
            2 => format!("V{version}__{description}.sql"),
            // `.up.sql` is a native spelling; in another case it is a misnamed file
            3 => format!("{digits}_{plain}.UP.sql"),
            4 => format!("{fresh}_{plain}.SQL"),
            5 => format!("{description}.sql"),
            6 => format!("_{plain}.sql"),
            7 if !good.is_empty() => format!("{digits}_{plain}_again.sql"),
            7 | 8 => format!("{version:0w$}_{plain}.sql", w = width + 1),
            9 if width >= TIMESTAMP_DIGITS => format!("{:03}_{plain}.sql", rng.i64(0..1000)),
            9 => format!("2024010111{:04}_{plain}.sql", rng.u32(..10_000)),
            10 => format!("{}_{plain}.sql", "9".repeat(40)),
            _ => format!("{version}_{description}.sql"),
        }
    }

    /// The class test: in many generated folders with one to three badly named or
    /// numbered files, every file gets a new name, the diagnostics state it, no other
    /// problem (such as a gap) is reported, and with the renames applied the folder
    /// passes.
    #[test]
    fn every_suggested_name_fits_the_folder() {
        let mut checked = 0;
        for seed in 0..600 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let (width, good) = good_folder(&mut rng);
            let mut files = good.clone();
            for _ in 0..rng.usize(1..=3) {
                let bad = bad_name(&mut rng, width, &good);
                if !files.contains(&bad) {
                    files.push(bad);
                }
            }
            let dir = tempfile::tempdir().unwrap();
            for f in &files {
                std::fs::write(dir.path().join(f), "SELECT 1;").unwrap();
            }
            let context = format!("seed {seed}, files {files:?}");
            let before = messages(dir.path());
            if before.is_empty() {
                // e.g. `1_x.sql` in a folder of one-digit versions: a good name after all
                continue;
            }
            let all = before.join("\n\n");
            assert!(!all.contains("gap in"), "{context}:\n{all}");
            let renames = renames(dir.path());
            for (old, target) in &renames {
                let Some(target) = target else {
                    panic!("{context}: no name for {old}:\n{all}");
                };
                let new = &target.file_name;
                let stated = all.contains(&format!("`{old}` to `{new}`"))
                    || before.iter().any(|d| {
                        d.starts_with(&format!("m/{old}: "))
                            && d.contains(&format!("rename it to `{new}`"))
                    });
                assert!(stated, "{context}: {old} → {new} not stated:\n{all}");
            }
            for (old, target) in &renames {
                std::fs::rename(
                    dir.path().join(old),
                    dir.path().join(format!("{old}.moving")),
                )
                .unwrap();
                let _ = target;
            }
            for (old, target) in &renames {
                let new = &target.as_ref().unwrap().file_name;
                std::fs::rename(
                    dir.path().join(format!("{old}.moving")),
                    dir.path().join(new),
                )
                .unwrap();
            }
            let after = messages(dir.path());
            assert!(
                after.is_empty(),
                "{context}, renames {renames:?}:\nbefore:\n{all}\nafter:\n{}",
                after.join("\n\n")
            );
            checked += 1;
        }
        assert!(checked > 500, "{checked}");
    }
}
