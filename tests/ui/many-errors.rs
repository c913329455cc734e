fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/many_errors");
}
