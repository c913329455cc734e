//! Parses the macro input, runs the checks and emits the migrations.

use std::fmt::Write as _;
use std::path::Path;

use migrate_runtime::check::layout::Layout;
use migrate_runtime::check::{self, SourceMigration};
use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitInt, LitStr, Token};

/// The folder used by `migrations!()`, as in sqlx's `migrate!()`.
const DEFAULT_DIR: &str = "migrations";

/// Expands `migrations!("path")`, `migrations!()` for `"migrations"`, and
/// `migrations!("path", layout = "…", functions(name/arity, …), collations(name, …),
/// modules(name, …))`, the options in any order.
#[cfg(test)]
pub fn migrations(input: TokenStream) -> syn::Result<TokenStream> {
    let text = migrations_text(input)?;
    text.parse().map_err(|e| emit_error(&e))
}

/// [`migrations`] as Rust source text, which the macro hands to the compiler's own
/// lexer: `proc_macro2` lexes text once more in the unoptimised macro to check it.
pub fn migrations_text(input: TokenStream) -> syn::Result<String> {
    let input: Input = if input.is_empty() {
        Input {
            dir: LitStr::new(DEFAULT_DIR, proc_macro2::Span::call_site()),
            layout: None,
            functions: Vec::new(),
            collations: Vec::new(),
            modules: Vec::new(),
            downs: check::Downs::Auto,
            deploy_safety: None,
        }
    } else {
        syn::parse2(input)?
    };
    expand(&input)
}

const EXPECTED_PATH: &str = "expected the migrations folder as a string literal, relative to Cargo.toml: `migrations!(\"migrations\")`";
const EXPECTED_OPTION: &str = "expected an option after the folder: `layout = \"sqlx\"`, `downs = \"strict\"`, `deploy_safety(from = 42)`, `functions(name/arity, …)`, `collations(name, …)` or `modules(name, …)`, for example `migrations!(\"migrations\", functions(user_setting/2))`";

/// The macro's input.
struct Input {
    dir: LitStr,
    /// The folder's layout, when declared.
    layout: Option<Layout>,
    /// Declared application functions: name and number of arguments.
    functions: Vec<(String, i32)>,
    /// Declared application collations.
    collations: Vec<String>,
    /// Declared extension modules (virtual tables the build cannot load).
    modules: Vec<String>,
    /// What a down script that does not pass the proof does to the build.
    downs: check::Downs,
    /// `deploy_safety(from = N)`: the first version whose changes must be acknowledged.
    deploy_safety: Option<migrate_runtime::Version>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let dir: LitStr = input
            .parse()
            .map_err(|e| syn::Error::new(e.span(), EXPECTED_PATH))?;
        let mut this = Self {
            dir,
            layout: None,
            functions: Vec::new(),
            collations: Vec::new(),
            modules: Vec::new(),
            downs: check::Downs::Auto,
            deploy_safety: None,
        };
        let mut seen: Vec<String> = Vec::new();
        while input.parse::<Option<Token![,]>>()?.is_some() && !input.is_empty() {
            let keyword: Ident = input
                .parse()
                .map_err(|e| syn::Error::new(e.span(), EXPECTED_OPTION))?;
            let name = keyword.to_string();
            if seen.contains(&name) {
                return Err(syn::Error::new(
                    keyword.span(),
                    format!("`{name}` is given twice; list everything in one `{name}`"),
                ));
            }
            match name.as_str() {
                "layout" => {
                    input
                        .parse::<Token![=]>()
                        .map_err(|e| syn::Error::new(e.span(), "expected `layout = \"name\"`"))?;
                    let value: LitStr = input.parse().map_err(|e| {
                        syn::Error::new(
                            e.span(),
                            "expected the layout as a string: `layout = \"sqlx\"`",
                        )
                    })?;
                    let layout = Layout::parse(&value.value()).ok_or_else(|| {
                        let all: Vec<String> =
                            Layout::ALL.iter().map(|l| format!("`{l}`")).collect();
                        syn::Error::new(
                            value.span(),
                            format!(
                                "unknown layout `{}`; the layouts are {}",
                                value.value(),
                                all.join(", ")
                            ),
                        )
                    })?;
                    this.layout = Some(layout);
                }
                "downs" => {
                    input.parse::<Token![=]>().map_err(|e| {
                        syn::Error::new(
                            e.span(),
                            "expected `downs = \"strict\"` or `downs = \"lenient\"`",
                        )
                    })?;
                    let value: LitStr = input.parse().map_err(|e| {
                        syn::Error::new(
                            e.span(),
                            "expected `downs = \"strict\"` or `downs = \"lenient\"`",
                        )
                    })?;
                    this.downs = check::Downs::parse(&value.value()).ok_or_else(|| {
                        syn::Error::new(
                            value.span(),
                            format!(
                                "unknown setting `{}`; `downs` is `\"strict\"` (a down script that does not pass the proof fails the build) or `\"lenient\"` (its migration is irreversible)",
                                value.value()
                            ),
                        )
                    })?;
                }
                "deploy_safety" => {
                    const EXPECTED: &str = "expected `deploy_safety(from = 42)`: the first migration version whose destructive, renaming and tightening changes must be acknowledged";
                    let content;
                    syn::parenthesized!(content in input);
                    let from: Ident = content
                        .parse()
                        .map_err(|e| syn::Error::new(e.span(), EXPECTED))?;
                    if from != "from" {
                        return Err(syn::Error::new(from.span(), EXPECTED));
                    }
                    content
                        .parse::<Token![=]>()
                        .map_err(|e| syn::Error::new(e.span(), EXPECTED))?;
                    let version: LitInt = content
                        .parse()
                        .map_err(|e| syn::Error::new(e.span(), EXPECTED))?;
                    let value = version
                        .base10_parse::<migrate_runtime::Version>()
                        .ok()
                        .filter(|v| *v >= 0)
                        .ok_or_else(|| {
                            syn::Error::new(
                                version.span(),
                                "the version must be a non-negative integer, as in the file names (`deploy_safety(from = 42)`)",
                            )
                        })?;
                    if !content.is_empty() {
                        return Err(content.error(EXPECTED));
                    }
                    this.deploy_safety = Some(value);
                }
                "functions" => {
                    let content;
                    syn::parenthesized!(content in input);
                    let declared = Punctuated::<Declared, Token![,]>::parse_terminated(&content)?;
                    this.functions = declared.into_iter().map(|d| (d.name, d.arity)).collect();
                }
                "collations" | "modules" => {
                    let content;
                    syn::parenthesized!(content in input);
                    let names = Punctuated::<Ident, Token![,]>::parse_terminated(&content)
                        .map_err(|e| {
                            syn::Error::new(e.span(), format!("expected names: `{name}(a, b)`"))
                        })?;
                    let names = names.into_iter().map(|n| n.to_string()).collect();
                    if name == "collations" {
                        this.collations = names;
                    } else {
                        this.modules = names;
                    }
                }
                _ => return Err(syn::Error::new(keyword.span(), EXPECTED_OPTION)),
            }
            seen.push(name);
        }
        if !input.is_empty() {
            return Err(input.error(EXPECTED_OPTION));
        }
        Ok(this)
    }
}

