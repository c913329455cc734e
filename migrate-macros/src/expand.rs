//! Parses the macro input, runs the checks and emits the migrations.

use std::fmt::Write as _;
use std::path::Path;

use migrate_runtime::check::{self, SourceMigration};
use proc_macro::{Span, TokenStream};

use crate::input::{Error, Input};

/// Expands `migrations!(…)` (see [`Input`]) to Rust source text, which the macro
/// hands to the compiler's own lexer.
pub fn migrations_text(input: TokenStream) -> Result<String, Vec<Error>> {
    let input = Input::parse(input).map_err(|e| vec![e])?;
    expand(&input)
}

/// The error for emitted text that does not lex, which would be a bug of the macro.
pub fn emit_error(e: &dyn std::fmt::Display) -> Error {
    Error::new(
        Span::call_site(),
        format!("migrate: cannot emit the migrations ({e}); please report this"),
    )
}

fn expand(input: &Input) -> Result<String, Vec<Error>> {
    let relative = &input.dir;
    let span = input.dir_span;
    if Path::new(relative).is_absolute() {
        return Err(vec![Error::new(
            span,
            "absolute paths will only work on the current machine; give the folder relative to the crate's Cargo.toml",
        )]);
    }
    let Some(root) = crate::env::manifest_dir() else {
        return Err(vec![Error::new(
            span,
            "CARGO_MANIFEST_DIR is not set: build with cargo, or set CARGO_MANIFEST_DIR to the folder holding Cargo.toml",
        )]);
    };
    let dir = root.join(relative);
    let functions: Vec<(&str, i32)> = input
        .functions
        .iter()
        .map(|(n, a)| (n.as_str(), *a))
        .collect();
    let collations: Vec<&str> = input.collations.iter().map(String::as_str).collect();
    let modules: Vec<&str> = input.modules.iter().map(String::as_str).collect();
    let cache = crate::env::cache_dir();
    let options = check::Options {
        layout: input.layout,
        functions: &functions,
        collations: &collations,
        modules: &modules,
        cache: cache.as_deref(),
        downs: input.downs,
        deploy_safety: input.deploy_safety,
    };
    match check::check_dir_opts(&dir, relative, &options) {
        Ok(migrations) => Ok(emit(&migrations, &options, &dir)),
        Err(diagnostics) if diagnostics.is_empty() => Err(vec![Error::new(
            span,
            "the migrations could not be checked",
        )]),
        Err(diagnostics) => Err(diagnostics
            .iter()
            .map(|d| Error::new(span, d.to_string()))
            .collect()),
    }
}

/// The `Migrations` expression, with an `include_bytes!` per file so that editing one rebuilds.
///
/// The whole expression is written as source text, for the compiler's lexer to read
/// in one piece, and the set in its [packed](migrate_runtime::packed) form: two
/// literals, where a thousand `Migration::new(…)` calls cost the compiler more than
/// the rest of a rebuild.
fn emit(migrations: &[SourceMigration], options: &check::Options<'_>, dir: &Path) -> String {
    crate::track::path(dir);
    let (text, table) = migrate_runtime::packed::encode(migrations);
    let mut out = String::with_capacity(text.len() + table.len() + migrations.len() * 128);
    out.push('{');
    rebuild_markers(&mut out, migrations);
    let _ = write!(
        out,
        "::migrate::Migrations::from_packed(::migrate::__private::Packed::new({}, ",
        migrations.len()
    );
    str_literal(&mut out, &text);
    // Hexadecimal digits only: nothing to escape.
    let _ = write!(out, ", \"{table}\"");
    out.push_str(")).with_functions(&[");
    for (name, arity) in options.functions {
        let _ = write!(
            out,
            "::migrate::__private::Function {{ name: {name:?}, arity: {arity} }},"
        );
    }
    out.push_str("]).with_collations(&[");
    for name in options.collations {
        let _ = write!(out, "{name:?},");
    }
    out.push_str("]).with_unvalidated(&[");
    for at in check::modules::unvalidated(migrations, options.modules) {
        let _ = write!(out, "{:?},", check::modules::describe(migrations, at));
    }
    let _ = write!(
        out,
        "]).with_validated_with({:?}).with_source_dir({:?})}}",
        rusqlite::version(),
        dir.to_string_lossy()
    );
    out
}

/// What makes the compiler read each file of the set and rebuild when one changes,
/// as Rust source: `fn _rebuild_when_edited() { include_bytes!(…); … }`, a function
/// nobody calls, with a statement for every file the check read (a migration, its
/// separate down script, a down script a lenient build left out, which may not be
/// text).
///
/// `include_bytes!` rather than `include_str!`: the compiler turns an included text
/// into an escaped literal and reads it back (65 million instructions for 1,000
/// migrations as one `concat!` of them, against 39 million for the bytes, counted
/// with callgrind); its bytes are kept as they are. The statements then cost the
/// borrow checker 13 million, and only when a file changed: the function is checked
/// again only then, in an incremental build.
fn rebuild_markers(out: &mut String, migrations: &[SourceMigration]) {
    out.push_str("#[allow(dead_code)] fn _rebuild_when_edited() {");
    for m in migrations {
        let other = match (&m.down, &m.irreversible) {
            (Some(down), _) => Some(&down.path),
            (None, Some(unused)) => Some(&unused.path),
            (None, None) => None,
        };
        for path in std::iter::once(&m.path).chain(other.filter(|path| **path != m.path)) {
            let _ = write!(out, "::core::include_bytes!({:?});", path.to_string_lossy());
        }
    }
    out.push('}');
}

