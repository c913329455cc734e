//! Deploy safety: the `-- migrate:allow <kind> <object>` acknowledgements of a
//! migration's destructive, renaming and tightening changes, and the check that,
//! from the version the application names, each such change is acknowledged.

use crate::Version;
use crate::changes::{Change, ChangeKind};
use crate::diagnostic::Diagnostic;
use crate::sql::TokenKind;

use super::SourceMigration;

/// The directive's prefix, after `--`.
const ALLOW: &str = "migrate:allow";

/// One `-- migrate:allow` line.
#[derive(Debug)]
struct Allow {
    kind: ChangeKind,
    object: String,
    /// Byte offset of the comment in the migration.
    offset: usize,
}

/// The kinds a directive acknowledges: every kind that is not additive.
fn acknowledged_kinds() -> impl Iterator<Item = ChangeKind> {
    ChangeKind::ALL
        .into_iter()
        .filter(|k| !matches!(k.class(), crate::changes::Class::Additive))
}

/// Every problem with acknowledgements: a directive that does not parse, names an
/// unknown kind, a misspelt object or a change the migration does not make (always);
/// and, for the migrations from `from` on, each change that is not acknowledged.
pub(super) fn check(migrations: &[SourceMigration], from: Option<Version>) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    for m in migrations {
        let (allows, mut bad) = directives(m);
        problems.append(&mut bad);
        let (acknowledged, unmatched_allows) = matched(m, &allows);
        for allow in unmatched_allows {
            problems.push(unmatched(m, allow, &acknowledged));
        }
        if from.is_some_and(|from| m.version >= from) {
            let missing: Vec<&Change> = m
                .changes
                .iter()
                .zip(&acknowledged)
                .filter(|(c, done)| c.needs_acknowledgement() && !**done)
                .map(|(c, _)| c)
                .collect();
            if !missing.is_empty() {
                problems.push(unacknowledged(m, &missing));
            }
        }
    }
    problems
}

/// For each change of `m`, whether a directive acknowledges it; and the directives
/// that match no change. Each directive acknowledges one change.
fn matched<'a>(m: &SourceMigration, allows: &'a [Allow]) -> (Vec<bool>, Vec<&'a Allow>) {
    let mut acknowledged = vec![false; m.changes.len()];
    let mut left = Vec::new();
    for allow in allows {
        let matching = m.changes.iter().enumerate().position(|(i, c)| {
            !acknowledged[i]
                && c.needs_acknowledgement()
                && c.kind == allow.kind
                && names(c).any(|n| n.eq_ignore_ascii_case(&allow.object))
        });
        match matching {
            Some(i) => acknowledged[i] = true,
            None => left.push(allow),
        }
    }
    (acknowledged, left)
}

/// The names a directive may give a change's object: the object, and for a rename
/// its new name as well (`rename-table novels` for `books` renamed to `novels`,
/// `rename-column users.full_name` for `users.name`).
fn names(c: &Change) -> impl Iterator<Item = String> + '_ {
    let renamed = c
        .detail
        .strip_prefix("renamed to ")
        .filter(|_| matches!(c.kind, ChangeKind::RenameTable | ChangeKind::RenameColumn))
        .map(|new| match c.object.rsplit_once('.') {
            Some((table, _)) if c.kind == ChangeKind::RenameColumn => format!("{table}.{new}"),
            _ => new.to_owned(),
        });
    std::iter::once(c.object.clone()).chain(renamed)
}

/// For each of the changes of `m` (its [`changes`](SourceMigration::changes)),
/// whether a `-- migrate:allow` line of the migration acknowledges it.
pub fn acknowledged(m: &SourceMigration) -> Vec<bool> {
    let (allows, _) = directives(m);
    matched(m, &allows).0
}

/// The `-- migrate:allow` directives of a migration, and the problems of those that
/// do not parse.
fn directives(m: &SourceMigration) -> (Vec<Allow>, Vec<Diagnostic>) {
    let (mut allows, mut problems) = (Vec::new(), Vec::new());
    if !super::search::contains(&m.sql, ALLOW, ':') {
        return (allows, problems);
    }
    for token in crate::sql::tokenize(&m.sql) {
        if token.kind != TokenKind::Comment {
            continue;
        }
        let text = token.text(&m.sql);
        let Some(body) = text.strip_prefix("--").map(str::trim_start) else {
            continue;
        };
        let Some(rest) = body.strip_prefix(ALLOW) else {
            continue;
        };
        // What follows a second `--` is the reason.
        let rest = rest.split("--").next().unwrap_or_default();
        let words: Vec<&str> = rest.split_whitespace().collect();
        let at = |message: String| Diagnostic::at(&m.display_path, &m.sql, token.start, message);
        let [kind, object] = words[..] else {
            problems.push(
                at(format!(
                    "`{}` does not say which change it acknowledges",
                    text.trim_end()
                ))
                .with_help(format!(
                    "write `-- {ALLOW} <kind> <object>`, one change per line, for example `-- {ALLOW} drop-column users.bio -- the app stopped reading bio in 2.3`; the kinds are {}",
                    kinds_list()
                )),
            );
            continue;
        };
        let parsed = ChangeKind::parse(kind);
        match parsed {
            Some(k) if !matches!(k.class(), crate::changes::Class::Additive) => {
                allows.push(Allow {
                    kind: k,
                    object: object.to_owned(),
                    offset: token.start,
                });
            }
            Some(k) => problems.push(
                at(format!(
                    "`{k}` is additive: the code still running is not affected, so it needs no acknowledgement"
                ))
                .with_help("remove the directive"),
            ),
            None => {
                let closest = closest(kind, acknowledged_kinds().map(ChangeKind::as_str));
                let suggestion = closest
                    .map(|c| format!("did you mean `{c}`? "))
                    .unwrap_or_default();
                problems.push(
                    at(format!("unknown kind of change `{kind}` in `-- {ALLOW}`"))
                        .with_help(format!("{suggestion}the kinds are {}", kinds_list())),
                );
            }
        }
    }
    (allows, problems)
}

