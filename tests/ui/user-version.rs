fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/user_version");
}