/// `text` as a Rust string literal: raw (`r#"…"#`, with one `#` more than the
/// longest run after a `"` in the text), which neither this macro nor the compiler
/// has to escape or unescape; or, for a text a raw string cannot hold (a carriage
/// return, or more than 255 `#` after a `"`), `{:?}` of it, an escaped literal.
fn str_literal(out: &mut String, text: &str) {
    const MAX_HASHES: usize = 255;
    let mut hashes = 1;
    if !text.contains('\r') {
        // After each `"` (a search compiled optimised, where a loop over every
        // character of this crate's runs unoptimised).
        for after in text.split('"').skip(1) {
            let run = after.len() - after.trim_start_matches('#').len();
            hashes = hashes.max(run + 1);
        }
        if hashes <= MAX_HASHES {
            let fence = "#".repeat(hashes);
            let _ = write!(out, "r{fence}\"{text}\"{fence}");
            return;
        }
    }
    let _ = write!(out, "{text:?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn emits_one_entry_and_one_rebuild_marker_per_file_deterministically() -> TestResult {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("1_a.sql"), "CREATE TABLE a (x)")?;
        std::fs::write(dir.path().join("2_b.sql"), "CREATE TABLE b (x)")?;
        let ms = check::check_dir(dir.path(), "m").map_err(|ds| format!("{ds:?}"))?;
        let out = emit(&ms, &check::Options::default(), dir.path());
        assert_eq!(out.matches("include_bytes!(").count(), 2);
        assert_eq!(out.matches("include_str").count(), 0);
        assert_eq!(out.matches("Packed::new(2, ").count(), 1);
        assert_eq!(
            emit(&ms, &check::Options::default(), dir.path()),
            emit(&ms, &check::Options::default(), dir.path())
        );
        Ok(())
    }

    /// The string literal holds every text as it is: quotes followed by runs of `#`,
    /// carriage returns, escapes, any character.
    #[test]
    fn string_literals_round_trip() -> TestResult {
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        let pieces = [
            "\"", "#", "\"#", "\"##", "\r", "\n", "\\", "'", "a", "é", "\0", "\t", "}",
        ];
        let mut cases: Vec<String> = vec![
            String::new(),
            "\"".to_owned(),
            format!("\"{}", "#".repeat(254)),
            format!("x\"{}y", "#".repeat(255)),
            format!("\"{}\r", "#".repeat(3)),
            "r#\"a\"#".to_owned(),
        ];
        for len in 1..300 {
            cases.push(
                (0..len)
                    .map(|_| {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        pieces[usize::try_from(rng % 13).unwrap_or(0)]
                    })
                    .collect(),
            );
        }
        for text in cases {
            let mut out = String::new();
            str_literal(&mut out, &text);
            let lit: syn::LitStr = syn::parse_str(&out)?;
            assert_eq!(lit.value(), text, "{out}");
            assert_eq!(
                out.starts_with('r'),
                !text.contains('\r') && !text.contains(&format!("\"{}", "#".repeat(255))),
                "{out}"
            );
        }
        Ok(())
    }

    /// Every file the check read is an `include_bytes!`: the migrations, their down
    /// scripts, and a down script a lenient build left out because it is not UTF-8.
    #[test]
    fn every_file_read_is_tracked_once() -> TestResult {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("1_a.up.sql"), "CREATE TABLE a (x);")?;
        std::fs::write(
            dir.path().join("1_a.down.sql"),
            b"DROP TABLE a; -- \xff\xfe",
        )?;
        std::fs::write(dir.path().join("2_b.up.sql"), "CREATE TABLE b (x);")?;
        std::fs::write(dir.path().join("2_b.down.sql"), "DROP TABLE b;")?;
        let options = check::Options {
            layout: Some(check::Layout::GolangMigrate),
            downs: check::Downs::Lenient,
            ..check::Options::default()
        };
        let ms =
            check::check_dir_opts(dir.path(), "m", &options).map_err(|ds| format!("{ds:?}"))?;
        assert!(ms[0].irreversible.is_some() && ms[1].down.is_some());
        let out = emit(&ms, &options, dir.path());
        let quoted = |file: &str| format!("{:?}", dir.path().join(file).to_string_lossy());
        for file in ["1_a.up.sql", "1_a.down.sql", "2_b.up.sql", "2_b.down.sql"] {
            assert_eq!(
                out.matches(&format!("include_bytes!({});", quoted(file)))
                    .count(),
                1,
                "{file}: {out}"
            );
        }
        assert_eq!(out.matches("include_").count(), 4, "{out}");
        Ok(())
    }

    /// A layout with down sections reads one file per migration: one marker each.
    #[test]
    fn a_file_with_both_directions_is_tracked_once() -> TestResult {
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join("1_a.sql"),
            "-- +goose Up\nCREATE TABLE a (x);\n-- +goose Down\nDROP TABLE a;\n",
        )?;
        let options = check::Options {
            layout: Some(check::Layout::Goose),
            ..check::Options::default()
        };
        let ms =
            check::check_dir_opts(dir.path(), "m", &options).map_err(|ds| format!("{ds:?}"))?;
        assert!(ms[0].down.is_some(), "{ms:?}");
        let out = emit(&ms, &options, dir.path());
        assert_eq!(out.matches("include_bytes!(").count(), 1, "{out}");
        Ok(())
    }
}
