//! The stale-binary check of debug builds: the folder the set was built from, when
//! it still exists, must hold the same migration files as the set.
//!
//! Cargo rebuilds a crate when an embedded file is edited (the macro emits an
//! `include_bytes!` per file), but not when a file is added, unless `build.rs` asks
//! for it. A binary built before a file was added silently lacks it; in a debug build
//! `run` and `status` fail instead.

use crate::{Error, Migrations, Result};

/// In a debug build, compares the set's source folder with the set; see the module docs.
pub(super) fn check(migrations: &Migrations) -> Result<()> {
    if !cfg!(debug_assertions) {
        return Ok(());
    }
    let Some(dir) = migrations.source_dir() else {
        return Ok(());
    };
    let differences = differences(migrations, std::path::Path::new(dir));
    if differences.is_empty() {
        return Ok(());
    }
    Err(Error::Stale(Box::new(crate::error::Stale {
        dir: dir.to_owned(),
        files: differences,
    })))
}

/// The files that differ, each with how: `added`, `removed`, `changed`. Only folders in
/// this crate's own layout (`NNN_name.sql` files) are compared file by file; for
/// another tool's layout, only the removal of an embedded file is seen.
fn differences(migrations: &Migrations, dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        // The folder is gone (the binary was moved or deployed): nothing to compare.
        return Vec::new();
    };
    let native = migrations.iter().all(|m| m.source_id().is_empty())
        && migrations
            .iter()
            .all(|m| crate::name::parse_file_name(m.file_name()).is_ok());
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
        let text = std::fs::read(&path)
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        let text = text
            .as_deref()
            .map(|t| t.strip_prefix('\u{feff}').unwrap_or(t));
        if text.is_none_or(|t| crate::checksum(t) != *m.checksum()) {
            found.push(format!("{} (changed)", m.file_name()));
        }
    }
    if native {
        for name in on_disk {
            if !migrations.iter().any(|m| m.file_name() == name) {
                found.push(format!("{name} (added)"));
            }
        }
    }
    found
}
