#![doc = include_str!("../README.md")]
#![allow(
    clippy::needless_doctest_main,
    reason = "the README shows whole `main.rs` and `build.rs` files"
)]
#![allow(
    clippy::test_attr_in_doctest,
    reason = "the README shows tests a user writes; the doctest only compiles them"
)]

/// Embeds a folder of numbered SQL migrations, checked at compile time.
///
/// `migrations!("migrations")` reads the `<version>_<name>.sql` files in the folder
/// (relative to the calling crate's `Cargo.toml`), checks their names and numbering,
/// executes them in order against an in-memory SQLite, and expands to a
/// [`Migrations`] value with each file's SQL and checksum. Any problem is a compile
/// error that names the file, line and column.
///
/// `migrations!()` reads the folder `migrations`.
///
/// Editing a migration rebuilds the crate. To rebuild when a file is *added*, call
/// `migrate::build::rerun_if_changed("migrations");` in `build.rs` (with `migrate` in
/// `[build-dependencies]`), or print `cargo:rerun-if-changed=migrations` there.
///
/// # Examples
///
/// ```
/// static MIGRATIONS: migrate::Migrations = migrate::migrations!("migrations");
/// assert_eq!(MIGRATIONS.iter().next().unwrap().name(), "create_users");
/// ```
pub use migrate_macros::migrations;
pub use migrate_runtime::*;
pub use rusqlite;

#[doc(hidden)]
pub mod __private {
    pub use migrate_runtime::packed::Packed;
    pub use migrate_runtime::{Function, Migration};
}
