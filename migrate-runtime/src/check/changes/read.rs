//! Reading the objects a migration names: tables with their columns, keys, foreign
//! keys and CHECKs; views with their columns; indexes and triggers.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;

use crate::sql::TokenKind;

/// One column as the classification compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::check) struct Column {
    pub(super) name: String,
    /// The declared type, upper-cased and trimmed.
    pub(super) decl: String,
    pub(super) notnull: bool,
    pub(super) default: Option<String>,
    /// 0 for an ordinary column, 1 for a virtual table's hidden one, 2 or 3 for a
    /// generated one.
    pub(super) hidden: i64,
    /// The table's one `INTEGER PRIMARY KEY` column (the rowid): never NULL,
    /// whatever its NOT NULL says.
    pub(super) rowid: bool,
}

impl Column {
    pub(super) fn key(&self) -> String {
        self.name.to_ascii_lowercase()
    }
}

/// One table: its columns and constraints, column names lower-cased in the sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(in crate::check) struct Table {
    pub(super) columns: Vec<Column>,
    /// Column lists of the primary key and of each unique index.
    pub(super) uniques: BTreeSet<Vec<String>>,
    /// (columns, parent table, parent columns), lower-cased.
    pub(super) foreign_keys: BTreeSet<(Vec<String>, String, Vec<String>)>,
    /// Each CHECK expression in comparable form, with the columns it names.
    pub(super) checks: BTreeMap<String, BTreeSet<String>>,
}

/// A schema object the migration's statements name, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::check) struct Object {
    pub(super) kind: String,
    pub(super) name: String,
    pub(super) table: String,
    /// The SQL as stored.
    pub(super) sql: String,
    /// For a table, its details; for a view, its column names.
    pub(super) details: Option<Table>,
    pub(super) view_columns: Vec<String>,
}

/// The objects read, by lower-cased name.
pub(in crate::check) type Shape = BTreeMap<String, Object>;

