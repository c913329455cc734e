//! What a statement does to tables, read from its tokens, as far as foreign keys
//! are concerned.

use crate::sql::Statement;

/// What a statement does to tables, as far as foreign keys are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Nothing a foreign key can see (`SELECT`, `CREATE INDEX`, `CREATE VIEW`...).
    None,
    /// Writes rows of a table.
    Writes(String),
    /// Creates a table.
    Creates(String),
    /// Alters a table, maybe renaming it.
    Alters(String, Option<String>),
    /// Drops a table.
    Drops(String),
    /// Creates a trigger on a table.
    CreatesTrigger(String, String),
    /// Drops a trigger.
    DropsTrigger(String),
    /// Drops a view (and with it the `INSTEAD OF` triggers on it).
    DropsView(String),
    /// Could write anything (`WITH … INSERT`, a write to `sqlite_schema`...).
    Unknown,
}

/// The table named at token `at` (`[schema.]name`), lowercase, and the token after it.
pub(crate) fn name_at(statement: &Statement<'_>, at: usize) -> Option<(String, usize)> {
    let (t, text) = (&statement.tokens, statement.text);
    let (name, next) = if t.get(at + 1).is_some_and(|d| d.text(text) == ".") {
        (t.get(at + 2)?.identifier(text)?, at + 3)
    } else {
        (t.get(at)?.identifier(text)?, at + 1)
    };
    Some((name.to_ascii_lowercase(), next))
}

pub(crate) fn effect(statement: &Statement<'_>) -> Effect {
    let (t, text) = (&statement.tokens, statement.text);
    let kw = |i: usize, k: &str| t.get(i).is_some_and(|tok| tok.is_keyword(text, k));
    let Some(first) = statement.keyword() else {
        return Effect::Unknown;
    };
    // Skips `OR <conflict>` after INSERT/UPDATE, and `IF [NOT] EXISTS`.
    let skip_or = |i: usize| if kw(i, "OR") { i + 2 } else { i };
    let skip_if = |i: usize| {
        if kw(i, "IF") && kw(i + 1, "NOT") {
            i + 3
        } else if kw(i, "IF") {
            i + 2
        } else {
            i
        }
    };
    let named = |at: usize| name_at(statement, at).map(|(n, _)| n);
    let found = match first.as_str() {
        "INSERT" | "REPLACE" => {
            let at = skip_or(1);
            kw(at, "INTO")
                .then(|| named(at + 1))
                .flatten()
                .map(Effect::Writes)
        }
        "UPDATE" => named(skip_or(1)).map(Effect::Writes),
        "DELETE" => kw(1, "FROM")
            .then(|| named(2))
            .flatten()
            .map(Effect::Writes),
        "DROP" if kw(1, "TABLE") => named(skip_if(2)).map(Effect::Drops),
        "DROP" if kw(1, "TRIGGER") => named(skip_if(2)).map(Effect::DropsTrigger),
        "DROP" if kw(1, "VIEW") => named(skip_if(2)).map(Effect::DropsView),
        "DROP" => Some(Effect::None),
        "ALTER" if kw(1, "TABLE") => name_at(statement, 2).map(|(table, next)| {
            let renamed = (kw(next, "RENAME") && kw(next + 1, "TO"))
                .then(|| named(next + 2))
                .flatten();
            Effect::Alters(table, renamed)
        }),
        "CREATE" => {
            let mut at = 1;
            if kw(at, "TEMP") || kw(at, "TEMPORARY") || kw(at, "UNIQUE") || kw(at, "VIRTUAL") {
                at += 1;
            }
            if kw(at, "TABLE") {
                named(skip_if(at + 1)).map(Effect::Creates)
            } else if kw(at, "TRIGGER") {
                let trigger = named(skip_if(at + 1));
                let on = t.iter().position(|tok| tok.is_keyword(text, "ON"));
                match (trigger, on.and_then(|i| named(i + 1))) {
                    (Some(trigger), Some(table)) => Some(Effect::CreatesTrigger(trigger, table)),
                    _ => None,
                }
            } else {
                Some(Effect::None)
            }
        }
        "SELECT" | "VALUES" | "ANALYZE" | "REINDEX" | "EXPLAIN" | "SAVEPOINT" | "RELEASE"
        | "BEGIN" | "COMMIT" | "END" | "ROLLBACK" | "VACUUM" | "ATTACH" | "DETACH" => {
            Some(Effect::None)
        }
        "PRAGMA" => {
            let p = crate::rules::pragma(statement);
            // writable_schema lets the schema be edited as rows; anything may follow.
            Some(if p.is_some_and(|p| p.name == "writable_schema") {
                Effect::Unknown
            } else {
                Effect::None
            })
        }
        _ => None,
    };
    match found {
        Some(Effect::Writes(t) | Effect::Creates(t) | Effect::Drops(t) | Effect::Alters(t, _))
            if t.starts_with("sqlite_") =>
        {
            Effect::Unknown
        }
        Some(e) => e,
        None => Effect::Unknown,
    }
}

/// What a trigger does when it fires: the effects of the statements of its body.
pub(crate) fn trigger_body_effects(statement: &Statement<'_>) -> Vec<Effect> {
    let (t, text) = (&statement.tokens, statement.text);
    let begin = t.iter().position(|tok| tok.is_keyword(text, "BEGIN"));
    let end = t.iter().rposition(|tok| tok.is_keyword(text, "END"));
    match (begin, end) {
        (Some(b), Some(e)) if b < e => {
            let body = &text[t[b].end..t[e].start];
            crate::sql::statements(body).iter().map(effect).collect()
        }
        _ => vec![Effect::Unknown],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::statements;

    fn effects(sql: &str) -> Vec<Effect> {
        statements(sql).iter().map(effect).collect()
    }

    #[test]
    fn statements_are_read_for_the_tables_they_change() {
        use Effect::*;
        let s = |x: &str| x.to_owned();
        assert_eq!(
            effects(
                "INSERT OR IGNORE INTO main.\"Books\" VALUES (1); REPLACE INTO a VALUES (1);
                 UPDATE OR FAIL b SET x = 1; DELETE FROM c; DROP TABLE IF EXISTS d;
                 ALTER TABLE e RENAME TO f; ALTER TABLE g ADD COLUMN y; CREATE TABLE IF NOT EXISTS h (x);
                 CREATE TEMP TRIGGER IF NOT EXISTS t1 AFTER INSERT ON i BEGIN SELECT 1; END;
                 DROP TRIGGER t1; CREATE INDEX j ON k (x); SELECT 1; PRAGMA legacy_alter_table = ON"
            ),
            [
                Writes(s("books")),
                Writes(s("a")),
                Writes(s("b")),
                Writes(s("c")),
                Drops(s("d")),
                Alters(s("e"), Some(s("f"))),
                Alters(s("g"), Option::None),
                Creates(s("h")),
                CreatesTrigger(s("t1"), s("i")),
                DropsTrigger(s("t1")),
                None,
                None,
                None,
            ]
        );
        for unknown in [
            "WITH x AS (SELECT 1) INSERT INTO a SELECT * FROM x",
            "UPDATE sqlite_schema SET sql = ''",
            "PRAGMA writable_schema = ON",
            "FOO BAR",
        ] {
            assert_eq!(effects(unknown), [Unknown], "{unknown}");
        }
    }
}
