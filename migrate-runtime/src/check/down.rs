//! The proof of a down script: applied right after its migration, it gives back the
//! schema from before the migration.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rusqlite::Connection;

use super::SourceMigration;
use crate::diagnostic::Diagnostic;
use crate::source::SourceDown;

/// One schema object as compared: its table, canonical SQL and, for a table, its
/// columns (`name type notnull default pk hidden`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Object {
    table: String,
    /// The canonical SQL, compared.
    sql: Option<String>,
    /// The SQL as SQLite stores it, shown.
    shown: Option<String>,
    columns: Vec<String>,
}

/// The schema's objects by (type, name), SQLite's own tables left out.
pub(super) type Snapshot = BTreeMap<(String, String), Object>;

/// Every `sqlite_schema` object but `sqlite_sequence` and `sqlite_stat*` (SQLite's
/// own, which a down cannot drop), by type and name.
pub(super) fn snapshot(conn: &Connection) -> rusqlite::Result<Snapshot> {
    let mut stmt = conn.prepare(
        "SELECT type, name, tbl_name, sql FROM main.sqlite_schema \
         WHERE name <> 'sqlite_sequence' AND name NOT LIKE 'sqlite\\_stat%' ESCAPE '\\'",
    )?;
    let rows = stmt.query_map([], super::schema::object)?;
    let mut objects = Snapshot::new();
    for row in rows {
        let (kind, name, table, sql) = row?;
        let columns = if kind == "table" {
            table_columns(conn, &name)?
        } else {
            Vec::new()
        };
        objects.insert(
            (kind, name),
            Object {
                table,
                sql: sql.as_deref().map(comparable),
                shown: sql,
                columns,
            },
        );
    }
    Ok(objects)
}

/// The form in which a schema object's SQL is compared: its tokens without spaces
/// and comments, words upper-cased and quoted identifiers unquoted and upper-cased
/// (SQLite quotes a table's name when `ALTER TABLE … RENAME` rewrites its SQL, and
/// compares ASCII names without case), other tokens as written.
pub(super) fn comparable(sql: &str) -> String {
    use crate::sql::TokenKind;
    let mut out = String::with_capacity(sql.len());
    for token in crate::sql::tokenize(sql) {
        let text = match token.kind {
            TokenKind::Space | TokenKind::Comment => continue,
            TokenKind::Word | TokenKind::QuotedIdent => token
                .identifier(sql)
                .unwrap_or_else(|| token.text(sql).to_owned())
                .to_ascii_uppercase(),
            _ => token.text(sql).to_owned(),
        };
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&text);
    }
    out
}

fn table_columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1, 'main')",
    )?;
    let rows = stmt.query_map([table], |r| {
        Ok(format!(
            "{} {} notnull={} default={} pk={} hidden={}",
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, Option<String>>(3)?
                .unwrap_or_else(|| "NULL".to_owned()),
            r.get::<_, i64>(4)?,
            r.get::<_, i64>(5)?,
        ))
    })?;
    rows.collect()
}

/// The down script as a migration of its own, for running and messages.
pub(super) fn as_migration(up: &SourceMigration, down: &SourceDown) -> SourceMigration {
    SourceMigration {
        version: up.version,
        name: up.name.clone(),
        file_name: down.file_name.clone(),
        path: down.path.clone(),
        display_path: down.display_path.clone(),
        sql: down.sql.clone(),
        checksum: down.checksum,
        chain: up.chain,
        transaction: down.transaction,
        source_id: up.source_id.clone(),
        down: None,
        irreversible: None,
        changes: Vec::new(),
    }
}

/// The lines of a changed object's SQL: a one-line statement whole, before and
/// after; a longer one as the lines only before (`-`) and only after (`+`), in order.
fn sql_diff(out: &mut String, old: Option<&str>, new: Option<&str>) {
    let (old, new) = (old.unwrap_or("(none)"), new.unwrap_or("(none)"));
    if !old.contains('\n') && !new.contains('\n') {
        let _ = write!(out, "\n    - {old}\n    + {new}");
        return;
    }
    let old_lines: Vec<&str> = old.lines().map(str::trim_end).collect();
    let new_lines: Vec<&str> = new.lines().map(str::trim_end).collect();
    for line in old_lines.iter().filter(|l| !new_lines.contains(l)) {
        let _ = write!(out, "\n    - {line}");
    }
    for line in new_lines.iter().filter(|l| !old_lines.contains(l)) {
        let _ = write!(out, "\n    + {line}");
    }
}

/// Requires the schema after the down to be the one from before the migration.
///
/// # Errors
///
/// At the down file: the objects the down leaves behind, those it removed that the
/// migration did not create, and those it changed, each with its SQL before and after.
pub(super) fn compare(
    up: &SourceMigration,
    down: &SourceDown,
    before: &Snapshot,
    after: &Snapshot,
) -> Result<(), Diagnostic> {
    let describe = |(kind, name): &(String, String)| format!("{kind} `{name}`");
    let added: Vec<String> = after
        .keys()
        .filter(|k| !before.contains_key(*k))
        .map(describe)
        .collect();
    let missing: Vec<String> = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .map(describe)
        .collect();
    let mut changed = Vec::new();
    for (key, old) in before {
        let Some(new) = after.get(key) else { continue };
        if old.table == new.table && old.sql == new.sql && old.columns == new.columns {
            continue;
        }
        let mut diff = describe(key);
        if old.table != new.table {
            let _ = write!(diff, " (on table `{}`, was `{}`)", new.table, old.table);
        }
        if old.sql != new.sql {
            sql_diff(&mut diff, old.shown.as_deref(), new.shown.as_deref());
        }
        for column in old.columns.iter().filter(|c| !new.columns.contains(c)) {
            let _ = write!(diff, "\n    - column {column}");
        }
        for column in new.columns.iter().filter(|c| !old.columns.contains(c)) {
            let _ = write!(diff, "\n    + column {column}");
        }
        changed.push(diff);
    }
    if added.is_empty() && missing.is_empty() && changed.is_empty() {
        return Ok(());
    }
    let mut message = format!(
        "down script does not undo `{}`: the schema after it differs from the schema before the migration",
        up.file_name
    );
    if !added.is_empty() {
        let _ = write!(message, "\n  left behind: {}", added.join(", "));
    }
    if !missing.is_empty() {
        let _ = write!(
            message,
            "\n  missing (it existed before the migration): {}",
            missing.join(", ")
        );
    }
    for diff in &changed {
        let _ = write!(message, "\n  changed: {diff}");
    }
    Err(Diagnostic::new(&down.display_path, message).with_help(format!(
        "the build runs `{}`, then its down script, and requires the schema from before the migration (every table, index, view and trigger, and each table's columns); drop what the migration creates, restore what it drops or changes, and leave the rest alone",
        up.file_name
    )))
}
