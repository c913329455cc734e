//! Implementation detail of the `migrate` crate.
#![cfg_attr(migrate_tracked_path, feature(proc_macro_tracked_path))]

mod env;
mod expand;
mod input;
mod track;

/// Embeds a folder of numbered SQL migrations, checked at compile time.
///
/// See the `migrate` crate's documentation.
#[proc_macro]
pub fn migrations(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    match expand::migrations_text(input) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|e| input::fallback(&[expand::emit_error(&e)])),
        Err(errors) => input::fallback(&errors),
    }
}
