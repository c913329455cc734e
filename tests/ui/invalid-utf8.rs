fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/invalid_utf8");
}
