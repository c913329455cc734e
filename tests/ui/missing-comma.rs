fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/missing_comma");
}