/// The objects of the main schema named in `names`, or belonging to a table named
/// there.
pub(in crate::check) fn shape(
    conn: &Connection,
    names: &BTreeSet<String>,
) -> rusqlite::Result<Shape> {
    let mut shape = Shape::new();
    if names.is_empty() {
        return Ok(shape);
    }
    let list = names
        .iter()
        .map(|n| format!("'{}'", n.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(",");
    let query = format!(
        "SELECT type, name, tbl_name, sql FROM main.sqlite_schema \
         WHERE (name COLLATE NOCASE IN ({list}) OR tbl_name COLLATE NOCASE IN ({list})) \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
    );
    let mut stmt = conn.prepare(&query)?;
    let rows = stmt.query_map([], super::super::schema::object)?;
    let rows: Vec<_> = rows.collect::<rusqlite::Result<_>>()?;
    for (kind, name, table, sql) in rows {
        let sql_text = sql.unwrap_or_default();
        let details = if kind == "table" {
            Some(table_details(conn, &name, &sql_text)?)
        } else {
            None
        };
        let view_columns = if kind == "view" {
            column_names(conn, &name).unwrap_or_default()
        } else {
            Vec::new()
        };
        shape.insert(
            name.to_ascii_lowercase(),
            Object {
                kind,
                name,
                table,
                sql: sql_text,
                details,
                view_columns,
            },
        );
    }
    Ok(shape)
}

pub(super) fn column_names(conn: &Connection, name: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT name FROM pragma_table_xinfo(?1, 'main')")?;
    let rows = stmt.query_map([name], |r| r.get::<_, String>(0))?;
    rows.collect()
}

pub(super) fn table_details(conn: &Connection, name: &str, sql: &str) -> rusqlite::Result<Table> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1, 'main')",
    )?;
    let mut pk: Vec<(i64, String)> = Vec::new();
    let mut columns = Vec::new();
    let mut rows = stmt.query([name])?;
    while let Some(r) = rows.next()? {
        let column = Column {
            name: r.get(0)?,
            decl: r.get::<_, String>(1)?.trim().to_ascii_uppercase(),
            notnull: r.get::<_, i64>(2)? != 0,
            default: r.get(3)?,
            hidden: r.get(5)?,
            rowid: false,
        };
        let position: i64 = r.get(4)?;
        if position > 0 {
            pk.push((position, column.key()));
        }
        columns.push(column);
    }
    if let [(_, only)] = &pk[..]
        && let Some(c) = columns
            .iter_mut()
            .find(|c| c.key() == *only && c.decl == "INTEGER")
    {
        c.rowid = true;
    }
    let mut uniques = BTreeSet::new();
    if !pk.is_empty() {
        pk.sort();
        uniques.insert(pk.into_iter().map(|(_, c)| c).collect());
    }
    let mut stmt =
        conn.prepare_cached("SELECT name FROM pragma_index_list(?1, 'main') WHERE \"unique\"")?;
    let indexes: Vec<String> = stmt
        .query_map([name], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for index in indexes {
        let mut stmt = conn.prepare_cached(
            "SELECT name FROM pragma_index_info(?1, 'main') WHERE name IS NOT NULL ORDER BY seqno",
        )?;
        let cols: Vec<String> = stmt
            .query_map([&index], |r| r.get::<_, String>(0))?
            .map(|c| c.map(|c| c.to_ascii_lowercase()))
            .collect::<rusqlite::Result<_>>()?;
        if !cols.is_empty() {
            uniques.insert(cols);
        }
    }
    let mut foreign_keys = BTreeMap::<i64, (Vec<String>, String, Vec<String>)>::new();
    let mut stmt = conn.prepare_cached(
        "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1, 'main') ORDER BY id, seq",
    )?;
    let mut rows = stmt.query([name])?;
    while let Some(r) = rows.next()? {
        let entry = foreign_keys.entry(r.get(0)?).or_default();
        entry.1 = r.get::<_, String>(1)?.to_ascii_lowercase();
        entry.0.push(r.get::<_, String>(2)?.to_ascii_lowercase());
        entry.2.push(
            r.get::<_, Option<String>>(3)?
                .unwrap_or_default()
                .to_ascii_lowercase(),
        );
    }
    let names: BTreeSet<String> = columns.iter().map(Column::key).collect();
    Ok(Table {
        checks: checks(sql, &names),
        columns,
        uniques,
        foreign_keys: foreign_keys.into_values().collect(),
    })
}

/// The CHECK constraints of a CREATE TABLE statement: each expression in comparable
/// form, with the table's columns it names.
pub(super) fn checks(sql: &str, columns: &BTreeSet<String>) -> BTreeMap<String, BTreeSet<String>> {
    let tokens: Vec<_> = crate::sql::tokenize(sql)
        .into_iter()
        .filter(|t| !matches!(t.kind, TokenKind::Space | TokenKind::Comment))
        .collect();
    let mut out = BTreeMap::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i].is_keyword(sql, "CHECK")
            && tokens.get(i + 1).is_some_and(|t| t.text(sql) == "(")
        {
            let mut depth = 0;
            let mut j = i + 1;
            let mut text = Vec::new();
            let mut named = BTreeSet::new();
            while j < tokens.len() {
                let t = tokens[j];
                match t.text(sql) {
                    "(" => depth += 1,
                    ")" => depth -= 1,
                    _ => {}
                }
                let word = match t.kind {
                    TokenKind::Word | TokenKind::QuotedIdent => t
                        .identifier(sql)
                        .map(|id| id.to_ascii_lowercase())
                        .unwrap_or_else(|| t.text(sql).to_owned()),
                    _ => t.text(sql).to_owned(),
                };
                if columns.contains(&word) {
                    named.insert(word.clone());
                }
                text.push(word);
                j += 1;
                if depth == 0 {
                    break;
                }
            }
            out.insert(text.join(" "), named);
            i = j;
        } else {
            i += 1;
        }
    }
    out
}
