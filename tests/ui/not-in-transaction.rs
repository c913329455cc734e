fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/not_in_transaction");
}
