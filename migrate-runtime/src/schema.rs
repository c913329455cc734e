//! A database's schema as a list of objects in a stable order: what the `migrate
//! schema` command prints, and what `baseline` compares.

use rusqlite::Connection;

/// A table, index, view or trigger of a database, from `sqlite_master`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaObject {
    /// `table`, `index`, `view` or `trigger`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// The table it belongs to (its own name for a table or view).
    pub table: String,
    /// The SQL that created it, as SQLite stores it.
    pub sql: String,
}

impl SchemaObject {
    /// `table users`, `index users_email`…
    pub fn label(&self) -> String {
        format!("{} {}", self.kind, self.name)
    }
}

/// The objects of `conn`'s main database that have SQL (SQLite's automatic indexes
/// have none), without `schema_migrations` and SQLite's own tables: tables first, then
/// indexes, views and triggers, each kind by name.
///
/// # Errors
///
/// SQLite's error when `sqlite_master` cannot be read.
pub fn objects(conn: &Connection) -> rusqlite::Result<Vec<SchemaObject>> {
    let mut stmt = conn.prepare(
        "SELECT type, name, tbl_name, sql FROM main.sqlite_master
         WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
           AND name <> 'schema_migrations'
         ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, name",
    )?;
    stmt.query_map([], |r| {
        Ok(SchemaObject {
            kind: r.get(0)?,
            name: r.get(1)?,
            table: r.get(2)?,
            sql: r.get(3)?,
        })
    })?
    .collect()
}

/// What differs between two schemas, one line per object: missing from `actual`,
/// only in `actual`, or with another definition (compared in canonical form and
/// ignoring ASCII case, so whitespace, comments and the case of keywords and type names
/// do not count; nor, as a consequence, does the case of a literal).
pub fn differences(actual: &[SchemaObject], expected: &[SchemaObject]) -> Vec<String> {
    let canonical = |o: &SchemaObject| crate::sql::canonical(&o.sql);
    let mut found = Vec::new();
    for e in expected {
        match actual
            .iter()
            .find(|a| a.kind == e.kind && a.name.eq_ignore_ascii_case(&e.name))
        {
            None => found.push(format!("{} is missing from the database", e.label())),
            Some(a) if !canonical(a).eq_ignore_ascii_case(&canonical(e)) => found.push(format!(
                "{} differs: the database has `{}`, the migrations make `{}`",
                e.label(),
                canonical(a),
                canonical(e)
            )),
            Some(_) => {}
        }
    }
    for a in actual {
        if !expected
            .iter()
            .any(|e| e.kind == a.kind && e.name.eq_ignore_ascii_case(&a.name))
        {
            found.push(format!(
                "{} is in the database but not made by the migrations",
                a.label()
            ));
        }
    }
    found
}
