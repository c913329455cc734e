fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/down_mixed_spellings", layout = "native");
}
