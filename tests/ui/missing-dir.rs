fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/does_not_exist");
}
