//! The `build.rs` helper that makes cargo rebuild when a migration file is added.
//!
//! Editing a migration already rebuilds the crate (the macro's expansion names each
//! file it read with `include_str!`), but cargo only notices an **added** file when
//! the build script asks it to watch the folder:
//!
//! ```toml
//! [build-dependencies]
//! migrate = { path = "../migrate" }
//! ```
//!
//! ```no_run
//! // build.rs (`migrate::build::…` in an application)
//! # #[allow(clippy::needless_doctest_main)]
//! fn main() {
//!     migrate_runtime::build::rerun_if_changed("migrations");
//! }
//! ```

use std::path::Path;

/// Tells cargo to run the build script again, and so to rebuild the crate, whenever
/// anything in `dir` (relative to `Cargo.toml`) changes, files added or removed included.
/// Call it from `build.rs`, once per folder given to `migrations!`.
pub fn rerun_if_changed(dir: impl AsRef<Path>) {
    println!("cargo:rerun-if-changed={}", dir.as_ref().display());
}
