fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/unique_key_dropped");
}
