fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/version_gap");
}
