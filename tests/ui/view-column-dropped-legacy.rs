fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/view_column_dropped_legacy");
}
