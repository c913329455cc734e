//! The only place that reads environment variables.

use std::path::PathBuf;

/// The invoking crate's manifest directory: `CARGO_MANIFEST_DIR_OVERRIDE` (for tests
/// that build elsewhere, such as trybuild) or else `CARGO_MANIFEST_DIR`.
pub fn manifest_dir() -> Option<PathBuf> {
    #[allow(clippy::disallowed_methods)]
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    var("CARGO_MANIFEST_DIR_OVERRIDE")
        .or_else(|| var("CARGO_MANIFEST_DIR"))
        .map(PathBuf::from)
}
