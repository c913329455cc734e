fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/bad_sql");
}
