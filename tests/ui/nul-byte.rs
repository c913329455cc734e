fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/nul_byte");
}
