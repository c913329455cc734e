fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/down_drops_other_table");
}
