fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/layout_goose_no_up", layout = "goose");
}
