//! The build-time checks (`check_dir`, what `migrations!` runs) over real-world sets.

use std::path::{Path, PathBuf};

use migrate_runtime::check::check_dir;

fn corpus(set: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(set)
}

/// Copies a set's up migrations into a folder under this crate's naming rules:
/// `<version>_<name>.sql`, the version from the file (or diesel folder) name.
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
        std::fs::copy(&source, dir.path().join(target)).unwrap();
    }
    dir
}

#[test]
fn karakeep_validates_as_it_is() {
    let migrations = check_dir(&corpus("karakeep"), "karakeep").unwrap_or_else(|ds| {
        panic!(
            "{}",
            ds.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n\n")
        )
    });
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
            panic!(
                "{set}:\n{}",
                ds.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n\n")
            );
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
    assert!(
        shown.starts_with("screenpipe/20241108202826_create_speaker_table.sql:14:11: no such function: vec_length\n"),
        "{shown}"
    );
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
            "vaultwarden/20240313_170000_sso_userscascade.sql: migration version `20240313` has 8 digits but the other migrations use 14",
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
