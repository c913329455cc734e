fn main() {
    let _ = migrate::migrations!(
        "tests/ui/fixtures/layout_drizzle_missing_file",
        layout = "drizzle"
    );
}
