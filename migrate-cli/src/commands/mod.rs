//! One file per subcommand.

mod baseline;
mod check;
mod down;
mod new;
mod repair;
mod schema;
mod status;
mod up;

use crate::Outcome;
use crate::cli::{Cli, Command};

/// Runs the command line's subcommand.
pub fn run(cli: Cli) -> Outcome {
    match cli.command {
        Command::New(args) => new::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Up(args) => up::run(&args),
        Command::Down(args) => down::run(&args),
        Command::Schema(folder) => schema::run(&folder),
        Command::Baseline(args) => baseline::run(&args),
        Command::Repair(args) => repair::run(&args),
    }
}
