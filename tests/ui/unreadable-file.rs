fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/unreadable_file");
}
