//! Virtual table modules that the application loads as extensions (`sqlite-vec`'s
//! `vec0`, say). The build cannot load them, so with `modules(vec0)` the statements
//! that need one are not executed at build time: the `CREATE VIRTUAL TABLE … USING`
//! that names the module, and every later statement naming that table or its shadow
//! tables (`<table>_…`). They are listed in the embedded set
//! ([`Migrations::unvalidated`](crate::Migrations::unvalidated)).

use std::collections::BTreeSet;

use super::SourceMigration;
use crate::foreign_keys::name_at;
use crate::sql::{self, Statement};

/// The statements not executed at build time, as (migration index, statement index).
pub fn unvalidated(migrations: &[SourceMigration], modules: &[&str]) -> BTreeSet<(usize, usize)> {
    let mut skipped = BTreeSet::new();
    if modules.is_empty() {
        return skipped;
    }
    let mut tables: Vec<String> = Vec::new();
    for (index, m) in migrations.iter().enumerate() {
        for (at, statement) in sql::statements(&m.sql).iter().enumerate() {
            if let Some(table) = creates_with(statement, modules) {
                tables.push(table);
                skipped.insert((index, at));
            } else if names_any(statement, &tables) {
                skipped.insert((index, at));
            }
        }
    }
    skipped
}

/// The table of `CREATE VIRTUAL TABLE [IF NOT EXISTS] name USING module`, when
/// `module` is one of `modules`; lowercase.
fn creates_with(statement: &Statement<'_>, modules: &[&str]) -> Option<String> {
    let (t, text) = (&statement.tokens, statement.text);
    let kw = |i: usize, k: &str| t.get(i).is_some_and(|tok| tok.is_keyword(text, k));
    if !(kw(0, "CREATE") && kw(1, "VIRTUAL") && kw(2, "TABLE")) {
        return None;
    }
    let at = if kw(3, "IF") { 6 } else { 3 };
    let (table, next) = name_at(statement, at)?;
    let module = kw(next, "USING")
        .then(|| t.get(next + 1)?.identifier(text))
        .flatten()?;
    modules
        .iter()
        .any(|m| m.eq_ignore_ascii_case(&module))
        .then_some(table)
}

/// Whether the statement names one of `tables` or one of their shadow tables.
fn names_any(statement: &Statement<'_>, tables: &[String]) -> bool {
    statement.tokens.iter().any(|t| {
        t.identifier(statement.text).is_some_and(|id| {
            let id = id.to_ascii_lowercase();
            tables.iter().any(|table| {
                id == *table
                    || id
                        .strip_prefix(table.as_str())
                        .is_some_and(|rest| rest.starts_with('_'))
            })
        })
    })
}

/// `path:line: the statement's first line`, for the note listing what was not
/// executed.
pub fn describe(migrations: &[SourceMigration], (index, at): (usize, usize)) -> String {
    let m = &migrations[index];
    let statements = sql::statements(&m.sql);
    let Some(statement) = statements.get(at) else {
        return m.display_path.clone();
    };
    let line = sql::line_column(&m.sql, statement.offset).0;
    let first = statement.text.lines().next().unwrap_or_default().trim();
    format!("{}:{line}: {first}", m.display_path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::sources;

    #[test]
    fn the_module_table_and_what_names_it_are_skipped() {
        let set = sources(&[
            "CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT);
             CREATE VIRTUAL TABLE IF NOT EXISTS doc_vectors USING vec0(embedding float[4]);",
            "INSERT INTO doc_vectors (rowid, embedding) VALUES (1, '[1,2,3,4]');
             SELECT count(*) FROM doc_vectors_chunks;
             INSERT INTO docs (body) VALUES ('doc_vectorsish is another name');
             CREATE VIRTUAL TABLE search USING fts5(body);",
        ]);
        let skipped = unvalidated(&set, &["VEC0"]);
        assert_eq!(
            skipped.into_iter().collect::<Vec<_>>(),
            [(0, 1), (1, 0), (1, 1)]
        );
        assert!(unvalidated(&set, &[]).is_empty());
    }
}
