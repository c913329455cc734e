fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/broken_view");
}
