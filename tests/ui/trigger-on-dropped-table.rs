fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/trigger_on_dropped_table");
}
