//! Every compile error of `migrations!`, one case per error class (`tests/ui/*.rs`).
//!
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test --test compiletest`
//! and review `git diff tests/ui`.

#[test]
fn ui() {
    // trybuild builds the cases in its own crate under `target/`; the macro resolves
    // fixture paths against this crate instead.
    #[expect(
        unsafe_code,
        reason = "set before trybuild spawns cargo; no other thread reads the environment"
    )]
    unsafe {
        std::env::set_var("CARGO_MANIFEST_DIR_OVERRIDE", env!("CARGO_MANIFEST_DIR"));
    }
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
