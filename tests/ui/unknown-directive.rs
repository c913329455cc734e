fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/unknown_directive");
}
