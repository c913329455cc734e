//! The build-time checks (`check_dir`, what `migrations!` runs) over real-world sets.

use std::path::{Path, PathBuf};

use migrate_runtime::check::{check_dir, check_dir_with};

/// Every diagnostic, as the compiler would show them.
fn all_shown(ds: &[migrate_runtime::diagnostic::Diagnostic]) -> String {
    ds.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn corpus(set: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(set)
}

/// Copies a set's up migrations into a folder under this crate's naming rules:
/// `<version>_<name>.sql`, the version from the file (or diesel folder) name, without
/// `PRAGMA foreign_keys` lines (SQLite ignores them inside the migration's
/// transaction; the runner turns enforcement off around every migration instead).
fn converted(set: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(corpus(set)).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (source, stem) = if path.is_dir() {
            (path.join("up.sql"), name.replace('-', ""))
        } else if name.ends_with(".sql") && !name.ends_with("down.sql") {
            (
                path.clone(),
                name.trim_end_matches(".sql")
                    .trim_end_matches(".up")
                    .replace('-', "_"),
            )
        } else {
            continue;
        };
        if !source.is_file() {
            continue;
        }
        let target = migrate_runtime::name::suggest(&format!("{stem}.sql")).unwrap();
        let text = std::fs::read(&source).unwrap();
        let kept: Vec<&[u8]> = text
            .split_inclusive(|&b| b == b'\n')
            .filter(|line| !is_foreign_keys_pragma(line))
            .collect();
        std::fs::write(dir.path().join(target), kept.concat()).unwrap();
    }
    dir
}

fn is_foreign_keys_pragma(line: &[u8]) -> bool {
    String::from_utf8_lossy(line)
        .trim_start()
        .to_ascii_uppercase()
        .starts_with("PRAGMA FOREIGN_KEYS")
}

/// The sets whose files hold `PRAGMA foreign_keys` lines (drizzle-kit output,
/// hand-written rebuilds) validate with those lines left in: the runner already does
/// what they ask for.
#[test]
fn corpus_sets_validate_with_their_foreign_keys_pragmas() {
    for (set, functions) in [
        ("karakeep", &[][..]),
        ("plume", &[][..]),
        ("screenpipe", &[("vec_length", 1)][..]),
    ] {
        let original = converted_keeping_pragmas(set);
        let pragmas: usize = std::fs::read_dir(original.path())
            .unwrap()
            .map(|e| {
                let text = std::fs::read(e.unwrap().path()).unwrap();
                text.split(|&b| b == b'\n')
                    .filter(|l| is_foreign_keys_pragma(l))
                    .count()
            })
            .sum();
        assert!(pragmas > 0, "{set} has no pragma left to test");
        if let Err(ds) = check_dir_with(original.path(), set, functions) {
            panic!("{set}: {}", all_shown(&ds));
        }
    }
}

/// [`converted`] with the `PRAGMA foreign_keys` lines left in.
fn converted_keeping_pragmas(set: &str) -> tempfile::TempDir {
    let stripped = converted(set);
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(corpus(set)).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (source, stem) = if path.is_dir() {
            (path.join("up.sql"), name.replace('-', ""))
        } else {
            (
                path.clone(),
                name.trim_end_matches(".sql")
                    .trim_end_matches(".up")
                    .replace('-', "_"),
            )
        };
        let Some(target) = migrate_runtime::name::suggest(&format!("{stem}.sql")) else {
            continue;
        };
        if stripped.path().join(&target).is_file() {
            std::fs::copy(&source, dir.path().join(target)).unwrap();
        }
    }
    dir
}

#[test]
fn karakeep_validates_without_its_foreign_keys_pragmas() {
    let migrations = check_dir(converted("karakeep").path(), "karakeep")
        .unwrap_or_else(|ds| panic!("{}", all_shown(&ds)));
    assert_eq!(migrations.len(), 94);
    assert_eq!(migrations[0].version, 0);
}

#[test]
fn converted_sets_validate() {
    for set in [
        "atuin/client",
        "atuin/client-record",
        "atuin/server-sqlite",
        "plume",
        "trailbase/logs",
        "trailbase/session",
    ] {
        let dir = converted(set);
        let result = check_dir(dir.path(), set);
        if let Err(ds) = &result {
            panic!("{set}:\n{}", all_shown(ds));
        }
    }
}

#[test]
fn screenpipe_stops_at_the_extension_function_it_needs() {
    // screenpipe loads sqlite-vec at runtime; the validation SQLite has no `vec_length`.
    let dir = converted("screenpipe");
    let diagnostics = check_dir(dir.path(), "screenpipe").unwrap_err();
    assert_eq!(diagnostics.len(), 1);
    let shown = diagnostics[0].to_string();
    // At the call with SQLite's offsets (`statement-offsets`, which the macro always
    // has); without them, at the start of the statement holding it.
    let at = if cfg!(feature = "statement-offsets") {
        "14:11"
    } else {
        "9:1"
    };
    assert!(
        shown.starts_with(&format!(
            "screenpipe/20241108202826_create_speaker_table.sql:{at}: no such function: vec_length\n"
        )),
        "{shown}"
    );
    // Declared, it gets a stand-in, and the whole set validates.
    if let Err(ds) = check_dir_with(dir.path(), "screenpipe", &[("vec_length", 1)]) {
        panic!("{}", all_shown(&ds));
    }
}

#[test]
fn vaultwarden_quirks_are_reported() {
    let dir = converted("vaultwarden");
    let mut found: Vec<String> = check_dir(dir.path(), "vaultwarden")
        .unwrap_err()
        .iter()
        .map(|d| format!("{}: {}", d.path, d.message))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            // diesel reads `2024-03-13_170000_…` as version `2024-03-13`
            "vaultwarden/20240112210182_change_attachment_size.sql: migration has no SQL statement (the file is empty or only holds comments)",
            "vaultwarden/20240214140000_change_time_stamp_data_type.sql: migration has no SQL statement (the file is empty or only holds comments)",
            "vaultwarden/20240313_170000_sso_userscascade.sql: the folder mixes sequential versions and timestamps: 1 file numbered like `20240313_170000_sso_userscascade.sql`, 55 files with a timestamp like `20180114171611_create_tables.sql`",
        ]
    );
}

#[test]
fn pocket_id_files_that_manage_their_own_transactions_are_reported() {
    let dir = converted("pocket-id");
    let diagnostics = check_dir(dir.path(), "pocket-id").unwrap_err();
    let transaction = diagnostics
        .iter()
        .filter(|d| {
            d.message
                .starts_with("migration controls its own transaction: `BEGIN` on line")
        })
        .count();
    assert_eq!(transaction, 71, "{diagnostics:#?}");
}

/// pocket-id's files carry their own `BEGIN`/`COMMIT`: with the directive as their
/// first line, they run as written and the whole set validates.
#[test]
fn pocket_id_validates_with_the_no_transaction_directive() {
    let dir = converted("pocket-id");
    let mut marked = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if text.to_ascii_uppercase().contains("BEGIN") {
            std::fs::write(&path, format!("-- migrate:no-transaction\n{text}")).unwrap();
            marked += 1;
        }
    }
    assert_eq!(marked, 71);
    let diagnostics = check_dir(dir.path(), "pocket-id").unwrap_err();
    let shown = diagnostics[0].to_string();
    assert!(
        shown.contains("no such function: normalize") && shown.contains("functions(normalize/2)"),
        "{shown}"
    );
    if let Err(ds) = check_dir_with(dir.path(), "pocket-id", &[("normalize", 2)]) {
        panic!("{}", all_shown(&ds));
    }
}
