//! The command line, as clap reads it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Create, check, inspect and apply SQLite migrations, with the checks the
/// `migrations!` macro runs at build time.
#[derive(Debug, Parser)]
#[command(name = "migrate", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the next migration file, numbered like the folder's files.
    New(New),
    /// Run every build-time check on the folder; exit 1 on any problem.
    Check(Check),
    /// Show where a database stands; exit 0 up to date, 1 pending, 2 modified or unknown.
    Status(Status),
    /// Apply the pending migrations to a database (created when missing).
    Up(Up),
    /// Undo applied migrations with their down scripts, newest first: one step by
    /// default, `--steps N`, or down to `--to VERSION` (0: before the first).
    Down(Down),
    /// Print the schema the folder's migrations produce, in a stable order.
    Schema(Folder),
    /// Record migrations up to a version as applied without running them, for a
    /// database that already has their schema.
    Baseline(Baseline),
    /// Record the current checksum of an applied migration that was edited on purpose.
    Repair(Repair),
}

/// The migrations folder, and what the `migrations!` macro declares besides it.
#[derive(Debug, Args)]
pub struct Folder {
    /// The migrations folder.
    #[arg(long, default_value = "migrations", value_name = "DIR")]
    pub dir: PathBuf,
    /// The folder's layout (native, sqlx, refinery, diesel, golang-migrate, goose,
    /// dbmate, prisma, drizzle); detected from the files when not given.
    #[arg(long, value_name = "LAYOUT")]
    pub layout: Option<String>,
    /// An application-defined SQL function the migrations call, as `name/arity`
    /// (`functions(…)` in the macro); repeat for several.
    #[arg(long = "function", value_name = "NAME/ARITY")]
    pub functions: Vec<String>,
    /// An application-defined collation (`collations(…)`); repeat for several.
    #[arg(long = "collation", value_name = "NAME")]
    pub collations: Vec<String>,
    /// A virtual table module loaded as an extension (`modules(…)`); repeat for several.
    #[arg(long = "module", value_name = "NAME")]
    pub modules: Vec<String>,
    /// What a down script that does not pass the build's proof does (`downs = "…"`
    /// in the macro): `strict` fails, `lenient` makes its migration irreversible.
    /// The default is strict in the native layout, lenient in another tool's.
    #[arg(long, value_name = "strict|lenient", value_parser = ["strict", "lenient"])]
    pub downs: Option<String>,
    /// From this version on, each destructive, renaming or tightening change must be
    /// acknowledged by a `-- migrate:allow` line (`deploy_safety(from = N)` in the macro).
    #[arg(long, value_name = "VERSION")]
    pub deploy_safety_from: Option<i128>,
}

/// `migrate new`.
#[derive(Debug, Args)]
pub struct New {
    /// The migration's name: lowercase ASCII letters, digits and `_` (`add_users_email`).
    pub name: String,
    /// The migrations folder (created when missing).
    #[arg(long, default_value = "migrations", value_name = "DIR")]
    pub dir: PathBuf,
    /// The folder's layout; detected from the files when not given.
    #[arg(long, value_name = "LAYOUT")]
    pub layout: Option<String>,
    /// Write the `cargo:rerun-if-changed` line into the crate's build.rs when it lacks it.
    #[arg(long)]
    pub build_rs: bool,
    /// Also create the down script (`NNN_name.down.sql`), which the build proves
    /// undoes the migration.
    #[arg(long)]
    pub reversible: bool,
}

/// `migrate check`.
#[derive(Debug, Args)]
pub struct Check {
    #[command(flatten)]
    pub folder: Folder,
    /// Show the classification of the migrations still pending on this database, and
    /// exit 1 when one of them has a destructive, renaming or tightening change that
    /// no `-- migrate:allow` line acknowledges.
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
}

/// The database file.
#[derive(Debug, Args)]
pub struct Database {
    /// The SQLite database file.
    #[arg(long, value_name = "FILE")]
    pub db: PathBuf,
    /// How long to wait for another connection's lock, in seconds.
    #[arg(long, default_value_t = 5, value_name = "SECONDS")]
    pub busy_timeout: u64,
}

/// `migrate status`.
#[derive(Debug, Args)]
pub struct Status {
    #[command(flatten)]
    pub database: Database,
    #[command(flatten)]
    pub folder: Folder,
}

/// `migrate up`.
#[derive(Debug, Args)]
pub struct Up {
    #[command(flatten)]
    pub database: Database,
    /// Apply the pending migrations up to and including this version only.
    #[arg(long, value_name = "VERSION")]
    pub to: Option<i128>,
    /// Start even when the database has migrations the folder does not (a rollback
    /// deploy), with a warning naming them; an edited migration is still refused.
    #[arg(long)]
    pub allow_newer_database: bool,
    /// Apply a pending migration older than the latest applied one.
    #[arg(long)]
    pub allow_out_of_order: bool,
    #[command(flatten)]
    pub folder: Folder,
}

/// `migrate down`.
#[derive(Debug, Args)]
pub struct Down {
    #[command(flatten)]
    pub database: Database,
    /// How many applied migrations to undo, newest first.
    #[arg(long, value_name = "N", conflicts_with = "to")]
    pub steps: Option<usize>,
    /// Undo every applied migration above this version (0: all of them).
    #[arg(long, value_name = "VERSION")]
    pub to: Option<i128>,
    #[command(flatten)]
    pub folder: Folder,
}

/// `migrate baseline`.
#[derive(Debug, Args)]
pub struct Baseline {
    #[command(flatten)]
    pub database: Database,
    /// The last version to record as applied.
    #[arg(long, value_name = "VERSION")]
    pub version: i128,
    #[command(flatten)]
    pub folder: Folder,
}

/// `migrate repair`.
#[derive(Debug, Args)]
pub struct Repair {
    #[command(flatten)]
    pub database: Database,
    /// The applied migration whose file was edited on purpose.
    #[arg(long, value_name = "VERSION")]
    pub version: i128,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub folder: Folder,
}

/// Prints clap's help or version (exit 0), or the first line of its error with a
/// pointer to `--help` (exit 2).
pub fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    // clap's message up to its usage block, on one line.
    let text = e.render().to_string();
    let message: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let message = message.join(" ");
    let message = message.trim_start_matches("error: ");
    let message = if message.is_empty() {
        "invalid arguments"
    } else {
        message
    };
    eprintln!("error: {message} (see `migrate --help`)");
    ExitCode::from(2)
}
