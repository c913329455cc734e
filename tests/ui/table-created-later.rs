fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/table_created_later");
}
