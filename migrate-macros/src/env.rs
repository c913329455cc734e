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

/// Where the validation's build cache lives: `MIGRATE_BUILD_CACHE` when set (`off`,
/// `0` or `false` turn the cache off), else `migrate` in the user's cache folder
/// (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS,
/// `%LOCALAPPDATA%` on Windows), else `None`.
pub fn cache_dir() -> Option<PathBuf> {
    #[allow(clippy::disallowed_methods)]
    let setting = std::env::var_os("MIGRATE_BUILD_CACHE");
    migrate_runtime::check::cache_dir(setting.as_deref(), user_cache_dir())
}

/// The user's cache folder, where the `dirs` crate puts it: `$XDG_CACHE_HOME` (when
/// absolute) or `~/.cache` on Linux and other Unixes, `~/Library/Caches` on macOS,
/// `%LOCALAPPDATA%` on Windows.
fn user_cache_dir() -> Option<PathBuf> {
    #[allow(clippy::disallowed_methods)]
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if cfg!(windows) {
        var("LOCALAPPDATA")
    } else if cfg!(target_os = "macos") {
        std::env::home_dir().map(|home| home.join("Library/Caches"))
    } else {
        var("XDG_CACHE_HOME")
            .filter(|dir| dir.is_absolute())
            .or_else(|| std::env::home_dir().map(|home| home.join(".cache")))
    }
}
