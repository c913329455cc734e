//! drizzle-kit: `NNNN_name.sql` files whose statements are separated by
//! `--> statement-breakpoint` (a comment to SQLite), run in the order of
//! `meta/_journal.json` when the folder has one (`entries: [{idx, when, tag}]`, the file
//! being `<tag>.sql`), else in the order of their numbers. `meta/` is not read otherwise.

use crate::Version;
use std::path::Path;

use super::{Found, Layout, entries, is_sql, parse_version, too_large};
use crate::diagnostic::Diagnostic;

/// The journal's path in the folder.
const JOURNAL: &str = "meta/_journal.json";

/// The migrations of `dir`.
pub(super) fn find(
    dir: &Path,
    display_dir: &str,
) -> Result<(Vec<Found>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let listed = entries(dir, display_dir)?;
    let journal = dir.join(JOURNAL);
    if journal.exists() {
        return from_journal(dir, display_dir, &journal);
    }
    let mut found = Vec::new();
    let mut diagnostics = Vec::new();
    for (file_name, is_dir) in listed {
        if is_dir || !is_sql(&file_name) {
            continue;
        }
        let stem = &file_name[..file_name.len() - 4];
        let Some((digits, name)) = stem.split_once('_').filter(|(d, n)| {
            !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty()
        }) else {
            diagnostics.push(
                Diagnostic::new(
                    format!("{display_dir}/{file_name}"),
                    format!("invalid migration file name `{file_name}`"),
                )
                .with_help(format!(
                    "in this layout, migrations are {}",
                    Layout::Drizzle.expected()
                )),
            );
            continue;
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
            down: None,
        });
    }
    Ok((found, diagnostics))
}

/// The migrations the journal lists, in its order; the version is the entry's `idx`.
fn from_journal(
    dir: &Path,
    display_dir: &str,
    journal: &Path,
) -> Result<(Vec<Found>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let display = format!("{display_dir}/{JOURNAL}");
    let bad = |message: String| {
        vec![Diagnostic::new(&display, message).with_help(
            "drizzle-kit writes `meta/_journal.json` as `{\"entries\": [{\"idx\": 0, \"when\": 1700000000000, \"tag\": \"0000_name\"}, …]}`; regenerate it with drizzle-kit",
        )]
    };
    let text = std::fs::read_to_string(journal)
        .map_err(|e| bad(format!("cannot read the drizzle journal: {e}")))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| bad(format!("the drizzle journal is not valid JSON: {e}")))?;
    let Some(serde_json::Value::Array(list)) = value.get("entries") else {
        return Err(bad("the drizzle journal has no `entries` list".to_owned()));
    };
    let mut found = Vec::new();
    let mut diagnostics = Vec::new();
    let mut previous: Option<Version> = None;
    for (i, entry) in list.iter().enumerate() {
        let (Some(serde_json::Value::Number(idx)), Some(serde_json::Value::String(tag))) =
            (entry.get("idx"), entry.get("tag"))
        else {
            return Err(bad(format!(
                "entry {i} of the drizzle journal lacks a numeric `idx` or a `tag`"
            )));
        };
        let Some(version) = idx.as_i64().map(Version::from) else {
            return Err(bad(format!(
                "entry {i} of the drizzle journal has `idx` {idx}, not a whole number that fits in 64 bits (drizzle counts entries from 0)"
            )));
        };
        if previous.is_some_and(|p| version <= p) {
            return Err(bad(format!(
                "entry {i} of the drizzle journal (`{tag}`) has `idx` {version}, not above the entry before it"
            )));
        }
        previous = Some(version);
        let file_name = format!("{tag}.sql");
        if !dir.join(&file_name).is_file() {
            diagnostics.push(
                Diagnostic::new(
                    &display,
                    format!("the drizzle journal lists `{tag}`, but `{file_name}` is missing"),
                )
                .with_help(format!(
                    "drizzle runs `<tag>.sql` for each journal entry; restore `{file_name}`, or regenerate the journal with drizzle-kit"
                )),
            );
            continue;
        }
        // Written as drizzle wrote it, digits only (milliseconds since 1970).
        let source_id = match entry.get("when") {
            Some(serde_json::Value::Number(when)) => when.to_string(),
            _ => String::new(),
        };
        let name = tag.split_once('_').map_or(tag.as_str(), |(_, n)| n);
        found.push(Found {
            version,
            name: name.to_owned(),
            file_name,
            source_id,
            no_transaction: false,
            dialect: None,
            down: None,
        });
    }
    Ok((found, diagnostics))
}
