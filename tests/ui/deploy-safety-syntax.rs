fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/deploy_drop_column", deploy_safety(since = 2));
}
