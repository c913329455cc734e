fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/duplicate_timestamp");
}