fn kinds_list() -> String {
    acknowledged_kinds()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The problem with a directive that matches no change of the migration: a misspelt
/// object, the wrong kind for an object that changes, or a change it does not make.
fn unmatched(m: &SourceMigration, allow: &Allow, acknowledged: &[bool]) -> Diagnostic {
    let open: Vec<&Change> = m
        .changes
        .iter()
        .zip(acknowledged)
        .filter(|(c, done)| c.needs_acknowledgement() && !**done)
        .map(|(c, _)| c)
        .collect();
    let written = format!("-- {ALLOW} {} {}", allow.kind, allow.object);
    let same_object = open
        .iter()
        .find(|c| c.object.eq_ignore_ascii_case(&allow.object));
    let same_kind = open.iter().filter(|c| c.kind == allow.kind);
    let close = closest(&allow.object, same_kind.map(|c| c.object.as_str()));
    let at = |message: String| Diagnostic::at(&m.display_path, &m.sql, allow.offset, message);
    if let Some(change) = same_object {
        return at(format!(
            "`{written}` names the wrong kind: the change to `{}` is `{}` (line {})",
            change.object, change.kind, change.line
        ))
        .with_help(format!("write `{}`", change.directive()));
    }
    if let Some(object) = close {
        return at(format!(
            "`{written}` matches no change of this migration: no {} of `{}` here",
            allow.kind, allow.object
        ))
        .with_help(format!(
            "did you mean `-- {ALLOW} {} {object}`?",
            allow.kind
        ));
    }
    let listed = if open.is_empty() {
        "it makes no change that needs one".to_owned()
    } else {
        format!(
            "the changes it makes that need one: {}",
            open.iter()
                .map(|c| format!("`{} {}`", c.kind, c.object))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    at(format!(
        "`{written}` acknowledges a change this migration does not make; {listed}"
    ))
    .with_help("remove it: a stale acknowledgement would hide the next real change")
}

/// The problem of a migration with changes that are not acknowledged.
fn unacknowledged(m: &SourceMigration, missing: &[&Change]) -> Diagnostic {
    let first = missing[0].line;
    let offset = line_offset(&m.sql, first);
    let list: Vec<String> = missing.iter().map(|c| format!("  {c}")).collect();
    let directives: Vec<String> = missing
        .iter()
        .map(|c| {
            format!(
                "    {} -- <why the running code is not affected>",
                c.directive()
            )
        })
        .collect();
    Diagnostic::at(
        &m.display_path,
        &m.sql,
        offset,
        format!(
            "migration {} may break the code still running during a deploy; these changes are not acknowledged:\n{}",
            m.version,
            list.join("\n")
        ),
    )
    .with_help(format!(
        "during a deploy the old code runs against the new schema: ship the code that stops using what is dropped or renamed (and writes what the tightened columns accept) first, then this migration; then acknowledge each change on a line of its own in the migration:\n{}",
        directives.join("\n")
    ))
}

/// The byte offset where 1-based `line` starts in `text`.
fn line_offset(text: &str, line: usize) -> usize {
    if line <= 1 {
        return 0;
    }
    text.match_indices('\n')
        .nth(line - 2)
        .map_or(0, |(at, _)| at + 1)
}

/// The candidate nearest `word` by edit distance, when near enough to be a typo.
fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .map(|c| (distance(&word, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, in characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(row[j]).min(row[j + 1])
            };
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_line_offsets() {
        assert_eq!(distance("drop-colum", "drop-column"), 1);
        assert_eq!(distance("users.boi", "users.bio"), 2);
        assert_eq!(
            closest("drop-colum", ["drop-column", "drop-table"].into_iter()),
            Some("drop-column")
        );
        assert_eq!(closest("zzz", ["drop-column"].into_iter()), None);
        assert_eq!(line_offset("a\nb\nc", 3), 4);
        assert_eq!(line_offset("a\nb\nc", 1), 0);
    }
}
