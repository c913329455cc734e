//! The `migrate` command: create, check, inspect and apply the SQLite migrations of a
//! folder, with exactly the checks the `migrations!` macro runs at build time.
//!
//! Exit codes: 0 success; 1 `check` found problems, or `status` found pending
//! migrations; 2 any error (one line on stderr), and `status` finding a modified or
//! unknown migration.

mod cli;
mod commands;
mod db;
mod folder;
mod progress;
mod scaffold;

use std::process::ExitCode;

use clap::Parser;

/// An error the command reports on one line, exiting with 2.
#[derive(Debug)]
pub struct Failure(pub String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

/// What commands return: the exit code, or a one-line error.
pub type Outcome = Result<ExitCode, Failure>;

fn main() -> ExitCode {
    // Never a panic message or a backtrace: one line, exit 2.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(ToString::to_string)
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".to_owned());
        eprintln!("error: internal error ({message}); please report it");
        std::process::exit(2);
    }));
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return cli::usage_error(&e),
    };
    match commands::run(cli) {
        Ok(code) => code,
        Err(Failure(message)) => {
            let first = message.lines().next().unwrap_or_default();
            eprintln!("error: {first}");
            for more in message.lines().skip(1) {
                eprintln!("  {more}");
            }
            ExitCode::from(2)
        }
    }
}
