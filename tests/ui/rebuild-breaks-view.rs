fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/rebuild_breaks_view");
}
