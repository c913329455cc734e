fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/bad_sql/001_create_users.sql");
}
