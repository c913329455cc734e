fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/rename_column_under_broken_view");
}
