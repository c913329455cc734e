fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/foreign_keys_pragma");
}
