fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/not_null_column");
}
