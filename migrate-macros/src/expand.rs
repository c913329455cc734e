//! Parses the macro input, runs the checks and emits the migrations.

use std::path::Path;

use migrate_runtime::check::{self, SourceMigration};
use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

/// The folder used by `migrations!()`, as in sqlx's `migrate!()`.
const DEFAULT_DIR: &str = "migrations";

/// Expands `migrations!("path")`, or `migrations!()` for `"migrations"`.
pub fn migrations(input: TokenStream) -> syn::Result<TokenStream> {
    let lit: LitStr = if input.is_empty() {
        LitStr::new(DEFAULT_DIR, proc_macro2::Span::call_site())
    } else {
        parse_path(input)?
    };
    expand(&lit)
}

fn parse_path(input: TokenStream) -> syn::Result<LitStr> {
    syn::parse2(input).map_err(|e| {
        syn::Error::new(
            e.span(),
            "expected the migrations folder as a string literal, relative to Cargo.toml: `migrations!(\"migrations\")`",
        )
    })
}

fn expand(lit: &LitStr) -> syn::Result<TokenStream> {
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
    match check::check_dir(&dir, &relative) {
        Ok(migrations) => Ok(emit(&migrations)),
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
fn emit(migrations: &[SourceMigration]) -> TokenStream {
    let count = migrations.len();
    let entries = migrations.iter().map(|m| {
        let (version, name, file_name, sql) = (m.version, &m.name, &m.file_name, &m.sql);
        let (checksum, chain) = (m.checksum, m.chain);
        quote! {
            ::migrate::__private::Migration::new(
                #version, #name, #file_name, #sql, [#(#checksum),*], [#(#chain),*]
            )
        }
    });
    let rebuild = migrations.iter().map(|m| {
        let path = m.path.to_string_lossy();
        quote! { const _: &[u8] = ::core::include_bytes!(#path); }
    });
    quote! {
        {
            #(#rebuild)*
            static MIGRATIONS: [::migrate::__private::Migration; #count] = [#(#entries),*];
            ::migrate::Migrations::from_static(&MIGRATIONS)
        }
    }
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
        let out = emit(&ms).to_string();
        assert_eq!(out.matches("include_bytes").count(), 2);
        assert_eq!(out.matches("Migration :: new").count(), 2);
        assert_eq!(out, emit(&ms).to_string());
        Ok(())
    }
}
