//! The classification of each migration's schema changes: the objects its DDL
//! statements name are read before and after it runs (tables with their columns,
//! constraints and indexes, views, triggers), and compared. A rebuild (create a new
//! table, copy, drop the old one, rename the new one) compares as the same table, so
//! only what it actually changes is reported.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;

use crate::changes::{Change, ChangeKind};
use crate::sql::{Statement, TokenKind};

/// One column as the classification compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Column {
    name: String,
    /// The declared type, upper-cased and trimmed.
    decl: String,
    notnull: bool,
    default: Option<String>,
    /// 0 for an ordinary column, 1 for a virtual table's hidden one, 2 or 3 for a
    /// generated one.
    hidden: i64,
    /// The table's one `INTEGER PRIMARY KEY` column (the rowid): never NULL,
    /// whatever its NOT NULL says.
    rowid: bool,
}

impl Column {
    fn key(&self) -> String {
        self.name.to_ascii_lowercase()
    }
}

/// One table: its columns and constraints, column names lower-cased in the sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Table {
    columns: Vec<Column>,
    /// Column lists of the primary key and of each unique index.
    uniques: BTreeSet<Vec<String>>,
    /// (columns, parent table, parent columns), lower-cased.
    foreign_keys: BTreeSet<(Vec<String>, String, Vec<String>)>,
    /// Each CHECK expression in comparable form, with the columns it names.
    checks: BTreeMap<String, BTreeSet<String>>,
}

/// A schema object the migration's statements name, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Object {
    kind: String,
    name: String,
    table: String,
    /// The SQL as stored.
    sql: String,
    /// For a table, its details; for a view, its column names.
    details: Option<Table>,
    view_columns: Vec<String>,
}

/// The objects read, by lower-cased name.
pub(super) type Shape = BTreeMap<String, Object>;

/// The lower-cased names of the objects a migration's DDL statements create, drop or
/// alter (and the table an index or trigger is created on, and a table's new name):
/// the objects it may change. Empty when it has no DDL statement.
pub(super) fn candidates(statements: &[Statement<'_>]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for s in statements {
        let Some(keyword) = s.keyword() else { continue };
        if !matches!(keyword.as_str(), "CREATE" | "DROP" | "ALTER") {
            continue;
        }
        let w = words(s);
        // The object name at `i` (after `schema .` when qualified), and where it ends.
        let name_at = |i: usize| -> Option<(String, usize)> {
            if w.get(i + 1).is_some_and(|d| d == ".") {
                Some((w.get(i + 2)?.clone(), i + 3))
            } else {
                Some((w.get(i)?.clone(), i + 1))
            }
        };
        let mut i = 1;
        while w
            .get(i)
            .is_some_and(|x| matches!(x.as_str(), "temp" | "temporary" | "unique" | "virtual"))
        {
            i += 1;
        }
        let Some(kind) = w.get(i).cloned() else {
            continue;
        };
        if !matches!(kind.as_str(), "table" | "index" | "view" | "trigger") {
            continue;
        }
        i += 1;
        let skip = if keyword == "CREATE" {
            ["if", "not", "exists"].as_slice()
        } else {
            ["if", "exists"].as_slice()
        };
        if w.get(i).is_some_and(|x| x == "if") {
            i += skip.len();
        }
        let Some((name, after)) = name_at(i) else {
            continue;
        };
        names.insert(name);
        match (keyword.as_str(), kind.as_str()) {
            ("CREATE", "index" | "trigger") => {
                // `ON table`: for a trigger, the first `ON` before its body.
                let end = w.iter().position(|x| x == "begin").unwrap_or(w.len());
                if let Some(on) = w[after.min(end)..end].iter().position(|x| x == "on")
                    && let Some((table, _)) = name_at(after + on + 1)
                {
                    names.insert(table);
                }
            }
            ("ALTER", _) => {
                if w.get(after).is_some_and(|x| x == "rename")
                    && w.get(after + 1).is_some_and(|x| x == "to")
                    && let Some(new) = w.get(after + 2)
                {
                    names.insert(new.clone());
                }
            }
            _ => {}
        }
    }
    names
}

