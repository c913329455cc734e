//! Registers the migrations folder with the compiler, on a nightly compiler that
//! has `proc_macro::tracked::path` (probed by `build.rs`): cargo then rebuilds the
//! crate when a file is added to the folder, without a `build.rs` line. On stable this
//! does nothing, and `migrate::build::rerun_if_changed` does the job.

use std::path::Path;

/// Tracks `dir` when the compiler can; see the module docs.
#[cfg(migrate_tracked_path)]
pub fn path(dir: &Path) {
    // Outside a macro expansion (unit tests) there is no compiler to tell.
    if proc_macro::is_available() {
        proc_macro::tracked::path(&*dir.to_string_lossy());
    }
}

/// Tracks `dir` when the compiler can; see the module docs.
#[cfg(not(migrate_tracked_path))]
pub fn path(dir: &Path) {
    let _ = dir;
}
