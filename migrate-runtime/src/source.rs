//! Migrations read from a folder at build time (or by a tool), before they are
//! embedded: [`SourceMigration`] and its down script, what
//! [`check::check_dir`](crate::check::check_dir) returns and
//! [`Migrations::from_sources`](crate::Migrations::from_sources) and
//! [`packed::encode`](crate::packed::encode) take.

use std::path::PathBuf;

use crate::Version;

/// A migration file read from a folder that passed every check: what
/// [`check::check_dir`](crate::check::check_dir) returns and
/// [`Migrations::from_sources`](crate::Migrations::from_sources)
/// takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceMigration {
    /// The version number.
    pub version: Version,
    /// The description (`create_users`).
    pub name: String,
    /// The file name (`001_create_users.sql`).
    pub file_name: String,
    /// The file's path.
    pub path: PathBuf,
    /// The file's path as shown in messages, relative to the crate's `Cargo.toml`.
    pub display_path: String,
    /// The SQL, without a leading byte-order mark.
    pub sql: String,
    /// [`checksum`](crate::checksum()) of the SQL.
    pub checksum: [u8; 32],
    /// [`chain`](crate::checksum::chain) over the set up to and including this migration.
    pub chain: [u8; 32],
    /// `false` when the first line is [`-- migrate:no-transaction`](crate::rules::NO_TRANSACTION)
    /// (or the layout's own way of saying it).
    pub transaction: bool,
    /// The identifier the folder's tool gives the migration, for importing that
    /// tool's history (see [`Migration::source_id`](crate::Migration::source_id));
    /// empty in the native layout.
    pub source_id: String,
    /// The down script, when the migration has one.
    pub down: Option<SourceDown>,
    /// The down script the folder has for the migration that never runs (an empty
    /// one, which another tool reads as irreversible, or one that does not pass the
    /// build's proof where `downs` is lenient); `None` otherwise.
    pub irreversible: Option<UnusedDown>,
    /// Its schema changes, classified by the validation (empty until then).
    pub changes: Vec<crate::changes::Change>,
}

/// A down script that never runs, so that its migration is irreversible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnusedDown {
    /// The file that holds it (for a down section, the migration's file).
    pub path: PathBuf,
    /// Why it never runs.
    pub reason: String,
}

/// The down script of a [`SourceMigration`]: a `.down.sql` file, or the down section
/// or file of another tool's layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDown {
    /// The file name (`001_create_users.down.sql`).
    pub file_name: String,
    /// The file's path.
    pub path: PathBuf,
    /// The file's path as shown in messages, relative to the crate's `Cargo.toml`.
    pub display_path: String,
    /// The SQL, without a leading byte-order mark. For a down section, the whole
    /// file with everything but the section blanked (lines kept).
    pub sql: String,
    /// [`checksum`](crate::checksum()) of the SQL.
    pub checksum: [u8; 32],
    /// `false` when the first line is `-- migrate:no-transaction`.
    pub transaction: bool,
}
