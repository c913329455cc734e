//! The seam between the runner and a database: what `run` and `status` need from it.
//! A `rusqlite::Connection` is one implementation (the local runner, unchanged);
//! `remote::Remote`, a libSQL/Turso primary over HTTP, is the other (feature
//! `remote`). The checks before anything is applied (an edited migration, a
//! database ahead of the code, an out-of-order pending migration) are the runner's,
//! the same for both.

use rusqlite::Connection;

use crate::{Migrations, Report, Result, Runner, Status};

/// A database the embedded migrations can be applied to: `&mut Connection` as
/// before, or a `remote::Remote` with the `remote` feature.
pub trait Database {
    /// Applies what `runner` asks for (see [`Runner::run`]).
    ///
    /// # Errors
    ///
    /// As [`Migrations::run`].
    fn apply_pending(&mut self, runner: &Runner<'_>) -> Result<Report>;

    /// Compares the database with `migrations` without changing anything (see
    /// [`Migrations::status`]).
    ///
    /// # Errors
    ///
    /// As [`Migrations::status`].
    fn read_status(&self, migrations: &Migrations) -> Result<Status>;
}

impl Database for Connection {
    fn apply_pending(&mut self, runner: &Runner<'_>) -> Result<Report> {
        runner.run_local(self)
    }

    fn read_status(&self, migrations: &Migrations) -> Result<Status> {
        migrations.status_local(self)
    }
}

/// A transaction's connection, as `&tx` was passed before `run` and `status` took a
/// [`Database`]: `status` reads inside it; `run` fails as it always did there, since
/// each migration needs a transaction of its own.
impl Database for rusqlite::Transaction<'_> {
    fn apply_pending(&mut self, runner: &Runner<'_>) -> Result<Report> {
        runner.run_local(self)
    }

    fn read_status(&self, migrations: &Migrations) -> Result<Status> {
        migrations.status_local(self)
    }
}

/// As for [`rusqlite::Transaction`].
impl Database for rusqlite::Savepoint<'_> {
    fn apply_pending(&mut self, runner: &Runner<'_>) -> Result<Report> {
        runner.run_local(self)
    }

    fn read_status(&self, migrations: &Migrations) -> Result<Status> {
        migrations.status_local(self)
    }
}
