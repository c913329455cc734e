fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/deploy_typos");
}
