fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/deploy_rename_rebuild", deploy_safety(from = 1));
}
