//! An application on its own rusqlite (0.37) hands its connection to `migrate`.

use rusqlite::functions::FunctionFlags;

static MIGRATIONS: migrate::Migrations = migrate::migrations!("migrations", functions(shout / 1));

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The application's own `rusqlite::Connection`, not `migrate::rusqlite`'s: the
    // call below compiles only because the two are one type.
    let mut conn = rusqlite::Connection::open_in_memory()?;
    conn.create_scalar_function(
        "shout",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(ctx.get::<String>(0)?.to_uppercase()),
    )?;
    let report = MIGRATIONS.run(&mut conn)?;
    assert_eq!(report.applied.len(), 2);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert!(MIGRATIONS.status(&conn)?.is_up_to_date());

    conn.execute("INSERT INTO notes (body) VALUES (?1)", ["hello"])?;
    let loud: String = conn.query_row("SELECT body FROM loud_notes", [], |r| r.get(0))?;
    assert_eq!(loud, "HELLO");

    // `migrate::rusqlite` is the application's rusqlite too.
    let _: &migrate::rusqlite::Connection = &conn;
    println!(
        "compat: rusqlite 0.37 connection (SQLite {}) migrated to version {:?}, validated with SQLite {:?}",
        rusqlite::version(),
        MIGRATIONS.status(&conn)?.version(),
        MIGRATIONS.validated_with(),
    );
    Ok(())
}
