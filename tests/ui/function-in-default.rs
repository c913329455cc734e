fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/function_in_default");
}
