fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/mixed_sequential");
}