/// `name/arity` in `functions(…)`.
struct Declared {
    name: String,
    arity: i32,
}

impl Parse for Declared {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a function as `name/arity`, for example `user_setting/2`",
            )
        })?;
        input.parse::<Token![/]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("expected `/` and the number of arguments: `{name}/1`"),
            )
        })?;
        let arity: LitInt = input.parse()?;
        let value: i32 = arity
            .base10_parse()
            .ok()
            .filter(|a| (0..=127).contains(a))
            .ok_or_else(|| {
                syn::Error::new(
                    arity.span(),
                    "the number of arguments must be between 0 and 127 (SQLite's limit)",
                )
            })?;
        Ok(Self {
            name: name.to_string(),
            arity: value,
        })
    }
}

/// The error for emitted text that does not lex, which would be a bug of the macro.
pub fn emit_error(e: &dyn std::fmt::Display) -> syn::Error {
    syn::Error::new(
        proc_macro2::Span::call_site(),
        format!("migrate: cannot emit the migrations ({e}); please report this"),
    )
}

fn expand(input: &Input) -> syn::Result<String> {
    let lit = &input.dir;
    let relative = lit.value();
    if Path::new(&relative).is_absolute() {
        return Err(syn::Error::new(
            lit.span(),
            "absolute paths will only work on the current machine; give the folder relative to the crate's Cargo.toml",
        ));
    }
    let Some(root) = crate::env::manifest_dir() else {
        return Err(syn::Error::new(
            lit.span(),
            "CARGO_MANIFEST_DIR is not set: build with cargo, or set CARGO_MANIFEST_DIR to the folder holding Cargo.toml",
        ));
    };
    let dir = root.join(&relative);
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
    match check::check_dir_opts(&dir, &relative, &options) {
        Ok(migrations) => Ok(emit(&migrations, &options, &dir)),
        Err(diagnostics) => Err(diagnostics
            .iter()
            .map(|d| syn::Error::new(lit.span(), d))
            .reduce(|mut all, e| {
                all.combine(e);
                all
            })
            .unwrap_or_else(|| syn::Error::new(lit.span(), "the migrations could not be checked"))),
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
    let mut out = String::with_capacity(text.len() + table.len() * 4 + migrations.len() * 128);
    out.push('{');
    rebuild_markers(&mut out, migrations);
    // `{:?}` of a `str` is a Rust string literal.
    let _ = write!(
        out,
        "::migrate::Migrations::from_packed(::migrate::__private::Packed::new({}, {text:?}, ",
        migrations.len()
    );
    byte_string(&mut out, &table);
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
/// as Rust source: `const _: &str = concat!(include_str!(…), …);`, one constant
/// whatever the number of files (a statement per file cost the compiler's borrow
/// checker 6 ms per 1,000 migrations), with every file the check read as text; and
/// `include_bytes!` in a function nobody calls for each down script a lenient
/// build left out, which may not be text.
fn rebuild_markers(out: &mut String, migrations: &[SourceMigration]) {
    out.push_str("const _: &str = ::core::concat!(");
    let mut unused = Vec::new();
    for m in migrations {
        let path = m.path.to_string_lossy();
        let _ = write!(out, "::core::include_str!({path:?}),");
        match (&m.down, &m.irreversible) {
            (Some(down), _) if down.path != m.path => {
                let path = down.path.to_string_lossy();
                let _ = write!(out, "::core::include_str!({path:?}),");
            }
            (None, Some(u)) if u.path != m.path => unused.push(u.path.to_string_lossy()),
            _ => {}
        }
    }
    out.push_str(");");
    if !unused.is_empty() {
        out.push_str("#[allow(dead_code)] fn _rebuild_when_edited() {");
        for path in unused {
            let _ = write!(out, "let _ = ::core::include_bytes!({path:?});");
        }
        out.push('}');
    }
}

/// `b"…"`: printable ASCII as itself, other bytes escaped; one token. The escaping is
/// the standard library's (`escape_ascii`), which is compiled optimised, where a
/// loop of this crate's runs unoptimised in the macro: 7 ms for the 90 KB table of
/// 1,000 migrations. Its escapes (`\n`, `\'`, `\x7f`…) are all valid in a byte
/// string.
fn byte_string(out: &mut String, bytes: &[u8]) {
    let _ = write!(out, "b\"{}\"", bytes.escape_ascii());
}

/// On error, still a value of the right type, so the user sees only the real errors.
pub fn fallback(error: syn::Error) -> TokenStream {
    let errors = error.into_compile_error();
    quote! {{ #errors ::migrate::Migrations::from_static(&[]) }}
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn rejects_non_literals_and_absolute_paths() {
        let messages =
            [quote!(some_ident), quote!("/abs/migrations")].map(|input| match migrations(input) {
                Ok(tokens) => format!("expanded to {tokens}"),
                Err(e) => e.to_string(),
            });
        assert!(
            messages[0].starts_with("expected the migrations folder as a string literal"),
            "{}",
            messages[0]
        );
        assert!(
            messages[1].starts_with("absolute paths will only work on the current machine"),
            "{}",
            messages[1]
        );
    }

    #[test]
    fn emits_one_entry_and_one_rebuild_marker_per_file_deterministically() -> TestResult {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("1_a.sql"), "CREATE TABLE a (x)")?;
        std::fs::write(dir.path().join("2_b.sql"), "CREATE TABLE b (x)")?;
        let ms = check::check_dir(dir.path(), "m").map_err(|ds| format!("{ds:?}"))?;
        let out = emit(&ms, &check::Options::default(), dir.path())
            .parse::<TokenStream>()?
            .to_string();
        assert_eq!(out.matches("include_str").count(), 2);
        assert_eq!(out.matches("include_bytes").count(), 0);
        assert_eq!(out.matches("Packed :: new (2").count(), 1);
        assert_eq!(
            emit(&ms, &check::Options::default(), dir.path()),
            emit(&ms, &check::Options::default(), dir.path())
        );
        Ok(())
    }

    /// The byte string literal holds every byte as it is, whatever the escapes.
    #[test]
    fn byte_strings_round_trip() -> TestResult {
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        let mut cases: Vec<Vec<u8>> =
            vec![(0..=255).collect(), Vec::new(), b"\"\\'\r\n\t\0".to_vec()];
        for len in 1..200 {
            cases.push(
                (0..len)
                    .map(|_| {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        rng.to_le_bytes()[0]
                    })
                    .collect(),
            );
        }
        for bytes in cases {
            let mut out = String::new();
            byte_string(&mut out, &bytes);
            let lit: syn::LitByteStr = syn::parse_str(&out)?;
            assert_eq!(lit.value(), bytes, "{out}");
        }
        Ok(())
    }

    /// Every file read as text is an `include_str!` of the one constant; a down
    /// script a lenient build left out because it is not UTF-8 is an
    /// `include_bytes!`, which the compiler can read.
    #[test]
    fn a_down_script_left_out_is_tracked_as_bytes() -> TestResult {
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
        for file in ["1_a.up.sql", "2_b.up.sql", "2_b.down.sql"] {
            assert!(
                out.contains(&format!("include_str!({})", quoted(file))),
                "{file}: {out}"
            );
        }
        assert!(
            out.contains(&format!("include_bytes!({})", quoted("1_a.down.sql"))),
            "{out}"
        );
        assert_eq!(out.matches("include_").count(), 4, "{out}");
        Ok(())
    }
}
