fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/rebuild_rename_under_view");
}
