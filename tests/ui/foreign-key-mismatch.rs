fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/foreign_key_mismatch");
}
