fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/trigger_created_broken");
}
