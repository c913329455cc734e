//! The classification of each migration's schema changes: the objects its DDL
//! statements name are read before and after it runs (tables with their columns,
//! constraints and indexes, views, triggers), and compared. A rebuild (create a new
//! table, copy, drop the old one, rename the new one) compares as the same table, so
//! only what it actually changes is reported.

mod read;
mod statements;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use crate::changes::{Change, ChangeKind};
use crate::sql::Statement;

use read::{Column, Object, Table};
pub(super) use read::{Shape, shape};
use statements::{Script, starts};
pub(super) use statements::{additive_only, candidates};

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
            // not created again is dropped all the same, by that `DROP TABLE`.
            let line = script
                .starting(start, name)
                .or_else(|| script.starting(&["drop", "table"], &owner))
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
            if b.sql == a.sql
                || a.sql.is_empty()
                || super::down::comparable(&b.sql) == super::down::comparable(&a.sql)
            {
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
