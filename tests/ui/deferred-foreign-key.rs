fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/deferred_foreign_key");
}
