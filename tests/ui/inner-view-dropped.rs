fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/inner_view_dropped");
}
