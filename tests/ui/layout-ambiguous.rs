fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/layout_ambiguous");
}
