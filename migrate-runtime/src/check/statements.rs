//! What a migration's statements show without running them: none at all, use of the
//! tracking table, and statements that cannot run in (or, for other tools' files,
//! that control) the migration's transaction.

use super::TRACKING_TABLE;
use crate::diagnostic::Diagnostic;
use crate::sql::{self, Statement, TokenKind};

/// Statements that open or close transactions, which a migration must not run.
const TRANSACTION_KEYWORDS: [&str; 6] =
    ["BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"];

/// The content checks of a migration in another tool's layout, on the text it
/// executes: the `-- migrate:` directive, use of the tracking table and, in a
/// transaction, the statements SQLite refuses in one. Returns whether it runs in a
/// transaction.
///
/// Unlike the native layout, a file without statements is accepted (so the history
/// lines up with the tool's), and transaction statements are allowed: a migration
/// whose first one is `BEGIN` manages its own transactions and runs without one
/// (`layout_no_transaction` is the layout's own way of saying so), one whose first is
/// `COMMIT` or `END` expects the runner's transaction to be open and runs in one.
///
/// # Errors
///
/// Every problem found.
pub(super) fn foreign_content(
    display_path: &str,
    sql: &str,
    layout_no_transaction: bool,
) -> Result<bool, Vec<Diagnostic>> {
    let directive = match crate::rules::no_transaction(sql) {
        Ok(found) => found,
        Err(e) => {
            return Err(vec![Diagnostic::at(display_path, sql, e.offset, e.message).with_help(
                format!(
                    "a migration that must run without a transaction starts with the line `{}`; a change that may break the code still running is acknowledged by a line `-- migrate:allow <kind> <object>`; other `-- migrate:` comments are mistakes",
                    crate::rules::NO_TRANSACTION
                ),
            )]);
        }
    };
    let statements = sql::statements(sql);
    let manages_its_own = statements
        .iter()
        .find_map(|s| {
            s.keyword()
                .filter(|k| TRANSACTION_KEYWORDS.contains(&k.as_str()))
        })
        .is_some_and(|k| k == "BEGIN");
    let transaction = !(layout_no_transaction || directive || manages_its_own);
    let mut diagnostics = tracking_table_use(display_path, sql, &statements);
    if transaction {
        diagnostics.extend(outside_transaction_problems(display_path, sql, &statements));
    }
    if diagnostics.is_empty() {
        Ok(transaction)
    } else {
        Err(diagnostics)
    }
}

/// Problems visible in the statements themselves: none at all, use of the tracking
/// table and, in a migration that runs in a transaction, statements that cannot.
pub(super) fn statement_problems(
    display_path: &str,
    sql: &str,
    transaction: bool,
) -> Vec<Diagnostic> {
    let statements = sql::statements(sql);
    if statements.is_empty() {
        return vec![
            Diagnostic::new(
                display_path,
                "migration has no SQL statement (the file is empty or only holds comments)",
            )
            .with_help("add the statements, or delete the file if it is not needed"),
        ];
    }
    let mut diagnostics = tracking_table_use(display_path, sql, &statements);
    if transaction {
        diagnostics.extend(transaction_problems(display_path, sql, &statements));
    }
    diagnostics
}

/// Statements a migration in a transaction cannot run: transaction control, and those
/// of [`rules::outside_transaction_only`](crate::rules::outside_transaction_only).
fn transaction_problems(
    display_path: &str,
    sql: &str,
    statements: &[Statement<'_>],
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    // (statement, keyword, line) of each statement that controls a transaction
    let transaction: Vec<(&Statement<'_>, String, usize)> = statements
        .iter()
        .filter_map(|s| {
            let keyword = s
                .keyword()
                .filter(|k| TRANSACTION_KEYWORDS.contains(&k.as_str()))?;
            Some((s, keyword, sql::line_column(sql, s.offset).0))
        })
        .collect();
    if let Some((first, _, _)) = transaction.first() {
        let listed: Vec<String> = transaction
            .iter()
            .map(|(_, keyword, line)| format!("`{keyword}` on line {line}"))
            .collect();
        let lines: Vec<String> = transaction
            .iter()
            .map(|(_, _, line)| line.to_string())
            .collect();
        let mut d = Diagnostic::at(
            display_path,
            sql,
            first.offset,
            format!(
                "migration controls its own transaction: {}",
                listed.join(", ")
            ),
        );
        for (s, _, _) in &transaction[1..] {
            d = d.with_snippet(sql, s.offset);
        }
        diagnostics.push(d.with_help(format!(
            "each migration already runs in its own transaction, committed together with its row in `{TRACKING_TABLE}`; remove line{} {}, or, for a migration that must manage its own transactions, make `{}` its first line",
            if lines.len() > 1 { "s" } else { "" },
            lines.join(", "),
            crate::rules::NO_TRANSACTION
        )));
    }
    diagnostics.extend(outside_transaction_problems(display_path, sql, statements));
    diagnostics
}

/// Statements of [`rules::outside_transaction_only`](crate::rules::outside_transaction_only).
fn outside_transaction_problems(
    display_path: &str,
    sql: &str,
    statements: &[Statement<'_>],
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for s in statements {
        if let Some((what, help)) = crate::rules::outside_transaction_only(s) {
            diagnostics.push(
                Diagnostic::at(
                    display_path,
                    sql,
                    s.offset,
                    format!("{what} cannot run inside the migration's transaction"),
                )
                .with_help(help),
            );
        }
    }
    diagnostics
}

/// Statements naming the tracking table.
fn tracking_table_use(
    display_path: &str,
    sql: &str,
    statements: &[Statement<'_>],
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();

    for s in statements {
        let hit = s.tokens.iter().find(|t| {
            t.kind != TokenKind::String
                && t.identifier(s.text)
                    .is_some_and(|id| id.eq_ignore_ascii_case(TRACKING_TABLE))
        });
        if let Some(token) = hit {
            diagnostics.push(
                Diagnostic::at(
                    display_path,
                    sql,
                    s.offset + token.start,
                    format!("migration uses the tracking table `{TRACKING_TABLE}`"),
                )
                .with_help(format!(
                    "the runner records every migration in `{TRACKING_TABLE}` itself; remove this statement, and keep your own data in tables of your own"
                )),
            );
        }
    }
    diagnostics
}
