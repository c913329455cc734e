fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/drop_column_under_view");
}
