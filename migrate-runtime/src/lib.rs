//! Runtime and checking code of the [`migrate`](https://docs.rs/migrate) crate.
//!
//! - [`Migration`] and [`Migrations`]: the set embedded by `migrate::migrations!`, and the
//!   runner that applies it to a [`rusqlite::Connection`] ([`Migrations::run`],
//!   [`Migrations::status`]).
//! - [`check`]: the build-time checks the macro runs (file names, numbering, statements,
//!   execution against an in-memory SQLite), usable by any tool.
//! - [`checksum()`]: the documented checksum of a migration, and
//!   [`checksum::chain`], the hash over a set that the startup check compares.
//! - [`rules`]: the `-- migrate:no-transaction` directive, the statements refused in a
//!   transaction and the connection settings restored after a migration.
//! - [`Migrations::trial`] on a copy of real data, and [`Runner::backup_to`].
//!
//! # Example
//!
//! ```
//! use migrate_runtime::{Migration, Migrations, checksum};
//!
//! const SQL: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);";
//! static SET: Migrations = Migrations::from_static(&[
//!     Migration::new(1, "create_users", "001_create_users.sql", SQL, [0; 32], [0; 32]),
//! ]);
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # // The macro computes the checksum and chain at compile time; here the doc test has none.
//! let mut conn = rusqlite::Connection::open_in_memory()?;
//! let report = SET.run(&mut conn)?;
//! assert_eq!(report.applied.len(), 1);
//! assert!(SET.status(&conn)?.is_up_to_date());
//! # let _ = checksum(SQL);
//! # Ok(())
//! # }
//! ```

pub mod adopt;
mod backend;
pub mod build;
pub mod changes;
#[cfg(feature = "check")]
pub mod check;
pub mod checksum;
pub mod diagnostic;
mod error;
mod exec;
mod foreign_keys;
pub mod import;
mod layout;
mod migration;
pub mod name;
pub mod packed;
#[cfg(feature = "remote")]
pub mod remote;
pub mod rules;
mod run;
pub mod schema;
mod source;
pub mod sql;
#[cfg(test)]
mod test_bytes;
mod trial;

pub use backend::Database;
pub use checksum::checksum;
pub use error::{Error, Stale};
pub use foreign_keys::Violation;
pub use layout::Layout;
pub use migration::{Down, Function, Migration, Migrations, Version};
pub use run::{
    Applied, AppliedMigration, Baselined, DEFAULT_BUSY_TIMEOUT, Event, MigrationState, Repaired,
    Report, Runner, Status, StatusRow, TRACKING_TABLE, Warning,
};
pub use source::{SourceDown, SourceMigration, UnusedDown};
pub use trial::Trial;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
