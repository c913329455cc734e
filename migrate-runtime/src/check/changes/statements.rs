//! What a migration's statements say by themselves: the objects they may change, the
//! changes of a migration that only adds, and the statement that makes a change.

use std::collections::BTreeSet;

use crate::changes::{Change, ChangeKind};
use crate::sql::{Statement, TokenKind};

/// The lower-cased names of the objects a migration's DDL statements create, drop or
/// alter (and the table an index or trigger is created on, and a table's new name):
/// the objects it may change. Empty when it has no DDL statement.
pub(in crate::check) fn candidates(statements: &[Statement<'_>]) -> BTreeSet<String> {
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
pub(in crate::check) fn additive_only(
    sql: &str,
    statements: &[Statement<'_>],
) -> Option<Vec<Change>> {
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

/// A statement's words: identifiers and keywords lower-cased and unquoted, other
/// tokens as written.
pub(super) fn words(s: &Statement<'_>) -> Vec<String> {
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
pub(super) struct Script {
    pub(super) statements: Vec<(usize, Vec<String>)>,
}

impl Script {
    pub(super) fn new(sql: &str, statements: &[Statement<'_>]) -> Self {
        Self {
            statements: statements
                .iter()
                .map(|s| (crate::sql::line_column(sql, s.offset).0, words(s)))
                .collect(),
        }
    }

    /// The line of the first statement for which `test` holds.
    pub(super) fn find(&self, test: impl Fn(&[String]) -> bool) -> Option<usize> {
        self.statements
            .iter()
            .find(|(_, w)| test(w))
            .map(|(line, _)| *line)
    }

    /// The line of the first statement starting with `start` that names `name`.
    pub(super) fn starting(&self, start: &[&str], name: &str) -> Option<usize> {
        self.find(|w| starts(w, start) && w.iter().any(|x| x == name))
    }

    /// The line of the first statement naming `name`, else of the first statement.
    pub(super) fn mentioning(&self, name: &str) -> usize {
        self.find(|w| w.iter().any(|x| x == name))
            .or_else(|| self.statements.first().map(|(line, _)| *line))
            .unwrap_or(1)
    }

    /// `ALTER TABLE <table> RENAME [COLUMN] <old> TO <new>` pairs for `table`, and
    /// `ALTER TABLE <old> RENAME TO <new>` pairs when `table` is `None`.
    pub(super) fn renames(&self, table: Option<&str>) -> Vec<(String, String)> {
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

pub(super) fn starts(words: &[String], start: &[&str]) -> bool {
    words.len() >= start.len() && words.iter().zip(start).all(|(w, s)| w == s)
}
