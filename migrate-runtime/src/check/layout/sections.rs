//! Layouts whose files hold an up and a down section marked by comments: goose
//! (`-- +goose Up`) and dbmate (`-- migrate:up`).
//!
//! The executed text is the whole file with everything outside the up section (the
//! annotation lines and the down section) replaced by spaces, line breaks kept, so
//! that diagnostics keep the file's line numbers and the checksum covers only the up
//! statements.

use std::path::Path;

use super::{Found, Layout, Prepared, entries, is_sql, parse_version, too_large};
use crate::diagnostic::Diagnostic;

/// The migrations of `dir`: `<version>_<name>.sql`.
pub(super) fn find(
    dir: &Path,
    display_dir: &str,
    layout: Layout,
) -> Result<(Vec<Found>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut found = Vec::new();
    let mut diagnostics = Vec::new();
    for (file_name, is_dir) in entries(dir, display_dir)? {
        if is_dir || !is_sql(&file_name) {
            continue;
        }
        let stem = &file_name[..file_name.len() - 4];
        let digits_end = stem.bytes().take_while(u8::is_ascii_digit).count();
        let (digits, rest) = stem.split_at(digits_end);
        let name = rest.strip_prefix('_');
        let name = match (layout, name) {
            (_, Some(name)) if !name.is_empty() => name,
            // dbmate only needs the leading digits
            (Layout::Dbmate, _) if !digits.is_empty() => rest,
            _ => {
                diagnostics.push(
                    Diagnostic::new(
                        format!("{display_dir}/{file_name}"),
                        format!("invalid migration file name `{file_name}`"),
                    )
                    .with_help(format!(
                        "in this layout, migrations are {}; rename the file, or move it out of the folder",
                        layout.expected()
                    )),
                );
                continue;
            }
        };
        let Some(version) = parse_version(digits) else {
            diagnostics.push(too_large(display_dir, &file_name));
            continue;
        };
        found.push(Found {
            version,
            name: name.to_owned(),
            source_id: digits.to_owned(),
            file_name: file_name.clone(),
            no_transaction: false,
            dialect: None,
            down: Some(file_name.clone()),
        });
    }
    Ok((found, diagnostics))
}

/// Where a line is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Before,
    Up,
    Down,
}

/// A line of annotation, or of content.
enum Line {
    /// Starts the up section; `true` when it says to run without a transaction.
    Up(bool),
    Down,
    /// Another annotation, blanked (goose's `StatementBegin`, `NO TRANSACTION`…);
    /// `true` when it says to run without a transaction.
    Other(bool),
    Content,
}

/// The text `layout` executes from `text`, the file at `display_path`.
///
/// # Errors
///
/// The file has no up section, an unknown annotation, a down section before the up
/// one, or statements outside both.
pub(super) fn prepare(
    layout: Layout,
    display_path: &str,
    text: &str,
) -> Result<Prepared, Diagnostic> {
    let up = match layout {
        Layout::Goose => "-- +goose Up",
        _ => "-- migrate:up",
    };
    if !text_has_up(layout, text) {
        return Err(Diagnostic::new(
            display_path,
            format!("migration has no `{up}` line"),
        )
        .with_help(format!(
            "the tool runs only the statements after `{up}` (until the down section); add the line `{up}` above them"
        )));
    }
    let mut sql = String::with_capacity(text.len());
    let mut section = Section::Before;
    let mut no_transaction = false;
    let mut before_up = String::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let kind = if layout == Layout::Goose {
            goose_line(line).map_err(|message| Diagnostic::at(display_path, text, offset, message).with_help("goose's annotations are `-- +goose Up`, `-- +goose Down`, `-- +goose StatementBegin`, `-- +goose StatementEnd` and `-- +goose NO TRANSACTION`"))?
        } else {
            dbmate_line(line)
        };
        match kind {
            Line::Up(no_tx) => {
                section = Section::Up;
                no_transaction |= no_tx;
            }
            Line::Down => {
                if section == Section::Before && layout == Layout::Dbmate {
                    return Err(Diagnostic::at(
                        display_path,
                        text,
                        offset,
                        "`-- migrate:down` comes before `-- migrate:up`",
                    )
                    .with_help("dbmate requires the up block first: move `-- migrate:up` and its statements above `-- migrate:down`"));
                }
                section = Section::Down;
            }
            Line::Other(no_tx) => no_transaction |= no_tx,
            Line::Content => {}
        }
        if matches!(kind, Line::Content) && section == Section::Up {
            sql.push_str(line);
        } else {
            if matches!(kind, Line::Content) && section == Section::Before {
                before_up.push_str(line);
            }
            sql.extend(
                line.chars()
                    .map(|c| if matches!(c, '\n' | '\r') { c } else { ' ' }),
            );
        }
        offset += line.len();
    }
    if let Some(first) = crate::sql::statements(&before_up).first() {
        let at = text.find(first.text).unwrap_or(0);
        return Err(Diagnostic::at(
            display_path,
            text,
            at,
            format!("statement before the `{up}` line"),
        )
        .with_help(format!(
            "the tool runs only the up section; move the statement below `{up}`, or delete it"
        )));
    }
    Ok((sql, no_transaction))
}

