//! Applies the embedded `migrations/` folder to `app.db` (or the path given).
//!
//! ```text
//! cargo run --example quickstart [DB]
//! ```

use std::process::ExitCode;

static MIGRATIONS: migrate::Migrations = migrate::migrations!("migrations");

fn main() -> ExitCode {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "app.db".to_owned());
    match migrate_database(&path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn migrate_database(path: &str) -> Result<(), migrate::Error> {
    let mut conn = migrate::rusqlite::Connection::open(path)?;
    // As most applications do; the runner still rebuilds tables without cascading.
    conn.pragma_update(None, "foreign_keys", true)?;
    let report = MIGRATIONS.run(&mut conn)?;
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    for applied in &report.applied {
        let ms = applied.duration.as_secs_f64() * 1000.0;
        let rows = applied.rows_changed;
        let noun = if rows == 1 { "row" } else { "rows" };
        println!(
            "applied {} ({ms:.1} ms, {rows} {noun} changed)",
            applied.migration
        );
    }
    if report.applied.is_empty() {
        println!("nothing to apply: {path} is up to date");
    }
    let status = MIGRATIONS.status(&conn)?;
    let version = status
        .version()
        .map_or_else(|| "none".to_owned(), |v| v.to_string());
    let applied = status.applied.len();
    let noun = if applied == 1 {
        "migration"
    } else {
        "migrations"
    };
    println!(
        "database is at version {version} ({applied} {noun} applied, {} pending)",
        status.pending.len()
    );
    Ok(())
}
