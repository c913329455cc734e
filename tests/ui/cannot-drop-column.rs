fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/cannot_drop_column");
}
