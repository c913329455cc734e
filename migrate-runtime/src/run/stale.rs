//! The stale-binary check of debug builds: the folder the set was built from, when
//! it still exists, must hold the same migration files as the set.
//!
//! Cargo rebuilds a crate when an embedded file is edited (the macro's expansion
//! names each file with `include_str!`), but not when a file is added, unless
//! `build.rs` asks for it. A binary built before a file was added silently lacks it;
//! in a debug build `run` and `status` fail instead.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use crate::{Error, Migration, Migrations, Result};

/// A file's size, modification time and the checksum it was found to have.
type Stamp = (u64, SystemTime, [u8; 32]);

/// Files found to match their embedded checksum, with their size and modification
/// time then: a file with the same size and time is not read again, so that tests
/// calling `run` many times pay for the comparison once.
static VERIFIED: Mutex<Option<HashMap<PathBuf, Stamp>>> = Mutex::new(None);

/// Whether the file at `path` has the checksum `expected` (by its canonical text).
fn unchanged(path: &Path, expected: &[u8; 32]) -> bool {
    let stamp = std::fs::metadata(path)
        .ok()
        .and_then(|m| Some((m.len(), m.modified().ok()?)));
    if let (Some((len, modified)), Ok(mut cache)) = (stamp, VERIFIED.lock())
        && cache
            .get_or_insert_with(HashMap::new)
            .get(path)
            .is_some_and(|&(l, t, c)| l == len && t == modified && c == *expected)
    {
        return true;
    }
    let text = std::fs::read(path)
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let text = text
        .as_deref()
        .map(|t| t.strip_prefix('\u{feff}').unwrap_or(t));
    let same = text.is_some_and(|t| crate::checksum(t) == *expected);
    if let (true, Some((len, modified)), Ok(mut cache)) = (same, stamp, VERIFIED.lock()) {
        cache
            .get_or_insert_with(HashMap::new)
            .insert(path.to_path_buf(), (len, modified, *expected));
    }
    same
}

/// In a debug build, compares the set's source folder with the set; see the module docs.
pub(super) fn check(migrations: &Migrations) -> Result<()> {
    if !cfg!(debug_assertions) {
        return Ok(());
    }
    let Some(dir) = migrations.source_dir() else {
        return Ok(());
    };
    let differences = differences(migrations, Path::new(dir));
    if differences.is_empty() {
        return Ok(());
    }
    Err(Error::Stale(Box::new(crate::error::Stale {
        dir: dir.to_owned(),
        files: differences,
    })))
}

/// The files that differ, each with how: `added`, `removed`, `changed`. Folders in
/// this crate's own layout (`NNN_name.sql` files) are compared file by file; in the
/// folder-per-migration layouts (diesel, Prisma) an added or removed migration folder
/// is seen; in the other layouts of other tools, only the removal of an embedded file.
fn differences(migrations: &Migrations, dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        // The folder is gone (the binary was moved or deployed): nothing to compare.
        return Vec::new();
    };
    let native = migrations.iter().all(|m| m.source_id().is_empty())
        && migrations.iter().all(|m| {
            let name = m.file_name();
            let plain = name
                .strip_suffix(".up.sql")
                .map(|stem| format!("{stem}.sql"));
            crate::name::parse_file_name(plain.as_deref().unwrap_or(name)).is_ok()
        });
    let mut on_disk: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| crate::name::is_candidate(name))
        .collect();
    on_disk.sort();
    let mut found = Vec::new();
    for m in migrations {
        let path = dir.join(m.file_name());
        if !path.exists() {
            found.push(format!("{} (removed)", m.file_name()));
            continue;
        }
        if !native {
            continue;
        }
        if !unchanged(&path, m.checksum()) {
            found.push(format!("{} (changed)", m.file_name()));
        }
        if let Some(down) = m.down() {
            let path = dir.join(down.file_name());
            if !path.exists() {
                found.push(format!("{} (removed)", down.file_name()));
            } else if !unchanged(&path, down.checksum()) {
                found.push(format!("{} (changed)", down.file_name()));
            }
        }
    }
    if native {
        for name in on_disk {
            // A down script that never runs (`downs = "lenient"`) is read by the
            // build all the same.
            let unused_down = |m: &Migration| {
                let stem = m
                    .file_name()
                    .strip_suffix(".up.sql")
                    .or_else(|| m.file_name().strip_suffix(".sql"));
                m.irreversible_reason().is_some()
                    && stem.is_some_and(|stem| name.strip_suffix(".down.sql") == Some(stem))
            };
            let embedded = migrations.iter().any(|m| {
                m.file_name() == name
                    || m.down().is_some_and(|d| d.file_name() == name)
                    || unused_down(m)
            });
            if !embedded {
                found.push(format!("{name} (added)"));
            }
        }
    }
    found.extend(added_folders(migrations, dir));
    found
}

/// In a folder-per-migration set (every file name `<folder>/<file>.sql`, all with one
/// file name), the subfolders holding that file that the set does not embed.
fn added_folders(migrations: &Migrations, dir: &Path) -> Vec<String> {
    let mut inner = migrations
        .iter()
        .map(|m| m.file_name().split_once('/').map(|(_, file)| file));
    let Some(Some(file)) = inner.next() else {
        return Vec::new();
    };
    if !inner.all(|f| f == Some(file)) {
        return Vec::new();
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut added: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join(file).is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .map(|folder| format!("{folder}/{file}"))
        .filter(|name| !migrations.iter().any(|m| m.file_name() == name))
        .map(|name| format!("{name} (added)"))
        .collect();
    added.sort();
    added
}
