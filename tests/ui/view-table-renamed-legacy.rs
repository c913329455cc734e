fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/view_table_renamed_legacy");
}