/// The changes of a migration whose only DDL creates new objects or adds columns
/// (`CREATE TABLE|VIEW|TRIGGER|INDEX` without `IF NOT EXISTS`, not `UNIQUE`, not
/// temporary; `ALTER TABLE … ADD COLUMN`), read from its statements alone: each is
/// additive, and the schema need not be read. `None` for any other migration.
pub(super) fn additive_only(sql: &str, statements: &[Statement<'_>]) -> Option<Vec<Change>> {
    let mut changes = Vec::new();
    for s in statements {
        let Some(keyword) = s.keyword() else { continue };
        if !matches!(keyword.as_str(), "CREATE" | "DROP" | "ALTER") {
            continue;
        }
        let w = words(s);
        let line = crate::sql::line_column(sql, s.offset).0;
        // The name at `i`, unquoted as written, after `schema .`; only in `main`.
        let name_at = |i: usize| -> Option<(String, usize)> {
            let id = |j: usize| s.tokens.get(j).and_then(|t| t.identifier(s.text));
            if w.get(i + 1).is_some_and(|d| d == ".") {
                (w.get(i)? == "main").then_some(())?;
                Some((id(i + 2)?, i + 3))
            } else {
                Some((id(i)?, i + 1))
            }
        };
        let (kind, object) = match (keyword.as_str(), w.get(1).map(String::as_str)) {
            ("CREATE", Some("table" | "index" | "view" | "trigger" | "virtual")) => {
                let at = if w[1] == "virtual" { 2 } else { 1 };
                let kind = match w.get(at).map(String::as_str) {
                    Some("table") => ChangeKind::CreateTable,
                    Some("index") => ChangeKind::CreateIndex,
                    Some("view") => ChangeKind::CreateView,
                    Some("trigger") => ChangeKind::CreateTrigger,
                    _ => return None,
                };
                if w.get(at + 1).is_some_and(|x| x == "if") {
                    return None;
                }
                (kind, name_at(at + 1)?.0)
            }
            ("ALTER", Some("table")) => {
                let (table, after) = name_at(2)?;
                if w.get(after).is_none_or(|x| x != "add") {
                    return None;
                }
                let column_at = if w.get(after + 1).is_some_and(|x| x == "column") {
                    after + 2
                } else {
                    after + 1
                };
                let column = s.tokens.get(column_at)?.identifier(s.text)?;
                (ChangeKind::AddColumn, format!("{table}.{column}"))
            }
            _ => return None,
        };
        // A column added to a table created by the same migration is part of it.
        let new_table = |c: &Change, table: &str| {
            c.kind == ChangeKind::CreateTable && c.object.eq_ignore_ascii_case(table)
        };
        if kind == ChangeKind::AddColumn
            && let Some((table, _)) = object.rsplit_once('.')
            && changes.iter().any(|c| new_table(c, table))
        {
            continue;
        }
        changes.push(Change {
            kind,
            object,
            detail: String::new(),
            line,
        });
    }
    changes.sort_by_key(|c| (c.line, c.kind));
    Some(changes)
}

/// The objects of the main schema named in `names`, or belonging to a table named
/// there.
pub(super) fn shape(conn: &Connection, names: &BTreeSet<String>) -> rusqlite::Result<Shape> {
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
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
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

fn column_names(conn: &Connection, name: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT name FROM pragma_table_xinfo(?1, 'main')")?;
    let rows = stmt.query_map([name], |r| r.get::<_, String>(0))?;
    rows.collect()
}

fn table_details(conn: &Connection, name: &str, sql: &str) -> rusqlite::Result<Table> {
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
fn checks(sql: &str, columns: &BTreeSet<String>) -> BTreeMap<String, BTreeSet<String>> {
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

/// SQL in the form compared: tokens without spaces and comments, identifiers
/// unquoted and lower-cased.
fn comparable(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    for t in crate::sql::tokenize(sql) {
        let text = match t.kind {
            TokenKind::Space | TokenKind::Comment => continue,
            TokenKind::Word | TokenKind::QuotedIdent => t
                .identifier(sql)
                .unwrap_or_else(|| t.text(sql).to_owned())
                .to_ascii_lowercase(),
            _ => t.text(sql).to_owned(),
        };
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&text);
    }
    out
}

/// A statement's words: identifiers and keywords lower-cased and unquoted, other
/// tokens as written.
fn words(s: &Statement<'_>) -> Vec<String> {
    s.tokens
        .iter()
        .map(|t| match t.kind {
            TokenKind::Word | TokenKind::QuotedIdent => t
                .identifier(s.text)
                .unwrap_or_else(|| t.text(s.text).to_owned())
                .to_ascii_lowercase(),
            _ => t.text(s.text).to_owned(),
        })
        .collect()
}

/// The statements of a migration as words, with the line each starts on.
struct Script {
    statements: Vec<(usize, Vec<String>)>,
}

impl Script {
    fn new(sql: &str, statements: &[Statement<'_>]) -> Self {
        Self {
            statements: statements
                .iter()
                .map(|s| (crate::sql::line_column(sql, s.offset).0, words(s)))
                .collect(),
        }
    }

    /// The line of the first statement for which `test` holds.
    fn find(&self, test: impl Fn(&[String]) -> bool) -> Option<usize> {
        self.statements
            .iter()
            .find(|(_, w)| test(w))
            .map(|(line, _)| *line)
    }

    /// The line of the first statement starting with `start` that names `name`.
    fn starting(&self, start: &[&str], name: &str) -> Option<usize> {
        self.find(|w| starts(w, start) && w.iter().any(|x| x == name))
    }

    /// The line of the first statement naming `name`, else of the first statement.
    fn mentioning(&self, name: &str) -> usize {
        self.find(|w| w.iter().any(|x| x == name))
            .or_else(|| self.statements.first().map(|(line, _)| *line))
            .unwrap_or(1)
    }

    /// `ALTER TABLE <table> RENAME [COLUMN] <old> TO <new>` pairs for `table`, and
    /// `ALTER TABLE <old> RENAME TO <new>` pairs when `table` is `None`.
    fn renames(&self, table: Option<&str>) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (_, w) in &self.statements {
            if !starts(w, &["alter", "table"]) {
                continue;
            }
            // alter table [schema .] name rename ...
            let mut i = 2;
            if w.get(3).is_some_and(|d| d == ".") {
                i = 4;
            }
            let Some(subject) = w.get(i) else { continue };
            if w.get(i + 1).map(String::as_str) != Some("rename") {
                continue;
            }
            let rest = &w[i + 2..];
            match (table, rest) {
                (None, [to, new]) if to == "to" => out.push((subject.clone(), new.clone())),
                (Some(t), [column, old, to, new])
                    if t == subject && column == "column" && to == "to" =>
                {
                    out.push((old.clone(), new.clone()));
                }
                (Some(t), [old, to, new]) if t == subject && to == "to" && old != "to" => {
                    out.push((old.clone(), new.clone()));
                }
                _ => {}
            }
        }
        out
    }
}

fn starts(words: &[String], start: &[&str]) -> bool {
    words.len() >= start.len() && words.iter().zip(start).all(|(w, s)| w == s)
}

/// The changes from `before` to `after`, the objects a migration names read before
/// and after it ran, with the line of the statement that makes each.
pub(super) fn diff(
    before: &Shape,
    after: &Shape,
    sql: &str,
    statements: &[Statement<'_>],
) -> Vec<Change> {
    let script = Script::new(sql, statements);
    let mut changes = Vec::new();
    let mut push = |kind: ChangeKind, object: String, detail: String, line: usize| {
        changes.push(Change {
            kind,
            object,
            detail,
            line,
        });
    };
    let of_kind = |shape: &Shape, kind: &str| -> BTreeSet<String> {
        shape
            .iter()
            .filter(|(_, o)| o.kind == kind)
            .map(|(k, _)| k.clone())
            .collect()
    };

    // Tables: the same name on both sides (a rebuild included), renamed, dropped, new.
    let (old_tables, new_tables) = (of_kind(before, "table"), of_kind(after, "table"));
    let mut removed: Vec<String> = old_tables.difference(&new_tables).cloned().collect();
    let mut added: Vec<String> = new_tables.difference(&old_tables).cloned().collect();
    let mut table_renames: Vec<(String, String)> = Vec::new();
    for (old, new) in script.renames(None) {
        if let (Some(r), Some(a)) = (
            removed.iter().position(|x| *x == old),
            added.iter().position(|x| *x == new),
        ) {
            removed.remove(r);
            added.remove(a);
            table_renames.push((old, new));
        }
    }
    // A copy under another name: the same columns.
    let column_keys = |o: &Object| -> BTreeSet<String> {
        o.details
            .as_ref()
            .map(|t| t.columns.iter().map(Column::key).collect())
            .unwrap_or_default()
    };
    let mut r = 0;
    while r < removed.len() {
        let keys = column_keys(&before[&removed[r]]);
        match added
            .iter()
            .position(|a| !keys.is_empty() && column_keys(&after[a]) == keys)
        {
            Some(a) => {
                table_renames.push((removed.remove(r), added.remove(a)));
            }
            None => r += 1,
        }
    }
    let renamed_to: BTreeMap<String, String> = table_renames.iter().cloned().collect();
    for (old, new) in &table_renames {
        let line = script
            .find(|w| starts(w, &["alter", "table"]) && w.contains(old) && w.contains(new))
            .unwrap_or_else(|| script.mentioning(new));
        push(
            ChangeKind::RenameTable,
            before[old].name.clone(),
            format!("renamed to {}", after[new].name),
            line,
        );
    }
    for old in &removed {
        let line = script
            .starting(&["drop", "table"], old)
            .unwrap_or_else(|| script.mentioning(old));
        push(
            ChangeKind::DropTable,
            before[old].name.clone(),
            String::new(),
            line,
        );
    }
    for new in &added {
        let line = script
            .starting(&["create"], new)
            .unwrap_or_else(|| script.mentioning(new));
        push(
            ChangeKind::CreateTable,
            after[new].name.clone(),
            String::new(),
            line,
        );
    }
    let pairs: Vec<(String, String)> = old_tables
        .intersection(&new_tables)
        .map(|t| (t.clone(), t.clone()))
        .chain(table_renames.iter().cloned())
        .collect();
    for (old, new) in &pairs {
        let (Some(b), Some(a)) = (&before[old].details, &after[new].details) else {
            continue;
        };
        table_changes(
            &before[old].name,
            b,
            a,
            &renamed_to,
            &script,
            (old, new),
            &mut push,
        );
    }

    // Views, indexes and triggers, by name.
    let gone_tables: BTreeSet<&String> = removed.iter().collect();
    for kind in ["view", "index", "trigger"] {
        let (old, new) = (of_kind(before, kind), of_kind(after, kind));
        for name in old.difference(&new) {
            let o = &before[name];
            let owner = o.table.to_ascii_lowercase();
            if kind != "view" && (gone_tables.contains(&owner) || o.sql.is_empty()) {
                continue; // dropped with its table, or an automatic index
            }
            let (k, start): (ChangeKind, &[&str]) = match kind {
                "view" => (ChangeKind::DropView, &["drop", "view"]),
                "index" => (ChangeKind::DropIndex, &["drop", "index"]),
                _ => (ChangeKind::DropTrigger, &["drop", "trigger"]),
            };
            // A trigger or index that goes with a table dropped in a rebuild and is
            // not created again is dropped all the same.
            let line = script
                .starting(start, name)
                .unwrap_or_else(|| script.mentioning(name));
            push(k, o.name.clone(), String::new(), line);
        }
        for name in new.difference(&old) {
            let o = &after[name];
            if o.sql.is_empty() {
                continue;
            }
            let k = match kind {
                "view" => ChangeKind::CreateView,
                "index" => ChangeKind::CreateIndex,
                _ => ChangeKind::CreateTrigger,
            };
            let line = script
                .starting(&["create"], name)
                .unwrap_or_else(|| script.mentioning(name));
            push(k, o.name.clone(), String::new(), line);
        }
        for name in old.intersection(&new) {
            let (b, a) = (&before[name], &after[name]);
            if b.sql == a.sql || a.sql.is_empty() || comparable(&b.sql) == comparable(&a.sql) {
                continue;
            }
            // Defined again by a CREATE statement; not the SQL that SQLite rewrites
            // when a table or column it names is renamed.
            let Some(line) = script.starting(&["create"], name) else {
                continue;
            };
            match kind {
                "view" => {
                    let kept: BTreeSet<String> = a
                        .view_columns
                        .iter()
                        .map(|c| c.to_ascii_lowercase())
                        .collect();
                    let lost: Vec<&String> = b
                        .view_columns
                        .iter()
                        .filter(|c| !kept.contains(&c.to_ascii_lowercase()))
                        .collect();
                    if lost.is_empty() {
                        push(ChangeKind::ChangeView, a.name.clone(), String::new(), line);
                    }
                    for column in lost {
                        push(
                            ChangeKind::DropColumn,
                            format!("{}.{column}", b.name),
                            "no longer in the view".to_owned(),
                            line,
                        );
                    }
                }
                "index" => {
                    // Its uniqueness shows in the table's constraints.
                    push(
                        ChangeKind::CreateIndex,
                        a.name.clone(),
                        "defined again".to_owned(),
                        line,
                    );
                }
                _ => push(
                    ChangeKind::ChangeTrigger,
                    a.name.clone(),
                    String::new(),
                    line,
                ),
            }
        }
    }
    changes.sort_by_key(|c| (c.line, c.kind));
    changes
}

/// The changes to one table kept (under the same name, or renamed `names.0` to
/// `names.1`), `b` before and `a` after.
fn table_changes(
    table: &str,
    b: &Table,
    a: &Table,
    renamed_to: &BTreeMap<String, String>,
    script: &Script,
    names: (&String, &String),
    push: &mut impl FnMut(ChangeKind, String, String, usize),
) {
    let (old_key, new_key) = names;
    let visible = |c: &&Column| c.hidden != 1;
    let old: Vec<&Column> = b.columns.iter().filter(visible).collect();
    let new: Vec<&Column> = a.columns.iter().filter(visible).collect();
    let old_keys: BTreeSet<String> = old.iter().map(|c| c.key()).collect();
    let new_keys: BTreeSet<String> = new.iter().map(|c| c.key()).collect();
    let mut removed: Vec<&Column> = old
        .iter()
        .copied()
        .filter(|c| !new_keys.contains(&c.key()))
        .collect();
    let mut added: Vec<&Column> = new
        .iter()
        .copied()
        .filter(|c| !old_keys.contains(&c.key()))
        .collect();
    // Renamed columns: by the statement, then at the same position with the same type,
    // then a single pair with the same type.
    let mut renames: Vec<(&Column, &Column)> = Vec::new();
    for (o, n) in script
        .renames(Some(old_key))
        .into_iter()
        .chain(script.renames(Some(new_key)))
    {
        take(&o, &n, &mut removed, &mut added, &mut renames);
    }
    let position = |cols: &[&Column], key: &str| cols.iter().position(|c| c.key() == key);
    let pairs: Vec<(String, String)> = removed
        .iter()
        .filter_map(|r| {
            let at = position(&old, &r.key())?;
            let n = new.get(at)?;
            (added.iter().any(|x| x.key() == n.key()) && n.decl == r.decl)
                .then(|| (r.key(), n.key()))
        })
        .collect();
    for (o, n) in pairs {
        take(&o, &n, &mut removed, &mut added, &mut renames);
    }
    if removed.len() == 1 && added.len() == 1 && removed[0].decl == added[0].decl {
        let (o, n) = (removed[0].key(), added[0].key());
        take(&o, &n, &mut removed, &mut added, &mut renames);
    }
    let column_object = |c: &Column| format!("{table}.{}", c.name);
    let alter_line = |column: &str| {
        script.find(|w| {
            starts(w, &["alter", "table"])
                && (w.contains(old_key) || w.contains(new_key))
                && w.iter().any(|x| x == column)
        })
    };
    // The statement that defines the table's new form: a CREATE TABLE naming the
    // column (a rebuild's new table), else the first naming the table.
    let define_line = |column: &str| {
        alter_line(column)
            .or_else(|| {
                script.find(|w| starts(w, &["create", "table"]) && w.iter().any(|x| x == column))
            })
            .unwrap_or_else(|| script.mentioning(new_key))
    };
    for (o, n) in &renames {
        let line = alter_line(&o.key())
            .or_else(|| {
                script.find(|w| w.iter().any(|x| *x == n.key()) && w.iter().any(|x| *x == o.key()))
            })
            .unwrap_or_else(|| define_line(&n.key()));
        push(
            ChangeKind::RenameColumn,
            column_object(o),
            format!("renamed to {}", n.name),
            line,
        );
    }
    for c in &removed {
        let line = alter_line(&c.key())
            .or_else(|| script.starting(&["drop", "table"], old_key))
            .unwrap_or_else(|| script.mentioning(old_key));
        push(
            ChangeKind::DropColumn,
            column_object(c),
            String::new(),
            line,
        );
    }
    for c in &added {
        let line = define_line(&c.key());
        if c.notnull && c.default.is_none() && c.hidden == 0 && !c.rowid {
            push(
                ChangeKind::TightenColumn,
                column_object(c),
                "new NOT NULL column without a default: the old code's INSERTs fail".to_owned(),
                line,
            );
        } else {
            push(ChangeKind::AddColumn, column_object(c), String::new(), line);
        }
    }
    // Columns kept: the old name to the new.
    let mut kept: Vec<(&Column, &Column)> = old
        .iter()
        .filter_map(|o| Some((*o, *new.iter().find(|n| n.key() == o.key())?)))
        .collect();
    kept.extend(renames.iter().copied());
    let to_new: BTreeMap<String, String> = kept.iter().map(|(o, n)| (o.key(), n.key())).collect();
    let to_old: BTreeMap<String, &Column> = kept.iter().map(|(o, n)| (n.key(), *o)).collect();
    let mut tightened: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (o, n) in &kept {
        let mut tighter = Vec::new();
        if o.decl != n.decl {
            tighter.push(format!(
                "type {} -> {}",
                shown_type(&o.decl),
                shown_type(&n.decl)
            ));
        }
        let rowid = o.rowid && n.rowid;
        if !o.notnull && n.notnull && !rowid {
            tighter.push("NOT NULL".to_owned());
        } else if o.notnull && !n.notnull && !rowid {
            push(
                ChangeKind::LoosenColumn,
                column_object(o),
                "NOT NULL removed".to_owned(),
                define_line(&n.key()),
            );
        }
        if n.notnull && o.default.is_some() && n.default.is_none() {
            tighter.push("its default removed".to_owned());
        }
        if !tighter.is_empty() {
            tightened.entry(n.key()).or_default().extend(tighter);
        }
    }
    // Constraints over columns that existed before: unique sets, foreign keys, checks.
    let translate = |cols: &[String]| -> Vec<String> {
        cols.iter()
            .map(|c| to_new.get(c).cloned().unwrap_or_else(|| c.clone()))
            .collect()
    };
    let old_uniques: Vec<Vec<String>> = b.uniques.iter().map(|u| translate(u)).collect();
    let existing = |c: &String| to_old.contains_key(c);
    for u in &a.uniques {
        if !u.iter().all(existing) {
            continue;
        }
        let covered = old_uniques
            .iter()
            .any(|old| old.iter().all(|c| u.contains(c)));
        if !covered {
            for c in u {
                tightened
                    .entry(c.clone())
                    .or_default()
                    .push(format!("UNIQUE ({})", u.join(", ")));
            }
        }
    }
    let old_fks: BTreeSet<(Vec<String>, String, Vec<String>)> = b
        .foreign_keys
        .iter()
        .map(|(cols, parent, to)| {
            let parent = renamed_to
                .get(parent)
                .cloned()
                .unwrap_or_else(|| parent.clone());
            (translate(cols), parent, to.clone())
        })
        .collect();
    for fk in &a.foreign_keys {
        let (cols, parent, to) = fk;
        if !cols.iter().all(existing) {
            continue;
        }
        let known = old_fks.iter().any(|(c, p, t)| {
            c == cols
                && p == parent
                && (t == to || t.iter().all(String::is_empty) || to.iter().all(String::is_empty))
        });
        if !known {
            for c in cols {
                tightened
                    .entry(c.clone())
                    .or_default()
                    .push(format!("REFERENCES {parent}"));
            }
        }
    }
    let old_checks: BTreeSet<String> = b
        .checks
        .keys()
        .map(|text| {
            text.split(' ')
                .map(|w| to_new.get(w).map_or(w, String::as_str))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    for (text, named) in &a.checks {
        // A check that names a column new in this migration constrains that column:
        // the old code does not write it.
        if old_checks.contains(text) || named.iter().any(|c| !existing(c)) {
            continue;
        }
        for c in named.iter().filter(|c| existing(c)) {
            tightened
                .entry(c.clone())
                .or_default()
                .push(format!("CHECK {text}"));
        }
    }
    for (column, what) in tightened {
        let Some(o) = to_old.get(&column) else {
            continue;
        };
        let line = script
            .find(|w| starts(w, &["create", "unique", "index"]) && w.contains(&column))
            .unwrap_or_else(|| define_line(&column));
        push(
            ChangeKind::TightenColumn,
            column_object(o),
            what.join(", "),
            line,
        );
    }
}

/// Pairs the removed column `old` with the added column `new` as a rename, when both
/// are there.
fn take<'c>(
    old: &str,
    new: &str,
    removed: &mut Vec<&'c Column>,
    added: &mut Vec<&'c Column>,
    renames: &mut Vec<(&'c Column, &'c Column)>,
) {
    let r = removed.iter().position(|c| c.key() == old);
    let n = added.iter().position(|c| c.key() == new);
    if let (Some(r), Some(n)) = (r, n) {
        renames.push((removed.remove(r), added.remove(n)));
    }
}

fn shown_type(decl: &str) -> &str {
    if decl.is_empty() { "(none)" } else { decl }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The changes of `sql` applied after `setup`, read from the schema.
    fn from_schema(conn: &Connection, sql: &str) -> Vec<Change> {
        let statements = crate::sql::statements(sql);
        let names = candidates(&statements);
        let before = shape(conn, &names).unwrap();
        conn.execute_batch(sql).unwrap();
        let after = shape(conn, &names).unwrap();
        diff(&before, &after, sql, &statements)
    }

    #[test]
    fn migrations_that_only_add_classify_the_same_from_their_statements() {
        // Random sequences of statements that only add, each migration classified
        // both ways on the same database.
        let mut rng = fastrand::Rng::with_seed(17);
        for round in 0..40 {
            let conn = Connection::open_in_memory().unwrap();
            let mut tables: Vec<String> = Vec::new();
            for m in 0..6 {
                let mut sql = String::from("-- generated\n");
                for s in 0..rng.usize(1..5) {
                    let id = format!("{round}_{m}_{s}");
                    match (rng.usize(0..6), tables.is_empty()) {
                        (0, _) | (_, true) => {
                            let name = if rng.bool() {
                                format!("T{id}")
                            } else {
                                format!("\"t {id}\"")
                            };
                            sql.push_str(&format!(
                                "CREATE TABLE {name} (id INTEGER PRIMARY KEY, a TEXT);\n"
                            ));
                            tables.push(name);
                        }
                        (1, _) => {
                            let t = &tables[rng.usize(0..tables.len())];
                            sql.push_str(&format!("CREATE INDEX i{id} ON {t} (a);\n"));
                        }
                        (2, _) => {
                            let t = &tables[rng.usize(0..tables.len())];
                            sql.push_str(&format!("CREATE VIEW v{id} AS SELECT id FROM {t};\n"));
                        }
                        (3, _) => {
                            let t = &tables[rng.usize(0..tables.len())];
                            sql.push_str(&format!(
                                "CREATE TRIGGER g{id} AFTER INSERT ON {t} BEGIN SELECT 1; END;\n"
                            ));
                        }
                        _ => {
                            let t = &tables[rng.usize(0..tables.len())];
                            let column = if rng.bool() { "COLUMN " } else { "" };
                            sql.push_str(&format!("ALTER TABLE {t} ADD {column}c{id} TEXT;\n"));
                        }
                    }
                }
                let statements = crate::sql::statements(&sql);
                let quick = additive_only(&sql, &statements).expect("only adds");
                assert_eq!(quick, from_schema(&conn, &sql), "{sql}");
            }
        }
    }

    #[test]
    fn other_migrations_are_read_from_the_schema() {
        for sql in [
            "DROP TABLE t",
            "CREATE TABLE IF NOT EXISTS t (a)",
            "CREATE UNIQUE INDEX i ON t (a)",
            "CREATE TEMP TABLE t2 (a)",
            "ALTER TABLE t RENAME TO u",
            "ALTER TABLE t DROP COLUMN a",
        ] {
            assert_eq!(
                additive_only(sql, &crate::sql::statements(sql)),
                None,
                "{sql}"
            );
        }
        assert_eq!(
            additive_only(
                "INSERT INTO t VALUES (1)",
                &crate::sql::statements("INSERT INTO t VALUES (1)")
            ),
            Some(Vec::new())
        );
    }
}
