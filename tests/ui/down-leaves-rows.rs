fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/down_leaves_rows");
}
