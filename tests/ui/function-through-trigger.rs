fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/function_through_trigger");
}
