fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/tracking_table");
}
