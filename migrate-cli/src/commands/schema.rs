//! `migrate schema`: the schema the folder produces, for review in a diff.

use std::process::ExitCode;

use rusqlite::Connection;

use crate::Outcome;
use crate::cli::Folder;
use crate::folder;

pub fn run(args: &Folder) -> Outcome {
    let migrations = folder::load(args)?;
    let mut conn = Connection::open_in_memory()?;
    migrations.run(&mut conn)?;
    println!(
        "-- The schema of {} after migration {} (`migrate schema`).",
        folder::display(args),
        migrations
            .latest_version()
            .map_or_else(|| "none".to_owned(), |v| v.to_string())
    );
    for object in migrate_runtime::schema::objects(&conn)? {
        println!("\n{};", object.sql);
    }
    Ok(ExitCode::SUCCESS)
}