/// The down section of a file `prepare` accepted, everything else replaced by
/// spaces (line breaks kept), as the up section is.
pub(super) fn down_section(layout: Layout, text: &str) -> String {
    let mut sql = String::with_capacity(text.len());
    let mut section = Section::Before;
    for line in text.split_inclusive('\n') {
        let kind = if layout == Layout::Goose {
            goose_line(line).unwrap_or(Line::Other(false))
        } else {
            dbmate_line(line)
        };
        match kind {
            Line::Up(_) => section = Section::Up,
            Line::Down => section = Section::Down,
            Line::Other(_) | Line::Content => {}
        }
        if matches!(kind, Line::Content) && section == Section::Down {
            sql.push_str(line);
        } else {
            sql.extend(
                line.chars()
                    .map(|c| if matches!(c, '\n' | '\r') { c } else { ' ' }),
            );
        }
    }
    sql
}

/// Whether a file has an up annotation at all (it may come after a down section).
fn text_has_up(layout: Layout, text: &str) -> bool {
    text.split_inclusive('\n').any(|line| match layout {
        Layout::Goose => matches!(goose_line(line), Ok(Line::Up(_))),
        _ => matches!(dbmate_line(line), Line::Up(_)),
    })
}

/// A line of a goose file: `-- +goose <command>`.
fn goose_line(line: &str) -> Result<Line, String> {
    let Some(command) = line.trim().strip_prefix("-- +goose") else {
        return Ok(Line::Content);
    };
    let command = command.trim();
    Ok(match command.to_ascii_uppercase().as_str() {
        "UP" => Line::Up(false),
        "DOWN" => Line::Down,
        "NO TRANSACTION" => Line::Other(true),
        "STATEMENTBEGIN" | "STATEMENTEND" | "ENVSUB ON" | "ENVSUB OFF" => Line::Other(false),
        _ => return Err(format!("unknown goose annotation `-- +goose {command}`")),
    })
}

/// A line of a dbmate file: `-- migrate:up [transaction:false]`, `-- migrate:down`.
fn dbmate_line(line: &str) -> Line {
    let Some(body) = line.trim().strip_prefix("--") else {
        return Line::Content;
    };
    let body = body.trim_start();
    let directive = |name: &str| {
        body.strip_prefix(name)
            .filter(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
    };
    if let Some(options) = directive("migrate:up") {
        Line::Up(
            options
                .split_whitespace()
                .any(|o| o.eq_ignore_ascii_case("transaction:false")),
        )
    } else if directive("migrate:down").is_some() {
        Line::Down
    } else {
        Line::Content
    }
}

/// Whether a file has a goose or a dbmate up annotation, for detection.
///
/// Each line is looked at only in a file holding the annotation's text: the
/// detection reads every file, in the unoptimised build the macro runs in.
pub(super) fn annotations(text: &str) -> (bool, bool) {
    let goose = crate::check::search::contains(text, "-- +goose", '+')
        && text
            .split_inclusive('\n')
            .any(|l| matches!(goose_line(l), Ok(Line::Up(_))));
    let dbmate = crate::check::search::contains(text, "migrate:up", ':')
        && text
            .split_inclusive('\n')
            .any(|l| matches!(dbmate_line(l), Line::Up(_)));
    (goose, dbmate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_up_section_is_kept_with_its_line_numbers() {
        let text = "-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE a (x);\n-- +goose StatementEnd\n-- +goose Down\nDROP TABLE a;\n";
        let (sql, no_tx) = prepare(Layout::Goose, "m/1_a.sql", text).unwrap();
        assert!(!no_tx);
        assert_eq!(sql.lines().count(), text.lines().count());
        assert_eq!(sql.lines().nth(2), Some("CREATE TABLE a (x);"));
        assert_eq!(sql.trim(), "CREATE TABLE a (x);");
        let (sql, no_tx) = prepare(
            Layout::Dbmate,
            "m/1_a.sql",
            "-- migrate:up transaction:false\nVACUUM;\n-- migrate:down\n",
        )
        .unwrap();
        assert!(no_tx);
        assert_eq!(sql.trim(), "VACUUM;");
        let err = prepare(
            Layout::Dbmate,
            "m/1_a.sql",
            "-- migrate:down\nx;\n-- migrate:up\n",
        )
        .unwrap_err();
        assert!(err.message.contains("before `-- migrate:up`"), "{err}");
        let err = prepare(Layout::Goose, "m/1_a.sql", "CREATE TABLE a (x);\n").unwrap_err();
        assert!(err.message.contains("no `-- +goose Up` line"), "{err}");
        let err = prepare(Layout::Goose, "m/1_a.sql", "SELECT 1;\n-- +goose Up\n").unwrap_err();
        assert!(err.message.contains("statement before"), "{err}");
    }
}
