fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/one_digit_version");
}
