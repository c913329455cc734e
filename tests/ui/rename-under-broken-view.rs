fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/rename_under_broken_view");
}
